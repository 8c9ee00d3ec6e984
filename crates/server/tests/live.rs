#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Live totals over SSE, through Redis pub/sub; and totals that survive losing Redis's copy.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use zbor_stripe::signature::sign;

async fn with_campaign() -> Running {
    let app = start(Some(WEBHOOK_SECRET)).await;
    let campaign = json!({
        "slug": "release-123", "title": "123 released", "currency": "EUR",
        "goal": "123000", "amount_per_beneficiary": "1000"
    });
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    app
}

async fn donate(app: &Running, n: u32, amount_minor: i64) {
    let body = serde_json::to_vec(&json!({
        "id": format!("evt_live_{n}"), "object": "event", "type": "checkout.session.completed",
        "created": chrono::Utc::now().timestamp(),
        "data": { "object": {
            "id": format!("cs_test_live_{n}"), "object": "checkout.session", "mode": "payment",
            "amount_total": amount_minor, "currency": "eur", "payment_status": "paid",
            "payment_intent": format!("pi_live_{n}"), "metadata": { "zbor_campaign": "release-123" }
        }}
    }))
    .unwrap();
    let headers = vec![("stripe-signature", sign(&body, WEBHOOK_SECRET, chrono::Utc::now().timestamp()))];
    let (status, response) = app.post_raw("/webhooks/stripe", &headers, body).await;
    assert_eq!((status, response["outcome"].as_str()), (200, Some("booked")), "{response}");
}

/// Reads SSE `data:` lines until one satisfies `done`, or fails after `limit`.
async fn next_totals(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buffer: &mut String,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) {
                let totals: Value = serde_json::from_str(data).unwrap();
                if done(&totals) {
                    return totals;
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, stream.next()).await.expect("no matching SSE event in time");
        buffer.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap()));
    }
}

#[tokio::test]
async fn an_sse_client_sees_the_total_climb() {
    let app = with_campaign().await;
    let response = reqwest::get(format!("{}/api/v1/campaigns/release-123/live", app.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    let first = next_totals(&mut stream, &mut buffer, Duration::from_secs(5), |_| true).await;
    assert_eq!(first["raised"], "0.00");

    donate(&app, 1, 100_000).await;
    let booked = Instant::now();
    let update =
        next_totals(&mut stream, &mut buffer, Duration::from_secs(5), |t| t["raised"] == "1000.00").await;
    assert_eq!(update["beneficiaries_funded"], 1);
    assert_eq!(update["donations"], 1);
    eprintln!("booking to SSE receipt: {} ms", booked.elapsed().as_millis());

    // A burst is coalesced, and the last update carries the final total.
    for n in 2..=21 {
        donate(&app, n, 2_500).await;
    }
    let last =
        next_totals(&mut stream, &mut buffer, Duration::from_secs(5), |t| t["raised"] == "1500.00").await;
    assert_eq!(last["donations"], 21);
    app.finish().await;
}

#[tokio::test]
async fn an_unknown_campaign_has_no_live_stream() {
    let app = with_campaign().await;
    let (status, body) = app.get("/api/v1/campaigns/nope/live", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
    app.finish().await;
}

#[tokio::test]
async fn totals_are_rebuilt_from_postgres_when_redis_loses_them() {
    let app = with_campaign().await;
    donate(&app, 1, 4_200).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // let the coalescing tick publish
    let (_, warm) = app.get("/api/v1/campaigns/release-123/totals", None).await;
    assert_eq!(warm["raised"], "42.00");

    // Redis loses everything of this deployment (a flush or restart, as far as it can see).
    let client =
        redis::Client::open(std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()))
            .unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}*", app.redis_prefix)).query_async(&mut redis).await.unwrap();
    assert!(!keys.is_empty(), "the hot copy was never stored");
    let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut redis).await.unwrap();

    let (status, cold) = app.get("/api/v1/campaigns/release-123/totals", None).await;
    assert_eq!((status, &cold["raised"]), (200, &json!("42.00")));
    donate(&app, 2, 800).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, after) = app.get("/api/v1/campaigns/release-123/totals", None).await;
    assert_eq!((&after["raised"], &after["donations"]), (&json!("50.00"), &json!(2)));
    app.finish().await;
}
