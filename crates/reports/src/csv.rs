//! CSV as accountants' tools import it: RFC 4180 (comma, CRLF, a header row, a field quoted when
//! it holds a comma, a quote, CR or LF, quotes doubled), UTF-8, amounts exact at the currency's
//! scale with a dot as decimal separator and no thousands separator (`1234.50`).
//!
//! Text cells are guarded against formula injection: a spreadsheet runs a cell that starts with
//! `=`, `+`, `-` or `@` (and some a tab or CR before them) as a formula, and a campaign title or
//! a dispute reason could come from anyone. Such a cell gets a leading apostrophe, which the
//! spreadsheet shows as text. Amounts are written by [`Row::amount`], never guarded: `-5.00` is a
//! number, and an apostrophe would turn it into text the accountant cannot sum.

use chrono::{DateTime, SecondsFormat, Utc};
use zbor_ledger::Money;

/// One CSV line being built; [`Row::finish`] ends it with CRLF.
#[derive(Default)]
pub struct Row {
    line: String,
    cells: usize,
}

impl Row {
    pub fn new() -> Row {
        Row::default()
    }

    /// A text cell: guarded, then quoted if needed.
    pub fn text(mut self, value: &str) -> Row {
        self.separator();
        let guarded = guard_formula(value);
        quote_into(&mut self.line, &guarded);
        self
    }

    /// An amount at its currency's scale: `25.00`, `-5.00`, `1000` (JPY). Never guarded.
    pub fn amount(mut self, money: &Money) -> Row {
        self.separator();
        self.line.push_str(&money.amount().to_string());
        self
    }

    /// A whole number.
    pub fn count(mut self, value: i64) -> Row {
        self.separator();
        self.line.push_str(&value.to_string());
        self
    }

    /// An instant in UTC, RFC 3339 to the microsecond (`2026-12-01T09:30:00.123456Z`), as
    /// PostgreSQL keeps it: sorting the text sorts the time.
    pub fn time(mut self, at: DateTime<Utc>) -> Row {
        self.separator();
        self.line.push_str(&at.to_rfc3339_opts(SecondsFormat::Micros, true));
        self
    }

    /// An optional instant; empty when none.
    pub fn maybe_time(self, at: Option<DateTime<Utc>>) -> Row {
        match at {
            Some(at) => self.time(at),
            None => self.text(""),
        }
    }

    /// The line with its CRLF.
    pub fn finish(mut self) -> String {
        self.line.push_str("\r\n");
        self.line
    }

    fn separator(&mut self) {
        if self.cells > 0 {
            self.line.push(',');
        }
        self.cells += 1;
    }
}

/// A header line from column names.
pub fn header(columns: &[&str]) -> String {
    columns.iter().fold(Row::new(), |row, column| row.text(column)).finish()
}

/// A text that a spreadsheet would run as a formula, made inert with a leading apostrophe.
pub fn guard_formula(value: &str) -> std::borrow::Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => std::borrow::Cow::Owned(format!("'{value}")),
        _ => std::borrow::Cow::Borrowed(value),
    }
}

fn quote_into(line: &mut String, value: &str) {
    if value.contains([',', '"', '\r', '\n']) {
        line.push('"');
        line.push_str(&value.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zbor_ledger::Currency;

    #[test]
    fn quotes_what_needs_it_and_guards_formulas_in_text_only() -> Result<(), zbor_ledger::Error> {
        let eur = Currency::parse("EUR")?;
        let line = Row::new()
            .text("plain")
            .text("a, b")
            .text("say \"hi\"")
            .text("two\nlines")
            .text("=HYPERLINK(\"http://x\")")
            .text("+1")
            .text("-1")
            .text("@SUM(A1)")
            .amount(&Money::parse("-5", eur)?)
            .amount(&Money::parse("1000.5", eur)?)
            .count(-3)
            .finish();
        assert_eq!(
            line,
            "plain,\"a, b\",\"say \"\"hi\"\"\",\"two\nlines\",\"'=HYPERLINK(\"\"http://x\"\")\",'+1,'-1,'@SUM(A1),-5.00,1000.50,-3\r\n"
        );
        Ok(())
    }

    #[test]
    fn times_are_utc_to_the_microsecond() {
        let at = DateTime::from_timestamp(1_796_083_200, 123_456_000).unwrap_or_default();
        assert_eq!(Row::new().time(at).maybe_time(None).finish(), "2026-12-01T00:00:00.123456Z,\r\n");
    }
}
