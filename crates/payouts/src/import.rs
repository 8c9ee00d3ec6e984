//! `zbor beneficiaries import FILE.csv`: many beneficiaries from a treasurer's spreadsheet.
//!
//! The header is exactly `name,contact,iban,bic,stripe_account,note` (any case; a UTF-8 byte
//! order mark, as spreadsheet programs write, is ignored). Fields are separated by commas, or by
//! semicolons when the header line uses them (as spreadsheets save CSV in much of Europe). The
//! method follows from the columns: an IBAN (and optionally a BIC) pays by SEPA, a Stripe
//! account through Stripe, neither by hand; both on one row is an error. Rows whose every field
//! is empty are skipped.
//!
//! **All or nothing.** Every row is checked first and every bad row reported (by line, with a
//! message that names the field and the problem, never the value); if any row is bad nothing
//! is imported, so the treasurer fixes the file and imports it again without wondering which
//! half went in. A good file is written in one database transaction.

use std::fmt;
use std::io::Read;

use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use zbor_audit::Actor;
use zbor_campaigns::CampaignId;
use zbor_vault::DataKey;

use crate::beneficiaries::{
    self, contact_field, name_field, note_field, PayoutMethod, Personal, StripeAccount,
};
use crate::iban::{Bic, Iban};
use crate::Error;

pub const HEADER: [&str; 6] = ["name", "contact", "iban", "bic", "stripe_account", "note"];
/// The largest file read, and the most rows imported at once.
pub const IMPORT_BYTES_MAX: u64 = 16 * 1024 * 1024;
pub const IMPORT_ROWS_MAX: usize = 20_000;

/// A bad row: its line in the file (the header is line 1) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub line: usize,
    /// e.g. `iban: checksum is wrong (a character is mistyped)`; never the value itself.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Beneficiaries created: every row of the file, or none when `errors` is not empty.
    pub created: usize,
    pub errors: Vec<RowError>,
}

/// Imports the beneficiaries in `reader` (a CSV file, see the module's documentation) into
/// `campaign_id`, all or nothing. `progress(done, total)` is called with `done = 0` before the
/// first row is written and after each row. A file that cannot be read as this CSV at all
/// (wrong header, too large, too many rows) is an [`Error::InvalidCsv`]; bad rows are reported
/// in [`ImportReport::errors`], and then nothing is written.
///
/// The file is read whole (at most [`IMPORT_BYTES_MAX`]) with blocking reads before the database
/// is touched: meant for a file on disk or an uploaded body already in memory.
///
/// On the host's behalf (`zbor beneficiaries import`): no treasurer set these destinations; a
/// treasurer must still confirm them before they are paid.
pub async fn import_csv<R: Read>(
    pool: &PgPool,
    key: &DataKey,
    campaign_id: CampaignId,
    reader: R,
    progress: impl FnMut(usize, usize),
) -> Result<ImportReport, Error> {
    let mut db = pool.begin().await?;
    let report = import_csv_in(&mut db, key, campaign_id, reader, &Actor::CLI, progress).await?;
    db.commit().await?;
    Ok(report)
}

/// [`import_csv`] inside the caller's transaction, the destinations set by `set_by` (so another
/// treasurer must confirm them). Writes nothing when a row is bad; the caller commits.
pub async fn import_csv_in<R: Read>(
    db: &mut PgConnection,
    key: &DataKey,
    campaign_id: CampaignId,
    reader: R,
    actor: &Actor,
    mut progress: impl FnMut(usize, usize),
) -> Result<ImportReport, Error> {
    let set_by = actor.user_id();
    let (rows, errors) = parse(reader)?;
    if !errors.is_empty() {
        tracing::info!(
            campaign = campaign_id.as_i64(),
            bad_rows = errors.len(),
            "beneficiaries import refused"
        );
        return Ok(ImportReport { created: 0, errors });
    }
    let total = rows.len();
    beneficiaries::ensure_campaign(&mut *db, campaign_id).await?;
    progress(0, total);
    for (done, personal) in rows.iter().enumerate() {
        beneficiaries::insert(&mut *db, key, campaign_id, personal, set_by).await?;
        progress(done + 1, total);
    }
    let details = serde_json::json!({ "campaign_id": campaign_id, "created": total });
    let subject = format!("campaign:{campaign_id}");
    zbor_audit::record_in(&mut *db, actor, "beneficiary.import", Some(&subject), details).await?;
    tracing::info!(campaign = campaign_id.as_i64(), created = total, "beneficiaries imported");
    Ok(ImportReport { created: total, errors: Vec::new() })
}

