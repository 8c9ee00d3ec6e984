#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Group commit: many deliveries in one database transaction keep every promise of one
//! delivery: each payment booked once, duplicates inside one group answered as duplicates, a
//! bad event failing alone, a refund racing its donation booked in full, nothing doubled when
//! the responses are lost after the commit.

mod common;

use std::sync::Arc;

use common::*;
use zbor_stripe::events::{Context, Dispatcher, Event, GroupCommit, Outcome};
use zbor_testkit::TestDb;

fn table() -> Dispatcher {
    zbor_intake::webhook::register(Dispatcher::new(Context::default()))
}

fn paid(n: usize, minor: i64) -> Vec<u8> {
    event(
        &format!("evt_group_{n}"),
        "checkout.session.completed",
        session(&format!("cs_group_{n}"), minor, "eur", "paid", to_campaign("release-123")),
    )
}

fn parsed(bodies: &[Vec<u8>]) -> Vec<Event> {
    bodies.iter().map(|b| Event::parse(b).unwrap()).collect()
}

/// How many database transactions wrote the stored events.
async fn commits(db: &TestDb) -> i64 {
    count(db, "select count(distinct xmin::text) from stripe_events").await
}

#[tokio::test]
async fn a_group_with_a_duplicate_and_a_racing_refund_commits_once_and_books_each_payment_once() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    let mut bodies: Vec<Vec<u8>> = (0..20).map(|n| paid(n, 1_000 + i64::try_from(n).unwrap())).collect();
    // the same delivery twice in one group
    bodies.insert(5, paid(3, 1_003));
    // a refund of payment 7 in full, racing its own checkout event (before and after it)
    bodies.insert(
        2,
        event("evt_group_refund_7", "charge.refunded", refunded_charge("cs_group_7", 1_007, 1_007)),
    );
    // a session of an unknown campaign and one whose currency does not fit: the single path's reasons
    bodies.push(event(
        "evt_group_unknown",
        "checkout.session.completed",
        session("cs_group_unknown", 500, "eur", "paid", to_campaign("no-such-campaign")),
    ));
    bodies.push(event(
        "evt_group_usd",
        "checkout.session.completed",
        session("cs_group_usd", 500, "usd", "paid", to_campaign("release-123")),
    ));
    // a SEPA debit not settled yet
    bodies.push(event(
        "evt_group_sepa",
        "checkout.session.completed",
        session("cs_group_sepa", 700, "eur", "unpaid", to_campaign("release-123")),
    ));
    let receipts = table().receive_batch(&db.pool, parsed(&bodies)).await;
    let receipts: Vec<_> = receipts.into_iter().map(Result::unwrap).collect();

    assert_eq!(commits(&db).await, 1, "the whole group is one database transaction");
    let by_id = |id: &str| receipts.iter().find(|r| r.event_id == id && !r.duplicate).unwrap();
    let duplicates: Vec<_> = receipts.iter().filter(|r| r.duplicate).collect();
    assert_eq!(duplicates.len(), 1);
    assert_eq!((duplicates[0].event_id.as_str(), duplicates[0].outcome), ("evt_group_3", Outcome::Booked));
    for n in 0..20 {
        let receipt = by_id(&format!("evt_group_{n}"));
        assert_eq!(receipt.outcome, Outcome::Booked, "{n}");
        assert_eq!(receipt.campaign.as_deref(), Some("release-123"));
    }
    assert_eq!(by_id("evt_group_unknown").outcome, Outcome::NeedsReview);
    assert_eq!(by_id("evt_group_usd").outcome, Outcome::NeedsReview);
    assert_eq!(by_id("evt_group_sepa").outcome, Outcome::Waiting);

    // 20 donations of 10.00 + n cents; payment 7 refunded in full
    let expected = (0..20).map(|n| 1_000 + n).sum::<i64>() - 1_007;
    assert_eq!(
        campaign_balance(&db, &campaign).await,
        zbor_ledger::Money::from_minor_units(expected, eur("1").currency()).unwrap()
    );
    assert_eq!(count(&db, "select count(*) from donations where status = 'paid'").await, 20);
    assert_eq!(count(&db, "select count(*) from donations where refunded > 0").await, 1);
    assert_eq!(
        count(&db, "select count(*) from stripe_events").await,
        i64::try_from(bodies.len() - 1).unwrap()
    );
    zbor_ledger::seal_all(&db.pool).await.unwrap();
    assert!(zbor_ledger::verify(&db.pool).await.unwrap().is_ok());
    db.drop_database().await;
}

