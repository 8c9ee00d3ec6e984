#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Generated input for the parsers of payout destinations: the beneficiaries CSV import
//! (`import::check_csv`, the same reading and checks as `import_csv` without a database),
//! `Iban::parse`, `Bic::parse` and `StripeAccount::parse`. No input panics; every refusal is a
//! typed error whose message is one of the crate's fixed texts, so it cannot quote a cell, an
//! IBAN or an account; what is accepted round-trips through its electronic form.
//!
//! Cases per property: `ZBOR_FUZZ_CASES` (default 256); see docs/FUZZING.md.

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use zbor_payouts::beneficiaries::StripeAccount;
use zbor_payouts::iban::{Bic, BicError, Iban, IbanError};
use zbor_payouts::import::{check_csv, CsvCheck, IMPORT_BYTES_MAX, IMPORT_ROWS_MAX};
use zbor_payouts::Error;

/// Runs `property` on generated inputs (`ZBOR_FUZZ_CASES`); see `zbor_testkit::fuzz`.
fn fuzz<S: Strategy>(name: &str, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    zbor_testkit::fuzz::run(env!("CARGO_PKG_NAME"), name, strategy, property);
}

// ---------------------------------------------------------------------------------------------
// Generators: text

/// Characters that look like something else: invisible and right-to-left marks, a byte order
/// mark, full-width and Arabic-Indic digits, Unicode spaces, separators and quotes.
const TRICKY: &[char] = &[
    '\u{200f}', '\u{202e}', '\u{200b}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{ff11}', '\u{ff21}',
    '\u{0661}', '\u{00a0}', '\u{3000}', '\u{2028}', '\u{85}', '\t', '\n', '\r', ' ', '\0', '-', ',', ';',
    '"', 'ß', 'İ', 'ı',
];

