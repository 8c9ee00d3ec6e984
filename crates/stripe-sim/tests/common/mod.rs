//! Helpers shared by the simulator's tests: a webhook receiver and small request helpers.
#![allow(dead_code)] // each test file uses its own part

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use zbor_stripe_sim::{Config, Simulator};

pub const KEY: &str = "sk_test_sim";
pub const WEBHOOK_SECRET: &str = "whsec_sim";

/// A test configuration: fast retries, no faults.
pub fn config(webhook_url: Option<String>) -> Config {
    Config {
        api_key: KEY.into(),
        webhook_url,
        webhook_secret: WEBHOOK_SECRET.into(),
        retry_first: Duration::from_millis(20),
        retries_max: 5,
        ..Config::default()
    }
}

pub async fn start(config: Config) -> Simulator {
    Simulator::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// Accepts every correctly signed event (400 otherwise) and keeps it, in arrival order.
pub struct Receiver {
    pub url: String,
    events: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = events.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let seen = seen.clone();
                async move {
                    let header = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
                    let secrets = zbor_stripe::signature::WebhookSecrets::parse(WEBHOOK_SECRET).unwrap();
                    let now = chrono::Utc::now().timestamp();
                    if zbor_stripe::signature::verify(header, &body, &secrets, now).is_err() {
                        return StatusCode::BAD_REQUEST;
                    }
                    seen.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, events }
    }

    /// The events received once at least `n` have arrived (and a moment more, so that an
    /// unexpected extra one would show), or what arrived within 5 seconds.
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..250 {
            if self.events.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        self.events.lock().unwrap().clone()
    }
}

/// The `type`s of `events`, in order.
pub fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// A form POST to `/v1/{path}` with the API key and an optional idempotency key.
pub async fn post_form(
    sim: &Simulator,
    path: &str,
    form: &[(&str, &str)],
    idempotency_key: Option<&str>,
) -> (u16, HeaderMap, Value) {
    let mut request =
        reqwest::Client::new().post(format!("{}/v1/{path}", sim.base_url)).bearer_auth(KEY).form(form);
    if let Some(key) = idempotency_key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.json().await.unwrap())
}

pub async fn get(sim: &Simulator, path: &str) -> (u16, HeaderMap, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}/v1/{path}", sim.base_url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.json().await.unwrap())
}

/// A simulator route (`/sim/...`), JSON in and out.
pub async fn sim_post(sim: &Simulator, path: &str, body: Value) -> (u16, Value) {
    let response =
        reqwest::Client::new().post(format!("{}/sim/{path}", sim.base_url)).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// A one-item donation Checkout Session of `amount` cents; returns its id.
pub async fn session(sim: &Simulator, amount: &str) -> String {
    let form = [
        ("mode", "payment"),
        ("submit_type", "donate"),
        ("line_items[0][price_data][currency]", "eur"),
        ("line_items[0][price_data][unit_amount]", amount),
        ("line_items[0][price_data][product_data][name]", "Donation"),
        ("line_items[0][quantity]", "1"),
        ("metadata[zbor_campaign]", "release-123"),
    ];
    let (status, _, session) = post_form(sim, "checkout/sessions", &form, None).await;
    assert_eq!(status, 200, "{session}");
    session["id"].as_str().unwrap().to_owned()
}
