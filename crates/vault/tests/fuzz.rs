#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Generated input for `DataKey::parse` (`ZBOR_DATA_KEY`): single keys and rings, well formed,
//! mutated and arbitrary. No input panics; the outcome is exactly what the crate's documentation
//! says (checked against a reference written out here); a refusal never shows key material; an
//! accepted ring seals and opens.
//!
//! Cases per property: `ZBOR_FUZZ_CASES` (default 256); see docs/FUZZING.md.

use base64::Engine as _;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use zbor_vault::{DataKey, Error, RING_KEYS_MAX};

/// Runs `property` on generated inputs (`ZBOR_FUZZ_CASES`); see `zbor_testkit::fuzz`.
fn fuzz<S: Strategy>(name: &str, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    zbor_testkit::fuzz::run(env!("CARGO_PKG_NAME"), name, strategy, property);
}

// ---------------------------------------------------------------------------------------------
// The rules of ZBOR_DATA_KEY, written out from the crate's documentation

/// 32 bytes as 64 hex digits or (standard, padded) base64.
fn key_bytes(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    let bytes = if text.len() == 64 {
        hex::decode(text).ok()?
    } else {
        base64::engine::general_purpose::STANDARD.decode(text).ok()?
    };
    (bytes.len() == 32).then_some(bytes)
}

/// What `DataKey::parse` must give: the ring's versions, newest first, or the error's message.
fn expected(text: &str) -> Result<Vec<u16>, String> {
    let text = text.trim();
    if !text.contains([',', ':']) {
        return key_bytes(text).map(|_| vec![1]).ok_or_else(|| Error::InvalidKey.to_string());
    }
    let mut ring: Vec<(u16, Vec<u8>)> = Vec::new();
    for (n, entry) in text.split(',').enumerate() {
        let refuse = |reason: &str| Err(format!("ZBOR_DATA_KEY: entry {}: {reason}", n + 1));
        let Some((version, key)) = entry.trim().split_once(':') else {
            return refuse(
                "must be VERSION:KEY (a single key alone needs no version; several need one each)",
            );
        };
        let Some(version) = version.trim().parse::<u16>().ok().filter(|v| *v >= 1) else {
            return refuse("the version must be a number from 1 to 65535");
        };
        let Some(key) = key_bytes(key) else {
            return refuse("the key must be 32 bytes as 64 hex digits or base64");
        };
        if ring.iter().any(|(v, _)| *v == version) {
            return refuse("this version appears twice");
        }
        if ring.iter().any(|(_, k)| *k == key) {
            return refuse("this key appears twice (under another version)");
        }
        ring.push((version, key));
    }
    if ring.len() > RING_KEYS_MAX {
        return Err(format!("ZBOR_DATA_KEY: at most {RING_KEYS_MAX} keys"));
    }
    let mut versions: Vec<u16> = ring.iter().map(|(v, _)| *v).collect();
    if versions.iter().any(|v| *v > versions[0]) {
        return Err(
            "ZBOR_DATA_KEY: the first key is the current one and must have the highest version; a new \
                    key takes the next version"
                .to_owned(),
        );
    }
    versions.sort_unstable_by(|a, b| b.cmp(a));
    Ok(versions)
}

// ---------------------------------------------------------------------------------------------
// Generators

/// A key as people write it: hex (either case) or base64, maybe with spaces around.
fn key_text() -> impl Strategy<Value = String> {
    (prop::array::uniform32(any::<u8>()), 0u8..4, prop::sample::select(vec!["", " ", "\t", "\n "])).prop_map(
        |(bytes, form, pad)| {
            let text = match form {
                0 => hex::encode(bytes),
                1 => hex::encode_upper(bytes),
                2 => base64::engine::general_purpose::STANDARD.encode(bytes),
                _ => base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes),
            };
            format!("{pad}{text}{pad}")
        },
    )
}

