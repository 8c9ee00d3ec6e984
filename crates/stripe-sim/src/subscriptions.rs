//! Subscriptions and their invoices, as Stripe makes them for a `mode=subscription` Checkout
//! Session: a customer, a subscription with one item (the session's recurring price), and an
//! invoice per period, each paid by a charge (or failing, which leaves the subscription
//! `past_due`). Objects are Stripe's example objects (`subscription`, `invoice`, `customer`,
//! `price`) patched with what the session asked for.
//!
//! Invoices carry Stripe's `parent.subscription_details` (the subscription's id and a copy of its
//! metadata). As live Stripe does, the invoice in `invoice.paid` lists no `payments` (an
//! includable field, sent only when asked for): the `invoice_payment` that paid it, with its
//! PaymentIntent, comes in its own `invoice_payment.paid` event, after `invoice.paid`, so a
//! receiver must link the two to map a later refund of the charge back to the invoice. The
//! stored invoice keeps its `payments` list.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::sessions::{Customer, PayMethod};
use crate::{charges, form_map, form_value, new_id, webhooks, ApiError, Sim, Store};

/// A period, in seconds, for the subscription's `current_period_end` (the simulator renews only
/// when told to: [`renew`]).
const MONTH_SECONDS: i64 = 30 * 24 * 3600;

/// What a `mode=subscription` session's subscription will be.
#[derive(Clone)]
pub(crate) struct Recurring {
    pub interval: String,
    /// `subscription_data[metadata]`: on the subscription, and copied onto each invoice.
    pub metadata: Map<String, Value>,
}

