#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Generated input for the bank statement reader (`camt::parse`). No input panics; a refusal
//! is a typed error whose message quotes none of the names and IBANs in the file; what is read
//! keeps the documented rules (amounts more than zero with at most 5 fraction digits, currencies
//! of three capital letters, entries numbered in order); statements written by
//! `camt::testing` read back exactly.
//!
//! Cases per property: `ZBOR_FUZZ_CASES` (default 256); see docs/FUZZING.md.

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use rust_decimal::Decimal;
use zbor_reconcile::camt::testing::{camt053, camt054, TestEntry, TestTransaction};
use zbor_reconcile::camt::{parse, BankStatement, Direction, Entry, StatementError, TransactionDetail};

/// Runs `property` on generated inputs (`ZBOR_FUZZ_CASES`); see `zbor_testkit::fuzz`.
fn fuzz<S: Strategy>(name: &str, strategy: S, property: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    zbor_testkit::fuzz::run(env!("CARGO_PKG_NAME"), name, strategy, property);
}

const SECRETS: &[&str] = &["Ales Bialiatski", "Bialiatski", "Алесь Бяляцкі", "LT121000011101001000"];

/// What a result must satisfy whatever the input: the rules on what is read, and refusals
/// that do not quote the file.
fn check_outcome(result: &Result<BankStatement, StatementError>) -> Result<(), TestCaseError> {
    match result {
        Ok(statement) => {
            for (position, entry) in statement.entries.iter().enumerate() {
                prop_assert_eq!(entry.index, position);
                prop_assert!(entry.amount > Decimal::ZERO, "amount {}", entry.amount);
                prop_assert!(entry.amount.scale() <= 5, "amount {}", entry.amount);
                prop_assert!(is_currency(&entry.currency), "currency {:?}", entry.currency);
                for transaction in &entry.transactions {
                    prop_assert_eq!(transaction.amount.is_some(), transaction.currency.is_some());
                    if let Some(amount) = transaction.amount {
                        prop_assert!(amount >= Decimal::ZERO && amount.scale() <= 5, "amount {}", amount);
                    }
                    if let Some(currency) = &transaction.currency {
                        prop_assert!(is_currency(currency), "currency {:?}", currency);
                    }
                    prop_assert_ne!(transaction.end_to_end_id.as_deref(), Some("NOTPROVIDED"));
                }
            }
        }
        Err(error) => {
            let message = error.to_string();
            prop_assert!(!message.is_empty());
            for secret in SECRETS {
                prop_assert!(!message.contains(secret), "{:?} quotes {:?}", message, secret);
                prop_assert!(!format!("{error:?}").contains(secret), "{:?} quotes {:?}", error, secret);
            }
        }
    }
    Ok(())
}

fn is_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

// ---------------------------------------------------------------------------------------------
// Statements, generated

fn day() -> impl Strategy<Value = NaiveDate> {
    (0i64..20_000).prop_map(|days| {
        NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Duration::try_days(days).unwrap()
    })
}

/// More than zero, 0 to 5 fraction digits, at most 18 digits: what ISO allows.
fn amount() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (1i64..1_000_000_000_000, 0u32..=5).prop_map(|(mantissa, scale)| Decimal::new(mantissa, scale)),
        (1i64..=999_999_999_999_999_999, 0u32..=5)
            .prop_map(|(mantissa, scale)| Decimal::new(mantissa, scale)),
        Just(Decimal::new(1, 5)),
    ]
}

/// Text a bank writes in a remittance line: any, but not starting or ending with a space (the
/// reader trims).
fn remittance() -> impl Strategy<Value = String> {
    prop_oneof![
        "[!-~]([ -~]{0,138}[!-~])?",
        "[A-Za-z&<>\"'é–Ё]{1,40}",
        Just("Ales Bialiatski".to_owned()),
        Just("Алесь Бяляцкі".to_owned()),
    ]
}

fn transaction() -> impl Strategy<Value = TestTransaction> {
    (
        prop::option::of("ZBOR-P[1-9][0-9]{0,8}|[A-Za-z0-9/?:().,'+ -]{1,35}"),
        amount(),
        prop::option::of(prop::sample::select(vec![
            "AC01", "AC04", "AC06", "AG01", "AM04", "AM05", "MD07", "MS03",
        ])),
        prop::option::of(remittance()),
    )
        .prop_map(|(end_to_end_id, amount, return_reason, remittance)| TestTransaction {
            // the reader trims, and takes NOTPROVIDED for none
            end_to_end_id: end_to_end_id
                .map(|id| id.trim().to_owned())
                .filter(|id| !id.is_empty() && id != "NOTPROVIDED"),
            amount,
            return_reason: return_reason.map(str::to_owned),
            remittance,
        })
}

