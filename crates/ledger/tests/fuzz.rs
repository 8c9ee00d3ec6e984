#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Generated input for the ledger's parsers (`Money::parse`, `Money::from_minor_units`,
//! `Currency::parse`): no input panics, every refusal is the crate's typed error, and whatever is
//! accepted is exact (checked against a reference written out here) and round-trips.
//!
//! Cases per property: `ZBOR_FUZZ_CASES` (default 256); see docs/FUZZING.md.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use zbor_ledger::{Currency, Error, Money};

/// Runs `property` on generated inputs (`ZBOR_FUZZ_CASES`); see `zbor_testkit::fuzz`.
fn fuzz<S: Strategy>(name: &str, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    zbor_testkit::fuzz::run(env!("CARGO_PKG_NAME"), name, strategy, property);
}

// ---------------------------------------------------------------------------------------------
// Generators

/// Characters that look like something else: signs, separators, exponents, invisible and
/// right-to-left marks, a byte order mark, full-width and Arabic-Indic digits, Unicode spaces.
const TRICKY: &[char] = &[
    '-', '+', '.', ',', '_', '\'', 'e', 'E', '\u{2212}', '\u{066b}', '\u{200f}', '\u{202e}', '\u{200b}',
    '\u{200d}', '\u{2060}', '\u{feff}', '\u{ff11}', '\u{ff10}', '\u{0661}', '\u{00a0}', '\u{3000}',
    '\u{2028}', '\u{85}', '\t', '\n', '\r', '\u{b}', '\u{c}', ' ', '\0', '€', 'ß',
];

/// `base` with up to four tricky characters put in at random places.
fn sprinkled(base: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (base, prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(TRICKY)), 0..4))
        .prop_map(|(mut text, edits)| {
            for (at, c) in edits {
                let boundaries: Vec<usize> =
                    text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
                text.insert(*at.get(&boundaries), c);
            }
            text
        })
}

/// Text that may or may not be a decimal amount.
fn amount_text() -> impl Strategy<Value = String> {
    let decimal = (
        prop::sample::select(vec!["", "", "", "-", "+", "--", " ", "- "]),
        "[0-9]{0,45}",
        prop::option::of("[0-9]{0,35}"),
        prop::option::of(prop::sample::select(vec!["e3", "E-2", "e999999", "e+1", "e"])),
    )
        .prop_map(|(sign, whole, fraction, exponent)| {
            let mut text = format!("{sign}{whole}");
            if let Some(fraction) = fraction {
                text = format!("{text}.{fraction}");
            }
            text + exponent.unwrap_or_default()
        });
    let huge = prop_oneof![
        Just("1e999999".to_owned()),
        Just("9".repeat(400)),
        Just(format!("-{}", "9".repeat(400))),
        Just(format!("0.{}1", "0".repeat(400))),
        Just((i128::from(i64::MAX) + 1).to_string()),
        Just((i128::from(i64::MIN) - 1).to_string()),
        Just(format!("{}.00", i64::MAX)),
        Just("79228162514264337593543950335".to_owned()),
        Just("79228162514264337593543950336".to_owned()),
        Just("-0".to_owned()),
        Just("-0.000".to_owned()),
        Just("1".repeat(100_000)),
        any::<i128>().prop_map(|n| n.to_string()),
        (any::<i64>(), 0usize..6).prop_map(|(n, places)| {
            let digits = n.unsigned_abs().to_string();
            let places = places.min(digits.len());
            let (whole, fraction) = digits.split_at(digits.len() - places);
            let sign = if n < 0 { "-" } else { "" };
            let whole = if whole.is_empty() { "0" } else { whole };
            if fraction.is_empty() {
                format!("{sign}{whole}")
            } else {
                format!("{sign}{whole}.{fraction}")
            }
        }),
    ];
    prop_oneof![
        4 => decimal.clone(),
        2 => huge,
        3 => sprinkled(decimal),
        1 => any::<String>(),
        1 => prop::collection::vec(any::<u8>(), 0..48).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        1 => prop::sample::select(vec![
            " 12.50\t", "\u{3000}7", "\u{feff}7", "１２", "12,50", "1_000", "٣", "NaN", "inf", "0x1F", "",
        ]).prop_map(str::to_owned),
    ]
}

/// A currency of each scale zbor knows: 0 (JPY, KRW), 2 (EUR, USD) and 3 (BHD, KWD).
fn currency() -> impl Strategy<Value = Currency> {
    prop::sample::select(vec!["JPY", "KRW", "EUR", "USD", "BHD", "KWD"])
        .prop_map(|c| Currency::parse(c).unwrap())
}

// ---------------------------------------------------------------------------------------------
// A reference for decimal strings, independent of rust_decimal

/// `-?[0-9]+(\.[0-9]+)?`, split into (negative, whole digits, fraction digits).
fn well_formed(text: &str) -> Option<(bool, &str, &str)> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let fraction_ok = fraction.is_empty() && !unsigned.contains('.') || digits(fraction);
    (digits(whole) && fraction_ok).then_some((negative, whole, fraction))
}

