#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The real server on port 0 against real PostgreSQL and Redis.

mod common;

use common::*;
use zbor_ledger::{AccountKind, Currency, Ledger, Money, NewAccount, NewTransaction, TransactionId};

#[tokio::test]
async fn health_reports_both_stores() {
    let app = start(None).await;
    assert_eq!(app.get("/health/live", None).await.0, 200);
    let (status, body) = app.get("/health/ready", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["postgres"], "ok");
    assert_eq!(body["redis"], "ok");
    app.finish().await;
}

#[tokio::test]
async fn ledger_endpoints_need_the_admin_token_and_show_balances() {
    let app = start(None).await;
    for path in ["/api/v1/ledger/accounts", "/api/v1/ledger/accounts/x", "/api/v1/ledger/verify"] {
        for token in [None, Some("wrong"), Some("")] {
            let (status, body) = app.get(path, token).await;
            assert_eq!(status, 401, "{path} {token:?}");
            assert_eq!(body["error"]["code"], "unauthorized");
        }
    }

    let ledger = Ledger::new(app.db.pool.clone());
    let eur = Currency::parse("EUR").unwrap();
    let new = |code: &str, kind| NewAccount { code: code.into(), kind, currency: eur, non_negative: false };
    let bank = ledger.create_account(&new("stripe:balance", AccountKind::Asset)).await.unwrap();
    let campaign = ledger.create_account(&new("campaign:release-123", AccountKind::Liability)).await.unwrap();
    let amount = Money::parse("123000", eur).unwrap();
    let tx =
        NewTransaction::new(TransactionId::new_random()).debit(bank.id, amount).credit(campaign.id, amount);
    ledger.post(&tx).await.unwrap();

    let (status, body) = app.get("/api/v1/ledger/accounts/campaign:release-123", Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(body["balance"]["posted"]["amount"], "123000.00");
    assert_eq!(body["balance"]["available"]["currency"], "EUR");
    let (status, body) = app.get("/api/v1/ledger/accounts", Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(body["accounts"].as_array().unwrap().len(), 2);

    let (status, body) = app.get("/api/v1/ledger/accounts/no-such-account", Some(TOKEN)).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");

    let (status, body) = app.get("/api/v1/ledger/verify", Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(body["ok"], true);
    assert_eq!(body["report"]["transactions"], 1);
    app.finish().await;
}

#[tokio::test]
async fn bad_path_and_query_parameters_answer_in_the_apis_error_shape() {
    let app = start(None).await;
    for (path, code) in [
        ("/api/v1/payout-batches/abc", "invalid_path"),
        ("/api/v1/payouts/99999999999999999999", "invalid_path"),
        ("/api/v1/sepa-files/1.5", "invalid_path"),
        ("/api/v1/payout-batches?limit=many", "invalid_query"),
        ("/api/v1/payout-batches?limit=501", "invalid_query"),
        ("/api/v1/payout-batches?limit=0", "invalid_query"),
    ] {
        let (status, body) = app.get(path, Some(TOKEN)).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{path}: {body}");
    }
    // well-formed but unknown: still a 404 in the same shape
    let (status, body) = app.get("/api/v1/payout-batches/123456", Some(TOKEN)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")), "{body}");
    app.finish().await;
}
