#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The simulator keeps Stripe's rules: API key, idempotency, rate limits, signed webhooks retried
//! until they are acknowledged.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use zbor_stripe_sim::{Config, Simulator};

const KEY: &str = "sk_test_sim";

fn config(webhook_url: Option<String>, rate_limit_every: u64) -> Config {
    Config {
        api_key: KEY.into(),
        webhook_url,
        webhook_secret: "whsec_sim".into(),
        rate_limit_every,
        retry_first: Duration::from_millis(20),
        retries_max: 5,
        ..Config::default()
    }
}

fn donation_form(amount: &str) -> Vec<(&'static str, String)> {
    vec![
        ("mode", "payment".into()),
        ("submit_type", "donate".into()),
        ("success_url", "https://example.org/thanks".into()),
        ("line_items[0][price_data][currency]", "eur".into()),
        ("line_items[0][price_data][unit_amount]", amount.into()),
        ("line_items[0][price_data][product_data][name]", "Donation".into()),
        ("line_items[0][quantity]", "1".into()),
        ("metadata[zbor_campaign]", "release-123".into()),
    ]
}

async fn create(
    sim: &Simulator,
    key: Option<&str>,
    idempotency: Option<&str>,
    amount: &str,
) -> (u16, HeaderMap, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/checkout/sessions", sim.base_url))
        .form(&donation_form(amount));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if let Some(idempotency) = idempotency {
        req = req.header("idempotency-key", idempotency);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status().as_u16(), res.headers().clone());
    (status, headers, res.json().await.unwrap())
}

