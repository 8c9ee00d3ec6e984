#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The donors' give page: in headless Chromium a donor picks a suggested amount and lands on
//! Stripe Checkout (the simulator's) for exactly that amount; campaign text is escaped.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::json;
use zbor_stripe_sim::{Config as SimConfig, Simulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_donor_picks_an_amount_and_lands_on_stripe_checkout() {
    let sim = Simulator::start(
        SimConfig {
            api_key: "sk_test_give".into(),
            webhook_secret: WEBHOOK_SECRET.into(),
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let api_base = format!("{}/", sim.base_url);
    let app = start_with(Some(WEBHOOK_SECRET), |config| {
        config.stripe_secret_key = Some("sk_test_give".into());
        config.stripe_api_base = api_base;
    })
    .await;
    let campaign = json!({
        "slug": "release-123", "title": "Free them <script>alert(1)</script>", "currency": "EUR",
        "goal": "123000", "description": "For the \"123\" & their families", "suggested_amounts": ["10", "25", "50"]
    });
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    assert_eq!(app.get("/give/nope", None).await.0, 404);

    let html = reqwest::get(format!("{}/give/release-123", app.base)).await.unwrap().text().await.unwrap();
    assert!(!html.contains("<script>alert"), "campaign text must be escaped");
    assert!(html.contains("Free them &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("For the &quot;123&quot; &amp; their families"));

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/give.mjs");
    let base = app.base.clone();
    let sim_base = sim.base_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node").args([script, &base, "release-123", "25.00", &sim_base]).output()
    });
    let output = tokio::time::timeout(Duration::from_secs(60), output).await.unwrap().unwrap().expect("node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "browser: {stdout} {}", String::from_utf8_lossy(&output.stderr));
    let done: serde_json::Value =
        serde_json::from_str(stdout.lines().find_map(|l| l.strip_prefix("DONE ")).expect("DONE line"))
            .unwrap();
    assert_eq!(done["title"], "Free them <script>alert(1)</script>");
    assert_eq!(done["suggested"], 3);
    assert_eq!(done["errors"], json!([]));

    // the page sent the donor to the session zbor created for 25.00, named
    let sessions = sim.checkout_sessions();
    assert_eq!(sessions.len(), 1);
    assert!(done["url"].as_str().unwrap().contains(sessions[0]["id"].as_str().unwrap()), "{done}");
    assert_eq!(sessions[0]["amount_total"], 2500);
    assert_eq!(sessions[0]["metadata"]["zbor_anonymous"], "false");

    // a closed campaign's page says so and offers no form
    assert_eq!(
        app.patch_json("/api/v1/campaigns/release-123", Some(TOKEN), &json!({"status": "closed"})).await.0,
        200
    );
    let html = reqwest::get(format!("{}/give/release-123", app.base)).await.unwrap().text().await.unwrap();
    assert!(html.contains("This campaign is closed") && html.contains("hidden"));
    app.finish().await;
}
