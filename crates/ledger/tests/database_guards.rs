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
    result.expect_err(&format!("the database accepted: {sql}")).to_string()
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
    assert!(refused(&db.pool, &unbalanced).await.contains("does not balance"));

    let single = format!(
        "insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-000000000002', {hash});
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-000000000002', {b}, 'EUR', 10.00);"
    );
    // refused by the statement check (a lone posting cannot balance) before the commit check
    let message = refused(&db.pool, &single).await;
    assert!(message.contains("does not balance") || message.contains("needs at least 2"), "{message}");

    let empty = format!("insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-000000000003', {hash});");
    assert!(refused(&db.pool, &empty).await.contains("has 0 posting(s)"));

    let wrong_currency = format!(
        "insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-000000000004', {hash});
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-000000000004', {b}, 'USD', 10.00),
           ('00000000-0000-0000-0000-000000000004', {c}, 'USD', -10.00);"
    );
    assert!(refused(&db.pool, &wrong_currency).await.contains("holds EUR, not USD"));

    let unknown_account = format!(
        "insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-000000000007', {hash});
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-000000000007', 999, 'EUR', 10.00),
           ('00000000-0000-0000-0000-000000000007', {c}, 'EUR', -10.00);"
    );
    assert!(refused(&db.pool, &unknown_account).await.contains("account 999 does not exist"));

    let too_fine = format!(
        "insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-000000000005', {hash});
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-000000000005', {b}, 'EUR', 0.001),
           ('00000000-0000-0000-0000-000000000005', {c}, 'EUR', -0.001);"
    );
    assert!(refused(&db.pool, &too_fine).await.contains("finer than EUR allows"));

    // A raw debit that would overdraw the non-negative campaign account.
    let not_a_number = format!(
        "insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-000000000008', {hash});
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-000000000008', {b}, 'EUR', 'NaN'),
           ('00000000-0000-0000-0000-000000000008', {c}, 'EUR', 'NaN');"
    );
    assert!(refused(&db.pool, &not_a_number).await.contains("check constraint"));

    // `set constraints all immediate` runs the balance check early; postings after it are refused.
    let checked_early = format!(
        "insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-000000000009', {hash});
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-000000000009', {b}, 'EUR', 10.00),
           ('00000000-0000-0000-0000-000000000009', {c}, 'EUR', -10.00);
         set constraints all immediate;
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-000000000009', {b}, 'EUR', 1000000);"
    );
    assert!(refused(&db.pool, &checked_early).await.contains("does not balance"));

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
async fn balance_shards_follow_postings_only() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    donate(&ledger, &bank, &campaign, "10").await;
    let c = campaign.id;
    for sql in [
        format!("insert into ledger_balance_shards (account_id, shard, debits, credits) values ({c}, 63, 0, 1000000)"),
        format!("update ledger_balance_shards set credits = credits + 1000000 where account_id = {c}"),
        format!("delete from ledger_balance_shards where account_id = {c}"),
        "truncate ledger_balance_shards".to_owned(),
    ] {
        let message = refused(&db.pool, &sql).await;
        assert!(message.contains("not allowed"), "{sql}: {message}");
    }
    assert_eq!(ledger.balance(campaign.id).await.unwrap().available, eur("10"));
    db.drop_database().await;
}

#[tokio::test]
async fn outflows_refuse_repeatable_read_where_the_lock_would_not_protect_them() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    donate(&ledger, &bank, &campaign, "100").await;
    let mut tx = db.pool.begin().await.unwrap();
    tx.execute("set transaction isolation level repeatable read").await.unwrap();
    let spend = NewTransaction::new(TransactionId::new_random())
        .debit(campaign.id, eur("100"))
        .credit(bank.id, eur("100"));
    let err = zbor_ledger::post_in(&mut tx, &spend).await.unwrap_err();
    assert!(err.to_string().contains("read committed or serializable"), "{err}");
    drop(tx);
    // Credits need no lock and work under any isolation level.
    let mut tx = db.pool.begin().await.unwrap();
    tx.execute("set transaction isolation level repeatable read").await.unwrap();
    let credit = NewTransaction::new(TransactionId::new_random())
        .debit(bank.id, eur("1"))
        .credit(campaign.id, eur("1"));
    zbor_ledger::post_in(&mut tx, &credit).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ledger.balance(campaign.id).await.unwrap().available, eur("101"));
    db.drop_database().await;
}

