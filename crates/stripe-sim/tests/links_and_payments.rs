#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Prices, payment links and paying through them; the charge and balance transaction (with
//! Stripe's fee) behind every successful payment; and the delivery options: SEPA delay,
//! duplicated and reordered events.

mod common;

use std::time::Duration;

use common::{get, post_form, sim_post, types, Receiver};
use serde_json::{json, Value};
use zbor_stripe_sim::{Config, Simulator};

/// A donation price: a fixed `unit_amount`, or the donor's choice within bounds.
async fn price(sim: &Simulator, extra: &[(&str, &str)]) -> Value {
    let mut form =
        vec![("currency", "eur"), ("product_data[name]", "Donation"), ("metadata[kind]", "donation")];
    form.extend_from_slice(extra);
    let (status, _, price) = post_form(sim, "prices", &form, None).await;
    assert_eq!(status, 200, "{price}");
    price
}

async fn link(sim: &Simulator, price: &Value, quantity: &str) -> Value {
    let form = [
        ("line_items[0][price]", price["id"].as_str().unwrap()),
        ("line_items[0][quantity]", quantity),
        ("submit_type", "donate"),
        ("metadata[zbor_campaign]", "release-123"),
        ("payment_intent_data[metadata][zbor_campaign]", "release-123"),
        ("after_completion[type]", "hosted_confirmation"),
        ("after_completion[hosted_confirmation][custom_message]", "Thank you"),
    ];
    let (status, _, link) = post_form(sim, "payment_links", &form, None).await;
    assert_eq!(status, 200, "{link}");
    link
}

async fn pay_link(sim: &Simulator, link: &Value, body: Value) -> (u16, Value) {
    sim_post(sim, &format!("payment_links/{}/pay", link["id"].as_str().unwrap()), body).await
}

#[tokio::test]
async fn prices_and_payment_links_are_created_and_retrieved() {
    let sim = common::start(common::config(None)).await;
    let fixed = price(&sim, &[("unit_amount", "1000")]).await;
    assert!(fixed["id"].as_str().unwrap().starts_with("price_"));
    assert!(fixed["product"].as_str().unwrap().starts_with("prod_"));
    assert_eq!(
        (&fixed["object"], &fixed["type"], &fixed["recurring"]),
        (&json!("price"), &json!("one_time"), &Value::Null)
    );
    assert_eq!((&fixed["unit_amount"], &fixed["unit_amount_decimal"]), (&json!(1000), &json!("1000")));
    assert_eq!((&fixed["currency"], &fixed["custom_unit_amount"]), (&json!("eur"), &Value::Null));
    assert_eq!(fixed["metadata"], json!({"kind": "donation"}));

    let custom = price(
        &sim,
        &[
            ("custom_unit_amount[enabled]", "true"),
            ("custom_unit_amount[minimum]", "500"),
            ("custom_unit_amount[maximum]", "100000"),
            ("custom_unit_amount[preset]", "2500"),
        ],
    )
    .await;
    assert_eq!(custom["unit_amount"], Value::Null);
    assert_eq!(custom["custom_unit_amount"], json!({"minimum": 500, "maximum": 100000, "preset": 2500}));
    let (status, _, retrieved) = get(&sim, &format!("prices/{}", custom["id"].as_str().unwrap())).await;
    assert_eq!((status, &retrieved), (200, &custom));

    let created = link(&sim, &custom, "1").await;
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("plink_"));
    assert_eq!(created["url"], format!("{}/pay/link/{id}", sim.base_url));
    assert_eq!((&created["object"], &created["active"]), (&json!("payment_link"), &json!(true)));
    assert_eq!((&created["submit_type"], &created["currency"]), (&json!("donate"), &json!("eur")));
    assert_eq!(created["metadata"], json!({"zbor_campaign": "release-123"}));
    assert_eq!(created["payment_intent_data"]["metadata"], json!({"zbor_campaign": "release-123"}));
    let (status, _, retrieved) = get(&sim, &format!("payment_links/{id}")).await;
    assert_eq!((status, &retrieved), (200, &created));
}

