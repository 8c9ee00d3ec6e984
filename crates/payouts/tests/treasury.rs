#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! After approval, against the real PostgreSQL and the simulated Stripe: the pause switch (one
//! stops, two resume), manual and SEPA payouts marked by treasurers, retry and cancel of failed
//! payouts (cancel voids the hold), and Stripe's transfer webhooks reconciling payouts.

mod common;

use std::time::Duration;
use zbor_auth::UserId;

use common::*;
use serde_json::json;
use zbor_campaigns::Campaign;
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_payouts::switch::{self, Resumed};
use zbor_payouts::treasury::{self, PayoutStatus};
use zbor_payouts::worker::{self, Step};
use zbor_payouts::{beneficiaries, jobs, reconcile, BeneficiaryId, Error, PayoutId};
use zbor_stripe::events::{Context, Dispatcher, Outcome};
use zbor_stripe::{Stripe, StripeConfig};
use zbor_stripe_sim::{Config as SimConfig, Simulator};
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

const KEY: &str = "sk_test_treasury";

struct Setup {
    db: TestDb,
    key: DataKey,
    campaign: Campaign,
    treasurers: Vec<UserId>,
}

async fn setup(funds: &str) -> Setup {
    let db = TestDb::new(8).await;
    let key = DataKey::generate();
    let campaign = funded_campaign(&db, "release", funds).await;
    let treasurers = treasurers(&db, &key, &["a@example.org", "b@example.org", "c@example.org"]).await;
    Setup { db, key, campaign, treasurers }
}

async fn beneficiary(s: &Setup, n: u64, method: serde_json::Value) -> BeneficiaryId {
    let new = new(json!({ "name": format!("Person {n}"), "contact": "", "note": "", "method": method }));
    beneficiaries::create(&s.db.pool, &s.key, s.campaign.id, &new).await.unwrap().id
}

