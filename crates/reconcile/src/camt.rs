//! The bank's own account of what happened to the money: ISO 20022 bank-to-customer statements,
//! `camt.053` (the end-of-day statement) and `camt.054` (debit and credit notifications), read.
//!
//! Why: a SEPA payout is only known to be paid when the bank's statement shows it booked, and a
//! payout the creditor's bank sent back (an R-transaction: AC04 account closed, AM04, MD07, …)
//! arrives days later as a credit with the original end-to-end id. Reconciliation matches these
//! entries to payouts; this module only reads them, exactly and defensively.
//!
//! How:
//! - A pull parser (`quick_xml::Reader`) over the bytes: no document tree is kept, so a statement
//!   of any allowed size costs about its entries in memory.
//! - Elements are recognised by local name and position (`Document/BkToCstmrStmt/Stmt/Ntry/Amt`),
//!   ignoring prefixes and namespaces, so every version from `.001.02` to `.001.13` is read the
//!   same way. Any other element is skipped, whatever it holds.
//! - Several `Stmt` (or `Ntfctn`) blocks in one message: `id` and `account_iban` come from the
//!   first block and the entries of all blocks are kept in order, `Entry::index` counting across
//!   them. A bank sends several blocks for one account split in pages; a message mixing accounts
//!   is not something zbor's bank sends, and the caller can compare the IBAN it expects.
//! - Amounts are `Decimal`s parsed from the text as written (digits and one point, at most 5
//!   fraction digits and 18 digits in all, ISO's limits): never a float, never rounded.
//! - Refused before or while reading: input over [`MAX_STATEMENT_BYTES`], a `<!DOCTYPE>` (a
//!   statement has none, and a DTD is how entity expansion attacks start), entities other than
//!   XML's five and character references, nesting deeper than [`MAX_DEPTH`], more than
//!   [`MAX_ENTRIES`] entries or [`MAX_TRANSACTIONS`] transaction details, a kept text over
//!   [`MAX_TEXT_BYTES`], encodings other than UTF-8.
//! - Errors name elements, entry positions and byte offsets, never text from the document: a
//!   statement holds names and IBANs of people, and error messages end up in logs.
//!
//! [`testing`] writes statements for tests (camt.053 valid against the ISO schema).

use chrono::NaiveDate;
use quick_xml::events::{BytesDecl, BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use rust_decimal::Decimal;

/// 20 MiB: a busy account's day is far below this; a larger file is refused unread.
pub const MAX_STATEMENT_BYTES: usize = 20 * 1024 * 1024;
/// Entries in one message. With the size limit this bounds the memory a hostile file can take.
pub const MAX_ENTRIES: usize = 1_000_000;
/// Transaction details (`TxDtls`) in one message, over all entries.
pub const MAX_TRANSACTIONS: usize = 1_000_000;
/// Element nesting; real statements nest about 10 deep.
pub const MAX_DEPTH: usize = 64;
/// The longest text kept from one element (ids are 35 characters, remittance lines 140).
pub const MAX_TEXT_BYTES: usize = 1_024;

/// ISO 20022's `ActiveOrHistoricCurrencyAndAmount`: at most 5 fraction digits, 18 in all.
const AMOUNT_FRACTION_DIGITS_MAX: usize = 5;
const AMOUNT_DIGITS_MAX: usize = 18;

/// Which message the statement came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// camt.053, `BkToCstmrStmt`: the end-of-day statement, with balances.
    Statement,
    /// camt.054, `BkToCstmrDbtCdtNtfctn`: debit and credit notifications, during the day.
    Notification,
}

/// A statement or notification message, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankStatement {
    pub kind: MessageKind,
    /// `GrpHdr/MsgId`
    pub message_id: String,
    /// `Stmt/Id` or `Ntfctn/Id` of the first block.
    pub id: String,
    /// `Acct/Id/IBAN` of the first block; `None` when the account is named otherwise (`Othr`).
    pub account_iban: Option<String>,
    /// The entries of all blocks, in document order.
    pub entries: Vec<Entry>,
}

/// `CdtDbtInd`: money in (`CRDT`) or out (`DBIT`) of the account. A reversal keeps the direction
/// of the booking itself: a returned payout is a credit with `reversal` false.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Credit,
    Debit,
}

/// One `Ntry`: an amount booked (or pending, or for information: see `status`) on the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 0-based position in the message, across all blocks; errors name entries by it.
    pub index: usize,
    /// `Amt`, exactly as written; more than zero.
    pub amount: Decimal,
    /// `Amt@Ccy`: three capital letters.
    pub currency: String,
    pub direction: Direction,
    /// `RvslInd` true: the entry undoes an earlier one (a bank's correction, not a return).
    pub reversal: bool,
    /// `Sts` (text in camt.053.001.02) or `Sts/Cd` (later): `BOOK`, `PDNG` or `INFO`. Only
    /// `BOOK` is money that moved.
    pub status: String,
    /// `BookgDt/Dt`, or the date of `BookgDt/DtTm` as written.
    pub booking_date: Option<NaiveDate>,
    /// `ValDt/Dt`, or the date of `ValDt/DtTm` as written.
    pub value_date: Option<NaiveDate>,
    /// `AcctSvcrRef`: the bank's reference of the entry.
    pub servicer_reference: Option<String>,
    /// `NtryDtls/TxDtls` in order: one for a single payment, many for a batch booking.
    pub transactions: Vec<TransactionDetail>,
}

/// One `TxDtls`: a payment inside an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionDetail {
    /// `Refs/EndToEndId`; `NOTPROVIDED` (SEPA's word for none) is `None`.
    pub end_to_end_id: Option<String>,
    /// `TxDtls/Amt`, else `AmtDtls/TxAmt/Amt`. ISO allows zero here.
    pub amount: Option<Decimal>,
    /// The currency of `amount`.
    pub currency: Option<String>,
    /// `RtrInf/Rsn/Cd` (or `Prtry`): why the payment came back, e.g. `AC04`.
    pub return_reason: Option<String>,
    /// The first `RmtInf/Ustrd`.
    pub remittance: Option<String>,
}

