#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Behaviour of the ledger against a real PostgreSQL: bookings, bad input, idempotency, holds.

mod common;

/// Which error a bad request must get.
type Expected = fn(&Error) -> bool;

use common::*;
use serde_json::json;
use zbor_errors::Classified;
use zbor_ledger::{
    AccountId, AccountKind, Currency, Error, HoldId, HoldStatus, Money, NewAccount, NewHold, NewTransaction,
    Outcome, TransactionId,
};

#[tokio::test]
async fn a_donation_moves_balances_in_their_normal_direction() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    let tx = NewTransaction::new(TransactionId::new_random())
        .debit(bank.id, eur("25.00"))
        .credit(campaign.id, eur("25.00"))
        .metadata(json!({ "kind": "donation" }));
    assert_eq!(ledger.post(&tx).await.unwrap(), Outcome::Created);

    let b = ledger.balance(campaign.id).await.unwrap();
    assert_eq!((b.posted, b.available, b.credits, b.debits), (eur("25"), eur("25"), eur("25"), eur("0")));
    let b = ledger.balance(bank.id).await.unwrap();
    assert_eq!((b.posted, b.debits), (eur("25"), eur("25")));
    assert_eq!(count(&db, "ledger_postings").await, 2);
    db.drop_database().await;
}

#[tokio::test]
async fn the_same_id_books_once_and_different_content_under_it_is_a_conflict() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    let id = TransactionId::derived_from("cs_test_123");
    let tx = NewTransaction::new(id).debit(bank.id, eur("10")).credit(campaign.id, eur("10"));
    assert_eq!(ledger.post(&tx).await.unwrap(), Outcome::Created);
    assert_eq!(ledger.post(&tx).await.unwrap(), Outcome::AlreadyExisted);
    // Equal content written differently (10 vs 10.00, other key order) is the same transaction.
    let same = NewTransaction::new(id).credit(campaign.id, eur("10.00")).debit(bank.id, eur("10"));
    assert_eq!(ledger.post(&same).await.unwrap(), Outcome::AlreadyExisted);

    let different = NewTransaction::new(id).debit(bank.id, eur("11")).credit(campaign.id, eur("11"));
    assert!(matches!(ledger.post(&different).await, Err(Error::TransactionConflict(c)) if c == id));
    let with_other_metadata = tx.clone().metadata(json!({ "note": "x" }));
    assert!(matches!(ledger.post(&with_other_metadata).await, Err(Error::TransactionConflict(_))));

    assert_eq!(ledger.balance(campaign.id).await.unwrap().posted, eur("10"));
    assert_eq!(count(&db, "ledger_transactions").await, 1);
    db.drop_database().await;
}

