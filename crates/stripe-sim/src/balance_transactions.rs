//! Balance transactions: every movement of the platform's Stripe balance, each made with what
//! moved it (a charge, refund, dispute, transfer, transfer reversal, payout or failed payout) and
//! remembered with the automatic payout that paid it out. `GET /v1/balance_transactions/{id}`
//! and the list, `GET /v1/balance_transactions`, with Stripe's filters, cursors and
//! `expand[]=data.source`.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde_json::{json, Value};

use crate::lists::{self, TimeRange};
use crate::{form_value, ApiError, Sim, Store};

/// Every balance transaction, in the order they were made.
#[derive(Default)]
pub(crate) struct BalanceTransactions {
    all: Vec<Value>,
    /// id → position in `all`
    index: HashMap<String, usize>,
    /// id → the automatic payout it was paid out with; a payout's own transaction is its payout's.
    payout: HashMap<String, String>,
}

impl BalanceTransactions {
    pub(crate) fn insert(&mut self, txn: Value) {
        let id = txn["id"].as_str().unwrap_or_default().to_owned();
        self.index.insert(id, self.all.len());
        self.all.push(txn);
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Value> {
        self.index.get(id).and_then(|&i| self.all.get(i))
    }

    /// As Stripe lists them: the most recent `created` first, the later made first among equals.
    fn newest_first(&self) -> Vec<&Value> {
        let mut newest_first: Vec<&Value> = self.all.iter().rev().collect();
        // stable: equal `created` keep the reversed order they were made in
        newest_first.sort_by_key(|txn| Reverse(txn["created"].as_i64().unwrap_or_default()));
        newest_first
    }

    /// Those in `currency` no payout has paid out yet: the balance the next payout takes.
    pub(crate) fn not_paid_out(&self, currency: &str) -> Vec<&Value> {
        self.all
            .iter()
            .filter(|txn| txn["currency"] == currency)
            .filter(|txn| txn["id"].as_str().is_some_and(|id| !self.payout.contains_key(id)))
            .collect()
    }

    /// Records that payout `payout` paid out the transactions `ids`.
    pub(crate) fn paid_out(&mut self, ids: Vec<String>, payout: &str) {
        for id in ids {
            self.payout.insert(id, payout.to_owned());
        }
    }

    fn payout_of(&self, id: &str) -> Option<&str> {
        self.payout.get(id).map(String::as_str)
    }
}

/// A new balance transaction: what moved the balance, by how much, and Stripe's fee on it.
pub(crate) struct Entry<'a> {
    /// Stripe's `type`: `charge`, `refund`, `adjustment`, `transfer`, `payout`, …
    pub(crate) kind: &'static str,
    pub(crate) reporting_category: &'static str,
    /// Signed, minor units: positive credits the balance.
    pub(crate) amount: i64,
    pub(crate) currency: &'a str,
    /// The id of what moved it (`ch_…`, `re_…`, `du_…`, `po_…`, …).
    pub(crate) source: &'a str,
    /// Stripe's fee on it, and the fee's description (`Stripe processing fees`, `Dispute fee`).
    pub(crate) fee: Option<(i64, &'static str)>,
}

impl Entry<'_> {
    /// The balance transaction `id`, built from Stripe's example one: `net` is `amount - fee`,
    /// available at once.
    pub(crate) fn build(&self, sim: &Sim, id: &str, created: i64) -> Value {
        let fee = self.fee.map_or(0, |(fee, _)| fee);
        let mut txn = sim.fixture("balance_transaction");
        txn["id"] = json!(id);
        txn["created"] = json!(created);
        txn["available_on"] = json!(created);
        txn["amount"] = json!(self.amount);
        txn["currency"] = json!(self.currency);
        txn["description"] = Value::Null;
        txn["fee"] = json!(fee);
        txn["fee_details"] = match self.fee {
            Some((fee, description)) => json!([{
                "amount": fee,
                "application": null,
                "currency": self.currency,
                "description": description,
                "type": "stripe_fee",
            }]),
            None => json!([]),
        };
        txn["net"] = json!(self.amount - fee);
        txn["source"] = json!(self.source);
        txn["type"] = json!(self.kind);
        txn["reporting_category"] = json!(self.reporting_category);
        txn["status"] = json!("available");
        txn
    }
}

/// `GET /v1/balance_transactions/{id}`, with `expand[]=source`.
pub(crate) async fn retrieve(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = lists::parse_query(query.as_deref())?;
    lists::only_known(&query, &["expand"])?;
    let expand = lists::expand_only(&query, "source")?;
    let store = sim.store();
    let txn =
        store.balance_transactions.get(&id).ok_or_else(|| ApiError::no_such("balance transaction", &id))?;
    Ok(Json(if expand { expanded(&store, txn) } else { txn.clone() }))
}

/// `GET /v1/balance_transactions`: newest first; `created` (exactly or `[gt|gte|lt|lte]`),
/// `payout`, `type`, `source`, `currency`; `limit`, `starting_after`, `ending_before`;
/// `expand[]=data.source`.
pub(crate) async fn list(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = lists::parse_query(query.as_deref())?;
    lists::only_known(
        &query,
        &[
            "created",
            "currency",
            "ending_before",
            "expand",
            "limit",
            "payout",
            "source",
            "starting_after",
            "type",
        ],
    )?;
    let expand = lists::expand_only(&query, "data.source")?;
    let created = TimeRange::parse(&query, "created")?;
    let payout = form_value(&query, "payout");
    let kind = form_value(&query, "type");
    let source = form_value(&query, "source");
    let currency = form_value(&query, "currency").map(str::to_ascii_lowercase);
    let store = sim.store();
    if let Some(payout) = payout {
        if !store.payouts.iter().any(|p| p["id"] == payout) {
            return Err(ApiError::no_such_param("payout", payout, "payout"));
        }
    }
    let ledger = &store.balance_transactions;
    let keep = |txn: &Value| {
        let id = txn["id"].as_str().unwrap_or_default();
        created.holds(txn, "created")
            && payout.is_none_or(|p| ledger.payout_of(id) == Some(p))
            && kind.is_none_or(|k| txn["type"] == k)
            && source.is_none_or(|s| txn["source"] == s)
            && currency.as_deref().is_none_or(|c| txn["currency"] == c)
    };
    let (page, has_more) = lists::page(&ledger.newest_first(), keep, &query, "balance transaction")?;
    let data = page.into_iter().map(|txn| if expand { expanded(&store, txn) } else { txn.clone() }).collect();
    Ok(Json(lists::list(data, has_more, "/v1/balance_transactions")))
}

/// `txn` with its `source` id replaced by the object as it is now.
fn expanded(store: &Store, txn: &Value) -> Value {
    let mut txn = txn.clone();
    if let Some(object) = txn["source"].as_str().and_then(|id| source(store, id)) {
        txn["source"] = object;
    }
    txn
}

/// The object a balance transaction's `source` names, by its id's prefix.
fn source(store: &Store, id: &str) -> Option<Value> {
    let prefix = id.split('_').next().unwrap_or_default();
    match prefix {
        "ch" => store.charges.get(id).cloned(),
        "re" => store.refunds.get(id).cloned(),
        "du" => store.disputes.get(id).cloned(),
        "tr" => store.transfers.get(id).cloned(),
        "trr" => store.transfer_reversals.values().flatten().find(|r| r["id"] == id).cloned(),
        "po" => store.payouts.iter().find(|p| p["id"] == id).cloned(),
        _ => None,
    }
}
