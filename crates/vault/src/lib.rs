//! Personal data at rest: donor names and emails today, beneficiaries' details with payouts.
//!
//! AES-256-GCM under one 32-byte key from `ZBOR_DATA_KEY`, a fresh random 96-bit nonce per
//! value, and the record's identity as associated data: a ciphertext copied onto another row
//! does not decrypt there. Stored as `version || nonce || ciphertext+tag`; the version byte
//! leaves room for rotating to a new key later without guessing which key sealed what.
//!
//! The key never appears in `Debug` output, errors or logs.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("ZBOR_DATA_KEY must be 32 bytes as 64 hex digits or base64")]
    InvalidKey,
    #[error("sealed value is malformed or was sealed under another key or for another record")]
    CannotOpen,
    #[error("encryption failed")]
    CannotSeal,
}

/// The data key. Cheap to clone; the key bytes stay inside the cipher.
#[derive(Clone)]
pub struct DataKey {
    cipher: Aes256Gcm,
    /// A second key, derived from the data key, for blind indexes: equality lookups on
    /// encrypted values (the same IBAN on two beneficiaries) without decrypting them.
    index_key: [u8; 32],
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// Parses the key as 64 hex digits or standard base64 of 32 bytes (`openssl rand -hex 32`).
    pub fn parse(text: &str) -> Result<DataKey, Error> {
        use base64::Engine as _;
        let text = text.trim();
        let bytes = if text.len() == 64 {
            hex::decode(text).map_err(|_| Error::InvalidKey)?
        } else {
            base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| Error::InvalidKey)?
        };
        if bytes.len() != 32 {
            return Err(Error::InvalidKey);
        }
        Ok(DataKey::from_bytes(&bytes))
    }

    fn from_bytes(bytes: &[u8]) -> DataKey {
        let index_key = hmac_sha256(bytes, b"zbor blind index key v1");
        DataKey { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes)), index_key }
    }

    /// A random key, for `zbor dev` and tests.
    pub fn generate() -> DataKey {
        DataKey::from_bytes(&Aes256Gcm::generate_key(OsRng))
    }

    /// A keyed fingerprint of `value` for equality lookups, separated by `domain` (e.g. `iban`):
    /// HMAC-SHA256 under a key derived from the data key. Without the key it reveals nothing
    /// (no dictionary of IBANs can be hashed against it). Normalise `value` before calling.
    pub fn blind_index(&self, domain: &str, value: &str) -> [u8; 32] {
        let mut message = Vec::with_capacity(domain.len() + 1 + value.len());
        message.extend_from_slice(domain.as_bytes());
        message.push(0);
        message.extend_from_slice(value.as_bytes());
        hmac_sha256(&self.index_key, &message)
    }

    /// A random key as 64 hex digits, the form `ZBOR_DATA_KEY` takes.
    pub fn generate_hex() -> String {
        hex::encode(Aes256Gcm::generate_key(OsRng))
    }

    /// Encrypts `plaintext` for the record named by `record` (e.g. `donation:cs_…`).
    pub fn seal(&self, plaintext: &[u8], record: &str) -> Result<Vec<u8>, Error> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, Payload { msg: plaintext, aad: record.as_bytes() })
            .map_err(|_| Error::CannotSeal)?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Decrypts what [`DataKey::seal`] made for the same `record`.
    pub fn open(&self, sealed: &[u8], record: &str) -> Result<Vec<u8>, Error> {
        let Some((&VERSION, rest)) = sealed.split_first() else { return Err(Error::CannotOpen) };
        if rest.len() < NONCE_LEN {
            return Err(Error::CannotOpen);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: record.as_bytes() })
            .map_err(|_| Error::CannotOpen)
    }
}

#[allow(clippy::expect_used)] // the one impossible failure, named as such
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("BUG: HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn round_trips_and_hides_the_plaintext() {
        let key = DataKey::parse(HEX_KEY).unwrap();
        let sealed = key.seal(b"Ales Bialiatski <ales@example.org>", "donation:cs_1").unwrap();
        assert!(!sealed.windows(5).any(|w| w == b"Biali" || w == b"ales@"));
        assert_eq!(key.open(&sealed, "donation:cs_1").unwrap(), b"Ales Bialiatski <ales@example.org>");
        // two seals of the same value differ (fresh nonce)
        assert_ne!(sealed, key.seal(b"Ales Bialiatski <ales@example.org>", "donation:cs_1").unwrap());
    }

    #[test]
    fn refuses_another_record_another_key_and_tampering() {
        let key = DataKey::parse(HEX_KEY).unwrap();
        let sealed = key.seal(b"name", "donation:cs_1").unwrap();
        assert_eq!(key.open(&sealed, "donation:cs_2"), Err(Error::CannotOpen));
        assert_eq!(DataKey::generate().open(&sealed, "donation:cs_1"), Err(Error::CannotOpen));
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(key.open(&tampered, "donation:cs_1"), Err(Error::CannotOpen));
        assert_eq!(key.open(&sealed[..5], "donation:cs_1"), Err(Error::CannotOpen));
        assert_eq!(key.open(&[], "donation:cs_1"), Err(Error::CannotOpen));
    }

    #[test]
    fn blind_indexes_are_keyed_and_separated_by_domain() {
        let key = DataKey::parse(HEX_KEY).unwrap();
        let again = DataKey::parse(HEX_KEY).unwrap();
        let iban = "DE89370400440532013000";
        assert_eq!(key.blind_index("iban", iban), again.blind_index("iban", iban));
        assert_ne!(key.blind_index("iban", iban), key.blind_index("email", iban));
        assert_ne!(key.blind_index("iban", iban), DataKey::generate().blind_index("iban", iban));
    }

    #[test]
    fn parses_hex_and_base64_and_refuses_wrong_lengths() {
        use base64::Engine as _;
        let bytes = hex::decode(HEX_KEY).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let sealed = DataKey::parse(HEX_KEY).unwrap().seal(b"x", "r").unwrap();
        assert_eq!(DataKey::parse(&b64).unwrap().open(&sealed, "r").unwrap(), b"x");
        assert_eq!(DataKey::parse("abcd").unwrap_err(), Error::InvalidKey);
        assert_eq!(DataKey::parse(&HEX_KEY[..62]).unwrap_err(), Error::InvalidKey);
        assert_eq!(format!("{:?}", DataKey::parse(HEX_KEY).unwrap()), "DataKey(..)");
    }
}