#[tokio::test]
async fn bad_requests_get_typed_errors_and_write_nothing() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    let usd_account = ledger
        .create_account(&NewAccount {
            code: "usd:cash".into(),
            kind: AccountKind::Asset,
            currency: Currency::parse("USD").unwrap(),
            non_negative: false,
        })
        .await
        .unwrap();
    let usd = |s: &str| Money::parse(s, Currency::parse("USD").unwrap()).unwrap();
    let t = || NewTransaction::new(TransactionId::new_random());

    let cases: Vec<(&str, NewTransaction, Expected)> = vec![
        ("unbalanced", t().debit(bank.id, eur("10")).credit(campaign.id, eur("9.99")), |e| {
            matches!(e, Error::Unbalanced { .. })
        }),
        ("one posting", t().debit(bank.id, eur("10")), |e| matches!(e, Error::PostingCount { .. })),
        ("no postings", t(), |e| matches!(e, Error::PostingCount { .. })),
        ("zero", t().debit(bank.id, eur("0")).credit(campaign.id, eur("0")), |e| {
            matches!(e, Error::ZeroPosting)
        }),
        ("negative", t().debit(bank.id, eur("-5")).credit(campaign.id, eur("-5")), |e| {
            matches!(e, Error::NotPositive(_))
        }),
        ("mixed currencies", t().debit(bank.id, eur("1")).credit(usd_account.id, usd("1")), |e| {
            matches!(e, Error::Unbalanced { .. })
        }),
        (
            "wrong currency for account",
            t().debit(usd_account.id, eur("1")).credit(campaign.id, eur("1")),
            |e| matches!(e, Error::AccountCurrency { .. }),
        ),
        (
            "unknown account",
            t().debit(AccountId::from_i64(999_999), eur("1")).credit(campaign.id, eur("1")),
            |e| matches!(e, Error::AccountNotFound(_)),
        ),
        ("same account twice", t().debit(bank.id, eur("1")).credit(bank.id, eur("1")), |e| {
            matches!(e, Error::DuplicateAccount(_))
        }),
        (
            "metadata not an object",
            t().debit(bank.id, eur("1")).credit(campaign.id, eur("1")).metadata(json!("x")),
            |e| matches!(e, Error::InvalidMetadata { .. }),
        ),
        (
            "overdraws a non-negative account",
            t().debit(campaign.id, eur("1")).credit(bank.id, eur("1")),
            |e| matches!(e, Error::InsufficientFunds { .. }),
        ),
    ];
    for (name, tx, expected) in cases {
        let err = ledger.post(&tx).await.expect_err(name);
        assert!(expected(&err), "{name}: got {err:?}");
        assert!(err.is_client_error(), "{name}");
    }
    // Amounts finer than the currency cannot even be constructed.
    assert!(matches!(Money::parse("1.001", Currency::parse("EUR").unwrap()), Err(Error::TooPrecise { .. })));
    assert!(matches!(Currency::parse("XYZ"), Err(Error::UnknownCurrency(_))));

    for table in ["ledger_transactions", "ledger_postings", "ledger_balance_shards", "ledger_unsealed"] {
        assert_eq!(count(&db, table).await, 0, "{table}");
    }
    db.drop_database().await;
}

#[tokio::test]
async fn accounts_are_unique_by_code_and_validated() {
    let (db, ledger) = setup(4).await;
    let new = NewAccount {
        code: "campaign:a".into(),
        kind: AccountKind::Liability,
        currency: Currency::parse("EUR").unwrap(),
        non_negative: true,
    };
    let first = ledger.create_account(&new).await.unwrap();
    assert!(matches!(ledger.create_account(&new).await, Err(Error::AccountCodeTaken(_))));
    assert_eq!(ledger.ensure_account(&new).await.unwrap(), first);
    let changed = NewAccount { non_negative: false, ..new.clone() };
    assert!(matches!(ledger.ensure_account(&changed).await, Err(Error::AccountCodeTaken(_))));
    let bad = NewAccount { code: "Campaign A".into(), ..new };
    assert!(matches!(ledger.create_account(&bad).await, Err(Error::InvalidAccountCode(_))));
    assert_eq!(count(&db, "ledger_accounts").await, 1);
    db.drop_database().await;
}

