//! The receipt reference a donor can quote to the organisation. It is derived from the Checkout
//! Session id Stripe sends the donor back with, so the thank-you page and the booking compute the
//! same reference without storing anything about the donor, and the reference itself says nothing
//! about who gave or how much.

use sha2::{Digest, Sha256};

/// Crockford's base32: no I, L, O or U, so a reference read aloud or retyped stays unambiguous.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The longest Checkout Session id taken; Stripe's are about 66 characters.
const SESSION_ID_LEN_MAX: usize = 255;

/// `ZB-XXXX-XXXX` (40 bits of SHA-256 of the session id) for a Checkout Session id (`cs_…`);
/// `None` for anything that is not one, so a forged query string shows no reference.
pub fn reference(checkout_session_id: &str) -> Option<String> {
    let plausible = checkout_session_id.len() <= SESSION_ID_LEN_MAX
        && checkout_session_id.strip_prefix("cs_").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
    if !plausible {
        return None;
    }
    let digest = Sha256::digest(checkout_session_id.as_bytes());
    let bits = digest.iter().take(5).fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let chars: String = (0..8)
        .rev()
        .map(|i| char::from(ALPHABET[usize::try_from((bits >> (i * 5)) & 31).unwrap_or(0)]))
        .collect();
    Some(format!("ZB-{}-{}", &chars[..4], &chars[4..]))
}

#[cfg(test)]
#[allow(clippy::expect_used)] // tests: a failed expect is a failed test
mod tests {
    use super::reference;

    #[test]
    fn a_session_id_gives_one_stable_reference() {
        let id = "cs_test_a1b2c3d4e5f6g7h8i9j0";
        let first = reference(id).expect("a session id");
        assert_eq!(first, reference(id).expect("a session id"));
        assert_eq!(first.len(), "ZB-XXXX-XXXX".len());
        assert!(first.starts_with("ZB-") && first.as_bytes()[7] == b'-');
        assert!(first[3..].chars().all(|c| c == '-' || super::ALPHABET.iter().any(|&b| char::from(b) == c)));
        assert_ne!(first, reference("cs_test_a1b2c3d4e5f6g7h8i9j1").expect("a session id"));
    }

    #[test]
    fn anything_else_has_no_reference() {
        for forged in ["", "cs_", "pi_123", "cs_<script>", "cs_a b", &format!("cs_{}", "a".repeat(300))] {
            assert_eq!(reference(forged), None, "{forged:?}");
        }
    }
}
