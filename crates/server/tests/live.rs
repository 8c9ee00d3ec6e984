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
    donate_at(&app.base, n, amount_minor).await;
}

/// A paid checkout of `amount_minor` cents, delivered to the instance at `base`.
async fn donate_at(base: &str, n: u32, amount_minor: i64) {
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
    let response = reqwest::Client::new()
        .post(format!("{base}/webhooks/stripe"))
        .header("stripe-signature", sign(&body, WEBHOOK_SECRET, chrono::Utc::now().timestamp()))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let response: Value = response.json().await.unwrap();
    assert_eq!((status, response["outcome"].as_str()), (200, Some("booked")), "{response}");
}

type Bytes = futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>;

/// An SSE client of the campaign's live totals at `base`, optionally resuming after `last_id`.
async fn open_stream(base: &str, last_id: Option<&str>) -> Bytes {
    // as a coordinator: the exact, live totals (anyone else gets the public snapshot)
    let mut request =
        reqwest::Client::new().get(format!("{base}/api/v1/campaigns/release-123/live")).bearer_auth(TOKEN);
    if let Some(id) = last_id {
        request = request.header("last-event-id", id);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    Box::pin(response.bytes_stream())
}

/// One SSE event: its fields by name (`id`, `retry`, `data`, ...).
#[derive(Debug)]
struct Frame {
    id: String,
    retry: Option<String>,
    totals: Value,
}

/// The next event, or none if none comes within `limit`.
async fn next_frame(stream: &mut Bytes, buffer: &mut String, limit: Duration) -> Option<Frame> {
    let deadline = Instant::now() + limit;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let text: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| text.lines().find_map(|l| l.strip_prefix(name)).map(str::to_owned);
            if let Some(data) = field("data: ") {
                let id = field("id: ").expect("every totals event carries its version as id");
                return Some(Frame {
                    id,
                    retry: field("retry: "),
                    totals: serde_json::from_str(&data).unwrap(),
                });
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.next()).await {
            Ok(Some(chunk)) => buffer.push_str(&String::from_utf8_lossy(&chunk.unwrap())),
            Ok(None) | Err(_) => return None,
        }
    }
}

/// Every event that arrives within `window`.
async fn frames_within(stream: &mut Bytes, buffer: &mut String, window: Duration) -> Vec<Frame> {
    let deadline = Instant::now() + window;
    let mut frames = Vec::new();
    while let Some(frame) =
        next_frame(stream, buffer, deadline.saturating_duration_since(Instant::now())).await
    {
        frames.push(frame);
    }
    frames
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
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/campaigns/release-123/live", app.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
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
    let (_, warm) = app.get("/api/v1/campaigns/release-123/totals", Some(TOKEN)).await;
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

    let (status, cold) = app.get("/api/v1/campaigns/release-123/totals", Some(TOKEN)).await;
    assert_eq!((status, &cold["raised"]), (200, &json!("42.00")));
    donate(&app, 2, 800).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, after) = app.get("/api/v1/campaigns/release-123/totals", Some(TOKEN)).await;
    assert_eq!((&after["raised"], &after["donations"]), (&json!("50.00"), &json!(2)));
    app.finish().await;
}

/// Two instances race: A computes, a donation is booked, B computes and stores, and A's older
/// figures are stored last. They replace nothing, and no stream shows them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_totals_stored_last_replace_nothing_and_reach_no_stream() {
    let app = with_campaign().await;
    let mut stream = open_stream(&app.base, None).await;
    let mut buffer = String::new();
    let first = next_frame(&mut stream, &mut buffer, Duration::from_secs(5)).await.unwrap();
    assert_eq!(first.totals["raised"], "0.00");

    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let client = redis::Client::open(redis_url).unwrap();
    let node = || async {
        let redis = redis::aio::ConnectionManager::new(client.clone()).await.unwrap();
        zbor_server::live::Live::new(redis, app.redis_prefix.clone())
    };
    let (a, b) = (node().await, node().await);
    donate(&app, 1, 1_000).await;
    let older = a.compute(&app.db.pool, "release-123").await.unwrap();
    donate(&app, 2, 2_000).await;
    let newer = b.compute(&app.db.pool, "release-123").await.unwrap();
    assert!(newer.exact.version > older.exact.version, "{older:?} {newer:?}");
    b.store(&newer, "release-123").await;
    a.store(&older, "release-123").await; // the older computation's store lands last
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let hot_key = format!("{}live:release-123", app.redis_prefix);
    let stored: String =
        redis::cmd("HGET").arg(&hot_key).arg("version").query_async(&mut redis).await.unwrap();
    assert_eq!(stored, newer.exact.version.as_str(), "the hot copy kept the newer figures");
    // an older figure that still reaches the channel (a message delayed in flight) is dropped
    // by the streams, not shown
    let late = format!("{}\n{}", older.exact.version.as_str(), older.exact.json);
    let _: i64 = redis::cmd("PUBLISH").arg(&hot_key).arg(late).query_async(&mut redis).await.unwrap();

    let (_, hot) = app.get("/api/v1/campaigns/release-123/totals", Some(TOKEN)).await;
    assert_eq!((&hot["raised"], &hot["donations"]), (&json!("30.00"), &json!(2)));
    let frames = frames_within(&mut stream, &mut buffer, Duration::from_millis(800)).await;
    let raised: Vec<&str> = frames.iter().map(|f| f.totals["raised"].as_str().unwrap()).collect();
    let reached = raised.iter().position(|r| *r == "30.00").expect("the stream reached 30.00");
    assert!(raised[reached..].iter().all(|r| *r == "30.00"), "went backwards: {raised:?}");
    let ids: Vec<&str> =
        std::iter::once(first.id.as_str()).chain(frames.iter().map(|f| f.id.as_str())).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids only grow: {ids:?}");
    app.finish().await;
}

