//! Stripe's webhook signature: `Stripe-Signature: t=<unix seconds>,v1=<hex hmac>[,v1=...]`, where
//! each v1 is HMAC-SHA256 over `"{t}.{body}"` keyed with the endpoint's signing secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a webhook's `Stripe-Signature` was not accepted. Each is a 400 to Stripe, nothing stored.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing Stripe-Signature header")]
    Missing,
    #[error("malformed Stripe-Signature header")]
    Malformed,
    #[error("timestamp outside the {tolerance_s} s tolerance (age {age_s} s)")]
    Stale { age_s: i64, tolerance_s: i64 },
    #[error("no v1 signature matches the configured secret(s)")]
    NoMatch,
}

/// Stripe's own libraries refuse events older than this.
pub const TOLERANCE_S: i64 = 300;

/// The header names at most this many signatures; more is not a header Stripe sends.
const SIGNATURES_MAX: usize = 8;

/// One or two signing secrets (two while rotating: Stripe signs with both during the overlap).
/// Debug never shows them.
#[derive(Clone)]
pub struct WebhookSecrets(Vec<Vec<u8>>);

impl WebhookSecrets {
    /// From `STRIPE_WEBHOOK_SECRET`: comma-separated, whitespace ignored; empty entries refused.
    pub fn parse(value: &str) -> Option<WebhookSecrets> {
        let secrets: Vec<Vec<u8>> = value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.as_bytes().to_vec())
            .collect();
        if secrets.is_empty() || secrets.len() > 2 {
            None
        } else {
            Some(WebhookSecrets(secrets))
        }
    }
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSecrets([{} redacted])", self.0.len())
    }
}

/// Checks the header against the body; returns the signed timestamp. `now` in unix seconds.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &WebhookSecrets,
    now: i64,
) -> Result<i64, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        match key {
            "t" if timestamp.is_none() => {
                timestamp = Some(value.parse::<i64>().map_err(|_| SignatureError::Malformed)?);
            }
            "t" => return Err(SignatureError::Malformed),
            "v1" => {
                let bytes = hex::decode(value).map_err(|_| SignatureError::Malformed)?;
                signatures.push(bytes);
            }
            // v0 (test-mode legacy) and future schemes are ignored, as Stripe's libraries do.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() || signatures.len() > SIGNATURES_MAX {
        return Err(SignatureError::Malformed);
    }
    let age_s = now.saturating_sub(timestamp);
    // Not `abs`: at i64::MIN (a clock or timestamp at the end of the range) it overflows, a panic
    // in debug builds and in release a negative age that passes as fresh (found by tests/fuzz.rs).
    if age_s.unsigned_abs() > TOLERANCE_S.unsigned_abs() {
        return Err(SignatureError::Stale { age_s, tolerance_s: TOLERANCE_S });
    }
    for secret in &secrets.0 {
        for signature in &signatures {
            // verify_slice compares in constant time
            if mac(secret, timestamp, body).verify_slice(signature).is_ok() {
                return Ok(timestamp);
            }
        }
    }
    Err(SignatureError::NoMatch)
}

/// The header Stripe would send for `body` at `timestamp`: used by the simulator and tests.
pub fn sign(body: &[u8], secret: &str, timestamp: i64) -> String {
    let signature = hex::encode(mac(secret.as_bytes(), timestamp, body).finalize().into_bytes());
    format!("t={timestamp},v1={signature}")
}

#[allow(clippy::expect_used)] // the one impossible failure, named as such
fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("BUG: HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_766_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;

    fn secrets(s: &str) -> WebhookSecrets {
        WebhookSecrets::parse(s).unwrap()
    }

    #[test]
    fn a_stripe_signed_body_verifies() {
        let header = sign(BODY, "whsec_a", NOW);
        assert_eq!(verify(Some(&header), BODY, &secrets("whsec_a"), NOW + 10), Ok(NOW));
    }

    #[test]
    fn either_secret_works_while_rotating() {
        let header = sign(BODY, "whsec_new", NOW);
        assert_eq!(verify(Some(&header), BODY, &secrets("whsec_old, whsec_new"), NOW), Ok(NOW));
        // Stripe sends one v1 per active secret; any match is enough.
        let old_v1 = sign(BODY, "whsec_old", NOW).split_once(',').unwrap().1.to_owned();
        let two = format!("{},{old_v1}", sign(BODY, "whsec_other", NOW));
        assert_eq!(verify(Some(&two), BODY, &secrets("whsec_old"), NOW), Ok(NOW));
    }

    #[test]
    fn forged_stale_and_malformed_are_refused() {
        let s = secrets("whsec_a");
        let good = sign(BODY, "whsec_a", NOW);
        assert_eq!(verify(None, BODY, &s, NOW), Err(SignatureError::Missing));
        assert_eq!(verify(Some(&sign(BODY, "whsec_b", NOW)), BODY, &s, NOW), Err(SignatureError::NoMatch));
        assert_eq!(verify(Some(&good), b"{\"id\":\"evt_2\"}", &s, NOW), Err(SignatureError::NoMatch));
        assert!(matches!(verify(Some(&good), BODY, &s, NOW + 301), Err(SignatureError::Stale { .. })));
        assert!(matches!(verify(Some(&good), BODY, &s, NOW - 301), Err(SignatureError::Stale { .. })));
        for bad in ["", "t=1", "v1=00", "t=x,v1=00", "t=1,t=2,v1=00", "t=1,v1=zz", "garbage"] {
            assert_eq!(verify(Some(bad), BODY, &s, NOW), Err(SignatureError::Malformed), "{bad}");
        }
        // A signature over the right body with the timestamp changed does not verify.
        let shifted = good.replacen(&NOW.to_string(), &(NOW + 1).to_string(), 1);
        assert_eq!(verify(Some(&shifted), BODY, &s, NOW), Err(SignatureError::NoMatch));
    }

    #[test]
    fn secrets_parse_and_never_print() {
        assert!(WebhookSecrets::parse("").is_none());
        assert!(WebhookSecrets::parse(" , ").is_none());
        assert!(WebhookSecrets::parse("a,b,c").is_none());
        assert_eq!(format!("{:?}", secrets("whsec_supersecret")), "WebhookSecrets([1 redacted])");
    }
}
