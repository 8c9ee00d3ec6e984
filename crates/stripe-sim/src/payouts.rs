//! Stripe's automatic payouts of the platform's balance to its bank account, made by tests
//! ([`crate::Simulator::pay_out`], as Stripe's payout schedule would) and returned by the bank
//! ([`crate::Simulator::fail_payout`]); `GET /v1/payouts/{id}` and `GET /v1/payouts`.
//!
//! A payout takes the balance available in its currency: every balance transaction in it that no
//! payout took yet (charges, refunds, disputes, transfers and their reversals, failed payouts),
//! which `GET /v1/balance_transactions?payout=po_…` then lists with the payout's own. Events, one
//! after the other per payout: `payout.created` (the payout `in_transit`), `payout.paid`, and
//! `payout.failed` when the bank returns it.

use std::cmp::Reverse;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde_json::{json, Value};

use crate::balance_transactions::Entry;
use crate::lists::{self, TimeRange};
use crate::{form_value, new_id, webhooks, ApiError, Sim};

/// The platform's bank account, every payout's `destination`.
pub(crate) const BANK_ACCOUNT: &str = "ba_1ZborSimPlatformBank000";

const STATEMENT_DESCRIPTOR: &str = "ZBOR STRIPE";

/// The failure codes Stripe reports on a returned payout, with Stripe's messages.
const FAILURES: &[(&str, &str)] = &[
    ("account_closed", "The bank account has been closed."),
    ("account_frozen", "The bank account has been frozen."),
    (
        "bank_account_restricted",
        "The bank account has restrictions on either the type, or the number, of payouts allowed.",
    ),
    (
        "bank_ownership_changed",
        "The destination bank account is no longer valid because its branch has changed ownership.",
    ),
    ("could_not_process", "The bank could not process this payout."),
    ("debit_not_authorized", "Debit transactions are not approved on the bank account."),
    ("declined", "The bank has declined this transfer. Please contact the bank before retrying."),
    (
        "incorrect_account_holder_name",
        "The bank notified us that the bank account holder name on file is incorrect.",
    ),
    ("insufficient_funds", "Your Stripe account has insufficient funds to cover the payout."),
    ("invalid_account_number", "The routing number seems correct, but the account number is invalid."),
    ("invalid_currency", "The bank was unable to process this payout because of its currency."),
    (
        "no_account",
        "The bank account details on file are probably incorrect. No bank account could be located \
         with those details.",
    ),
];

/// Pays out the balance available in `currency`.
pub(crate) fn pay_out(sim: &Arc<Sim>, currency: &str) -> Result<Value, ApiError> {
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(ApiError::invalid("currency", format!("Invalid currency: {currency}")));
    }
    let currency = currency.to_ascii_lowercase();
    let mut store = sim.store();
    let taken = store.balance_transactions.not_paid_out(&currency);
    let amount: i64 = taken.iter().map(|txn| txn["net"].as_i64().unwrap_or_default()).sum();
    let mut ids: Vec<String> = taken.iter().filter_map(|txn| txn["id"].as_str().map(str::to_owned)).collect();
    if amount <= 0 {
        return Err(ApiError::bad_request(format!(
            "You have insufficient funds in your Stripe account: the {currency} balance available \
             for a payout is {amount}."
        ))
        .with_code("balance_insufficient"));
    }
    let (id, txn_id, created) = (new_id("po"), new_id("txn"), sim.now());
    let entry = Entry {
        kind: "payout",
        reporting_category: "payout",
        amount: -amount,
        currency: &currency,
        source: &id,
        fee: None,
    };
    store.balance_transactions.insert(entry.build(sim, &txn_id, created));
    ids.push(txn_id.clone());
    store.balance_transactions.paid_out(ids, &id);

    let mut payout = sim.fixture("payout");
    payout["id"] = json!(id);
    payout["amount"] = json!(amount);
    payout["currency"] = json!(currency);
    payout["created"] = json!(created);
    payout["arrival_date"] = json!(created);
    payout["automatic"] = json!(true);
    payout["method"] = json!("standard");
    payout["type"] = json!("bank_account");
    payout["destination"] = json!(BANK_ACCOUNT);
    payout["balance_transaction"] = json!(txn_id);
    payout["failure_balance_transaction"] = Value::Null;
    payout["failure_code"] = Value::Null;
    payout["failure_message"] = Value::Null;
    payout["statement_descriptor"] = json!(STATEMENT_DESCRIPTOR);
    payout["metadata"] = json!({});
    // on its way: what `payout.created` shows
    payout["status"] = json!("in_transit");
    payout["reconciliation_status"] = json!("in_progress");
    payout["trace_id"] = json!({ "status": "pending", "value": null });
    let in_transit = webhooks::event(sim, "payout.created", &payout);
    payout["status"] = json!("paid");
    payout["reconciliation_status"] = json!("completed");
    // the bank's reference for the credit, once it arrived
    let trace = new_id("ZBORSIM").replace('_', "").to_ascii_uppercase();
    payout["trace_id"] = json!({ "status": "supported", "value": trace });
    let paid = webhooks::event(sim, "payout.paid", &payout);
    store.payouts.push(payout.clone());
    webhooks::deliver_in_turn(sim, &mut store, &id, in_transit);
    webhooks::deliver_in_turn(sim, &mut store, &id, paid);
    Ok(payout)
}

