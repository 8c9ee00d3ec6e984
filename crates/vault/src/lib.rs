//! Personal data at rest: donors' names and emails, users' emails and second factors,
//! beneficiaries' details, treasurers' notes and the free text of third parties on payouts.
//!
//! AES-256-GCM, a fresh random 96-bit nonce per value, and the record's identity as associated
//! data: a ciphertext copied onto another row does not decrypt there. Keyed blind indexes (HMAC)
//! give equality lookups on encrypted values without decrypting them.
//!
//! # The key ring
//!
//! `ZBOR_DATA_KEY` holds one key, or several with versions so keys can be rotated:
//!
//! - `KEY`: a single key, version 1 (what zbor took before key rotation existed).
//! - `3:KEY,2:KEY,1:KEY`: versions and keys, comma-separated; the first one is the *current* key
//!   (it seals new values and computes blind indexes) and must have the highest version. The
//!   others only open what they sealed, until `zbor vault rotate` has re-sealed it.
//!
//! A key is 32 bytes as 64 hex digits or base64. Versions run from 1 to 65535 and never repeat
//! (a version names one key forever); the same key may not appear twice.
//!
//! # Keys per version
//!
//! Each version derives two keys with HMAC-SHA256 under its own labels, so sealing and indexing
//! never share a key and no two versions share either: `zbor sealing key v{N}` and
//! `zbor blind index key v{N}`. Version 1 is the exception that keeps everything sealed before
//! rotation existed readable: it seals with the configured key itself (its index key is
//! `zbor blind index key v1` as it always was).
//!
//! # Sealed values
//!
//! - format 1 (legacy): `0x01 || nonce(12) || ciphertext+tag`: sealed by key version 1. Values
//!   sealed before key rotation existed look like this, and version 1 still writes them, so a
//!   deployment that keeps one key stays readable by the release before this one.
//! - format 2: `0x02 || version (u16, big-endian) || nonce(12) || ciphertext+tag`: versions 2 and
//!   up.
//!
//! The version is readable without any key ([`sealed_version`]; in SQL `zbor_key_version(bytea)`
//! from the migration `20261122000014_key_rotation.sql`), so a rotation finds what is left to do.
//!
//! The keys never appear in `Debug` output, errors or logs.

use std::sync::Arc;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};

const FORMAT_LEGACY: u8 = 1;
const FORMAT_VERSIONED: u8 = 2;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// The version a bare key (no `N:`) gets, and what format-1 values were sealed with.
pub const LEGACY_VERSION: u16 = 1;
/// Most keys one ring holds: enough for a rotation under way and a few kept for old backups.
pub const RING_KEYS_MAX: usize = 16;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("ZBOR_DATA_KEY must be 32 bytes as 64 hex digits or base64")]
    InvalidKey,
    /// A ring that cannot be used; the reason names entries by position, never their content.
    #[error("ZBOR_DATA_KEY: {0}")]
    InvalidRing(String),
    #[error("sealed value is malformed or was sealed under another key or for another record")]
    CannotOpen,
    /// Sealed under a version the ring does not hold (dropped too early, or a newer ring elsewhere).
    #[error("sealed under key version {0}, which ZBOR_DATA_KEY does not hold")]
    UnknownVersion(u16),
    #[error("encryption failed")]
    CannotSeal,
}

/// One version's keys.
struct VersionKeys {
    version: u16,
    cipher: Aes256Gcm,
    /// For blind indexes: equality lookups on encrypted values (the same IBAN on two
    /// beneficiaries) without decrypting them.
    index_key: [u8; 32],
}

/// The data key ring. Cheap to clone; the key bytes stay inside it.
///
/// A `DataKey` seals and indexes under one version, its *current* one: the ring's newest, or the
/// version chosen by [`DataKey::at_version`]. It opens values sealed by any version it holds.
#[derive(Clone)]
pub struct DataKey {
    /// Newest first.
    keys: Arc<[VersionKeys]>,
    /// Index into `keys` of the version that seals and indexes.
    current: usize,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataKey(version {} of {:?})", self.version(), self.versions())
    }
}

