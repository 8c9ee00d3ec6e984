#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The real `zbor` binary as an operator runs it: `zbor config check`, production mode refusing
//! development settings, `zbor healthcheck` (a container's HEALTHCHECK), JSON logs whose
//! request lines carry the request id the response names.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use zbor_testkit::TestDb;

/// Only what each test sets: nothing from the environment the tests run in.
const SECRETS_AND_MODE: [&str; 5] =
    ["ZBOR_ADMIN_TOKEN", "ZBOR_DATA_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "ZBOR_ENVIRONMENT"];

fn zbor() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zbor"));
    for variable in SECRETS_AND_MODE {
        command.env_remove(variable);
    }
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn config_check_names_every_problem_and_production_refuses_to_start() {
    let output = zbor()
        .args(["config", "check"])
        .env("ZBOR_ENVIRONMENT", "production")
        .env("DATABASE_URL", "postgres://zbor@db.internal/zbor?sslmode=require")
        .env("ZBOR_ADMIN_TOKEN", "letmein")
        .env("ZBOR_PUBLIC_URL", "http://give.example.org")
        .env("STRIPE_API_BASE", "http://127.0.0.1:12111/")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    for expected in [
        "error: DATABASE_URL: PostgreSQL is across a network without sslmode=verify-full",
        "error: ZBOR_DATA_KEY: not set",
        "error: ZBOR_ADMIN_TOKEN: weak",
        "error: STRIPE_WEBHOOK_SECRET: not set",
        "error: STRIPE_SECRET_KEY: not set",
        "error: STRIPE_API_BASE: is not https://api.stripe.com/",
        "error: ZBOR_PUBLIC_URL: is plain http",
        "7 problem(s) stop `zbor serve` in production",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert!(!text.contains("letmein"), "the token is repeated:\n{text}");

    // `serve` refuses the same configuration before it connects to anything
    let serve = zbor()
        .arg("serve")
        .env("ZBOR_ENVIRONMENT", "production")
        .env("DATABASE_URL", "postgres://zbor@db.internal/zbor?sslmode=require")
        .output()
        .unwrap();
    let errors = String::from_utf8_lossy(&serve.stderr);
    assert_eq!(serve.status.code(), Some(1), "{errors}");
    assert!(errors.contains("ZBOR_ENVIRONMENT=production refuses development settings"), "{errors}");
    assert!(errors.contains("ZBOR_PUBLIC_URL: is plain http"), "{errors}");
    // and `zbor dev` runs a simulator: never in production
    let dev = zbor().arg("dev").env("ZBOR_ENVIRONMENT", "production").output().unwrap();
    assert_eq!(dev.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&dev.stderr).contains("refused with ZBOR_ENVIRONMENT=production"));

    // a careful production configuration passes (nothing is contacted: the check reads settings)
    let dir = std::env::temp_dir().join(format!("zbor-config-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("data-key"), format!("{}\n", zbor_vault::DataKey::generate_hex())).unwrap();
    let good = zbor()
        .args(["config", "check"])
        .env("ZBOR_ENVIRONMENT", "production")
        .env(
            "DATABASE_URL",
            "postgres://zbor@db.internal/zbor?sslmode=verify-full&sslrootcert=/etc/zbor/ca.pem",
        )
        .env("REDIS_URL", "rediss://zbor:x@redis.internal:6380/0")
        .env("ZBOR_PUBLIC_URL", "https://give.example.org")
        .env("STRIPE_API_BASE", "https://api.stripe.com/")
        .env("STRIPE_SECRET_KEY", "rk_live_51Example")
        .env("STRIPE_WEBHOOK_SECRET", "whsec_example")
        .env("ZBOR_DATA_KEY_FILE", dir.join("data-key"))
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let text = String::from_utf8_lossy(&good.stdout);
    assert_eq!(good.status.code(), Some(0), "{text}");
    assert!(text.contains("configuration usable in production (0 warning(s))"), "{text}");
}

#[tokio::test]
async fn healthcheck_answers_for_serve_and_json_logs_carry_the_request_id() {
    let db = TestDb::new(2).await;
    let (listen, metrics) = (free_port(), free_port());
    // started as a container starts it: a soft open-files limit far below the hard one
    let mut serve = Command::new("sh");
    for variable in SECRETS_AND_MODE {
        serve.env_remove(variable);
    }
    let mut serve = serve
        .args(["-c", "ulimit -Sn 256 && exec \"$0\" serve", env!("CARGO_BIN_EXE_zbor")])
        .env("DATABASE_URL", &db.url)
        .env("ZBOR_REDIS_PREFIX", format!("zbor-test:{}:", db.name))
        .env("ZBOR_LISTEN", format!("127.0.0.1:{listen}"))
        .env("ZBOR_METRICS_LISTEN", format!("127.0.0.1:{metrics}"))
        .env("ZBOR_LOG_FORMAT", "json")
        // the access line of each request (tower-http's, at debug) to see the request id on it
        .env("ZBOR_LOG", "info,sqlx=warn,tower_http=debug")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let healthcheck = |metrics_port: bool| {
        let mut command = zbor();
        command.arg("healthcheck").env("ZBOR_LISTEN", format!("127.0.0.1:{listen}"));
        if metrics_port {
            command.arg("--metrics").env("ZBOR_METRICS_LISTEN", format!("127.0.0.1:{metrics}"));
        }
        command.output().unwrap().status.code()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while healthcheck(false) != Some(0) {
        assert!(Instant::now() < deadline, "zbor serve never answered /health/live");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(healthcheck(true), Some(0), "the metrics listener's /health/live");
    // zbor raised its soft open-files limit to the hard one (each live stream is a descriptor)
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", serve.id())).unwrap();
    let open_files: Vec<&str> =
        limits.lines().find(|l| l.starts_with("Max open files")).unwrap().split_whitespace().collect();
    assert_eq!(open_files[3], open_files[4], "soft limit not raised: {open_files:?}");
    assert_ne!(open_files[3], "256");

    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{listen}/api/v1/campaigns/no-such-campaign"))
        .header("x-request-id", "lb-7f3a9c2e41")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["x-request-id"], "lb-7f3a9c2e41");
    // a made-up id that could carry text into the logs is replaced by zbor's own
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{listen}/health/live"))
        .header("x-request-id", "{\"forged\": true}")
        .send()
        .await
        .unwrap();
    let own = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(own.len(), 32, "{own}");

    stop_gracefully(&mut serve);
    let lines: Vec<String> =
        BufReader::new(serve.stderr.take().unwrap()).lines().map_while(Result::ok).collect();
    assert!(!lines.is_empty());
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let of_request: Vec<&serde_json::Value> =
        parsed.iter().filter(|l| l["span"]["request_id"] == "lb-7f3a9c2e41").collect();
    assert!(!of_request.is_empty(), "no log line carries the request id:\n{}", lines.join("\n"));
    for line in &of_request {
        assert_eq!(line["span"]["path"], "/api/v1/campaigns/no-such-campaign");
    }
    assert!(parsed.iter().any(|l| l["span"]["request_id"] == own.as_str()));
    assert!(!lines.iter().any(|l| l.contains("forged")), "the forged id reached the logs");
    assert_eq!(healthcheck(false), Some(1), "a stopped server is unhealthy");
    db.drop_database().await;
}

/// SIGTERM (a graceful stop) and wait: the log is complete once the process has exited.
fn stop_gracefully(child: &mut std::process::Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "zbor serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}