/// Creates and releases a batch paying each beneficiary `amount`; the payout ids in order.
async fn released(s: &Setup, people: &[BeneficiaryId], amount: &str) -> Vec<PayoutId> {
    let items: Vec<NewItem> =
        people.iter().map(|p| NewItem { beneficiary: *p, amount: amount.into() }).collect();
    confirm_all(&s.db.pool, s.campaign.id, s.treasurers[1]).await;
    let batch = batches::create(&s.db.pool, s.campaign.id, s.treasurers[0], &items).await.unwrap();
    batches::approve(&s.db.pool, batch.id, s.treasurers[1], &batch.content_hash).await.unwrap().unwrap();
    assert_eq!(
        batches::approve(&s.db.pool, batch.id, s.treasurers[2], &batch.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );
    batch.items.iter().map(|i| i.payout).collect()
}

async fn balance(s: &Setup) -> zbor_ledger::Balance {
    let mut conn = s.db.pool.acquire().await.unwrap();
    zbor_ledger::balance(&mut conn, s.campaign.ledger_account).await.unwrap()
}

async fn status(s: &Setup, payout: PayoutId) -> PayoutStatus {
    treasury::get(&s.db.pool, payout).await.unwrap().status
}

async fn simulator() -> (Simulator, Stripe) {
    let sim = Simulator::start(
        SimConfig { api_key: KEY.into(), ..SimConfig::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let mut config = StripeConfig::new(KEY, sim.base_url.as_str());
    config.backoff_first = Duration::from_millis(10);
    config.requests_per_second = 50;
    let stripe = Stripe::new(config).unwrap();
    (sim, stripe)
}

#[tokio::test]
async fn one_treasurer_pauses_every_payout_and_two_resume_them() {
    let s = setup("3000").await;
    let (sim, stripe) = simulator().await;
    let person =
        beneficiary(&s, 1, json!({"kind": "stripe_connect", "account": "acct_1Pgaf0B7WZ01zgkW"})).await;
    let payouts = released(&s, &[person], "1000").await;
    let [a, b, c] = [s.treasurers[0], s.treasurers[1], s.treasurers[2]];

    assert!(switch::pause(&s.db.pool, Some(a), "the bank called about fraud").await.unwrap());
    assert!(!switch::pause(&s.db.pool, Some(b), "").await.unwrap(), "already paused");
    assert_eq!(worker::pay(&s.db.pool, &s.key, Some(&stripe), payouts[0]).await.unwrap(), Step::Paused);
    // due for the sweeper, but nothing is published while paused
    sqlx::query("update payouts set next_attempt_at = now() - interval '1 second'")
        .execute(&s.db.pool)
        .await
        .unwrap();
    assert!(jobs::due(&s.db.pool, 10).await.unwrap().is_empty());
    assert!(sim.transfers().is_empty(), "no money moves while paused");
    assert_eq!(status(&s, payouts[0]).await, PayoutStatus::Approved);

    // one treasurer cannot resume alone, however often they ask
    assert_eq!(switch::resume(&s.db.pool, a).await.unwrap(), Resumed::WaitingForAnother);
    assert_eq!(switch::resume(&s.db.pool, a).await.unwrap(), Resumed::AlreadyVoted);
    assert!(switch::state(&s.db.pool).await.unwrap().paused);
    // pausing again clears the votes
    switch::pause(&s.db.pool, Some(c), "").await.unwrap();
    assert!(switch::state(&s.db.pool).await.unwrap().resume_votes.is_empty());
    assert_eq!(switch::resume(&s.db.pool, a).await.unwrap(), Resumed::WaitingForAnother);
    assert_eq!(switch::resume(&s.db.pool, b).await.unwrap(), Resumed::Resumed);
    let state = switch::state(&s.db.pool).await.unwrap();
    assert!(!state.paused && state.resume_votes.is_empty());
    assert_eq!(switch::resume(&s.db.pool, c).await.unwrap(), Resumed::NotPaused);

    assert_eq!(jobs::due(&s.db.pool, 10).await.unwrap(), payouts);
    assert!(matches!(
        worker::pay(&s.db.pool, &s.key, Some(&stripe), payouts[0]).await.unwrap(),
        Step::Paid { .. }
    ));
    assert_eq!(sim.transfers().len(), 1);
    assert_eq!(balance(&s).await.posted, eur("2000"));
    s.db.drop_database().await;
}

#[tokio::test]
async fn treasurers_finish_manual_and_sepa_payouts_retry_and_cancel_failed_ones() {
    let s = setup("5000").await;
    let manual = beneficiary(&s, 1, json!({"kind": "manual"})).await;
    let sepa = beneficiary(&s, 2, json!({"kind": "sepa", "iban": de_iban(2)})).await;
    let cancelled = beneficiary(&s, 3, json!({"kind": "sepa", "iban": de_iban(3)})).await;
    let payouts = released(&s, &[manual, sepa, cancelled], "1000").await;
    let (manual, sepa, cancelled) = (payouts[0], payouts[1], payouts[2]);
    let who = s.treasurers[0];
    assert_eq!(balance(&s).await.available, eur("2000"), "3000 held");
    // workers never touch them: nothing to publish
    sqlx::query("update payouts set next_attempt_at = now() - interval '1 second'")
        .execute(&s.db.pool)
        .await
        .unwrap();
    assert!(jobs::due(&s.db.pool, 10).await.unwrap().is_empty());

    // manual: handed over in cash, with a sealed note
    let paid = treasury::mark_paid(&s.db.pool, &s.key, manual, who, "handed over in Vilnius").await.unwrap();
    assert_eq!(paid.status, PayoutStatus::Paid);
    assert_eq!(paid.rail_reference.as_deref(), Some(format!("manual:{manual}").as_str()));
    assert_eq!(
        treasury::note(&s.db.pool, &s.key, manual).await.unwrap().as_deref(),
        Some("handed over in Vilnius")
    );
    let stored: Vec<u8> = sqlx::query_scalar("select note_sealed from payouts where id = $1")
        .bind(manual)
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains("Vilnius"), "the note is sealed at rest");
    assert_eq!(balance(&s).await.posted, eur("4000"), "its hold was posted");
    let again = treasury::mark_paid(&s.db.pool, &s.key, manual, who, "").await;
    assert!(matches!(again, Err(Error::WrongState(_))), "{again:?}");

    // a SEPA payout is marked paid only once it was sent to the bank
    let early = treasury::mark_paid(&s.db.pool, &s.key, sepa, who, "").await;
    assert!(matches!(early, Err(Error::WrongState(_))), "{early:?}");
    sqlx::query("update payouts set status = 'sent', sent_at = now() where id = $1")
        .bind(sepa)
        .execute(&s.db.pool)
        .await
        .unwrap();
    // the bank returned it: failed, still held
    let returned = treasury::mark_returned(&s.db.pool, sepa, who, "AC04 account closed").await.unwrap();
    assert_eq!(returned.status, PayoutStatus::Failed);
    assert!(returned.last_error.unwrap().contains("AC04"));
    assert_eq!(balance(&s).await.available, eur("2000"), "a failed payout keeps its hold");
    // retried: approved again, for the next file
    assert_eq!(treasury::retry(&s.db.pool, sepa, who).await.unwrap().status, PayoutStatus::Approved);
    assert!(matches!(treasury::retry(&s.db.pool, sepa, who).await, Err(Error::WrongState(_))));

    // cancel voids the hold: the funds are the campaign's again
    let gone = treasury::cancel(&s.db.pool, cancelled, who).await.unwrap();
    assert_eq!(gone.status, PayoutStatus::Cancelled);
    assert_eq!(balance(&s).await.available, eur("3000"));
    let hold_status: String = sqlx::query_scalar(
        "select h.status::text from ledger_holds h join payouts p on p.hold_id = h.id where p.id = $1",
    )
    .bind(cancelled)
    .fetch_one(&s.db.pool)
    .await
    .unwrap();
    assert_eq!(hold_status, "voided");
    assert!(matches!(treasury::cancel(&s.db.pool, cancelled, who).await, Err(Error::WrongState(_))));
    assert!(matches!(treasury::cancel(&s.db.pool, manual, who).await, Err(Error::WrongState(_))), "paid");
    assert!(matches!(
        treasury::cancel(&s.db.pool, PayoutId::from_i64(999_999), who).await,
        Err(Error::PayoutNotFound(_))
    ));
    s.db.drop_database().await;
}

#[tokio::test]
async fn a_transfer_failing_too_often_waits_for_a_treasurer_then_is_retried_or_cancelled() {
    let s = setup("3000").await;
    let (sim, stripe) = simulator().await;
    let one = beneficiary(&s, 1, json!({"kind": "stripe_connect", "account": "acct_1Pgaf1B7WZ01zgkW"})).await;
    let two = beneficiary(&s, 2, json!({"kind": "stripe_connect", "account": "acct_1Pgaf2B7WZ01zgkW"})).await;
    let payouts = released(&s, &[one, two], "1000").await;
    // Stripe unreachable, on the last allowed attempt
    let mut config = StripeConfig::new(KEY, "http://127.0.0.1:9/");
    config.attempts_max = 1;
    config.timeout = Duration::from_secs(2);
    let down = Stripe::new(config).unwrap();
    sqlx::query("update payouts set attempts = $1 - 1")
        .bind(worker::ATTEMPTS_MAX)
        .execute(&s.db.pool)
        .await
        .unwrap();
    for payout in &payouts {
        let step = worker::pay(&s.db.pool, &s.key, Some(&down), *payout).await.unwrap();
        assert!(matches!(step, Step::Failed { .. }), "{step:?}");
        assert_eq!(status(&s, *payout).await, PayoutStatus::Failed);
    }
    assert!(jobs::due(&s.db.pool, 10).await.unwrap().is_empty(), "failed payouts wait for a person");
    assert_eq!(balance(&s).await.available, eur("1000"), "still held");

    // retried: attempts start over and a worker pays it once Stripe answers
    let retried = treasury::retry(&s.db.pool, payouts[0], s.treasurers[0]).await.unwrap();
    assert_eq!((retried.status, retried.attempts), (PayoutStatus::Approved, 0));
    let jobs: i64 = sqlx::query_scalar("select count(*) from outbox where job_key like $1")
        .bind(format!("payout:{}:retry:%", payouts[0]))
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert_eq!(jobs, 1, "the retry is queued for the workers");
    assert!(matches!(
        worker::pay(&s.db.pool, &s.key, Some(&stripe), payouts[0]).await.unwrap(),
        Step::Paid { .. }
    ));
    // cancelled: the hold is voided
    treasury::cancel(&s.db.pool, payouts[1], s.treasurers[1]).await.unwrap();
    assert_eq!(worker::pay(&s.db.pool, &s.key, Some(&stripe), payouts[1]).await.unwrap(), Step::Finished);
    assert_eq!(sim.transfers().len(), 1);
    let b = balance(&s).await;
    assert_eq!((b.posted, b.available), (eur("2000"), eur("2000")));
    s.db.drop_database().await;
}

fn transfer_event(id: &str, kind: &str, transfer: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id, "object": "event", "type": kind, "created": 1_764_000_000,
        "data": { "object": transfer }
    }))
    .unwrap()
}

