#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Stripe events against a real PostgreSQL: each payment books once, whatever the number and
//! order of its events; unknown campaigns are flagged, never dropped or misbooked.

mod common;

use std::sync::Arc;

use common::*;
use serde_json::json;
use zbor_stripe::events::Outcome;
use zbor_testkit::TestDb;

#[tokio::test]
async fn a_paid_session_books_once_and_keeps_no_personal_data() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    let body = event(
        "evt_paid_1",
        "checkout.session.completed",
        session("cs_test_1", 2500, "eur", "paid", to_campaign("release-123")),
    );
    let receipt = receive(&db.pool, &body).await.unwrap();
    assert_eq!((receipt.outcome, receipt.duplicate), (Outcome::Booked, false));
    assert_eq!(campaign_balance(&db, &campaign).await, eur("25.00"));

    let again = receive(&db.pool, &body).await.unwrap();
    assert_eq!((again.outcome, again.duplicate), (Outcome::Booked, true));
    assert_eq!(campaign_balance(&db, &campaign).await, eur("25.00"));

    let stored: String =
        sqlx::query_scalar("select payload::text from stripe_events where id = 'evt_paid_1'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(!stored.contains("donor@example.com") && !stored.contains("Jane"), "{stored}");
    assert_eq!(count(&db, "select count(*) from donations where status = 'paid'").await, 1);
    db.drop_database().await;
}

/// A small deterministic shuffle: the test must fail the same way every time it fails.
fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = usize::try_from(seed % u64::try_from(i + 1).unwrap()).unwrap();
        items.swap(i, j);
    }
}

#[tokio::test]
async fn every_event_ten_times_in_shuffled_order_gives_the_same_ledger() {
    let db = TestDb::new(8).await;
    let campaign = release_123(&db).await;
    let md = || to_campaign("release-123");
    let mut deliveries = Vec::new();
    let mut expected_minor = 0;
    for n in 0..30i64 {
        let cs = format!("cs_test_{n}");
        let amount = 1000 + n * 137; // 10.00 .. 49.73
        match n % 3 {
            // card: paid at once
            0 => {
                deliveries.push(event(
                    &format!("evt_{n}_a"),
                    "checkout.session.completed",
                    session(&cs, amount, "eur", "paid", md()),
                ));
                expected_minor += amount;
            }
            // SEPA debit that succeeds days later
            1 => {
                deliveries.push(event(
                    &format!("evt_{n}_a"),
                    "checkout.session.completed",
                    session(&cs, amount, "eur", "unpaid", md()),
                ));
                deliveries.push(event(
                    &format!("evt_{n}_b"),
                    "checkout.session.async_payment_succeeded",
                    session(&cs, amount, "eur", "paid", md()),
                ));
                expected_minor += amount;
            }
            // SEPA debit that fails
            _ => {
                deliveries.push(event(
                    &format!("evt_{n}_a"),
                    "checkout.session.completed",
                    session(&cs, amount, "eur", "unpaid", md()),
                ));
                deliveries.push(event(
                    &format!("evt_{n}_b"),
                    "checkout.session.async_payment_failed",
                    session(&cs, amount, "eur", "unpaid", md()),
                ));
            }
        }
    }
    let mut all: Vec<Vec<u8>> = deliveries.iter().flat_map(|d| std::iter::repeat_n(d.clone(), 10)).collect();
    shuffle(&mut all, 0x5eed);
    let pool = Arc::new(db.pool.clone());
    // Four deliveries in flight at a time, as Stripe's retries and our N servers would produce.
    for chunk in all.chunks(4) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|body| {
                let (pool, body) = (pool.clone(), body.clone());
                tokio::spawn(async move { receive(&pool, &body).await.unwrap() })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    }
    let expected = zbor_ledger::Money::from_minor_units(expected_minor, campaign.currency).unwrap();
    assert_eq!(campaign_balance(&db, &campaign).await, expected);
    assert_eq!(
        count(&db, "select count(*) from stripe_events").await,
        i64::try_from(deliveries.len()).unwrap()
    );
    assert_eq!(count(&db, "select count(*) from donations where status = 'paid'").await, 20);
    assert_eq!(count(&db, "select count(*) from donations where status = 'failed'").await, 10);
    assert_eq!(count(&db, "select count(*) from ledger_transactions").await, 20);
    zbor_ledger::seal_all(&db.pool).await.unwrap();
    assert!(zbor_ledger::verify(&db.pool).await.unwrap().is_ok());
    db.drop_database().await;
}

#[tokio::test]
async fn one_event_from_twenty_deliveries_at_once_books_once() {
    let db = TestDb::new(16).await;
    let campaign = release_123(&db).await;
    let body = event(
        "evt_burst",
        "checkout.session.completed",
        session("cs_test_burst", 100_000, "eur", "paid", to_campaign("release-123")),
    );
    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (pool, body, barrier) = (db.pool.clone(), body.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                receive(&pool, &body).await.unwrap()
            })
        })
        .collect();
    let mut fresh = 0;
    for t in tasks {
        let receipt = t.await.unwrap();
        assert_eq!(receipt.outcome, Outcome::Booked);
        fresh += usize::from(!receipt.duplicate);
    }
    assert_eq!(fresh, 1);
    assert_eq!(campaign_balance(&db, &campaign).await, eur("1000"));
    db.drop_database().await;
}

