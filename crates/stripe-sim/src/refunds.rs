//! Refunds: `POST /v1/refunds` (of a `charge` or a `payment_intent`, all that is left or
//! `amount` of it) and `GET /v1/refunds/{id}`; [`crate::Simulator::refund`] does the same for
//! tests. Each refund takes its amount from the balance (a `refund` balance transaction; Stripe
//! keeps its fee), raises the charge's `amount_refunded`, and sends `charge.refunded` with the
//! charge, whose `amount_refunded` is the running total zbor books from, then `refund.created`.
//! A charge's refund events are delivered one after the other, in the order of the refunds.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::{Form, Json};
use serde_json::{json, Map, Value};

use crate::balance_transactions::Entry;
use crate::{charges, form_int, form_map, form_value, new_id, webhooks, ApiError, Sim};

/// Stripe shows the 10 most recent refunds on the charge.
const REFUNDS_EMBEDDED: usize = 10;

/// What a refund asks for beyond its charge: `amount` none refunds all that is left.
#[derive(Default)]
pub(crate) struct Request {
    pub(crate) amount: Option<i64>,
    pub(crate) metadata: Map<String, Value>,
    pub(crate) reason: Option<String>,
}

/// `POST /v1/refunds`
pub(crate) async fn create(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let charge = form_value(&form, "charge");
    let payment_intent = form_value(&form, "payment_intent");
    let key = match (charge, payment_intent) {
        (Some(charge), _) => charge,
        (None, Some(payment_intent)) => payment_intent,
        (None, None) => {
            return Err(ApiError::bad_request(
                "One of the following params should be provided for this request: payment_intent or charge.",
            ));
        }
    };
    let reason = form_value(&form, "reason");
    if let Some(reason) = reason {
        if !["duplicate", "fraudulent", "requested_by_customer"].contains(&reason) {
            return Err(ApiError::invalid(
                "reason",
                format!(
                    "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer \
                     (not {reason})"
                ),
            ));
        }
    }
    let request = Request {
        amount: form_int(&form, "amount")?,
        metadata: form_map(&form, "metadata"),
        reason: reason.map(str::to_owned),
    };
    if let (Some(charge), Some(payment_intent)) = (charge, payment_intent) {
        // both given: they must be the same payment
        let store = sim.store();
        let found = charges::find(&store, charge).ok_or_else(|| charges::not_found(charge))?;
        if store.charges.get(found).is_none_or(|c| c["payment_intent"] != payment_intent) {
            return Err(ApiError::invalid(
                "payment_intent",
                format!("The charge {charge} does not belong to the PaymentIntent {payment_intent}."),
            ));
        }
    }
    refund(&sim, key, request, Some(&headers)).map(Json)
}

/// Refunds the charge `key` names (`ch_…`, or the `pi_…` it paid), updates the charge and sends
/// `charge.refunded` and `refund.created`; returns the `refund`. `headers`: those of the API
/// request asking for it, none when a test does it through the simulator.
pub(crate) fn refund(
    sim: &Arc<Sim>,
    key: &str,
    request: Request,
    headers: Option<&HeaderMap>,
) -> Result<Value, ApiError> {
    if request.amount.is_some_and(|amount| amount <= 0) {
        return Err(ApiError::invalid("amount", "Invalid positive integer"));
    }
    // one lock from the check to the update: concurrent refunds cannot both take the rest
    let mut store = sim.store();
    let charge_id = charges::find(&store, key).ok_or_else(|| charges::not_found(key))?.to_owned();
    let charge = store.charges.get(&charge_id).cloned().unwrap_or_default();
    let disputed = store.disputes.values().any(|d| d["charge"] == charge_id.as_str() && d["status"] != "won");
    if disputed {
        return Err(ApiError::bad_request(format!(
            "Charge {charge_id} has been charged back; cannot issue a refund."
        ))
        .with_code("charge_disputed"));
    }
    let total = charge["amount"].as_i64().unwrap_or_default();
    let refunded = charge["amount_refunded"].as_i64().unwrap_or_default();
    let remaining = total.saturating_sub(refunded);
    if remaining <= 0 {
        return Err(ApiError::bad_request(format!("Charge {charge_id} has already been refunded."))
            .with_code("charge_already_refunded"));
    }
    let amount = request.amount.unwrap_or(remaining);
    if amount > remaining {
        return Err(ApiError::bad_request(format!(
            "Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})."
        ))
        .with_param("amount"));
    }

    let (refund_id, txn_id, created) = (new_id("re"), new_id("txn"), sim.now());
    let currency = charge["currency"].as_str().unwrap_or_default().to_owned();
    let mut refund = sim.fixture("refund");
    refund["id"] = json!(refund_id);
    refund["amount"] = json!(amount);
    refund["currency"] = json!(currency);
    refund["created"] = json!(created);
    refund["charge"] = json!(charge_id);
    refund["payment_intent"] = charge["payment_intent"].clone();
    refund["payment_method"] = charge["payment_method"].clone();
    refund["balance_transaction"] = json!(txn_id);
    refund["status"] = json!("succeeded");
    refund["metadata"] = Value::Object(request.metadata);
    refund["reason"] = json!(request.reason);
    refund["destination_details"] = if charge["payment_method_details"]["type"] == "card" {
        json!({
            "card": {
                "reference": null,
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        })
    } else {
        json!({ "type": charge["payment_method_details"]["type"] })
    };
    let entry = Entry {
        kind: "refund",
        reporting_category: "refund",
        amount: -amount,
        currency: &currency,
        source: &refund_id,
        fee: None,
    };
    store.balance_transactions.insert(entry.build(sim, &txn_id, created));
    store.refunds.insert(refund_id.clone(), refund.clone());

    // the charge shows its most recent refunds, the one just made first
    let count = store.refunds.values().filter(|r| r["charge"] == charge_id.as_str()).count();
    let mut shown = vec![refund.clone()];
    shown.extend(charge["refunds"]["data"].as_array().into_iter().flatten().cloned());
    shown.truncate(REFUNDS_EMBEDDED);
    let refunds = json!({
        "object": "list",
        "data": shown,
        "has_more": count > REFUNDS_EMBEDDED,
        "url": format!("/v1/charges/{charge_id}/refunds"),
    });
    let Some(charge) = store.charges.get_mut(&charge_id) else {
        return Err(charges::not_found(key));
    };
    charge["amount_refunded"] = json!(refunded + amount);
    charge["refunded"] = json!(refunded + amount >= total);
    charge["refunds"] = refunds;
    let charge = charge.clone();
    for (kind, object) in [("charge.refunded", &charge), ("refund.created", &refund)] {
        let mut event = webhooks::event(sim, kind, object);
        if let Some(headers) = headers {
            event = webhooks::requested(event, headers);
        }
        webhooks::deliver_in_turn(sim, &mut store, &charge_id, event);
    }
    Ok(refund)
}

/// `GET /v1/refunds/{id}`
pub(crate) async fn retrieve(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let refund = sim.store().refunds.get(&id).cloned();
    refund.map(Json).ok_or_else(|| ApiError::no_such("refund", &id))
}
