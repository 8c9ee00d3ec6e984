#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Whatever text goes into a cell comes back from another CSV reader (the `csv` crate) exactly,
//! but for the apostrophe that disarms a formula; amounts come back as the same exact decimal.

use proptest::prelude::*;
use zbor_ledger::{Currency, Money};
use zbor_reports::csv::{guard_formula, Row};

proptest! {
    #[test]
    fn text_and_amounts_round_trip(cells in proptest::collection::vec(any::<String>(), 1..6), minor in any::<i64>()) {
        let eur = Currency::parse("EUR").unwrap();
        let amount = Money::from_minor_units(minor / 1000, eur).unwrap();
        // a first cell of our own: a reader may take a byte-order mark at the very start of the
        // input as one (csv does), and an export's first cell is always its header's `date`
        let line = cells.iter().fold(Row::new().text("date"), |row, cell| row.text(cell)).amount(&amount).finish();
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        prop_assert_eq!(record.len(), cells.len() + 2);
        prop_assert_eq!(&record[0], "date");
        for (read, written) in record.iter().skip(1).zip(&cells) {
            let guarded = guard_formula(written);
            prop_assert_eq!(read, guarded.as_ref());
            // nothing a spreadsheet would run survives
            prop_assert!(!read.starts_with(['=', '+', '-', '@', '\t', '\r']));
        }
        let read_amount: rust_decimal::Decimal = record[cells.len() + 1].parse().unwrap();
        prop_assert_eq!(read_amount, amount.amount());
        prop_assert_eq!(&record[cells.len() + 1], amount.amount().to_string());
        prop_assert!(reader.records().next().is_none(), "one line, whatever the cells held");
    }
}
