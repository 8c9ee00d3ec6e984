#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Issue 13's acceptance test, over HTTP: no public response (totals, timeline, the first event
//! of the live stream, the give and dashboard pages) lets anyone match a known (amount, minute)
//! pair to one donation, at any of sixteen moments of a campaign's first hour and a quarter;
//! a signed-in coordinator gets exact figures; a forged or expired credential gets the public
//! view, not an error.
//!
//! Donations are booked through the real webhook, then their `paid_at` set from a scenario and
//! a virtual clock: at the moment `v` minutes into the scenario, a gift made `o` minutes into it
//! was paid `v - o` minutes before the current bucket's start. `v` moves in whole buckets, so
//! each moment is the same campaign seen five minutes later.

mod common;

use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use common::*;
use futures_util::StreamExt;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use zbor_stripe::signature::sign;

const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const PASSWORD: &str = "correct horse battery staple";
const K: i64 = 5;

/// A gift of the scenario: its amount (distinct from every other and from every band bound),
/// and how long after the scenario's start it was made.
#[derive(Clone, Debug)]
struct Gift {
    amount: Decimal,
    offset: TimeDelta,
}

/// Two lone gifts in a quiet period, a single gift of 5,000.00, a burst of twelve, a straggler,
/// a burst of six, and a last lone one: 23 gifts in an hour.
fn scenario() -> Vec<Gift> {
    let at = |minutes: i64, seconds: i64| TimeDelta::minutes(minutes) + TimeDelta::seconds(seconds);
    let gift = |cents: i64, offset| Gift { amount: Decimal::new(cents, 2), offset };
    let mut gifts = vec![gift(3713, at(2, 17)), gift(1234, at(11, 5)), gift(500_000, at(17, 41))];
    gifts.extend((0..12).map(|i| gift(1007 + i * 731, at(25, 3 + i * 11))));
    gifts.push(gift(7777, at(38, 12)));
    gifts.extend((0..6).map(|i| gift(5555 + i * 202, at(46, 7 + i * 20))));
    gifts.push(gift(888, at(58, 50)));
    gifts
}

fn five_minutes(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::minutes(5)).unwrap()
}

fn aligned(at: &str) -> bool {
    let at: DateTime<Utc> = at.parse().unwrap();
    five_minutes(at) == at
}

async fn donate(app: &Running, n: usize, amount: Decimal) {
    let body = serde_json::to_vec(&json!({
        "id": format!("evt_public_{n}"), "object": "event", "type": "checkout.session.completed",
        "created": Utc::now().timestamp(),
        "data": { "object": {
            "id": format!("cs_test_public_{n}"), "object": "checkout.session", "mode": "payment",
            "amount_total": i64::try_from(amount * Decimal::from(100)).unwrap(), "currency": "eur",
            "payment_status": "paid", "payment_intent": format!("pi_public_{n}"),
            "metadata": { "zbor_campaign": "release-123" }
        }}
    }))
    .unwrap();
    let headers = vec![("stripe-signature", sign(&body, WEBHOOK_SECRET, Utc::now().timestamp()))];
    let (status, answer) = app.post_raw("/webhooks/stripe", &headers, body).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("booked")), "{answer}");
}

/// Sets every booked gift's `paid_at` for the moment `v` into the scenario, and drops the hot
/// copies (the server cannot know that the test moved time).
async fn move_clock(app: &Running, gifts: &[Gift], booked: usize, v: TimeDelta) -> Vec<DateTime<Utc>> {
    let start = five_minutes(Utc::now());
    let mut times = Vec::new();
    for (n, gift) in gifts.iter().take(booked).enumerate() {
        let paid_at = start + gift.offset - v;
        sqlx::query("update donations set paid_at = $1 where stripe_payment_intent = $2")
            .bind(paid_at)
            .bind(format!("pi_public_{n}"))
            .execute(&app.db.pool)
            .await
            .unwrap();
        times.push(paid_at);
    }
    let client =
        redis::Client::open(std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()))
            .unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}live:*", app.redis_prefix)).query_async(&mut redis).await.unwrap();
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut redis).await.unwrap();
    }
    times
}

