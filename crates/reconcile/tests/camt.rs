#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Bank statements (`zbor_reconcile::camt`): what the test writer makes is valid against ISO's
//! camt.053.001.08 schema (xmllint) and reads back exactly; a hand-written camt.053.001.02 of
//! the kind a German bank sends is read; bad input is refused with an error that names elements
//! and positions, never the names and IBANs in the file. No database.

use std::error::Error;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use zbor_reconcile::camt::testing::{camt053, camt054, TestEntry, TestTransaction};
use zbor_reconcile::camt::{
    parse, BankStatement, Direction, Entry, Location, MessageKind, Problem, StatementError,
    TransactionDetail, MAX_STATEMENT_BYTES,
};

type TestResult = Result<(), Box<dyn Error>>;

const IBAN: &str = "DE89370400440532013000";
/// Personal data put into statements: no error message may repeat it.
const SECRET_NAME: &str = "Ales Bialiatski";
const SECRET_IBAN: &str = "LT121000011101001000";

fn amount(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap()
}

/// ISO's camt.053.001.08 schema, kept with these tests (a copy of the public schema; see
/// `tests/iso20022/README.md`).
fn schema() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/iso20022/camt.053.001.08.xsd"))
}

/// Asserts that xmllint finds `xml` valid against camt.053.001.08.
fn assert_valid_camt053(xml: &str) -> TestResult {
    let output = xmllint(xml)?;
    assert!(
        output.status.success(),
        "xmllint refused the statement:\n{}\n{xml}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// Runs xmllint on `xml` (in a file of its own) against camt.053.001.08.
fn xmllint(xml: &str) -> Result<Output, Box<dyn Error>> {
    static FILES: AtomicU64 = AtomicU64::new(0);
    let schema = schema();
    assert!(schema.is_file(), "schema not found at {}", schema.display());
    let path = std::env::temp_dir().join(format!(
        "zbor-camt053-{}-{}.xml",
        std::process::id(),
        FILES.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, xml)?;
    let output =
        Command::new("/usr/bin/xmllint").arg("--noout").arg("--schema").arg(&schema).arg(&path).output();
    std::fs::remove_file(&path)?;
    Ok(output?)
}

/// A payout executed: one DBIT entry, its end-to-end id `ZBOR-P{n}`.
fn payout(n: u32, value: &str, booked: NaiveDate) -> TestEntry {
    TestEntry {
        amount: amount(value),
        currency: "EUR".into(),
        direction: Direction::Debit,
        reversal: false,
        booking_date: booked,
        servicer_reference: format!("BANK-{}-{n:05}", booked.format("%Y%m%d")),
        transactions: vec![TestTransaction {
            end_to_end_id: Some(format!("ZBOR-P{n}")),
            amount: amount(value),
            return_reason: None,
            remittance: Some(format!("Payment ZBOR-P{n}")),
        }],
    }
}

/// The statement of the day the bank executed 123 payouts of EUR 1000.00: one came back (AC04,
/// account closed) and Stripe paid out donations.
fn busy_day() -> Vec<TestEntry> {
    let mut entries: Vec<TestEntry> = (1..=123).map(|n| payout(n, "1000.00", day(2024, 5, 2))).collect();
    entries.push(TestEntry {
        amount: amount("1000.00"),
        currency: "EUR".into(),
        direction: Direction::Credit,
        reversal: false,
        booking_date: day(2024, 5, 3),
        servicer_reference: "RTRN-0007".into(),
        transactions: vec![TestTransaction {
            end_to_end_id: Some("ZBOR-P7".into()),
            amount: amount("1000.00"),
            return_reason: Some("AC04".into()),
            remittance: Some("Payment ZBOR-P7".into()),
        }],
    });
    entries.push(TestEntry {
        amount: amount("48213.57"),
        currency: "EUR".into(),
        direction: Direction::Credit,
        reversal: false,
        booking_date: day(2024, 5, 3),
        servicer_reference: "STRIPE-0503".into(),
        transactions: vec![TestTransaction {
            end_to_end_id: None,
            amount: amount("48213.57"),
            return_reason: None,
            remittance: Some("STRIPE PAYOUT".into()),
        }],
    });
    entries
}

/// What `parse` should give for the entries the writer wrote.
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

/// A batch booking, a bank's reversal and an overdraft: the rarer shapes the writer makes.
fn odd_day() -> Vec<TestEntry> {
    let batch: Vec<TestTransaction> = (200..203)
        .map(|n| TestTransaction {
            end_to_end_id: Some(format!("ZBOR-P{n}")),
            amount: amount("333.33"),
            return_reason: None,
            remittance: Some(format!("Payment ZBOR-P{n} & <friends> \"quoted\" 'too'")),
        })
        .collect();
    vec![
        TestEntry {
            amount: amount("999.99"),
            currency: "EUR".into(),
            direction: Direction::Debit,
            reversal: false,
            booking_date: day(2024, 12, 30),
            servicer_reference: "BATCH-1".into(),
            transactions: batch,
        },
        TestEntry {
            amount: amount("0.00001"),
            currency: "EUR".into(),
            direction: Direction::Credit,
            reversal: true,
            booking_date: day(2024, 12, 31),
            servicer_reference: "CORR-1".into(),
            transactions: vec![],
        },
        TestEntry {
            amount: amount("12.5"),
            currency: "EUR".into(),
            direction: Direction::Credit,
            reversal: false,
            booking_date: day(2024, 12, 31),
            servicer_reference: "RTRN-2".into(),
            transactions: vec![TestTransaction {
                end_to_end_id: Some("ZBOR-P9".into()),
                amount: amount("12.5"),
                return_reason: Some("MD07".into()),
                remittance: None,
            }],
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// 1. The writer's statements are valid camt.053.001.08

#[test]
fn the_schema_is_isos_camt_053_001_08() {
    let text = std::fs::read_to_string(schema()).unwrap();
    assert!(text.contains(r#"targetNamespace="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08""#));
}

#[test]
fn written_statements_validate_against_the_iso_schema() -> TestResult {
    let busy = camt053("STMT-2024-05-03", IBAN, "EUR", amount("150000.00"), &busy_day());
    assert_valid_camt053(&busy)?;
    // 123 payouts out, one back, Stripe in: 150000 - 123000 + 1000 + 48213.57
    assert!(busy.contains("<Cd>CLBD</Cd>"));
    let closing = &busy[busy.find("<Cd>CLBD</Cd>").unwrap()..];
    assert!(closing.contains(r#"<Amt Ccy="EUR">76213.57</Amt>"#), "{closing}");

    // an overdraft afterwards: the closing balance is written unsigned with DBIT
    let odd = camt053("STMT-2024-12-31", IBAN, "EUR", amount("-10.00"), &odd_day());
    assert_valid_camt053(&odd)?;
    let closing = &odd[odd.find("<Cd>CLBD</Cd>").unwrap()..];
    assert!(closing.contains(r#"<Amt Ccy="EUR">997.48999</Amt>"#), "{closing}");
    assert!(closing.contains("<CdtDbtInd>DBIT</CdtDbtInd>"), "{closing}");
    let opening = &odd[odd.find("<Cd>OPBD</Cd>").unwrap()..];
    assert!(opening.contains(r#"<Amt Ccy="EUR">10.00</Amt>"#), "{opening}");

    // no entries at all
    assert_valid_camt053(&camt053("EMPTY", IBAN, "EUR", Decimal::ZERO, &[]))?;
    Ok(())
}

/// The check above can fail: a statement out of the schema's order is refused.
#[test]
fn the_schema_check_refuses_a_bad_statement() -> TestResult {
    let xml = camt053("S", IBAN, "EUR", Decimal::ZERO, &busy_day()[..1]);
    let swapped = replace_after(&xml, "<Ntry>", 0, "</Sts>", "</Sts><RvslInd>true</RvslInd>");
    parse(swapped.as_bytes())?;
    let output = xmllint(&swapped)?;
    assert!(!output.status.success(), "xmllint took RvslInd after Sts");
    assert!(String::from_utf8_lossy(&output.stderr).contains("RvslInd"));
    Ok(())
}

#[test]
fn returns_carry_the_return_bank_transaction_code() {
    let xml = camt053("S", IBAN, "EUR", Decimal::ZERO, &odd_day());
    assert!(xml.contains("<SubFmlyCd>RRTN</SubFmlyCd>"));
    assert!(xml.contains("<Cd>MD07</Cd>"));
    assert!(xml.contains("<RvslInd>true</RvslInd>"));
    assert!(xml.contains("<NbOfTxs>3</NbOfTxs>"));
}

// ---------------------------------------------------------------------------------------------
// 2. What the writer wrote reads back exactly

#[test]
fn camt053_round_trips() -> TestResult {
    let entries = busy_day();
    let statement = parse(camt053("STMT-2024-05-03", IBAN, "EUR", amount("150000.00"), &entries).as_bytes())?;
    assert_eq!(
        statement,
        BankStatement {
            kind: MessageKind::Statement,
            message_id: "STMT-2024-05-03".into(),
            id: "STMT-2024-05-03".into(),
            account_iban: Some(IBAN.into()),
            entries: expected(&entries),
        }
    );
    assert_eq!(statement.entries.len(), 125);
    let payouts = statement.entries.iter().filter(|entry| entry.direction == Direction::Debit).count();
    assert_eq!(payouts, 123);
    let returned = &statement.entries[123];
    assert_eq!(returned.direction, Direction::Credit);
    assert_eq!(returned.transactions[0].end_to_end_id.as_deref(), Some("ZBOR-P7"));
    assert_eq!(returned.transactions[0].return_reason.as_deref(), Some("AC04"));
    let stripe = &statement.entries[124];
    assert_eq!(stripe.transactions[0].end_to_end_id, None, "NOTPROVIDED reads as none");
    assert_eq!(stripe.transactions[0].remittance.as_deref(), Some("STRIPE PAYOUT"));
    assert_eq!(stripe.amount.to_string(), "48213.57", "the amount as written");

    let entries = odd_day();
    let statement = parse(camt053("STMT-2024-12-31", IBAN, "EUR", amount("-10.00"), &entries).as_bytes())?;
    assert_eq!(statement.entries, expected(&entries));
    assert!(statement.entries[1].reversal);
    assert_eq!(statement.entries[1].amount.to_string(), "0.00001");
    assert_eq!(
        statement.entries[0].transactions[2].remittance.as_deref(),
        Some("Payment ZBOR-P202 & <friends> \"quoted\" 'too'")
    );
    Ok(())
}

#[test]
fn camt054_round_trips() -> TestResult {
    let mut entries = busy_day();
    entries.extend(odd_day());
    let statement = parse(camt054("NTFCTN-0001", IBAN, &entries).as_bytes())?;
    assert_eq!(
        statement,
        BankStatement {
            kind: MessageKind::Notification,
            message_id: "NTFCTN-0001".into(),
            id: "NTFCTN-0001".into(),
            account_iban: Some(IBAN.into()),
            entries: expected(&entries),
        }
    );
    Ok(())
}

#[test]
fn several_blocks_give_the_first_id_and_all_entries() -> TestResult {
    let first = camt053("PAGE-1", IBAN, "EUR", Decimal::ZERO, &busy_day()[..2]);
    let second = camt053("PAGE-2", "DE02120300000000202051", "EUR", Decimal::ZERO, &busy_day()[2..3]);
    let block = |xml: &str| {
        let start = xml.find("<Stmt>").unwrap();
        let end = xml.find("</Stmt>").unwrap() + "</Stmt>".len();
        xml[start..end].to_owned()
    };
    let both = first.replace("</Stmt>", &format!("</Stmt>{}", block(&second)));
    let statement = parse(both.as_bytes())?;
    assert_eq!(statement.id, "PAGE-1");
    assert_eq!(statement.account_iban.as_deref(), Some(IBAN));
    assert_eq!(statement.entries.len(), 3);
    assert_eq!(statement.entries.iter().map(|entry| entry.index).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(statement.entries[2].transactions[0].end_to_end_id.as_deref(), Some("ZBOR-P3"));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 3. Older versions, as banks send them

/// camt.053.001.02 as a German savings bank writes it: status as text, proprietary (ZKA)
/// transaction codes, the amounts of a batch only in `AmtDtls`, names of the parties.
const SPARKASSE_053_001_02: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02 camt.053.001.02.xsd">
  <BkToCstmrStmt>
    <GrpHdr>
      <MsgId>camt53-20240506-0000123</MsgId>
      <CreDtTm>2024-05-06T05:12:44.0+02:00</CreDtTm>
      <MsgPgntn>
        <PgNb>1</PgNb>
        <LastPgInd>true</LastPgInd>
      </MsgPgntn>
    </GrpHdr>
    <Stmt>
      <Id>0352024050300000001</Id>
      <ElctrncSeqNb>85</ElctrncSeqNb>
      <CreDtTm>2024-05-06T05:12:44.0+02:00</CreDtTm>
      <FrToDt>
        <FrDtTm>2024-05-03T00:00:00.0+02:00</FrDtTm>
        <ToDtTm>2024-05-03T23:59:59.9+02:00</ToDtTm>
      </FrToDt>
      <Acct>
        <Id>
          <IBAN> DE89370400440532013000 </IBAN>
        </Id>
        <Ccy>EUR</Ccy>
        <Ownr>
          <Nm>Zbor e.V.</Nm>
        </Ownr>
        <Svcr>
          <FinInstnId>
            <BIC>COLSDE33XXX</BIC>
            <Nm>Sparkasse KoelnBonn</Nm>
          </FinInstnId>
        </Svcr>
      </Acct>
      <Bal>
        <Tp>
          <CdOrPrtry>
            <Cd>PRCD</Cd>
          </CdOrPrtry>
        </Tp>
        <Amt Ccy="EUR">12000.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Dt>
          <Dt>2024-05-02</Dt>
        </Dt>
      </Bal>
      <Bal>
        <Tp>
          <CdOrPrtry>
            <Cd>CLBD</Cd>
          </CdOrPrtry>
        </Tp>
        <Amt Ccy="EUR">9850.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Dt>
          <Dt>2024-05-03</Dt>
        </Dt>
      </Bal>
      <TxsSummry>
        <TtlNtries>
          <NbOfNtries>2</NbOfNtries>
        </TtlNtries>
      </TxsSummry>
      <Ntry>
        <Amt Ccy="EUR">2250.00</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt>
          <Dt>2024-05-03</Dt>
        </BookgDt>
        <ValDt>
          <Dt>2024-05-03</Dt>
        </ValDt>
        <AcctSvcrRef>2024050312345678</AcctSvcrRef>
        <BkTxCd>
          <Domn>
            <Cd>PMNT</Cd>
            <Fmly>
              <Cd>ICDT</Cd>
              <SubFmlyCd>ESCT</SubFmlyCd>
            </Fmly>
          </Domn>
          <Prtry>
            <Cd>NMSC+191+00931</Cd>
            <Issr>ZKA</Issr>
          </Prtry>
        </BkTxCd>
        <NtryDtls>
          <Btch>
            <PmtInfId>ZBOR-F42</PmtInfId>
            <NbOfTxs>3</NbOfTxs>
          </Btch>
          <TxDtls>
            <Refs>
              <MsgId>ZBOR-F42</MsgId>
              <PmtInfId>ZBOR-F42</PmtInfId>
              <EndToEndId>ZBOR-P101</EndToEndId>
            </Refs>
            <AmtDtls>
              <TxAmt>
                <Amt Ccy="EUR">1000.00</Amt>
              </TxAmt>
            </AmtDtls>
            <RltdPties>
              <Cdtr>
                <Nm>Ales Bialiatski</Nm>
              </Cdtr>
              <CdtrAcct>
                <Id>
                  <IBAN>LT121000011101001000</IBAN>
                </Id>
              </CdtrAcct>
            </RltdPties>
            <RmtInf>
              <Ustrd>Payment ZBOR-P101</Ustrd>
            </RmtInf>
          </TxDtls>
          <TxDtls>
            <Refs>
              <EndToEndId>ZBOR-P102</EndToEndId>
            </Refs>
            <AmtDtls>
              <TxAmt>
                <Amt Ccy="EUR">1000.00</Amt>
              </TxAmt>
            </AmtDtls>
            <RmtInf>
              <Ustrd>Payment ZBOR-P102 Miete &amp; Nebenkosten</Ustrd>
              <Ustrd>second line</Ustrd>
            </RmtInf>
          </TxDtls>
          <TxDtls>
            <Refs>
              <EndToEndId>ZBOR-P103</EndToEndId>
            </Refs>
            <AmtDtls>
              <TxAmt>
                <Amt Ccy="EUR">250</Amt>
              </TxAmt>
            </AmtDtls>
            <RmtInf>
              <Ustrd><![CDATA[Payment ZBOR-P103 <CDATA>]]> &#x2013; &#233;</Ustrd>
            </RmtInf>
          </TxDtls>
        </NtryDtls>
        <AddtlNtryInf>SEPA-UEBERWEISUNG SAMMLER</AddtlNtryInf>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">100.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt>
          <DtTm>2024-05-03T14:02:11.0+02:00</DtTm>
        </BookgDt>
        <ValDt>
          <Dt>2024-05-03</Dt>
        </ValDt>
        <AcctSvcrRef>2024050312349999</AcctSvcrRef>
        <BkTxCd>
          <Domn>
            <Cd>PMNT</Cd>
            <Fmly>
              <Cd>ICDT</Cd>
              <SubFmlyCd>RRTN</SubFmlyCd>
            </Fmly>
          </Domn>
          <Prtry>
            <Cd>NRTI+159+00931</Cd>
            <Issr>ZKA</Issr>
          </Prtry>
        </BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs>
              <EndToEndId>ZBOR-P88</EndToEndId>
            </Refs>
            <AmtDtls>
              <InstdAmt>
                <Amt Ccy="EUR">100.00</Amt>
              </InstdAmt>
              <TxAmt>
                <Amt Ccy="EUR">100.00</Amt>
              </TxAmt>
            </AmtDtls>
            <RmtInf>
              <Ustrd>RETOURE SEPA Payment ZBOR-P88</Ustrd>
            </RmtInf>
            <RtrInf>
              <OrgnlBkTxCd>
                <Prtry>
                  <Cd>NMSC</Cd>
                </Prtry>
              </OrgnlBkTxCd>
              <Rsn>
                <Cd>AC04</Cd>
              </Rsn>
              <AddtlInf>KONTO AUFGELOEST</AddtlInf>
            </RtrInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"#;

#[test]
fn reads_a_camt053_001_02_from_a_german_bank() -> TestResult {
    let statement = parse(SPARKASSE_053_001_02.as_bytes())?;
    assert_eq!(statement.kind, MessageKind::Statement);
    assert_eq!(statement.message_id, "camt53-20240506-0000123");
    assert_eq!(statement.id, "0352024050300000001");
    assert_eq!(statement.account_iban.as_deref(), Some("DE89370400440532013000"), "trimmed");
    assert_eq!(statement.entries.len(), 2);

    let batch = &statement.entries[0];
    assert_eq!(batch.index, 0);
    assert_eq!(batch.amount, amount("2250.00"));
    assert_eq!(batch.currency, "EUR");
    assert_eq!(batch.direction, Direction::Debit);
    assert!(!batch.reversal);
    assert_eq!(batch.status, "BOOK");
    assert_eq!(batch.booking_date, Some(day(2024, 5, 3)));
    assert_eq!(batch.value_date, Some(day(2024, 5, 3)));
    assert_eq!(batch.servicer_reference.as_deref(), Some("2024050312345678"));
    let ids: Vec<_> = batch.transactions.iter().map(|t| t.end_to_end_id.as_deref()).collect();
    assert_eq!(ids, [Some("ZBOR-P101"), Some("ZBOR-P102"), Some("ZBOR-P103")]);
    let amounts: Vec<_> = batch.transactions.iter().map(|t| t.amount).collect();
    assert_eq!(amounts, [Some(amount("1000.00")), Some(amount("1000.00")), Some(amount("250"))]);
    assert!(batch.transactions.iter().all(|t| t.currency.as_deref() == Some("EUR")));
    assert_eq!(
        batch.transactions[1].remittance.as_deref(),
        Some("Payment ZBOR-P102 Miete & Nebenkosten"),
        "entities unescaped, the first line kept"
    );
    assert_eq!(batch.transactions[2].remittance.as_deref(), Some("Payment ZBOR-P103 <CDATA> – é"));
    assert!(batch.transactions.iter().all(|t| t.return_reason.is_none()));

    let returned = &statement.entries[1];
    assert_eq!(returned.index, 1);
    assert_eq!(returned.direction, Direction::Credit);
    assert_eq!(returned.booking_date, Some(day(2024, 5, 3)), "the date of BookgDt/DtTm");
    assert_eq!(
        returned.transactions,
        [TransactionDetail {
            end_to_end_id: Some("ZBOR-P88".into()),
            amount: Some(amount("100.00")),
            currency: Some("EUR".into()),
            return_reason: Some("AC04".into()),
            remittance: Some("RETOURE SEPA Payment ZBOR-P88".into()),
        }]
    );
    Ok(())
}

/// camt.054.001.02 with a namespace prefix, a pending entry and `TxDtls/Amt` next to `AmtDtls`.
#[test]
fn reads_a_prefixed_camt054_001_02() -> TestResult {
    let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<n:Document xmlns:n="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
 <n:BkToCstmrDbtCdtNtfctn>
  <n:GrpHdr><n:MsgId>N-1</n:MsgId><n:CreDtTm>2024-05-03T09:00:00Z</n:CreDtTm></n:GrpHdr>
  <n:Ntfctn>
   <n:Id>N-1-1</n:Id>
   <n:Acct><n:Id><n:Othr><n:Id>0532013000</n:Id></n:Othr></n:Id></n:Acct>
   <n:Ntry>
    <n:Amt Ccy="CHF">70.5</n:Amt>
    <n:CdtDbtInd>CRDT</n:CdtDbtInd>
    <n:Sts>PDNG</n:Sts>
    <n:ValDt><n:Dt>2024-05-06+02:00</n:Dt></n:ValDt>
    <n:BkTxCd/>
    <n:NtryDtls><n:TxDtls>
     <n:Refs><n:EndToEndId>NOTPROVIDED</n:EndToEndId></n:Refs>
     <n:Amt Ccy="CHF">70.50</n:Amt>
     <n:AmtDtls><n:TxAmt><n:Amt Ccy="EUR">72.00</n:Amt></n:TxAmt></n:AmtDtls>
    </n:TxDtls></n:NtryDtls>
   </n:Ntry>
  </n:Ntfctn>
 </n:BkToCstmrDbtCdtNtfctn>
</n:Document>"#;
    let statement = parse(xml.as_bytes())?;
    assert_eq!(statement.kind, MessageKind::Notification);
    assert_eq!(statement.id, "N-1-1");
    assert_eq!(statement.account_iban, None);
    let entry = &statement.entries[0];
    assert_eq!(entry.status, "PDNG");
    assert_eq!(entry.booking_date, None);
    assert_eq!(entry.value_date, Some(day(2024, 5, 6)));
    assert_eq!(entry.servicer_reference, None);
    assert_eq!(
        entry.transactions,
        [TransactionDetail {
            end_to_end_id: None,
            amount: Some(amount("70.50")),
            currency: Some("CHF".into()),
            return_reason: None,
            remittance: None,
        }],
        "TxDtls/Amt before AmtDtls/TxAmt/Amt"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 4. Refusals, none quoting the file

/// A valid statement holding a person's name and IBAN (as a bank's does).
fn statement_with_secrets() -> String {
    let mut entries = busy_day()[..2].to_vec();
    entries[0].transactions[0].remittance = Some(format!("{SECRET_NAME} {SECRET_IBAN}"));
    camt053("STMT-1", SECRET_IBAN, "EUR", amount("5000.00"), &entries)
}

/// `xml` with the first `from` after the `nth` (0-based) `marker` replaced by `to`.
fn replace_after(xml: &str, marker: &str, nth: usize, from: &str, to: &str) -> String {
    let start = xml.match_indices(marker).nth(nth).unwrap().0;
    let (head, tail) = xml.split_at(start);
    assert!(tail.contains(from), "{from} not after {marker} {nth}");
    format!("{head}{}", tail.replacen(from, to, 1))
}

/// Parses `xml`, expecting a refusal whose message quotes none of the personal data.
fn refused(xml: &[u8]) -> StatementError {
    let error = match parse(xml) {
        Ok(statement) => panic!("accepted: {statement:?}"),
        Err(error) => error,
    };
    let message = error.to_string();
    for secret in [SECRET_NAME, "Bialiatski", SECRET_IBAN, "Ales"] {
        assert!(!message.contains(secret), "{message:?} quotes {secret:?}");
        assert!(!format!("{error:?}").contains(secret), "{error:?} quotes {secret:?}");
    }
    assert!(!message.is_empty());
    error
}

fn entry_problem(error: &StatementError) -> (Location, Problem) {
    match error {
        StatementError::Invalid { at, problem, .. } => (*at, *problem),
        other => panic!("not an element problem: {other:?}"),
    }
}

#[test]
fn the_secret_statement_itself_is_read() -> TestResult {
    let statement = parse(statement_with_secrets().as_bytes())?;
    assert_eq!(statement.account_iban.as_deref(), Some(SECRET_IBAN));
    Ok(())
}

#[test]
fn not_xml_is_refused() {
    for input in [
        format!("{SECRET_NAME}, {SECRET_IBAN}: 1000.00 EUR").into_bytes(),
        vec![0xff, 0xfe, 0x00, b'<', 0x80],
        format!("<{SECRET_NAME}").into_bytes(),
        format!("<Document><BkToCstmrStmt><{}></Bialiatski>", "Ales").into_bytes(),
        b"<Document><BkToCstmrStmt><GrpHdr><MsgId>&Bialiatski;</MsgId>".to_vec(),
        format!("<Document><BkToCstmrStmt><GrpHdr><MsgId>{SECRET_NAME} & co</MsgId>").into_bytes(),
        b"<Document><BkToCstmrStmt><GrpHdr><MsgId>\xc3\x28</MsgId></GrpHdr></BkToCstmrStmt></Document>"
            .to_vec(),
        Vec::new(),
    ] {
        refused(&input);
    }
    let error = refused(format!("<Document><BkToCstmrStmt><{}></Bialiatski>", "Ales").as_bytes());
    assert!(matches!(error, StatementError::Xml { .. }), "{error:?}");
    let error = refused(b"<Document><BkToCstmrStmt><GrpHdr><MsgId>&Bialiatski;</MsgId>");
    assert!(matches!(error, StatementError::Xml { .. }), "{error:?}");
}

#[test]
fn another_message_is_refused() {
    let pain001 = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn><GrpHdr><MsgId>ZBOR-F1</MsgId>
<InitgPty><Nm>{SECRET_NAME}</Nm></InitgPty></GrpHdr></CstmrCdtTrfInitn></Document>"#
    );
    let error = refused(pain001.as_bytes());
    assert!(matches!(error, StatementError::NotCamt), "{error:?}");
    assert_eq!(error.to_string(), "not a camt.053 or camt.054 message");
    // camt.052 (an intraday report) is not read either, nor a statement without Document
    let camt052 = statement_with_secrets().replace("BkToCstmrStmt", "BkToCstmrAcctRpt");
    assert!(matches!(refused(camt052.as_bytes()), StatementError::NotCamt));
    let bare =
        statement_with_secrets().replace("<Document", "<Envelope").replace("</Document>", "</Envelope>");
    assert!(matches!(refused(bare.as_bytes()), StatementError::NotCamt));
}

#[test]
fn a_doctype_is_refused() {
    let xml = statement_with_secrets().replacen(
        "<Document",
        &format!("<!DOCTYPE Document [<!ENTITY who \"{SECRET_NAME}\">]>\n<Document"),
        1,
    );
    let xml = replace_after(&xml, "<Ntry>", 0, "<AcctSvcrRef>", "<AcctSvcrRef>&who;");
    let error = refused(xml.as_bytes());
    assert!(matches!(error, StatementError::Doctype { .. }), "{error:?}");
    // an entity bomb is refused before anything is expanded
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Document>&lol2;</Document>"#;
    assert!(matches!(refused(bomb.as_bytes()), StatementError::Doctype { .. }));
}

#[test]
fn bad_amounts_are_refused() {
    let xml = statement_with_secrets();
    let good = r#"<Amt Ccy="EUR">1000.00</Amt>"#;
    for (written, expected) in [
        ("-5", Problem::AmountNotPositive("Amt")),
        ("0", Problem::AmountNotPositive("Amt")),
        ("0.00", Problem::AmountNotPositive("Amt")),
        ("1e3", Problem::AmountNotDecimal("Amt")),
        ("12.345678", Problem::AmountFractionDigits("Amt")),
        ("1,000.00", Problem::AmountNotDecimal("Amt")),
        ("1000.", Problem::AmountNotDecimal("Amt")),
        (".5", Problem::AmountNotDecimal("Amt")),
        ("+5", Problem::AmountNotDecimal("Amt")),
        ("", Problem::AmountNotDecimal("Amt")),
        ("NaN", Problem::AmountNotDecimal("Amt")),
        ("١٠٠", Problem::AmountNotDecimal("Amt")),
        ("1234567890123456789", Problem::AmountTotalDigits("Amt")),
        (SECRET_NAME, Problem::AmountNotDecimal("Amt")),
    ] {
        let bad = replace_after(&xml, "<Ntry>", 0, good, &format!(r#"<Amt Ccy="EUR">{written}</Amt>"#));
        let error = refused(bad.as_bytes());
        assert_eq!(entry_problem(&error), (Location::Entry { index: 0 }, expected), "{written:?}: {error}");
        assert!(error.to_string().starts_with("entry 0 at byte "), "{error}");
    }
    // the most ISO allows is taken
    let most = replace_after(&xml, "<Ntry>", 0, good, r#"<Amt Ccy="EUR">0001234567890123.45678</Amt>"#);
    assert_eq!(parse(most.as_bytes()).unwrap().entries[0].amount, amount("1234567890123.45678"));
    // a transaction's amount is checked too
    let bad = replace_after(&xml, "<TxAmt>", 0, ">1000.00<", ">1e3<");
    let error = refused(bad.as_bytes());
    assert_eq!(
        entry_problem(&error),
        (Location::Transaction { entry: 0, index: 0 }, Problem::AmountNotDecimal("AmtDtls/TxAmt/Amt")),
        "{error}"
    );
}

#[test]
fn bad_entries_are_refused() {
    let xml = statement_with_secrets();
    let second = |from: &str, to: &str| replace_after(&xml, "<Ntry>", 1, from, to);
    let debit = "<CdtDbtInd>DBIT</CdtDbtInd>";
    for (bad, expected) in [
        (second(debit, ""), Problem::Missing("CdtDbtInd")),
        (second(debit, "<CdtDbtInd>CREDIT</CdtDbtInd>"), Problem::CreditDebit("CdtDbtInd")),
        (second(debit, "<CdtDbtInd>dbit</CdtDbtInd>"), Problem::CreditDebit("CdtDbtInd")),
        (second(debit, &format!("{debit}{debit}")), Problem::Repeated("CdtDbtInd")),
        (second(debit, &format!("{debit}<RvslInd>yes</RvslInd>")), Problem::Boolean("RvslInd")),
        (second(r#"<Amt Ccy="EUR">1000.00</Amt>"#, ""), Problem::Missing("Amt")),
        (
            second(
                r#"<Amt Ccy="EUR">1000.00</Amt>"#,
                r#"<Amt Ccy="EUR">1000.00</Amt><Amt Ccy="EUR">1.00</Amt>"#,
            ),
            Problem::Repeated("Amt"),
        ),
        (second(r#"Ccy="EUR""#, r#"Ccy="eur""#), Problem::Currency("Amt")),
        (second(r#"Ccy="EUR""#, r#"Ccy="EURO""#), Problem::Currency("Amt")),
        (second(r#"Ccy="EUR""#, r#"Ccy="E&amp;R""#), Problem::Currency("Amt")),
        (second(r#" Ccy="EUR""#, ""), Problem::Currency("Amt")),
        (second("<Dt>2024-05-02</Dt>", "<Dt>2024-02-30</Dt>"), Problem::Date("BookgDt")),
        (second("<Dt>2024-05-02</Dt>", "<Dt>02.05.2024</Dt>"), Problem::Date("BookgDt")),
        (second("<Dt>2024-05-02</Dt>", "<DtTm>2024-05-02</DtTm>"), Problem::Date("BookgDt")),
        (second("<Cd>BOOK</Cd>", ""), Problem::Missing("Sts")),
    ] {
        let error = refused(bad.as_bytes());
        assert_eq!(entry_problem(&error), (Location::Entry { index: 1 }, expected), "{error}");
    }
    // a remittance line is kept up to a limit, and the refusal does not quote it
    let long = format!("{SECRET_NAME} ").repeat(100);
    let bad = replace_after(&xml, "<Ntry>", 0, "<Ustrd>", &format!("<Ustrd>{long}"));
    let error = refused(bad.as_bytes());
    assert_eq!(
        entry_problem(&error),
        (Location::Transaction { entry: 0, index: 0 }, Problem::TooLong("RmtInf/Ustrd"))
    );
    // a long text where nothing is read costs nothing and is no error
    let ignored = replace_after(
        &xml,
        "<Ntry>",
        0,
        "<BkTxCd>",
        &format!("<AddtlInfInd>{}</AddtlInfInd><BkTxCd>", "x".repeat(100_000)),
    );
    assert_eq!(parse(ignored.as_bytes()).unwrap().entries.len(), 2);
}

#[test]
fn missing_header_elements_are_refused() {
    let xml = statement_with_secrets();
    let no_message_id = xml.replacen("<MsgId>STMT-1</MsgId>", "", 1);
    let error = refused(no_message_id.as_bytes());
    assert_eq!(entry_problem(&error), (Location::GroupHeader, Problem::Missing("MsgId")));
    assert!(error.to_string().starts_with("GrpHdr at byte "), "{error}");
    let no_id = xml.replacen("<Id>STMT-1</Id>", "", 1);
    let error = refused(no_id.as_bytes());
    assert_eq!(
        entry_problem(&error),
        (Location::Block { kind: MessageKind::Statement, index: 0 }, Problem::Missing("Id"))
    );
    let start = xml.find("<Stmt>").unwrap();
    let end = xml.find("</Stmt>").unwrap() + "</Stmt>".len();
    let no_block = format!("{}{}", &xml[..start], &xml[end..]);
    let error = refused(no_block.as_bytes());
    assert_eq!(entry_problem(&error), (Location::Document, Problem::Missing("Stmt")));
}

#[test]
fn deep_nesting_is_refused() {
    let mut xml = String::from("<Document><BkToCstmrStmt>");
    xml.push_str(&"<a>".repeat(100_000));
    let error = refused(xml.as_bytes());
    assert!(matches!(error, StatementError::TooDeep { .. }), "{error:?}");
}

// ---------------------------------------------------------------------------------------------
// 5. Size

#[test]
fn oversize_input_is_refused_unread() -> TestResult {
    // a valid statement padded past the limit: refused for its size alone
    let mut xml = statement_with_secrets().into_bytes();
    let valid_len = xml.len();
    xml.resize(MAX_STATEMENT_BYTES, b' ');
    assert_eq!(parse(&xml)?.entries.len(), 2, "exactly the limit is read");
    xml.push(b'\n');
    let error = refused(&xml);
    assert!(
        matches!(error, StatementError::TooLarge { bytes } if bytes == MAX_STATEMENT_BYTES + 1),
        "{error:?}"
    );
    assert!(error.to_string().contains("too large"), "{error}");
    // garbage past the limit is refused for its size too, not for being garbage
    let garbage = vec![0xffu8; MAX_STATEMENT_BYTES + 1];
    assert!(matches!(refused(&garbage), StatementError::TooLarge { .. }));
    assert!(valid_len < MAX_STATEMENT_BYTES);
    Ok(())
}
