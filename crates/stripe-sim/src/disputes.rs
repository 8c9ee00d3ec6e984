//! Disputes (chargebacks): the donor's bank takes a payment back. Stripe withdraws the disputed
//! amount and its dispute fee from the balance at once; a won dispute gives the amount back (the
//! fee stays with Stripe), a lost one keeps it. Opened and closed by tests
//! ([`crate::Simulator::dispute`], [`crate::Simulator::close_dispute`]), as the bank would;
//! `GET /v1/disputes/{id}`.
//!
//! Events, one after the other per dispute: `charge.dispute.created` and
//! `charge.dispute.funds_withdrawn` when opened; `charge.dispute.funds_reinstated` (won only) and
//! `charge.dispute.closed` when closed. Each carries the dispute, whose `balance_transactions`
//! are the full balance transactions of the withdrawal (and of the reinstatement).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::balance_transactions::Entry;
use crate::{charges, new_id, webhooks, ApiError, Sim};

/// Stripe's dispute fee, in minor units of the charge's currency (€15.00).
pub(crate) const FEE: i64 = 1500;

/// How long the platform has to answer with evidence.
const EVIDENCE_DAYS: i64 = 7;

/// Opens a dispute over the whole amount of the charge `key` names (`ch_…` or its `pi_…`).
pub(crate) fn open(sim: &Arc<Sim>, key: &str) -> Result<Value, ApiError> {
    let mut store = sim.store();
    let charge_id = charges::find(&store, key).ok_or_else(|| charges::not_found(key))?.to_owned();
    if store.disputes.values().any(|d| d["charge"] == charge_id.as_str()) {
        return Err(ApiError::bad_request(format!("Charge {charge_id} has already been disputed.")));
    }
    let charge = store.charges.get(&charge_id).cloned().unwrap_or_default();
    let amount = charge["amount"].as_i64().unwrap_or_default();
    let currency = charge["currency"].as_str().unwrap_or_default().to_owned();
    let (id, txn_id, created) = (new_id("du"), new_id("txn"), sim.now());

    let entry = Entry {
        kind: "adjustment",
        reporting_category: "dispute",
        amount: -amount,
        currency: &currency,
        source: &id,
        fee: Some((FEE, "Dispute fee")),
    };
    let txn = entry.build(sim, &txn_id, created);
    let by_card = charge["payment_method_details"]["type"] == "card";
    let mut dispute = sim.fixture("dispute");
    dispute["id"] = json!(id);
    dispute["amount"] = json!(amount);
    dispute["currency"] = json!(currency);
    dispute["created"] = json!(created);
    dispute["charge"] = json!(charge_id);
    dispute["payment_intent"] = charge["payment_intent"].clone();
    dispute["reason"] = json!("fraudulent");
    dispute["status"] = json!("needs_response");
    dispute["balance_transactions"] = json!([txn]);
    dispute["is_charge_refundable"] = json!(false);
    dispute["evidence_details"]["due_by"] = json!(created + EVIDENCE_DAYS * 24 * 3600);
    if by_card {
        // a chargeback (not an inquiry), Visa's fraud reason code
        dispute["payment_method_details"]["card"]["case_type"] = json!("chargeback");
        dispute["payment_method_details"]["card"]["network_reason_code"] = json!("10.4");
    } else {
        // Stripe details card (and a few wallets') disputes only
        dispute["payment_method_details"] = Value::Null;
        dispute["enhanced_eligibility_types"] = json!([]);
    }

    store.balance_transactions.insert(txn);
    store.disputes.insert(id.clone(), dispute.clone());
    if let Some(charge) = store.charges.get_mut(&charge_id) {
        charge["disputed"] = json!(true);
    }
    for kind in ["charge.dispute.created", "charge.dispute.funds_withdrawn"] {
        let event = webhooks::event(sim, kind, &dispute);
        webhooks::deliver_in_turn(sim, &mut store, &id, event);
    }
    Ok(dispute)
}

/// Closes dispute `id`, won or lost.
pub(crate) fn close(sim: &Arc<Sim>, id: &str, won: bool) -> Result<Value, ApiError> {
    let mut store = sim.store();
    let dispute = store.disputes.get(id).ok_or_else(|| ApiError::no_such("dispute", id))?;
    let status = dispute["status"].as_str().unwrap_or_default();
    if ["won", "lost", "warning_closed", "prevented"].contains(&status) {
        return Err(ApiError::bad_request(format!("The dispute {id} is already closed ({status}).")));
    }
    let amount = dispute["amount"].as_i64().unwrap_or_default();
    let currency = dispute["currency"].as_str().unwrap_or_default().to_owned();
    let reinstated = won.then(|| {
        let entry = Entry {
            kind: "adjustment",
            reporting_category: "dispute_reversal",
            amount,
            currency: &currency,
            source: id,
            fee: None,
        };
        entry.build(sim, &new_id("txn"), sim.now())
    });
    let Some(dispute) = store.disputes.get_mut(id) else {
        return Err(ApiError::no_such("dispute", id));
    };
    dispute["status"] = json!(if won { "won" } else { "lost" });
    if let (Some(txn), Some(txns)) = (&reinstated, dispute["balance_transactions"].as_array_mut()) {
        txns.push(txn.clone());
    }
    let dispute = dispute.clone();
    if let Some(txn) = reinstated {
        store.balance_transactions.insert(txn);
    }
    let kinds: &[&str] = if won {
        &["charge.dispute.funds_reinstated", "charge.dispute.closed"]
    } else {
        &["charge.dispute.closed"]
    };
    for kind in kinds {
        let event = webhooks::event(sim, kind, &dispute);
        webhooks::deliver_in_turn(sim, &mut store, id, event);
    }
    Ok(dispute)
}

/// `GET /v1/disputes/{id}`
pub(crate) async fn retrieve(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let dispute = sim.store().disputes.get(&id).cloned();
    dispute.map(Json).ok_or_else(|| ApiError::no_such("dispute", &id))
}