#[tokio::test]
async fn sessions_that_cannot_be_attributed_are_stored_for_review_not_booked() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    let cases = [
        ("evt_unknown", session("cs_test_u1", 2500, "eur", "paid", to_campaign("no-such-campaign"))),
        ("evt_nometa", session("cs_test_u2", 2500, "eur", "paid", json!({}))),
        ("evt_usd", session("cs_test_u3", 2500, "usd", "paid", to_campaign("release-123"))),
        ("evt_link", {
            let mut s = session("cs_test_u4", 2500, "eur", "paid", json!({}));
            s["payment_link"] = json!("plink_unknown");
            s
        }),
    ];
    for (id, object) in cases {
        let receipt = receive(&db.pool, &event(id, "checkout.session.completed", object)).await.unwrap();
        assert_eq!(receipt.outcome, Outcome::NeedsReview, "{id}");
    }
    assert_eq!(
        count(
            &db,
            "select count(*) from stripe_events where outcome = 'needs_review' and review_reason is not null"
        )
        .await,
        4
    );
    assert_eq!(campaign_balance(&db, &campaign).await, eur("0"));
    assert_eq!(count(&db, "select count(*) from ledger_transactions").await, 0);
    db.drop_database().await;
}

#[tokio::test]
async fn a_payment_link_session_is_attributed_by_its_link() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    zbor_campaigns::set_payment_link(&db.pool, campaign.id, "plink_release123", "https://buy.stripe.com/x")
        .await
        .unwrap();
    let mut object = session("cs_test_link", 5000, "eur", "paid", json!({}));
    object["payment_link"] = json!("plink_release123");
    let receipt =
        receive(&db.pool, &event("evt_link_ok", "checkout.session.completed", object)).await.unwrap();
    assert_eq!(receipt.outcome, Outcome::Booked);
    assert_eq!(campaign_balance(&db, &campaign).await, eur("50"));
    db.drop_database().await;
}

#[tokio::test]
async fn other_event_types_are_stored_and_acknowledged() {
    let db = TestDb::new(4).await;
    release_123(&db).await;
    let mut plan_event: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/stripe-objects.json")).unwrap();
    plan_event = plan_event["event"].clone();
    let receipt = receive(&db.pool, &serde_json::to_vec(&plan_event).unwrap()).await.unwrap();
    assert_eq!(receipt.outcome, Outcome::Ignored);
    assert_eq!(count(&db, "select count(*) from stripe_events where type = 'plan.created'").await, 1);
    db.drop_database().await;
}

#[tokio::test]
async fn malformed_events_are_refused_and_nothing_is_stored() {
    let db = TestDb::new(4).await;
    release_123(&db).await;
    let bodies: Vec<Vec<u8>> = vec![
        b"not json".to_vec(),
        b"{}".to_vec(),
        br#"{"id":"x","type":"checkout.session.completed","created":1,"data":{"object":{}}}"#.to_vec(),
        event("evt_bad_session", "checkout.session.completed", json!({ "id": 5 })),
        event(
            "evt_bad-id",
            "checkout.session.completed",
            session("cs_test_ok", 100, "eur", "paid", to_campaign("release-123")),
        ),
        event(
            "evt_bad_cs",
            "checkout.session.completed",
            session("cs_not-stripe", 100, "eur", "paid", to_campaign("release-123")),
        ),
    ];
    for body in bodies {
        let err = receive(&db.pool, &body).await.unwrap_err();
        assert_eq!(zbor_errors::Classified::code(&err), "malformed_event", "{err}");
    }
    assert_eq!(count(&db, "select count(*) from stripe_events").await, 0);
    assert_eq!(count(&db, "select count(*) from donations").await, 0);
    db.drop_database().await;
}

#[tokio::test]
async fn totals_add_up_exactly_and_count_beneficiaries_funded() {
    let db = TestDb::new(4).await;
    release_123(&db).await;
    let mut conn = db.pool.acquire().await.unwrap();
    // EUR 122,999.99: one cent short of 123 × EUR 1,000, so 122 beneficiaries are funded.
    let first = event(
        "evt_t0",
        "checkout.session.completed",
        session("cs_test_t0", 12_299_999, "eur", "paid", to_campaign("release-123")),
    );
    receive(&db.pool, &first).await.unwrap();
    let short = zbor_intake::totals::totals(&mut conn, "release-123").await.unwrap();
    assert_eq!((short.raised, short.beneficiaries_funded), (eur("122999.99"), Some(122)));
    let gifts: [(i64, &str); 2] = [(1, "unpaid"), (2_500, "paid")];
    for (n, (minor, status)) in gifts.iter().enumerate() {
        let n = n + 1;
        let body = event(
            &format!("evt_t{n}"),
            "checkout.session.completed",
            session(&format!("cs_test_t{n}"), *minor, "eur", status, to_campaign("release-123")),
        );
        receive(&db.pool, &body).await.unwrap();
    }
    let totals = zbor_intake::totals::totals(&mut conn, "release-123").await.unwrap();
    assert_eq!(totals.raised, eur("123024.99"));
    assert_eq!(totals.net, eur("123024.99"));
    assert_eq!((totals.donations, totals.beneficiaries_funded), (2, Some(123)));
    let json = serde_json::to_value(&totals).unwrap();
    assert_eq!(json["raised"], "123024.99");
    assert_eq!(json["goal"], "123000.00");
    assert_eq!(json["refunded"], "0.00");
    assert_eq!(json["currency"], "EUR");
    // The unpaid SEPA session fails: nothing changes; the ledger agrees with the totals.
    let body = event(
        "evt_t9",
        "checkout.session.async_payment_failed",
        session("cs_test_t1", 1, "eur", "unpaid", to_campaign("release-123")),
    );
    receive(&db.pool, &body).await.unwrap();
    let again = zbor_intake::totals::totals(&mut conn, "release-123").await.unwrap();
    assert_eq!(again.raised, totals.raised);
    let campaign = zbor_campaigns::by_slug(&mut conn, "release-123").await.unwrap();
    drop(conn);
    assert_eq!(campaign_balance(&db, &campaign).await, totals.net);
    db.drop_database().await;
}
