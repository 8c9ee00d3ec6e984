#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Payout batches over HTTP: a treasurer creates, two others approve, each with a fresh one-time
//! code; the creator and a replayed code are refused; every step is in the audit log.

mod common;

use common::treasury::*;
use common::*;
use serde_json::{json, Value};
use zbor_vault::DataKey;

const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
#[tokio::test]
async fn two_treasurers_approve_with_fresh_codes_and_funds_are_held() {
    let app = start_with(Some(WEBHOOK_SECRET), |c| c.data_key = Some(DATA_KEY.into())).await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    let campaign = json!({"slug": "release-123", "title": "Release", "currency": "EUR", "goal": "123000"});
    let (_, created) = app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await;
    // funds arrived
    fund(&app.db.pool, "release-123", "3000").await;
    let campaign_id = zbor_campaigns::CampaignId::from_i64(created["id"].as_i64().unwrap());
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
    // nobody is paid until a second treasurer confirmed where the money goes
    let (status, error) =
        post(&app, "/api/v1/campaigns/release-123/payout-batches", json!({"items": items}), &alice).await;
    assert_eq!((status, error["error"]["code"].as_str()), (409, Some("destination_unconfirmed")), "{error}");
    let dave = treasurer(&app, &key, "dave@example.org").await;
    let listed = zbor_payouts::beneficiaries::list(&app.db.pool, campaign_id).await.unwrap();
    let confirmations: Vec<Value> = listed
        .iter()
        .map(|b| json!({"beneficiary": b.id, "payee_fingerprint": b.payee_fingerprint.to_hex()}))
        .collect();
    let confirm = json!({"beneficiaries": confirmations, "totp": "000000"});
    let (status, _) = post(&app, "/api/v1/beneficiaries/confirmations", confirm, &dave).await;
    assert_eq!(status, 401, "a wrong code confirms nothing");
    let confirm = json!({"beneficiaries": confirmations, "totp": next_code(&dave)});
    let (status, body) = post(&app, "/api/v1/beneficiaries/confirmations", confirm, &dave).await;
    assert_eq!((status, body["confirmed"].as_array().map(Vec::len)), (200, Some(3)), "{body}");
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'beneficiary.confirm_destination' and actor = $1",
    )
    .bind(format!("user:{}", dave.id))
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(audited, 3, "each confirmation audited with the action");
    let (status, batch) =
        post(&app, "/api/v1/campaigns/release-123/payout-batches", json!({"items": items}), &alice).await;
    assert_eq!(status, 201, "{batch}");
    assert_eq!(batch["items"][0]["destination_confirmed"], true);
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

