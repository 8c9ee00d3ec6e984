#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The database itself refuses what the Rust code would refuse: raw SQL cannot unbalance a
//! transaction, rewrite or delete history, or overdraw a non-negative account.

mod common;

use common::*;
use sqlx::{Executor, PgPool};
use zbor_ledger::{NewTransaction, TransactionId};

/// Runs `sql` as one database transaction and returns the error message it failed with.
async fn refused(pool: &PgPool, sql: &str) -> String {
    let mut tx = pool.begin().await.unwrap();
    let result = match tx.execute(sql).await {
        Ok(_) => tx.commit().await.map(|_| ()),
        Err(e) => Err(e),
    };
    result
        .expect_err(&format!("the database accepted: {sql}"))
        .to_string()
}

#[tokio::test]
async fn raw_sql_cannot_commit_an_unbalanced_or_lonely_transaction() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    let (b, c) = (bank.id, campaign.id);
    let hash = "'\\x0000000000000000000000000000000000000000000000000000000000000000'";

    let unbalanced = format!(
        "insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-000000000001', {hash});
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-000000000001', {b}, 'EUR', 10.00),
           ('00000000-0000-0000-0000-000000000001', {c}, 'EUR', -9.99);"
    );
    assert!(refused(&db.pool, &unbalanced)
        .await
        .contains("does not balance"));

    let single = format!(
        "insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-000000000002', {hash});
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-000000000002', {b}, 'EUR', 10.00);"
    );
    assert!(refused(&db.pool, &single)
        .await
        .contains("needs at least 2"));

    let empty = format!("insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-000000000003', {hash});");
    assert!(refused(&db.pool, &empty).await.contains("has 0 posting(s)"));

    let wrong_currency = format!(
        "insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-000000000004', {hash});
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-000000000004', {b}, 'USD', 10.00),
           ('00000000-0000-0000-0000-000000000004', {c}, 'USD', -10.00);"
    );
    assert!(refused(&db.pool, &wrong_currency)
        .await
        .contains("holds EUR, not USD"));

    let unknown_account = format!(
        "insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-000000000007', {hash});
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-000000000007', 999, 'EUR', 10.00),
           ('00000000-0000-0000-0000-000000000007', {c}, 'EUR', -10.00);"
    );
    assert!(refused(&db.pool, &unknown_account)
        .await
        .contains("account 999 does not exist"));

    let too_fine = format!(
        "insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-000000000005', {hash});
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-000000000005', {b}, 'EUR', 0.0001),
           ('00000000-0000-0000-0000-000000000005', {c}, 'EUR', -0.0001);"
    );
    assert!(refused(&db.pool, &too_fine)
        .await
        .contains("check constraint"));

    // A raw debit that would overdraw the non-negative campaign account.
    let overdraw = format!(
        "insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-000000000006', {hash});
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-000000000006', {c}, 'EUR', 5.00),
           ('00000000-0000-0000-0000-000000000006', {b}, 'EUR', -5.00);"
    );
    assert!(refused(&db.pool, &overdraw).await.contains("overdrawn"));

    for table in ["ledger_transactions", "ledger_postings"] {
        assert_eq!(count(&db, table).await, 0, "{table}");
    }
    db.drop_database().await;
}

#[tokio::test]
async fn history_cannot_be_updated_deleted_or_truncated() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    ledger
        .post(
            &NewTransaction::new(TransactionId::new_random())
                .debit(bank.id, eur("10"))
                .credit(campaign.id, eur("10")),
        )
        .await
        .unwrap();
    ledger.seal_all().await.unwrap();
    // A balanced pair added to the committed transaction later would still balance; refused anyway.
    let extend = format!(
        "insert into ledger_postings (transaction_id, account_id, currency, amount)
         select id, {b}, 'EUR', 5 from ledger_transactions
         union all select id, {c}, 'EUR', -5 from ledger_transactions",
        b = bank.id,
        c = campaign.id
    );
    assert!(refused(&db.pool, &extend)
        .await
        .contains("postings are final"));
    for sql in [
        "update ledger_postings set amount = amount * 2",
        "delete from ledger_postings",
        "truncate ledger_postings cascade",
        "update ledger_transactions set metadata = '{\"x\": 1}'",
        "delete from ledger_transactions",
        "update ledger_accounts set non_negative = false",
        "delete from ledger_accounts",
        "update ledger_chain set hash = prev_hash",
        "delete from ledger_chain",
    ] {
        let message = refused(&db.pool, sql).await;
        assert!(message.contains("not allowed"), "{sql}: {message}");
    }
    assert_eq!(ledger.balance(campaign.id).await.unwrap().posted, eur("10"));
    assert!(ledger.verify().await.unwrap().is_ok());
    db.drop_database().await;
}

#[tokio::test]
async fn a_hold_changes_state_once_and_its_content_never() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    ledger
        .post(
            &NewTransaction::new(TransactionId::new_random())
                .debit(bank.id, eur("10"))
                .credit(campaign.id, eur("10")),
        )
        .await
        .unwrap();
    let id = zbor_ledger::HoldId::new_random();
    ledger
        .create_hold(&zbor_ledger::NewHold {
            id,
            debit: campaign.id,
            credit: bank.id,
            amount: eur("4"),
            expires_at: None,
            metadata: serde_json::json!({}),
        })
        .await
        .unwrap();
    let grow = format!("update ledger_holds set amount = 1 where id = '{id}'");
    assert!(refused(&db.pool, &grow).await.contains("immutable"));
    assert!(refused(
        &db.pool,
        &format!("delete from ledger_holds where id = '{id}'")
    )
    .await
    .contains("not allowed"));
    // A raw hold larger than what is available is refused at commit.
    let raw_hold = format!(
        "insert into ledger_holds (id, debit_account_id, credit_account_id, currency, amount, content_hash)
         values ('00000000-0000-0000-0000-0000000000aa', {}, {}, 'EUR', 6.01, '\\x{}')",
        campaign.id,
        bank.id,
        "00".repeat(32)
    );
    assert!(refused(&db.pool, &raw_hold).await.contains("overdrawn"));
    ledger.void_hold(id).await.unwrap();
    let reopen =
        format!("update ledger_holds set status = 'pending', resolved_at = null where id = '{id}'");
    assert!(refused(&db.pool, &reopen).await.contains("already voided"));
    db.drop_database().await;
}
