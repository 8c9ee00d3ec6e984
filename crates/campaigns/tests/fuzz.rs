#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Generated input for `Slug::parse`, the one parser of a campaign's URL name: no input panics,
//! it takes exactly `[a-z0-9][a-z0-9-]{1,62}`, and a refusal is `Error::InvalidSlug` quoting at
//! most 64 characters of the input.
//!
//! Cases per property: `ZBOR_FUZZ_CASES` (default 256); see docs/FUZZING.md.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use zbor_campaigns::{Error, Slug};

/// Runs `property` on generated inputs (`ZBOR_FUZZ_CASES`); see `zbor_testkit::fuzz`.
fn fuzz<S: Strategy>(name: &str, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    zbor_testkit::fuzz::run(env!("CARGO_PKG_NAME"), name, strategy, property);
}

/// Characters that look like a slug's but are not: Turkish i's, full-width and Arabic-Indic
/// digits, invisible and right-to-left marks, a byte order mark, Unicode dashes and spaces.
const TRICKY: &[char] = &[
    'İ', 'ı', 'ａ', '１', '٣', '\u{200b}', '\u{200d}', '\u{200f}', '\u{202e}', '\u{feff}', '\u{2010}',
    '\u{2212}', '\u{00a0}', '\u{3000}', ' ', '\t', '\n', '_', '.', '/', 'A', 'Z', '\0',
];

/// `base` with up to three tricky characters put in at random places.
fn sprinkled(base: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (base, prop::collection::vec((any::<Index>(), prop::sample::select(TRICKY)), 0..3)).prop_map(
        |(mut text, edits)| {
            for (at, c) in edits {
                let boundaries: Vec<usize> =
                    text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
                text.insert(*at.get(&boundaries), c);
            }
            text
        },
    )
}

/// `[a-z0-9][a-z0-9-]{1,62}`, written out.
fn is_slug(text: &str) -> bool {
    let b = text.as_bytes();
    (2..=63).contains(&b.len())
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

#[test]
fn slug_parse() {
    let valid = "[a-z0-9][a-z0-9-]{1,62}";
    let text = prop_oneof![
        4 => valid,
        3 => sprinkled(valid),
        1 => (valid, any::<Index>()).prop_map(|(s, cut)| s[..cut.index(s.len() + 1)].to_owned()),
        1 => "[a-z0-9-]{62,66}",
        1 => "[A-Za-z0-9_ -]{0,10}",
        2 => any::<String>(),
        1 => Just("a".repeat(100_000)),
        1 => prop::sample::select(vec![
            "", "a", "-a", "a-", "--", "ab\n", " ab", "release-123\u{200b}", "ｒｅｌｅａｓｅ",
        ]).prop_map(str::to_owned),
    ];
    fuzz("slug_parse", text, |text| {
        match Slug::parse(&text) {
            Ok(slug) => {
                prop_assert!(is_slug(&text), "{text:?} taken");
                prop_assert_eq!(slug.as_str(), text.as_str());
                prop_assert_eq!(Slug::parse(slug.as_str()).ok(), Some(slug.clone()));
                prop_assert_eq!(serde_json::to_string(&slug).unwrap(), format!("\"{text}\""));
            }
            Err(error) => {
                prop_assert!(!is_slug(&text), "{text:?} refused");
                let message = error.to_string();
                prop_assert!(!message.is_empty());
                match error {
                    // a slug is public, but a megabyte of one is no message
                    Error::InvalidSlug(echo) => {
                        prop_assert_eq!(echo, text.chars().take(64).collect::<String>())
                    }
                    other => prop_assert!(false, "{other:?}"),
                }
            }
        }
        Ok(())
    });
}