async fn get_as(app: &Running, path: &str, who: &Treasurer) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .header("cookie", &who.cookie)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn treasurers_pause_resume_and_run_the_sepa_and_manual_rails_over_http() {
    let app = start_with(Some(WEBHOOK_SECRET), |c| c.data_key = Some(DATA_KEY.into())).await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    let campaign = json!({"slug": "release", "title": "Release", "currency": "EUR", "goal": "5000"});
    let (_, created) = app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await;
    let campaign_id = zbor_campaigns::CampaignId::from_i64(created["id"].as_i64().unwrap());
    fund(&app.db.pool, "release", "3000").await;
    let mut people = Vec::new();
    for method in [
        json!({"kind": "sepa", "iban": "DE02120300000000202051"}),
        json!({"kind": "sepa", "iban": "DE02500105170137075030"}),
        json!({"kind": "manual"}),
    ] {
        let new = serde_json::from_value(
            json!({"name": "Алесь Бяляцкі", "contact": "", "note": "", "method": method}),
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
    let dave = treasurer(&app, &key, "dave@example.org").await;
    confirm_all(&app.db.pool, campaign_id, dave.user()).await;
    let items: Vec<Value> = people.iter().map(|p| json!({"beneficiary": p, "amount": "1000"})).collect();
    let (_, batch) =
        post(&app, "/api/v1/campaigns/release/payout-batches", json!({"items": items}), &alice).await;
    let id = batch["id"].as_i64().unwrap();
    let hash = batch["content_hash"].as_str().unwrap().to_owned();
    let approvals = format!("/api/v1/payout-batches/{id}/approvals");
    post(&app, &approvals, json!({"content_hash": hash, "totp": next_code(&bob)}), &bob).await;
    let (status, _) =
        post(&app, &approvals, json!({"content_hash": hash, "totp": next_code(&carol)}), &carol).await;
    assert_eq!(status, 200);
    let payouts: Vec<i64> =
        batch["items"].as_array().unwrap().iter().map(|i| i["payout"].as_i64().unwrap()).collect();

    // the list shows it, with its unfinished items
    let listed: Value = get_as(&app, "/api/v1/payout-batches", &alice).await.json().await.unwrap();
    assert_eq!(listed["me"], alice.id);
    assert_eq!(
        (listed["batches"][0]["id"].as_i64(), listed["batches"][0]["unfinished"].as_i64()),
        (Some(id), Some(3))
    );

    // one treasurer pauses: no SEPA file while paused; resuming takes two, each with a code
    let (status, paused) =
        post(&app, "/api/v1/payouts/pause", json!({"reason": "checking the bank"}), &bob).await;
    assert_eq!((status, paused["paused_now"].as_bool()), (200, Some(true)), "{paused}");
    let files = format!("/api/v1/payout-batches/{id}/sepa-files");
    let (status, error) = post(&app, &files, json!({}), &alice).await;
    assert_eq!((status, error["error"]["code"].as_str()), (409, Some("payouts_paused")), "{error}");
    let (status, _) = post(&app, "/api/v1/payouts/resume", json!({"totp": "000000"}), &alice).await;
    assert_eq!(status, 401, "resuming needs a valid code");
    let (status, first) =
        post(&app, "/api/v1/payouts/resume", json!({"totp": next_code(&alice)}), &alice).await;
    assert_eq!((status, first["outcome"].as_str()), (200, Some("waiting_for_another")), "{first}");
    let (status, _) = post(&app, "/api/v1/payouts/resume", json!({"totp": next_code(&alice)}), &alice).await;
    assert!(status == 409 || status == 401, "the same treasurer again: {status}");
    let (status, second) =
        post(&app, "/api/v1/payouts/resume", json!({"totp": next_code(&dave)}), &dave).await;
    assert_eq!((status, second["outcome"].as_str()), (200, Some("resumed")), "{second}");

    // the SEPA file: made once, downloaded (audited, not cached), confirmed
    let (status, file) = post(&app, &files, json!({"requested_execution_date": "2020-01-01"}), &alice).await;
    assert_eq!(status, 422, "a date in the past: {file}");
    let (status, file) = post(&app, &files, json!({}), &alice).await;
    assert_eq!((status, file["transactions"].as_i64()), (201, Some(2)), "{file}");
    let (status, _) = post(&app, &files, json!({}), &alice).await;
    assert_eq!(status, 409, "nothing left for a second file");
    let file_id = file["id"].as_i64().unwrap();
    // a download is a reveal: a fresh code (wrong: 401, nothing sent)
    let erin = treasurer(&app, &key, "erin@example.org").await;
    let (status, _) =
        post(&app, &format!("/api/v1/sepa-files/{file_id}/pain.001.xml"), json!({"totp": "000000"}), &erin)
            .await;
    assert_eq!(status, 401);
    let download = post_raw_as(
        &app,
        &format!("/api/v1/sepa-files/{file_id}/pain.001.xml"),
        json!({"totp": next_code(&erin)}),
        &erin,
    )
    .await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["cache-control"], "no-store");
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains(file["message_id"].as_str().unwrap()));
    let xml = download.text().await.unwrap();
    assert!(xml.contains("<Nm>Ales Bialiatski</Nm>") && xml.contains("<CtrlSum>2000.00</CtrlSum>"));
    assert!(xml.contains("<IBAN>DE89370400440532013000</IBAN>"), "the configured debtor");
    let (status, confirmed) =
        post(&app, &format!("/api/v1/sepa-files/{file_id}/confirm"), json!({}), &bob).await;
    assert_eq!((status, confirmed["paid"].as_i64()), (200, Some(2)), "{confirmed}");

    // the manual payout: marked paid with a sealed note; not twice; paid ones cannot be cancelled
    let manual = payouts[2];
    let (status, _) = post(&app, &format!("/api/v1/payouts/{manual}/retry"), json!({}), &alice).await;
    assert_eq!(status, 409, "only a failed payout is retried");
    let paid_path = format!("/api/v1/payouts/{manual}/paid");
    let (status, paid) = post(&app, &paid_path, json!({"note": "cash, Warsaw"}), &alice).await;
    assert_eq!((status, paid["status"].as_str()), (200, Some("paid")), "{paid}");
    assert_eq!(post(&app, &paid_path, json!({}), &alice).await.0, 409);
    assert_eq!(post(&app, &format!("/api/v1/payouts/{manual}/cancel"), json!({}), &alice).await.0, 409);
    assert_eq!(post(&app, "/api/v1/payouts/999999/cancel", json!({}), &alice).await.0, 404);
    assert_eq!(post(&app, &paid_path, json!({"surprise": 1}), &alice).await.0, 400, "unknown fields refused");
    let shown: Value =
        get_as(&app, &format!("/api/v1/payout-batches/{id}"), &alice).await.json().await.unwrap();
    assert_eq!(shown["counts"]["paid"], 3, "{shown}");

    let entries = zbor_audit::recent(&app.db.pool, 100).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|r| r.action.as_str()).collect();
    for expected in [
        "payouts.pause",
        "payouts.resume",
        "sepa_file.create",
        "sepa_file.download",
        "sepa_file.confirm",
        "payout.mark_paid",
    ] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    let logged = serde_json::to_string(&entries.iter().map(|e| &e.details).collect::<Vec<_>>()).unwrap();
    assert!(!logged.contains("Warsaw") && !logged.contains("checking the bank") && !logged.contains("DE02"));
    assert!(zbor_audit::verify(&app.db.pool).await.unwrap().is_ok());
    app.finish().await;
}