/// `base` with up to four tricky characters put in at random places.
fn sprinkled(base: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (base, prop::collection::vec((any::<Index>(), prop::sample::select(TRICKY)), 0..4)).prop_map(
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

/// `text` with one character replaced by another of its kind (digit by digit, letter by
/// letter), or `None` when it has no digit or letter. Such a change breaks an IBAN's mod-97
/// checksum always: the number changes by a multiple of a power of ten below 97 in size.
fn substituted(text: &str, at: Index, by: u8) -> Option<String> {
    let positions: Vec<usize> =
        text.bytes().enumerate().filter(|(_, b)| b.is_ascii_alphanumeric()).map(|(i, _)| i).collect();
    if positions.is_empty() {
        return None;
    }
    let i = *at.get(&positions);
    let mut bytes = text.as_bytes().to_vec();
    let old = bytes[i];
    bytes[i] = if old.is_ascii_digit() {
        b'0' + (old - b'0' + 1 + by % 9) % 10
    } else {
        let base = if old.is_ascii_uppercase() { b'A' } else { b'a' };
        base + (old - base + 1 + by % 25) % 26
    };
    Some(String::from_utf8(bytes).unwrap())
}

// ---------------------------------------------------------------------------------------------
// IBANs, written out independently of the crate

#[derive(Clone, Copy, Debug)]
enum Class {
    N,
    A,
    C,
}
use Class::{A, C, N};

/// Some countries of SWIFT's IBAN registry, with the structure of their account part: short
/// and long ones, all-digit and mixed.
const COUNTRIES: &[(&str, &[(usize, Class)])] = &[
    ("DE", &[(18, N)]),
    ("GB", &[(4, A), (14, N)]),
    ("FR", &[(10, N), (11, C), (2, N)]),
    ("NL", &[(4, A), (10, N)]),
    ("NO", &[(11, N)]),
    ("MT", &[(4, A), (5, N), (18, C)]),
    ("BR", &[(23, N), (1, A), (1, C)]),
    ("PL", &[(24, N)]),
    ("IT", &[(1, A), (10, N), (12, C)]),
    ("LC", &[(4, A), (24, C)]),
    ("SC", &[(4, A), (20, N), (3, A)]),
    ("BG", &[(4, A), (6, N), (8, C)]),
    ("UA", &[(6, N), (19, C)]),
    ("BY", &[(4, C), (4, N), (16, C)]),
];

/// ISO 7064 MOD 97-10 of an IBAN-shaped text (first four characters moved to the end, letters
/// as 10..35), over its decimal digits in chunks.
fn mod97(iban: &str) -> u64 {
    let (head, tail) = iban.split_at(4);
    let digits: String =
        tail.chars().chain(head.chars()).map(|c| c.to_digit(36).unwrap().to_string()).collect();
    digits.as_bytes().chunks(9).fold(0, |r, chunk| {
        let chunk = std::str::from_utf8(chunk).unwrap();
        (r * 10u64.pow(u32::try_from(chunk.len()).unwrap()) + chunk.parse::<u64>().unwrap()) % 97
    })
}

fn class_char(class: Class) -> BoxedStrategy<char> {
    match class {
        N => prop::char::range('0', '9').boxed(),
        A => prop::char::range('A', 'Z').boxed(),
        C => prop_oneof![prop::char::range('0', '9'), prop::char::range('A', 'Z')].boxed(),
    }
}

/// A valid IBAN in electronic form: a country's structure filled at random, and the check
/// digits that make its mod-97 remainder 1.
fn valid_iban() -> impl Strategy<Value = String> {
    prop::sample::select(COUNTRIES).prop_flat_map(|(country, parts)| {
        let chars: Vec<BoxedStrategy<char>> = parts
            .iter()
            .flat_map(|&(count, class)| std::iter::repeat_n(class, count))
            .map(class_char)
            .collect();
        chars.prop_map(move |bban| {
            let bban: String = bban.into_iter().collect();
            let check = 98 - mod97(&format!("{country}00{bban}"));
            format!("{country}{check:02}{bban}")
        })
    })
}

/// How people write IBANs: in groups of four, lower case, with no-break or ideographic spaces
/// from a web page, tabs, around it spaces.
fn written(electronic: &str, style: u8) -> String {
    let grouped = |sep: &str| {
        electronic.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(sep)
    };
    match style % 7 {
        0 => electronic.to_owned(),
        1 => grouped(" "),
        2 => grouped(" ").to_ascii_lowercase(),
        3 => grouped("\u{a0}"),
        4 => format!(" \t{}\u{3000}", grouped("\t")),
        5 => electronic.to_ascii_lowercase(),
        _ => grouped("\u{2028}"),
    }
}

/// A valid BIC: 4 letters, 2 letters, 2 letters or digits, and maybe 3 more.
fn valid_bic() -> impl Strategy<Value = String> {
    "[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?"
}

fn valid_account() -> impl Strategy<Value = String> {
    "acct_[A-Za-z0-9]{4,59}"
}

/// A message with every number in it replaced by `#`: the crate's fixed texts differ in counts
/// (lengths, fields) only.
fn shape_of(message: &str) -> String {
    let mut shape = String::new();
    for c in message.chars() {
        if c.is_ascii_digit() {
            if !shape.ends_with('#') {
                shape.push('#');
            }
        } else {
            shape.push(c);
        }
    }
    shape
}

fn iban_messages() -> Vec<String> {
    [
        IbanError::Empty,
        IbanError::InvalidCharacters,
        IbanError::UnknownCountry,
        IbanError::WrongLength { expected: 22, actual: 3 },
        IbanError::WrongFormat,
        IbanError::WrongChecksum,
    ]
    .iter()
    .map(|e| shape_of(&e.to_string()))
    .collect()
}

// ---------------------------------------------------------------------------------------------
// Properties: IBAN, BIC, Stripe account

#[test]
fn iban_parse() {
    let text = prop_oneof![
        3 => (valid_iban(), any::<u8>()).prop_map(|(iban, style)| written(&iban, style)),
        2 => (valid_iban(), any::<Index>(), any::<u8>())
            .prop_map(|(iban, at, by)| substituted(&iban, at, by).unwrap()),
        2 => sprinkled(valid_iban()),
        2 => (valid_iban(), any::<Index>())
            .prop_map(|(iban, cut)| iban[..cut.index(iban.len() + 1)].to_owned()),
        1 => (valid_iban(), "[A-Z0-9]{1,4}").prop_map(|(iban, more)| iban + &more),
        2 => any::<String>(),
        1 => "[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{0,40}",
        1 => Just("DE".repeat(50_000)),
        1 => prop::sample::select(vec!["", " ", "\u{feff}DE89370400440532013000", "ＤＥ89370400440532013000",
            "DE89\u{200b}370400440532013000", "\u{202e}DE89370400440532013000", "DE8937040044053201300٠"])
            .prop_map(str::to_owned),
    ];
    let known = iban_messages();
    fuzz("iban_parse", text, |text| {
        let normalized: String =
            text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        match Iban::parse(&text) {
            Ok(iban) => {
                let full = iban.as_str();
                prop_assert_eq!(full, normalized.as_str());
                prop_assert!(full.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
                prop_assert!((15..=34).contains(&full.len()));
                prop_assert_eq!(mod97(full), 1);
                prop_assert!(Iban::parse(full).ok() == Some(iban.clone()), "electronic form round trip");
                prop_assert_eq!(iban.country(), &full[..2]);
                // only masked, whichever way it is printed
                let masked = format!("**** {}", &full[full.len() - 4..]);
                prop_assert_eq!(iban.masked(), masked.clone());
                prop_assert_eq!(iban.to_string(), masked.clone());
                prop_assert_eq!(format!("{iban:?}"), format!("Iban({masked})"));
            }
            Err(error) => {
                prop_assert!(known.contains(&shape_of(&error.to_string())), "{error}");
                match error {
                    IbanError::Empty => prop_assert!(normalized.is_empty()),
                    IbanError::WrongLength { actual, .. } => prop_assert_eq!(actual, normalized.len()),
                    _ => {}
                }
            }
        }
        Ok(())
    });
}

/// Every IBAN made with the right check digits is taken however it is written; every change of
/// one digit or letter to another is refused.
#[test]
fn iban_valid_generated() {
    let input = (valid_iban(), any::<u8>(), any::<Index>(), any::<u8>());
    fuzz("iban_valid_generated", input, |(electronic, style, at, by)| {
        let text = written(&electronic, style);
        let parsed = Iban::parse(&text);
        prop_assert!(parsed.is_ok(), "{text:?}: {parsed:?}");
        let parsed = parsed.unwrap();
        prop_assert_eq!(parsed.as_str(), electronic.as_str());
        let typo = substituted(&electronic, at, by).unwrap();
        prop_assert!(Iban::parse(&typo).is_err(), "{typo} taken");
        Ok(())
    });
}

#[test]
fn bic_parse() {
    let text = prop_oneof![
        3 => (valid_bic(), any::<u8>()).prop_map(|(bic, style)| match style % 4 {
            0 => bic,
            1 => bic.to_ascii_lowercase(),
            2 => format!(" {} {} ", &bic[..4], &bic[4..]),
            _ => format!("\u{a0}{bic}\t"),
        }),
        2 => sprinkled(valid_bic()),
        2 => (valid_bic(), any::<Index>()).prop_map(|(bic, cut)| bic[..cut.index(bic.len() + 1)].to_owned()),
        2 => any::<String>(),
        1 => "[A-Za-z0-9]{0,14}",
        1 => prop::sample::select(vec![
            "ＤＥＵＴＤＥＦＦ", "DEUTDEFF\u{200b}", "\u{feff}DEUTDEFF", "DEUTDEFFİ", "ßEUTDEFF",
        ]).prop_map(str::to_owned),
    ];
    let message = BicError.to_string();
    fuzz("bic_parse", text, |text| {
        let normalized: String =
            text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        let b = normalized.as_bytes();
        let letters = |s: &[u8]| s.iter().all(u8::is_ascii_uppercase);
        let alnum = |s: &[u8]| s.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let valid = (b.len() == 8 || b.len() == 11) && letters(&b[..6]) && alnum(&b[6..]);
        match Bic::parse(&text) {
            Ok(bic) => {
                prop_assert!(valid, "{text:?} taken");
                prop_assert_eq!(bic.as_str(), normalized.as_str());
                prop_assert!(Bic::parse(bic.as_str()).ok() == Some(bic.clone()));
                prop_assert_eq!(format!("{bic:?}"), "Bic(..)");
            }
            Err(error) => {
                prop_assert!(!valid, "{text:?} refused");
                prop_assert_eq!(error.to_string(), message.clone());
            }
        }
        Ok(())
    });
}

#[test]
fn stripe_account_parse() {
    let text = prop_oneof![
        3 => valid_account(),
        1 => valid_account().prop_map(|a| format!(" \t{a}\u{3000}")),
        2 => sprinkled(valid_account()),
        2 => (valid_account(), any::<Index>()).prop_map(|(a, cut)| a[..cut.index(a.len() + 1)].to_owned()),
        1 => "acct_[A-Za-z0-9]{60,80}",
        1 => "(acct|ACCT|cus|ba)_[A-Za-z0-9_]{0,20}",
        2 => any::<String>(),
        1 => prop::sample::select(vec![
            "acct_１２３４", "acct_\u{200b}1234", "\u{feff}acct_1234", "acct_12345\0",
        ]).prop_map(str::to_owned),
    ];
    let message = StripeAccount::parse("").unwrap_err().to_string();
    fuzz("stripe_account_parse", text, |text| {
        let trimmed = text.trim();
        let valid = trimmed.len() <= 64
            && trimmed
                .strip_prefix("acct_")
                .is_some_and(|rest| rest.len() >= 4 && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
        match StripeAccount::parse(&text) {
            Ok(account) => {
                prop_assert!(valid, "{text:?} taken");
                prop_assert_eq!(account.as_str(), trimmed);
                prop_assert!(StripeAccount::parse(account.as_str()).ok() == Some(account.clone()));
                let masked = format!("acct_****{}", &trimmed[trimmed.len() - 4..]);
                prop_assert_eq!(account.masked(), masked.clone());
                prop_assert_eq!(format!("{account:?}"), format!("StripeAccount({masked})"));
            }
            Err(error) => {
                prop_assert!(!valid, "{text:?} refused");
                prop_assert!(
                    matches!(error, Error::InvalidField { field: "stripe_account", .. }),
                    "{error:?}"
                );
                prop_assert_eq!(error.to_string(), message.clone());
            }
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// The CSV import

const HEADER: [&str; 6] = ["name", "contact", "iban", "bic", "stripe_account", "note"];

/// One row as generated, and whether the import must take it.
#[derive(Clone, Debug)]
struct Row {
    cells: Vec<String>,
    verdict: Verdict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Good,
    Bad,
    /// Every cell empty after trimming: skipped, neither counted nor reported.
    Skipped,
}

/// A name, contact or note: what people type, and what breaks things.
fn person_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Z][a-z]{1,12} [A-Z][a-z]{1,15}(-[A-Z][a-z]{1,10})?",
        2 => sprinkled("[A-Z][a-z]{1,12} [A-Z][a-z]{1,15}"),
        1 => prop::sample::select(vec![
            "Аляксандр Лукашэнка", "محمد الأحمد", "\u{200f}شيرين\u{200f}", "李小龍", "Zoë O\"Brien, Jr.",
            "Ales; Bialiatski", "line\nbreak", "cr\rreturn", "=HYPERLINK(\"x\")", "+48 600 100 200",
            "ｆｕｌｌ　ｗｉｄｔｈ", "\u{feff}bom", "zero\u{200b}width",
        ]).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// How a generated row goes wrong, if it does.
#[derive(Clone, Copy, Debug)]
enum Flaw {
    None,
    NoName,
    LongName,
    LongContact,
    LongNote,
    IbanTypo,
    IbanAndAccount,
    BicWithoutIban,
    BadBic,
    BadAccount,
    FieldCount(usize),
    Blank,
}

fn flaw() -> impl Strategy<Value = Flaw> {
    prop_oneof![
        12 => Just(Flaw::None),
        1 => Just(Flaw::NoName),
        1 => Just(Flaw::LongName),
        1 => Just(Flaw::LongContact),
        1 => Just(Flaw::LongNote),
        1 => Just(Flaw::IbanTypo),
        1 => Just(Flaw::IbanAndAccount),
        1 => Just(Flaw::BicWithoutIban),
        1 => Just(Flaw::BadBic),
        1 => Just(Flaw::BadAccount),
        1 => prop::sample::select(vec![1usize, 2, 5, 7, 9]).prop_map(Flaw::FieldCount),
        1 => Just(Flaw::Blank),
    ]
}

fn row() -> impl Strategy<Value = Row> {
    let method = 0u8..3;
    let destination = (valid_iban(), any::<u8>(), prop::option::of(valid_bic()), valid_account());
    let typo = (any::<Index>(), any::<u8>());
    (flaw(), person_text(), person_text(), person_text(), method, destination, typo).prop_map(
        |(flaw, name, contact, note, method, (iban, style, bic, account), (at, by))| {
            let iban = written(&iban, style);
            let bic = bic.unwrap_or_default();
            // name, contact, iban, bic, stripe_account, note
            let mut cells: Vec<String> = match method {
                0 => vec![name, contact, iban, bic, String::new(), note],
                1 => vec![name, contact, String::new(), String::new(), account, note],
                _ => vec![name, contact, String::new(), String::new(), String::new(), note],
            };
            match flaw {
                Flaw::None => {}
                Flaw::NoName => cells[0] = " \t".to_owned(),
                Flaw::LongName => cells[0] = "Ł".repeat(201),
                Flaw::LongContact => cells[1] = "9".repeat(501),
                Flaw::LongNote => cells[5] = "note ".repeat(401),
                Flaw::IbanTypo => {
                    let valid: String = cells[2].chars().filter(|c| !c.is_whitespace()).collect();
                    let valid = if valid.is_empty() { "DE89370400440532013000".to_owned() } else { valid };
                    cells[2] = substituted(&valid.to_ascii_uppercase(), at, by).unwrap();
                    cells[4] = String::new();
                }
                Flaw::IbanAndAccount => {
                    cells[2] = "DE89 3704 0044 0532 0130 00".to_owned();
                    cells[4] = "acct_1032D82eZvKYlo2C".to_owned();
                }
                Flaw::BicWithoutIban => {
                    cells[2] = String::new();
                    cells[3] = "COBADEFFXXX".to_owned();
                }
                Flaw::BadBic => {
                    cells[2] = "GB82 WEST 1234 5698 7654 32".to_owned();
                    cells[3] = "NOT A BIC".to_owned();
                    cells[4] = String::new();
                }
                Flaw::BadAccount => {
                    cells[2] = String::new();
                    cells[3] = String::new();
                    cells[4] = "cus_SECRETVALUE1".to_owned();
                }
                Flaw::FieldCount(n) => cells.resize(n, "Extra Cell".to_owned()),
                Flaw::Blank => {
                    cells = vec![
                        " ".to_owned(),
                        String::new(),
                        "\t".to_owned(),
                        String::new(),
                        String::new(),
                        " ".to_owned(),
                    ]
                }
            }
            let verdict = verdict(&cells);
            Row { cells, verdict }
        },
    )
}

/// What the import must make of `cells`, from the module's documentation.
fn verdict(cells: &[String]) -> Verdict {
    if cells.len() != HEADER.len() {
        return Verdict::Bad;
    }
    let cell: Vec<&str> = cells.iter().map(|c| c.trim()).collect();
    if cell.iter().all(|c| c.is_empty()) {
        return Verdict::Skipped;
    }
    let (name, contact, iban, bic, account, note) = (cell[0], cell[1], cell[2], cell[3], cell[4], cell[5]);
    let chars = |s: &str| s.chars().count();
    let method_ok = match (iban.is_empty(), account.is_empty()) {
        (false, false) => false,
        (false, true) => Iban::parse(iban).is_ok() && (bic.is_empty() || Bic::parse(bic).is_ok()),
        (true, false) => StripeAccount::parse(account).is_ok() && bic.is_empty(),
        (true, true) => bic.is_empty(),
    };
    let ok =
        !name.is_empty() && chars(name) <= 200 && chars(contact) <= 500 && chars(note) <= 2_000 && method_ok;
    if ok {
        Verdict::Good
    } else {
        Verdict::Bad
    }
}

/// How the file is written: delimiter, line ending, quoting, byte order mark, header case.
#[derive(Clone, Debug)]
struct Dialect {
    semicolons: bool,
    terminator: u8,
    quote_all: bool,
    bom: bool,
    upper_header: bool,
}

fn dialect() -> impl Strategy<Value = Dialect> {
    (any::<bool>(), 0u8..3, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(semicolons, terminator, quote_all, bom, upper_header)| Dialect {
            semicolons,
            terminator,
            quote_all,
            bom,
            upper_header,
        },
    )
}

/// The file, and the line each row starts on.
fn write_file(rows: &[Row], dialect: &Dialect) -> (Vec<u8>, Vec<usize>) {
    let record = |cells: &[String]| {
        let mut writer = csv::WriterBuilder::new()
            .delimiter(if dialect.semicolons { b';' } else { b',' })
            .terminator(match dialect.terminator {
                0 => csv::Terminator::Any(b'\n'),
                1 => csv::Terminator::CRLF,
                _ => csv::Terminator::Any(b'\r'),
            })
            .quote_style(if dialect.quote_all { csv::QuoteStyle::Always } else { csv::QuoteStyle::Necessary })
            .flexible(true)
            .from_writer(Vec::new());
        writer.write_record(cells).unwrap();
        writer.into_inner().unwrap()
    };
    let header: Vec<String> = HEADER
        .iter()
        .map(|h| if dialect.upper_header { h.to_ascii_uppercase() } else { (*h).to_owned() })
        .collect();
    let mut file = if dialect.bom { "\u{feff}".as_bytes().to_vec() } else { Vec::new() };
    file.extend(record(&header));
    let mut lines = Vec::new();
    let mut line = 1 + line_breaks(&file);
    for row in rows {
        lines.push(line);
        let bytes = record(&row.cells);
        line += line_breaks(&bytes);
        file.extend(bytes);
    }
    (file, lines)
}

/// LF, CRLF and a lone CR each end a line.
fn line_breaks(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
        .count()
}

/// Every message the import can give, numbers as `#`.
fn csv_messages() -> Vec<String> {
    let mut known: Vec<String> = iban_messages().into_iter().map(|m| format!("iban: {m}")).collect();
    known.extend(
        [
            "name: required, at most # characters".to_owned(),
            "contact: at most # characters".to_owned(),
            "note: at most # characters".to_owned(),
            "give an IBAN or a Stripe account, not both".to_owned(),
            format!("bic: {}", BicError),
            "bic: given without an IBAN".to_owned(),
            shape_of(&StripeAccount::parse("").unwrap_err().to_string()),
            "has # fields; the header has #".to_owned(),
            "is not UTF-8 text (save the file as CSV UTF-8)".to_owned(),
            "cannot be read as CSV".to_owned(),
        ]
        .map(|m| shape_of(&m)),
    );
    known
}

/// `shape` is fixed texts joined with "; ", as a row's problems are (a fixed text may hold "; "
/// itself: an IBAN of the wrong length).
fn is_fixed(shape: &str, known: &[String]) -> bool {
    known.iter().any(|fixed| {
        shape.strip_prefix(fixed.as_str()).is_some_and(|rest| {
            rest.is_empty() || rest.strip_prefix("; ").is_some_and(|next| is_fixed(next, known))
        })
    })
}

/// A check of any file: typed, and every message one of the fixed texts (so no cell's value).
fn check_any(bytes: &[u8], known: &[String]) -> Result<Option<CsvCheck>, TestCaseError> {
    match check_csv(bytes) {
        Ok(check) => {
            let lines = 1 + line_breaks(bytes);
            for error in &check.errors {
                prop_assert!((1..=lines).contains(&error.line), "line {} of {lines}", error.line);
                prop_assert!(!error.message.is_empty());
                let fixed = is_fixed(&shape_of(&error.message), known);
                prop_assert!(fixed, "unknown message {:?}", error.message);
            }
            prop_assert!(check.good_rows + check.errors.len() <= IMPORT_ROWS_MAX + 1);
            Ok(Some(check))
        }
        Err(Error::InvalidCsv(reason)) => {
            let fixed = [
                format!("the first line must be the header {}", HEADER.join(",")),
                format!("larger than {} MiB", IMPORT_BYTES_MAX / 1024 / 1024),
                format!("more than {IMPORT_ROWS_MAX} rows; split the file"),
            ];
            prop_assert!(fixed.contains(&reason), "{reason}");
            Ok(None)
        }
        Err(other) => Err(TestCaseError::fail(format!("not InvalidCsv: {other:?}"))),
    }
}

/// Generated files of good, bad and blank rows, in every dialect: the good rows are counted,
/// each bad row is reported at the line it starts on, and no message quotes a cell.
#[test]
fn csv_import_generated_rows() {
    let known = csv_messages();
    let input = (prop::collection::vec(row(), 0..12), dialect());
    fuzz("csv_import_generated_rows", input, |(rows, dialect)| {
        let (file, lines) = write_file(&rows, &dialect);
        let check = check_any(&file, &known)?;
        prop_assert!(check.is_some(), "the file was refused whole");
        let check = check.unwrap();
        let good = rows.iter().filter(|r| r.verdict == Verdict::Good).count();
        let bad_lines: Vec<usize> =
            rows.iter().zip(&lines).filter(|(r, _)| r.verdict == Verdict::Bad).map(|(_, l)| *l).collect();
        let reported: Vec<usize> = check.errors.iter().map(|e| e.line).collect();
        prop_assert_eq!(check.good_rows, good);
        prop_assert_eq!(reported, bad_lines);
        let messages: String = check.errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("\n");
        for cell in rows.iter().flat_map(|r| &r.cells) {
            let cell = cell.trim();
            if cell.chars().count() >= 6 && !cell.bytes().all(|b| b.is_ascii_digit()) {
                prop_assert!(!messages.contains(cell), "{cell:?} quoted");
            }
        }
        Ok(())
    });
}

/// A good file cut at any byte, and any bytes after a header or alone: a typed answer, never a
/// panic, and no message beyond the fixed ones.
#[test]
fn csv_import_hostile_bytes() {
    let known = csv_messages();
    let cut_file =
        (prop::collection::vec(row(), 1..8), dialect(), any::<Index>()).prop_map(|(rows, dialect, cut)| {
            let (mut file, _) = write_file(&rows, &dialect);
            file.truncate(cut.index(file.len() + 1));
            file
        });
    let after_header =
        (any::<bool>(), prop::collection::vec(any::<u8>(), 0..1024)).prop_map(|(semicolons, tail)| {
            let mut file = if semicolons { HEADER.join(";") } else { HEADER.join(",") }.into_bytes();
            file.push(b'\n');
            file.extend(tail);
            file
        });
    let bytes = prop_oneof![
        3 => cut_file,
        2 => after_header,
        1 => prop::collection::vec(any::<u8>(), 0..1024),
        1 => sprinkled(Just(format!("{}\nAles,,,,,\n\"open quote,,,,,\n", HEADER.join(","))))
            .prop_map(String::into_bytes),
        1 => Just(format!("{}\n{}", HEADER.join(","), "a,\"".repeat(20_000)).into_bytes()),
    ];
    fuzz("csv_import_hostile_bytes", bytes, |bytes| check_any(&bytes, &known).map(|_| ()));
}

#[test]
fn csv_limits_are_refused_whole() {
    let known = csv_messages();
    let header = HEADER.join(",");
    let many = format!("{header}\n{}", "a,,,,,\n".repeat(IMPORT_ROWS_MAX + 1));
    assert!(check_any(many.as_bytes(), &known).unwrap().is_none());
    let mut large = format!("{header}\n").into_bytes();
    large.resize(usize::try_from(IMPORT_BYTES_MAX).unwrap() + 1, b' ');
    assert!(check_any(&large, &known).unwrap().is_none());
    // the most rows there may be are taken
    let most = format!("{header}\n{}", "a,,,,,\n".repeat(IMPORT_ROWS_MAX));
    assert_eq!(check_csv(most.as_bytes()).unwrap().good_rows, IMPORT_ROWS_MAX);
}

#[test]
fn a_file_cut_at_every_byte() {
    let known = csv_messages();
    let file = "\u{feff}name;contact;iban;bic;stripe_account;note\r\n\
                Ales;\"+375 29\r\n111\";DE89 3704 0044 0532 0130 00;COBADEFFXXX;;\r\n\
                Maria;;;;acct_1032D82eZvKYlo2C;\"note; with \"\"quotes\"\"\"\r\n\
                Bad;;DE89370400440532013001;;;\r\n";
    for cut in 0..=file.len() {
        check_any(&file.as_bytes()[..cut], &known).unwrap();
    }
    let whole = check_csv(file.as_bytes()).unwrap();
    assert_eq!((whole.good_rows, whole.errors.len(), whole.errors[0].line), (2, 1, 5));
}
