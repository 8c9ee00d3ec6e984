#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Generated input for `Role::parse`: no input panics, it takes exactly the three role names
//! (any ASCII case, surrounding whitespace), and a refusal is `Error::InvalidField` for `role`.
//!
//! Cases per property: `ZBOR_FUZZ_CASES` (default 256); see docs/FUZZING.md.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use zbor_auth::{Error, Role};

/// Runs `property` on generated inputs (`ZBOR_FUZZ_CASES`); see `zbor_testkit::fuzz`.
fn fuzz<S: Strategy>(name: &str, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    zbor_testkit::fuzz::run(env!("CARGO_PKG_NAME"), name, strategy, property);
}

const NAMES: [&str; 3] = ["admin", "treasurer", "coordinator"];

/// Characters that look like a role name's: Turkish and Kelvin-sign letters that lower-case to
/// ASCII only under Unicode rules, full-width letters, invisible marks, Unicode spaces.
const TRICKY: &[char] = &[
    'İ', 'ı', '\u{212a}', 'ａ', '\u{200b}', '\u{200f}', '\u{feff}', '\u{00a0}', '\u{3000}', ' ', '\t', '\n',
    '\0', '-', '_',
];

#[test]
fn role_parse() {
    let cased = (prop::sample::select(NAMES.to_vec()), prop::collection::vec(any::<bool>(), 11)).prop_map(
        |(name, upper)| {
            name.chars().zip(upper).map(|(c, up)| if up { c.to_ascii_uppercase() } else { c }).collect()
        },
    );
    let sprinkled =
        (cased.clone(), prop::collection::vec((any::<Index>(), prop::sample::select(TRICKY)), 1..3))
            .prop_map(|(mut text, edits): (String, _)| {
                for (at, c) in edits {
                    let boundaries: Vec<usize> =
                        text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
                    text.insert(*at.get(&boundaries), c);
                }
                text
            });
    let text = prop_oneof![
        3 => cased.clone(),
        1 => cased.prop_map(|c: String| format!("\u{3000} {c}\t\n")),
        3 => sprinkled,
        2 => any::<String>(),
        1 => "[a-zA-Z]{0,12}",
        1 => Just("admin".repeat(20_000)),
        1 => prop::sample::select(vec![
            "", "ADMİN", "admın", "ａｄｍｉｎ", "admin\0", "root", "Admins",
        ]).prop_map(str::to_owned),
    ];
    fuzz("role_parse", text, |text| {
        let wanted = text.trim().to_ascii_lowercase();
        match Role::parse(&text) {
            Ok(role) => {
                prop_assert!(NAMES.contains(&wanted.as_str()), "{text:?} taken as {role:?}");
                prop_assert!(Role::ALL.contains(&role));
                // its JSON name is the name it was parsed from, and parses back
                let json = serde_json::to_string(&role).unwrap();
                prop_assert_eq!(&json, &format!("\"{wanted}\""));
                prop_assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
                prop_assert_eq!(Role::parse(&wanted).unwrap(), role);
            }
            Err(error) => {
                prop_assert!(!NAMES.contains(&wanted.as_str()), "{text:?} refused");
                let message = error.to_string();
                prop_assert!(message.contains("is not admin, treasurer or coordinator"), "{message}");
                prop_assert!(matches!(error, Error::InvalidField { field: "role", .. }), "{error:?}");
            }
        }
        Ok(())
    });
}
