//! Canonical content and its hash: the same logical transaction always hashes the same, whether
//! it comes from a caller or is read back from PostgreSQL by `verify`.

use rust_decimal::Decimal;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{AccountId, Error};

pub type Hash = [u8; 32];

pub const GENESIS: Hash = [0; 32];

/// The largest metadata a transaction or hold may carry, serialized.
pub const METADATA_BYTES_MAX: usize = 16 * 1024;

/// JSON with object keys sorted at every level and no whitespace. PostgreSQL's jsonb reorders
/// keys, so hashing the caller's text as written could not be reproduced from the database; and
/// serde_json keeps insertion order when its `preserve_order` feature is on somewhere in the
/// build, so the order is fixed here rather than trusted. The ledger's hashes and zbor-audit's
/// entry hashes are both computed over this text: its output must never change.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*key).clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(*key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Metadata is a JSON object of at most `METADATA_BYTES_MAX` bytes whose numbers are integers
/// and whose text has no NUL: exactly what survives a round trip through PostgreSQL's jsonb
/// unchanged (jsonb rewrites `1e16` and `-0.0`, and refuses `\u0000`), so the hash computed now
/// is the hash `verify` recomputes later. Decimal amounts belong in strings anyway.
pub fn check_metadata(metadata: &Value) -> Result<(), Error> {
    let fits = metadata.is_object()
        && survives_jsonb(metadata)
        && canonical_json(metadata).len() <= METADATA_BYTES_MAX;
    if fits {
        Ok(())
    } else {
        Err(Error::InvalidMetadata { max_bytes: METADATA_BYTES_MAX })
    }
}

/// Exactly what comes back unchanged from jsonb: integers only (jsonb rewrites `1e16`, `-0.0`),
/// no NUL (jsonb refuses `\u0000`). A hash over JSON that jsonb would change could not be
/// recomputed from the database; zbor-audit's entry details obey the same rule.
pub fn survives_jsonb(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(_) => true,
        Value::Number(n) => n.is_i64() || n.is_u64(),
        Value::String(s) => !s.contains('\0'),
        Value::Array(items) => items.iter().all(survives_jsonb),
        Value::Object(map) => map.iter().all(|(k, v)| !k.contains('\0') && survives_jsonb(v)),
    }
}

/// One posting as hashed: account, currency code, signed amount (debit positive).
pub struct HashedPosting<'a> {
    pub account: AccountId,
    pub currency: &'a str,
    pub amount: Decimal,
}

/// Postings must come sorted by account id, as they are stored.
pub fn transaction_hash(id: uuid::Uuid, postings: &[HashedPosting<'_>], metadata: &Value) -> Hash {
    let mut h = Sha256::new();
    h.update(b"zbor-ledger-transaction-v1\n");
    h.update(id.as_bytes());
    h.update(b"\n");
    for p in postings {
        // normalize(): 10.5 and 10.50 are the same amount and must hash the same
        h.update(format!("{} {} {}\n", p.account, p.currency, p.amount.normalize()).as_bytes());
    }
    h.update(canonical_json(metadata).as_bytes());
    h.finalize().into()
}

pub struct HashedHold<'a> {
    pub id: uuid::Uuid,
    pub debit: AccountId,
    pub credit: AccountId,
    pub currency: &'a str,
    pub amount: Decimal,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    pub metadata: &'a Value,
}

pub fn hold_hash(hold: &HashedHold<'_>) -> Hash {
    let mut h = Sha256::new();
    h.update(b"zbor-ledger-hold-v1\n");
    h.update(hold.id.as_bytes());
    let expires = hold.expires_at.map(|t| t.timestamp_micros().to_string()).unwrap_or_default();
    h.update(
        format!(
            "\n{} {} {} {} {}\n",
            hold.debit,
            hold.credit,
            hold.currency,
            hold.amount.normalize(),
            expires
        )
        .as_bytes(),
    );
    h.update(canonical_json(hold.metadata).as_bytes());
    h.finalize().into()
}

/// The chain link: each sealed transaction commits to everything sealed before it.
pub fn chain_hash(prev: &Hash, content: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(content);
    h.finalize().into()
}

pub fn to_hash(bytes: &[u8]) -> Option<Hash> {
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_must_survive_jsonb_unchanged() {
        assert!(check_metadata(&serde_json::json!({"a": 1, "b": [true, null, "x"], "c": {"d": -5}})).is_ok());
        for bad in [
            serde_json::json!({"x": 1e16}),
            serde_json::json!({"x": 1.5}),
            serde_json::json!({"x": -0.0}),
            serde_json::json!({"x": "a\u{0}b"}),
            serde_json::json!({"a\u{0}": 1}),
            serde_json::json!([1]),
            serde_json::json!({"x": "y".repeat(METADATA_BYTES_MAX)}),
        ] {
            assert!(check_metadata(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"y":[1,{"d":2,"c":3}],"x":"s"}}"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":{"x":"s","y":[1,{"c":3,"d":2}]},"b":1}"#);
    }

    #[test]
    fn equal_amounts_hash_equal_and_different_content_differs() {
        let id = uuid::Uuid::nil();
        let md = serde_json::json!({"k": "v"});
        let p = |amount: &str| HashedPosting {
            account: AccountId::from_i64(1),
            currency: "EUR",
            amount: amount.parse().unwrap(),
        };
        assert_eq!(transaction_hash(id, &[p("10.5")], &md), transaction_hash(id, &[p("10.50")], &md));
        assert_ne!(transaction_hash(id, &[p("10.5")], &md), transaction_hash(id, &[p("10.51")], &md));
        assert_ne!(
            transaction_hash(id, &[p("10.5")], &md),
            transaction_hash(id, &[p("10.5")], &serde_json::json!({"k": "w"}))
        );
    }
}
