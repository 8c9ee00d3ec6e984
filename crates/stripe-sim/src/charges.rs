//! The money side of a successful payment: a Charge, and the BalanceTransaction that credits the
//! account with the amount less Stripe's fee. `GET /v1/charges/{id}`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::balance_transactions::Entry;
use crate::sessions::PayMethod;
use crate::{new_id, ApiError, Sim, Store};

/// Stripe's fee in minor units: 1.5% (rounded half up) plus 25, never more than the amount.
/// 2500 → 63, 100000 → 1525.
pub(crate) fn fee(amount: i64) -> i64 {
    let percent = amount.saturating_mul(15).saturating_add(500) / 1000;
    percent.saturating_add(25).min(amount)
}

/// Creates and stores the charge paying `session`, and its balance transaction.
pub(crate) fn create(sim: &Sim, store: &mut Store, session: &Value, method: PayMethod) -> Value {
    let session_id = session["id"].as_str().unwrap_or_default();
    let amount = session["amount_total"].as_i64().unwrap_or_default();
    let currency = session["currency"].clone();
    let (charge_id, txn_id) = (new_id("ch"), new_id("txn"));
    let created = sim.now();

    let mut charge = sim.fixture("charge");
    charge["id"] = json!(charge_id);
    charge["created"] = json!(created);
    charge["amount"] = json!(amount);
    charge["amount_captured"] = json!(amount);
    charge["amount_refunded"] = json!(0);
    charge["currency"] = currency.clone();
    charge["payment_intent"] = session["payment_intent"].clone();
    charge["payment_method"] = json!(new_id("pm"));
    charge["balance_transaction"] = json!(txn_id);
    charge["paid"] = json!(true);
    charge["captured"] = json!(true);
    charge["status"] = json!("succeeded");
    charge["description"] = Value::Null;
    // `payment_intent_data[metadata]` lives on the PaymentIntent, which Stripe copies to its charge
    let metadata = store.payment_intent_metadata.get(session_id).cloned().unwrap_or_default();
    charge["metadata"] = Value::Object(metadata);
    // `payment_intent_data[receipt_email]`: Stripe emails its receipt there
    charge["receipt_email"] = json!(store.receipt_emails.get(session_id));
    // zbor keeps no personal data: the charge carries none either
    charge["billing_details"] = json!({
        "address": null, "email": null, "name": null, "phone": null, "tax_id": null,
    });
    charge["outcome"] = json!({
        "advice_code": null,
        "network_advice_code": null,
        "network_decline_code": null,
        "network_status": "approved_by_network",
        "reason": null,
        "risk_level": "normal",
        "seller_message": "Payment complete.",
        "type": "authorized",
    });
    charge["payment_method_details"] = match method {
        PayMethod::Card => {
            let mut details = charge["payment_method_details"].clone();
            details["card"]["amount_authorized"] = json!(amount);
            details["card"]["overcapture"]["maximum_amount_capturable"] = json!(amount);
            details["card"]["wallet"] = Value::Null;
            details["card"]["installments"] = Value::Null;
            details
        }
        PayMethod::SepaDebit { .. } => json!({
            "type": "sepa_debit",
            "sepa_debit": {
                "bank_code": "37040044",
                "branch_code": null,
                "country": "DE",
                "fingerprint": "zborSimSepaFp000",
                "last4": "3000",
                "mandate": new_id("mandate"),
            },
        }),
    };
    charge["receipt_url"] = json!(format!("{}/receipts/{charge_id}", sim.base_url));
    charge["refunds"] = json!({
        "object": "list", "data": [], "has_more": false, "url": format!("/v1/charges/{charge_id}/refunds"),
    });
    // the example charge's shipping, legacy source and transfer are not part of a donation
    charge["shipping"] = Value::Null;
    charge["source"] = Value::Null;
    charge["transfer_data"] = Value::Null;

    let fee = fee(amount);
    let currency = currency.as_str().unwrap_or_default();
    let entry = Entry {
        kind: "charge",
        reporting_category: "charge",
        amount,
        currency,
        source: &charge_id,
        fee: Some((fee, "Stripe processing fees")),
    };
    let txn = entry.build(sim, &txn_id, created);

    store.balance_transactions.insert(txn);
    store.charges.insert(charge_id, charge.clone());
    charge
}

pub(crate) async fn retrieve_charge(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let charge = sim.store().charges.get(&id).cloned();
    charge.map(Json).ok_or_else(|| ApiError::no_such("charge", &id))
}

/// The id of the charge `key` names: a charge's own id (`ch_…`), or the PaymentIntent it paid.
pub(crate) fn find<'a>(store: &'a Store, key: &str) -> Option<&'a str> {
    if key.starts_with("ch_") {
        return store.charges.get_key_value(key).map(|(id, _)| id.as_str());
    }
    store.charges.iter().find(|(_, charge)| charge["payment_intent"] == key).map(|(id, _)| id.as_str())
}

/// The error for a `key` naming no charge: as `POST /v1/refunds` answers an unknown `charge` or
/// `payment_intent` (an id in a parameter: 400).
pub(crate) fn not_found(key: &str) -> ApiError {
    if key.starts_with("ch_") {
        ApiError::no_such_param("charge", key, "charge")
    } else {
        ApiError::no_such_param("payment_intent", key, "payment_intent")
    }
}