/// A request with the given credential: a bearer token or a `name=value` cookie.
fn request(app: &Running, path: &str, credential: Option<&str>) -> reqwest::RequestBuilder {
    let request = reqwest::Client::new().get(format!("{}{path}", app.base));
    match credential {
        Some(cookie) if cookie.contains('=') => request.header("cookie", cookie),
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

async fn get_json(app: &Running, path: &str, credential: Option<&str>) -> (Value, String) {
    let response = request(app, path, credential).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let cache =
        response.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (response.json().await.unwrap(), cache)
}

/// The totals of the live stream's first event.
async fn first_live_event(app: &Running, credential: Option<&str>) -> Value {
    let response = request(app, "/api/v1/campaigns/release-123/live", credential).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let frame = &buffer[..end];
            if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) {
                return serde_json::from_str(data).unwrap();
            }
            buffer.drain(..end + 2);
            continue;
        }
        let chunk =
            tokio::time::timeout(Duration::from_secs(5), stream.next()).await.unwrap().unwrap().unwrap();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

const BAND_FROM: [&str; 7] = ["0.00", "10.00", "25.00", "50.00", "100.00", "250.00", "1000.00"];
const BAND_TO: [&str; 6] = ["9.99", "24.99", "49.99", "99.99", "249.99", "999.99"];

/// Nothing in `text` (an answer, a page) names a gift's exact amount or exact time.
fn assert_names_no_gift(text: &str, gifts: &[Gift], times: &[DateTime<Utc>], what: &str) {
    for (gift, at) in gifts.iter().zip(times) {
        let amount = format!("{:.2}", gift.amount);
        assert!(!text.contains(&amount), "{what}: {amount} appears: {text}");
        let time = at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        assert!(!text.contains(&time), "{what}: {time} appears: {text}");
    }
}

/// A public answer: not exact, nothing finer than a bucket, no group of fewer than K, and
/// never the band of the large gift (the only one of 1,000 or more).
fn assert_public(answer: &Value, gifts: &[Gift], times: &[DateTime<Utc>], what: &str) {
    assert_eq!(answer["exact"], false, "{what}: {answer}");
    assert_names_no_gift(&answer.to_string(), gifts, times, what);
    if let Some(minutes) = answer["minutes"].as_array() {
        assert_eq!(answer["bucket_minutes"], 5, "{what}");
        for entry in minutes {
            assert!(entry["donations"].as_i64().unwrap() >= K, "{what}: {entry}");
            assert!(aligned(entry["at"].as_str().unwrap()), "{what}: {entry}");
        }
        for entry in answer["recent"].as_array().unwrap() {
            assert!(entry["donations"].as_i64().unwrap() >= K, "{what}: {entry}");
            assert!(aligned(entry["at"].as_str().unwrap()), "{what}: {entry}");
            let from = entry["amount_from"].as_str().unwrap();
            assert!(BAND_FROM.contains(&from) && from != "1000.00", "{what}: {entry}");
            assert!(entry["amount_to"].as_str().is_none_or(|to| BAND_TO.contains(&to)), "{what}: {entry}");
        }
    } else {
        let donations = answer["donations"].as_i64().unwrap();
        assert!(donations == 0 || donations >= K, "{what}: {answer}");
        if donations > 0 {
            assert!(aligned(answer["updated_at"].as_str().unwrap()), "{what}: {answer}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_public_response_matches_an_amount_and_minute_to_one_donation() {
    let app = start_with(Some(WEBHOOK_SECRET), |c| c.data_key = Some(DATA_KEY.into())).await;
    let campaign = json!({
        "slug": "release-123", "title": "123 released political prisoners", "currency": "EUR",
        "goal": "123000", "amount_per_beneficiary": "1000", "suggested_amounts": ["10", "25", "50"]
    });
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    let gifts = scenario();
    let mut booked = 0;
    let mut times = Vec::new();
    let mut previous: Option<(i64, Decimal)> = None;
    let mut steps = 0;
    for v in (0..=75).step_by(5) {
        let v = TimeDelta::minutes(v);
        while booked < gifts.len() && gifts[booked].offset <= v {
            donate(&app, booked, gifts[booked].amount).await;
            booked += 1;
        }
        // the publisher's tick after the bookings has run: nothing computed before the clock
        // moves is stored after it
        tokio::time::sleep(Duration::from_millis(300)).await;
        times = move_clock(&app, &gifts, booked, v).await;
        let what = format!("{} min in, {booked} booked", v.num_minutes());

        let (totals, _) = get_json(&app, "/api/v1/campaigns/release-123/totals", None).await;
        assert_public(&totals, &gifts, &times, &format!("{what}: totals"));
        let (timeline, _) = get_json(&app, "/api/v1/campaigns/release-123/timeline?minutes=1440", None).await;
        assert_public(&timeline, &gifts, &times, &format!("{what}: timeline"));
        let live = first_live_event(&app, None).await;
        assert_public(&live, &gifts, &times, &format!("{what}: live"));
        assert_eq!(
            (&live["raised"], &live["donations"]),
            (&totals["raised"], &totals["donations"]),
            "{what}"
        );
        for page in ["/give/release-123", "/dashboard/release-123"] {
            let html = request(&app, page, None).send().await.unwrap().text().await.unwrap();
            assert_names_no_gift(&html, &gifts, &times, &format!("{what}: {page}"));
        }

        // published only after the delay: nothing paid in the last ten minutes is counted
        let donations = totals["donations"].as_i64().unwrap();
        let raised: Decimal = totals["raised"].as_str().unwrap().parse().unwrap();
        let old_enough = times.iter().filter(|at| **at <= Utc::now() - TimeDelta::minutes(10)).count();
        assert!(donations <= i64::try_from(old_enough).unwrap(), "{what}: {totals}");
        let in_steps: i64 =
            timeline["minutes"].as_array().unwrap().iter().map(|m| m["donations"].as_i64().unwrap()).sum();
        assert_eq!(in_steps, donations, "{what}: the timeline and the totals are one snapshot");
        if let Some((before, raised_before)) = previous {
            assert!(donations >= before, "{what}: went back");
            if donations > before {
                steps += 1;
                assert!(donations - before >= K, "{what}: a step of {}", donations - before);
                let step = raised - raised_before;
                assert!(gifts.iter().all(|g| g.amount != step), "{what}: a step of one gift: {step}");
            } else {
                assert_eq!(raised, raised_before, "{what}");
            }
        }
        previous = Some((donations, raised));
    }
    // it does publish: the first burst (with the quiet gifts and the large one), then the
    // straggler with the second burst; the last lone gift is held back
    assert!(steps >= 2, "{steps} steps");
    let published = previous.unwrap().0;
    assert_eq!(published, 22);

    // a coordinator, signed in: everything, exactly
    let key = zbor_vault::DataKey::parse(DATA_KEY).unwrap();
    let coordinator = zbor_auth::add_user(
        &app.db.pool,
        &key,
        "coordinator@example.org",
        zbor_auth::Role::Coordinator,
        PASSWORD,
        &zbor_auth::Actor::CLI,
    )
    .await
    .unwrap();
    let login = reqwest::Client::new()
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({ "email": "coordinator@example.org", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let token =
        zbor_auth::sessions::create_api_token(&app.db.pool, coordinator.id, "watch").await.unwrap().token;
    let all: Decimal = gifts.iter().map(|g| g.amount).sum();
    for credential in [cookie.as_str(), token.as_str()] {
        let (totals, cache) = get_json(&app, "/api/v1/campaigns/release-123/totals", Some(credential)).await;
        assert_eq!((&totals["exact"], &totals["donations"]), (&json!(true), &json!(23)), "{totals}");
        assert_eq!(totals["raised"], format!("{all:.2}"));
        assert_eq!(cache, "private, no-store");
        let (timeline, _) =
            get_json(&app, "/api/v1/campaigns/release-123/timeline?minutes=1440", Some(credential)).await;
        assert_eq!((&timeline["exact"], &timeline["bucket_minutes"]), (&json!(true), &json!(1)));
        let latest = &timeline["recent"][0];
        assert_eq!(
            (&latest["amount_from"], &latest["amount_to"], &latest["donations"]),
            (&json!("8.88"), &json!("8.88"), &json!(1)),
            "{timeline}"
        );
        assert_eq!(latest["at"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(), times[22]);
        let live = first_live_event(&app, Some(credential)).await;
        assert_eq!((&live["exact"], &live["donations"]), (&json!(true), &json!(23)), "{live}");
    }

    // forged and expired credentials: the public view, exactly as for nobody
    let (public, _) = get_json(&app, "/api/v1/campaigns/release-123/totals", None).await;
    sqlx::query(
        "update user_sessions set created_at = now() - interval '2 days', expires_at = now() - interval '1 day'",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    // (the expired session's cookie, a cookie and an API token nobody issued)
    for credential in [cookie.as_str(), "zbor_session=forged", "zbor_forged"] {
        let what = format!("with {credential}");
        let (totals, cache) = get_json(&app, "/api/v1/campaigns/release-123/totals", Some(credential)).await;
        assert_eq!(totals, public, "{what}");
        assert_eq!(cache, "no-cache", "{what}");
        let (timeline, _) =
            get_json(&app, "/api/v1/campaigns/release-123/timeline?minutes=1440", Some(credential)).await;
        assert_public(&timeline, &gifts, &times, &what);
        let live = first_live_event(&app, Some(credential)).await;
        assert_eq!((&live["exact"], &live["donations"]), (&json!(false), &json!(published)), "{what}");
    }
    app.finish().await;
}
