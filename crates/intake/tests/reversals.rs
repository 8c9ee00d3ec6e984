#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Refunds (partial too) and disputes (won and lost) book their reversals exactly once, in any
//! order of arrival.

mod common;

use common::*;
use zbor_intake::totals::totals;
use zbor_stripe::events::Outcome;
use zbor_testkit::TestDb;

async fn pay(db: &TestDb, session_id: &str, amount_minor: i64) {
    let body = event(
        &format!("evt_pay_{session_id}"),
        "checkout.session.completed",
        session(session_id, amount_minor, "eur", "paid", to_campaign("release-123")),
    );
    assert_eq!(receive(&db.pool, &body).await.unwrap().outcome, Outcome::Booked);
}

async fn refunded(db: &TestDb) -> zbor_ledger::Money {
    let mut conn = db.pool.acquire().await.unwrap();
    totals(&mut conn, "release-123").await.unwrap().refunded
}

#[tokio::test]
async fn partial_refunds_book_their_running_total_once_in_any_order() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    pay(&db, "cs_test_r1", 5_000).await;
    // Two partial refunds: Stripe reports running totals 10.00 then 25.00. Deliver the later
    // one first, then the earlier, then both again.
    let second = event("evt_ref_2", "charge.refunded", refunded_charge("cs_test_r1", 5_000, 2_500));
    let first = event("evt_ref_1", "charge.refunded", refunded_charge("cs_test_r1", 5_000, 1_000));
    assert_eq!(receive(&db.pool, &second).await.unwrap().outcome, Outcome::Booked);
    assert_eq!(receive(&db.pool, &first).await.unwrap().outcome, Outcome::Ignored);
    for body in [&second, &first] {
        assert!(receive(&db.pool, body).await.unwrap().duplicate);
    }
    assert_eq!(campaign_balance(&db, &campaign).await, eur("25.00"));
    assert_eq!(refunded(&db).await, eur("25.00"));
    // Then refunded in full.
    let full = event("evt_ref_3", "charge.refunded", refunded_charge("cs_test_r1", 5_000, 5_000));
    assert_eq!(receive(&db.pool, &full).await.unwrap().outcome, Outcome::Booked);
    assert_eq!(campaign_balance(&db, &campaign).await, eur("0"));
    let mut conn = db.pool.acquire().await.unwrap();
    let t = totals(&mut conn, "release-123").await.unwrap();
    drop(conn);
    assert_eq!((t.raised, t.refunded, t.net), (eur("50"), eur("50"), eur("0")));
    zbor_ledger::seal_all(&db.pool).await.unwrap();
    assert!(zbor_ledger::verify(&db.pool).await.unwrap().is_ok());
    db.drop_database().await;
}

#[tokio::test]
async fn a_refund_that_arrives_before_its_donation_is_applied_when_the_donation_books() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    let early = event("evt_ref_early", "charge.refunded", refunded_charge("cs_test_r2", 3_000, 3_000));
    assert_eq!(receive(&db.pool, &early).await.unwrap().outcome, Outcome::Waiting);
    assert_eq!(campaign_balance(&db, &campaign).await, eur("0"));
    pay(&db, "cs_test_r2", 3_000).await;
    assert_eq!(campaign_balance(&db, &campaign).await, eur("0"));
    assert_eq!(refunded(&db).await, eur("30"));
    assert_eq!(count(&db, "select count(*) from ledger_transactions").await, 2);
    db.drop_database().await;
}

#[tokio::test]
async fn disputes_withdraw_once_and_a_won_dispute_reinstates_once() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    pay(&db, "cs_test_d1", 10_000).await;
    pay(&db, "cs_test_d2", 20_000).await;

    // d1 is lost: created, then closed lost, each delivered twice.
    for (id, status) in [("evt_d1_c", "needs_response"), ("evt_d1_l", "lost")] {
        let kind = if status == "lost" { "charge.dispute.closed" } else { "charge.dispute.created" };
        let body = event(id, kind, dispute("dp_1", "cs_test_d1", 10_000, status));
        receive(&db.pool, &body).await.unwrap();
        receive(&db.pool, &body).await.unwrap();
    }
    assert_eq!(campaign_balance(&db, &campaign).await, eur("200"));

    // d2 is won, and the "closed: won" event arrives before "created": same result.
    let won = event("evt_d2_w", "charge.dispute.closed", dispute("dp_2", "cs_test_d2", 20_000, "won"));
    let created =
        event("evt_d2_c", "charge.dispute.created", dispute("dp_2", "cs_test_d2", 20_000, "needs_response"));
    assert_eq!(receive(&db.pool, &won).await.unwrap().outcome, Outcome::Booked);
    assert_eq!(receive(&db.pool, &created).await.unwrap().outcome, Outcome::Ignored);
    assert_eq!(campaign_balance(&db, &campaign).await, eur("200"));
    assert_eq!(refunded(&db).await, eur("100"));
    // withdrawal + reinstatement for d2, withdrawal for d1, two donations
    assert_eq!(count(&db, "select count(*) from ledger_transactions").await, 5);
    db.drop_database().await;
}

