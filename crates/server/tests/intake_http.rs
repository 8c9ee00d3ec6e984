#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Campaign API and the Stripe webhook over real HTTP: roles, validation, signatures.

mod common;

use common::*;
use serde_json::{json, Value};
use zbor_stripe::signature::sign;

fn release_123() -> Value {
    json!({
        "slug": "release-123",
        "title": "123 released political prisoners",
        "currency": "EUR",
        "goal": "123000",
        "amount_per_beneficiary": "1000",
        "suggested_amounts": ["10", "25", "50"]
    })
}

fn paid_session_event(event_id: &str, session_id: &str, amount_minor: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": event_id,
        "object": "event",
        "type": "checkout.session.completed",
        "created": chrono::Utc::now().timestamp(),
        "data": { "object": {
            "id": session_id, "object": "checkout.session", "mode": "payment",
            "amount_total": amount_minor, "currency": "eur", "payment_status": "paid",
            "status": "complete", "payment_intent": "pi_123", "payment_link": null,
            "metadata": { "zbor_campaign": "release-123" }
        }}
    }))
    .unwrap()
}

fn signed(body: &[u8], secret: &str, at: i64) -> Vec<(&'static str, String)> {
    vec![("stripe-signature", sign(body, secret, at)), ("content-type", "application/json".into())]
}

#[tokio::test]
async fn campaigns_are_created_and_changed_by_admins_only() {
    let app = start(None).await;
    for token in [None, Some("wrong")] {
        assert_eq!(app.post_json("/api/v1/campaigns", token, &release_123()).await.0, 401);
        assert_eq!(
            app.patch_json("/api/v1/campaigns/release-123", token, &json!({"goal": "1"})).await.0,
            401
        );
    }
    assert_eq!(app.count("select count(*) from campaigns").await, 0);

    let (status, body) = app.post_json("/api/v1/campaigns", Some(TOKEN), &release_123()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["goal"], json!({ "amount": "123000.00", "currency": "EUR" }));
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &release_123()).await.0, 409);

    let (status, body) = app.get("/api/v1/campaigns/release-123", None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("open")));
    let (status, body) =
        app.patch_json("/api/v1/campaigns/release-123", Some(TOKEN), &json!({"status": "closed"})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("closed")));
    assert_eq!(app.get("/api/v1/campaigns/nope", None).await.0, 404);
    // each change audited with it (the refused second create left no entry)
    let actions: Vec<(String, String, Option<String>)> =
        sqlx::query_as("select actor, action, subject from audit_log order by seq")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let id = body["id"].as_i64().unwrap();
    let subject = Some(format!("campaign:{id}"));
    assert_eq!(
        actions,
        vec![
            ("bootstrap".to_owned(), "campaign.create".to_owned(), subject.clone()),
            ("bootstrap".to_owned(), "campaign.close".to_owned(), subject),
        ]
    );
    app.finish().await;
}

#[tokio::test]
async fn bad_campaign_requests_get_a_reason_and_change_nothing() {
    let app = start(None).await;
    let mut too_fine = release_123();
    too_fine["goal"] = json!("10.001");
    let mut unknown_field = release_123();
    unknown_field["colour"] = json!("red");
    let cases = [
        (too_fine, 422, "invalid_request"),
        (unknown_field, 400, "invalid_json"),
        (json!({"slug": "x"}), 400, "invalid_json"),
        (json!("not an object"), 400, "invalid_json"),
    ];
    for (body, status, code) in cases {
        let (got, response) = app.post_json("/api/v1/campaigns", Some(TOKEN), &body).await;
        assert_eq!((got, response["error"]["code"].as_str()), (status, Some(code)), "{body}: {response}");
        assert!(response["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(app.count("select count(*) from campaigns").await, 0);
    app.finish().await;
}

#[tokio::test]
async fn a_signed_webhook_books_and_forged_stale_or_unsigned_ones_change_nothing() {
    let app = start(Some(&format!("whsec_old_secret, {WEBHOOK_SECRET}"))).await;
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &release_123()).await.0, 201);
    let now = chrono::Utc::now().timestamp();
    let body = paid_session_event("evt_1", "cs_test_1", 2500);

    let bad: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("unsigned", vec![]),
        ("forged", signed(&body, "whsec_attacker", now)),
        ("stale", signed(&body, WEBHOOK_SECRET, now - 301)),
        ("garbage header", vec![("stripe-signature", "t=abc,v1=zz".into())]),
    ];
    for (name, headers) in bad {
        let (status, response) = app.post_raw("/webhooks/stripe", &headers, body.clone()).await;
        assert_eq!((status, response["error"]["code"].as_str()), (400, Some("invalid_signature")), "{name}");
    }
    // Signed, but a body that was altered after signing.
    let tampered = paid_session_event("evt_1", "cs_test_1", 250_000);
    let (status, _) = app.post_raw("/webhooks/stripe", &signed(&body, WEBHOOK_SECRET, now), tampered).await;
    assert_eq!(status, 400);
    // Signed but not an event.
    let junk = b"{\"hello\": 1}".to_vec();
    let (status, response) =
        app.post_raw("/webhooks/stripe", &signed(&junk, WEBHOOK_SECRET, now), junk).await;
    assert_eq!((status, response["error"]["code"].as_str()), (400, Some("malformed_event")));
    // Too large: refused before anything is parsed.
    let huge = vec![b' '; 300 * 1024];
    let (status, response) =
        app.post_raw("/webhooks/stripe", &signed(&huge, WEBHOOK_SECRET, now), huge).await;
    // in the API's error shape (it was axum's plain text, which the OpenAPI test caught)
    assert_eq!((status, response["error"]["code"].as_str()), (413, Some("payload_too_large")));
    assert_eq!(app.count("select count(*) from stripe_events").await, 0);
    assert_eq!(app.count("select count(*) from ledger_transactions").await, 0);

    // Signed with either secret during rotation: accepted, booked once however often delivered.
    for secret in [WEBHOOK_SECRET, "whsec_old_secret", WEBHOOK_SECRET] {
        let (status, response) =
            app.post_raw("/webhooks/stripe", &signed(&body, secret, now), body.clone()).await;
        assert_eq!(status, 200, "{response}");
        assert_eq!(response["outcome"], "booked");
    }
    let (_, account) = app.get("/api/v1/ledger/accounts/campaign:release-123", Some(TOKEN)).await;
    assert_eq!(account["balance"]["posted"]["amount"], "25.00");
    let (status, totals) = app.get("/api/v1/campaigns/release-123/totals", Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(
        (&totals["raised"], &totals["net"], &totals["donations"], &totals["beneficiaries_funded"]),
        (&json!("25.00"), &json!("25.00"), &json!(1), &json!(0))
    );
    assert_eq!(app.get("/api/v1/campaigns/nope/totals", None).await.0, 404);
    assert_eq!(app.count("select count(*) from stripe_events").await, 1);
    app.finish().await;
}

#[tokio::test]
async fn without_a_webhook_secret_deliveries_are_refused_for_a_retry() {
    let app = start(None).await;
    let body = paid_session_event("evt_1", "cs_test_1", 2500);
    let headers = signed(&body, WEBHOOK_SECRET, chrono::Utc::now().timestamp());
    let (status, response) = app.post_raw("/webhooks/stripe", &headers, body).await;
    assert_eq!((status, response["error"]["code"].as_str()), (503, Some("webhook_not_configured")));
    app.finish().await;
}
