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
    let made_before = stripe
        .send(
            &stripe_connect::transfer::CreateTransfer::new(
                stripe_types::Currency::EUR,
                "acct_1Pgaf0B7WZ01zgkW",
            )
            .amount(100_000)
            .transfer_group(format!("zbor-batch-{}", batch.id))
            .metadata(std::collections::HashMap::from([("zbor_payout".to_owned(), first.to_string())])),
            &format!("zbor:payout:{first}"),
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
