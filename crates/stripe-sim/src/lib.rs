//! A Stripe stand-in: Stripe cannot be reached from these machines, so development, tests and
//! load tests talk to this instead. It speaks Stripe's wire format (form-encoded requests,
//! Stripe's JSON objects built from Stripe's own example objects, Stripe's error shape), keeps
//! Stripe's idempotency rules, injects rate limits, lets a simulated donor pay, and delivers
//! signed webhooks the way Stripe does: retried with backoff until a 2xx.
//!
//! Implemented so far: Checkout Sessions (create, retrieve), paying one by card or SEPA debit
//! (succeeding or failing later), webhook delivery. Payment Links, transfers and refunds follow.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const FIXTURES: &str = include_str!("stripe-objects.json");

#[derive(Clone, Debug)]
pub struct Config {
    /// Secret API key requests must carry (`Authorization: Bearer sk_test_…`).
    pub api_key: String,
    /// Where webhooks go (zbor's `/webhooks/stripe`); none: events are only recorded.
    pub webhook_url: Option<String>,
    pub webhook_secret: String,
    /// Answer every Nth API request with 429, as Stripe does under load; 0: never.
    pub rate_limit_every: u64,
    /// First retry delay of a failed webhook delivery; doubles each time (Stripe: up to 3 days).
    pub retry_first: Duration,
    pub retries_max: u32,
}

/// One attempt to deliver a webhook, for tests to inspect.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Delivery {
    pub event_id: String,
    pub event_type: String,
    pub attempt: u32,
    pub status: Option<u16>,
}

struct Sim {
    config: Config,
    base_url: String,
    fixtures: Value,
    sessions: Mutex<HashMap<String, Value>>,
    /// Idempotency-Key → (request fingerprint, status, body)
    idempotency: Mutex<HashMap<String, (String, u16, Value)>>,
    api_requests: AtomicU64,
    deliveries: Mutex<Vec<Delivery>>,
    http: reqwest::Client,
}

pub struct Simulator {
    pub base_url: String,
    sim: Arc<Sim>,
}

impl Simulator {
    /// Starts on `listen` (port 0 picks one) and serves until the process ends.
    pub async fn start(config: Config, listen: std::net::SocketAddr) -> std::io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let fixtures: Value = serde_json::from_str(FIXTURES).map_err(std::io::Error::other)?;
        let sim = Arc::new(Sim {
            config,
            base_url: base_url.clone(),
            fixtures,
            sessions: Mutex::default(),
            idempotency: Mutex::default(),
            api_requests: AtomicU64::new(0),
            deliveries: Mutex::default(),
            http: reqwest::Client::new(),
        });
        let app = Router::new()
            .route("/v1/checkout/sessions", post(create_session))
            .route("/v1/checkout/sessions/{id}", get(retrieve_session))
            .route("/sim/checkout/sessions/{id}/pay", post(pay))
            .with_state(sim.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "stripe simulator stopped");
            }
        });
        Ok(Simulator { base_url, sim })
    }

    /// Every webhook delivery attempt so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.sim.deliveries.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

fn stripe_error(status: StatusCode, kind: &str, message: &str, param: Option<&str>) -> Response {
    let body = json!({ "error": { "type": kind, "message": message, "param": param } });
    (status, Json(body)).into_response()
}

/// Stripe takes the secret key as a bearer token or as the Basic-auth user name (`curl -u sk_…:`).
fn unauthorized() -> Response {
    stripe_error(StatusCode::UNAUTHORIZED, "invalid_request_error", "Invalid API Key provided", None)
}

fn authorized(sim: &Sim, headers: &HeaderMap) -> bool {
    use base64::Engine as _;
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else { return false };
    if let Some(key) = value.strip_prefix("Bearer ") {
        return key == sim.config.api_key;
    }
    value
        .strip_prefix("Basic ")
        .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .is_some_and(|user_password| user_password.split(':').next() == Some(sim.config.api_key.as_str()))
}

fn form_value<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_test_{}", uuid::Uuid::new_v4().simple())
}

