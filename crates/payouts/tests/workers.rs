#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Paying approved payouts through Stripe Connect (the simulator, through async-stripe): each
//! payout is one transfer, also when workers race, when one died after Stripe made the transfer,
//! and when Stripe answers 500s; the ledger posts each hold once.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_payouts::worker::{self, Step};
use zbor_payouts::{beneficiaries, jobs, PayoutId};
use zbor_stripe::{Stripe, StripeConfig};
use zbor_stripe_sim::{Config as SimConfig, Simulator};
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

const KEY: &str = "sk_test_payouts";

#[tokio::test]
async fn every_payout_is_one_transfer_whatever_happens_to_the_workers() {
    let sim = Simulator::start(
        SimConfig { api_key: KEY.into(), server_error_every: 3, ..SimConfig::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let mut config = StripeConfig::new(KEY, sim.base_url.as_str());
    config.backoff_first = Duration::from_millis(10);
    let stripe = Stripe::new(config).unwrap();

    let db = TestDb::new(8).await;
    let key = DataKey::generate();
    let campaign = funded_campaign(&db, "release-123", "3000").await;

    let mut people = Vec::new();
    for n in 0..3 {
        let new = new(
            json!({"name": format!("Person {n}"), "contact": "", "note": "", "method": {"kind": "stripe_connect", "account": format!("acct_1Pgaf{n}B7WZ01zgkW")}}),
        );
        people.push(beneficiaries::create(&db.pool, &key, campaign.id, &new).await.unwrap().id);
    }
    let users = treasurers(&db, &key, &["a@example.org", "b@example.org", "c@example.org"]).await;
    let items: Vec<NewItem> =
        people.iter().map(|p| NewItem { beneficiary: *p, amount: "1000".into() }).collect();
    confirm_all(&db.pool, campaign.id, users[1]).await;
    let batch = batches::create(&db.pool, campaign.id, users[0], &items).await.unwrap();
    batches::approve(&db.pool, batch.id, users[1], &batch.content_hash).await.unwrap().unwrap();
    assert_eq!(
        batches::approve(&db.pool, batch.id, users[2], &batch.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );
    // the relay publishes them at once; the sweeper only when still unpaid 15 s later
    assert!(jobs::due(&db.pool, 100).await.unwrap().is_empty());
    let due: Vec<PayoutId> =
        batches::batch(&db.pool, batch.id).await.unwrap().items.iter().map(|i| i.payout).collect();
    assert_eq!(due.len(), 3);

    // a worker died after Stripe made the first payout's transfer, before recording it
    let first = due[0];
    let nonce: Option<uuid::Uuid> = sqlx::query_scalar("select idempotency_nonce from payouts where id = $1")
        .bind(first)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(nonce.is_some(), "every new payout has its nonce");
    let made_before = stripe
        .send(
            &stripe_connect::transfer::CreateTransfer::new(
                stripe_types::Currency::EUR,
                "acct_1Pgaf0B7WZ01zgkW",
            )
            .amount(100_000)
            .transfer_group(format!("zbor-batch-{}", batch.id))
            .metadata(std::collections::HashMap::from([("zbor_payout".to_owned(), first.to_string())])),
            &worker::idempotency_key(first, nonce),
        )
        .await
        .unwrap();
    // two workers race for every payout
    let mut tasks = Vec::new();
    for id in due.iter().chain(due.iter()) {
        let (pool, key, stripe, id) = (db.pool.clone(), key.clone(), stripe.clone(), *id);
        tasks.push(tokio::spawn(async move { worker::pay(&pool, &key, Some(&stripe), id).await.unwrap() }));
    }
    let mut steps = Vec::new();
    for task in tasks {
        steps.push(task.await.unwrap());
    }
    assert_eq!(steps.iter().filter(|s| matches!(s, Step::Paid { .. })).count(), 3, "{steps:?}");
    assert!(steps.iter().all(|s| matches!(s, Step::Paid { .. } | Step::Finished)), "{steps:?}");

    let transfers = sim.transfers();
    assert_eq!(transfers.len(), 3, "one transfer per payout: {transfers:?}");
    assert!(transfers.iter().all(|t| t["amount"] == 100_000 && t["currency"] == "eur"));
    let first_reference: String = sqlx::query_scalar("select rail_reference from payouts where id = $1")
        .bind(first)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(first_reference, made_before.id.as_str(), "the dead worker's transfer is the one recorded");
    let paid: i64 = sqlx::query_scalar("select count(*) from payouts where status = 'paid'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let posted: i64 = sqlx::query_scalar("select count(*) from ledger_holds where status = 'posted'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!((paid, posted), (3, 3));
    let mut conn = db.pool.acquire().await.unwrap();
    assert_eq!(zbor_ledger::balance(&mut conn, campaign.ledger_account).await.unwrap().posted, eur("0"));
    drop(conn);
    // paying again changes nothing
    assert_eq!(worker::pay(&db.pool, &key, Some(&stripe), first).await.unwrap(), Step::Finished);
    assert_eq!(sim.transfers().len(), 3);
    assert!(jobs::due(&db.pool, 100).await.unwrap().is_empty());
    db.drop_database().await;
}

/// One released person's payout in a database, paid through `stripe`: (payout, its transfer).
async fn pay_one(db: &TestDb, stripe: &Stripe, account: &str) -> (PayoutId, String) {
    let key = DataKey::generate();
    let campaign = funded_campaign(db, "release-123", "1000").await;
    let new = new(
        json!({"name": "Person", "contact": "", "note": "", "method": {"kind": "stripe_connect", "account": account}}),
    );
    let person = beneficiaries::create(&db.pool, &key, campaign.id, &new).await.unwrap().id;
    let users = treasurers(db, &key, &["a@example.org", "b@example.org", "c@example.org"]).await;
    confirm_all(&db.pool, campaign.id, users[1]).await;
    let items = [NewItem { beneficiary: person, amount: "1000".into() }];
    let batch = batches::create(&db.pool, campaign.id, users[0], &items).await.unwrap();
    batches::approve(&db.pool, batch.id, users[1], &batch.content_hash).await.unwrap().unwrap();
    batches::approve(&db.pool, batch.id, users[2], &batch.content_hash).await.unwrap().unwrap();
    let payout = batches::batch(&db.pool, batch.id).await.unwrap().items[0].payout;
    let Step::Paid { reference } = worker::pay(&db.pool, &key, Some(stripe), payout).await.unwrap() else {
        panic!("not paid");
    };
    (payout, reference)
}

/// After a point-in-time restore the database hands out again the ids of payouts made after the
/// restored moment, while Stripe still remembers their idempotency keys (24 hours). A new payout
/// with a reused id must get a transfer of its own, to its own person, not the lost payout's.
#[tokio::test]
async fn a_payout_id_handed_out_again_after_a_restore_gets_its_own_transfer() {
    let sim = Simulator::start(
        SimConfig { api_key: KEY.into(), ..SimConfig::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let stripe = Stripe::new(StripeConfig::new(KEY, sim.base_url.as_str())).unwrap();
    // the database before the restore, and the restored one: the same ids, handed out twice
    let (before, restored) = (TestDb::new(4).await, TestDb::new(4).await);
    let (lost, lost_transfer) = pay_one(&before, &stripe, "acct_1PgafAB7WZ01zgkW").await;
    let (again, transfer) = pay_one(&restored, &stripe, "acct_1PgafBB7WZ01zgkW").await;
    assert_eq!(lost, again, "the restored database gave the id out again");
    assert_ne!(transfer, lost_transfer, "the new payout was given the lost payout's transfer");
    let transfers = sim.transfers();
    assert_eq!(transfers.len(), 2);
    let to: Vec<(&str, &str)> =
        transfers.iter().map(|t| (t["id"].as_str().unwrap(), t["destination"].as_str().unwrap())).collect();
    assert!(to.contains(&(transfer.as_str(), "acct_1PgafBB7WZ01zgkW")), "{to:?}");
    assert!(to.contains(&(lost_transfer.as_str(), "acct_1PgafAB7WZ01zgkW")), "{to:?}");
    before.drop_database().await;
    restored.drop_database().await;
}