fn entry() -> impl Strategy<Value = TestEntry> {
    (
        amount(),
        prop::sample::select(vec!["EUR", "CHF", "PLN", "USD"]),
        any::<bool>(),
        any::<bool>(),
        day(),
        "[A-Za-z0-9-]{1,35}",
        prop::collection::vec(transaction(), 0..4),
    )
        .prop_map(
            |(amount, currency, credit, reversal, booking_date, servicer_reference, transactions)| {
                TestEntry {
                    amount,
                    currency: currency.to_owned(),
                    direction: if credit { Direction::Credit } else { Direction::Debit },
                    reversal,
                    booking_date,
                    servicer_reference,
                    transactions,
                }
            },
        )
}

/// What `parse` should give for the entries written, from the documented rules.
fn expected(entries: &[TestEntry]) -> Vec<Entry> {
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| Entry {
            index,
            amount: entry.amount,
            currency: entry.currency.clone(),
            direction: entry.direction,
            reversal: entry.reversal,
            status: "BOOK".into(),
            booking_date: Some(entry.booking_date),
            value_date: Some(entry.booking_date),
            servicer_reference: Some(entry.servicer_reference.clone()),
            transactions: entry
                .transactions
                .iter()
                .map(|transaction| TransactionDetail {
                    end_to_end_id: transaction.end_to_end_id.clone(),
                    amount: Some(transaction.amount),
                    currency: Some(entry.currency.clone()),
                    return_reason: transaction.return_reason.clone(),
                    remittance: transaction.remittance.clone(),
                })
                .collect(),
        })
        .collect()
}

