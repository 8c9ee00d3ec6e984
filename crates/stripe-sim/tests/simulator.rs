#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The simulator keeps Stripe's rules: API key, idempotency, rate limits, signed webhooks retried
//! until they are acknowledged.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use zbor_stripe_sim::{Config, Simulator};

const KEY: &str = "sk_test_sim";

fn config(webhook_url: Option<String>, rate_limit_every: u64) -> Config {
    Config {
        api_key: KEY.into(),
        webhook_url,
        webhook_secret: "whsec_sim".into(),
        rate_limit_every,
        retry_first: Duration::from_millis(20),
        retries_max: 5,
    }
}

fn donation_form(amount: &str) -> Vec<(&'static str, String)> {
    vec![
        ("mode", "payment".into()),
        ("submit_type", "donate".into()),
        ("success_url", "https://example.org/thanks".into()),
        ("line_items[0][price_data][currency]", "eur".into()),
        ("line_items[0][price_data][unit_amount]", amount.into()),
        ("line_items[0][price_data][product_data][name]", "Donation".into()),
        ("line_items[0][quantity]", "1".into()),
        ("metadata[zbor_campaign]", "release-123".into()),
    ]
}

async fn create(
    sim: &Simulator,
    key: Option<&str>,
    idempotency: Option<&str>,
    amount: &str,
) -> (u16, HeaderMap, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/checkout/sessions", sim.base_url))
        .form(&donation_form(amount));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if let Some(idempotency) = idempotency {
        req = req.header("idempotency-key", idempotency);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    (status, headers, res.json().await.unwrap())
}

#[tokio::test]
async fn sessions_need_the_key_and_keep_stripes_idempotency_rules() {
    let sim = Simulator::start(config(None, 0), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (status, _, body) = create(&sim, None, None, "2500").await;
    assert_eq!((status, body["error"]["type"].as_str()), (401, Some("invalid_request_error")));

    // Basic auth with the key as user name works too, as with curl -u sk_test_…:
    let basic = reqwest::Client::new()
        .post(format!("{}/v1/checkout/sessions", sim.base_url))
        .basic_auth(KEY, Some(""))
        .form(&donation_form("100"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
    let (status, _, first) = create(&sim, Some(KEY), Some("key-1"), "2500").await;
    assert_eq!(status, 200);
    assert!(first["id"].as_str().unwrap().starts_with("cs_test_"));
    assert_eq!((&first["amount_total"], &first["currency"]), (&Value::from(2500), &Value::from("eur")));
    assert_eq!(first["metadata"]["zbor_campaign"], "release-123");
    assert_eq!((&first["status"], &first["payment_status"]), (&Value::from("open"), &Value::from("unpaid")));

    let (status, headers, replay) = create(&sim, Some(KEY), Some("key-1"), "2500").await;
    assert_eq!((status, &replay["id"]), (200, &first["id"]));
    assert_eq!(headers["idempotent-replayed"], "true");
    let (status, _, conflict) = create(&sim, Some(KEY), Some("key-1"), "9900").await;
    assert_eq!((status, conflict["error"]["type"].as_str()), (400, Some("idempotency_error")));

    let (status, _, bad) = create(&sim, Some(KEY), None, "-5").await;
    assert_eq!(
        (status, bad["error"]["param"].as_str()),
        (400, Some("line_items[0][price_data][unit_amount]"))
    );
}

#[tokio::test]
async fn rate_limited_requests_succeed_on_retry_under_the_same_key_without_duplicates() {
    let sim = Simulator::start(config(None, 2), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (status, _, first) = create(&sim, Some(KEY), Some("k-a"), "1000").await;
    assert_eq!(status, 200);
    let (status, _, limited) = create(&sim, Some(KEY), Some("k-b"), "1000").await;
    assert_eq!((status, limited["error"]["type"].as_str()), (429, Some("rate_limit_error")));
    let (status, _, retried) = create(&sim, Some(KEY), Some("k-b"), "1000").await;
    assert_eq!(status, 200);
    assert_ne!(retried["id"], first["id"]);
    // Every 2nd request is limited: the 4th is, the 5th replays the stored response.
    let (status, _, limited) = create(&sim, Some(KEY), Some("k-b"), "1000").await;
    assert_eq!((status, limited["error"]["type"].as_str()), (429, Some("rate_limit_error")));
    let (status, headers, replay) = create(&sim, Some(KEY), Some("k-b"), "1000").await;
    assert_eq!((status, &replay["id"]), (200, &retried["id"]));
    assert_eq!(headers["idempotent-replayed"], "true");
}

#[tokio::test]
async fn webhooks_are_signed_and_retried_until_acknowledged() {
    // A receiver that fails twice, then accepts, and checks every signature.
    let attempts = Arc::new(AtomicU32::new(0));
    let seen = attempts.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let header = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
                let secrets = zbor_intake::webhook::signature::WebhookSecrets::parse("whsec_sim").unwrap();
                if zbor_intake::webhook::signature::verify(
                    header,
                    &body,
                    &secrets,
                    chrono::Utc::now().timestamp(),
                )
                .is_err()
                {
                    return StatusCode::BAD_REQUEST;
                }
                if seen.fetch_add(1, Ordering::SeqCst) < 2 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let sim = Simulator::start(config(Some(hook), 0), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (_, _, session) = create(&sim, Some(KEY), None, "2500").await;
    let pay = reqwest::Client::new()
        .post(format!("{}/sim/checkout/sessions/{}/pay", sim.base_url, session["id"].as_str().unwrap()))
        .json(&serde_json::json!({ "method": "card" }))
        .send()
        .await
        .unwrap();
    assert_eq!(pay.status(), 200);
    for _ in 0..100 {
        if sim.deliveries().iter().any(|d| d.status == Some(200)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let statuses: Vec<Option<u16>> = sim.deliveries().iter().map(|d| d.status).collect();
    assert_eq!(statuses, vec![Some(500), Some(500), Some(200)]);
    assert!(sim.deliveries().iter().all(|d| d.event_type == "checkout.session.completed"));
}
