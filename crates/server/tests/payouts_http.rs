#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Payout batches over HTTP: a treasurer creates, two others approve, each with a fresh one-time
//! code; the creator and a replayed code are refused; every step is in the audit log.

mod common;

use chrono::Utc;
use common::*;
use serde_json::{json, Value};
use zbor_auth::{totp, Role};
use zbor_ledger::{NewTransaction, TransactionId};
use zbor_vault::DataKey;

const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const PASSWORD: &str = "correct horse battery staple";

struct Treasurer {
    cookie: String,
    csrf: String,
    secret: Vec<u8>,
}

async fn post(app: &Running, path: &str, body: Value, who: &Treasurer) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// Adds a treasurer, enrols their second factor (the way the app does it) and logs in with a code.
async fn treasurer(app: &Running, key: &DataKey, email: &str) -> Treasurer {
    let user = zbor_auth::add_user(&app.db.pool, key, email, Role::Treasurer, PASSWORD).await.unwrap();
    let enrolment = zbor_auth::begin_totp_enrolment(&app.db.pool, key, user.id).await.unwrap();
    let secret = totp::base32_decode(&enrolment.secret).unwrap();
    let earlier = Utc::now() - chrono::Duration::seconds(30);
    zbor_auth::confirm_totp(
        &app.db.pool,
        key,
        user.id,
        &totp::code(&secret, totp::step_at(earlier.timestamp())),
        earlier,
    )
    .await
    .unwrap();
    let now_code = totp::code(&secret, totp::step_at(Utc::now().timestamp()));
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({ "email": email, "password": PASSWORD, "totp": now_code }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    Treasurer { cookie, csrf: body["csrf_token"].as_str().unwrap().to_owned(), secret }
}

/// The next code of the app: one step ahead, as codes are single-use per step.
fn next_code(who: &Treasurer) -> String {
    totp::code(&who.secret, totp::step_at(Utc::now().timestamp()) + 1)
}

#[tokio::test]
async fn two_treasurers_approve_with_fresh_codes_and_funds_are_held() {
    let app = start_with(Some(WEBHOOK_SECRET), |c| c.data_key = Some(DATA_KEY.into())).await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    let campaign = json!({"slug": "release-123", "title": "Release", "currency": "EUR", "goal": "123000"});
    let (_, created) = app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await;
    // funds arrived
    let mut conn = app.db.pool.acquire().await.unwrap();
    let stripe = zbor_ledger::account_by_code(&mut *conn, "stripe:balance:eur").await.unwrap();
    let funds = zbor_ledger::Money::parse("3000", zbor_ledger::Currency::parse("EUR").unwrap()).unwrap();
    let campaign_account = zbor_ledger::account_by_code(&mut *conn, "campaign:release-123").await.unwrap();
    let tx = NewTransaction::new(TransactionId::derived_from("funds"))
        .debit(stripe.id, funds)
        .credit(campaign_account.id, funds);
    zbor_ledger::post_in(&mut conn, &tx).await.unwrap();
    drop(conn);
    let campaign_id = created["id"].as_i64().unwrap();
    let mut people = Vec::new();
    for n in 0..3 {
        let new = serde_json::from_value(
            json!({"name": format!("Person {n}"), "contact": "", "note": "", "method": {"kind": "manual"}}),
        )
        .unwrap();
        people.push(
            zbor_payouts::beneficiaries::create(&app.db.pool, &key, campaign_id, &new)
                .await
                .unwrap()
                .id
                .as_i64(),
        );
    }
    let alice = treasurer(&app, &key, "alice@example.org").await;
    let bob = treasurer(&app, &key, "bob@example.org").await;
    let carol = treasurer(&app, &key, "carol@example.org").await;

    let items: Vec<Value> = people.iter().map(|p| json!({"beneficiary": p, "amount": "1000"})).collect();
    let (status, batch) =
        post(&app, "/api/v1/campaigns/release-123/payout-batches", json!({"items": items}), &alice).await;
    assert_eq!(status, 201, "{batch}");
    let id = batch["id"].as_i64().unwrap();
    let hash = batch["content_hash"].as_str().unwrap().to_owned();
    let approvals = format!("/api/v1/payout-batches/{id}/approvals");

    let (status, error) =
        post(&app, &approvals, json!({"content_hash": hash, "totp": next_code(&alice)}), &alice).await;
    assert_eq!((status, error["error"]["code"].as_str()), (403, Some("forbidden")), "the creator: {error}");
    let (status, _) = post(&app, &approvals, json!({"content_hash": hash, "totp": "000000"}), &bob).await;
    assert_eq!(status, 401, "a wrong code");
    let code = next_code(&bob);
    let (status, answer) = post(&app, &approvals, json!({"content_hash": hash, "totp": code}), &bob).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("approved")), "{answer}");
    let (status, _) = post(&app, &approvals, json!({"content_hash": hash, "totp": code}), &carol).await;
    assert_eq!(status, 401, "carol's app shows another code; bob's is not hers");
    let (status, answer) =
        post(&app, &approvals, json!({"content_hash": hash, "totp": next_code(&carol)}), &carol).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("released")), "{answer}");
    assert_eq!(answer["batch"]["status"], "approved");

    let (status, account) = app.get("/api/v1/ledger/accounts/campaign:release-123", Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(account["balance"]["available"]["amount"], "0.00", "{account}");
    let actions: Vec<String> =
        zbor_audit::recent(&app.db.pool, 50).await.unwrap().into_iter().map(|r| r.action).collect();
    for expected in [
        "payout_batch.create",
        "payout_batch.approve_approved",
        "payout_batch.approve_released",
        "payout_batch.approve_refused",
    ] {
        assert!(actions.iter().any(|a| a == expected), "{expected} missing from {actions:?}");
    }
    assert!(zbor_audit::verify(&app.db.pool).await.unwrap().is_ok());
    app.finish().await;
}
