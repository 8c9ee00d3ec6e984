//! Transfers to connected accounts (Stripe Connect): how zbor pays a beneficiary who has a Stripe
//! account, and their reversals (money taken back from the connected account). The
//! `Idempotency-Key` (handled in front of every route, see `api`) is what makes a retried
//! transfer one transfer: a replay is answered there, so it sends no second event either.
//!
//! Every transfer and reversal sends its event (`transfer.created`, `transfer.reversed`, the
//! transfer as it is then) in the order they happened: the events of one transfer are delivered
//! one after the other, each once the one before is acknowledged or given up.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::{Form, Json};
use serde_json::{json, Map, Value};

use crate::{form_int, form_map, form_value, new_id, now, webhooks, ApiError, Sim, Store};

/// Stripe shows the 10 most recent reversals on the transfer; the list endpoint pages the rest.
const REVERSALS_EMBEDDED: usize = 10;

pub(crate) async fn create(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
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
    let txn_id = new_id("txn");
    let created = now();
    let mut transfer = sim.fixture("transfer");
    transfer["id"] = json!(id);
    transfer["amount"] = json!(amount);
    transfer["amount_reversed"] = json!(0);
    transfer["currency"] = json!(currency);
    transfer["destination"] = json!(destination);
    transfer["destination_payment"] = json!(new_id("py"));
    transfer["balance_transaction"] = json!(txn_id);
    transfer["metadata"] = Value::Object(form_map(&form, "metadata"));
    transfer["transfer_group"] = json!(form_value(&form, "transfer_group"));
    transfer["description"] = json!(form_value(&form, "description"));
    transfer["created"] = json!(created);
    transfer["reversed"] = json!(false);
    transfer["reversals"] = reversals_list(&id, &[]);
    transfer["source_transaction"] = Value::Null;

    // the platform's balance pays the transfer
    let txn = balance_transaction(&sim, &txn_id, -amount, &currency, &id, Movement::Transfer, created);
    let event = webhooks::requested(webhooks::event(&sim, "transfer.created", &transfer), &headers);
    let mut store = sim.store();
    store.balance_transactions.insert(txn_id, txn);
    store.transfers.insert(id.clone(), transfer.clone());
    webhooks::deliver_in_turn(&sim, &mut store, &id, event);
    Ok(Json(transfer))
}

pub(crate) async fn retrieve(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let transfer = sim.store().transfers.get(&id).cloned();
    transfer.map(Json).ok_or_else(|| ApiError::no_such("transfer", &id))
}

/// What a reversal asks for: `amount` none reverses all that is left.
#[derive(Default)]
pub(crate) struct Reversal {
    pub(crate) amount: Option<i64>,
    pub(crate) metadata: Map<String, Value>,
}

/// `POST /v1/transfers/{id}/reversals`
pub(crate) async fn create_reversal(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    // `description` is accepted as Stripe does; Stripe's reversal object does not show it.
    let reversal = Reversal { amount: form_int(&form, "amount")?, metadata: form_map(&form, "metadata") };
    reverse(&sim, &id, reversal, Some(&headers)).map(Json)
}

/// Reverses `request.amount` of transfer `id` (all that is left without one), updates the
/// transfer and sends `transfer.reversed` with it; returns the `transfer_reversal`. `headers`:
/// those of the API request asking for it, none when the simulator does it on its own.
pub(crate) fn reverse(
    sim: &Arc<Sim>,
    id: &str,
    request: Reversal,
    headers: Option<&HeaderMap>,
) -> Result<Value, ApiError> {
    if request.amount.is_some_and(|amount| amount <= 0) {
        return Err(ApiError::invalid("amount", "Invalid positive integer"));
    }
    // one lock from the check to the update: concurrent reversals cannot both take the rest
    let mut store = sim.store();
    let transfer = store.transfers.get(id).ok_or_else(|| ApiError::no_such("transfer", id))?;
    let total = transfer["amount"].as_i64().unwrap_or_default();
    let reversed = transfer["amount_reversed"].as_i64().unwrap_or_default();
    let currency = transfer["currency"].clone();
    let remaining = total.saturating_sub(reversed);
    if remaining <= 0 {
        return Err(ApiError::bad_request(format!("The transfer {id} is already fully reversed.")));
    }
    let amount = request.amount.unwrap_or(remaining);
    if amount > remaining {
        return Err(ApiError::bad_request(format!(
            "Amount requested to be reversed ({amount}) is greater than the unreversed amount \
             remaining on the transfer ({remaining})."
        ))
        .with_param("amount"));
    }

    let (reversal_id, txn_id, created) = (new_id("trr"), new_id("txn"), now());
    let mut reversal = sim.fixture("transfer_reversal");
    reversal["id"] = json!(reversal_id);
    reversal["amount"] = json!(amount);
    reversal["currency"] = currency.clone();
    reversal["created"] = json!(created);
    reversal["transfer"] = json!(id);
    reversal["metadata"] = Value::Object(request.metadata);
    reversal["balance_transaction"] = json!(txn_id);
    // the connected account gives the money back by a refund of the payment the transfer made
    reversal["destination_payment_refund"] = json!(new_id("pyr"));
    // a reversal asked for, not one caused by refunding the charge the transfer came from
    reversal["source_refund"] = Value::Null;

    let currency = currency.as_str().unwrap_or_default().to_owned();
    let txn = balance_transaction(sim, &txn_id, amount, &currency, &reversal_id, Movement::Reversal, created);
    store.balance_transactions.insert(txn_id, txn);
    let reversals = store.transfer_reversals.entry(id.to_owned()).or_default();
    reversals.push(reversal.clone());
    let list = reversals_list(id, reversals);
    let Some(transfer) = store.transfers.get_mut(id) else {
        return Err(ApiError::no_such("transfer", id));
    };
    transfer["amount_reversed"] = json!(reversed + amount);
    transfer["reversed"] = json!(reversed + amount >= total);
    transfer["reversals"] = list;
    let transfer = transfer.clone();
    let mut event = webhooks::event(sim, "transfer.reversed", &transfer);
    if let Some(headers) = headers {
        event = webhooks::requested(event, headers);
    }
    webhooks::deliver_in_turn(sim, &mut store, id, event);
    Ok(reversal)
}

