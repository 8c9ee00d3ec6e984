//! Transfers to connected accounts (Stripe Connect): how zbor pays a beneficiary who has a Stripe
//! account, and their reversals (money taken back from the connected account). The
//! `Idempotency-Key` (handled in front of every route, see `api`) is what makes a retried
//! transfer one transfer: a replay is answered there, so it sends no second event either.
//!
//! Every transfer and reversal sends its event (`transfer.created`, `transfer.reversed`, the
//! transfer as it is then) in the order they happened: the events of one transfer are delivered
//! one after the other, each once the one before is acknowledged or given up.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::{Form, Json};
use serde_json::{json, Map, Value};

use crate::balance_transactions::Entry;
use crate::{form_int, form_map, form_value, lists, new_id, webhooks, ApiError, Sim, Store};

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
    let created = sim.now();
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
    let entry = Entry {
        kind: "transfer",
        reporting_category: "transfer",
        amount: -amount,
        currency: &currency,
        source: &id,
        fee: None,
    };
    let txn = entry.build(&sim, &txn_id, created);
    let event = webhooks::requested(webhooks::event(&sim, "transfer.created", &transfer), &headers);
    let mut store = sim.store();
    store.balance_transactions.insert(txn);
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

    let (reversal_id, txn_id, created) = (new_id("trr"), new_id("txn"), sim.now());
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
    let entry = Entry {
        kind: "transfer_refund",
        reporting_category: "transfer_reversal",
        amount,
        currency: &currency,
        source: &reversal_id,
        fee: None,
    };
    store.balance_transactions.insert(entry.build(sim, &txn_id, created));
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
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = lists::parse_query(query.as_deref())?;
    lists::only_known(&query, &["ending_before", "expand", "limit", "starting_after"])?;
    let store = sim.store();
    if !store.transfers.contains_key(&id) {
        return Err(ApiError::no_such("transfer", &id));
    }
    let newest_first: Vec<&Value> = reversals(&store, &id).iter().rev().collect();
    let (page, has_more) = lists::page(&newest_first, |_| true, &query, "transfer_reversal")?;
    let data = page.into_iter().cloned().collect();
    Ok(Json(lists::list(data, has_more, &format!("/v1/transfers/{id}/reversals"))))
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