/// The bank returns payout `id`: its amount goes back on the balance.
pub(crate) fn fail(sim: &Arc<Sim>, id: &str, failure_code: &str) -> Result<Value, ApiError> {
    let Some(&(code, message)) = FAILURES.iter().find(|(code, _)| *code == failure_code) else {
        let known: Vec<&str> = FAILURES.iter().map(|(code, _)| *code).collect();
        return Err(ApiError::invalid(
            "failure_code",
            format!("Unknown failure code {failure_code}: one of {}", known.join(", ")),
        ));
    };
    let mut store = sim.store();
    let payout =
        store.payouts.iter().find(|p| p["id"] == id).ok_or_else(|| ApiError::no_such("payout", id))?;
    if payout["status"] == "failed" {
        return Err(ApiError::bad_request(format!("The payout {id} has already failed.")));
    }
    let amount = payout["amount"].as_i64().unwrap_or_default();
    let currency = payout["currency"].as_str().unwrap_or_default().to_owned();
    let txn_id = new_id("txn");
    let entry = Entry {
        kind: "payout_failure",
        reporting_category: "payout_reversal",
        amount,
        currency: &currency,
        source: id,
        fee: None,
    };
    let txn = entry.build(sim, &txn_id, sim.now());
    store.balance_transactions.insert(txn);
    let Some(payout) = store.payouts.iter_mut().find(|p| p["id"] == id) else {
        return Err(ApiError::no_such("payout", id));
    };
    payout["status"] = json!("failed");
    payout["failure_code"] = json!(code);
    payout["failure_message"] = json!(message);
    payout["failure_balance_transaction"] = json!(txn_id);
    let payout = payout.clone();
    let event = webhooks::event(sim, "payout.failed", &payout);
    webhooks::deliver_in_turn(sim, &mut store, id, event);
    Ok(payout)
}

/// `GET /v1/payouts/{id}`
pub(crate) async fn retrieve(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let payout = sim.store().payouts.iter().find(|p| p["id"] == id.as_str()).cloned();
    payout.map(Json).ok_or_else(|| ApiError::no_such("payout", &id))
}

/// `GET /v1/payouts`: newest first; `created` and `arrival_date` (exactly or
/// `[gt|gte|lt|lte]`), `status`, `destination`; `limit`, `starting_after`, `ending_before`.
pub(crate) async fn list(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = lists::parse_query(query.as_deref())?;
    lists::only_known(
        &query,
        &[
            "arrival_date",
            "created",
            "destination",
            "ending_before",
            "expand",
            "limit",
            "starting_after",
            "status",
        ],
    )?;
    if let Some(path) = lists::expansions(&query).first() {
        return Err(ApiError::invalid("expand", format!("This property cannot be expanded ({path}).")));
    }
    let created = TimeRange::parse(&query, "created")?;
    let arrival = TimeRange::parse(&query, "arrival_date")?;
    let status = form_value(&query, "status");
    let destination = form_value(&query, "destination");
    let store = sim.store();
    let mut newest_first: Vec<&Value> = store.payouts.iter().rev().collect();
    newest_first.sort_by_key(|p| Reverse(p["created"].as_i64().unwrap_or_default()));
    let keep = |payout: &Value| {
        created.holds(payout, "created")
            && arrival.holds(payout, "arrival_date")
            && status.is_none_or(|s| payout["status"] == s)
            && destination.is_none_or(|d| payout["destination"] == d)
    };
    let (page, has_more) = lists::page(&newest_first, keep, &query, "payout")?;
    Ok(Json(lists::list(page.into_iter().cloned().collect(), has_more, "/v1/payouts")))
}
