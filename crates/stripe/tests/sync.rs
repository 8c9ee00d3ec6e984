#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Reading Stripe's events back (`events::sync`) from the simulator into the event store on a
//! real PostgreSQL: only the types the dispatcher acts on are asked for and stored; the missing
//! ones are applied oldest first across pages while those stored already are passed over; a
//! second run applies nothing; a failing event is reported and tried again next time; a `since`
//! beyond Stripe's 30 days is refused before Stripe is asked.

use std::collections::BTreeSet;
use zbor_stripe_sim::donor::pay_checkout;

use chrono::{Duration, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use zbor_stripe::events::sync::{sync, SyncError, SyncReport};
use zbor_stripe::events::{Context, Dispatcher, Event, Handled, HandlerFuture, Outcome};
use zbor_stripe::{Stripe, StripeConfig};
use zbor_stripe_sim::{Config, Simulator};
use zbor_testkit::TestDb;

const KEY: &str = "sk_test_sync";

/// A simulator with no webhook URL: the receiver is down, events only accrue.
async fn simulator() -> Simulator {
    let config = Config { api_key: KEY.into(), webhook_url: None, ..Config::default() };
    Simulator::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn stripe(sim: &Simulator) -> Stripe {
    let mut config = StripeConfig::new(KEY, sim.base_url.clone());
    config.requests_per_second = 1000;
    Stripe::new(config).unwrap()
}

/// A donor pays `amount` cents by card: `checkout.session.completed`, `charge.succeeded`.
/// Returns the payment intent.
async fn pay(sim: &Simulator, amount: i64) -> String {
    let client = reqwest::Client::new();
    let paid = pay_checkout(&client, &sim.base_url, KEY, "release-123", amount, "card").await.unwrap();
    paid["payment_intent"].as_str().unwrap().to_owned()
}

/// Books nothing, says it booked for the campaign in the object's metadata.
fn booked<'a>(_: &'a mut PgConnection, event: &'a Event, _: &'a Context) -> HandlerFuture<'a> {
    let campaign = event.object["metadata"]["zbor_campaign"].as_str().unwrap_or("none").to_owned();
    Box::pin(async move { Ok(Handled::new(Outcome::Booked).for_campaign(campaign)) })
}

fn refuse<'a>(_: &'a mut PgConnection, _: &'a Event, _: &'a Context) -> HandlerFuture<'a> {
    Box::pin(async { Err(zbor_stripe::Error::MalformedEvent("refused by the test".into())) })
}

fn sessions_only() -> Dispatcher {
    Dispatcher::new(Context::default()).on("checkout.session.completed", booked)
}

/// The simulator's events of `kind`, oldest first (the order the sync must apply them in).
fn ids_of(sim: &Simulator, kind: &str) -> Vec<String> {
    sim.events().iter().filter(|e| e["type"] == kind).map(|e| e["id"].as_str().unwrap().to_owned()).collect()
}

/// The stored events' ids in the order they were stored (each in its own transaction).
async fn stored(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar("select id from stripe_events order by received_at, id")
        .fetch_all(&db.pool)
        .await
        .unwrap()
}

/// The simulator's `GET /v1/events` requests, as `(key, value)` query parameters.
fn event_list_requests(sim: &Simulator) -> Vec<Vec<(String, String)>> {
    sim.api_requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/v1/events")
        .map(|r| r.query)
        .collect()
}

fn param<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn types_asked(query: &[(String, String)]) -> Vec<&str> {
    query.iter().filter(|(k, _)| k.starts_with("types")).map(|(_, v)| v.as_str()).collect()
}

#[tokio::test]
async fn only_the_types_the_dispatcher_acts_on_are_asked_for_and_a_second_run_applies_nothing() {
    let db = TestDb::new(2).await;
    let sim = simulator().await;
    let stripe = stripe(&sim);
    let since = Utc::now() - Duration::hours(1);
    let mut intents = Vec::new();
    for amount in [1000, 2500, 700] {
        intents.push(pay(&sim, amount).await);
    }
    sim.refund(&intents[0], Some(300)).unwrap(); // charge.refunded, refund.created
    assert_eq!(sim.events().len(), 8);
    assert!(sim.deliveries().is_empty());
    let events = sessions_only();

    let report = sync(&db.pool, &stripe, &events, since).await.unwrap();
    assert_eq!(
        report,
        SyncReport {
            listed: 3,
            applied: 3,
            campaigns: BTreeSet::from(["release-123".to_owned()]),
            // the first pass's page, then one forward from the oldest missing event
            requests: 2,
            ..SyncReport::default()
        }
    );
    let sessions = ids_of(&sim, "checkout.session.completed");
    assert_eq!(stored(&db).await, sessions, "only the type acted on, oldest first");
    let stored_types: Vec<String> =
        sqlx::query_scalar("select distinct type from stripe_events").fetch_all(&db.pool).await.unwrap();
    assert_eq!(stored_types, ["checkout.session.completed"]);
    // What Stripe was asked: the dispatcher's types, 100 a page, since `since`.
    let asked = event_list_requests(&sim);
    assert_eq!(asked.len(), 2);
    let since_text = since.timestamp().to_string();
    for query in &asked {
        assert_eq!(types_asked(query), ["checkout.session.completed"], "{query:?}");
        assert_eq!(param(query, "limit"), Some("100"));
        assert_eq!(param(query, "created[gte]"), Some(since_text.as_str()));
    }
    assert_eq!(param(&asked[1], "ending_before"), Some(sessions[0].as_str()));

    // Again: one request, nothing applied.
    let again = sync(&db.pool, &stripe, &events, since).await.unwrap();
    assert_eq!(again, SyncReport { listed: 3, already_stored: 3, requests: 1, ..SyncReport::default() });
    assert_eq!(stored(&db).await.len(), 3);
    db.drop_database().await;
}

