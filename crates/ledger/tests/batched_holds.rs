#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Holds made and posted many at a time (`create_holds_in`, `post_holds_in`) behave as made and
//! posted one at a time: the same refusals with nothing written, the same repeats and conflicts,
//! the same content hashes; and the database refuses an overdrawing multi-row insert by itself.

mod common;

use common::*;
use serde_json::json;
use sqlx::Executor;
use zbor_ledger::{Error, HoldId, HoldPost, HoldStatus, NewHold, Outcome, TransactionId};

fn holds(debit: &zbor_ledger::Account, credit: &zbor_ledger::Account, amounts: &[&str]) -> Vec<NewHold> {
    amounts
        .iter()
        .enumerate()
        .map(|(n, amount)| NewHold {
            id: HoldId::derived_from(&format!("batched:{n}")),
            debit: debit.id,
            credit: credit.id,
            amount: eur(amount),
            expires_at: None,
            metadata: json!({ "kind": "payout", "payout": n }),
        })
        .collect()
}

#[tokio::test]
async fn holds_that_overdraw_together_are_refused_with_nothing_written() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    donate(&ledger, &bank, &campaign, "10").await;

    // each fits on its own (4 ≤ 10), the three together (12) do not
    let batch = holds(&campaign, &bank, &["4", "4", "4"]);
    let mut tx = db.pool.begin().await.unwrap();
    let refused = zbor_ledger::create_holds_in(&mut tx, &batch).await;
    let Err(Error::InsufficientFunds { account, available, requested }) = refused else {
        panic!("not refused: {refused:?}");
    };
    assert_eq!((account, available.as_str(), requested.as_str()), (campaign.id, "10.00", "12.00"));
    tx.rollback().await.unwrap();
    assert_eq!(count(&db, "ledger_holds").await, 0, "nothing held");
    let balance = ledger.balance(campaign.id).await.unwrap();
    assert_eq!((balance.posted, balance.available), (eur("10"), eur("10")));

    // exactly what is available fits
    let fitting = holds(&campaign, &bank, &["4", "4", "2"]);
    let mut tx = db.pool.begin().await.unwrap();
    let outcomes = zbor_ledger::create_holds_in(&mut tx, &fitting).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(outcomes, vec![Outcome::Created; 3]);
    assert_eq!(ledger.balance(campaign.id).await.unwrap().available, eur("0"));
    db.drop_database().await;
}

#[tokio::test]
async fn a_retry_already_existed_and_different_content_is_a_conflict() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    donate(&ledger, &bank, &campaign, "100").await;
    let batch = holds(&campaign, &bank, &["10", "20", "30"]);
    let mut tx = db.pool.begin().await.unwrap();
    assert_eq!(zbor_ledger::create_holds_in(&mut tx, &batch).await.unwrap(), vec![Outcome::Created; 3]);
    tx.commit().await.unwrap();

    // the same holds again: nothing new, also after the funds they took are gone
    let mut tx = db.pool.begin().await.unwrap();
    assert_eq!(
        zbor_ledger::create_holds_in(&mut tx, &batch).await.unwrap(),
        vec![Outcome::AlreadyExisted; 3]
    );
    tx.commit().await.unwrap();
    // one by one, the single path recognises the batch's holds: the same content hashes
    for hold in &batch {
        assert_eq!(ledger.create_hold(hold).await.unwrap(), Outcome::AlreadyExisted);
    }
    // a retry with one hold more: the new one is made, the others already existed
    let mut more = batch.clone();
    more.extend(holds(&campaign, &bank, &["1", "1", "1", "5"]).into_iter().skip(3));
    let mut tx = db.pool.begin().await.unwrap();
    let outcomes = zbor_ledger::create_holds_in(&mut tx, &more).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(outcomes, [vec![Outcome::AlreadyExisted; 3], vec![Outcome::Created]].concat());

    // an id made before with other content: refused, and nothing of the call is kept
    let mut conflicting = holds(&campaign, &bank, &["10", "21"]);
    conflicting.push(NewHold { id: HoldId::new_random(), ..conflicting[0].clone() });
    let mut tx = db.pool.begin().await.unwrap();
    let refused = zbor_ledger::create_holds_in(&mut tx, &conflicting).await;
    assert!(matches!(refused, Err(Error::HoldConflict(id)) if id == conflicting[1].id), "{refused:?}");
    tx.rollback().await.unwrap();
    // the same id twice in one call with different content
    let twice = vec![conflicting[2].clone(), NewHold { amount: eur("2"), ..conflicting[2].clone() }];
    let mut tx = db.pool.begin().await.unwrap();
    let refused = zbor_ledger::create_holds_in(&mut tx, &twice).await;
    assert!(matches!(refused, Err(Error::HoldConflict(_))), "{refused:?}");
    tx.rollback().await.unwrap();
    assert_eq!(count(&db, "ledger_holds").await, 4);
    assert_eq!(ledger.balance(campaign.id).await.unwrap().available, eur("35"));
    db.drop_database().await;
}