/// Why a statement was not read. The messages never quote the document's text.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error("statement too large: {bytes} bytes, at most {max} are read", max = MAX_STATEMENT_BYTES)]
    TooLarge { bytes: usize },
    #[error("not well-formed XML at byte {position}: {problem}")]
    Xml { position: u64, problem: &'static str },
    #[error(
        "a document type declaration (<!DOCTYPE>) at byte {position} is refused: bank statements have none"
    )]
    Doctype { position: u64 },
    #[error("the XML declaration names an encoding other than UTF-8")]
    Encoding,
    #[error("not a camt.053 or camt.054 message")]
    NotCamt,
    #[error("elements nested more than {max} deep at byte {position}", max = MAX_DEPTH)]
    TooDeep { position: u64 },
    #[error("more than {max} entries", max = MAX_ENTRIES)]
    TooManyEntries,
    #[error("more than {max} transaction details", max = MAX_TRANSACTIONS)]
    TooManyTransactions,
    /// A camt message, but an element is missing, repeated or holds a value that cannot be used.
    #[error("{at} at byte {position}: {problem}")]
    Invalid { at: Location, position: u64, problem: Problem },
}

/// Where in the message a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Document,
    GroupHeader,
    /// The `index`th (0-based) `Stmt` or `Ntfctn`.
    Block {
        kind: MessageKind,
        index: usize,
    },
    /// The entry with this [`Entry::index`].
    Entry {
        index: usize,
    },
    /// The `index`th (0-based) `TxDtls` of an entry.
    Transaction {
        entry: usize,
        index: usize,
    },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Document => f.write_str("document"),
            Location::GroupHeader => f.write_str("GrpHdr"),
            Location::Block { kind: MessageKind::Statement, index } => write!(f, "Stmt {index}"),
            Location::Block { kind: MessageKind::Notification, index } => write!(f, "Ntfctn {index}"),
            Location::Entry { index } => write!(f, "entry {index}"),
            Location::Transaction { entry, index } => write!(f, "entry {entry}, TxDtls {index}"),
        }
    }
}