impl DataKey {
    /// Parses `ZBOR_DATA_KEY`: one key (version 1), or a ring `N:KEY,M:KEY,…` whose first entry
    /// is the current key (see the crate's documentation).
    pub fn parse(text: &str) -> Result<DataKey, Error> {
        let text = text.trim();
        if !text.contains([',', ':']) {
            return Ok(DataKey::from_parts(vec![(LEGACY_VERSION, parse_key(text)?)]));
        }
        let mut parts: Vec<(u16, Vec<u8>)> = Vec::new();
        for (n, entry) in text.split(',').enumerate() {
            let position = n + 1;
            let ring = |reason: &str| Error::InvalidRing(format!("entry {position}: {reason}"));
            let (version, key) = entry.trim().split_once(':').ok_or_else(|| {
                ring("must be VERSION:KEY (a single key alone needs no version; several need one each)")
            })?;
            let version = version
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|v| *v >= 1)
                .ok_or_else(|| ring("the version must be a number from 1 to 65535"))?;
            let key =
                parse_key(key).map_err(|_| ring("the key must be 32 bytes as 64 hex digits or base64"))?;
            if parts.iter().any(|(v, _)| *v == version) {
                return Err(ring("this version appears twice"));
            }
            if parts.iter().any(|(_, k)| *k == key) {
                return Err(ring("this key appears twice (under another version)"));
            }
            parts.push((version, key));
        }
        if parts.len() > RING_KEYS_MAX {
            return Err(Error::InvalidRing(format!("at most {RING_KEYS_MAX} keys")));
        }
        let current = parts.first().map(|(v, _)| *v);
        if parts.iter().any(|(v, _)| Some(*v) > current) {
            return Err(Error::InvalidRing(
                "the first key is the current one and must have the highest version; a new key takes the \
                 next version"
                    .into(),
            ));
        }
        Ok(DataKey::from_parts(parts))
    }

    /// A ring from (version, 32 key bytes) pairs, newest first; checked by the callers.
    fn from_parts(mut parts: Vec<(u16, Vec<u8>)>) -> DataKey {
        parts.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
        let keys: Vec<VersionKeys> = parts.iter().map(|(version, bytes)| derive(*version, bytes)).collect();
        DataKey { keys: keys.into(), current: 0 }
    }

    /// A random key of version 1, for `zbor dev` and tests.
    pub fn generate() -> DataKey {
        DataKey::from_parts(vec![(LEGACY_VERSION, Aes256Gcm::generate_key(OsRng).to_vec())])
    }

    /// A random key as 64 hex digits, the form `ZBOR_DATA_KEY` takes (`openssl rand -hex 32`).
    pub fn generate_hex() -> String {
        hex::encode(Aes256Gcm::generate_key(OsRng))
    }

    fn current_keys(&self) -> &VersionKeys {
        #[allow(clippy::indexing_slicing)] // `current` indexes `keys` by construction
        &self.keys[self.current]
    }

    fn keys_of(&self, version: u16) -> Option<&VersionKeys> {
        self.keys.iter().find(|k| k.version == version)
    }

    /// The version this key seals and indexes under.
    pub fn version(&self) -> u16 {
        self.current_keys().version
    }

    /// Every version the ring holds, newest first.
    pub fn versions(&self) -> Vec<u16> {
        self.keys.iter().map(|k| k.version).collect()
    }

    /// The same ring sealing and indexing under `version` instead (it still opens everything):
    /// for code that must reproduce what an older key made, e.g. check a row's blind indexes
    /// while a rotation has not reached it yet. None when the ring does not hold `version`.
    pub fn at_version(&self, version: u16) -> Option<DataKey> {
        let current = self.keys.iter().position(|k| k.version == version)?;
        Some(DataKey { keys: Arc::clone(&self.keys), current })
    }

    /// [`DataKey::at_version`] for the version that sealed `sealed`.
    pub fn at_version_of(&self, sealed: &[u8]) -> Result<DataKey, Error> {
        let version = sealed_version(sealed).ok_or(Error::CannotOpen)?;
        self.at_version(version).ok_or(Error::UnknownVersion(version))
    }

    /// True when `sealed` was sealed by another version than this key's: a rotation re-seals it.
    pub fn is_outdated(&self, sealed: &[u8]) -> bool {
        sealed_version(sealed) != Some(self.version())
    }

    /// A keyed fingerprint of `value` for equality lookups, separated by `domain` (e.g. `iban`):
    /// HMAC-SHA256 under this version's index key. Without the key it reveals nothing (no
    /// dictionary of IBANs can be hashed against it). Normalise `value` before calling.
    pub fn blind_index(&self, domain: &str, value: &str) -> [u8; 32] {
        blind_index_under(&self.current_keys().index_key, domain, value)
    }

    /// `value`'s blind index under every version of the ring, this key's version first: a lookup
    /// that must also find rows a rotation has not reached yet (`where index = any($1)`).
    pub fn blind_indexes(&self, domain: &str, value: &str) -> Vec<[u8; 32]> {
        let mut indexes = vec![self.blind_index(domain, value)];
        let others = self.keys.iter().filter(|k| k.version != self.version());
        indexes.extend(others.map(|k| blind_index_under(&k.index_key, domain, value)));
        indexes
    }

    /// A fingerprint made under an older key that matches nothing the rotation can recompute
    /// (a destination no longer stored), mapped under this version's index key:
    /// HMAC(index key, `rekeyed:` || old). Equal old fingerprints map to equal new ones, and a
    /// mapped one equals no fingerprint computed from a destination.
    pub fn rekeyed_fingerprint(&self, old: &[u8]) -> [u8; 32] {
        let mut message = Vec::with_capacity(8 + old.len());
        message.extend_from_slice(b"rekeyed:");
        message.extend_from_slice(old);
        hmac_sha256(&self.current_keys().index_key, &message)
    }

    /// Encrypts `plaintext` for the record named by `record` (e.g. `donation:cs_…`) under this
    /// key's version.
    pub fn seal(&self, plaintext: &[u8], record: &str) -> Result<Vec<u8>, Error> {
        let keys = self.current_keys();
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = keys
            .cipher
            .encrypt(&nonce, Payload { msg: plaintext, aad: record.as_bytes() })
            .map_err(|_| Error::CannotSeal)?;
        let mut sealed = Vec::with_capacity(3 + NONCE_LEN + ciphertext.len());
        if keys.version == LEGACY_VERSION {
            sealed.push(FORMAT_LEGACY);
        } else {
            sealed.push(FORMAT_VERSIONED);
            sealed.extend_from_slice(&keys.version.to_be_bytes());
        }
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Decrypts what [`DataKey::seal`] made for the same `record`, under whichever version of the
    /// ring sealed it.
    pub fn open(&self, sealed: &[u8], record: &str) -> Result<Vec<u8>, Error> {
        let (version, rest) = split_header(sealed).ok_or(Error::CannotOpen)?;
        let keys = self.keys_of(version).ok_or(Error::UnknownVersion(version))?;
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::CannotOpen);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        keys.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: record.as_bytes() })
            .map_err(|_| Error::CannotOpen)
    }

    /// Opens `sealed` and seals it again under this key's version, for the same record.
    pub fn reseal(&self, sealed: &[u8], record: &str) -> Result<Vec<u8>, Error> {
        self.seal(&self.open(sealed, record)?, record)
    }
}