#[tokio::test]
async fn transfer_webhooks_complete_a_dead_workers_payout_and_return_reversed_money() {
    let s = setup("3000").await;
    let (sim, stripe) = simulator().await;
    let person =
        beneficiary(&s, 1, json!({"kind": "stripe_connect", "account": "acct_1Pgaf1B7WZ01zgkW"})).await;
    let payouts = released(&s, &[person], "1000").await;
    let payout = payouts[0];
    // a worker claimed it, Stripe made the transfer, and the worker died before recording it
    sqlx::query("update payouts set status = 'sending', attempts = 1, next_attempt_at = now() where id = $1")
        .bind(payout)
        .execute(&s.db.pool)
        .await
        .unwrap();
    let made = stripe
        .send(
            &stripe_connect::transfer::CreateTransfer::new(
                stripe_types::Currency::EUR,
                "acct_1Pgaf1B7WZ01zgkW",
            )
            .amount(100_000)
            .metadata(std::collections::HashMap::from([("zbor_payout".to_owned(), payout.to_string())])),
            &worker::idempotency_key(
                payout,
                sqlx::query_scalar("select idempotency_nonce from payouts where id = $1")
                    .bind(payout)
                    .fetch_one(&s.db.pool)
                    .await
                    .unwrap(),
            ),
        )
        .await
        .unwrap();
    let transfer = sim.transfers().into_iter().next().unwrap();
    assert_eq!(transfer["id"], made.id.as_str());

    let events = reconcile::register(Dispatcher::new(Context::default()));
    let created = transfer_event("evt_created1", "transfer.created", transfer.clone());
    let first = events.receive(&s.db.pool, &created).await.unwrap();
    assert_eq!((first.outcome, first.duplicate), (Outcome::Booked, false));
    let paid = treasury::get(&s.db.pool, payout).await.unwrap();
    assert_eq!(paid.status, PayoutStatus::Paid);
    assert_eq!(paid.rail_reference.as_deref(), Some(made.id.as_str()));
    assert_eq!(balance(&s).await.posted, eur("2000"));
    // the same event again, and another event for the same transfer: nothing more
    assert!(events.receive(&s.db.pool, &created).await.unwrap().duplicate);
    let updated = transfer_event("evt_updated1", "transfer.updated", transfer.clone());
    assert_eq!(events.receive(&s.db.pool, &updated).await.unwrap().outcome, Outcome::Ignored);
    // the restarted worker finds it paid and makes no second transfer
    assert_eq!(worker::pay(&s.db.pool, &s.key, Some(&stripe), payout).await.unwrap(), Step::Finished);
    assert_eq!(sim.transfers().len(), 1);

    // reversals, delivered out of order and twice: each cent comes back once
    let mut partial = transfer.clone();
    partial["amount_reversed"] = json!(30_000);
    let mut full = transfer.clone();
    full["amount_reversed"] = json!(100_000);
    full["reversed"] = json!(true);
    let full_event = transfer_event("evt_rev2", "transfer.reversed", full);
    let partial_event = transfer_event("evt_rev1", "transfer.reversed", partial);
    assert_eq!(events.receive(&s.db.pool, &full_event).await.unwrap().outcome, Outcome::Booked);
    assert_eq!(events.receive(&s.db.pool, &partial_event).await.unwrap().outcome, Outcome::Ignored);
    assert!(events.receive(&s.db.pool, &full_event).await.unwrap().duplicate);
    let reversed = treasury::get(&s.db.pool, payout).await.unwrap();
    assert_eq!(reversed.status, PayoutStatus::Reversed);
    assert_eq!(reversed.reversed_amount, eur("1000").amount());
    assert_eq!(balance(&s).await.posted, eur("3000"), "the reversed transfer is the campaign's again");

    // a transfer zbor did not make is kept for a person, and moves nothing
    let mut stranger = transfer;
    stranger["id"] = json!("tr_stranger");
    stranger["metadata"] = json!({});
    let review =
        events.receive(&s.db.pool, &transfer_event("evt_x", "transfer.created", stranger)).await.unwrap();
    assert_eq!(review.outcome, Outcome::NeedsReview);
    assert!(review.review_reason.unwrap().contains("tr_stranger"));
    assert_eq!(balance(&s).await.posted, eur("3000"));
    assert!(zbor_ledger::verify(&s.db.pool).await.unwrap().is_ok());
    s.db.drop_database().await;
}