/// What is wrong with an element; each names the element (a path below the [`Location`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("{0} missing")]
    Missing(&'static str),
    #[error("{0} appears more than once")]
    Repeated(&'static str),
    #[error("{0}: text longer than {max} bytes", max = MAX_TEXT_BYTES)]
    TooLong(&'static str),
    #[error("{0}: amount must be digits with at most one decimal point, without sign or exponent")]
    AmountNotDecimal(&'static str),
    #[error("{0}: amount must be more than zero")]
    AmountNotPositive(&'static str),
    #[error("{0}: amount has more than {max} fraction digits", max = AMOUNT_FRACTION_DIGITS_MAX)]
    AmountFractionDigits(&'static str),
    #[error("{0}: amount has more than {max} digits", max = AMOUNT_DIGITS_MAX)]
    AmountTotalDigits(&'static str),
    #[error("{0}: Ccy must be three capital letters (ISO 4217)")]
    Currency(&'static str),
    #[error("{0}: must be CRDT or DBIT")]
    CreditDebit(&'static str),
    #[error("{0}: must be true or false")]
    Boolean(&'static str),
    #[error("{0}: not a date (YYYY-MM-DD)")]
    Date(&'static str),
}

/// Reads a camt.053 or camt.054 message (any version from .02 to .13).
pub fn parse(xml: &[u8]) -> Result<BankStatement, StatementError> {
    if xml.len() > MAX_STATEMENT_BYTES {
        return Err(StatementError::TooLarge { bytes: xml.len() });
    }
    let mut parser = Parser::new(xml);
    parser.run()?;
    parser.finish()
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The elements whose position matters; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Document,
    /// `BkToCstmrStmt` or `BkToCstmrDbtCdtNtfctn` right under `Document`.
    Message,
    /// `Stmt` or `Ntfctn` (as fits the message) right under the message.
    Block,
    GrpHdr,
    MsgId,
    Id,
    Acct,
    Iban,
    Ntry,
    Amt,
    CdtDbtInd,
    RvslInd,
    Sts,
    Cd,
    Prtry,
    BookgDt,
    ValDt,
    Dt,
    DtTm,
    AcctSvcrRef,
    NtryDtls,
    TxDtls,
    Refs,
    EndToEndId,
    AmtDtls,
    TxAmt,
    RtrInf,
    Rsn,
    RmtInf,
    Ustrd,
    Other,
}

impl Tag {
    /// Names that mean the same wherever they appear; `Document`, the message and its blocks
    /// depend on their depth and are told apart in [`Parser::open`].
    fn of(local_name: &str) -> Tag {
        match local_name {
            "GrpHdr" => Tag::GrpHdr,
            "MsgId" => Tag::MsgId,
            "Id" => Tag::Id,
            "Acct" => Tag::Acct,
            "IBAN" => Tag::Iban,
            "Ntry" => Tag::Ntry,
            "Amt" => Tag::Amt,
            "CdtDbtInd" => Tag::CdtDbtInd,
            "RvslInd" => Tag::RvslInd,
            "Sts" => Tag::Sts,
            "Cd" => Tag::Cd,
            "Prtry" => Tag::Prtry,
            "BookgDt" => Tag::BookgDt,
            "ValDt" => Tag::ValDt,
            "Dt" => Tag::Dt,
            "DtTm" => Tag::DtTm,
            "AcctSvcrRef" => Tag::AcctSvcrRef,
            "NtryDtls" => Tag::NtryDtls,
            "TxDtls" => Tag::TxDtls,
            "Refs" => Tag::Refs,
            "EndToEndId" => Tag::EndToEndId,
            "AmtDtls" => Tag::AmtDtls,
            "TxAmt" => Tag::TxAmt,
            "RtrInf" => Tag::RtrInf,
            "Rsn" => Tag::Rsn,
            "RmtInf" => Tag::RmtInf,
            "Ustrd" => Tag::Ustrd,
            _ => Tag::Other,
        }
    }
}

/// An entry being read; checked into an [`Entry`] at its end tag.
struct EntryDraft {
    index: usize,
    position: u64,
    amount: Option<(Decimal, String)>,
    direction: Option<Direction>,
    reversal: Option<bool>,
    status: Option<String>,
    booking_date: Option<NaiveDate>,
    value_date: Option<NaiveDate>,
    servicer_reference: Option<String>,
    transactions: Vec<TransactionDetail>,
}

#[derive(Default)]
struct TransactionDraft {
    end_to_end_id: Option<String>,
    amount: Option<(Decimal, String)>,
    amount_details: Option<(Decimal, String)>,
    return_reason: Option<String>,
    remittance: Option<String>,
}

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
    /// The open elements, outermost first.
    stack: Vec<Tag>,
    /// Where the element opened last starts: a leaf's own position when it closes.
    opened_at: u64,
    /// The text of the innermost open element, while it is one that may be kept.
    text: String,
    text_too_long: bool,
    /// `Ccy` of the `Amt` opened last.
    currency: Option<String>,
    kind: Option<MessageKind>,
    root_closed: bool,
    message_id: Option<String>,
    blocks: usize,
    block_id: Option<String>,
    block_iban: Option<String>,
    id: Option<String>,
    account_iban: Option<String>,
    entries: Vec<Entry>,
    entry: Option<EntryDraft>,
    transaction: Option<TransactionDraft>,
    transactions: usize,
}

fn invalid(at: Location, position: u64, problem: Problem) -> StatementError {
    StatementError::Invalid { at, position, problem }
}

/// Fills an element's slot, refusing a second value: a repeated amount or direction would make
/// the entry ambiguous.
fn set_once<T>(slot: &mut Option<T>, value: T, element: &'static str) -> Result<(), Problem> {
    if slot.is_some() {
        return Err(Problem::Repeated(element));
    }
    *slot = Some(value);
    Ok(())
}

impl<'a> Parser<'a> {
    fn new(xml: &'a [u8]) -> Self {
        let mut reader = Reader::from_reader(xml);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.allow_dangling_amp = false;
        config.expand_empty_elements = false;
        Parser {
            reader,
            stack: Vec::with_capacity(16),
            opened_at: 0,
            text: String::new(),
            text_too_long: false,
            currency: None,
            kind: None,
            root_closed: false,
            message_id: None,
            blocks: 0,
            block_id: None,
            block_iban: None,
            id: None,
            account_iban: None,
            entries: Vec::new(),
            entry: None,
            transaction: None,
            transactions: 0,
        }
    }

    fn run(&mut self) -> Result<(), StatementError> {
        loop {
            let position = self.reader.buffer_position();
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(error) => {
                    let position = self.reader.error_position();
                    return Err(StatementError::Xml { position, problem: xml_problem(&error) });
                }
            };
            match event {
                Event::Start(start) => self.open(&start, position)?,
                Event::Empty(start) => {
                    self.open(&start, position)?;
                    self.close(position)?;
                }
                Event::End(_) => self.close(position)?,
                Event::Text(text) => self.push_text(&text.xml10_content()),
                Event::CData(data) => self.push_text(&data.xml10_content()),
                Event::GeneralRef(reference) => self.push_reference(&reference, position)?,
                Event::DocType(_) => return Err(StatementError::Doctype { position }),
                Event::Decl(declaration) => check_declaration(&declaration, position)?,
                Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => break,
            }
        }
        if !self.stack.is_empty() {
            let position = self.reader.buffer_position();
            return Err(StatementError::Xml { position, problem: "the document ends inside an element" });
        }
        Ok(())
    }

    fn open(&mut self, start: &BytesStart<'_>, position: u64) -> Result<(), StatementError> {
        self.opened_at = position;
        self.text.clear();
        self.text_too_long = false;
        let name = start.local_name().into_inner();
        let depth = self.stack.len();
        if depth >= MAX_DEPTH {
            return Err(StatementError::TooDeep { position });
        }
        let tag = match depth {
            0 if self.root_closed => {
                return Err(StatementError::Xml { position, problem: "more than one root element" });
            }
            0 if name == "Document" => Tag::Document,
            0 => return Err(StatementError::NotCamt),
            1 => {
                let kind = match name {
                    "BkToCstmrStmt" => MessageKind::Statement,
                    "BkToCstmrDbtCdtNtfctn" => MessageKind::Notification,
                    _ => return Err(StatementError::NotCamt),
                };
                if self.kind.is_some() {
                    return Err(StatementError::NotCamt);
                }
                self.kind = Some(kind);
                Tag::Message
            }
            2 => match (self.kind, name) {
                (Some(MessageKind::Statement), "Stmt") | (Some(MessageKind::Notification), "Ntfctn") => {
                    Tag::Block
                }
                _ => Tag::of(name),
            },
            _ => Tag::of(name),
        };
        self.stack.push(tag);
        if tag == Tag::Amt {
            self.currency = currency_attribute(start, position)?;
        }
        match self.stack.as_slice() {
            [Tag::Document, Tag::Message, Tag::Block] => {
                self.blocks = self.blocks.saturating_add(1);
                self.block_id = None;
                self.block_iban = None;
            }
            [Tag::Document, Tag::Message, Tag::Block, Tag::Ntry] => {
                if self.entries.len() >= MAX_ENTRIES {
                    return Err(StatementError::TooManyEntries);
                }
                self.entry = Some(EntryDraft {
                    index: self.entries.len(),
                    position,
                    amount: None,
                    direction: None,
                    reversal: None,
                    status: None,
                    booking_date: None,
                    value_date: None,
                    servicer_reference: None,
                    transactions: Vec::new(),
                });
            }
            [Tag::Document, Tag::Message, Tag::Block, Tag::Ntry, Tag::NtryDtls, Tag::TxDtls] => {
                if self.transactions >= MAX_TRANSACTIONS {
                    return Err(StatementError::TooManyTransactions);
                }
                self.transactions = self.transactions.saturating_add(1);
                self.transaction = Some(TransactionDraft::default());
            }
            _ => {}
        }
        Ok(())
    }

    /// Keeps text only inside elements that may be read, and only up to [`MAX_TEXT_BYTES`]: a
    /// long text elsewhere costs nothing.
    fn push_text(&mut self, text: &str) {
        if matches!(self.stack.last(), None | Some(Tag::Other)) || self.text_too_long {
            return;
        }
        if self.text.len().saturating_add(text.len()) > MAX_TEXT_BYTES {
            self.text_too_long = true;
            self.text.clear();
            return;
        }
        self.text.push_str(text);
    }

    /// `&amp;`, `&#233;` …: XML's five entities and character references; any other entity
    /// would need a DTD, and there is none.
    fn push_reference(&mut self, reference: &BytesRef<'_>, position: u64) -> Result<(), StatementError> {
        let bad = |problem| StatementError::Xml { position, problem };
        let resolved = match reference.resolve_char_ref() {
            Ok(Some(c)) => c,
            Ok(None) => match &**reference {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "apos" => '\'',
                "quot" => '"',
                _ => return Err(bad("reference to an undefined entity")),
            },
            Err(_) => return Err(bad("invalid character reference")),
        };
        let mut buffer = [0u8; 4];
        self.push_text(resolved.encode_utf8(&mut buffer));
        Ok(())
    }

    /// The trimmed text of the leaf closing now.
    fn leaf_text(&mut self, at: Location, element: &'static str) -> Result<String, StatementError> {
        if self.text_too_long {
            return Err(invalid(at, self.opened_at, Problem::TooLong(element)));
        }
        let text = std::mem::take(&mut self.text);
        let trimmed = text.trim();
        Ok(if trimmed.len() == text.len() { text } else { trimmed.to_owned() })
    }

    /// Like [`Self::leaf_text`], an empty text counting as absent.
    fn leaf_value(&mut self, at: Location, element: &'static str) -> Result<Option<String>, StatementError> {
        let text = self.leaf_text(at, element)?;
        Ok(if text.is_empty() { None } else { Some(text) })
    }

    fn close(&mut self, position: u64) -> Result<(), StatementError> {
        let result = self.close_element(position);
        self.stack.pop();
        self.text.clear();
        self.text_too_long = false;
        if self.stack.is_empty() {
            self.root_closed = true;
        }
        result
    }

    fn close_element(&mut self, position: u64) -> Result<(), StatementError> {
        let opened_at = self.opened_at;
        let block = Location::Block {
            kind: self.kind.unwrap_or(MessageKind::Statement),
            index: self.blocks.saturating_sub(1),
        };
        let entry_index = self.entry.as_ref().map_or(0, |entry| entry.index);
        let entry_at = Location::Entry { index: entry_index };
        let transaction_at = Location::Transaction {
            entry: entry_index,
            index: self.entry.as_ref().map_or(0, |entry| entry.transactions.len()),
        };
        // the stack is copied out so the arms may borrow `self` mutably; it is at most MAX_DEPTH
        let mut path = [Tag::Other; MAX_DEPTH];
        let depth = self.stack.len();
        path[..depth].copy_from_slice(&self.stack);
        match &path[..depth] {
            [Tag::Document, Tag::Message, Tag::GrpHdr, Tag::MsgId] => {
                let value = self.leaf_value(Location::GroupHeader, "MsgId")?;
                if let Some(value) = value {
                    set_once(&mut self.message_id, value, "MsgId")
                        .map_err(|problem| invalid(Location::GroupHeader, opened_at, problem))?;
                }
            }
            [Tag::Document, Tag::Message, Tag::Block] => self.close_block(block, position)?,
            [Tag::Document, Tag::Message, Tag::Block, Tag::Id] => {
                if let Some(value) = self.leaf_value(block, "Id")? {
                    set_once(&mut self.block_id, value, "Id")
                        .map_err(|problem| invalid(block, opened_at, problem))?;
                }
            }
            [Tag::Document, Tag::Message, Tag::Block, Tag::Acct, Tag::Id, Tag::Iban] => {
                if let Some(value) = self.leaf_value(block, "Acct/Id/IBAN")? {
                    set_once(&mut self.block_iban, value, "Acct/Id/IBAN")
                        .map_err(|problem| invalid(block, opened_at, problem))?;
                }
            }
            [Tag::Document, Tag::Message, Tag::Block, Tag::Ntry] => self.close_entry()?,
            [Tag::Document, Tag::Message, Tag::Block, Tag::Ntry, Tag::NtryDtls, Tag::TxDtls] => {
                self.close_transaction();
            }
            [Tag::Document, Tag::Message, Tag::Block, Tag::Ntry, Tag::NtryDtls, Tag::TxDtls, rest @ ..] => {
                self.close_in_transaction(rest, transaction_at)?;
            }
            [Tag::Document, Tag::Message, Tag::Block, Tag::Ntry, rest @ ..] => {
                self.close_in_entry(rest, entry_at)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn close_block(&mut self, at: Location, position: u64) -> Result<(), StatementError> {
        let Some(id) = self.block_id.take() else {
            return Err(invalid(at, position, Problem::Missing("Id")));
        };
        if self.blocks == 1 {
            self.id = Some(id);
            self.account_iban = self.block_iban.take();
        }
        Ok(())
    }

    /// A leaf of an entry (`rest` is the path below `Ntry`).
    fn close_in_entry(&mut self, rest: &[Tag], at: Location) -> Result<(), StatementError> {
        let opened_at = self.opened_at;
        let fail = |problem| invalid(at, opened_at, problem);
        match rest {
            [Tag::Amt] => {
                let text = self.leaf_text(at, "Amt")?;
                let amount = parse_amount(&text, "Amt").map_err(fail)?;
                if amount.is_zero() {
                    return Err(fail(Problem::AmountNotPositive("Amt")));
                }
                let currency = parse_currency(self.currency.take(), "Amt").map_err(fail)?;
                let entry = self.entry_draft()?;
                set_once(&mut entry.amount, (amount, currency), "Amt").map_err(fail)?;
            }
            [Tag::CdtDbtInd] => {
                let text = self.leaf_text(at, "CdtDbtInd")?;
                let direction = parse_direction(&text, "CdtDbtInd").map_err(fail)?;
                set_once(&mut self.entry_draft()?.direction, direction, "CdtDbtInd").map_err(fail)?;
            }
            [Tag::RvslInd] => {
                let text = self.leaf_text(at, "RvslInd")?;
                let reversal = parse_boolean(&text, "RvslInd").map_err(fail)?;
                set_once(&mut self.entry_draft()?.reversal, reversal, "RvslInd").map_err(fail)?;
            }
            // camt.053.001.02: the code as the text of `Sts`; later: `Sts/Cd` (or `Sts/Prtry`)
            [Tag::Sts] => {
                if let Some(status) = self.leaf_value(at, "Sts")? {
                    set_once(&mut self.entry_draft()?.status, status, "Sts").map_err(fail)?;
                }
            }
            [Tag::Sts, Tag::Cd | Tag::Prtry] => {
                if let Some(status) = self.leaf_value(at, "Sts")? {
                    set_once(&mut self.entry_draft()?.status, status, "Sts").map_err(fail)?;
                }
            }
            [Tag::BookgDt, leaf @ (Tag::Dt | Tag::DtTm)] => {
                let text = self.leaf_text(at, "BookgDt")?;
                let date = parse_date(&text, *leaf == Tag::DtTm, "BookgDt").map_err(fail)?;
                set_once(&mut self.entry_draft()?.booking_date, date, "BookgDt").map_err(fail)?;
            }
            [Tag::ValDt, leaf @ (Tag::Dt | Tag::DtTm)] => {
                let text = self.leaf_text(at, "ValDt")?;
                let date = parse_date(&text, *leaf == Tag::DtTm, "ValDt").map_err(fail)?;
                set_once(&mut self.entry_draft()?.value_date, date, "ValDt").map_err(fail)?;
            }
            [Tag::AcctSvcrRef] => {
                if let Some(reference) = self.leaf_value(at, "AcctSvcrRef")? {
                    set_once(&mut self.entry_draft()?.servicer_reference, reference, "AcctSvcrRef")
                        .map_err(fail)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A leaf of a transaction detail (`rest` is the path below `TxDtls`).
    fn close_in_transaction(&mut self, rest: &[Tag], at: Location) -> Result<(), StatementError> {
        let opened_at = self.opened_at;
        let fail = |problem| invalid(at, opened_at, problem);
        match rest {
            [Tag::Refs, Tag::EndToEndId] => {
                if let Some(id) = self.leaf_value(at, "Refs/EndToEndId")? {
                    let transaction = self.transaction_draft()?;
                    set_once(&mut transaction.end_to_end_id, id, "Refs/EndToEndId").map_err(fail)?;
                }
            }
            [Tag::Amt] => {
                let amount = self.transaction_amount(at, "Amt")?;
                set_once(&mut self.transaction_draft()?.amount, amount, "Amt").map_err(fail)?;
            }
            [Tag::AmtDtls, Tag::TxAmt, Tag::Amt] => {
                let amount = self.transaction_amount(at, "AmtDtls/TxAmt/Amt")?;
                let transaction = self.transaction_draft()?;
                set_once(&mut transaction.amount_details, amount, "AmtDtls/TxAmt/Amt").map_err(fail)?;
            }
            [Tag::RtrInf, Tag::Rsn, Tag::Cd | Tag::Prtry] => {
                if let Some(reason) = self.leaf_value(at, "RtrInf/Rsn")? {
                    let transaction = self.transaction_draft()?;
                    set_once(&mut transaction.return_reason, reason, "RtrInf/Rsn").map_err(fail)?;
                }
            }
            // several lines are allowed; the first is what a payer wrote
            [Tag::RmtInf, Tag::Ustrd] => {
                if let Some(line) = self.leaf_value(at, "RmtInf/Ustrd")? {
                    let transaction = self.transaction_draft()?;
                    if transaction.remittance.is_none() {
                        transaction.remittance = Some(line);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A transaction's amount and currency; zero is allowed, as in ISO's schema.
    fn transaction_amount(
        &mut self,
        at: Location,
        element: &'static str,
    ) -> Result<(Decimal, String), StatementError> {
        let opened_at = self.opened_at;
        let text = self.leaf_text(at, element)?;
        let amount = parse_amount(&text, element).map_err(|problem| invalid(at, opened_at, problem))?;
        let currency = parse_currency(self.currency.take(), element)
            .map_err(|problem| invalid(at, opened_at, problem))?;
        Ok((amount, currency))
    }

    /// The open entry. The stack says one is open; an error rather than a panic all the same.
    fn entry_draft(&mut self) -> Result<&mut EntryDraft, StatementError> {
        let position = self.opened_at;
        self.entry.as_mut().ok_or(StatementError::Xml { position, problem: "entry content outside an entry" })
    }

    fn transaction_draft(&mut self) -> Result<&mut TransactionDraft, StatementError> {
        let position = self.opened_at;
        self.transaction
            .as_mut()
            .ok_or(StatementError::Xml { position, problem: "transaction content outside TxDtls" })
    }

    fn close_transaction(&mut self) {
        let (Some(draft), Some(entry)) = (self.transaction.take(), self.entry.as_mut()) else {
            return;
        };
        let (amount, currency) = match draft.amount.or(draft.amount_details) {
            Some((amount, currency)) => (Some(amount), Some(currency)),
            None => (None, None),
        };
        entry.transactions.push(TransactionDetail {
            end_to_end_id: draft.end_to_end_id.filter(|id| id != "NOTPROVIDED"),
            amount,
            currency,
            return_reason: draft.return_reason,
            remittance: draft.remittance,
        });
    }

    fn close_entry(&mut self) -> Result<(), StatementError> {
        let Some(draft) = self.entry.take() else {
            return Ok(());
        };
        let at = Location::Entry { index: draft.index };
        let missing = |element| invalid(at, draft.position, Problem::Missing(element));
        let (amount, currency) = draft.amount.ok_or_else(|| missing("Amt"))?;
        let direction = draft.direction.ok_or_else(|| missing("CdtDbtInd"))?;
        let status = draft.status.ok_or_else(|| missing("Sts"))?;
        self.entries.push(Entry {
            index: draft.index,
            amount,
            currency,
            direction,
            reversal: draft.reversal.unwrap_or(false),
            status,
            booking_date: draft.booking_date,
            value_date: draft.value_date,
            servicer_reference: draft.servicer_reference,
            transactions: draft.transactions,
        });
        Ok(())
    }

    fn finish(self) -> Result<BankStatement, StatementError> {
        let end = self.reader.buffer_position();
        let kind = self.kind.ok_or(StatementError::NotCamt)?;
        let message_id =
            self.message_id.ok_or(invalid(Location::GroupHeader, end, Problem::Missing("MsgId")))?;
        let block = match kind {
            MessageKind::Statement => "Stmt",
            MessageKind::Notification => "Ntfctn",
        };
        let id = self.id.ok_or(invalid(Location::Document, end, Problem::Missing(block)))?;
        Ok(BankStatement { kind, message_id, id, account_iban: self.account_iban, entries: self.entries })
    }
}

/// `<?xml … encoding="…"?>`: without the `encoding` feature the reader reads UTF-8 only, so a
/// statement declared otherwise is refused rather than read with its letters wrong.
fn check_declaration(declaration: &BytesDecl<'_>, position: u64) -> Result<(), StatementError> {
    match declaration.encoding() {
        None => Ok(()),
        Some(Ok(encoding))
            if ["utf-8", "utf8", "us-ascii"].contains(&encoding.to_ascii_lowercase().as_str()) =>
        {
            Ok(())
        }
        Some(Ok(_)) => Err(StatementError::Encoding),
        Some(Err(_)) => Err(StatementError::Xml { position, problem: "malformed XML declaration" }),
    }
}

/// `Ccy` of an `Amt`, as written (checked when the amount closes).
fn currency_attribute(start: &BytesStart<'_>, position: u64) -> Result<Option<String>, StatementError> {
    for attribute in start.attributes() {
        let attribute =
            attribute.map_err(|_| StatementError::Xml { position, problem: "malformed attribute" })?;
        if attribute.key.local_name().into_inner() == "Ccy" {
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|_| StatementError::Xml { position, problem: "malformed attribute value" })?;
            return Ok(Some(value.trim().to_owned()));
        }
    }
    Ok(None)
}

/// A description of the reader's error without the document's text (its element names
/// included: a hostile file could put anything there).
fn xml_problem(error: &quick_xml::Error) -> &'static str {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    match error {
        quick_xml::Error::Syntax(syntax) => match syntax {
            SyntaxError::InvalidBangMarkup => "unknown markup after <!",
            SyntaxError::UnclosedPI => "processing instruction not closed",
            SyntaxError::UnclosedXmlDecl => "XML declaration not closed",
            SyntaxError::UnclosedComment => "comment not closed",
            SyntaxError::UnclosedDoctype => "DOCTYPE not closed",
            SyntaxError::UnclosedCData => "CDATA section not closed",
            SyntaxError::UnclosedTag => "tag not closed",
            SyntaxError::UnclosedSingleQuotedAttributeValue
            | SyntaxError::UnclosedDoubleQuotedAttributeValue => "attribute value not closed",
        },
        quick_xml::Error::IllFormed(ill_formed) => match ill_formed {
            IllFormedError::MissingDeclVersion(_) | IllFormedError::UnknownVersion => {
                "malformed XML declaration"
            }
            IllFormedError::MissingDoctypeName => "DOCTYPE without a name",
            IllFormedError::MissingEndTag(_) => "an element is not closed",
            IllFormedError::UnmatchedEndTag(_) => "an end tag without a start tag",
            IllFormedError::MismatchedEndTag { .. } => "an end tag does not match its start tag",
            IllFormedError::DoubleHyphenInComment => "`--` in a comment",
            IllFormedError::UnclosedReference => "`&` without `;` (write `&amp;`)",
        },
        quick_xml::Error::InvalidAttr(_) => "malformed attribute",
        quick_xml::Error::Encoding(_) => "not UTF-8",
        quick_xml::Error::Escape(_) => "invalid entity or character reference",
        quick_xml::Error::Namespace(_) => "invalid namespace declaration",
        quick_xml::Error::Io(_) => "read error",
    }
}

/// An ISO 20022 amount: digits, optionally a point and 1 to 5 digits; at most 18 digits
/// (leading zeros aside). No sign, exponent, spaces or grouping: the schema allows none of them
/// in a statement, and guessing would risk reading the wrong sum.
fn parse_amount(text: &str, element: &'static str) -> Result<Decimal, Problem> {
    if text.starts_with('-') {
        return Err(Problem::AmountNotPositive(element));
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) if !fraction.is_empty() => (whole, fraction),
        Some(_) => return Err(Problem::AmountNotDecimal(element)),
        None => (text, ""),
    };
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(Problem::AmountNotDecimal(element));
    }
    if fraction.len() > AMOUNT_FRACTION_DIGITS_MAX {
        return Err(Problem::AmountFractionDigits(element));
    }
    if whole.trim_start_matches('0').len().saturating_add(fraction.len()) > AMOUNT_DIGITS_MAX {
        return Err(Problem::AmountTotalDigits(element));
    }
    let whole = match whole.trim_start_matches('0') {
        "" => "0",
        whole => whole,
    };
    let exact = if fraction.is_empty() { whole.to_owned() } else { format!("{whole}.{fraction}") };
    Decimal::from_str_exact(&exact).map_err(|_| Problem::AmountNotDecimal(element))
}

fn parse_currency(currency: Option<String>, element: &'static str) -> Result<String, Problem> {
    let currency = currency.ok_or(Problem::Currency(element))?;
    if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(currency)
    } else {
        Err(Problem::Currency(element))
    }
}

fn parse_direction(text: &str, element: &'static str) -> Result<Direction, Problem> {
    match text {
        "CRDT" => Ok(Direction::Credit),
        "DBIT" => Ok(Direction::Debit),
        _ => Err(Problem::CreditDebit(element)),
    }
}

/// `xs:boolean`
fn parse_boolean(text: &str, element: &'static str) -> Result<bool, Problem> {
    match text {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(Problem::Boolean(element)),
    }
}

/// `Dt` (`xs:date`, maybe with a zone: `2024-05-02`, `2024-05-02+02:00`) or the date part of `DtTm`
/// (`2024-05-02T10:00:00+02:00`): the bank's calendar day as written, not moved to UTC.
fn parse_date(text: &str, date_time: bool, element: &'static str) -> Result<NaiveDate, Problem> {
    let bad = Problem::Date(element);
    let (date, rest) = match text.get(..10).zip(text.get(10..)) {
        Some(split) => split,
        None => return Err(bad),
    };
    let rest_ok = if date_time {
        rest.starts_with('T')
    } else {
        rest.is_empty() || rest == "Z" || is_zone_offset(rest)
    };
    if !rest_ok || date.len() != 10 || !date.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return Err(bad);
    }
    NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad)
}

/// `+hh:mm` or `-hh:mm`
fn is_zone_offset(text: &str) -> bool {
    match text.as_bytes() {
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Writing, for tests

/// Statements written for tests: what a bank would send after executing zbor's SEPA files.
///
/// Always compiled (not `cfg(test)`): integration tests and other crates' tests use it. The
/// camt.053 written validates against ISO's `camt.053.001.08.xsd` (the crate's tests check it
/// with xmllint). The camt.054 is the same entries in a notification; no camt.054 schema is at
/// hand, so it is written from the standard's structure (`BkToCstmrDbtCdtNtfctn/Ntfctn`, which
/// shares `ReportEntry10` with camt.053.001.08) and checked only by reading it back.
pub mod testing {
    use std::io;

    use chrono::NaiveDate;
    use quick_xml::events::{BytesDecl, BytesText, Event};
    use quick_xml::Writer;
    use rust_decimal::Decimal;

    use super::Direction;

    pub const CAMT053_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08";
    pub const CAMT054_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08";

    /// One `Ntry` to write. A transaction with a `return_reason` makes the entry a return
    /// (bank transaction code PMNT/ICDT/RRTN); a credit without is a received transfer
    /// (PMNT/RCDT/ESCT); a debit is an executed transfer (PMNT/ICDT/ESCT).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TestEntry {
        /// Written as it is (`Decimal`'s scale kept): give at most 5 fraction digits.
        pub amount: Decimal,
        pub currency: String,
        pub direction: Direction,
        pub reversal: bool,
        /// Also the value date.
        pub booking_date: NaiveDate,
        /// At most 35 characters.
        pub servicer_reference: String,
        /// One for a single payment; several make a batch entry (with `Btch/NbOfTxs`).
        pub transactions: Vec<TestTransaction>,
    }

    /// One `TxDtls`, in the entry's currency and direction.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TestTransaction {
        /// `None` is written `NOTPROVIDED`, as banks do.
        pub end_to_end_id: Option<String>,
        pub amount: Decimal,
        /// An ISO return reason code (at most 4 characters): `AC04`, `AM04`, `MD07`, …
        pub return_reason: Option<String>,
        /// At most 140 characters.
        pub remittance: Option<String>,
    }

    /// An end-of-day statement `camt.053.001.08` of the account `iban`: opening balance
    /// `opening` (negative for an overdraft) on the first booking date, closing balance
    /// opening + credits − debits on the last, the entries in order. `statement_id` is also the
    /// message id. The same input gives the same bytes.
    pub fn camt053(
        statement_id: &str,
        iban: &str,
        currency: &str,
        opening: Decimal,
        entries: &[TestEntry],
    ) -> String {
        into_string(write_camt053(statement_id, iban, currency, opening, entries))
    }

    /// A debit/credit notification `camt.054.001.08` with these entries; `notification_id` is
    /// also the message id.
    pub fn camt054(notification_id: &str, iban: &str, entries: &[TestEntry]) -> String {
        into_string(write_camt054(notification_id, iban, entries))
    }

    type Xml = Writer<Vec<u8>>;

    /// The one impossible failure, named as such: the writer writes `&str`s into a `Vec`.
    #[allow(clippy::expect_used)]
    fn into_string(written: io::Result<Vec<u8>>) -> String {
        let bytes = written.expect("BUG: writing into a Vec<u8> cannot fail");
        String::from_utf8(bytes).expect("BUG: the document is made of Rust strings, so it is UTF-8")
    }

    /// opening + credits − debits. A test's sums are far from `Decimal`'s limit; one that
    /// overflows is a broken test, said as such.
    #[allow(clippy::expect_used)]
    fn closing_balance(opening: Decimal, entries: &[TestEntry]) -> Decimal {
        entries
            .iter()
            .try_fold(opening, |balance, entry| match entry.direction {
                Direction::Credit => balance.checked_add(entry.amount),
                Direction::Debit => balance.checked_sub(entry.amount),
            })
            .expect("test statement: the closing balance overflows Decimal")
    }

    /// The statement's days: the first and last booking date (1970-01-01 without entries).
    fn dates(entries: &[TestEntry]) -> (NaiveDate, NaiveDate) {
        let first = entries.iter().map(|entry| entry.booking_date).min().unwrap_or_default();
        let last = entries.iter().map(|entry| entry.booking_date).max().unwrap_or_default();
        (first, last)
    }

    fn date(date: NaiveDate) -> String {
        date.format("%Y-%m-%d").to_string()
    }

    /// The evening of the last day, as a bank creates its end-of-day statement.
    fn created_at(day: NaiveDate) -> String {
        format!("{}T18:00:00", date(day))
    }

    fn write_camt053(
        statement_id: &str,
        iban: &str,
        currency: &str,
        opening: Decimal,
        entries: &[TestEntry],
    ) -> io::Result<Vec<u8>> {
        let (first, last) = dates(entries);
        let closing = closing_balance(opening, entries);
        let mut xml = Writer::new_with_indent(Vec::with_capacity(2_048 + 1_200 * entries.len()), b' ', 2);
        xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        xml.create_element("Document").with_attribute(("xmlns", CAMT053_NAMESPACE)).write_inner_content(
            |xml| {
                xml.create_element("BkToCstmrStmt").write_inner_content(|xml| {
                    group_header(xml, statement_id, last)?;
                    xml.create_element("Stmt").write_inner_content(|xml| {
                        text(xml, "Id", statement_id)?;
                        text(xml, "CreDtTm", &created_at(last))?;
                        account(xml, iban)?;
                        balance(xml, "OPBD", currency, opening, first)?;
                        balance(xml, "CLBD", currency, closing, last)?;
                        for entry in entries {
                            write_entry(xml, entry)?;
                        }
                        Ok(())
                    })?;
                    Ok(())
                })?;
                Ok(())
            },
        )?;
        xml.get_mut().push(b'\n');
        Ok(xml.into_inner())
    }

    fn write_camt054(notification_id: &str, iban: &str, entries: &[TestEntry]) -> io::Result<Vec<u8>> {
        let (_, last) = dates(entries);
        let mut xml = Writer::new_with_indent(Vec::with_capacity(2_048 + 1_200 * entries.len()), b' ', 2);
        xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        xml.create_element("Document").with_attribute(("xmlns", CAMT054_NAMESPACE)).write_inner_content(
            |xml| {
                xml.create_element("BkToCstmrDbtCdtNtfctn").write_inner_content(|xml| {
                    group_header(xml, notification_id, last)?;
                    // AccountNotification: Id, CreDtTm, Acct, then entries; no balances
                    xml.create_element("Ntfctn").write_inner_content(|xml| {
                        text(xml, "Id", notification_id)?;
                        text(xml, "CreDtTm", &created_at(last))?;
                        account(xml, iban)?;
                        for entry in entries {
                            write_entry(xml, entry)?;
                        }
                        Ok(())
                    })?;
                    Ok(())
                })?;
                Ok(())
            },
        )?;
        xml.get_mut().push(b'\n');
        Ok(xml.into_inner())
    }

    fn group_header(xml: &mut Xml, message_id: &str, day: NaiveDate) -> io::Result<()> {
        xml.create_element("GrpHdr").write_inner_content(|xml| {
            text(xml, "MsgId", message_id)?;
            text(xml, "CreDtTm", &created_at(day))
        })?;
        Ok(())
    }

    /// `<Acct><Id><IBAN>…</IBAN></Id></Acct>`
    fn account(xml: &mut Xml, iban: &str) -> io::Result<()> {
        xml.create_element("Acct").write_inner_content(|xml| {
            xml.create_element("Id").write_inner_content(|xml| text(xml, "IBAN", iban))?;
            Ok(())
        })?;
        Ok(())
    }

    /// `Bal`: the amount is unsigned in ISO 20022, its sign is `CdtDbtInd` (an overdraft is DBIT).
    fn balance(xml: &mut Xml, code: &str, currency: &str, amount: Decimal, day: NaiveDate) -> io::Result<()> {
        xml.create_element("Bal").write_inner_content(|xml| {
            xml.create_element("Tp").write_inner_content(|xml| {
                xml.create_element("CdOrPrtry").write_inner_content(|xml| text(xml, "Cd", code))?;
                Ok(())
            })?;
            amount_element(xml, currency, amount.abs())?;
            let sign = if amount.is_sign_negative() && !amount.is_zero() { "DBIT" } else { "CRDT" };
            text(xml, "CdtDbtInd", sign)?;
            xml.create_element("Dt").write_inner_content(|xml| text(xml, "Dt", &date(day)))?;
            Ok(())
        })?;
        Ok(())
    }

    fn direction_code(direction: Direction) -> &'static str {
        match direction {
            Direction::Credit => "CRDT",
            Direction::Debit => "DBIT",
        }
    }

    /// `Ntry` in ReportEntry10's order: Amt, CdtDbtInd, RvslInd, Sts, BookgDt, ValDt,
    /// AcctSvcrRef, BkTxCd, NtryDtls.
    fn write_entry(xml: &mut Xml, entry: &TestEntry) -> io::Result<()> {
        let returned = entry.transactions.iter().any(|transaction| transaction.return_reason.is_some());
        let (family, sub_family) = match (entry.direction, returned) {
            // a payout sent back by the creditor's bank: a return of an issued credit transfer
            (Direction::Credit, true) => ("ICDT", "RRTN"),
            (Direction::Credit, false) => ("RCDT", "ESCT"),
            (Direction::Debit, true) => ("ICDT", "RRTN"),
            (Direction::Debit, false) => ("ICDT", "ESCT"),
        };
        xml.create_element("Ntry").write_inner_content(|xml| {
            amount_element(xml, &entry.currency, entry.amount)?;
            text(xml, "CdtDbtInd", direction_code(entry.direction))?;
            if entry.reversal {
                text(xml, "RvslInd", "true")?;
            }
            xml.create_element("Sts").write_inner_content(|xml| text(xml, "Cd", "BOOK"))?;
            let day = date(entry.booking_date);
            xml.create_element("BookgDt").write_inner_content(|xml| text(xml, "Dt", &day))?;
            xml.create_element("ValDt").write_inner_content(|xml| text(xml, "Dt", &day))?;
            text(xml, "AcctSvcrRef", &entry.servicer_reference)?;
            xml.create_element("BkTxCd").write_inner_content(|xml| {
                xml.create_element("Domn").write_inner_content(|xml| {
                    text(xml, "Cd", "PMNT")?;
                    xml.create_element("Fmly").write_inner_content(|xml| {
                        text(xml, "Cd", family)?;
                        text(xml, "SubFmlyCd", sub_family)
                    })?;
                    Ok(())
                })?;
                Ok(())
            })?;
            if !entry.transactions.is_empty() {
                xml.create_element("NtryDtls").write_inner_content(|xml| {
                    if entry.transactions.len() > 1 {
                        xml.create_element("Btch").write_inner_content(|xml| {
                            text(xml, "NbOfTxs", &entry.transactions.len().to_string())?;
                            text(xml, "CdtDbtInd", direction_code(entry.direction))
                        })?;
                    }
                    for transaction in &entry.transactions {
                        write_transaction(xml, entry, transaction)?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// `TxDtls` in EntryTransaction10's order: Refs, Amt, CdtDbtInd, AmtDtls, RmtInf, RtrInf.
    fn write_transaction(xml: &mut Xml, entry: &TestEntry, transaction: &TestTransaction) -> io::Result<()> {
        xml.create_element("TxDtls").write_inner_content(|xml| {
            let end_to_end_id = transaction.end_to_end_id.as_deref().unwrap_or("NOTPROVIDED");
            xml.create_element("Refs").write_inner_content(|xml| text(xml, "EndToEndId", end_to_end_id))?;
            amount_element(xml, &entry.currency, transaction.amount)?;
            text(xml, "CdtDbtInd", direction_code(entry.direction))?;
            xml.create_element("AmtDtls").write_inner_content(|xml| {
                xml.create_element("TxAmt")
                    .write_inner_content(|xml| amount_element(xml, &entry.currency, transaction.amount))?;
                Ok(())
            })?;
            if let Some(remittance) = &transaction.remittance {
                xml.create_element("RmtInf").write_inner_content(|xml| text(xml, "Ustrd", remittance))?;
            }
            if let Some(reason) = &transaction.return_reason {
                xml.create_element("RtrInf").write_inner_content(|xml| {
                    xml.create_element("Rsn").write_inner_content(|xml| text(xml, "Cd", reason))?;
                    Ok(())
                })?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// `<Amt Ccy="…">…</Amt>`, the decimal as it is.
    fn amount_element(xml: &mut Xml, currency: &str, amount: Decimal) -> io::Result<()> {
        xml.create_element("Amt")
            .with_attribute(("Ccy", currency))
            .write_text_content(BytesText::new(&amount.to_string()))?;
        Ok(())
    }

    /// `<{tag}>{value}</{tag}>`, the value escaped.
    fn text(xml: &mut Xml, tag: &str, value: &str) -> io::Result<()> {
        xml.create_element(tag).write_text_content(BytesText::new(value))?;
        Ok(())
    }
}
