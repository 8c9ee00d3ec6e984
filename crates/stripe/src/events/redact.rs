//! What of a Stripe event is kept: the minimum to audit a booking, never who the donor is.
//!
//! Stripe's objects carry names, emails, addresses and phone numbers (`customer_details`,
//! `billing_details`, `shipping_details`, ...). The stored payload is an allow-list projection,
//! so a field Stripe adds tomorrow is not kept by accident. A transfer's `destination` (the
//! beneficiary's connected account) is not kept either.

use serde_json::{json, Map, Value};

/// Fields kept from the event's object, whatever its type.
const KEPT: &[&str] = &[
    "id",
    "object",
    "mode",
    "status",
    "payment_status",
    "amount_total",
    "amount",
    "amount_refunded",
    "currency",
    "payment_intent",
    "payment_link",
    "charge",
    "balance_transaction",
    "submit_type",
    "created",
    "livemode",
    "amount_reversed",
    // monthly giving: which subscription an invoice or session belongs to, what was paid
    "subscription",
    "invoice",
    "billing_reason",
    "amount_paid",
];

/// Metadata keys kept (ours only: a donor-facing form could put anything in metadata).
const KEPT_METADATA: &[&str] = &["zbor_campaign", "zbor_anonymous", "zbor_payout"];

pub fn event(event: &super::Event) -> Value {
    let mut kept = Map::new();
    if let Value::Object(fields) = &event.object {
        for key in KEPT {
            if let Some(v) = fields.get(*key) {
                kept.insert((*key).to_owned(), v.clone());
            }
        }
        if let Some(Value::Object(metadata)) = fields.get("metadata") {
            let ours: Map<String, Value> = metadata
                .iter()
                .filter(|(k, _)| KEPT_METADATA.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            kept.insert("metadata".into(), Value::Object(ours));
        }
    }
    json!({ "id": event.id, "type": event.kind, "created": event.created, "data": { "object": kept } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_fields_are_not_kept() {
        let object = json!({
            "id": "cs_test_1", "object": "checkout.session", "amount_total": 2500, "currency": "eur",
            "customer_details": { "email": "donor@example.com", "name": "Jane Donor" },
            "customer_email": "donor@example.com",
            "metadata": { "zbor_campaign": "release-123", "note": "from Jane" }
        });
        let kept = event(&super::super::Event {
            id: "evt_1".into(),
            kind: "checkout.session.completed".into(),
            created: 1,
            object,
        });
        let text = kept.to_string();
        assert!(!text.contains("donor@example.com") && !text.contains("Jane"), "{text}");
        assert_eq!(kept["data"]["object"]["amount_total"], 2500);
        assert_eq!(kept["data"]["object"]["metadata"]["zbor_campaign"], "release-123");
    }
}