/// The first event says when to reconnect; a client reconnecting with `Last-Event-ID` gets the
/// current totals at once, newer than the ones it had; an id that is not ours is ignored.
#[tokio::test]
async fn a_reconnecting_client_gets_the_current_totals_at_once() {
    let app = with_campaign().await;
    donate(&app, 1, 1_000).await;
    let mut buffer = String::new();
    let mut stream = open_stream(&app.base, None).await;
    let first = next_frame(&mut stream, &mut buffer, Duration::from_secs(5)).await.unwrap();
    assert_eq!(first.retry.as_deref(), Some("2000"));
    assert_eq!(first.totals["raised"], "10.00");
    drop(stream);

    donate(&app, 2, 2_000).await;
    let mut buffer = String::new();
    let mut again = open_stream(&app.base, Some(&first.id)).await;
    let resumed = next_frame(&mut again, &mut buffer, Duration::from_secs(1)).await.expect("at once");
    assert!(resumed.id >= first.id, "{} then {}", first.id, resumed.id);
    // the hot copy trails the booking by at most one tick; the stream carries it within it
    let mut latest = resumed;
    while latest.totals["raised"] != "30.00" {
        let next = next_frame(&mut again, &mut buffer, Duration::from_secs(1)).await.expect("within a tick");
        assert!(next.id > latest.id, "{} then {}", latest.id, next.id);
        latest = next;
    }

    // a client that saw newer totals elsewhere than this instance's hot copy gets fresh ones,
    // never older than what it had
    let newest = latest.id.clone();
    let mut redis =
        redis::Client::open(std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()))
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
    let hot_key = format!("{}live:release-123", app.redis_prefix);
    let _: () = redis::cmd("HSET")
        .arg(&hot_key)
        .arg("version")
        .arg(&first.id)
        .arg("json")
        .arg(first.totals.to_string())
        .query_async(&mut redis)
        .await
        .unwrap();
    let mut buffer = String::new();
    let mut ahead = open_stream(&app.base, Some(&newest)).await;
    let fresh = next_frame(&mut ahead, &mut buffer, Duration::from_secs(1)).await.expect("at once");
    assert_eq!(fresh.totals["raised"], "30.00", "not the older hot copy");
    assert!(fresh.id >= newest, "{newest} then {}", fresh.id);

    let mut buffer = String::new();
    let mut odd = open_stream(&app.base, Some("not-a-version")).await;
    let current = next_frame(&mut odd, &mut buffer, Duration::from_secs(1)).await.expect("at once");
    assert_eq!(current.totals["raised"], "30.00");
    app.finish().await;
}

/// Three instances of one deployment, an SSE client on each, a burst of donations spread over
/// them at once: every client ends on the exact final total soon after the last booking, its
/// ids only growing, and stays there. `ZBOR_LIVE_NODE_RUNS` runs (3 here; the README's long
/// command runs 20).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_client_of_three_instances_ends_on_the_final_total() {
    let runs: u32 = std::env::var("ZBOR_LIVE_NODE_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let mut slowest = Duration::ZERO;
    for run in 0..runs {
        let app = with_campaign().await;
        let nodes = [app.another_node().await, app.another_node().await];
        let bases = [app.base.clone(), nodes[0].base.clone(), nodes[1].base.clone()];
        let mut clients = Vec::new();
        for base in &bases {
            let mut stream = open_stream(base, None).await;
            let mut buffer = String::new();
            let first = next_frame(&mut stream, &mut buffer, Duration::from_secs(5)).await.unwrap();
            clients.push((stream, buffer, vec![first.id]));
        }
        let donations: u32 = 60;
        let burst = (1..=donations).map(|n| {
            let base = bases[usize::try_from(n % 3).unwrap()].clone();
            async move { donate_at(&base, n, i64::from(n) * 100).await }
        });
        futures_util::future::join_all(burst).await;
        let booked = Instant::now();
        let total_cents: u32 = (1..=donations).map(|n| n * 100).sum();
        let final_total = format!("{}.{:02}", total_cents / 100, total_cents % 100);
        for (node, (stream, buffer, ids)) in clients.iter_mut().enumerate() {
            loop {
                let frame = next_frame(stream, buffer, Duration::from_secs(3)).await.unwrap_or_else(|| {
                    panic!("run {run}: client of node {node} never got {final_total}: {ids:?}")
                });
                assert!(ids.last().is_some_and(|last| *last < frame.id), "run {run}: ids only grow");
                ids.push(frame.id);
                if frame.totals["raised"] == final_total.as_str() {
                    assert_eq!(frame.totals["donations"], donations);
                    slowest = slowest.max(booked.elapsed());
                    break;
                }
            }
        }
        // and nothing older comes after it
        for (node, (stream, buffer, _)) in clients.iter_mut().enumerate() {
            for frame in frames_within(stream, buffer, Duration::from_millis(300)).await {
                assert_eq!(frame.totals["raised"], final_total.as_str(), "run {run}: node {node} went back");
            }
        }
        drop(nodes);
        app.finish().await;
    }
    eprintln!(
        "{runs} runs: every client on the final total at most {} ms after the last booking",
        slowest.as_millis()
    );
    assert!(slowest < Duration::from_secs(1), "slowest client: {slowest:?}");
}