#[test]
fn camt_round_trip() {
    let strategy = (prop::collection::vec(entry(), 0..12), -1_000_000i64..1_000_000, any::<bool>());
    fuzz("camt_round_trip", strategy, |(entries, opening, notification)| {
        let xml = if notification {
            camt054("N-1", "LT121000011101001000", &entries)
        } else {
            camt053("S-1", "LT121000011101001000", "EUR", Decimal::new(opening, 2), &entries)
        };
        let result = parse(xml.as_bytes());
        check_outcome(&result)?;
        let statement = result.map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert_eq!(statement.account_iban.as_deref(), Some("LT121000011101001000"));
        prop_assert_eq!(statement.entries, expected(&entries));
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// Hostile input

/// Pieces of markup and values that break a statement in interesting ways.
const SNIPPETS: &[&str] = &[
    "<",
    ">",
    "&",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "&#233;",
    "&lol;",
    "]]>",
    "<![CDATA[",
    "<!--",
    "-->",
    "<!DOCTYPE x>",
    "<?xml version=\"1.0\"?>",
    "<Ntry>",
    "</Ntry>",
    "<TxDtls>",
    "</TxDtls>",
    "<Amt Ccy=\"EUR\">",
    "</Amt>",
    "<Amt>",
    "<CdtDbtInd>CRDT</CdtDbtInd>",
    "<Stmt>",
    "</Stmt>",
    "<Ntfctn>",
    "<Id>",
    "</Id>",
    "-",
    "1e3",
    ".",
    "0",
    "99999999999999999999999999999",
    "\u{202e}",
    "\u{feff}",
    "\0",
    "\u{ff11}",
    "\r\n",
    "Ccy=\"eur\"",
    "xmlns:a=\"x\"",
    "a:",
    "<Sts>BOOK</Sts>",
    "<RvslInd>1</RvslInd>",
    "<DtTm>2024-02-29T25:00:00</DtTm>",
    "Ales Bialiatski",
];

#[derive(Debug, Clone)]
enum Edit {
    Delete(Index, usize),
    Insert(Index, &'static str),
    Replace(Index, u8),
    Cut(Index),
    Repeat(Index, usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), 1usize..40).prop_map(|(at, len)| Edit::Delete(at, len)),
        (any::<Index>(), prop::sample::select(SNIPPETS)).prop_map(|(at, snippet)| Edit::Insert(at, snippet)),
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Edit::Replace(at, byte)),
        any::<Index>().prop_map(Edit::Cut),
        (any::<Index>(), 1usize..200, 1usize..50).prop_map(|(at, len, times)| Edit::Repeat(at, len, times)),
    ]
}

fn apply(mut bytes: Vec<u8>, edit: &Edit) -> Vec<u8> {
    match edit {
        Edit::Delete(at, len) if !bytes.is_empty() => {
            let start = at.index(bytes.len());
            let end = (start + len).min(bytes.len());
            bytes.drain(start..end);
        }
        Edit::Insert(at, snippet) => {
            let start = at.index(bytes.len() + 1);
            bytes.splice(start..start, snippet.bytes());
        }
        Edit::Replace(at, byte) if !bytes.is_empty() => {
            let i = at.index(bytes.len());
            bytes[i] = *byte;
        }
        Edit::Cut(at) => bytes.truncate(at.index(bytes.len() + 1)),
        Edit::Repeat(at, len, times) if !bytes.is_empty() => {
            let start = at.index(bytes.len());
            let end = (start + len).min(bytes.len());
            let piece = bytes[start..end].repeat(*times);
            bytes.splice(end..end, piece);
        }
        Edit::Delete(..) | Edit::Replace(..) | Edit::Repeat(..) => {}
    }
    bytes
}

/// Valid messages holding personal data, to be broken.
fn bases() -> Vec<Vec<u8>> {
    let day = NaiveDate::from_ymd_opt(2024, 5, 3).unwrap();
    let entries = vec![
        TestEntry {
            amount: Decimal::new(100_000, 2),
            currency: "EUR".into(),
            direction: Direction::Debit,
            reversal: false,
            booking_date: day,
            servicer_reference: "REF-1".into(),
            transactions: vec![TestTransaction {
                end_to_end_id: Some("ZBOR-P1".into()),
                amount: Decimal::new(100_000, 2),
                return_reason: None,
                remittance: Some("Ales Bialiatski LT121000011101001000".into()),
            }],
        },
        TestEntry {
            amount: Decimal::new(100_000, 2),
            currency: "EUR".into(),
            direction: Direction::Credit,
            reversal: true,
            booking_date: day,
            servicer_reference: "REF-2".into(),
            transactions: vec![
                TestTransaction {
                    end_to_end_id: Some("ZBOR-P1".into()),
                    amount: Decimal::new(50_000, 2),
                    return_reason: Some("AC04".into()),
                    remittance: Some("Алесь Бяляцкі".into()),
                },
                TestTransaction {
                    end_to_end_id: None,
                    amount: Decimal::new(50_000, 2),
                    return_reason: None,
                    remittance: None,
                },
            ],
        },
    ];
    vec![
        camt053("S-1", "LT121000011101001000", "EUR", Decimal::new(-500, 2), &entries).into_bytes(),
        camt054("N-1", "LT121000011101001000", &entries).into_bytes(),
    ]
}

#[test]
fn camt_parse_mutated() {
    let bases = bases();
    let strategy = (0..bases.len(), prop::collection::vec(edit(), 1..8));
    fuzz("camt_parse_mutated", strategy, |(base, edits)| {
        let bytes = edits.iter().fold(bases[base].clone(), apply);
        check_outcome(&parse(&bytes))
    });
}

#[test]
fn camt_parse_bytes() {
    let strategy = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..2_048),
        ".{0,512}".prop_map(String::into_bytes),
        (
            prop::sample::select(vec![
                "<Document>",
                "<Document><BkToCstmrStmt>",
                "<a:Document><BkToCstmrDbtCdtNtfctn>"
            ]),
            ".{0,512}"
        )
            .prop_map(|(head, tail)| format!("{head}{tail}").into_bytes()),
        prop::collection::vec(prop::sample::select(SNIPPETS), 0..200)
            .prop_map(|pieces| pieces.concat().into_bytes()),
    ];
    fuzz("camt_parse_bytes", strategy, |bytes| check_outcome(&parse(&bytes)));
}

/// Deep nesting and many entries, at sizes a generator does not reach.
#[test]
fn camt_large_hostile_shapes() {
    let deep = format!("<Document><BkToCstmrStmt>{}", "<Ntry>".repeat(1_000_000));
    assert!(matches!(parse(deep.as_bytes()), Err(StatementError::TooDeep { .. })));
    let empty_details = format!(
        "<Document><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr><Stmt><Id>S</Id><Ntry>\
         <Amt Ccy=\"EUR\">1</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><NtryDtls>{}</NtryDtls></Ntry>\
         </Stmt></BkToCstmrStmt></Document>",
        "<TxDtls/>".repeat(100_000)
    );
    let statement = parse(empty_details.as_bytes()).unwrap();
    assert_eq!(statement.entries[0].transactions.len(), 100_000);
}
