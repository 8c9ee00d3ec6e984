//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the codes
//! every authenticator app shows. A code is accepted for the current step or one step either
//! side (clock drift), and never for a step at or before the last one accepted (no replay).

use hmac::{Hmac, Mac};

pub const STEP_SECONDS: i64 = 30;
pub const SECRET_BYTES: usize = 20;

/// The 30-second step a Unix time falls in.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The 6-digit code for `step` (RFC 4226 dynamic truncation).
pub fn code(secret: &[u8], step: i64) -> String {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret) else { return String::new() };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", binary % 1_000_000)
}

/// The step `candidate` matches at `now`, if any, newer than `last_step`.
pub fn matching_step(secret: &[u8], candidate: &str, now: i64, last_step: Option<i64>) -> Option<i64> {
    let candidate = candidate.trim();
    if candidate.len() != 6 || !candidate.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_at(now);
    [current - 1, current, current + 1]
        .into_iter()
        .filter(|step| last_step.is_none_or(|last| *step > last))
        .find(|step| constant_time_eq(code(secret, *step).as_bytes(), candidate.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// RFC 4648 base32 without padding, as `otpauth://` URIs carry the secret.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[usize::try_from((buffer >> bits) & 31).unwrap_or(0)]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[usize::try_from((buffer << (5 - bits)) & 31).unwrap_or(0)]));
    }
    out
}

/// Reads base32 as [`base32`] writes it (for tests and tools that play the authenticator app).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut buffer, mut bits, mut out) = (0u32, 0, Vec::new());
    for c in text.trim().chars() {
        let value = u32::try_from(ALPHABET.find(c.to_ascii_uppercase())?).ok()?;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// What an authenticator app scans (as a QR code) or the user types in.
pub fn otpauth_uri(secret: &[u8], account_label: &str) -> String {
    let label: String = account_label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._@".contains(c) {
                c.to_string()
            } else {
                format!("%{:02X}", u32::from(c))
            }
        })
        .collect();
    format!(
        "otpauth://totp/zbor:{label}?secret={}&issuer=zbor&algorithm=SHA1&digits=6&period=30",
        base32(secret)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 seed "12345678901234567890" (8-digit values, last 6 digits here).
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight_digits) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code(secret, step_at(time)), eight_digits[2..], "t={time}");
        }
    }

    #[test]
    fn accepts_drift_of_one_step_and_never_a_replay() {
        let secret = b"12345678901234567890";
        let now = 1_234_567_890;
        let current = step_at(now);
        assert_eq!(matching_step(secret, &code(secret, current), now, None), Some(current));
        assert_eq!(matching_step(secret, &code(secret, current - 1), now, None), Some(current - 1));
        assert_eq!(matching_step(secret, &code(secret, current + 1), now, None), Some(current + 1));
        assert_eq!(matching_step(secret, &code(secret, current - 2), now, None), None);
        // the same code again after it was accepted
        assert_eq!(matching_step(secret, &code(secret, current), now, Some(current)), None);
        for bad in ["", "12345", "1234567", "abcdef", "12 456"] {
            assert_eq!(matching_step(secret, bad, now, None), None, "{bad}");
        }
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap(), b"12345678901234567890");
        assert_eq!(base32_decode("MZXW6YTBOI").unwrap(), b"foobar");
        assert!(base32_decode("M1").is_none());
    }
}
