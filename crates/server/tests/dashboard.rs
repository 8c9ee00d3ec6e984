#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The coordinators' dashboard in a real headless Chromium: signed in as a coordinator, the total
//! on the page changes when a donation is booked, in the page's language and format; the chart
//! has a scale, times and axis titles; the progress bar is green with a percentage. Without the
//! session the page shows the public snapshot, which one donation does not move. Needs Debian's
//! chromium and `npm ci` in tests/browser (deploy/browser.sh).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use serde_json::json;
use zbor_i18n::{text, Lang};
use zbor_stripe::signature::sign;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_total_on_the_dashboard_climbs_when_a_donation_is_booked() {
    const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const PASSWORD: &str = "correct horse battery staple";
    let app = start_with(Some(WEBHOOK_SECRET), |c| c.data_key = Some(DATA_KEY.into())).await;
    let campaign = json!({
        "slug": "release-123", "title": "123 released political prisoners", "currency": "EUR",
        "goal": "123000", "amount_per_beneficiary": "1000"
    });
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    // Unknown campaigns and hostile slugs get no page (tests/give.rs: the not-found page).
    assert_eq!(app.get("/dashboard/nope", None).await.0, 404);
    assert_eq!(app.get("/dashboard/%3Cscript%3E", None).await.0, 404);

    let key = zbor_vault::DataKey::parse(DATA_KEY).unwrap();
    let coordinator = "coordinator@example.org";
    zbor_auth::add_user(
        &app.db.pool,
        &key,
        coordinator,
        zbor_auth::Role::Coordinator,
        PASSWORD,
        &zbor_auth::Actor::CLI,
    )
    .await
    .unwrap();
    let login = reqwest::Client::new()
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({ "email": coordinator, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/dashboard.mjs");
    let mut browser = Command::new("node")
        .args([script, &app.base, "release-123", "€1,025.00", "en", &cookie])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node (deploy/test.sh installs the browser test's dependencies)");
    let mut lines = BufReader::new(browser.stdout.take().unwrap()).lines();
    let ready = tokio::task::spawn_blocking(move || {
        let first = lines.next().unwrap().unwrap();
        (first, lines)
    });
    let (first, lines) =
        tokio::time::timeout(std::time::Duration::from_secs(30), ready).await.unwrap().unwrap();
    assert!(first == "READY €0.00" || first == "READY €0", "{first}");

    let body = serde_json::to_vec(&json!({
        "id": "evt_dashboard_1", "object": "event", "type": "checkout.session.completed",
        "created": chrono::Utc::now().timestamp(),
        "data": { "object": {
            "id": "cs_test_dashboard_1", "object": "checkout.session", "mode": "payment",
            "amount_total": 102_500, "currency": "eur", "payment_status": "paid",
            "payment_intent": "pi_dashboard_1", "metadata": { "zbor_campaign": "release-123" }
        }}
    }))
    .unwrap();
    let headers = vec![("stripe-signature", sign(&body, WEBHOOK_SECRET, chrono::Utc::now().timestamp()))];
    assert_eq!(app.post_raw("/webhooks/stripe", &headers, body).await.0, 200);

    let (status, rest) = tokio::task::spawn_blocking(move || {
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        (browser.wait().unwrap(), rest)
    })
    .await
    .unwrap();
    assert!(status.success(), "browser script failed: {rest:?}");
    let done = rest.iter().find_map(|l| l.strip_prefix("DONE ")).expect("DONE line");
    let seen: serde_json::Value = serde_json::from_str(done).unwrap();
    assert_eq!(seen["raised"], "€1,025.00");
    assert_eq!(seen["goal"], "€123,000.00");
    assert_eq!(seen["htmlLang"], "en");
    assert_eq!(seen["title"], "123 released political prisoners");
    // the tab says which campaign, not its slug
    let tab = text(Lang::En, "dashboard-title", &[("title", "123 released political prisoners")]);
    assert_eq!(seen["tabTitle"], tab);
    assert_eq!(
        seen["beneficiaries"],
        text(Lang::En, "dashboard-funded-of", &[("funded", "1"), ("total", "123")])
    );
    assert_eq!(seen["donations"], "1");
    // net 1,025.00 of 123,000.00: 8 thousandths, exactly, whatever the floats would say
    assert_eq!(seen["percent"], text(Lang::En, "dashboard-progress", &[("percent", "0.8%")]));
    assert_eq!(seen["progressValue"], "0.8");
    assert_eq!(seen["progressColour"], "rgb(21, 128, 61)", "a calm green, not red");
    assert!(seen["bars"].as_u64().unwrap() >= 1, "{seen}");
    let ticks: Vec<&str> = seen["ticks"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(ticks.starts_with(&["0", "1"]) && ticks.len() >= 6, "a scale and half-hourly times: {ticks:?}");
    assert_eq!(
        seen["axisTitles"],
        json!([text(Lang::En, "dashboard-chart-y", &[]), text(Lang::En, "dashboard-chart-x", &[])])
    );
    assert_eq!(seen["giveLink"], "/give/release-123");
    assert!(seen["recent"].as_str().unwrap().ends_with(" · €1,025.00"), "{seen}");
    assert_eq!(seen["errors"], json!([]));
    // one donation, just now: the public page shows none of it
    let public = rest.iter().find_map(|l| l.strip_prefix("PUBLIC ")).expect("PUBLIC line");
    assert!(public == "€0.00" || public == "€0", "{public}");
    app.finish().await;
}