impl Recurring {
    pub(crate) fn parse(form: &[(String, String)]) -> Result<Recurring, ApiError> {
        let key = "line_items[0][price_data][recurring][interval]";
        let interval = form_value(form, key).ok_or_else(|| ApiError::missing(key))?;
        if !matches!(interval, "day" | "week" | "month" | "year") {
            return Err(ApiError::invalid(key, format!("Invalid interval: {interval}")));
        }
        Ok(Recurring {
            interval: interval.to_owned(),
            metadata: form_map(form, "subscription_data[metadata]"),
        })
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct RenewRequest {
    succeeds: bool,
}

/// Completes an open `mode=subscription` session paid by card: the customer, the subscription,
/// its first invoice paid. Events, in Stripe's order: `customer.subscription.created`,
/// `charge.succeeded`, `invoice.paid`, `checkout.session.completed`.
pub(crate) fn complete_session(
    sim: &Arc<Sim>,
    session_id: &str,
    method: PayMethod,
    customer: Option<Customer>,
) -> Result<Value, ApiError> {
    if !matches!(method, PayMethod::Card) {
        return Err(ApiError::invalid("method", "The simulator's subscriptions are paid by card."));
    }
    let mut store = sim.store();
    let session = store
        .sessions
        .get(session_id)
        .cloned()
        .ok_or_else(|| ApiError::no_such("checkout.session", session_id))?;
    let recurring = store
        .recurring
        .get(session_id)
        .cloned()
        .ok_or_else(|| ApiError::no_such("checkout.session", session_id))?;
    let now = sim.now();

    let customer_id = new_id("cus");
    let email = customer
        .as_ref()
        .and_then(|c| c.email.clone())
        .or_else(|| session["customer_email"].as_str().map(str::to_owned));
    let mut customer_object = sim.fixture("customer");
    customer_object["id"] = json!(customer_id);
    customer_object["created"] = json!(now);
    customer_object["email"] = json!(email);
    customer_object["name"] = json!(customer.as_ref().and_then(|c| c.name.clone()));
    customer_object["currency"] = session["currency"].clone();
    customer_object["discount"] = Value::Null;
    store.customers.insert(customer_id.clone(), customer_object);

    let amount = session["amount_total"].as_i64().unwrap_or_default();
    let currency = session["currency"].as_str().unwrap_or_default().to_owned();
    let subscription_id = new_id("sub");
    let mut subscription =
        new_subscription(sim, &subscription_id, &customer_id, &currency, amount, &recurring, now);
    let (invoice, charge) = pay_invoice(sim, &mut store, &subscription, "subscription_create", true);
    subscription["latest_invoice"] = invoice["id"].clone();
    store.subscriptions.insert(subscription_id.clone(), subscription.clone());

    let Some(session) = store.sessions.get_mut(session_id) else {
        return Err(ApiError::no_such("checkout.session", session_id));
    };
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["customer"] = json!(customer_id);
    session["subscription"] = json!(subscription_id);
    session["invoice"] = invoice["id"].clone();
    session["payment_method_types"] = json!(["card"]);
    session["customer_details"] = customer.map_or(Value::Null, |c| crate::sessions::customer_details(sim, c));
    let session = session.clone();
    drop(store);
    let mut events = vec![webhooks::event(sim, "customer.subscription.created", &subscription)];
    if let Some(charge) = charge {
        events.push(webhooks::event(sim, "charge.succeeded", &charge));
    }
    events.extend(invoice_events(sim, &invoice, true));
    events.push(webhooks::event(sim, "checkout.session.completed", &session));
    webhooks::deliver_payment(sim.clone(), events, std::future::ready(Vec::new()));
    Ok(session)
}

/// A new `active` subscription with one item: the session's price, `quantity` 1.
fn new_subscription(
    sim: &Sim,
    id: &str,
    customer: &str,
    currency: &str,
    amount: i64,
    recurring: &Recurring,
    now: i64,
) -> Value {
    let mut price = sim.fixture("price");
    price["id"] = json!(new_id("price"));
    price["created"] = json!(now);
    price["currency"] = json!(currency);
    price["unit_amount"] = json!(amount);
    price["unit_amount_decimal"] = json!(amount.to_string());
    price["type"] = json!("recurring");
    price["custom_unit_amount"] = Value::Null;
    price["recurring"] = json!({
        "interval": recurring.interval, "interval_count": 1, "meter": null,
        "usage_type": "licensed", "trial_period_days": null,
    });
    price["product"] = json!(new_id("prod"));

    let mut subscription = sim.fixture("subscription");
    let mut item = subscription["items"]["data"][0].clone();
    item["id"] = json!(new_id("si"));
    item["created"] = json!(now);
    item["subscription"] = json!(id);
    item["price"] = price.clone();
    item["quantity"] = json!(1);
    item["current_period_start"] = json!(now);
    item["current_period_end"] = json!(now + MONTH_SECONDS);
    item["billing_thresholds"] = Value::Null;
    item["plan"] = json!({
        "active": true, "amount": amount, "amount_decimal": amount.to_string(), "billing_scheme": "per_unit",
        "created": now, "currency": currency, "id": price["id"], "interval": recurring.interval,
        "interval_count": 1, "livemode": false, "metadata": {}, "meter": null, "nickname": null,
        "object": "plan", "product": price["product"], "tiers_mode": null, "transform_usage": null,
        "trial_period_days": null, "usage_type": "licensed",
    });
    subscription["id"] = json!(id);
    subscription["created"] = json!(now);
    subscription["start_date"] = json!(now);
    subscription["billing_cycle_anchor"] = json!(now);
    subscription["billing_cycle_anchor_config"] = Value::Null;
    subscription["cancel_at"] = Value::Null;
    subscription["cancel_at_period_end"] = json!(false);
    subscription["canceled_at"] = Value::Null;
    subscription["ended_at"] = Value::Null;
    subscription["cancellation_details"] = json!({ "comment": null, "feedback": null, "reason": null });
    subscription["currency"] = json!(currency);
    subscription["customer"] = json!(customer);
    subscription["items"] = json!({
        "object": "list", "data": [item], "has_more": false,
        "url": format!("/v1/subscription_items?subscription={id}"),
    });
    subscription["metadata"] = Value::Object(recurring.metadata.clone());
    subscription["status"] = json!("active");
    subscription["trial_start"] = Value::Null;
    subscription["trial_end"] = Value::Null;
    subscription["pending_update"] = Value::Null;
    subscription["pause_collection"] = Value::Null;
    subscription["transfer_data"] = Value::Null;
    subscription["next_pending_invoice_item_invoice"] = Value::Null;
    subscription["pending_invoice_item_interval"] = Value::Null;
    subscription["discounts"] = json!([]);
    subscription
}

/// A new invoice for the subscription's current period, finalized; paid by a new charge when
/// `succeeds` (the charge is returned), or left `open` with its attempt failed.
fn pay_invoice(
    sim: &Sim,
    store: &mut Store,
    subscription: &Value,
    billing_reason: &str,
    succeeds: bool,
) -> (Value, Option<Value>) {
    let now = sim.now();
    let subscription_id = subscription["id"].as_str().unwrap_or_default();
    let item = &subscription["items"]["data"][0];
    let amount = item["price"]["unit_amount"].as_i64().unwrap_or_default();
    let currency = subscription["currency"].clone();
    let invoice_id = new_id("in");
    let payment_intent = new_id("pi");
    let sequence = store.invoices.values().filter(|i| i["subscription"] == subscription_id).count() + 1;
    let customer = store.customers.get(subscription["customer"].as_str().unwrap_or_default()).cloned();

    let mut invoice = sim.fixture("invoice");
    let mut line = invoice["lines"]["data"][0].clone();
    line["id"] = json!(new_id("il"));
    line["invoice"] = json!(invoice_id);
    line["amount"] = json!(amount);
    line["currency"] = currency.clone();
    line["description"] = json!("1 × Donation");
    line["discountable"] = json!(true);
    line["period"] = json!({ "start": now, "end": now + MONTH_SECONDS });
    line["subtotal"] = json!(amount);
    line["parent"] = json!({
        "type": "subscription_item_details",
        "invoice_item_details": null,
        "subscription_item_details": {
            "invoice_item": null, "proration": false, "proration_details": { "credited_items": null },
            "subscription": subscription_id, "subscription_item": item["id"],
        },
    });
    line["pricing"] = json!({
        "type": "price_details",
        "price_details": { "price": item["price"]["id"], "product": item["price"]["product"] },
        "unit_amount_decimal": amount.to_string(),
    });
    invoice["id"] = json!(invoice_id);
    invoice["created"] = json!(now);
    invoice["effective_at"] = json!(now);
    invoice["customer"] = subscription["customer"].clone();
    // Stripe copies the customer's email and name onto every invoice
    invoice["customer_email"] = customer.as_ref().map_or(Value::Null, |c| c["email"].clone());
    invoice["customer_name"] = customer.as_ref().map_or(Value::Null, |c| c["name"].clone());
    invoice["currency"] = currency.clone();
    invoice["billing_reason"] = json!(billing_reason);
    invoice["subscription"] = json!(subscription_id);
    invoice["parent"] = json!({
        "type": "subscription_details",
        "quote_details": null,
        "subscription_details": { "metadata": subscription["metadata"], "subscription": subscription_id },
    });
    invoice["lines"] = json!({
        "object": "list", "data": [line], "has_more": false, "url": format!("/v1/invoices/{invoice_id}/lines"),
    });
    invoice["number"] = json!(format!("ZBSIM-{sequence:04}"));
    invoice["subtotal"] = json!(amount);
    invoice["subtotal_excluding_tax"] = json!(amount);
    invoice["total"] = json!(amount);
    invoice["total_excluding_tax"] = json!(amount);
    invoice["amount_due"] = json!(amount);
    invoice["amount_paid"] = json!(if succeeds { amount } else { 0 });
    invoice["amount_remaining"] = json!(if succeeds { 0 } else { amount });
    invoice["amount_overpaid"] = json!(0);
    invoice["attempted"] = json!(true);
    invoice["attempt_count"] = json!(1);
    invoice["auto_advance"] = json!(!succeeds);
    invoice["due_date"] = Value::Null;
    invoice["from_invoice"] = Value::Null;
    invoice["last_finalization_error"] = Value::Null;
    invoice["shipping_cost"] = Value::Null;
    invoice["shipping_details"] = Value::Null;
    invoice["next_payment_attempt"] = if succeeds { Value::Null } else { json!(now + 3 * 24 * 3600) };
    invoice["period_start"] = json!(now);
    invoice["period_end"] = json!(now + MONTH_SECONDS);
    invoice["webhooks_delivered_at"] = Value::Null;
    invoice["hosted_invoice_url"] = json!(format!("{}/invoices/{invoice_id}", sim.base_url));
    invoice["status"] = json!(if succeeds { "paid" } else { "open" });
    invoice["status_transitions"] = json!({
        "finalized_at": now, "marked_uncollectible_at": null,
        "paid_at": if succeeds { json!(now) } else { Value::Null }, "voided_at": null,
    });
    // Stripe's `invoice_payment` object (as `payments` lists it when included)
    let payment = json!({
        "id": new_id("inpay"), "object": "invoice_payment", "invoice": invoice_id,
        "amount_paid": if succeeds { json!(amount) } else { Value::Null }, "amount_requested": amount,
        "created": now, "currency": currency, "is_default": true, "livemode": false,
        "payment": { "type": "payment_intent", "payment_intent": payment_intent },
        "status": if succeeds { "paid" } else { "open" },
        "status_transitions": { "canceled_at": null, "paid_at": if succeeds { json!(now) } else { Value::Null } },
    });
    invoice["payments"] = json!({
        "object": "list", "data": [payment], "has_more": false,
        "url": format!("/v1/invoice_payments?invoice={invoice_id}"),
    });
    let charge = succeeds.then(|| {
        // the charge is made as for a session: the invoice stands in for it
        let paying = json!({
            "id": invoice_id, "amount_total": amount, "currency": currency, "payment_intent": payment_intent,
        });
        charges::create(sim, store, &paying, PayMethod::Card)
    });
    store.invoices.insert(invoice_id, invoice.clone());
    (invoice, charge)
}

/// The invoice's events as live Stripe sends them: `invoice.paid` (or `invoice.payment_failed`)
/// without the includable `payments`, then, when paid, `invoice_payment.paid` with the payment.
fn invoice_events(sim: &Sim, invoice: &Value, succeeds: bool) -> Vec<Value> {
    let mut sent = invoice.clone();
    let payments = sent.as_object_mut().and_then(|object| object.remove("payments"));
    let mut events =
        vec![webhooks::event(sim, if succeeds { "invoice.paid" } else { "invoice.payment_failed" }, &sent)];
    if succeeds {
        if let Some(payment) = payments.as_ref().and_then(|list| list["data"].get(0)) {
            events.push(webhooks::event(sim, "invoice_payment.paid", payment));
        }
    }
    events
}

/// See [`crate::Simulator::renew`].
pub(crate) fn renew(sim: &Arc<Sim>, subscription_id: &str, succeeds: bool) -> Result<Value, ApiError> {
    let mut store = sim.store();
    let subscription = store
        .subscriptions
        .get(subscription_id)
        .cloned()
        .ok_or_else(|| ApiError::no_such("subscription", subscription_id))?;
    if subscription["status"] == "canceled" {
        return Err(ApiError::bad_request("A canceled subscription is not renewed."));
    }
    let (invoice, charge) = pay_invoice(sim, &mut store, &subscription, "subscription_cycle", succeeds);
    let status = if succeeds { "active" } else { "past_due" };
    let mut events = Vec::new();
    if let Some(charge) = charge {
        events.push(webhooks::event(sim, "charge.succeeded", &charge));
    }
    events.extend(invoice_events(sim, &invoice, succeeds));
    if let Some(stored) = store.subscriptions.get_mut(subscription_id) {
        stored["latest_invoice"] = invoice["id"].clone();
        if stored["status"] != status {
            let previous = stored["status"].clone();
            stored["status"] = json!(status);
            let mut updated = webhooks::event(sim, "customer.subscription.updated", stored);
            updated["data"]["previous_attributes"] = json!({ "status": previous });
            events.push(updated);
        }
    }
    drop(store);
    webhooks::deliver_payment(sim.clone(), events, std::future::ready(Vec::new()));
    Ok(invoice)
}

pub(crate) async fn renew_route(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(request): Json<RenewRequest>,
) -> Result<Json<Value>, ApiError> {
    renew(&sim, &id, request.succeeds).map(Json)
}

/// Cancels at once (`DELETE /v1/subscriptions/{id}`, or the customer portal): `canceled`, and
/// `customer.subscription.deleted`. Cancelling a canceled subscription changes nothing and
/// answers it as it is (a DELETE is idempotent at Stripe).
pub(crate) fn cancel_now(sim: &Arc<Sim>, id: &str, reason: &str) -> Result<Value, ApiError> {
    let mut store = sim.store();
    let Some(subscription) = store.subscriptions.get_mut(id) else {
        return Err(ApiError::no_such("subscription", id));
    };
    if subscription["status"] == "canceled" {
        return Ok(subscription.clone());
    }
    let now = sim.now();
    subscription["status"] = json!("canceled");
    subscription["canceled_at"] = json!(now);
    subscription["ended_at"] = json!(now);
    subscription["cancellation_details"]["reason"] = json!(reason);
    let subscription = subscription.clone();
    let event = webhooks::event(sim, "customer.subscription.deleted", &subscription);
    webhooks::deliver_in_turn(sim, &mut store, id, event);
    Ok(subscription)
}

pub(crate) async fn cancel(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    cancel_now(&sim, &id, "cancellation_requested").map(Json)
}

pub(crate) async fn retrieve(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let subscription = sim.store().subscriptions.get(&id).cloned();
    subscription.map(Json).ok_or_else(|| ApiError::no_such("subscription", &id))
}

pub(crate) async fn retrieve_invoice(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let invoice = sim.store().invoices.get(&id).cloned();
    invoice.map(Json).ok_or_else(|| ApiError::no_such("invoice", &id))
}