/// What importing `reader` would do, found without a database: how many beneficiaries it would
/// create and its bad rows. The same reading and checks as [`import_csv`]; nothing is written.
/// (A dry run, and the entry point tests/fuzz.rs feeds generated files to.)
pub fn check_csv<R: Read>(reader: R) -> Result<CsvCheck, Error> {
    let (rows, errors) = parse(reader)?;
    Ok(CsvCheck { good_rows: rows.len(), errors })
}

/// See [`check_csv`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CsvCheck {
    /// Rows that pass every check (all-empty rows are skipped, not counted).
    pub good_rows: usize,
    pub errors: Vec<RowError>,
}

/// Reads and checks every row: the good rows, and the bad rows' errors.
fn parse<R: Read>(reader: R) -> Result<(Vec<Personal>, Vec<RowError>), Error> {
    let mut bytes = Vec::new();
    reader
        .take(IMPORT_BYTES_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::InvalidCsv(e.kind().to_string()))?;
    if u64::try_from(bytes.len()).map_or(true, |n| n > IMPORT_BYTES_MAX) {
        return Err(Error::InvalidCsv(format!("larger than {} MiB", IMPORT_BYTES_MAX / 1024 / 1024)));
    }
    let text = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let first_line = text.split(|&b| b == b'\n' || b == b'\r').next().unwrap_or_default();
    let delimiter = if first_line.contains(&b';') && !first_line.contains(&b',') { b';' } else { b',' };

    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text);
    let header_ok = csv
        .headers()
        .map(|h| {
            h.len() == HEADER.len() && h.iter().zip(HEADER).all(|(got, want)| got.eq_ignore_ascii_case(want))
        })
        .unwrap_or(false);
    if !header_ok {
        return Err(Error::InvalidCsv(format!("the first line must be the header {}", HEADER.join(","))));
    }

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut lines = Lines::new(text);
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                if record.iter().all(str::is_empty) {
                    continue;
                }
                let line = record.position().map_or(0, |p| lines.line_of(p.byte()));
                match row(&record) {
                    Ok(personal) => rows.push(personal),
                    Err(problems) => errors.push(RowError { line, message: problems.join("; ") }),
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_of(p.byte()));
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths { len, .. } => {
                        format!("has {len} fields; the header has {}", HEADER.len())
                    }
                    csv::ErrorKind::Utf8 { .. } => {
                        "is not UTF-8 text (save the file as CSV UTF-8)".to_owned()
                    }
                    csv::ErrorKind::Io(_) => return Err(Error::InvalidCsv("read error".to_owned())),
                    _ => "cannot be read as CSV".to_owned(),
                };
                errors.push(RowError { line, message });
                // a malformed record leaves the reader at the next record; go on reporting
                if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. } | csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
        if rows.len() + errors.len() > IMPORT_ROWS_MAX {
            return Err(Error::InvalidCsv(format!("more than {IMPORT_ROWS_MAX} rows; split the file")));
        }
    }
    Ok((rows, errors))
}

/// Line numbers of records, counted here rather than taken from the csv crate: its
/// `Position::line` is one short after CRLF line endings (as spreadsheets save CSV), because a
/// record ends at the CR and the LF is only counted when the next record is read; and a row
/// after blank lines got the first blank line's number.
///
/// A record's position (`Position::byte`, exact) is where the reader stood before reading it:
/// just after the previous record's terminator, or inside it (between CR and LF), and before
/// any blank lines. A record cannot start with CR or LF, so its first byte is the first one
/// after those; its line is 1 plus the line breaks before that byte. A line break is LF, CRLF or
/// a lone CR (old Mac files), so every kind of file counts alike, and a quoted field over
/// several lines moves the count for the rows after it while its own row keeps the line it
/// starts on. Counted incrementally, as positions only grow: linear in the file's size.
struct Lines<'a> {
    text: &'a [u8],
    /// bytes before this offset are counted ...
    counted: usize,
    /// ... and the line it is on
    line: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a [u8]) -> Lines<'a> {
        Lines { text, counted: 0, line: 1 }
    }

    /// The line on which the record read from byte `position` starts.
    fn line_of(&mut self, position: u64) -> usize {
        let mut start = usize::try_from(position).unwrap_or(usize::MAX).min(self.text.len());
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start < self.counted {
            // not expected (positions only grow), but then count again from the start
            (self.counted, self.line) = (0, 1);
        }
        let text = self.text;
        let breaks = (self.counted..start)
            .filter(|&i| match text[i] {
                b'\n' => true,
                b'\r' => text.get(i + 1) != Some(&b'\n'),
                _ => false,
            })
            .count();
        self.counted = start;
        self.line += breaks;
        self.line
    }
}