async fn create_session(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if !authorized(&sim, &headers) {
        return unauthorized();
    }
    let n = sim.api_requests.fetch_add(1, Ordering::Relaxed) + 1;
    if sim.config.rate_limit_every > 0 && n % sim.config.rate_limit_every == 0 {
        return stripe_error(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", "Too many requests", None);
    }
    // Stripe's idempotency: the same key with the same request replays the first response; the
    // same key with a different request is an error.
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut sorted = form.clone();
    sorted.sort();
    let fingerprint = hex(&Sha256::digest(format!("/v1/checkout/sessions {sorted:?}").as_bytes()));
    if let Some(key) = &key {
        let stored = sim.idempotency.lock().ok().and_then(|m| m.get(key).cloned());
        if let Some((stored_fingerprint, status, body)) = stored {
            if stored_fingerprint != fingerprint {
                return stripe_error(
                    StatusCode::BAD_REQUEST,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters they were first used with",
                    None,
                );
            }
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            return (status, [("idempotent-replayed", "true")], Json(body)).into_response();
        }
    }
    let (status, body) = match new_session(&sim, &form) {
        Ok(session) => (StatusCode::OK, session),
        Err((param, message)) => (
            StatusCode::BAD_REQUEST,
            json!({ "error": { "type": "invalid_request_error", "message": message, "param": param } }),
        ),
    };
    if let (Some(key), Ok(mut store)) = (key, sim.idempotency.lock()) {
        store.insert(key, (fingerprint, status.as_u16(), body.clone()));
    }
    (status, Json(body)).into_response()
}

fn new_session(sim: &Sim, form: &[(String, String)]) -> Result<Value, (&'static str, String)> {
    let mode = form_value(form, "mode").ok_or(("mode", "Missing required param: mode.".to_owned()))?;
    if mode != "payment" {
        return Err(("mode", format!("The simulator supports mode=payment, not {mode}.")));
    }
    let currency = form_value(form, "line_items[0][price_data][currency]")
        .ok_or(("line_items[0][price_data][currency]", "Missing currency.".to_owned()))?;
    let unit_amount: i64 = form_value(form, "line_items[0][price_data][unit_amount]")
        .and_then(|v| v.parse().ok())
        .filter(|v: &i64| *v > 0)
        .ok_or(("line_items[0][price_data][unit_amount]", "Invalid positive integer.".to_owned()))?;
    let quantity: i64 = form_value(form, "line_items[0][quantity]").and_then(|v| v.parse().ok()).unwrap_or(1);
    let metadata: serde_json::Map<String, Value> = form
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((key.to_owned(), Value::String(v.clone())))
        })
        .collect();
    let id = new_id("cs");
    let mut session = sim.fixtures["checkout.session"].clone();
    session["id"] = json!(id);
    session["mode"] = json!("payment");
    session["status"] = json!("open");
    session["payment_status"] = json!("unpaid");
    session["currency"] = json!(currency.to_ascii_lowercase());
    session["amount_subtotal"] = json!(unit_amount * quantity);
    session["amount_total"] = json!(unit_amount * quantity);
    session["submit_type"] = json!(form_value(form, "submit_type"));
    session["success_url"] = json!(form_value(form, "success_url"));
    session["cancel_url"] = json!(form_value(form, "cancel_url"));
    session["metadata"] = Value::Object(metadata);
    session["payment_intent"] = Value::Null;
    session["customer_details"] = Value::Null;
    session["created"] = json!(chrono::Utc::now().timestamp());
    session["url"] = json!(format!("{}/pay/{id}", sim.base_url));
    if let Ok(mut sessions) = sim.sessions.lock() {
        sessions.insert(id, session.clone());
    }
    Ok(session)
}

async fn retrieve_session(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&sim, &headers) {
        return unauthorized();
    }
    match sim.sessions.lock().ok().and_then(|s| s.get(&id).cloned()) {
        Some(session) => Json(session).into_response(),
        None => stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "No such checkout.session",
            Some("id"),
        ),
    }
}

#[derive(serde::Deserialize)]
struct PayRequest {
    /// `card`, `sepa_debit_success` or `sepa_debit_failure`
    method: String,
}

/// A simulated donor completes the session; the resulting events are delivered as Stripe would.
async fn pay(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(request): Json<PayRequest>,
) -> Response {
    let Some(mut session) = sim.sessions.lock().ok().and_then(|s| s.get(&id).cloned()) else {
        return stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "No such checkout.session",
            Some("id"),
        );
    };
    if session["status"] != "open" {
        return stripe_error(StatusCode::BAD_REQUEST, "invalid_request_error", "Session is not open", None);
    }
    session["status"] = json!("complete");
    session["payment_intent"] = json!(new_id("pi").replace("pi_test_", "pi_"));
    let mut events = Vec::new();
    match request.method.as_str() {
        "card" => {
            session["payment_status"] = json!("paid");
            events.push(event(&sim, "checkout.session.completed", &session));
        }
        "sepa_debit_success" | "sepa_debit_failure" => {
            events.push(event(&sim, "checkout.session.completed", &session));
            let later = if request.method == "sepa_debit_success" {
                session["payment_status"] = json!("paid");
                "checkout.session.async_payment_succeeded"
            } else {
                "checkout.session.async_payment_failed"
            };
            events.push(event(&sim, later, &session));
        }
        other => {
            return stripe_error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                &format!("unknown method {other}"),
                None,
            )
        }
    }
    if let Ok(mut sessions) = sim.sessions.lock() {
        sessions.insert(id, session.clone());
    }
    let deliverer = sim.clone();
    tokio::spawn(async move {
        for event in events {
            deliverer.deliver(event).await;
        }
    });
    Json(session).into_response()
}

fn event(sim: &Sim, kind: &str, object: &Value) -> Value {
    let mut event = sim.fixtures["event"].clone();
    event["id"] = json!(new_id("evt").replace("evt_test_", "evt_"));
    event["type"] = json!(kind);
    event["created"] = json!(chrono::Utc::now().timestamp());
    event["data"] = json!({ "object": object });
    event["api_version"] = json!("2025-10-29.clover");
    event
}

impl Sim {
    /// Delivers one event, retrying with doubling delays until a 2xx or `retries_max`.
    async fn deliver(&self, event: Value) {
        let Some(url) = self.config.webhook_url.clone() else { return };
        let body = event.to_string();
        let event_id = event["id"].as_str().unwrap_or_default().to_owned();
        let event_type = event["type"].as_str().unwrap_or_default().to_owned();
        let mut delay = self.config.retry_first;
        for attempt in 1..=self.config.retries_max.max(1) {
            let signature = zbor_intake::webhook::signature::sign(
                body.as_bytes(),
                &self.config.webhook_secret,
                chrono::Utc::now().timestamp(),
            );
            let status = self
                .http
                .post(&url)
                .header("stripe-signature", signature)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .ok()
                .map(|r| r.status().as_u16());
            if let Ok(mut deliveries) = self.deliveries.lock() {
                deliveries.push(Delivery {
                    event_id: event_id.clone(),
                    event_type: event_type.clone(),
                    attempt,
                    status,
                });
            }
            if status.is_some_and(|s| (200..300).contains(&s)) {
                return;
            }
            tokio::time::sleep(delay).await;
            delay = delay.saturating_mul(2);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
