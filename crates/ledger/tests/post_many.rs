#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Many transactions in one statement (`post_many`): the same checks and the same ledger as
//! booking them one by one; all or nothing.

mod common;

use std::sync::Arc;

use common::*;
use zbor_ledger::{AccountKind, Error, NewTransaction, Outcome, TransactionId};

fn transfer(
    id: TransactionId,
    from: &zbor_ledger::Account,
    to: &zbor_ledger::Account,
    amount: &str,
) -> NewTransaction {
    NewTransaction::new(id).debit(from.id, eur(amount)).credit(to.id, eur(amount))
}

#[tokio::test]
async fn a_batch_books_like_its_transactions_one_by_one_and_a_retry_books_nothing() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    let txs: Vec<NewTransaction> = (0..100)
        .map(|n| {
            transfer(
                TransactionId::derived_from(&format!("batch:{n}")),
                &bank,
                &campaign,
                &format!("{}.{:02}", 10 + n, n),
            )
        })
        .collect();
    let outcomes = ledger.post_many(&txs).await.unwrap();
    assert!(outcomes.iter().all(|o| *o == Outcome::Created));
    // to the cent: the sum of the transactions
    let expected =
        (0..100).fold(eur("0"), |sum, n| sum.checked_add(&eur(&format!("{}.{:02}", 10 + n, n))).unwrap());
    assert_eq!(ledger.balance(campaign.id).await.unwrap().posted, expected);
    assert_eq!(ledger.balance(bank.id).await.unwrap().posted, expected);
    assert_eq!(count(&db, "ledger_postings").await, 200);

    // a retry, mixed with new ones and with an id given twice in one call
    let mut again = txs[..10].to_vec();
    again.push(transfer(TransactionId::derived_from("batch:new"), &bank, &campaign, "1.00"));
    again.push(transfer(TransactionId::derived_from("batch:new"), &bank, &campaign, "1.00"));
    let outcomes = ledger.post_many(&again).await.unwrap();
    assert_eq!(outcomes[..10], [Outcome::AlreadyExisted; 10]);
    assert_eq!(outcomes[10..], [Outcome::Created, Outcome::AlreadyExisted]);
    assert_eq!(count(&db, "ledger_transactions").await, 101);
    assert_eq!(ledger.seal_all().await.unwrap(), 101);
    let report = ledger.verify().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.first_problem);
    db.drop_database().await;
}

#[tokio::test]
async fn one_refused_transaction_books_none_of_the_batch() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    let payable = account(&ledger, "payouts:in-transit", AccountKind::Liability, false).await;
    donate(&ledger, &bank, &campaign, "100").await;
    // two outflows of 60.00 from a campaign holding 100.00: the database refuses the second
    let txs = vec![
        transfer(TransactionId::new_random(), &bank, &campaign, "5.00"),
        transfer(TransactionId::new_random(), &campaign, &payable, "60.00"),
        transfer(TransactionId::new_random(), &campaign, &payable, "60.00"),
    ];
    assert!(matches!(ledger.post_many(&txs).await, Err(Error::InsufficientFunds { .. })));
    assert_eq!(count(&db, "ledger_transactions").await, 1);
    assert_eq!(ledger.balance(campaign.id).await.unwrap().posted, eur("100"));

    // a content conflict with a booked transaction, and within one call
    let id = TransactionId::derived_from("conflict");
    ledger.post(&transfer(id, &bank, &campaign, "1.00")).await.unwrap();
    let clash = [
        transfer(TransactionId::new_random(), &bank, &campaign, "2.00"),
        transfer(id, &bank, &campaign, "1.01"),
    ];
    assert!(matches!(ledger.post_many(&clash).await, Err(Error::TransactionConflict(found)) if found == id));
    let other = TransactionId::new_random();
    let twice = [transfer(other, &bank, &campaign, "1.00"), transfer(other, &bank, &campaign, "3.00")];
    assert!(matches!(ledger.post_many(&twice).await, Err(Error::TransactionConflict(_))));
    // an unbalanced or unknown-account transaction is refused before the database
    let unknown = [
        transfer(TransactionId::new_random(), &bank, &campaign, "1.00"),
        NewTransaction::new(TransactionId::new_random())
            .debit(bank.id, eur("1"))
            .credit(zbor_ledger::AccountId::from_i64(999_999), eur("1")),
    ];
    assert!(matches!(ledger.post_many(&unknown).await, Err(Error::AccountNotFound(_))));
    assert_eq!(count(&db, "ledger_transactions").await, 2);
    assert_eq!(ledger.balance(campaign.id).await.unwrap().posted, eur("101"));
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_batches_to_the_same_accounts_lose_nothing_and_do_not_deadlock() {
    let (db, ledger) = setup(16).await;
    let bank = account(&ledger, "stripe:balance", AccountKind::Asset, false).await;
    let mut campaigns = Vec::new();
    for n in 0..5 {
        campaigns.push(account(&ledger, &format!("campaign:{n}"), AccountKind::Liability, true).await);
    }
    let ledger = Arc::new(ledger);
    let mut tasks = Vec::new();
    for batch in 0..40 {
        let ledger = ledger.clone();
        // each batch credits the campaigns in another order
        let txs: Vec<NewTransaction> = (0..25)
            .map(|n| transfer(TransactionId::new_random(), &bank, &campaigns[(n * 7 + batch) % 5], "1.00"))
            .collect();
        tasks.push(tokio::spawn(async move { ledger.post_many(&txs).await.map(|o| o.len()) }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), 25);
    }
    assert_eq!(ledger.balance(bank.id).await.unwrap().posted, eur("1000"));
    assert_eq!(count(&db, "ledger_transactions").await, 1000);
    let report = ledger.verify().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.first_problem);
    db.drop_database().await;
}