/// `GET /v1/transfers/{id}/reversals`: newest first, `limit` (1 to 100, default 10),
/// `starting_after` and `ending_before` as Stripe pages lists.
pub(crate) async fn list_reversals(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let limit = form_int(&query, "limit")?.unwrap_or(10);
    let limit = usize::try_from(limit)
        .ok()
        .filter(|l| (1..=100).contains(l))
        .ok_or_else(|| ApiError::invalid("limit", "This value must be between 1 and 100."))?;
    let store = sim.store();
    if !store.transfers.contains_key(&id) {
        return Err(ApiError::no_such("transfer", &id));
    }
    let newest_first: Vec<&Value> = reversals(&store, &id).iter().rev().collect();
    let position = |param: &str, cursor: &str| {
        newest_first
            .iter()
            .position(|r| r["id"] == cursor)
            .ok_or_else(|| ApiError::no_such("transfer_reversal", cursor).with_param(param))
    };
    let (page, has_more) = if let Some(cursor) = form_value(&query, "starting_after") {
        let older = newest_first.get(position("starting_after", cursor)? + 1..).unwrap_or_default();
        (older.iter().take(limit).collect::<Vec<_>>(), older.len() > limit)
    } else if let Some(cursor) = form_value(&query, "ending_before") {
        // the `limit` newer ones closest to the cursor
        let newer = newest_first.get(..position("ending_before", cursor)?).unwrap_or_default();
        let start = newer.len().saturating_sub(limit);
        (newer.get(start..).unwrap_or_default().iter().collect(), start > 0)
    } else {
        (newest_first.iter().take(limit).collect(), newest_first.len() > limit)
    };
    Ok(Json(json!({
        "object": "list",
        "data": page,
        "has_more": has_more,
        "url": format!("/v1/transfers/{id}/reversals"),
    })))
}

/// `GET /v1/transfers/{id}/reversals/{reversal}`
pub(crate) async fn retrieve_reversal(
    State(sim): State<Arc<Sim>>,
    Path((id, reversal)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let store = sim.store();
    if !store.transfers.contains_key(&id) {
        return Err(ApiError::no_such("transfer", &id));
    }
    let found = reversals(&store, &id).iter().find(|r| r["id"] == reversal.as_str()).cloned();
    found.map(Json).ok_or_else(|| ApiError::no_such("transfer_reversal", &reversal))
}

/// The reversals of transfer `id`, oldest first.
fn reversals<'a>(store: &'a Store, id: &str) -> &'a [Value] {
    store.transfer_reversals.get(id).map(Vec::as_slice).unwrap_or_default()
}

/// The transfer's `reversals`: the most recent ones first, as Stripe embeds them.
fn reversals_list(id: &str, oldest_first: &[Value]) -> Value {
    let data: Vec<&Value> = oldest_first.iter().rev().take(REVERSALS_EMBEDDED).collect();
    json!({
        "object": "list",
        "data": data,
        "has_more": oldest_first.len() > REVERSALS_EMBEDDED,
        "url": format!("/v1/transfers/{id}/reversals"),
    })
}

/// What moves the platform's balance.
#[derive(Clone, Copy)]
enum Movement {
    Transfer,
    Reversal,
}

/// The platform balance's side of a transfer (`amount` negative) or a reversal (positive).
fn balance_transaction(
    sim: &Sim,
    id: &str,
    amount: i64,
    currency: &str,
    source: &str,
    movement: Movement,
    created: i64,
) -> Value {
    // Stripe's `type` and `reporting_category`
    let (kind, reporting_category) = match movement {
        Movement::Transfer => ("transfer", "transfer"),
        Movement::Reversal => ("transfer_refund", "transfer_reversal"),
    };
    let mut txn = sim.fixture("balance_transaction");
    txn["id"] = json!(id);
    txn["created"] = json!(created);
    txn["available_on"] = json!(created);
    txn["amount"] = json!(amount);
    txn["currency"] = json!(currency);
    txn["description"] = Value::Null;
    txn["fee"] = json!(0);
    txn["fee_details"] = json!([]);
    txn["net"] = json!(amount);
    txn["source"] = json!(source);
    txn["type"] = json!(kind);
    txn["reporting_category"] = json!(reporting_category);
    txn["status"] = json!("available");
    txn
}
