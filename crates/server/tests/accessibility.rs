#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! axe-core in headless Chromium on every page a donor or coordinator sees (give, with its
//! monthly cancel-link step and its receipt-email error too, thank-you, dashboard, not-found, the
//! server's own address, the monthly donor's cancel page with and without a token, and the
//! simulator's checkout page) and on the treasurers' console (its log in, and a treasurer's
//! batches), in English and Belarusian: no serious or critical violation (contrast included),
//! `<html lang>` set. With `ZBOR_SCREENSHOTS=<dir>` it also saves the give page and the
//! dashboard as `<dir>/<page>-<lang>.png` (docs/screenshots/ is made so; README shows them).

mod common;

use std::process::Command;
use std::time::Duration;

use common::treasury::treasurer;
use common::*;
use serde_json::json;
use zbor_stripe::signature::sign;
use zbor_stripe_sim::{Config as SimConfig, Simulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_in_english_and_belarusian() {
    let sim = Simulator::start(
        SimConfig {
            api_key: "sk_test_axe".into(),
            webhook_secret: WEBHOOK_SECRET.into(),
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let api_base = format!("{}/", sim.base_url);
    let app = start_with(Some(WEBHOOK_SECRET), |config| {
        // the console's treasurers have sealed emails and second factors
        config.data_key = Some("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f".into());
        config.stripe_secret_key = Some("sk_test_axe".into());
        config.stripe_api_base = api_base;
        config.organisation.purpose = Some("Support for political prisoners released from Belarus.".into());
        config.organisation.contact = Some("help@fund.example".into());
        config.organisation.website = Some("https://fund.example/".into());
        config.organisation.legal_notice = Some("Fund for the Released e.V., Berlin".into());
        config.organisation.privacy_note = Some("Anonymous donors leave no name or email with us.".into());
    })
    .await;
    let campaign = json!({
        "slug": "release-123", "title": "123 released political prisoners", "currency": "EUR",
        "goal": "123000", "amount_per_beneficiary": "1000", "suggested_amounts": ["25", "50", "100", "1000"],
        "description": "123 people were released from Belarusian prisons. Each gets EUR 1,000 to start again.",
        "translations": {"be": {
            "title": "123 вызваленыя палітвязні",
            "description": "123 чалавекі вызвалены з беларускіх турмаў. Кожны атрымае 1 000 €, каб пачаць жыццё нанова."
        }}
    });
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    // a few donations, so the dashboard has figures, bars and a list
    for (i, cents) in [102_500, 5_000, 2_500].into_iter().enumerate() {
        let body = serde_json::to_vec(&json!({
            "id": format!("evt_axe_{i}"), "object": "event", "type": "checkout.session.completed",
            "created": chrono::Utc::now().timestamp(),
            "data": { "object": {
                "id": format!("cs_test_axe_{i}"), "object": "checkout.session", "mode": "payment",
                "amount_total": cents, "currency": "eur", "payment_status": "paid",
                "payment_intent": format!("pi_axe_{i}"), "metadata": { "zbor_campaign": "release-123" }
            }}
        }))
        .unwrap();
        let headers = vec![("stripe-signature", sign(&body, WEBHOOK_SECRET, chrono::Utc::now().timestamp()))];
        assert_eq!(app.post_raw("/webhooks/stripe", &headers, body).await.0, 200);
    }
    let (status, session) =
        app.post_json("/api/v1/campaigns/release-123/checkout", None, &json!({"amount": "50.00"})).await;
    assert_eq!(status, 200, "{session}");

    // the console, logged in: a treasurer's session cookie
    let key = zbor_vault::DataKey::parse("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
        .unwrap();
    let treasurer_session = treasurer(&app, &key, "treasurer@fund.example").await.cookie;

    let mut pages = Vec::new();
    for lang in ["en", "be"] {
        let base = &app.base;
        for (name, path, ready) in [
            ("give", "/give/release-123", Some("#progress:not([hidden])")),
            ("thanks", "/give/release-123/thanks?session_id=cs_test_a1b2c3", None),
            ("dashboard", "/dashboard/release-123", Some("#connection.live")),
            ("not-found", "/give/no-such-campaign", None),
            ("home", "/", None),
            (
                "cancel",
                "/monthly/cancel#zc_0000000000000000000000000000000000000000000000000000000000000000",
                Some("#actions:not([hidden])"),
            ),
            ("cancel-no-token", "/monthly/cancel", Some("#result:not(:empty)")),
        ] {
            let shot = name == "give" || name == "dashboard";
            let url = format!("{base}{path}");
            pages.push(json!({ "name": format!("{name}-{lang}"), "url": url, "lang": lang, "ready": ready, "shot": shot }));
        }
        let console = format!("{base}/console");
        pages.push(json!({ "name": format!("console-login-{lang}"), "url": console, "lang": lang,
            "ready": "#login-view:not([hidden])", "shot": false }));
        pages.push(json!({ "name": format!("console-batches-{lang}"), "url": console, "lang": lang,
            "ready": "#batches-empty:not([hidden])", "shot": false, "cookie": treasurer_session }));
        // the give page's monthly step: the cancel link to keep, before Stripe
        let steps = json!([["fill", "#amount", "25"], ["check", "#interval-month"], ["click", "#submit"]]);
        pages.push(json!({
            "name": format!("give-monthly-link-{lang}"), "url": format!("{base}/give/release-123"), "lang": lang,
            "steps": steps, "ready": "#monthly-step:not([hidden])", "shot": false
        }));
        // the same page with a receipt email asked for (the field usable)
        let steps = json!([
            ["fill", "#amount", "25"],
            ["click", "#anonymous"],
            ["fill", "#receipt-email", "x"],
            ["click", "#submit"]
        ]);
        pages.push(json!({
            "name": format!("give-receipt-email-{lang}"), "url": format!("{base}/give/release-123"), "lang": lang,
            "steps": steps, "ready": "#receipt-email[aria-invalid=true]", "shot": false
        }));
    }
    pages.push(json!({ "name": "stripe-sim-checkout", "url": session["url"], "lang": "en", "ready": null, "shot": false }));

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/accessibility.mjs");
    let list = serde_json::to_string(&pages).unwrap();
    let output = tokio::task::spawn_blocking(move || {
        let mut command = Command::new("node");
        command.args([script, &list]);
        if let Ok(dir) = std::env::var("ZBOR_SCREENSHOTS") {
            command.env("SCREENSHOTS", dir);
        }
        command.output()
    });
    let output =
        tokio::time::timeout(Duration::from_secs(180), output).await.unwrap().unwrap().expect("node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "browser: {stdout} {}", String::from_utf8_lossy(&output.stderr));
    let results: serde_json::Value =
        serde_json::from_str(stdout.lines().find_map(|l| l.strip_prefix("DONE ")).expect("DONE line"))
            .unwrap();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), pages.len());
    for (result, page) in results.iter().zip(&pages) {
        assert_eq!(result["violations"], json!([]), "{}", result["name"]);
        assert_eq!(result["errors"], json!([]), "{}", result["name"]);
        assert_eq!(result["htmlLang"], page["lang"], "{}", result["name"]);
    }
    app.finish().await;
}