/// The key version that sealed `sealed`, read from its header (no key needed): 1 for the
/// legacy format. None when it is no sealed value at all.
pub fn sealed_version(sealed: &[u8]) -> Option<u16> {
    split_header(sealed).map(|(version, _)| version)
}

fn split_header(sealed: &[u8]) -> Option<(u16, &[u8])> {
    match sealed {
        [FORMAT_LEGACY, rest @ ..] => Some((LEGACY_VERSION, rest)),
        [FORMAT_VERSIONED, high, low, rest @ ..] => {
            Some((u16::from_be_bytes([*high, *low]), rest)).filter(|(v, _)| *v >= 1)
        }
        _ => None,
    }
}

fn parse_key(text: &str) -> Result<Vec<u8>, Error> {
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
    Ok(bytes)
}

/// A version's sealing and index keys from the configured key bytes (see the crate's docs).
fn derive(version: u16, bytes: &[u8]) -> VersionKeys {
    let index_key = hmac_sha256(bytes, format!("zbor blind index key v{version}").as_bytes());
    let cipher = if version == LEGACY_VERSION {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes))
    } else {
        let sealing = hmac_sha256(bytes, format!("zbor sealing key v{version}").as_bytes());
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&sealing))
    };
    VersionKeys { version, cipher, index_key }
}

fn blind_index_under(index_key: &[u8; 32], domain: &str, value: &str) -> [u8; 32] {
    let mut message = Vec::with_capacity(domain.len() + 1 + value.len());
    message.extend_from_slice(domain.as_bytes());
    message.push(0);
    message.extend_from_slice(value.as_bytes());
    hmac_sha256(index_key, &message)
}

#[allow(clippy::expect_used)] // the one impossible failure, named as such
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("BUG: HMAC accepts keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// What one pass of a key rotation over one kind of sealed value did (`zbor vault rotate`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rotated {
    /// Rows now sealed and indexed under the current key.
    pub rekeyed: u64,
    /// Rows that could not be, each with why: ids and reasons, never a personal value.
    pub failed: Vec<String>,
    /// The caller stopped the pass early (its progress callback said so).
    pub interrupted: bool,
}

