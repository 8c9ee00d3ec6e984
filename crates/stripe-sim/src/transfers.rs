//! Transfers to connected accounts (Stripe Connect): how zbor pays a beneficiary who has a Stripe
//! account. The `Idempotency-Key` (handled in front of every route, see `api`) is what makes a
//! retried transfer one transfer.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::{Form, Json};
use serde_json::{json, Value};

use crate::{form_int, form_map, form_value, new_id, now, ApiError, Sim};

pub(crate) async fn create(
    State(sim): State<Arc<Sim>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let amount = form_int(&form, "amount")?.ok_or_else(|| ApiError::missing("amount"))?;
    if amount <= 0 {
        return Err(ApiError::invalid("amount", "Invalid positive integer"));
    }
    let currency =
        form_value(&form, "currency").ok_or_else(|| ApiError::missing("currency"))?.to_ascii_lowercase();
    let destination = form_value(&form, "destination").ok_or_else(|| ApiError::missing("destination"))?;
    if !destination.starts_with("acct_") {
        return Err(ApiError::invalid("destination", format!("No such destination: '{destination}'")));
    }
    let id = new_id("tr");
    let mut transfer = sim.fixture("transfer");
    transfer["id"] = json!(id);
    transfer["amount"] = json!(amount);
    transfer["amount_reversed"] = json!(0);
    transfer["currency"] = json!(currency);
    transfer["destination"] = json!(destination);
    transfer["destination_payment"] = json!(new_id("py"));
    transfer["balance_transaction"] = json!(new_id("txn"));
    transfer["metadata"] = Value::Object(form_map(&form, "metadata"));
    transfer["transfer_group"] = json!(form_value(&form, "transfer_group"));
    transfer["description"] = json!(form_value(&form, "description"));
    transfer["created"] = json!(now());
    transfer["reversed"] = json!(false);
    transfer["reversals"] = json!({ "object": "list", "data": [], "has_more": false, "url": format!("/v1/transfers/{id}/reversals") });
    transfer["source_transaction"] = Value::Null;
    sim.store().transfers.insert(id, transfer.clone());
    Ok(Json(transfer))
}

pub(crate) async fn retrieve(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let transfer = sim.store().transfers.get(&id).cloned();
    transfer.map(Json).ok_or_else(|| ApiError::no_such("transfer", &id))
}
