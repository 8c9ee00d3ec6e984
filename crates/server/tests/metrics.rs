#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Prometheus metrics on their own listener, read by a real Prometheus (Debian's package, which
//! `deploy/prometheus.sh` installs; `ZBOR_PROMETHEUS` names its binary), with the project's
//! alert rules loaded into it.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use zbor_stripe::signature::sign;

fn paid_session_event(event_id: &str, session_id: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": event_id,
        "object": "event",
        "type": "checkout.session.completed",
        "created": chrono::Utc::now().timestamp(),
        "data": { "object": {
            "id": session_id, "object": "checkout.session", "mode": "payment",
            "amount_total": 2500, "currency": "eur", "payment_status": "paid",
            "status": "complete", "payment_intent": "pi_metrics_1", "payment_link": null,
            "metadata": { "zbor_campaign": "metrics-campaign" }
        }}
    }))
    .unwrap()
}

fn signed(body: &[u8], secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("stripe-signature", sign(body, secret, chrono::Utc::now().timestamp())),
        ("content-type", "application/json".into()),
    ]
}

/// The value of the series `name{labels}` (labels as Prometheus prints them), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|value| value.trim().parse().ok())
}

async fn scrape(metrics: &str) -> String {
    let response = reqwest::get(format!("{metrics}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    response.text().await.unwrap()
}

/// Scrapes until `ready` holds for the text (gauges are sampled every few seconds).
async fn scrape_until(metrics: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = scrape(metrics).await;
        if ready(&text) || Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

struct Prometheus {
    child: Child,
    base: String,
    _dir: tempdir::Dir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

mod tempdir {
    /// A directory removed when dropped.
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let path =
                std::env::temp_dir().join(format!("zbor-prometheus-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Debian's Prometheus, scraping `target` every second, with the project's alert rules.
fn start_prometheus(target: &str) -> Prometheus {
    let binary = std::env::var("ZBOR_PROMETHEUS").unwrap_or_else(|_| "/usr/bin/prometheus".into());
    assert!(
        std::path::Path::new(&binary).is_file(),
        "Prometheus is not installed at {binary}: run deploy/prometheus.sh (deploy/test.sh does)"
    );
    let dir = tempdir::Dir::new();
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/prometheus/alerts.yml");
    std::fs::copy(rules, dir.0.join("alerts.yml")).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [alerts.yml]\n\
         scrape_configs:\n  - job_name: zbor-serve\n    static_configs:\n      - targets: ['{target}']\n"
    );
    std::fs::write(dir.0.join("prometheus.yml"), config).unwrap();
    let port = free_port();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", dir.0.join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.0.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Prometheus { child, base: format!("http://127.0.0.1:{port}"), _dir: dir }
}

impl Prometheus {
    /// The vector `query` returns, once it returns one (or after 30 s, empty).
    async fn query(&self, query: &str) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let result = self.query_once(query).await;
            if !result.is_empty() || Instant::now() > deadline {
                return result;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn query_once(&self, query: &str) -> Vec<Value> {
        let answer = reqwest::Client::new()
            .get(format!("{}/api/v1/query", self.base))
            .query(&[("query", query)])
            .send()
            .await;
        match answer {
            Ok(answer) => {
                answer.json::<Value>().await.ok().and_then(|body| body["data"]["result"].as_array().cloned())
            }
            Err(_) => None,
        }
        .unwrap_or_default()
    }
}

fn value(result: &[Value]) -> f64 {
    result[0]["value"][1].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn metrics_are_served_apart_and_a_real_prometheus_scrapes_them() {
    let app = start_with(Some(WEBHOOK_SECRET), |config| {
        config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let metrics = app.metrics_base.clone().unwrap();
    // never on the public port
    let (status, _) = app.get("/metrics", None).await;
    assert_eq!(status, 404);

    let campaign = json!({"slug": "metrics-campaign", "title": "Metrics", "currency": "EUR", "goal": "1000"});
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    let body = paid_session_event("evt_metrics_1", "cs_metrics_1");
    let (status, answer) =
        app.post_raw("/webhooks/stripe", &signed(&body, WEBHOOK_SECRET), body.clone()).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("booked")), "{answer}");
    let (status, answer) =
        app.post_raw("/webhooks/stripe", &signed(&body, WEBHOOK_SECRET), body.clone()).await;
    assert_eq!((status, answer["duplicate"].as_bool()), (200, Some(true)));
    let (status, _) = app.post_raw("/webhooks/stripe", &signed(&body, "whsec_forged"), body.clone()).await;
    assert_eq!(status, 400);
    // counted under the route's template, not the path with the slug in it
    assert_eq!(app.get("/api/v1/campaigns/metrics-campaign", None).await.0, 200);
    assert_eq!(app.get("/no/such/page/metrics-campaign", None).await.0, 404);

    let text = scrape_until(&metrics, |text| {
        sample(text, "zbor_postgres_up") == Some(1.0)
            && sample(text, "zbor_ledger_verify_ok") == Some(1.0)
            && sample(text, "zbor_ledger_transactions_total").is_some_and(|n| n >= 1.0)
    })
    .await;
    for (series, at_least) in [
        ("zbor_webhook_deliveries_total{result=\"ok\"}", 1.0),
        ("zbor_webhook_deliveries_total{result=\"duplicate\"}", 1.0),
        ("zbor_webhook_deliveries_total{result=\"rejected\"}", 1.0),
        ("zbor_webhook_duration_seconds_count{result=\"ok\"}", 1.0),
        ("zbor_donations_booked_total", 1.0),
        ("zbor_http_requests_total{route=\"/api/v1/campaigns\",status_class=\"2xx\"}", 1.0),
        ("zbor_http_requests_total{route=\"/api/v1/campaigns/{slug}\",status_class=\"2xx\"}", 1.0),
        ("zbor_http_requests_total{route=\"/webhooks/stripe\",status_class=\"2xx\"}", 2.0),
        ("zbor_http_requests_total{route=\"/webhooks/stripe\",status_class=\"4xx\"}", 1.0),
        // `/metrics` on the public port and the page that does not exist
        ("zbor_http_requests_total{route=\"unmatched\",status_class=\"4xx\"}", 2.0),
        // the donation, sealed into the chain by the server's sealer
        ("zbor_ledger_transactions_total", 1.0),
        ("zbor_postgres_up", 1.0),
        ("zbor_redis_up", 1.0),
        ("zbor_ledger_verify_ok", 1.0),
        ("zbor_db_connections_max", 4.0),
    ] {
        let found = sample(&text, series).unwrap_or_else(|| panic!("{series} missing:\n{text}"));
        assert!(found >= at_least, "{series} = {found}, expected at least {at_least}");
    }
    for series in [
        "zbor_payouts{state=\"paid\"}",
        "zbor_payouts_oldest_open_seconds{state=\"approved\",method=\"stripe_connect\"}",
        "zbor_stream_lag{stream=\"payouts\"}",
        "zbor_payouts_failed_total",
        "zbor_stream_length{stream=\"payouts\"}",
        "zbor_stream_pending{stream=\"payouts\"}",
        "zbor_ledger_unsealed_transactions",
        "zbor_ledger_seal_lag_seconds",
        "zbor_sse_clients",
    ] {
        assert!(sample(&text, series).is_some(), "{series} missing:\n{text}");
    }
    assert!(text.contains("zbor_webhook_duration_seconds_bucket{result=\"ok\",le=\"0.005\"}"), "{text}");
    assert!(text.contains("# HELP zbor_donations_booked_total"), "{text}");
    // what a seized scrape would show: counts and states, no donation, session or payment ids
    for private in ["cs_metrics_1", "pi_metrics_1", "evt_metrics_1", "25.00", "metrics-campaign", "/no/such"]
    {
        assert!(!text.contains(private), "{private} in the metrics");
    }

    let address = metrics.trim_start_matches("http://").to_owned();
    let prometheus = start_prometheus(&address);
    let up = prometheus.query("up{job=\"zbor-serve\"} == 1").await;
    assert_eq!(up.len(), 1, "Prometheus did not scrape zbor");
    let booked = prometheus.query("zbor_donations_booked_total").await;
    assert!(!booked.is_empty() && value(&booked) >= 1.0, "{booked:?}");
    let delivered = prometheus.query("sum by (result) (zbor_webhook_deliveries_total)").await;
    let results: Vec<&str> = delivered.iter().filter_map(|r| r["metric"]["result"].as_str()).collect();
    for result in ["ok", "duplicate", "rejected"] {
        assert!(results.contains(&result), "{result} not in {results:?}");
    }
    let p99 = prometheus
        .query("histogram_quantile(0.99, sum by (le) (zbor_webhook_duration_seconds_bucket))")
        .await;
    assert!(!p99.is_empty(), "no webhook latency histogram in Prometheus");
    // the project's alert rules load into the real engine, and a healthy system fires none of
    // the alerts about PostgreSQL, Redis or the ledger
    let rules: Value =
        reqwest::get(format!("{}/api/v1/rules", prometheus.base)).await.unwrap().json().await.unwrap();
    let groups = rules["data"]["groups"].as_array().unwrap();
    let names: Vec<&str> = groups
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().iter())
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(names.len() >= 8, "alert rules not loaded: {names:?}");
    for rule in groups.iter().flat_map(|g| g["rules"].as_array().unwrap().iter()) {
        assert_eq!(rule["health"].as_str(), Some("ok"), "{rule}");
    }
    let firing = prometheus.query_once("ALERTS{alertstate=\"firing\"}").await;
    let firing: Vec<&str> = firing.iter().filter_map(|a| a["metric"]["alertname"].as_str()).collect();
    for healthy in firing.iter() {
        assert!(
            !healthy.contains("Postgres") && !healthy.contains("Redis") && !healthy.contains("Ledger"),
            "{healthy} fires on a healthy system"
        );
    }
    drop(prometheus);
    app.finish().await;
}
