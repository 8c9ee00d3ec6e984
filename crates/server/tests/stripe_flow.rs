#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! End to end through the Stripe simulator: a Checkout Session is created, simulated donors pay
//! by card and by SEPA debit (one succeeds, one fails), the simulator delivers signed webhooks,
//! and zbor books exactly what was paid, and how (card or SEPA debit).

mod common;

use std::time::Duration;
use zbor_stripe_sim::donor::pay_checkout;

use common::*;
use serde_json::{json, Value};
use zbor_stripe_sim::{Config, Simulator};

async fn pay(sim: &Simulator, amount_cents: &str, method: &str) {
    let cents = amount_cents.parse().unwrap();
    let client = reqwest::Client::new();
    pay_checkout(&client, &sim.base_url, "sk_test_flow", "release-123", cents, method).await.unwrap();
}

#[tokio::test]
async fn donations_paid_at_the_simulator_are_booked_exactly() {
    let app = start(Some(WEBHOOK_SECRET)).await;
    let campaign = json!({"slug": "release-123", "title": "Release", "currency": "EUR", "goal": "123000"});
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    let sim = Simulator::start(
        Config {
            api_key: "sk_test_flow".into(),
            webhook_url: Some(format!("{}/webhooks/stripe", app.base)),
            webhook_secret: WEBHOOK_SECRET.into(),
            retry_first: Duration::from_millis(50),
            retries_max: 5,
            ..Config::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    pay(&sim, "2500", "card").await;
    pay(&sim, "1000", "sepa_debit_success").await;
    pay(&sim, "700", "sepa_debit_failure").await;

    let mut totals = Value::Null;
    for _ in 0..100 {
        totals = app.get("/api/v1/campaigns/release-123/totals", Some(TOKEN)).await.1;
        if totals["donations"] == 2 && sim.deliveries().len() >= 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!((&totals["raised"], &totals["donations"]), (&json!("35.00"), &json!(2)), "{totals}");
    assert!(sim.deliveries().iter().all(|d| d.status == Some(200)), "{:?}", sim.deliveries());
    assert_eq!(app.count("select count(*) from donations where status = 'failed'").await, 1);

    // how each paid gift was paid, from its charge event: the kind only, for the accountant
    for _ in 0..100 {
        if app.count("select count(*) from payment_methods").await >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let methods: Vec<(String, String)> = sqlx::query_as(
        "select d.amount::text, m.method from donations d
         join payment_methods m using (stripe_payment_intent)
         where d.status = 'paid' order by d.amount",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(methods, [("10.00".into(), "sepa_debit".into()), ("25.00".into(), "card".into())]);
    app.finish().await;
}