#[tokio::test]
async fn holds_reserve_then_post_partly_void_or_expire() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    let payable = account(&ledger, "payouts:in-transit", AccountKind::Liability, false).await;
    donate(&ledger, &bank, &campaign, "100").await;
    let hold = |id: HoldId, amount: &str| NewHold {
        id,
        debit: campaign.id,
        credit: payable.id,
        amount: eur(amount),
        expires_at: None,
        metadata: json!({}),
    };

    // Reserve 60: available drops, posted does not.
    let h1 = HoldId::new_random();
    assert_eq!(ledger.create_hold(&hold(h1, "60")).await.unwrap(), Outcome::Created);
    assert_eq!(ledger.create_hold(&hold(h1, "60")).await.unwrap(), Outcome::AlreadyExisted);
    assert!(matches!(ledger.create_hold(&hold(h1, "61")).await, Err(Error::HoldConflict(_))));
    let b = ledger.balance(campaign.id).await.unwrap();
    assert_eq!((b.posted, b.pending_outflow, b.available), (eur("100"), eur("60"), eur("40")));

    // 41 more does not fit.
    assert!(matches!(
        ledger.create_hold(&hold(HoldId::new_random(), "41")).await,
        Err(Error::InsufficientFunds { .. })
    ));
    // Neither does a plain debit of 41.
    let debit41 = NewTransaction::new(TransactionId::new_random())
        .debit(campaign.id, eur("41"))
        .credit(payable.id, eur("41"));
    assert!(matches!(ledger.post(&debit41).await, Err(Error::InsufficientFunds { .. })));

    // Post 55 of the 60: 5 is released.
    let post_tx = TransactionId::derived_from("payout-1");
    assert!(matches!(
        ledger.post_hold(h1, Some(eur("60.01")), post_tx, json!({})).await,
        Err(Error::HoldExceeded { .. })
    ));
    assert_eq!(ledger.post_hold(h1, Some(eur("55")), post_tx, json!({})).await.unwrap(), Outcome::Created);
    assert_eq!(
        ledger.post_hold(h1, Some(eur("55")), post_tx, json!({})).await.unwrap(),
        Outcome::AlreadyExisted
    );
    assert!(matches!(ledger.void_hold(h1).await, Err(Error::HoldNotPending { .. })));
    let b = ledger.balance(campaign.id).await.unwrap();
    assert_eq!((b.posted, b.pending_outflow, b.available), (eur("45"), eur("0"), eur("45")));
    assert_eq!(ledger.balance(payable.id).await.unwrap().posted, eur("55"));
    let stored = ledger.hold(h1).await.unwrap();
    assert_eq!((stored.status, stored.posted_amount), (HoldStatus::Posted, Some(eur("55"))));

    // Void releases everything; voiding twice is a no-op; posting after void is refused.
    let h2 = HoldId::new_random();
    ledger.create_hold(&hold(h2, "45")).await.unwrap();
    assert_eq!(ledger.balance(campaign.id).await.unwrap().available, eur("0"));
    assert_eq!(ledger.void_hold(h2).await.unwrap(), Outcome::Created);
    assert_eq!(ledger.void_hold(h2).await.unwrap(), Outcome::AlreadyExisted);
    assert!(matches!(
        ledger.post_hold(h2, None, TransactionId::new_random(), json!({})).await,
        Err(Error::HoldNotPending { .. })
    ));
    assert_eq!(ledger.balance(campaign.id).await.unwrap().available, eur("45"));

    // Expiry: stops counting at expires_at, cannot be posted after, is marked by expire_holds.
    let h3 = HoldId::new_random();
    let soon = chrono::Utc::now() + chrono::Duration::milliseconds(700);
    ledger.create_hold(&NewHold { expires_at: Some(soon), ..hold(h3, "45") }).await.unwrap();
    assert_eq!(ledger.balance(campaign.id).await.unwrap().available, eur("0"));
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    assert_eq!(ledger.balance(campaign.id).await.unwrap().available, eur("45"));
    assert!(matches!(
        ledger.post_hold(h3, None, TransactionId::new_random(), json!({})).await,
        Err(Error::HoldExpired(_))
    ));
    assert_eq!(ledger.expire_holds().await.unwrap(), 1);
    assert_eq!(ledger.hold(h3).await.unwrap().status, HoldStatus::Expired);
    let past = NewHold { expires_at: Some(chrono::Utc::now()), ..hold(HoldId::new_random(), "1") };
    assert!(matches!(ledger.create_hold(&past).await, Err(Error::ExpiryInPast)));
    assert!(matches!(ledger.hold(HoldId::new_random()).await, Err(Error::HoldNotFound(_))));

    assert!(ledger.verify().await.unwrap().is_ok());
    db.drop_database().await;
}