#[tokio::test]
async fn sessions_need_the_key_and_keep_stripes_idempotency_rules() {
    let sim = Simulator::start(config(None, 0), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (status, _, body) = create(&sim, None, None, "2500").await;
    assert_eq!((status, body["error"]["type"].as_str()), (401, Some("invalid_request_error")));

    // Basic auth with the key as user name works too, as with curl -u sk_test_…:
    let basic = reqwest::Client::new()
        .post(format!("{}/v1/checkout/sessions", sim.base_url))
        .basic_auth(KEY, Some(""))
        .form(&donation_form("100"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
    let (status, _, first) = create(&sim, Some(KEY), Some("key-1"), "2500").await;
    assert_eq!(status, 200);
    assert!(first["id"].as_str().unwrap().starts_with("cs_test_"));
    assert_eq!((&first["amount_total"], &first["currency"]), (&Value::from(2500), &Value::from("eur")));
    assert_eq!(first["metadata"]["zbor_campaign"], "release-123");
    assert_eq!((&first["status"], &first["payment_status"]), (&Value::from("open"), &Value::from("unpaid")));

    let (status, headers, replay) = create(&sim, Some(KEY), Some("key-1"), "2500").await;
    assert_eq!((status, &replay["id"]), (200, &first["id"]));
    assert_eq!(headers["idempotent-replayed"], "true");
    let (status, _, conflict) = create(&sim, Some(KEY), Some("key-1"), "9900").await;
    assert_eq!((status, conflict["error"]["type"].as_str()), (400, Some("idempotency_error")));

    let (status, _, bad) = create(&sim, Some(KEY), None, "-5").await;
    assert_eq!(
        (status, bad["error"]["param"].as_str()),
        (400, Some("line_items[0][price_data][unit_amount]"))
    );
}

#[tokio::test]
async fn rate_limited_requests_succeed_on_retry_under_the_same_key_without_duplicates() {
    let sim = Simulator::start(config(None, 2), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (status, _, first) = create(&sim, Some(KEY), Some("k-a"), "1000").await;
    assert_eq!(status, 200);
    let (status, _, limited) = create(&sim, Some(KEY), Some("k-b"), "1000").await;
    assert_eq!((status, limited["error"]["type"].as_str()), (429, Some("rate_limit_error")));
    let (status, _, retried) = create(&sim, Some(KEY), Some("k-b"), "1000").await;
    assert_eq!(status, 200);
    assert_ne!(retried["id"], first["id"]);
    // Every 2nd request is limited: the 4th is, the 5th replays the stored response.
    let (status, _, limited) = create(&sim, Some(KEY), Some("k-b"), "1000").await;
    assert_eq!((status, limited["error"]["type"].as_str()), (429, Some("rate_limit_error")));
    let (status, headers, replay) = create(&sim, Some(KEY), Some("k-b"), "1000").await;
    assert_eq!((status, &replay["id"]), (200, &retried["id"]));
    assert_eq!(headers["idempotent-replayed"], "true");
}

#[tokio::test]
async fn webhooks_are_signed_and_retried_until_acknowledged() {
    // A receiver that fails twice, then accepts, and checks every signature.
    let attempts = Arc::new(AtomicU32::new(0));
    let seen = attempts.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let header = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
                let secrets = zbor_stripe::signature::WebhookSecrets::parse("whsec_sim").unwrap();
                if zbor_stripe::signature::verify(header, &body, &secrets, chrono::Utc::now().timestamp())
                    .is_err()
                {
                    return StatusCode::BAD_REQUEST;
                }
                if seen.fetch_add(1, Ordering::SeqCst) < 2 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let sim = Simulator::start(config(Some(hook), 0), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let (_, _, session) = create(&sim, Some(KEY), None, "2500").await;
    let pay = reqwest::Client::new()
        .post(format!("{}/sim/checkout/sessions/{}/pay", sim.base_url, session["id"].as_str().unwrap()))
        .json(&serde_json::json!({ "method": "card" }))
        .send()
        .await
        .unwrap();
    assert_eq!(pay.status(), 200);
    // the session's event, then (once that one is acknowledged) the charge's
    for _ in 0..100 {
        if sim.deliveries().iter().filter(|d| d.status == Some(200)).count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let statuses: Vec<Option<u16>> = sim.deliveries().iter().map(|d| d.status).collect();
    assert_eq!(statuses, vec![Some(500), Some(500), Some(200), Some(200)]);
    let types: Vec<String> = sim.deliveries().into_iter().map(|d| d.event_type).collect();
    assert_eq!(types[..3], ["checkout.session.completed"; 3]);
    assert_eq!(types[3], "charge.succeeded");
    assert_eq!(sim.deliveries().iter().map(|d| d.attempt).collect::<Vec<_>>(), [1, 2, 3, 1]);
}

mod common;

#[tokio::test]
async fn server_errors_say_retry_and_a_retry_under_the_same_key_creates_one_object() {
    let sim = common::start(Config { server_error_every: 2, ..common::config(None) }).await;
    let (status, _, first) = create(&sim, Some(KEY), Some("k-a"), "1000").await;
    assert_eq!(status, 200);
    // The 2nd request fails before it is executed: nothing is created, nothing stored under k-b.
    let (status, headers, failed) = create(&sim, Some(KEY), Some("k-b"), "1000").await;
    assert_eq!((status, failed["error"]["type"].as_str()), (500, Some("api_error")));
    assert_eq!(headers["stripe-should-retry"], "true");
    assert_eq!(sim.checkout_sessions().len(), 1);
    let (status, headers, retried) = create(&sim, Some(KEY), Some("k-b"), "1000").await;
    assert_eq!(status, 200);
    assert!(headers.get("idempotent-replayed").is_none());
    assert_ne!(retried["id"], first["id"]);
    // Reads count and fail too (the 4th request).
    let (status, _, failed) =
        common::get(&sim, &format!("checkout/sessions/{}", first["id"].as_str().unwrap())).await;
    assert_eq!((status, failed["error"]["type"].as_str()), (500, Some("api_error")));
    let (status, headers, replay) = create(&sim, Some(KEY), Some("k-b"), "1000").await;
    assert_eq!((status, &replay["id"]), (200, &retried["id"]));
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(sim.checkout_sessions().len(), 2);
}

#[tokio::test]
async fn rate_limits_and_server_errors_share_one_request_counter() {
    let sim =
        common::start(Config { rate_limit_every: 2, server_error_every: 3, ..common::config(None) }).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(create(&sim, Some(KEY), None, "1000").await.0);
    }
    // 2, 4 and 6 are rate limited (the rate limit wins on 6); 3 fails with a 500.
    assert_eq!(statuses, vec![200, 429, 500, 429, 200, 429]);
}

#[tokio::test]
async fn an_idempotency_key_belongs_to_one_path_and_a_refused_request_leaves_it_free() {
    let sim = common::start(common::config(None)).await;
    let price = [("currency", "eur"), ("unit_amount", "1000"), ("product_data[name]", "Donation")];
    let (status, _, _) = common::post_form(&sim, "prices", &price, Some("same-key")).await;
    assert_eq!(status, 200);
    // The same key and the same form on another path is another request.
    let (status, _, conflict) = common::post_form(&sim, "payment_links", &price, Some("same-key")).await;
    assert_eq!((status, conflict["error"]["type"].as_str()), (400, Some("idempotency_error")));

    // Stripe stores no result for a request that failed validation: corrected, it goes through.
    let (status, _, invalid) = create(&sim, Some(KEY), Some("fix-me"), "-1").await;
    assert_eq!((status, invalid["error"]["type"].as_str()), (400, Some("invalid_request_error")));
    let (status, _, created) = create(&sim, Some(KEY), Some("fix-me"), "1000").await;
    assert_eq!((status, &created["amount_total"]), (200, &Value::from(1000)));
}

#[tokio::test]
async fn every_v1_route_needs_the_key_and_unknown_urls_get_stripes_404() {
    let sim = common::start(common::config(None)).await;
    for path in [
        "checkout/sessions/cs_x",
        "prices/price_x",
        "payment_links/plink_x",
        "balance_transactions/txn_x",
        "events/evt_x",
    ] {
        let response = reqwest::get(format!("{}/v1/{path}", sim.base_url)).await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
        let (status, _, missing) = common::get(&sim, path).await;
        assert_eq!((status, missing["error"]["code"].as_str()), (404, Some("resource_missing")), "{path}");
    }
    let (status, _, unknown) = common::get(&sim, "customers").await;
    assert_eq!((status, unknown["error"]["type"].as_str()), (404, Some("invalid_request_error")));
}

#[tokio::test]
async fn a_paying_donor_may_give_a_name_and_email_and_otherwise_stays_anonymous() {
    let sim = common::start(common::config(None)).await;
    let anonymous = common::session(&sim, "1000").await;
    let (status, paid) =
        common::sim_post(&sim, &format!("checkout/sessions/{anonymous}/pay"), json!({"method": "card"}))
            .await;
    assert_eq!((status, &paid["customer_details"]), (200, &Value::Null));
    assert_eq!((&paid["status"], &paid["payment_status"]), (&json!("complete"), &json!("paid")));

    let named = common::session(&sim, "1000").await;
    let customer = json!({"method": "card", "customer": {"name": "Ana Petrova", "email": "ana@example.org"}});
    let (status, paid) = common::sim_post(&sim, &format!("checkout/sessions/{named}/pay"), customer).await;
    assert_eq!(status, 200);
    assert_eq!(paid["customer_details"]["name"], "Ana Petrova");
    assert_eq!(paid["customer_details"]["email"], "ana@example.org");
    assert_eq!(paid["customer_details"]["phone"], Value::Null);
    let (_, _, retrieved) = common::get(&sim, &format!("checkout/sessions/{named}")).await;
    assert_eq!(retrieved, paid);

    let (status, again) =
        common::sim_post(&sim, &format!("checkout/sessions/{named}/pay"), json!({"method": "card"})).await;
    assert_eq!((status, again["error"]["type"].as_str()), (400, Some("invalid_request_error")));
    let (status, unknown) =
        common::sim_post(&sim, &format!("checkout/sessions/{anonymous}/pay"), json!({"method": "cash"}))
            .await;
    assert_eq!((status, unknown["error"]["param"].as_str()), (400, Some("method")));
}

#[tokio::test]
async fn the_webhook_url_can_be_set_once_the_receiver_runs() {
    let sim = common::start(common::config(None)).await;
    let receiver = common::Receiver::start().await;
    sim.set_webhook_url(Some(receiver.url.clone()));
    let id = common::session(&sim, "1000").await;
    common::sim_post(&sim, &format!("checkout/sessions/{id}/pay"), json!({"method": "card"})).await;
    let events = receiver.wait_for(2).await;
    assert_eq!(common::types(&events), ["checkout.session.completed", "charge.succeeded"]);
}

#[tokio::test]
async fn session_and_link_urls_open_a_simulated_checkout_page() {
    let sim = common::start(common::config(None)).await;
    let form = [
        ("mode", "payment"),
        ("line_items[0][price_data][currency]", "eur"),
        ("line_items[0][price_data][unit_amount]", "2500"),
        ("success_url", "https://example.org/</script><script>alert(1)</script>"),
    ];
    let (_, _, session) = common::post_form(&sim, "checkout/sessions", &form, None).await;
    let page = reqwest::get(session["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("/sim/checkout/sessions/{}/pay", session["id"].as_str().unwrap())));
    assert!(html.contains("€25.00"), "the amount as money, not minor units: {html}");
    assert!(!html.contains("</script><script>alert"), "the success_url cannot break out of the script");

    let price = [
        ("currency", "eur"),
        ("custom_unit_amount[enabled]", "true"),
        ("custom_unit_amount[preset]", "2500"),
        ("product", "prod_1"),
    ];
    let (_, _, price) = common::post_form(&sim, "prices", &price, None).await;
    let link = [("line_items[0][price]", price["id"].as_str().unwrap()), ("line_items[0][quantity]", "1")];
    let (_, _, link) = common::post_form(&sim, "payment_links", &link, None).await;
    let html = reqwest::get(link["url"].as_str().unwrap()).await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("/sim/payment_links/{}/pay", link["id"].as_str().unwrap())));
    assert!(html.contains(r#"value="2500""#));
    assert_eq!(reqwest::get(format!("{}/pay/cs_test_missing", sim.base_url)).await.unwrap().status(), 404);
}