#[tokio::test]
async fn one_bad_event_fails_alone_and_the_others_are_booked() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    let mut bodies: Vec<Vec<u8>> = (0..10).map(|n| paid(n, 2_000)).collect();
    // parses as an event, but its session id is not one Stripe makes: the handler refuses it
    bodies.insert(
        4,
        event(
            "evt_group_bad",
            "checkout.session.completed",
            session("cs_bad;drop", 2_000, "eur", "paid", to_campaign("release-123")),
        ),
    );
    let receipts = table().receive_batch(&db.pool, parsed(&bodies)).await;
    assert_eq!(receipts.len(), 11);
    // a 400 for Stripe, with a reason
    let refused = receipts[4].as_ref().unwrap_err();
    assert_eq!(zbor_errors::Classified::kind(refused), zbor_errors::ErrorKind::Malformed, "{refused}");
    for (i, receipt) in receipts.iter().enumerate().filter(|(i, _)| *i != 4) {
        assert_eq!(receipt.as_ref().unwrap().outcome, Outcome::Booked, "{i}");
    }
    assert_eq!(campaign_balance(&db, &campaign).await, eur("200.00"));
    assert_eq!(count(&db, "select count(*) from stripe_events where id = 'evt_group_bad'").await, 0);
    db.drop_database().await;
}

#[tokio::test]
async fn responses_lost_after_the_commit_are_retried_as_duplicates_and_nothing_doubles() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    let bodies: Vec<Vec<u8>> = (0..30).map(|n| paid(n, 1_500)).collect();
    // the group commits, then the server dies before answering: the receipts are dropped
    drop(table().receive_batch(&db.pool, parsed(&bodies)).await);
    assert_eq!(campaign_balance(&db, &campaign).await, eur("450.00"));
    // Stripe retries every delivery, alone and in a new group
    let events = table();
    for body in &bodies[..10] {
        assert!(events.receive(&db.pool, body).await.unwrap().duplicate);
    }
    for receipt in events.receive_batch(&db.pool, parsed(&bodies)).await {
        let receipt = receipt.unwrap();
        assert_eq!((receipt.duplicate, receipt.outcome), (true, Outcome::Booked));
    }
    assert_eq!(campaign_balance(&db, &campaign).await, eur("450.00"));
    assert_eq!(count(&db, "select count(*) from ledger_transactions").await, 30);
    db.drop_database().await;
}

#[tokio::test]
async fn concurrent_deliveries_are_grouped_and_each_answered_after_its_commit() {
    let db = TestDb::new(8).await;
    let campaign = release_123(&db).await;
    let store = GroupCommit::new(Arc::new(table()), db.pool.clone());
    // 300 payments, a tenth delivered twice at the same moment
    let mut bodies: Vec<Vec<u8>> = (0..300).map(|n| paid(n, 1_000)).collect();
    bodies.extend((0..300).step_by(10).map(|n| paid(n, 1_000)));
    let deliveries = bodies.into_iter().map(|body| {
        let store = store.clone();
        let pool = db.pool.clone();
        tokio::spawn(async move {
            let receipt = store.receive(&body).await.unwrap();
            // answered only once committed: what it reports is visible to anyone now
            let stored: i64 = sqlx::query_scalar("select count(*) from stripe_events where id = $1")
                .bind(&receipt.event_id)
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(stored, 1);
            receipt
        })
    });
    let deliveries: Vec<_> = deliveries.collect();
    let mut receipts = Vec::with_capacity(deliveries.len());
    for delivery in deliveries {
        receipts.push(delivery.await.unwrap());
    }
    assert_eq!(receipts.iter().filter(|r| r.duplicate).count(), 30);
    assert!(receipts.iter().all(|r| r.outcome == Outcome::Booked));
    assert_eq!(campaign_balance(&db, &campaign).await, eur("3000.00"));
    let commits = commits(&db).await;
    assert!(commits < 300, "deliveries arriving together share commits: {commits} commits for 300 events");
    // a malformed body is refused before it is queued
    assert!(matches!(store.receive(b"not json").await, Err(zbor_stripe::Error::MalformedEvent(_))));
    zbor_ledger::seal_all(&db.pool).await.unwrap();
    assert!(zbor_ledger::verify(&db.pool).await.unwrap().is_ok());
    db.drop_database().await;
}