#[tokio::test]
async fn holds_refuse_bad_input_and_write_nothing() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    let base = NewHold {
        id: HoldId::new_random(),
        debit: campaign.id,
        credit: bank.id,
        amount: eur("1"),
        expires_at: None,
        metadata: json!({}),
    };
    let cases: Vec<(&str, NewHold, Expected)> = vec![
        ("zero", NewHold { amount: eur("0"), ..base.clone() }, |e| matches!(e, Error::NotPositive(_))),
        ("negative", NewHold { amount: eur("-1"), ..base.clone() }, |e| matches!(e, Error::NotPositive(_))),
        ("same account", NewHold { credit: campaign.id, ..base.clone() }, |e| {
            matches!(e, Error::SameAccount)
        }),
        ("unknown account", NewHold { credit: AccountId::from_i64(424_242), ..base.clone() }, |e| {
            matches!(e, Error::AccountNotFound(_))
        }),
        (
            "currency",
            NewHold { amount: Money::parse("1", Currency::parse("USD").unwrap()).unwrap(), ..base.clone() },
            |e| matches!(e, Error::AccountCurrency { .. }),
        ),
        ("unfunded", base.clone(), |e| matches!(e, Error::InsufficientFunds { .. })),
    ];
    for (name, hold, expected) in cases {
        let err = ledger.create_hold(&hold).await.expect_err(name);
        assert!(expected(&err), "{name}: {err:?}");
    }
    assert_eq!(count(&db, "ledger_holds").await, 0);
    db.drop_database().await;
}

#[tokio::test]
async fn the_database_knows_the_same_currencies_as_the_code() {
    let (db, _ledger) = setup(2).await;
    let rows: Vec<(String, i16)> =
        sqlx::query_as("select code, minor_units from ledger_currencies order by code")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let mut code: Vec<(String, i16)> =
        Currency::all().map(|c| (c.code().to_owned(), i16::try_from(c.minor_units()).unwrap())).collect();
    code.sort();
    assert_eq!(rows, code);
    db.drop_database().await;
}

#[tokio::test]
async fn retries_of_hold_operations_are_recognised() {
    let (db, ledger) = setup(4).await;
    let (bank, campaign) = bank_and_campaign(&ledger).await;
    donate(&ledger, &bank, &campaign, "100").await;
    // A hold created with a short expiry, retried after that expiry: still "already existed".
    let id = HoldId::new_random();
    let hold = NewHold {
        id,
        debit: campaign.id,
        credit: bank.id,
        amount: eur("10"),
        expires_at: Some(chrono::Utc::now() + chrono::Duration::milliseconds(300)),
        metadata: json!({ "batch": 1 }),
    };
    ledger.create_hold(&hold).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(ledger.create_hold(&hold).await.unwrap(), Outcome::AlreadyExisted);

    // A post retried with the same transaction id but other metadata is a conflict, not a repeat.
    let id = HoldId::new_random();
    ledger.create_hold(&NewHold { id, expires_at: None, ..hold.clone() }).await.unwrap();
    let tx = TransactionId::derived_from("payout-7");
    ledger.post_hold(id, None, tx, json!({ "rail": "sepa" })).await.unwrap();
    assert_eq!(
        ledger.post_hold(id, None, tx, json!({ "rail": "sepa" })).await.unwrap(),
        Outcome::AlreadyExisted
    );
    assert!(matches!(
        ledger.post_hold(id, None, tx, json!({ "rail": "stripe" })).await,
        Err(Error::TransactionConflict(_))
    ));
    assert!(matches!(
        ledger.post_hold(id, None, TransactionId::new_random(), json!({})).await,
        Err(Error::HoldNotPending { .. })
    ));
    // Metadata that jsonb would rewrite is refused up front, so verify never sees a false mismatch.
    let floaty = NewTransaction::new(TransactionId::new_random())
        .debit(bank.id, eur("1"))
        .credit(campaign.id, eur("1"))
        .metadata(json!({ "rate": 1e16 }));
    assert!(matches!(ledger.post(&floaty).await, Err(Error::InvalidMetadata { .. })));
    ledger.seal_all().await.unwrap();
    assert!(ledger.verify().await.unwrap().is_ok());
    db.drop_database().await;
}