#[tokio::test]
async fn the_database_refuses_an_overdrawing_multi_row_insert_by_itself() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    donate(&ledger, &bank, &campaign, "10").await;
    // raw SQL, no Rust check: two holds of 6.00 in one statement against 10.00
    let raw = format!(
        "insert into ledger_holds (id, debit_account_id, credit_account_id, currency, amount, content_hash)
         values ('00000000-0000-0000-0000-0000000000a1', {c}, {b}, 'EUR', 6.00, '\\x{h}'),
                ('00000000-0000-0000-0000-0000000000a2', {c}, {b}, 'EUR', 6.00, '\\x{h}')",
        c = campaign.id,
        b = bank.id,
        h = "00".repeat(32)
    );
    let mut tx = db.pool.begin().await.unwrap();
    let refused = tx.execute(raw.as_str()).await.expect_err("the database accepted an overdraw");
    assert!(refused.to_string().contains("overdrawn"), "{refused}");
    drop(tx);
    assert_eq!(count(&db, "ledger_holds").await, 0);
    db.drop_database().await;
}

#[tokio::test]
async fn holds_posted_together_book_once_each() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    donate(&ledger, &bank, &campaign, "100").await;
    let batch = holds(&campaign, &bank, &["10", "20", "30"]);
    let mut tx = db.pool.begin().await.unwrap();
    zbor_ledger::create_holds_in(&mut tx, &batch).await.unwrap();
    tx.commit().await.unwrap();

    let posts: Vec<HoldPost> = batch
        .iter()
        .enumerate()
        .map(|(n, hold)| HoldPost {
            hold: hold.id,
            // the last one partly: the rest is released
            amount: (n == 2).then(|| eur("25")),
            transaction: TransactionId::derived_from(&format!("batched:{n}:paid")),
            metadata: json!({ "kind": "payout", "payout": n, "reference": format!("tr_{n}") }),
        })
        .collect();
    let mut tx = db.pool.begin().await.unwrap();
    assert_eq!(zbor_ledger::post_holds_in(&mut tx, &posts).await.unwrap(), vec![Outcome::Created; 3]);
    tx.commit().await.unwrap();
    let balance = ledger.balance(campaign.id).await.unwrap();
    assert_eq!((balance.posted, balance.available), (eur("45"), eur("45")));
    for hold in &batch {
        assert_eq!(ledger.hold(hold.id).await.unwrap().status, HoldStatus::Posted);
    }

    // again: nothing new; one by one, the same; with other content, a conflict
    let mut tx = db.pool.begin().await.unwrap();
    assert_eq!(zbor_ledger::post_holds_in(&mut tx, &posts).await.unwrap(), vec![Outcome::AlreadyExisted; 3]);
    tx.commit().await.unwrap();
    let first = &posts[0];
    assert_eq!(
        ledger.post_hold(first.hold, first.amount, first.transaction, first.metadata.clone()).await.unwrap(),
        Outcome::AlreadyExisted
    );
    let changed = HoldPost { metadata: json!({ "kind": "other" }), ..posts[1].clone() };
    let mut tx = db.pool.begin().await.unwrap();
    let refused = zbor_ledger::post_holds_in(&mut tx, &[changed]).await;
    assert!(matches!(refused, Err(Error::TransactionConflict(_))), "{refused:?}");
    drop(tx);
    // a post under another transaction id of a hold posted already
    let again = HoldPost { transaction: TransactionId::new_random(), ..posts[1].clone() };
    let mut tx = db.pool.begin().await.unwrap();
    let refused = zbor_ledger::post_holds_in(&mut tx, &[again]).await;
    assert!(matches!(refused, Err(Error::HoldNotPending { .. })), "{refused:?}");
    drop(tx);
    // one transaction id for two holds is refused before anything is written
    let more = holds(&campaign, &bank, &["1", "1", "1", "1", "1"]).split_off(3);
    let mut tx = db.pool.begin().await.unwrap();
    zbor_ledger::create_holds_in(&mut tx, &more).await.unwrap();
    tx.commit().await.unwrap();
    let shared = TransactionId::new_random();
    let sharing: Vec<HoldPost> = more
        .iter()
        .map(|hold| HoldPost { hold: hold.id, amount: None, transaction: shared, metadata: json!({}) })
        .collect();
    let mut tx = db.pool.begin().await.unwrap();
    let refused = zbor_ledger::post_holds_in(&mut tx, &sharing).await;
    assert!(matches!(refused, Err(Error::TransactionConflict(id)) if id == shared), "{refused:?}");
    drop(tx);
    ledger.seal_all().await.unwrap();
    assert!(ledger.verify().await.unwrap().is_ok());
    assert_eq!(count(&db, "ledger_transactions").await, 4, "the donation and three posts");
    db.drop_database().await;
}