/// Called after each row a rotation pass committed, with the rows done so far in the pass;
/// `ControlFlow::Break` stops the pass there, as a killed run would.
pub type Progress<'a> = dyn FnMut(u64) -> std::ops::ControlFlow<()> + Send + 'a;

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const HEX_KEY_2: &str = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
    const HEX_KEY_3: &str = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";

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
        assert_eq!(key.open(&[9, 1, 2], "donation:cs_1"), Err(Error::CannotOpen));
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
        let debug = format!("{:?}", DataKey::parse(&format!("2:{HEX_KEY_2},1:{b64}")).unwrap());
        assert_eq!(debug, "DataKey(version 2 of [2, 1])");
        assert!(!debug.contains("0001") && !debug.contains("2021"));
    }

    /// What zbor sealed and indexed before key rotation existed, with HEX_KEY: the legacy format
    /// and derivation, computed here by hand (AES-256-GCM under the key itself, the index key
    /// HMAC(key, "zbor blind index key v1")).
    #[test]
    fn values_from_before_rotation_still_open_and_match_as_version_1() {
        let bytes = hex::decode(HEX_KEY).unwrap();
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes));
        let nonce = [7u8; NONCE_LEN];
        let ciphertext =
            cipher.encrypt(Nonce::from_slice(&nonce), Payload { msg: b"old", aad: b"user:1:totp" }).unwrap();
        let old: Vec<u8> = [&[1u8][..], &nonce, &ciphertext].concat();
        let old_index = hmac_sha256(&hmac_sha256(&bytes, b"zbor blind index key v1"), b"iban\0DE89");

        for ring in [HEX_KEY.to_owned(), format!("1:{HEX_KEY}"), format!("2:{HEX_KEY_2},1:{HEX_KEY}")] {
            let key = DataKey::parse(&ring).unwrap();
            assert_eq!(key.open(&old, "user:1:totp").unwrap(), b"old", "{ring}");
            assert_eq!(key.at_version(1).unwrap().blind_index("iban", "DE89"), old_index, "{ring}");
        }
        assert_eq!(sealed_version(&old), Some(1));
        // a single key (version 1) still writes the legacy format: the release before reads it
        let single = DataKey::parse(HEX_KEY).unwrap();
        let sealed = single.seal(b"new", "r").unwrap();
        assert_eq!(sealed[0], FORMAT_LEGACY);
        assert_eq!(single.blind_index("iban", "DE89"), old_index);
    }

    #[test]
    fn a_ring_seals_under_its_first_key_and_opens_with_any() {
        let old = DataKey::parse(HEX_KEY).unwrap();
        let ring = DataKey::parse(&format!(" 2:{HEX_KEY_2} , 1:{HEX_KEY} ")).unwrap();
        assert_eq!((ring.version(), ring.versions()), (2, vec![2, 1]));
        let by_old = old.seal(b"before", "r").unwrap();
        let by_new = ring.seal(b"after", "r").unwrap();
        assert_eq!(&by_new[..3], &[FORMAT_VERSIONED, 0, 2]);
        assert_eq!((sealed_version(&by_old), sealed_version(&by_new)), (Some(1), Some(2)));
        assert_eq!(ring.open(&by_old, "r").unwrap(), b"before");
        assert_eq!(ring.open(&by_new, "r").unwrap(), b"after");
        // the old key alone does not know version 2; the new one alone no longer opens version 1
        assert_eq!(old.open(&by_new, "r"), Err(Error::UnknownVersion(2)));
        let new_only = DataKey::parse(&format!("2:{HEX_KEY_2}")).unwrap();
        assert_eq!(new_only.open(&by_old, "r"), Err(Error::UnknownVersion(1)));
        assert_eq!(new_only.open(&by_new, "r").unwrap(), b"after");
        // a re-seal moves a value to the current version
        let moved = ring.reseal(&by_old, "r").unwrap();
        assert_eq!(
            (sealed_version(&moved), new_only.open(&moved, "r").unwrap()),
            (Some(2), b"before".to_vec())
        );
        assert!(ring.is_outdated(&by_old) && !ring.is_outdated(&moved));
        // the version travels in the header: rewriting it does not open the value under another key
        let mut relabelled = by_new.clone();
        relabelled[2] = 1;
        assert_eq!(ring.open(&relabelled, "r"), Err(Error::CannotOpen));
        relabelled[2] = 3;
        assert_eq!(ring.open(&relabelled, "r"), Err(Error::UnknownVersion(3)));
    }

    #[test]
    fn each_version_has_its_own_sealing_and_index_keys() {
        let ring = DataKey::parse(&format!("3:{HEX_KEY_3},2:{HEX_KEY_2},1:{HEX_KEY}")).unwrap();
        let v2 = ring.at_version(2).unwrap();
        assert_eq!(v2.version(), 2);
        assert_eq!(v2.versions(), vec![3, 2, 1], "a view keeps the whole ring for opening");
        let by_v2 = v2.seal(b"x", "r").unwrap();
        assert_eq!(sealed_version(&by_v2), Some(2));
        assert_eq!(ring.open(&by_v2, "r").unwrap(), b"x");
        assert!(ring.at_version(4).is_none());
        assert_eq!(ring.at_version_of(&by_v2).unwrap().version(), 2);
        let (i1, i2, i3) = (
            ring.at_version(1).unwrap().blind_index("iban", "DE89"),
            v2.blind_index("iban", "DE89"),
            ring.blind_index("iban", "DE89"),
        );
        assert!(i1 != i2 && i2 != i3 && i1 != i3);
        assert_eq!(ring.blind_indexes("iban", "DE89"), vec![i3, i2, i1]);
        assert_eq!(v2.blind_indexes("iban", "DE89"), vec![i2, i3, i1]);
        // version 2's sealing key is derived, not the configured bytes: the raw key does not open it
        let raw = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&hex::decode(HEX_KEY_2).unwrap()));
        let (nonce, ciphertext) = by_v2[3..].split_at(NONCE_LEN);
        assert!(raw.decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: b"r" }).is_err());
        // the same bytes under another version give other keys
        let same_bytes_v5 = DataKey::parse(&format!("5:{HEX_KEY_2}")).unwrap();
        assert_ne!(same_bytes_v5.blind_index("iban", "DE89"), i2);
        assert_eq!(same_bytes_v5.open(&by_v2, "r"), Err(Error::UnknownVersion(2)));
    }

    #[test]
    fn rekeyed_fingerprints_are_stable_and_keyed() {
        let ring = DataKey::parse(&format!("2:{HEX_KEY_2},1:{HEX_KEY}")).unwrap();
        let old_a = ring.at_version(1).unwrap().blind_index("payee", "sepa:DE89:");
        let old_b = ring.at_version(1).unwrap().blind_index("payee", "sepa:DE12:");
        assert_eq!(ring.rekeyed_fingerprint(&old_a), ring.rekeyed_fingerprint(&old_a));
        assert_ne!(ring.rekeyed_fingerprint(&old_a), ring.rekeyed_fingerprint(&old_b));
        assert_ne!(ring.rekeyed_fingerprint(&old_a), ring.blind_index("payee", "sepa:DE89:"));
        assert_ne!(
            ring.rekeyed_fingerprint(&old_a),
            DataKey::parse(HEX_KEY_3).unwrap().rekeyed_fingerprint(&old_a)
        );
    }

    #[test]
    fn rings_that_would_mislead_are_refused_without_showing_keys() {
        let refused = |text: String| {
            let err = DataKey::parse(&text).unwrap_err();
            let message = err.to_string();
            for key in [HEX_KEY, HEX_KEY_2, &HEX_KEY[..16], &HEX_KEY_2[..16]] {
                assert!(!message.contains(key), "{message}");
            }
            message
        };
        assert!(refused(format!("1:{HEX_KEY},2:{HEX_KEY_2}")).contains("highest version"));
        assert!(refused(format!("2:{HEX_KEY_2},2:{HEX_KEY}")).contains("entry 2: this version appears twice"));
        assert!(refused(format!("2:{HEX_KEY},1:{HEX_KEY}")).contains("this key appears twice"));
        assert!(refused(format!("2:{HEX_KEY_2},{HEX_KEY}")).contains("entry 2: must be VERSION:KEY"));
        assert!(refused(format!("0:{HEX_KEY}")).contains("from 1 to 65535"));
        assert!(refused(format!("70000:{HEX_KEY}")).contains("from 1 to 65535"));
        assert!(refused(format!("2:{},1:{HEX_KEY}", &HEX_KEY_2[..60])).contains("entry 1: the key must be"));
        assert!(refused(format!("2:{HEX_KEY_2},")).contains("entry 2"));
        let many: Vec<String> = (1..=17u16)
            .rev()
            .map(|v| format!("{v}:{}", hex::encode([u8::try_from(v).unwrap(); 32])))
            .collect();
        assert!(refused(many.join(",")).contains("at most 16 keys"));
    }
}
