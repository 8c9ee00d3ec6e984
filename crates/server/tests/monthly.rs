#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Monthly giving and receipts, end to end through the Stripe simulator over HTTP: a monthly
//! Checkout Session (mode subscription), its invoices booked once each (renewals triggered at the
//! simulator, one failing), a refund of a renewal's charge, cancelling through zbor's token and
//! through Stripe's customer portal, the totals' split, and the receipt email passed to Stripe
//! and kept nowhere by zbor.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use zbor_stripe::signature::sign;
use zbor_stripe_sim::{Config as SimConfig, Simulator};

const STRIPE_KEY: &str = "sk_test_monthly";
const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const EMAIL: &str = "receipt.donor@example.org";

async fn simulator() -> Simulator {
    let config = SimConfig {
        api_key: STRIPE_KEY.into(),
        webhook_secret: WEBHOOK_SECRET.into(),
        retry_first: Duration::from_millis(50),
        retries_max: 5,
        ..SimConfig::default()
    };
    Simulator::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

async fn start_against(sim: &Simulator) -> Running {
    let api_base = format!("{}/", sim.base_url);
    let app = start_with(Some(WEBHOOK_SECRET), |config| {
        config.stripe_secret_key = Some(STRIPE_KEY.into());
        config.stripe_api_base = api_base;
        config.stripe_requests_per_second = 200;
        config.public_url = "https://give.example.org".into();
        config.data_key = Some(DATA_KEY.into());
    })
    .await;
    sim.set_webhook_url(Some(format!("{}/webhooks/stripe", app.base)));
    let campaign =
        json!({"slug": "release-123", "title": "123 released", "currency": "EUR", "goal": "123000"});
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    app
}

async fn sim_post(url: String, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

/// Waits until `done` holds for the totals; returns the last totals read.
async fn wait_for_totals(app: &Running, done: impl Fn(&Value) -> bool) -> Value {
    let mut totals = Value::Null;
    for _ in 0..200 {
        totals = app.get("/api/v1/campaigns/release-123/totals", Some(TOKEN)).await.1;
        if done(&totals) {
            return totals;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("totals never got there: {totals}");
}

/// Waits until `sql` counts `expected`.
async fn wait_for_count(app: &Running, sql: &str, expected: i64) {
    for _ in 0..200 {
        if app.count(sql).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{sql}: {} rather than {expected}", app.count(sql).await);
}

/// Until every event made so far was acknowledged by zbor.
async fn wait_for_deliveries(sim: &Simulator) {
    for _ in 0..200 {
        let events = sim.events();
        let delivered = sim.deliveries();
        if events.iter().all(|e| delivered.iter().any(|d| d.event_id == e["id"] && d.status == Some(200))) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not every event was delivered: {:?}", sim.deliveries());
}

/// A monthly checkout at zbor, paid by card at the simulator: (checkout answer, subscription id).
async fn monthly_gift(
    app: &Running,
    sim: &Simulator,
    amount: &str,
    receipt_email: Option<&str>,
) -> (Value, String) {
    let mut request = json!({ "amount": amount, "interval": "month" });
    if let Some(email) = receipt_email {
        request["receipt_email"] = json!(email);
    }
    let (status, checkout) = app.post_json("/api/v1/campaigns/release-123/checkout", None, &request).await;
    assert_eq!(status, 200, "{checkout}");
    let session_id = checkout["session_id"].as_str().unwrap();
    let (status, paid) = sim_post(
        format!("{}/sim/checkout/sessions/{session_id}/pay", sim.base_url),
        json!({"method": "card"}),
    )
    .await;
    assert_eq!(status, 200, "{paid}");
    let subscription = paid["subscription"].as_str().unwrap().to_owned();
    (checkout, subscription)
}

fn money(totals: &Value, field: &str) -> rust_decimal::Decimal {
    totals[field].as_str().unwrap_or_else(|| panic!("{field} in {totals}")).parse().unwrap()
}

fn split_adds_up(totals: &Value) {
    assert_eq!(
        money(totals, "raised"),
        money(totals, "one_off_raised") + money(totals, "recurring_raised"),
        "{totals}"
    );
}

#[tokio::test]
async fn every_invoice_books_once_failures_book_nothing_and_refunds_find_the_renewal() {
    let sim = simulator().await;
    let app = start_against(&sim).await;

    let (checkout, subscription) = monthly_gift(&app, &sim, "10.00", Some(EMAIL)).await;
    let session_id = checkout["session_id"].as_str().unwrap();
    let reference = checkout["receipt_reference"].as_str().unwrap().to_owned();
    assert_eq!(Some(reference.clone()), zbor_intake::receipt::reference(session_id));
    assert!(checkout["cancel_token"].as_str().unwrap().starts_with("zc_"), "{checkout}");

    // what zbor asked Stripe for: a monthly price, the receipt address, the way back with the session id
    let session = sim.checkout_sessions().into_iter().find(|s| s["id"] == session_id).unwrap();
    assert_eq!(session["mode"], "subscription");
    assert_eq!(session["customer_email"], EMAIL);
    assert_eq!(
        session["success_url"],
        "https://give.example.org/give/release-123/thanks?session_id={CHECKOUT_SESSION_ID}"
    );
    assert_eq!(
        sim.subscription(&subscription).unwrap()["items"]["data"][0]["price"]["recurring"]["interval"],
        "month"
    );

    // the first invoice is booked once, by invoice.paid; the session's own event books nothing
    let totals = wait_for_totals(&app, |t| t["recurring_raised"] == "10.00").await;
    wait_for_deliveries(&sim).await;
    assert_eq!(totals["one_off_raised"], "0.00", "{totals}");
    assert_eq!(totals["monthly_commitments"], json!({"subscriptions": 1, "amount": "10.00"}));
    assert_eq!(app.count("select count(*) from donations").await, 1);
    assert_eq!(
        app.count("select count(*) from stripe_events where type = 'checkout.session.completed' and outcome = 'ignored'").await,
        1
    );
    assert_eq!(
        app.count("select count(*) from stripe_events where type = 'invoice.paid' and outcome = 'booked'")
            .await,
        1
    );
    let stored_reference: Option<String> =
        sqlx::query_scalar("select receipt_reference from donations").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(stored_reference.as_deref(), Some(reference.as_str()), "the first session's reference");

    // three renewals, each booked once
    for month in 2..=4 {
        sim.renew(&subscription, true).unwrap();
        let expected = format!("{}.00", month * 10);
        wait_for_totals(&app, |t| t["recurring_raised"] == expected.as_str()).await;
    }
    wait_for_deliveries(&sim).await;
    assert_eq!(app.count("select count(*) from donations where stripe_subscription_id is not null").await, 4);
    assert_eq!(
        app.count("select count(*) from donations where receipt_reference is not null and status = 'paid'")
            .await,
        4,
        "every renewal carries the first session's reference"
    );

    // a failed renewal books nothing; the subscription is past due and no longer counted
    sim.renew(&subscription, false).unwrap();
    wait_for_count(&app, "select count(*) from subscriptions where status = 'past_due'", 1).await;
    wait_for_deliveries(&sim).await;
    // live totals follow within their rest (100 ms)
    let totals = wait_for_totals(&app, |t| t["monthly_commitments"]["subscriptions"] == 0).await;
    assert_eq!((&totals["recurring_raised"], &totals["donations"]), (&json!("40.00"), &json!(4)), "{totals}");
    assert_eq!(totals["monthly_commitments"], json!({"subscriptions": 0, "amount": "0.00"}));
    assert_eq!(
        app.count(
            "select count(*) from stripe_events where type = 'invoice.payment_failed' and outcome = 'failed'"
        )
        .await,
        1
    );

    // the next renewal succeeds: active again
    tokio::time::sleep(Duration::from_millis(1100)).await; // a later second than the failure's events
    sim.renew(&subscription, true).unwrap();
    wait_for_totals(&app, |t| t["recurring_raised"] == "50.00").await;
    wait_for_count(&app, "select count(*) from subscriptions where status = 'active'", 1).await;

    // a replay of every event books nothing, and so does the same invoice under a new event id
    wait_for_deliveries(&sim).await;
    let before = app.count("select count(*) from ledger_transactions").await;
    sim.redeliver_all().await;
    let paid_event = sim.events().into_iter().find(|e| e["type"] == "invoice.paid").unwrap();
    let mut again = paid_event.clone();
    again["id"] = json!("evt_zbor_test_same_invoice_again");
    let body = serde_json::to_vec(&again).unwrap();
    let headers = [
        ("stripe-signature", sign(&body, WEBHOOK_SECRET, chrono::Utc::now().timestamp())),
        ("content-type", "application/json".into()),
    ];
    let (status, answer) = app.post_raw("/webhooks/stripe", &headers, body).await;
    assert_eq!((status, &answer["outcome"]), (200, &json!("ignored")), "{answer}");
    assert_eq!(app.count("select count(*) from ledger_transactions").await, before);
    assert_eq!(app.count("select count(*) from donations where stripe_subscription_id is not null").await, 5);

    // a refund of the third invoice's charge (a renewal) is booked against that donation
    let invoices = sim.invoices(&subscription);
    let paid: Vec<&Value> = invoices.iter().filter(|i| i["status"] == "paid").collect();
    // as from live Stripe, no invoice.paid listed its payments: every paid invoice's
    // PaymentIntent came from its own invoice_payment.paid, and each donation got it
    wait_for_deliveries(&sim).await;
    let events = sim.events();
    let invoice_events: Vec<&Value> = events.iter().filter(|e| e["type"] == "invoice.paid").collect();
    assert!(!invoice_events.is_empty());
    assert!(invoice_events.iter().all(|e| e["data"]["object"].get("payments").is_none()));
    assert_eq!(app.count("select count(*) from invoice_payments").await, i64::try_from(paid.len()).unwrap());
    assert_eq!(
        app.count("select count(*) from donations where status = 'paid' and stripe_payment_intent is null")
            .await,
        0
    );
    assert_eq!(paid.len(), 5);
    let renewal = paid[2];
    let payment_intent = renewal["payments"]["data"][0]["payment"]["payment_intent"].as_str().unwrap();
    sim.refund(payment_intent, Some(400)).unwrap();
    wait_for_totals(&app, |t| t["refunded"] == "4.00").await;
    let refunded: rust_decimal::Decimal =
        sqlx::query_scalar("select refunded from donations where stripe_session_id = $1")
            .bind(renewal["id"].as_str().unwrap())
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(refunded, rust_decimal::Decimal::new(400, 2));

    // a one-off gift with a receipt: Stripe gets the address, the totals split
    let request = json!({ "amount": "25.00", "receipt_email": EMAIL });
    let (status, one_off) = app.post_json("/api/v1/campaigns/release-123/checkout", None, &request).await;
    assert_eq!(status, 200, "{one_off}");
    assert!(one_off.get("cancel_token").is_none(), "{one_off}");
    let one_off_id = one_off["session_id"].as_str().unwrap();
    let (status, paid_session) = sim_post(
        format!("{}/sim/checkout/sessions/{one_off_id}/pay", sim.base_url),
        json!({"method": "card"}),
    )
    .await;
    assert_eq!(status, 200, "{paid_session}");
    let charge = sim.charge(paid_session["payment_intent"].as_str().unwrap()).unwrap();
    assert_eq!(charge["receipt_email"], EMAIL, "payment_intent_data.receipt_email");
    let totals = wait_for_totals(&app, |t| t["one_off_raised"] == "25.00").await;
    split_adds_up(&totals);
    assert_eq!(totals["raised"], "75.00", "{totals}");
    let one_off_reference: Option<String> =
        sqlx::query_scalar("select receipt_reference from donations where stripe_session_id = $1")
            .bind(one_off_id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(one_off_reference, zbor_intake::receipt::reference(one_off_id));

    // the ledger verifies
    let (status, verified) = app.get("/api/v1/ledger/verify", Some(TOKEN)).await;
    assert_eq!((status, &verified["ok"]), (200, &json!(true)), "{verified}");

    // zbor kept the receipt address nowhere: not in donations, subscriptions, events, audit
    wait_for_deliveries(&sim).await;
    for table in ["donations", "subscriptions", "stripe_events", "audit_log"] {
        let sql = format!("select count(*) from {table} t where row_to_json(t)::text ilike '%{EMAIL}%'");
        assert_eq!(app.count(&sql).await, 0, "{table} holds the receipt email");
    }
    app.finish().await;
}

#[tokio::test]
async fn donors_cancel_with_their_token_or_in_stripes_portal() {
    let sim = simulator().await;
    let app = start_against(&sim).await;
    let (first, first_subscription) = monthly_gift(&app, &sim, "15.00", None).await;
    let (second, second_subscription) = monthly_gift(&app, &sim, "20.00", None).await;
    wait_for_totals(&app, |t| t["monthly_commitments"]["subscriptions"] == 2).await;
    wait_for_deliveries(&sim).await;
    assert_eq!(app.count("select count(*) from subscriptions where cancel_token_hash is not null").await, 2);

    // a wrong token changes nothing
    for wrong in [
        json!({"token": "zc_0000000000000000000000000000000000000000000000000000000000000000"}),
        json!({"token": "x"}),
    ] {
        let (status, body) = app.post_json("/api/v1/subscriptions/cancel", None, &wrong).await;
        assert_eq!((status, &body["error"]["code"]), (404, &json!("subscription_not_found")), "{body}");
    }
    assert_eq!(app.count("select count(*) from subscriptions where status = 'active'").await, 2);
    assert_eq!(sim.subscription(&first_subscription).unwrap()["status"], "active");

    // zbor's cancel link: at Stripe and here, audited; again: the same answer, nothing more
    let token = json!({ "token": first["cancel_token"] });
    for _ in 0..2 {
        let (status, body) = app.post_json("/api/v1/subscriptions/cancel", None, &token).await;
        assert_eq!(
            (status, &body["status"], &body["campaign"]),
            (200, &json!("canceled"), &json!("release-123")),
            "{body}"
        );
    }
    assert_eq!(sim.subscription(&first_subscription).unwrap()["status"], "canceled");
    assert_eq!(app.count("select count(*) from audit_log where action = 'subscription.cancel'").await, 1);
    let totals = wait_for_totals(&app, |t| t["monthly_commitments"]["subscriptions"] == 1).await;
    assert_eq!(totals["monthly_commitments"]["amount"], "20.00", "{totals}");
    // Stripe's `customer.subscription.deleted` arrives and changes nothing more
    wait_for_deliveries(&sim).await;
    assert_eq!(
        app.count("select count(*) from subscriptions where status = 'canceled' and canceled_at is not null")
            .await,
        1
    );
    // the canceled one is not renewed
    assert!(sim.renew(&first_subscription, true).is_err());

    // Stripe's portal: zbor opens it from the token, the donor cancels there
    let token = json!({ "token": second["cancel_token"] });
    let (status, portal) = app.post_json("/api/v1/subscriptions/portal", None, &token).await;
    assert_eq!(status, 200, "{portal}");
    let url = portal["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/portal/bps_", sim.base_url)), "{url}");
    let page = reqwest::get(url).await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("cancel-{second_subscription}")), "{page}");
    let cancel = format!("{url}/subscriptions/{second_subscription}/cancel");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = client.post(cancel).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 303, "back to zbor's return_url");
    assert_eq!(answer.headers()["location"], "https://give.example.org/give/release-123");
    wait_for_count(&app, "select count(*) from subscriptions where status = 'canceled'", 2).await;
    let totals = wait_for_totals(&app, |t| t["monthly_commitments"]["subscriptions"] == 0).await;
    assert_eq!(totals["recurring_raised"], "35.00", "{totals}");
    split_adds_up(&totals);
    // the portal of a canceled gift: a conflict, nothing asked of Stripe
    let (status, body) = app.post_json("/api/v1/subscriptions/portal", None, &token).await;
    assert_eq!((status, &body["error"]["code"]), (409, &json!("subscription_canceled")), "{body}");
    app.finish().await;
}

#[tokio::test]
async fn bad_monthly_or_receipt_requests_are_refused_with_a_reason() {
    let sim = simulator().await;
    let app = start_against(&sim).await;
    let sessions_before = sim.checkout_sessions().len();
    for (request, field) in [
        (json!({"amount": "10.00", "interval": "week"}), "interval"),
        (json!({"amount": "10.00", "interval": ""}), "interval"),
        (json!({"amount": "10.00", "receipt_email": EMAIL, "anonymous": true}), "receipt_email"),
        (json!({"amount": "10.00", "receipt_email": "not an address"}), "receipt_email"),
    ] {
        let (status, body) = app.post_json("/api/v1/campaigns/release-123/checkout", None, &request).await;
        assert_eq!(status, 400, "{request}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(field), "{request}: {body}");
        assert!(
            !message.contains("not an address") && !message.contains(EMAIL),
            "the reason quotes no address: {message}"
        );
    }
    assert_eq!(sim.checkout_sessions().len(), sessions_before, "nothing was asked of Stripe");

    // anonymous (by default or said): no email goes to Stripe
    for request in
        [json!({"amount": "10.00"}), json!({"amount": "10.00", "anonymous": true, "interval": "month"})]
    {
        let (status, body) = app.post_json("/api/v1/campaigns/release-123/checkout", None, &request).await;
        assert_eq!(status, 200, "{body}");
        let session = sim.checkout_sessions().into_iter().find(|s| s["id"] == body["session_id"]).unwrap();
        assert_eq!(session["customer_email"], Value::Null, "{request}");
        assert_eq!(session["metadata"]["zbor_anonymous"], "true");
    }
    app.finish().await;
}