#[tokio::test]
async fn history_cannot_be_updated_deleted_or_truncated() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    donate(&ledger, &bank, &campaign, "10").await;
    ledger.seal_all().await.unwrap();
    // A balanced pair added to the committed transaction later would still balance; refused anyway.
    let extend = format!(
        "insert into ledger_postings (transaction_id, account_id, currency, amount)
         select id, {b}, 'EUR', 5 from ledger_transactions
         union all select id, {c}, 'EUR', -5 from ledger_transactions",
        b = bank.id,
        c = campaign.id
    );
    assert!(refused(&db.pool, &extend).await.contains("postings are final"));
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
    donate(&ledger, &bank, &campaign, "10").await;
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
    assert!(refused(&db.pool, &format!("delete from ledger_holds where id = '{id}'"))
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
    // Marking the hold posted against a transaction that does not move its money is refused.
    let donation: uuid::Uuid =
        sqlx::query_scalar("select id from ledger_transactions limit 1").fetch_one(&db.pool).await.unwrap();
    let fake_post = format!(
        "update ledger_holds set status = 'posted', posted_amount = 4, resolved_transaction_id = '{donation}',
                resolved_at = now() where id = '{id}'"
    );
    assert!(refused(&db.pool, &fake_post).await.contains("does not move"));
    let nan_hold = format!(
        "insert into ledger_holds (id, debit_account_id, credit_account_id, currency, amount, content_hash)
         values ('00000000-0000-0000-0000-0000000000ab', {}, {}, 'EUR', 'NaN', '\\x{}')",
        campaign.id,
        bank.id,
        "00".repeat(32)
    );
    assert!(refused(&db.pool, &nan_hold).await.contains("check constraint"));
    ledger.void_hold(id).await.unwrap();
    let reopen = format!("update ledger_holds set status = 'pending', resolved_at = null where id = '{id}'");
    assert!(refused(&db.pool, &reopen).await.contains("already voided"));
    db.drop_database().await;
}

#[tokio::test]
async fn posting_a_hold_skips_the_outflow_lock_but_never_the_guard() {
    let (db, ledger) = setup(6).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    donate(&ledger, &bank, &campaign, "10").await;
    let hold = |amount: &str| zbor_ledger::NewHold {
        id: zbor_ledger::HoldId::new_random(),
        debit: campaign.id,
        credit: bank.id,
        amount: eur(amount),
        expires_at: None,
        metadata: serde_json::json!({}),
    };
    let reserved = hold("4");
    ledger.create_hold(&reserved).await.unwrap();

    // another transaction is creating a hold: it holds the campaign's outflow lock, uncommitted
    let mut blocker = db.pool.begin().await.unwrap();
    zbor_ledger::create_hold_in(&mut blocker, &hold("1")).await.unwrap();
    // posting the reserved hold does not wait for it: the reservation already counted
    let posting = ledger.post_hold(reserved.id, None, TransactionId::new_random(), serde_json::json!({}));
    tokio::time::timeout(std::time::Duration::from_secs(5), posting)
        .await
        .expect("a hold's posting waited for another transaction's outflow lock")
        .unwrap();
    // a plain outflow still waits for the lock (and then for the funds check)
    let plain = NewTransaction::new(TransactionId::new_random())
        .debit(campaign.id, eur("1"))
        .credit(bank.id, eur("1"));
    let waiting = {
        let ledger = ledger.clone();
        tokio::spawn(async move { ledger.post(&plain).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "an outflow not covered by a hold takes the lock");
    blocker.rollback().await.unwrap();
    waiting.await.unwrap().unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    assert_eq!(zbor_ledger::balance(&mut conn, campaign.id).await.unwrap().posted, eur("5"));
    drop(conn);

    // raw SQL cannot use a posted hold to move more than it reserved, or anything else
    let small = hold("2");
    ledger.create_hold(&small).await.unwrap();
    let hash = "'\\x0000000000000000000000000000000000000000000000000000000000000000'";
    let over = format!(
        "update ledger_holds set status = 'posted', posted_amount = 2, resolved_transaction_id = '00000000-0000-0000-0000-0000000000c1',
                resolved_at = now() where id = '{}';
         insert into ledger_transactions (id, content_hash) values ('00000000-0000-0000-0000-0000000000c1', {hash});
         insert into ledger_postings (transaction_id, account_id, currency, amount) values
           ('00000000-0000-0000-0000-0000000000c1', {c}, 'EUR', 50.00),
           ('00000000-0000-0000-0000-0000000000c1', {b}, 'EUR', -50.00);",
        small.id,
        c = campaign.id,
        b = bank.id
    );
    let message = refused(&db.pool, &over).await;
    assert!(message.contains("overdrawn") || message.contains("does not move"), "{message}");
    let mut conn = db.pool.acquire().await.unwrap();
    let balance = zbor_ledger::balance(&mut conn, campaign.id).await.unwrap();
    assert_eq!((balance.posted, balance.available), (eur("5"), eur("3")));
    drop(conn);
    assert!(zbor_ledger::verify(&db.pool).await.unwrap().is_ok());
    db.drop_database().await;
}