#[tokio::test]
async fn missing_events_are_applied_oldest_first_across_pages_and_stored_ones_passed_over() {
    let db = TestDb::new(2).await;
    let sim = simulator().await;
    let stripe = stripe(&sim);
    let since = Utc::now() - Duration::hours(72);
    for i in 0..150 {
        pay(&sim, 500 + i).await;
    }
    let events = sessions_only();
    // The webhook got every third session's event before the receiver went down for good.
    let sessions = ids_of(&sim, "checkout.session.completed");
    let by_id = |id: &str| sim.events().into_iter().find(|e| e["id"] == id).unwrap();
    let delivered: Vec<&String> = sessions.iter().step_by(3).collect();
    for id in &delivered {
        let receipt = events.receive(&db.pool, &serde_json::to_vec(&by_id(id)).unwrap()).await.unwrap();
        assert!(!receipt.duplicate);
    }

    let report = sync(&db.pool, &stripe, &events, since).await.unwrap();
    assert_eq!((report.listed, report.already_stored, report.applied), (150, 50, 100), "{report:?}");
    assert!(report.failed.is_empty() && !report.truncated, "{report:?}");
    // first pass 100 + 50; second from the oldest missing (the second session), 100 + 48
    assert_eq!(report.requests, 4);
    let stored = stored(&db).await;
    let late: Vec<&String> = stored.iter().skip(50).collect();
    let missing: Vec<&String> =
        sessions.iter().enumerate().filter(|(i, _)| i % 3 != 0).map(|(_, id)| id).collect();
    assert_eq!(late, missing, "the missing ones, oldest first");
    // stored as a webhook would have stored them: the same payload, personal fields dropped
    let payload: Value = sqlx::query_scalar("select payload from stripe_events where id = $1")
        .bind(missing[0])
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        payload["data"]["object"]["amount_total"],
        by_id(missing[0])["data"]["object"]["amount_total"]
    );
    assert!(payload["data"]["object"].get("customer_details").is_none());

    let again = sync(&db.pool, &stripe, &events, since).await.unwrap();
    assert_eq!((again.listed, again.already_stored, again.applied, again.requests), (150, 150, 0, 2));
    db.drop_database().await;
}

#[tokio::test]
async fn with_more_than_20_types_every_event_is_listed_and_the_others_passed_over() {
    const MORE: [&str; 20] = [
        "zbor.test.a",
        "zbor.test.b",
        "zbor.test.c",
        "zbor.test.d",
        "zbor.test.e",
        "zbor.test.f",
        "zbor.test.g",
        "zbor.test.h",
        "zbor.test.i",
        "zbor.test.j",
        "zbor.test.k",
        "zbor.test.l",
        "zbor.test.m",
        "zbor.test.n",
        "zbor.test.o",
        "zbor.test.p",
        "zbor.test.q",
        "zbor.test.r",
        "zbor.test.s",
        "zbor.test.t",
    ];
    let db = TestDb::new(2).await;
    let sim = simulator().await;
    let stripe = stripe(&sim);
    pay(&sim, 1000).await;
    pay(&sim, 2000).await;
    let events = MORE.into_iter().fold(sessions_only(), |events, kind| events.on(kind, booked));
    assert_eq!(events.kinds().len(), 21);

    let report = sync(&db.pool, &stripe, &events, Utc::now() - Duration::hours(1)).await.unwrap();
    assert_eq!((report.listed, report.applied), (2, 2), "{report:?}");
    assert_eq!(stored(&db).await, ids_of(&sim, "checkout.session.completed"));
    let asked = event_list_requests(&sim);
    assert!(
        asked.iter().all(|query| types_asked(query).is_empty()),
        "no types[] beyond Stripe's 20: {asked:?}"
    );
    db.drop_database().await;
}

#[tokio::test]
async fn a_failing_event_is_reported_by_id_and_tried_again_next_time() {
    let db = TestDb::new(2).await;
    let sim = simulator().await;
    let stripe = stripe(&sim);
    let intent = pay(&sim, 1000).await;
    sim.refund(&intent, None).unwrap();
    let events = sessions_only().on("charge.refunded", refuse);
    let since = Utc::now() - Duration::hours(1);

    let report = sync(&db.pool, &stripe, &events, since).await.unwrap();
    let refunded = ids_of(&sim, "charge.refunded");
    assert_eq!((report.listed, report.applied), (2, 1));
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].event_id, refunded[0]);
    assert_eq!(report.failed[0].reason, "malformed_event: malformed Stripe event: refused by the test");
    let again = sync(&db.pool, &stripe, &events, since).await.unwrap();
    assert_eq!((again.listed, again.already_stored, again.applied, again.failed.len()), (2, 1, 0, 1));
    db.drop_database().await;
}

#[tokio::test]
async fn a_since_beyond_stripes_30_days_is_refused_before_stripe_is_asked() {
    let db = TestDb::new(1).await;
    let sim = simulator().await;
    let stripe = stripe(&sim);
    let since = Utc::now() - Duration::days(31);
    let refused = sync(&db.pool, &stripe, &sessions_only(), since).await;
    let Err(SyncError::TooOld { since: refused_since, .. }) = refused else { panic!("{refused:?}") };
    assert_eq!(refused_since, since);
    assert!(sim.api_requests().is_empty());
    // 30 days is what Stripe keeps: asked
    let report = sync(&db.pool, &stripe, &sessions_only(), Utc::now() - Duration::days(30)).await.unwrap();
    assert_eq!((report.listed, report.requests), (0, 1));
    db.drop_database().await;
}