/// The value of a well-formed decimal written one way: no leading zeros, no trailing fraction
/// zeros, no sign on zero. Two texts are the same number exactly when these are equal.
fn canonical(text: &str) -> String {
    let (negative, whole, fraction) = well_formed(text).unwrap_or_else(|| panic!("not a decimal: {text:?}"));
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let body = if fraction.is_empty() { whole.to_owned() } else { format!("{whole}.{fraction}") };
    if negative && body != "0" {
        format!("-{body}")
    } else {
        body
    }
}

/// The amount in minor units, as an i128 when it fits in one.
fn minor_units_of(text: &str, scale: usize) -> Option<i128> {
    let (negative, whole, fraction) = well_formed(text)?;
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > scale {
        return None;
    }
    let digits = format!("{whole}{fraction:0<scale$}");
    let digits = digits.trim_start_matches('0');
    let magnitude: i128 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    Some(if negative { -magnitude } else { magnitude })
}

fn check_accepted(money: &Money, text: &str, currency: Currency) -> Result<(), TestCaseError> {
    let scale = currency.minor_units();
    let shown = money.amount().to_string();
    prop_assert_eq!(money.currency(), currency);
    prop_assert_eq!(money.amount().scale(), scale, "held at the currency's scale");
    // exact: the same number as the input, nothing rounded
    prop_assert_eq!(canonical(&shown), canonical(text), "{:?} parsed as {}", text, shown);
    // round trip through what zbor prints (the JSON amount and `Display`)
    prop_assert_eq!(Money::parse(&shown, currency).ok(), Some(*money));
    prop_assert_eq!(money.to_string(), format!("{shown} {currency}"));
    let expected_minor =
        minor_units_of(text, usize::try_from(scale).unwrap()).and_then(|m| i64::try_from(m).ok());
    match money.to_minor_units() {
        Ok(minor) => {
            prop_assert_eq!(Some(minor), expected_minor);
            prop_assert_eq!(Money::from_minor_units(minor, currency).ok(), Some(*money));
        }
        Err(Error::Overflow) => prop_assert_eq!(expected_minor, None),
        Err(other) => prop_assert!(false, "to_minor_units: unexpected {other:?}"),
    }
    Ok(())
}