/// One row, checked: every problem of the row, each naming its field, none showing a value.
fn row(record: &csv::StringRecord) -> Result<Personal, Vec<String>> {
    let field = |i: usize| record.get(i).unwrap_or_default();
    let (name, contact, iban, bic, account, note) =
        (field(0), field(1), field(2), field(3), field(4), field(5));
    let mut problems = Vec::new();
    let mut check = |result: Result<String, Error>| result.map_err(|e| problems.push(e.to_string())).ok();
    let name = check(name_field(name));
    let contact = check(contact_field(contact));
    let note = check(note_field(note));

    let method = match (iban.is_empty(), account.is_empty()) {
        (false, false) => {
            problems.push("give an IBAN or a Stripe account, not both".to_owned());
            None
        }
        (false, true) => {
            let iban = Iban::parse(iban).map_err(|e| problems.push(format!("iban: {e}"))).ok();
            let bic = if bic.is_empty() {
                Some(None)
            } else {
                Bic::parse(bic).map(Some).map_err(|e| problems.push(format!("bic: {e}"))).ok()
            };
            iban.zip(bic).map(|(iban, bic)| PayoutMethod::Sepa { iban, bic })
        }
        (true, false) => StripeAccount::parse(account)
            .map(|account| PayoutMethod::StripeConnect { account })
            .map_err(|e| problems.push(e.to_string()))
            .ok(),
        (true, true) => Some(PayoutMethod::Manual),
    };
    if iban.is_empty() && !bic.is_empty() {
        problems.push("bic: given without an IBAN".to_owned());
    }
    match (name, contact, method, note) {
        (Some(name), Some(contact), Some(method), Some(note)) if problems.is_empty() => {
            Personal::new(&name, &contact, method, &note).map_err(|e| vec![e.to_string()])
        }
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn errors(csv: &str) -> Vec<String> {
        parse(csv.as_bytes()).unwrap().1.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn parses_methods_and_reports_every_bad_row_without_values() {
        let csv = "name,contact,iban,bic,stripe_account,note\n\
                   Ales,+48 600,DE89 3704 0044 0532 0130 00,COBADEFFXXX,,\n\
                   Maria,,,,acct_1032D82eZvKYlo2C,\n\
                   Ihar,,,,,cash via cousin\n\
                   Bad One,,DE89370400440532013001,,,\n\
                   ,,,,,only a note\n\
                   Both,,NL91ABNA0417164300,,acct_1032D82eZvKYlo2C,\n\
                   Bic Only,,,DEUTDEFF,,\n\
                   Short,row\n\
                   Stripe,,,,cus_SECRETVALUE1,\n\
                   ,,,,,\n";
        let (rows, errs) = parse(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 3);
        let errs: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            errs,
            [
                "line 5: iban: checksum is wrong (a character is mistyped)",
                "line 6: name: required, at most 200 characters",
                "line 7: give an IBAN or a Stripe account, not both",
                "line 8: bic: given without an IBAN",
                "line 9: has 2 fields; the header has 6",
                "line 10: stripe_account: must be a Stripe account id: acct_ and 4 to 59 letters or digits",
            ]
        );
        let all = errs.join("\n");
        for secret in ["0532013001", "only a note", "NL91", "DEUTDEFF", "SECRETVALUE", "Bad One", "Short"] {
            assert!(!all.contains(secret), "{secret} in {all}");
        }
    }

    #[test]
    fn semicolons_bom_and_header_case() {
        let csv = "\u{feff}Name;Contact;IBAN;BIC;Stripe_Account;Note\r\nAles;;PL61 1090 1014 0000 0712 1981 2874;;;\r\n";
        let (rows, errs) = parse(csv.as_bytes()).unwrap();
        assert_eq!((rows.len(), errs.len()), (1, 0));
        let iban = Iban::parse("PL61109010140000071219812874").unwrap();
        assert!(rows[0] == Personal::new("Ales", "", PayoutMethod::Sepa { iban, bic: None }, "").unwrap());
    }

    #[test]
    fn refuses_a_wrong_header() {
        for csv in ["", "name,contact,iban\nA,,\n", "name,contact,iban,bic,note,stripe_account\n"] {
            assert!(matches!(parse(csv.as_bytes()), Err(Error::InvalidCsv(_))), "{csv:?}");
        }
        assert!(errors("name,contact,iban,bic,stripe_account,note\n").is_empty());
    }

    #[test]
    fn a_quoted_field_over_two_lines_counts_its_lines() {
        let csv = "name,contact,iban,bic,stripe_account,note\n\
                   A,,,,,\"two\nlines\"\n\
                   B,,DE00,,,\n";
        assert_eq!(errors(csv), ["line 4: iban: has 4 characters; IBANs of its country have 22"]);
    }

    /// One bad file: a good row, bad rows before and after a quoted field over two lines, a
    /// blank line, a short row, a row that is not UTF-8, an all-empty row (skipped) and a bad
    /// row at the end. Written with `\n`; the tests below change its line endings.
    const BAD_FILE_LF: &[u8] = b"name,contact,iban,bic,stripe_account,note\n\
        Ales,,DE89 3704 0044 0532 0130 00,,,\n\
        Bad Iban,,DE89370400440532013001,,,\n\
        Two Lines,,,DEUTDEFF,,\"first\nsecond\"\n\
        After,,XX12345678,,,\n\
        \n\
        Short,row\n\
        Not \xff UTF-8,,,,,\n\
        ,,,,,\n\
        Last,,,,cus_SECRETVALUE1,\n";

    /// What `BAD_FILE_LF` must report, whatever its line endings: each row by the line it starts on.
    const BAD_FILE_ERRORS: [&str; 6] = [
        "line 3: iban: checksum is wrong (a character is mistyped)",
        "line 4: bic: given without an IBAN",
        "line 6: iban: does not start with the code of a country that uses IBANs",
        "line 8: has 2 fields; the header has 6",
        "line 9: is not UTF-8 text (save the file as CSV UTF-8)",
        "line 11: stripe_account: must be a Stripe account id: acct_ and 4 to 59 letters or digits",
    ];

    fn byte_errors(csv: &[u8]) -> Vec<String> {
        let (rows, errs) = parse(csv).unwrap();
        assert_eq!(rows.len(), 1, "only Ales is good");
        errs.iter().map(ToString::to_string).collect()
    }

    fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len() * 2);
        let mut rest = bytes;
        while !rest.is_empty() {
            if rest.starts_with(from) {
                out.extend_from_slice(to);
                rest = &rest[from.len()..];
            } else {
                out.push(rest[0]);
                rest = &rest[1..];
            }
        }
        out
    }

    #[test]
    fn line_numbers_with_lf_endings() {
        assert_eq!(byte_errors(BAD_FILE_LF), BAD_FILE_ERRORS);
    }

    #[test]
    fn line_numbers_with_crlf_endings_are_the_same() {
        // as spreadsheets save CSV: every line ends in CRLF, the one inside the quoted field too
        let crlf = replace(BAD_FILE_LF, b"\n", b"\r\n");
        assert_eq!(byte_errors(&crlf), BAD_FILE_ERRORS);
        // Excel's way: CRLF between rows, a bare LF for a line break inside a cell
        let excel = replace(&crlf, b"first\r\nsecond", b"first\nsecond");
        assert_eq!(byte_errors(&excel), BAD_FILE_ERRORS);
        // with a byte order mark and semicolons as well
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend(replace(&crlf, b",", b";"));
        assert_eq!(byte_errors(&bom), BAD_FILE_ERRORS);
    }

    #[test]
    fn line_numbers_with_cr_endings_are_the_same() {
        // old Mac line endings: a bare CR ends a line
        assert_eq!(byte_errors(&replace(BAD_FILE_LF, b"\n", b"\r")), BAD_FILE_ERRORS);
    }
}
