#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Many writers at once: nothing lost, nothing doubled, nothing overdrawn.

mod common;

use std::sync::Arc;

use common::*;
use zbor_ledger::{Error, HoldId, NewHold, NewTransaction, Outcome, TransactionId};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_credits_to_one_account_lose_nothing() {
    let (db, ledger) = setup(16).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    let ledger = Arc::new(ledger);
    let mut tasks = Vec::new();
    for i in 0..1000u32 {
        let ledger = ledger.clone();
        // 10.00 .. 59.99 EUR, like the December 2025 donations
        let amount = eur(&format!("{}.{:02}", 10 + i % 50, i % 100));
        tasks.push(tokio::spawn(async move {
            let tx = NewTransaction::new(TransactionId::new_random())
                .debit(bank.id, amount)
                .credit(campaign.id, amount);
            ledger.post(&tx).await.map(|_| amount)
        }));
    }
    let mut expected = eur("0");
    for task in tasks {
        expected = expected.checked_add(&task.await.unwrap().unwrap()).unwrap();
    }
    let balance = ledger.balance(campaign.id).await.unwrap();
    assert_eq!(balance.posted, expected);
    assert_eq!(ledger.balance(bank.id).await.unwrap().posted, expected);
    assert_eq!(count(&db, "ledger_transactions").await, 1000);
    assert_eq!(count(&db, "ledger_postings").await, 2000);
    assert_eq!(ledger.seal_all().await.unwrap(), 1000);
    let report = ledger.verify().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.first_problem);
    assert_eq!(report.sealed, 1000);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_holds_never_overdraw() {
    let (db, ledger) = setup(16).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    let payable = account(&ledger, "payouts:in-transit", zbor_ledger::AccountKind::Liability, false).await;
    donate(&ledger, &bank, &campaign, "1000").await;
    let ledger = Arc::new(ledger);
    // 200 holds of 7.00 against 1000.00: exactly 142 fit (994.00), 58 must be refused.
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let ledger = ledger.clone();
        tasks.push(tokio::spawn(async move {
            ledger
                .create_hold(&NewHold {
                    id: HoldId::new_random(),
                    debit: campaign.id,
                    credit: payable.id,
                    amount: eur("7"),
                    expires_at: None,
                    metadata: serde_json::json!({}),
                })
                .await
        }));
    }
    let (mut held, mut refused) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(Outcome::Created) => held += 1,
            Err(Error::InsufficientFunds { .. }) => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((held, refused), (142, 58));
    let balance = ledger.balance(campaign.id).await.unwrap();
    assert_eq!((balance.pending_outflow, balance.available), (eur("994"), eur("6")));
    assert!(ledger.verify().await.unwrap().is_ok());
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_debits_and_holds_race_without_overdrawing() {
    let (db, ledger) = setup(16).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    donate(&ledger, &bank, &campaign, "100").await;
    let ledger = Arc::new(ledger);
    let mut tasks = Vec::new();
    for i in 0..100 {
        let ledger = ledger.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let tx = NewTransaction::new(TransactionId::new_random())
                    .debit(campaign.id, eur("3"))
                    .credit(bank.id, eur("3"));
                ledger.post(&tx).await.map(|_| ())
            } else {
                let hold = NewHold {
                    id: HoldId::new_random(),
                    debit: campaign.id,
                    credit: bank.id,
                    amount: eur("3"),
                    expires_at: None,
                    metadata: serde_json::json!({}),
                };
                ledger.create_hold(&hold).await.map(|_| ())
            }
        }));
    }
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => ok += 1,
            Err(Error::InsufficientFunds { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ok, 33); // 33 × 3.00 = 99.00 of 100.00
    assert_eq!(ledger.balance(campaign.id).await.unwrap().available, eur("1"));
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_transaction_id_from_fifty_tasks_books_once() {
    let (db, ledger) = setup(16).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    let ledger = Arc::new(ledger);
    let id = TransactionId::derived_from("pi_3MtwBwLkdIwHu7ix28a3tqPa");
    let barrier = Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (ledger, barrier) = (ledger.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let tx = NewTransaction::new(id).debit(bank.id, eur("1000")).credit(campaign.id, eur("1000"));
            ledger.post(&tx).await
        }));
    }
    let mut created = 0;
    let mut existed = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Outcome::Created => created += 1,
            Outcome::AlreadyExisted => existed += 1,
        }
    }
    assert_eq!((created, existed), (1, 49));
    assert_eq!(ledger.balance(campaign.id).await.unwrap().posted, eur("1000"));
    assert_eq!(count(&db, "ledger_postings").await, 2);
    db.drop_database().await;
}
