//! Checkout Sessions: create and retrieve them, and a simulated donor paying one. Paying is
//! shared with payment links (`links.rs`), whose sessions are paid exactly the same way.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Form, Json};
use serde_json::{json, Map, Value};

use crate::{charges, form_int, form_map, form_value, new_id, subscriptions, webhooks, ApiError, Sim};

/// The donor as the hosted checkout page would have collected them.
#[derive(serde::Deserialize)]
pub(crate) struct Customer {
    pub(crate) name: Option<String>,
    pub(crate) email: Option<String>,
}

#[derive(serde::Deserialize)]
pub(crate) struct PayRequest {
    /// `card`, `sepa_debit_success` or `sepa_debit_failure`
    method: String,
    customer: Option<Customer>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum PayMethod {
    Card,
    /// Completes unpaid; the debit succeeds or fails `Config::sepa_delay` later.
    SepaDebit {
        succeeds: bool,
    },
}

impl PayMethod {
    pub(crate) fn parse(method: &str) -> Result<PayMethod, ApiError> {
        match method {
            "card" => Ok(PayMethod::Card),
            "sepa_debit_success" => Ok(PayMethod::SepaDebit { succeeds: true }),
            "sepa_debit_failure" => Ok(PayMethod::SepaDebit { succeeds: false }),
            other => Err(ApiError::invalid(
                "method",
                format!("unknown method {other}: card, sepa_debit_success or sepa_debit_failure"),
            )),
        }
    }
}

/// What a new session is made of, from `POST /v1/checkout/sessions` or from a payment link.
pub(crate) struct NewSession {
    pub currency: String,
    pub amount: i64,
    pub submit_type: Option<String>,
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    /// `locale`: the language Checkout's page opens in (`auto` when not given, as Stripe does).
    pub locale: Option<String>,
    pub metadata: Map<String, Value>,
    pub payment_link: Option<String>,
    /// `payment_intent_data[metadata]`: goes on the PaymentIntent and its Charge.
    pub payment_intent_metadata: Map<String, Value>,
    /// `customer_email`: prefilled at checkout, shown on the session (Stripe sends its receipts there).
    pub customer_email: Option<String>,
    /// `payment_intent_data[receipt_email]`: goes on the PaymentIntent and its Charge.
    pub receipt_email: Option<String>,
    /// `mode=subscription`: the price's `recurring[interval]` and `subscription_data[metadata]`.
    pub subscription: Option<subscriptions::Recurring>,
}

pub(crate) async fn create(
    State(sim): State<Arc<Sim>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let new = parse_create(&form)?;
    Ok(Json(insert(&sim, new)))
}

fn parse_create(form: &[(String, String)]) -> Result<NewSession, ApiError> {
    let mode = form_value(form, "mode").ok_or_else(|| ApiError::missing("mode"))?;
    let subscription = match mode {
        "payment" => None,
        "subscription" => Some(subscriptions::Recurring::parse(form)?),
        other => {
            return Err(ApiError::invalid(
                "mode",
                format!("The simulator supports mode=payment or mode=subscription, not {other}."),
            ))
        }
    };
    let payment_intent_fields = form.iter().any(|(k, _)| k.starts_with("payment_intent_data["));
    if subscription.is_some() && payment_intent_fields {
        return Err(ApiError::invalid(
            "payment_intent_data",
            "You can not pass `payment_intent_data` in `subscription` mode.",
        ));
    }
    let currency = form_value(form, "line_items[0][price_data][currency]")
        .ok_or_else(|| ApiError::missing("line_items[0][price_data][currency]"))?;
    let unit_amount = form_int(form, "line_items[0][price_data][unit_amount]")
        .ok()
        .flatten()
        .filter(|v| *v > 0)
        .ok_or_else(|| {
            ApiError::invalid("line_items[0][price_data][unit_amount]", "Invalid positive integer.")
        })?;
    let quantity = form_int(form, "line_items[0][quantity]")?.unwrap_or(1);
    let amount = unit_amount
        .checked_mul(quantity)
        .filter(|_| quantity > 0)
        .ok_or_else(|| ApiError::invalid("line_items[0][quantity]", "Invalid positive integer."))?;
    Ok(NewSession {
        currency: currency.to_ascii_lowercase(),
        amount,
        submit_type: form_value(form, "submit_type").map(str::to_owned),
        success_url: form_value(form, "success_url").map(str::to_owned),
        cancel_url: form_value(form, "cancel_url").map(str::to_owned),
        locale: form_value(form, "locale").map(str::to_owned),
        metadata: form_map(form, "metadata"),
        payment_link: None,
        payment_intent_metadata: form_map(form, "payment_intent_data[metadata]"),
        customer_email: form_value(form, "customer_email").map(str::to_owned),
        receipt_email: form_value(form, "payment_intent_data[receipt_email]").map(str::to_owned),
        subscription,
    })
}

/// Stores an open, unpaid session built from Stripe's example session and returns it.
pub(crate) fn insert(sim: &Sim, new: NewSession) -> Value {
    let id = new_id("cs_test");
    let mut session = sim.fixture("checkout.session");
    session["id"] = json!(id);
    session["mode"] = json!(if new.subscription.is_some() { "subscription" } else { "payment" });
    session["status"] = json!("open");
    session["payment_status"] = json!("unpaid");
    session["currency"] = json!(new.currency);
    session["amount_subtotal"] = json!(new.amount);
    session["amount_total"] = json!(new.amount);
    session["submit_type"] = json!(new.submit_type);
    session["success_url"] = json!(new.success_url);
    session["cancel_url"] = json!(new.cancel_url);
    session["locale"] = json!(new.locale);
    session["metadata"] = Value::Object(new.metadata);
    session["payment_link"] = json!(new.payment_link);
    session["payment_intent"] = Value::Null;
    session["customer_details"] = Value::Null;
    session["customer_email"] = json!(new.customer_email);
    session["customer"] = Value::Null;
    session["subscription"] = Value::Null;
    session["invoice"] = Value::Null;
    session["created"] = json!(sim.now());
    session["expires_at"] = json!(sim.now() + 24 * 3600);
    session["url"] = json!(format!("{}/pay/{id}", sim.base_url));
    let mut store = sim.store();
    store.payment_intent_metadata.insert(id.clone(), new.payment_intent_metadata);
    if let Some(email) = new.receipt_email {
        store.receipt_emails.insert(id.clone(), email);
    }
    if let Some(recurring) = new.subscription {
        store.recurring.insert(id.clone(), recurring);
    }
    store.sessions.insert(id, session.clone());
    session
}

pub(crate) async fn retrieve(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let session = sim.store().sessions.get(&id).cloned();
    session.map(Json).ok_or_else(|| ApiError::no_such("checkout.session", &id))
}

/// A simulated donor completes the session; the resulting events are delivered as Stripe would.
pub(crate) async fn pay(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(request): Json<PayRequest>,
) -> Result<Json<Value>, ApiError> {
    let method = PayMethod::parse(&request.method)?;
    complete(&sim, &id, method, request.customer).map(Json)
}

/// Completes an open session and starts delivering its events. Returns the session as
/// `checkout.session.completed` carries it: paid by card, still unpaid for a SEPA debit.
pub(crate) fn complete(
    sim: &Arc<Sim>,
    id: &str,
    method: PayMethod,
    customer: Option<Customer>,
) -> Result<Value, ApiError> {
    let mut store = sim.store();
    let session = store.sessions.get_mut(id).ok_or_else(|| ApiError::no_such("checkout.session", id))?;
    if session["status"] == "open" && session["mode"] == "subscription" {
        drop(store);
        return subscriptions::complete_session(sim, id, method, customer);
    }
    if session["status"] != "open" {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", "Session is not open"));
    }
    session["status"] = json!("complete");
    session["payment_intent"] = json!(new_id("pi"));
    session["customer_details"] = customer.map_or(Value::Null, |c| customer_details(sim, c));
    session["payment_method_types"] = json!([match method {
        PayMethod::Card => "card",
        PayMethod::SepaDebit { .. } => "sepa_debit",
    }]);
    match method {
        PayMethod::Card => {
            session["payment_status"] = json!("paid");
            let session = session.clone();
            let charge = charges::create(sim, &mut store, &session, method);
            drop(store);
            let events = vec![
                webhooks::event(sim, "checkout.session.completed", &session),
                webhooks::event(sim, "charge.succeeded", &charge),
            ];
            webhooks::deliver_payment(sim.clone(), events, std::future::ready(Vec::new()));
            Ok(session)
        }
        PayMethod::SepaDebit { succeeds } => {
            let session = session.clone();
            drop(store);
            let completed = vec![webhooks::event(sim, "checkout.session.completed", &session)];
            let delay = sim.config.sepa_delay;
            if delay.is_zero() {
                // settled before answering, so a retrieve right after the pay sees the outcome
                let outcome = settle_sepa(sim, id, succeeds);
                webhooks::deliver_payment(sim.clone(), completed, std::future::ready(outcome));
            } else {
                let (later, id) = (sim.clone(), id.to_owned());
                let outcome = async move {
                    tokio::time::sleep(delay).await;
                    settle_sepa(&later, &id, succeeds)
                };
                webhooks::deliver_payment(sim.clone(), completed, outcome);
            }
            Ok(session)
        }
    }
}

/// The SEPA debit's outcome: paid with a charge, or failed. Returns the events it causes.
fn settle_sepa(sim: &Sim, id: &str, succeeds: bool) -> Vec<Value> {
    let mut store = sim.store();
    let Some(session) = store.sessions.get_mut(id) else { return Vec::new() };
    if !succeeds {
        return vec![webhooks::event(sim, "checkout.session.async_payment_failed", session)];
    }
    session["payment_status"] = json!("paid");
    let session = session.clone();
    let charge = charges::create(sim, &mut store, &session, PayMethod::SepaDebit { succeeds });
    vec![
        webhooks::event(sim, "checkout.session.async_payment_succeeded", &session),
        webhooks::event(sim, "charge.succeeded", &charge),
    ]
}

/// `customer_details` as Stripe fills it from the checkout page: name and email, nothing else.
pub(crate) fn customer_details(sim: &Sim, customer: Customer) -> Value {
    let mut details = sim.fixture("checkout.session")["customer_details"].clone();
    details["name"] = json!(customer.name);
    details["email"] = json!(customer.email);
    details["tax_ids"] = json!([]);
    details
}