/// Rings of one to a few keys, the first one the newest; and how they go wrong.
fn ring_text() -> impl Strategy<Value = String> {
    let entries = prop::collection::vec((1u16..=u16::MAX, key_text()), 1..5).prop_map(|mut entries| {
        entries.sort_by_key(|e| std::cmp::Reverse(e.0));
        entries.dedup_by_key(|e| e.0);
        entries
    });
    (entries, prop::option::of((0u8..10, any::<Index>(), any::<Index>()))).prop_map(|(mut entries, flaw)| {
        let mut versions: Vec<String> = entries.iter().map(|(v, _)| v.to_string()).collect();
        if let Some((flaw, at, other)) = flaw {
            let i = at.index(entries.len());
            let j = other.index(entries.len());
            match flaw {
                0 => entries.swap(i, j),
                1 => entries[i].1 = entries[j].1.clone(),
                2 => versions[i] = versions[j].clone(),
                3 => {
                    versions[i] =
                        ["0", "65536", "-1", "１", "1.0", "", "0x10", "99999999999"][j % 8].to_owned()
                }
                4 => {
                    let keep = entries[i].1.trim_end().len().saturating_sub(1);
                    entries[i].1.truncate(keep);
                }
                5 => entries[i].1.push('A'),
                6 => entries[i].1 = base64::engine::general_purpose::STANDARD.encode([7u8; 31]),
                7 => versions[i] = format!(" {} ", versions[i]),
                8 => {
                    let middle = entries[i].1.len() / 2;
                    entries[i].1.insert(middle, '\u{200b}');
                }
                _ => versions[i] = format!("{}:", versions[i]),
            }
        }
        entries
            .iter()
            .zip(&versions)
            .map(|((_, key), version)| format!("{version}:{key}"))
            .collect::<Vec<_>>()
            .join(",")
    })
}

// ---------------------------------------------------------------------------------------------
// Properties

#[test]
fn data_key_parse() {
    let many = prop::collection::vec(prop::array::uniform32(any::<u8>()), 15..19).prop_map(|keys| {
        let n = keys.len();
        keys.iter()
            .enumerate()
            .map(|(i, k)| format!("{}:{}", n - i, hex::encode(k)))
            .collect::<Vec<_>>()
            .join(",")
    });
    let text = prop_oneof![
        3 => key_text(),
        4 => ring_text(),
        1 => many,
        1 => (ring_text(), any::<Index>()).prop_map(|(ring, cut)| {
            // at a character boundary: a ring may hold a zero-width space
            let boundaries: Vec<usize> = ring.char_indices().map(|(i, _)| i).chain([ring.len()]).collect();
            ring[..*cut.get(&boundaries)].to_owned()
        }),
        1 => (ring_text(), prop::sample::select(vec![",", ", ,", ":", "\u{feff}", "\u{3000}"]))
            .prop_map(|(ring, tail)| ring + tail),
        1 => "[0-9a-fA-F]{60,68}",
        1 => "[0-9:,]{0,20}",
        2 => any::<String>(),
        1 => Just(",".repeat(100_000)),
        1 => Just(format!("1:{}", "A".repeat(100_000))),
    ];
    fuzz("data_key_parse", text, |text| {
        let result = DataKey::parse(&text);
        match (&result, expected(&text)) {
            (Ok(key), Ok(versions)) => {
                prop_assert_eq!(key.versions(), versions.clone());
                prop_assert_eq!(key.version(), versions[0]);
                // it seals and opens, under this key only, for this record only
                let sealed = key.seal(b"Jane Donor <jane@example.org>", "donation:cs_1").unwrap();
                prop_assert_eq!(
                    key.open(&sealed, "donation:cs_1").unwrap(),
                    b"Jane Donor <jane@example.org>"
                );
                prop_assert_eq!(key.open(&sealed, "donation:cs_2"), Err(Error::CannotOpen));
                let again = DataKey::parse(&text).unwrap();
                prop_assert_eq!(
                    again.open(&sealed, "donation:cs_1").unwrap(),
                    b"Jane Donor <jane@example.org>"
                );
                prop_assert_eq!(key.blind_index("iban", "DE89"), again.blind_index("iban", "DE89"));
                // Debug names versions only
                prop_assert_eq!(
                    format!("{key:?}"),
                    format!("DataKey(version {} of {:?})", versions[0], versions)
                );
            }
            (Err(error), Err(message)) => {
                prop_assert_eq!(error.to_string(), message);
                prop_assert!(matches!(error, Error::InvalidKey | Error::InvalidRing(_)), "{error:?}");
            }
            (result, wanted) => prop_assert!(false, "got {result:?}, wanted {wanted:?}"),
        }
        // whatever the outcome, no key material in what can be printed
        let shown = match &result {
            Ok(key) => format!("{key:?}"),
            Err(error) => format!("{error} {error:?}"),
        };
        for part in text.split([',', ':']).map(str::trim).filter(|p| p.len() >= 8) {
            prop_assert!(!shown.contains(part), "{shown} shows {part}");
        }
        Ok(())
    });
}