#[tokio::test]
async fn a_reversal_that_would_overdraw_held_funds_is_stored_for_review() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    pay(&db, "cs_test_h1", 100_000).await;
    // Treasurers have reserved all of it for a payout.
    let payable = zbor_ledger::create_account(
        &db.pool,
        &zbor_ledger::NewAccount {
            code: "payouts:in-transit".into(),
            kind: zbor_ledger::AccountKind::Liability,
            currency: campaign.currency,
            non_negative: false,
        },
    )
    .await
    .unwrap();
    zbor_ledger::Ledger::new(db.pool.clone())
        .create_hold(&zbor_ledger::NewHold {
            id: zbor_ledger::HoldId::new_random(),
            debit: campaign.ledger_account,
            credit: payable.id,
            amount: eur("1000"),
            expires_at: None,
            metadata: serde_json::json!({}),
        })
        .await
        .unwrap();
    let body = event("evt_ref_h1", "charge.refunded", refunded_charge("cs_test_h1", 100_000, 100_000));
    let receipt = receive(&db.pool, &body).await.unwrap();
    assert_eq!(receipt.outcome, Outcome::NeedsReview);
    let reason: String =
        sqlx::query_scalar("select review_reason from stripe_events where id = 'evt_ref_h1'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(reason.contains("overdraw"), "{reason}");
    assert_eq!(campaign_balance(&db, &campaign).await, eur("1000"));
    db.drop_database().await;
}

#[tokio::test]
async fn inquiries_move_no_money() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    pay(&db, "cs_test_i1", 10_000).await;
    for (id, kind, status) in [
        ("evt_i1_c", "charge.dispute.created", "warning_needs_response"),
        ("evt_i1_u", "charge.dispute.updated", "warning_under_review"),
        ("evt_i1_x", "charge.dispute.closed", "warning_closed"),
    ] {
        let receipt = receive(&db.pool, &event(id, kind, dispute("dp_i1", "cs_test_i1", 10_000, status)))
            .await
            .unwrap();
        assert_eq!(receipt.outcome, Outcome::Ignored, "{id}");
    }
    assert_eq!(campaign_balance(&db, &campaign).await, eur("100"));
    db.drop_database().await;
}

#[tokio::test]
async fn reversals_beyond_the_donation_go_to_review_not_to_an_error() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    pay(&db, "cs_test_x1", 1_000).await;
    // 3.00 refunded, then a dispute over the full 10.00: only 7.00 is left to dispute.
    let refund = event("evt_x1_r", "charge.refunded", refunded_charge("cs_test_x1", 1_000, 300));
    assert_eq!(receive(&db.pool, &refund).await.unwrap().outcome, Outcome::Booked);
    let too_big =
        event("evt_x1_d", "charge.dispute.created", dispute("dp_x1", "cs_test_x1", 1_000, "needs_response"));
    assert_eq!(receive(&db.pool, &too_big).await.unwrap().outcome, Outcome::NeedsReview);
    // The other order on a second payment: disputed in full, then a refund.
    pay(&db, "cs_test_x2", 1_000).await;
    let full =
        event("evt_x2_d", "charge.dispute.created", dispute("dp_x2", "cs_test_x2", 1_000, "needs_response"));
    assert_eq!(receive(&db.pool, &full).await.unwrap().outcome, Outcome::Booked);
    let late_refund = event("evt_x2_r", "charge.refunded", refunded_charge("cs_test_x2", 1_000, 500));
    assert_eq!(receive(&db.pool, &late_refund).await.unwrap().outcome, Outcome::NeedsReview);
    assert_eq!(campaign_balance(&db, &campaign).await, eur("7"));
    assert_eq!(count(&db, "select count(*) from stripe_events where outcome = 'needs_review'").await, 2);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refund_racing_its_own_donation_is_never_lost() {
    let db = TestDb::new(16).await;
    let campaign = release_123(&db).await;
    for n in 0..40 {
        let session_id = format!("cs_test_race{n}");
        let pay = event(
            &format!("evt_race_p{n}"),
            "checkout.session.completed",
            session(&session_id, 2_000, "eur", "paid", to_campaign("release-123")),
        );
        let refund =
            event(&format!("evt_race_r{n}"), "charge.refunded", refunded_charge(&session_id, 2_000, 2_000));
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = [pay, refund]
            .into_iter()
            .map(|body| {
                let (pool, barrier) = (db.pool.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    receive(&pool, &body).await.unwrap()
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    }
    // Every donation was refunded in full, whichever event won each race.
    assert_eq!(campaign_balance(&db, &campaign).await, eur("0"));
    assert_eq!(refunded(&db).await, eur("800"));
    db.drop_database().await;
}