#[tokio::test]
async fn invalid_prices_and_links_get_stripes_400_naming_the_param() {
    let sim = common::start(common::config(None)).await;
    type Case = (&'static str, Vec<(&'static str, &'static str)>, &'static str);
    let cases: [Case; 7] = [
        ("prices", vec![("unit_amount", "100"), ("product_data[name]", "D")], "currency"),
        ("prices", vec![("currency", "eur"), ("product_data[name]", "D")], "unit_amount"),
        ("prices", vec![("currency", "eur"), ("unit_amount", "100")], "product"),
        (
            "prices",
            vec![
                ("currency", "eur"),
                ("unit_amount", "100"),
                ("custom_unit_amount[enabled]", "true"),
                ("product", "prod_1"),
            ],
            "unit_amount",
        ),
        (
            "prices",
            vec![
                ("currency", "eur"),
                ("custom_unit_amount[enabled]", "true"),
                ("custom_unit_amount[minimum]", "900"),
                ("custom_unit_amount[maximum]", "100"),
                ("product", "prod_1"),
            ],
            "custom_unit_amount[minimum]",
        ),
        (
            "payment_links",
            vec![("line_items[0][price]", "price_missing"), ("line_items[0][quantity]", "1")],
            "line_items[0][price]",
        ),
        ("payment_links", vec![("line_items[0][quantity]", "1")], "line_items[0][price]"),
    ];
    for (path, form, param) in cases {
        let (status, _, error) = post_form(&sim, path, &form, None).await;
        assert_eq!(status, 400, "{path} {form:?}: {error}");
        assert_eq!(error["error"]["type"], "invalid_request_error");
        assert_eq!(error["error"]["param"], param, "{path} {form:?}");
        assert!(error["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn custom_amounts_are_kept_within_the_prices_bounds_and_fixed_prices_fixed() {
    let sim = common::start(common::config(None)).await;
    let bounds = [
        ("custom_unit_amount[enabled]", "true"),
        ("custom_unit_amount[minimum]", "500"),
        ("custom_unit_amount[maximum]", "10000"),
    ];
    let custom = link(&sim, &price(&sim, &bounds).await, "1").await;
    for body in [
        json!({"method": "card"}),
        json!({"method": "card", "amount": 499}),
        json!({"method": "card", "amount": 10001}),
    ] {
        let (status, error) = pay_link(&sim, &custom, body.clone()).await;
        assert_eq!((status, error["error"]["param"].as_str()), (400, Some("amount")), "{body}");
    }
    assert!(sim.checkout_sessions().is_empty(), "a refused pay creates no session");
    for amount in [500, 10000] {
        let (status, session) = pay_link(&sim, &custom, json!({"method": "card", "amount": amount})).await;
        assert_eq!((status, &session["amount_total"]), (200, &json!(amount)));
    }

    let fixed = link(&sim, &price(&sim, &[("unit_amount", "1500")]).await, "2").await;
    let (status, error) = pay_link(&sim, &fixed, json!({"method": "card", "amount": 1000})).await;
    assert_eq!((status, error["error"]["param"].as_str()), (400, Some("amount")));
    let (status, session) = pay_link(&sim, &fixed, json!({"method": "card"})).await;
    assert_eq!(
        (status, &session["amount_total"], &session["amount_subtotal"]),
        (200, &json!(3000), &json!(3000))
    );
    let (status, missing) =
        sim_post(&sim, "payment_links/plink_missing/pay", json!({"method": "card"})).await;
    assert_eq!((status, missing["error"]["code"].as_str()), (404, Some("resource_missing")));
}

#[tokio::test]
async fn a_link_pay_creates_a_session_for_the_link_and_a_charge_with_stripes_fee() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let link = link(&sim, &price(&sim, &[("custom_unit_amount[enabled]", "true")]).await, "1").await;
    let body =
        json!({"method": "card", "amount": 2500, "customer": {"name": "Ana", "email": "ana@example.org"}});
    let (status, paid) = pay_link(&sim, &link, body).await;
    assert_eq!(status, 200, "{paid}");
    assert!(paid["id"].as_str().unwrap().starts_with("cs_test_"));
    assert_eq!((&paid["payment_link"], &paid["mode"]), (&link["id"], &json!("payment")));
    assert_eq!(paid["metadata"], json!({"zbor_campaign": "release-123"}));
    assert_eq!(
        (&paid["amount_total"], &paid["currency"], &paid["submit_type"]),
        (&json!(2500), &json!("eur"), &json!("donate"))
    );
    assert_eq!((&paid["status"], &paid["payment_status"]), (&json!("complete"), &json!("paid")));
    assert_eq!(paid["customer_details"]["email"], "ana@example.org");

    let events = receiver.wait_for(2).await;
    assert_eq!(types(&events), ["checkout.session.completed", "charge.succeeded"]);
    assert_eq!(events[0]["data"]["object"], paid);
    let charge = &events[1]["data"]["object"];
    assert!(charge["id"].as_str().unwrap().starts_with("ch_"));
    assert_eq!(
        (&charge["amount"], &charge["amount_captured"], &charge["currency"]),
        (&json!(2500), &json!(2500), &json!("eur"))
    );
    assert_eq!(
        (&charge["paid"], &charge["captured"], &charge["status"]),
        (&json!(true), &json!(true), &json!("succeeded"))
    );
    assert_eq!(charge["payment_intent"], paid["payment_intent"]);
    assert_eq!(charge["metadata"], json!({"zbor_campaign": "release-123"}), "payment_intent_data[metadata]");
    for personal in ["name", "email", "phone", "address"] {
        assert_eq!(charge["billing_details"][personal], Value::Null, "{personal}");
    }

    let txn_id = charge["balance_transaction"].as_str().unwrap();
    assert!(txn_id.starts_with("txn_"));
    let (status, _, txn) = get(&sim, &format!("balance_transactions/{txn_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(Some(&txn), sim.balance_transaction(txn_id).as_ref());
    assert_eq!((&txn["amount"], &txn["fee"], &txn["net"]), (&json!(2500), &json!(63), &json!(2437)));
    assert_eq!(
        (&txn["source"], &txn["type"], &txn["status"]),
        (&charge["id"], &json!("charge"), &json!("available"))
    );
    assert_eq!(
        txn["fee_details"],
        json!([{"amount": 63, "currency": "eur", "type": "stripe_fee", "description": "Stripe processing fees", "application": null}])
    );
}

#[tokio::test]
async fn fees_are_one_and_a_half_percent_plus_25_and_never_more_than_the_amount() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let amounts = [(100000, 1525), (2500, 63), (1000, 40), (20, 20)];
    for (amount, _) in amounts {
        let id = common::session(&sim, &amount.to_string()).await;
        let (status, _) =
            sim_post(&sim, &format!("checkout/sessions/{id}/pay"), json!({"method": "card"})).await;
        assert_eq!(status, 200);
    }
    let events = receiver.wait_for(2 * amounts.len()).await;
    let charges: Vec<&Value> =
        events.iter().filter(|e| e["type"] == "charge.succeeded").map(|e| &e["data"]["object"]).collect();
    assert_eq!(charges.len(), amounts.len());
    for (amount, fee) in amounts {
        let charge = charges.iter().find(|c| c["amount"] == amount).unwrap();
        let txn = sim.balance_transaction(charge["balance_transaction"].as_str().unwrap()).unwrap();
        assert_eq!((&txn["fee"], &txn["net"]), (&json!(fee), &json!(amount - fee)), "{amount}");
    }
}

#[tokio::test]
async fn sepa_debits_settle_after_the_delay_and_only_a_success_is_charged() {
    let receiver = Receiver::start().await;
    let config = Config { sepa_delay: Duration::from_secs(1), ..common::config(Some(receiver.url.clone())) };
    let sim = common::start(config).await;
    let succeeds = common::session(&sim, "1000").await;
    let (status, paid) =
        sim_post(&sim, &format!("checkout/sessions/{succeeds}/pay"), json!({"method": "sepa_debit_success"}))
            .await;
    assert_eq!(
        (status, &paid["status"], &paid["payment_status"]),
        (200, &json!("complete"), &json!("unpaid"))
    );
    let events = receiver.wait_for(1).await;
    assert_eq!(types(&events), ["checkout.session.completed"], "the outcome waits for the delay");
    let (_, _, pending) = get(&sim, &format!("checkout/sessions/{succeeds}")).await;
    assert_eq!(pending["payment_status"], "unpaid");

    let events = receiver.wait_for(3).await;
    assert_eq!(
        types(&events),
        ["checkout.session.completed", "checkout.session.async_payment_succeeded", "charge.succeeded"]
    );
    assert_eq!(events[1]["data"]["object"]["payment_status"], "paid");
    let charge = &events[2]["data"]["object"];
    assert_eq!(
        (&charge["amount"], &charge["payment_method_details"]["type"]),
        (&json!(1000), &json!("sepa_debit"))
    );
    assert!(sim.balance_transaction(charge["balance_transaction"].as_str().unwrap()).is_some());
    let (_, _, settled) = get(&sim, &format!("checkout/sessions/{succeeds}")).await;
    assert_eq!(settled["payment_status"], "paid");

    let fails = common::session(&sim, "700").await;
    let (status, _) =
        sim_post(&sim, &format!("checkout/sessions/{fails}/pay"), json!({"method": "sepa_debit_failure"}))
            .await;
    assert_eq!(status, 200);
    let events = receiver.wait_for(5).await;
    assert_eq!(types(&events[3..]), ["checkout.session.completed", "checkout.session.async_payment_failed"]);
    assert_eq!(events[4]["data"]["object"]["payment_status"], "unpaid");
}

#[tokio::test]
async fn duplicate_deliveries_deliver_every_event_twice() {
    let receiver = Receiver::start().await;
    let sim =
        common::start(Config { duplicate_deliveries: true, ..common::config(Some(receiver.url.clone())) })
            .await;
    let id = common::session(&sim, "1000").await;
    sim_post(&sim, &format!("checkout/sessions/{id}/pay"), json!({"method": "card"})).await;
    let events = receiver.wait_for(4).await;
    assert_eq!(
        types(&events),
        ["checkout.session.completed", "checkout.session.completed", "charge.succeeded", "charge.succeeded"]
    );
    assert_eq!(events[0], events[1], "the same event, id included");
    assert_eq!(events[2], events[3]);
    assert_ne!(events[0]["id"], events[2]["id"]);
    assert_eq!(sim.deliveries().len(), 4);
    assert!(sim.deliveries().iter().all(|d| d.status == Some(200)));
}

#[tokio::test]
async fn reordered_deliveries_bring_the_events_of_a_payment_newest_first() {
    let receiver = Receiver::start().await;
    let sim =
        common::start(Config { reorder_deliveries: true, ..common::config(Some(receiver.url.clone())) })
            .await;
    let card = common::session(&sim, "1000").await;
    sim_post(&sim, &format!("checkout/sessions/{card}/pay"), json!({"method": "card"})).await;
    let events = receiver.wait_for(2).await;
    assert_eq!(types(&events), ["charge.succeeded", "checkout.session.completed"]);

    let sepa = common::session(&sim, "1000").await;
    sim_post(&sim, &format!("checkout/sessions/{sepa}/pay"), json!({"method": "sepa_debit_success"})).await;
    let events = receiver.wait_for(5).await;
    assert_eq!(
        types(&events[2..]),
        ["charge.succeeded", "checkout.session.async_payment_succeeded", "checkout.session.completed"]
    );
}