/// PATCH, GET as a console session.
async fn session_call(
    app: &Running,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    who: &Treasurer,
) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", app.base))
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The security review's reproduction: two treasurers approve EUR 1,000 to an IBAN; the creator
/// alone tries to send it elsewhere and make the SEPA file. The change is refused, naming the
/// payout, and the file pays the approved IBAN.
#[tokio::test]
async fn one_treasurer_cannot_redirect_an_approved_payout() {
    let app = start_with(Some(WEBHOOK_SECRET), |c| c.data_key = Some(DATA_KEY.into())).await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    let campaign = json!({"slug": "release-123", "title": "Release", "currency": "EUR", "goal": "123000"});
    let (_, created) = app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await;
    let campaign_id = zbor_campaigns::CampaignId::from_i64(created["id"].as_i64().unwrap());
    fund(&app.db.pool, "release-123", "3000").await;
    let alice = treasurer(&app, &key, "alice@example.org").await;
    let bob = treasurer(&app, &key, "bob@example.org").await;
    let carol = treasurer(&app, &key, "carol@example.org").await;
    let dave = treasurer(&app, &key, "dave@example.org").await;

    // Alice adds the beneficiary; she cannot confirm her own destination, Dave does
    let person =
        json!({"name": "Released person", "method": {"kind": "sepa", "iban": "LT121000011101001000"}});
    let (status, beneficiary) =
        post(&app, "/api/v1/campaigns/release-123/beneficiaries", person, &alice).await;
    assert_eq!(status, 201, "{beneficiary}");
    assert_eq!(beneficiary["masked"], "**** 1000");
    assert_eq!(beneficiary["destination_confirmed_by"], Value::Null);
    let id = beneficiary["id"].as_i64().unwrap();
    let confirmation = json!([{"beneficiary": id, "payee_fingerprint": beneficiary["payee_fingerprint"]}]);
    let (status, error) = post(
        &app,
        "/api/v1/beneficiaries/confirmations",
        json!({"beneficiaries": confirmation, "totp": next_code(&alice)}),
        &alice,
    )
    .await;
    assert_eq!((status, error["error"]["code"].as_str()), (403, Some("four_eyes")), "{error}");
    let (status, body) = post(
        &app,
        "/api/v1/beneficiaries/confirmations",
        json!({"beneficiaries": confirmation, "totp": next_code(&dave)}),
        &dave,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let items = json!({"items": [{"beneficiary": id, "amount": "1000"}]});
    let (status, batch) = post(&app, "/api/v1/campaigns/release-123/payout-batches", items, &alice).await;
    assert_eq!(status, 201, "{batch}");
    assert_eq!(batch["items"][0]["masked_destination"], "**** 1000");
    assert_eq!(batch["items"][0]["changed_since_last_payout"], false);
    let batch_id = batch["id"].as_i64().unwrap();
    let payout = batch["items"][0]["payout"].as_i64().unwrap();
    let hash = batch["content_hash"].as_str().unwrap().to_owned();
    let approvals = format!("/api/v1/payout-batches/{batch_id}/approvals");
    for who in [&bob, &carol] {
        let (status, body) =
            post(&app, &approvals, json!({"content_hash": hash, "totp": next_code(who)}), who).await;
        assert_eq!(status, 200, "{body}");
    }

    // the attack: Alice alone changes the IBAN
    let attack = json!({"method": {"kind": "sepa", "iban": "NL91ABNA0417164300"}});
    let (status, body) = session_call(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/v1/beneficiaries/{id}"),
        Some(attack),
        &alice,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["code"], "destination_locked");
    assert!(error["error"]["message"].as_str().unwrap().contains(&payout.to_string()), "{body}");
    assert!(!body.contains("NL91"), "the error does not echo the IBAN");

    // the file pays the approved IBAN
    let (status, file) =
        post(&app, &format!("/api/v1/payout-batches/{batch_id}/sepa-files"), json!({}), &alice).await;
    assert_eq!(status, 201, "{file}");
    let erin = treasurer(&app, &key, "erin@example.org").await;
    let (status, xml) = session_call(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/sepa-files/{}/pain.001.xml", file["id"]),
        Some(json!({"totp": next_code(&erin)})),
        &erin,
    )
    .await;
    assert_eq!(status, 200);
    assert!(xml.contains("LT121000011101001000") && !xml.contains("NL91ABNA0417164300"));
    let campaign_beneficiaries = zbor_payouts::beneficiaries::list(&app.db.pool, campaign_id).await.unwrap();
    assert_eq!(campaign_beneficiaries[0].masked.as_deref(), Some("**** 1000"));
    app.finish().await;
}

/// POSTs as a console session and returns the raw response (a file, not JSON).
async fn post_raw_as(app: &Running, path: &str, body: Value, who: &Treasurer) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf)
        .json(&body)
        .send()
        .await
        .unwrap()
}
