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

/// Runs `zbor serve` with its options after the subcommand, its logs to a pipe, until a
/// background task's line appears (the daily reconciliation and the event sync fail at once
/// against a Stripe on a closed port, and say so); then stops it. Every log line.
async fn serve_until_a_task_logs(db: &TestDb, format: &str) -> Vec<String> {
    let listen = free_port();
    let mut serve = zbor()
        .args(["serve", "--listen", &format!("127.0.0.1:{listen}"), "--redis-prefix"])
        .arg(format!("zbor-test:{}:", db.name))
        .env("DATABASE_URL", &db.url)
        .env("STRIPE_SECRET_KEY", "sk_test_operations")
        .env("STRIPE_API_BASE", "http://127.0.0.1:1/")
        .env("ZBOR_LOG_FORMAT", format)
        .env("ZBOR_LOG", "info,sqlx=warn")
        .env_remove("NO_COLOR")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = serve.stderr.take().unwrap();
    let (sender, lines) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let from_task = line.contains("task{task=") || line.contains("\"task\":\"");
                seen.push(line);
                if from_task {
                    break;
                }
            }
            Err(_) => panic!("no background task logged within 60 s:\n{}", seen.join("\n")),
        }
    }
    stop_gracefully(&mut serve);
    reader.join().unwrap();
    seen.extend(lines.try_iter());
    seen
}

#[tokio::test]
async fn options_follow_the_subcommand_logs_in_a_pipe_have_no_colour_and_name_their_task() {
    let db = TestDb::new(2).await;
    // `serve --listen …`: the server's options work after the subcommand too
    let text = serve_until_a_task_logs(&db, "text").await;
    let all = text.join("\n");
    assert!(all.contains("zbor listening"), "{all}");
    assert!(!all.contains('\u{1b}'), "colour codes in a pipe:\n{all}");
    assert!(all.contains("task{task=\""), "{all}");

    let json = serve_until_a_task_logs(&db, "json").await;
    let names: Vec<String> = json
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|line| line["span"]["task"].as_str().map(str::to_owned))
        .collect();
    assert!(
        names.iter().any(|n| ["daily_reconciliation", "stripe_event_sync"].contains(&n.as_str())),
        "no line names its task: {names:?}\n{}",
        json.join("\n")
    );
    assert!(!json.join("\n").contains('\u{1b}'));
    db.drop_database().await;
}

/// After a restore the database is on another timeline (or cluster) than zbor last saw it on:
/// on start, payouts are paused with a reason saying why, audited, until two treasurers
/// resume. A real point-in-time restore is in tests/backup.rs; here the identity recorded at the
/// last start is made another cluster's, as a restored copy's would be.
#[tokio::test]
async fn a_restored_database_pauses_payouts_until_two_treasurers_resume() {
    use zbor_payouts::switch::{self, Resumed};
    use zbor_server::database::{pause_payouts_if_restored, RESTORED_REASON};
    let db = TestDb::new(2).await;
    let key = zbor_vault::DataKey::parse(&zbor_vault::DataKey::generate_hex()).unwrap();
    // the first start records where the database lives; the next finds the same
    assert_eq!(pause_payouts_if_restored(&db.pool, Some(&key)).await.unwrap(), None);
    assert_eq!(pause_payouts_if_restored(&db.pool, Some(&key)).await.unwrap(), None);
    assert!(!switch::is_paused(&db.pool).await.unwrap());

    sqlx::query("update database_identity set system_identifier = 'the cluster the backup came from'")
        .execute(&db.pool)
        .await
        .unwrap();
    let before = pause_payouts_if_restored(&db.pool, Some(&key)).await.unwrap().expect("detected");
    assert_eq!(before.system_identifier, "the cluster the backup came from");
    let state = switch::state(&db.pool).await.unwrap().opened(Some(&key)).unwrap();
    assert!(state.paused);
    assert_eq!(state.reason.as_deref(), Some(RESTORED_REASON));
    let audited: Vec<(String, String)> = sqlx::query_as(
        "select actor, action from audit_log where action in ('payouts.pause', 'database.restored') order by seq",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        audited,
        vec![("cli".into(), "payouts.pause".into()), ("cli".into(), "database.restored".into())]
    );
    // the next start finds the new identity recorded: no second pause, and the first stays
    assert_eq!(pause_payouts_if_restored(&db.pool, Some(&key)).await.unwrap(), None);
    assert!(switch::is_paused(&db.pool).await.unwrap());

    let mut treasurers = Vec::new();
    for email in ["t1@example.org", "t2@example.org"] {
        let user = zbor_auth::add_user(
            &db.pool,
            &key,
            email,
            zbor_auth::Role::Treasurer,
            "correct horse battery staple",
            &zbor_auth::Actor::CLI,
        )
        .await
        .unwrap();
        treasurers.push(user.id);
    }
    assert_eq!(switch::resume(&db.pool, treasurers[0]).await.unwrap(), Resumed::WaitingForAnother);
    assert!(switch::is_paused(&db.pool).await.unwrap(), "one treasurer alone cannot resume");
    assert_eq!(switch::resume(&db.pool, treasurers[1]).await.unwrap(), Resumed::Resumed);
    assert!(!switch::is_paused(&db.pool).await.unwrap());
    db.drop_database().await;
}
