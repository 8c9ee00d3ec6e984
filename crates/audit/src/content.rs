//! What an entry may hold, and its canonical encoding: the same entry always hashes the same,
//! whether it is being appended or is read back from PostgreSQL by `verify`.

use sha2::{Digest, Sha256};
use zbor_ledger::{canonical_json, survives_jsonb};

use crate::{Entry, Error};

pub type Hash = [u8; 32];

/// The `prev_hash` of the first entry.
pub const GENESIS: Hash = [0; 32];

pub const ACTOR_MAX: usize = 64;
pub const ACTION_MAX: usize = 64;
pub const SUBJECT_MAX: usize = 128;
pub const DETAILS_BYTES_MAX: usize = 4 * 1024;

/// Checks an entry against the same rules as the table's check constraints.
pub fn validate(entry: &Entry<'_>) -> Result<(), Error> {
    if !is_reference(entry.actor, ACTOR_MAX) {
        return Err(Error::InvalidActor(entry.actor.to_owned()));
    }
    if !is_action(entry.action) {
        return Err(Error::InvalidAction(entry.action.to_owned()));
    }
    if let Some(subject) = entry.subject {
        if !is_reference(subject, SUBJECT_MAX) {
            return Err(Error::InvalidSubject(subject.to_owned()));
        }
    }
    let fits = entry.details.is_object()
        && survives_jsonb(&entry.details)
        && canonical_json(&entry.details).len() <= DETAILS_BYTES_MAX;
    if !fits {
        return Err(Error::InvalidDetails { max_bytes: DETAILS_BYTES_MAX });
    }
    Ok(())
}

fn is_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// `^[a-z_]+(:[A-Za-z0-9._-]+)?$`: `cli`, `user:42`, `campaign:release-123`. No `@`, no spaces:
/// an email or a name cannot be put here.
fn is_reference(s: &str, max: usize) -> bool {
    let (kind, id) = match s.split_once(':') {
        Some((kind, id)) => (kind, Some(id)),
        None => (s, None),
    };
    let id_ok = id.is_none_or(|id| {
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    });
    s.len() <= max && is_word(kind) && id_ok
}

/// `^[a-z_]+(\.[a-z_]+)*$`: `login`, `payout_batch.approve`.
fn is_action(s: &str) -> bool {
    s.len() <= ACTION_MAX && s.split('.').all(is_word)
}

/// `sha256(prev_hash || "zbor-audit-v1" || field...)`, each field its byte length as 8 bytes
/// big-endian then its bytes, in this order: `at` as decimal microseconds since the Unix epoch,
/// actor, action, subject (a one-byte tag 0 when absent, 1 then the field when present),
/// canonical JSON of details.
pub fn entry_hash(prev: &Hash, at: chrono::DateTime<chrono::Utc>, entry: &Entry<'_>) -> Hash {
    fn field(h: &mut Sha256, bytes: &[u8]) {
        h.update(u64::try_from(bytes.len()).unwrap_or(u64::MAX).to_be_bytes());
        h.update(bytes);
    }
    let mut h = Sha256::new();
    h.update(prev);
    h.update(b"zbor-audit-v1");
    field(&mut h, at.timestamp_micros().to_string().as_bytes());
    field(&mut h, entry.actor.as_bytes());
    field(&mut h, entry.action.as_bytes());
    match entry.subject {
        None => h.update([0]),
        Some(subject) => {
            h.update([1]);
            field(&mut h, subject.as_bytes());
        }
    }
    field(&mut h, canonical_json(&entry.details).as_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::{json, Value};

    fn entry<'a>(actor: &'a str, action: &'a str, subject: Option<&'a str>, details: Value) -> Entry<'a> {
        Entry { actor, action, subject, details }
    }

    #[test]
    fn formats() {
        for ok in ["cli", "system", "user:42", "token:7"] {
            assert!(validate(&entry(ok, "login", None, json!({}))).is_ok(), "{ok}");
        }
        for bad in ["", "User:1", "user:", ":1", "a@b.org", "user 1", "user:1:2", &"a".repeat(65)] {
            assert!(
                matches!(validate(&entry(bad, "login", None, json!({}))), Err(Error::InvalidActor(_))),
                "{bad}"
            );
        }
        for ok in ["login", "login_failed", "payout_batch.approve", "user.role_change"] {
            assert!(validate(&entry("cli", ok, None, json!({}))).is_ok(), "{ok}");
        }
        for bad in ["", "Login", "a..b", ".a", "a.", "a-b", "a1"] {
            assert!(
                matches!(validate(&entry("cli", bad, None, json!({}))), Err(Error::InvalidAction(_))),
                "{bad}"
            );
        }
        assert!(validate(&entry("cli", "x", Some("campaign:release-123"), json!({}))).is_ok());
        assert!(matches!(
            validate(&entry("cli", "x", Some("a b"), json!({}))),
            Err(Error::InvalidSubject(_))
        ));
        for bad in [json!([]), json!({"x": 1.5}), json!({"x": "\u{0}"}), json!({"x": "y".repeat(5000)})] {
            assert!(matches!(validate(&entry("cli", "x", None, bad)), Err(Error::InvalidDetails { .. })));
        }
    }

    #[test]
    fn every_field_is_covered_and_unambiguous() {
        let at = chrono::DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        let base = entry("user:1", "login", Some("a:b"), json!({"k": 1}));
        let h = entry_hash(&GENESIS, at, &base);
        assert_eq!(h, entry_hash(&GENESIS, at, &entry("user:1", "login", Some("a:b"), json!({"k": 1}))));
        let later = chrono::DateTime::from_timestamp_micros(1_700_000_000_123_457).unwrap();
        for other in [
            entry_hash(&[1; 32], at, &base),
            entry_hash(&GENESIS, later, &base),
            entry_hash(&GENESIS, at, &entry("user:2", "login", Some("a:b"), json!({"k": 1}))),
            entry_hash(&GENESIS, at, &entry("user:1", "logout", Some("a:b"), json!({"k": 1}))),
            entry_hash(&GENESIS, at, &entry("user:1", "login", None, json!({"k": 1}))),
            entry_hash(&GENESIS, at, &entry("user:1", "login", Some("a:b"), json!({"k": 2}))),
        ] {
            assert_ne!(h, other);
        }
    }
}