/// Typed, with a message, and the echo of the input bounded (an amount is not personal data,
/// but a megabyte of it is not an error message either).
fn check_refused(error: &Error, text: &str) -> Result<(), TestCaseError> {
    let message = error.to_string();
    prop_assert!(!message.is_empty());
    match error {
        Error::InvalidAmount(echo) => prop_assert_eq!(echo, &text.chars().take(40).collect::<String>()),
        Error::TooPrecise { amount, .. } => prop_assert!(amount.len() <= 64, "{amount}"),
        Error::Overflow => {}
        other => prop_assert!(false, "Money::parse refused {text:?} with {other:?}"),
    }
    prop_assert!(message.chars().count() <= 400, "{message}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Properties

#[test]
fn money_parse() {
    fuzz("money_parse", (amount_text(), currency()), |(text, currency)| {
        let scale = usize::try_from(currency.minor_units()).unwrap();
        let trimmed = text.trim();
        let result = Money::parse(&text, currency);
        let Some((_, whole, fraction)) = well_formed(trimmed).filter(|_| trimmed.len() <= 40) else {
            // anything else (exponents, `+`, separators, other digits, empty) is refused as text
            prop_assert!(matches!(result, Err(Error::InvalidAmount(_))), "{text:?}: {result:?}");
            return check_refused(&result.unwrap_err(), &text);
        };
        let too_fine = fraction.trim_end_matches('0').len() > scale;
        let significant = whole.trim_start_matches('0').len();
        // 28 digits always fit rust_decimal's 96 bits, at the currency's scale too
        let must_fit = whole.len() + fraction.len() <= 28 && significant + scale <= 28;
        match &result {
            Ok(money) => {
                prop_assert!(!too_fine, "{text:?} finer than {currency} was accepted as {money:?}");
                check_accepted(money, trimmed, currency)?;
            }
            Err(error) => {
                check_refused(error, &text)?;
                if too_fine {
                    prop_assert!(
                        matches!(error, Error::TooPrecise { .. } | Error::InvalidAmount(_)),
                        "{error:?}"
                    );
                } else {
                    prop_assert!(!must_fit, "{text:?} in {currency} refused: {error:?}");
                    prop_assert!(matches!(error, Error::InvalidAmount(_) | Error::Overflow), "{error:?}");
                }
            }
        }
        Ok(())
    });
}

#[test]
fn money_from_minor_units() {
    let minor = prop_oneof![
        any::<i64>(),
        prop::sample::select(vec![i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX]),
        (-1_000_000i64..1_000_000),
    ];
    fuzz("money_from_minor_units", (minor, currency()), |(minor, currency)| {
        // every i64 fits rust_decimal at scales 0 to 3: always accepted, exactly
        let money = Money::from_minor_units(minor, currency);
        prop_assert!(money.is_ok(), "{minor} {currency}: {money:?}");
        let money = money.unwrap();
        prop_assert_eq!(money.to_minor_units().ok(), Some(minor));
        prop_assert_eq!(money.amount().scale(), currency.minor_units());
        prop_assert_eq!(money.is_negative(), minor < 0);
        prop_assert_eq!(money.is_zero(), minor == 0);
        let shown = money.amount().to_string();
        prop_assert_eq!(Money::parse(&shown, currency).ok(), Some(money));
        check_accepted(&money, &shown, currency)
    });
}

#[test]
fn currency_parse() {
    let codes: Vec<&'static str> = Currency::all().map(|c| c.code()).collect();
    let known = prop::sample::select(codes).prop_flat_map(|code| {
        let cased = prop::collection::vec(any::<bool>(), 3).prop_map(move |upper| {
            code.chars()
                .zip(upper)
                .map(|(c, up)| if up { c } else { c.to_ascii_lowercase() })
                .collect::<String>()
        });
        prop_oneof![
            cased.clone(),
            cased.clone().prop_map(|c| format!(" \t{c}\n")),
            sprinkled(cased),
            Just(code.chars().rev().collect::<String>()),
            Just(format!("{code}{code}")),
        ]
    });
    let text = prop_oneof![
        4 => known,
        2 => any::<String>(),
        1 => "[A-Za-z]{0,5}",
        1 => Just("E".repeat(100_000)),
        1 => prop::sample::select(vec![
            "ＥＵＲ", "EUR\u{200b}", "\u{feff}EUR", "EUR\0", "eur\u{0307}", "EUR\u{3000}",
        ]).prop_map(str::to_owned),
    ];
    fuzz("currency_parse", text, |text| {
        let wanted = text.trim().to_ascii_uppercase();
        let expected = Currency::all().find(|c| c.code() == wanted);
        let result = Currency::parse(&text);
        match &result {
            Ok(currency) => {
                let currency = *currency;
                prop_assert_eq!(Some(currency), expected);
                prop_assert!([0, 2, 3].contains(&currency.minor_units()));
                prop_assert_eq!(Currency::parse(currency.code()).ok(), Some(currency));
                prop_assert_eq!(Currency::parse(&currency.stripe_code()).ok(), Some(currency));
                prop_assert_eq!(currency.to_string(), currency.code());
                let json = serde_json::to_string(&currency).unwrap();
                prop_assert_eq!(serde_json::from_str::<Currency>(&json).ok(), Some(currency));
            }
            Err(error @ Error::UnknownCurrency(echo)) => {
                prop_assert_eq!(expected, None, "{:?} refused", text);
                prop_assert_eq!(echo, &text.chars().take(8).collect::<String>());
                let message = error.to_string();
                prop_assert!(!message.is_empty() && message.chars().count() <= 80, "{}", message);
            }
            Err(other) => prop_assert!(false, "{text:?}: {other:?}"),
        }
        Ok(())
    });
}

/// The JSON shape (`{"amount": "…", "currency": "…"}`) goes through the same parsers: any JSON
/// text is a Money or a serde error, and a Money serialises back to what reads as itself.
#[test]
fn money_json() {
    let json = prop_oneof![
        (amount_text(), prop::sample::select(vec!["EUR", "jpy", "KWD", "XXX", ""])).prop_map(
            |(amount, code)| { serde_json::json!({ "amount": amount, "currency": code }).to_string() }
        ),
        amount_text().prop_map(|amount| format!(r#"{{"amount":{amount},"currency":"EUR"}}"#)),
        any::<String>(),
        Just(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000))),
        Just(format!("{}1{}", r#"{"amount":"#.repeat(5_000), "}".repeat(5_000))),
    ];
    fuzz("money_json", json, |json| {
        if let Ok(money) = serde_json::from_str::<Money>(&json) {
            let again = serde_json::to_string(&money).unwrap();
            prop_assert_eq!(serde_json::from_str::<Money>(&again).ok(), Some(money));
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// Fixed cases the generators reach only by luck

#[test]
fn edges_of_the_reference() {
    let eur = Currency::parse("EUR").unwrap();
    let jpy = Currency::parse("JPY").unwrap();
    assert_eq!(canonical("-000.500"), "-0.5");
    assert_eq!(canonical("-0.00"), "0");
    assert!(matches!(Money::parse("1e999999", eur), Err(Error::InvalidAmount(_))));
    assert!(matches!(Money::parse(&"9".repeat(400), eur), Err(Error::InvalidAmount(_))));
    let past_i64 = Money::parse(&(i128::from(i64::MAX) + 1).to_string(), jpy).unwrap();
    assert!(matches!(past_i64.to_minor_units(), Err(Error::Overflow)));
    assert_eq!(Money::parse(&i64::MAX.to_string(), jpy).unwrap().to_minor_units().unwrap(), i64::MAX);
    // Unicode whitespace is trimmed like ASCII whitespace; a byte order mark is not whitespace
    assert_eq!(Money::parse("\u{3000}7\u{a0}", eur).unwrap().to_minor_units().unwrap(), 700);
    assert!(matches!(Money::parse("\u{feff}7", eur), Err(Error::InvalidAmount(_))));
    assert!(matches!(Money::parse("１２", eur), Err(Error::InvalidAmount(_))));
}