#[tokio::test]
async fn the_stripe_rails_own_limit_defers_transfers_without_counting_them_as_failures() {
    let s = setup("5000").await;
    let (sim, _) = simulator().await;
    let mut people = Vec::new();
    for n in 0..5 {
        let account = format!("acct_1Pgaf{n}B7WZ01zgkW");
        people.push(beneficiary(&s, n, json!({"kind": "stripe_connect", "account": account})).await);
    }
    let payouts = released(&s, &people, "1000").await;
    // the rail allows 1 transfer a second and nobody waits more than 100 ms for a turn
    let mut config = StripeConfig::new(KEY, sim.base_url.as_str());
    config.requests_per_second = 1;
    config.queue_wait_max = Duration::from_millis(100);
    let limited = Stripe::new(config).unwrap();
    let mut tasks = Vec::new();
    for payout in &payouts {
        let (pool, key, stripe, payout) = (s.db.pool.clone(), s.key.clone(), limited.clone(), *payout);
        tasks.push(tokio::spawn(
            async move { worker::pay(&pool, &key, Some(&stripe), payout).await.unwrap() },
        ));
    }
    let mut steps = Vec::new();
    for task in tasks {
        steps.push(task.await.unwrap());
    }
    let paid = steps.iter().filter(|s| matches!(s, Step::Paid { .. })).count();
    let deferred = steps.iter().filter(|s| matches!(s, Step::RetryLater { .. })).count();
    assert!((1..=2).contains(&paid), "at most the limit's burst goes through at once: {steps:?}");
    assert_eq!(paid + deferred, 5, "the rest wait for a later turn: {steps:?}");
    assert_eq!(sim.transfers().len(), paid);
    for payout in &payouts {
        let p = treasury::get(&s.db.pool, *payout).await.unwrap();
        if p.status == PayoutStatus::Approved {
            assert_eq!(p.attempts, 0, "waiting for the rail is not a failed attempt");
        }
    }
    s.db.drop_database().await;
}
