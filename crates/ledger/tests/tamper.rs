#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! `verify` finds history rewritten behind the ledger's back (here by a superuser who switched
//! the guard triggers off), and names the first thing that does not add up.

mod common;

use common::*;
use sqlx::Executor;
use zbor_ledger::{NewTransaction, TransactionId};

async fn booked_and_sealed() -> (zbor_testkit::TestDb, zbor_ledger::Ledger, TransactionId) {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    let mut last = TransactionId::new_random();
    for i in 0..5 {
        last = TransactionId::derived_from(&format!("donation-{i}"));
        let tx = NewTransaction::new(last)
            .debit(bank.id, eur("20"))
            .credit(campaign.id, eur("20"))
            .metadata(serde_json::json!({ "n": i }));
        ledger.post(&tx).await.unwrap();
    }
    assert_eq!(ledger.seal_all().await.unwrap(), 5);
    let report = ledger.verify().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.first_problem);
    assert_eq!((report.transactions, report.sealed, report.awaiting_seal), (5, 5, 0));
    (db, ledger, last)
}

/// Runs SQL with user triggers disabled: what an attacker with superuser rights could do.
async fn behind_the_ledgers_back(db: &zbor_testkit::TestDb, sql: &str) {
    let mut conn = db.pool.acquire().await.unwrap();
    conn.execute("set session_replication_role = replica").await.unwrap();
    conn.execute(sql).await.unwrap();
    conn.execute("set session_replication_role = origin").await.unwrap();
}

#[tokio::test]
async fn a_changed_amount_is_found() {
    let (db, ledger, _) = booked_and_sealed().await;
    // Both legs changed, so the transaction still balances: only the balances and hash reveal it.
    behind_the_ledgers_back(&db, "update ledger_postings set amount = amount * 2 where id in (1, 2)").await;
    let problem = ledger.verify().await.unwrap().first_problem.unwrap();
    assert!(problem.contains("stored balance says"), "{problem}");
    // Once the balance shards are "fixed" too, the content hash still gives it away.
    behind_the_ledgers_back(
        &db,
        "delete from ledger_balance_shards;
         insert into ledger_balance_shards (account_id, shard, debits, credits)
         select account_id, 0, sum(greatest(amount, 0)), sum(greatest(-amount, 0)) from ledger_postings group by account_id",
    )
    .await;
    let problem = ledger.verify().await.unwrap().first_problem.unwrap();
    assert!(problem.contains("content does not match its hash"), "{problem}");
    db.drop_database().await;
}

#[tokio::test]
async fn changed_metadata_is_found_and_named() {
    let (db, ledger, last) = booked_and_sealed().await;
    behind_the_ledgers_back(
        &db,
        &format!("update ledger_transactions set metadata = '{{\"n\": 99}}' where id = '{last}'"),
    )
    .await;
    let problem = ledger.verify().await.unwrap().first_problem.unwrap();
    assert!(problem.contains(&last.to_string()) && problem.contains("hash"), "{problem}");
    db.drop_database().await;
}

#[tokio::test]
async fn an_unbalanced_edit_is_found() {
    let (db, ledger, _) = booked_and_sealed().await;
    behind_the_ledgers_back(&db, "update ledger_postings set amount = 25 where id = 1").await;
    let problem = ledger.verify().await.unwrap().first_problem.unwrap();
    assert!(problem.contains("does not balance"), "{problem}");
    db.drop_database().await;
}

#[tokio::test]
async fn a_deleted_or_reordered_chain_link_is_found() {
    let (db, ledger, _) = booked_and_sealed().await;
    behind_the_ledgers_back(&db, "delete from ledger_chain where seq = 3").await;
    let problem = ledger.verify().await.unwrap().first_problem.unwrap();
    assert!(problem.contains("neither sealed nor queued"), "{problem}");
    db.drop_database().await;

    let (db, ledger, _) = booked_and_sealed().await;
    // A link whose hash was replaced no longer matches what it chains.
    behind_the_ledgers_back(&db, "update ledger_chain set hash = prev_hash where seq = 2").await;
    let problem = ledger.verify().await.unwrap().first_problem.unwrap();
    assert!(problem.contains("chain link 2"), "{problem}");
    db.drop_database().await;
}

#[tokio::test]
async fn an_overdrawn_non_negative_account_is_found() {
    let (db, ledger, _) = booked_and_sealed().await;
    // A balanced but overdrawing transaction inserted with every guard off.
    behind_the_ledgers_back(
        &db,
        "insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-0000000000ff', '\\x0000000000000000000000000000000000000000000000000000000000000000');
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-0000000000ff', 2, 'EUR', 500), ('00000000-0000-0000-0000-0000000000ff', 1, 'EUR', -500);
         insert into ledger_balance_shards (account_id, shard, debits, credits) values (2, 31, 500, 0), (1, 30, 0, 500)
           on conflict (account_id, shard) do update set debits = ledger_balance_shards.debits + excluded.debits,
                                                         credits = ledger_balance_shards.credits + excluded.credits;",
    )
    .await;
    let problem = ledger.verify().await.unwrap().first_problem.unwrap();
    assert!(problem.contains("campaign:release-123") && problem.contains("non-negative"), "{problem}");
    db.drop_database().await;
}
