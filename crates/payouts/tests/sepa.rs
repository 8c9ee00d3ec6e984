#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! SEPA payouts: the pain.001.001.09 file (EPC rules, read back with an XML parser), and the rail
//! against the real PostgreSQL: a file moves a batch's SEPA payouts to `sent` once, downloads are
//! identical, confirming pays them (holds posted), a returned payout goes into a later file.

mod common;

use chrono::{NaiveDate, TimeZone, Utc};
use common::*;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;
use rust_decimal::Decimal;
use serde_json::json;
use zbor_auth::UserId;
use zbor_ledger::{Currency, Money};
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_payouts::iban::{Bic, Iban};
use zbor_payouts::sepa::{self, CreditTransfer, Debtor, PaymentFile, Totals};
use zbor_payouts::treasury::{self, PayoutStatus};
use zbor_payouts::{beneficiaries, sepa_files, switch, Error};
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

fn debtor(bic: bool) -> Debtor {
    Debtor {
        name: "Civic Fund e.V.".into(),
        iban: Iban::parse("DE89370400440532013000").unwrap(),
        bic: bic.then(|| Bic::parse("COBADEFFXXX").unwrap()),
    }
}

fn transfer(n: usize, amount: &str, name: &str) -> CreditTransfer {
    CreditTransfer {
        end_to_end_id: format!("ZBOR-P{n}"),
        amount: eur(amount),
        creditor_name: name.into(),
        creditor_iban: Iban::parse(&de_iban(u64::try_from(n).unwrap() + 1)).unwrap(),
        creditor_bic: None,
        remittance: format!("Payment ZBOR-P{n}"),
    }
}

fn file(transfers: Vec<CreditTransfer>) -> PaymentFile {
    PaymentFile {
        message_id: "ZBOR-B1-0a1b2c3d4e5f".into(),
        created_at: Utc.with_ymd_and_hms(2026, 11, 22, 10, 30, 0).unwrap(),
        payment_information_id: "ZBOR-B1-0a1b2c3d4e5f".into(),
        requested_execution_date: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        debtor: debtor(true),
        transfers,
    }
}

/// A document read back by an XML parser: every element by its path below the root
/// (`GrpHdr/MsgId`), in document order, with its unescaped text; the `Ccy` attributes.
struct Parsed {
    elements: Vec<(String, String)>,
    currencies: Vec<String>,
}

impl Parsed {
    /// The texts of the elements whose path ends with `suffix`, in order.
    fn values(&self, suffix: &str) -> Vec<&str> {
        self.elements
            .iter()
            .filter(|(path, _)| path == suffix || path.ends_with(&format!("/{suffix}")))
            .map(|(_, text)| text.as_str())
            .collect()
    }

    fn paths(&self) -> Vec<&str> {
        self.elements.iter().map(|(path, _)| path.as_str()).collect()
    }
}

/// Parses with quick-xml's namespace-aware reader; fails the test on XML that is not
/// well-formed, on an element outside the pain.001.001.09 namespace, or on a root that is not
/// `Document/CstmrCdtTrfInitn`.
fn parse(xml: &str) -> Parsed {
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"), "{}", &xml[..60]);
    let mut reader = NsReader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    // per open element, its index in `elements` (none for the two root elements)
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut parsed = Parsed { elements: Vec::new(), currencies: Vec::new() };
    loop {
        let (namespace, event) = reader.read_resolved_event().unwrap();
        let bound_here = matches!(namespace, ResolveResult::Bound(ns) if ns.as_ref() == NAMESPACE);
        let current = open.last().copied().flatten();
        match event {
            Event::Start(e) => {
                assert!(bound_here, "element outside the namespace");
                path.push(e.local_name().as_ref().to_owned());
                if let Some(ccy) = e.try_get_attribute("Ccy").unwrap() {
                    parsed.currencies.push(ccy.value.into_owned());
                }
                if path.len() > 2 {
                    parsed.elements.push((path[2..].join("/"), String::new()));
                    open.push(Some(parsed.elements.len() - 1));
                } else {
                    assert_eq!(path[..], ["Document", "CstmrCdtTrfInitn"][..path.len()]);
                    open.push(None);
                }
            }
            Event::Empty(_) => panic!("no empty elements in a pain.001"),
            Event::Text(t) => {
                if let Some(i) = current {
                    parsed.elements[i].1.push_str(&t.xml10_content());
                } else {
                    assert!(t.trim().is_empty(), "text outside the elements: {t:?}");
                }
            }
            Event::GeneralRef(r) => {
                let resolved = quick_xml::escape::resolve_xml_entity(&r).unwrap();
                parsed.elements[current.unwrap()].1.push_str(resolved);
            }
            Event::End(_) => {
                path.pop();
                if let Some(i) = open.pop().flatten() {
                    // the indentation around child elements is not content
                    parsed.elements[i].1 = parsed.elements[i].1.trim().to_owned();
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(path.is_empty(), "every element closed");
    parsed
}

fn document(f: &PaymentFile) -> (String, Parsed) {
    let xml = sepa::pain_001_001_09(f).unwrap();
    let parsed = parse(&xml);
    (xml, parsed)
}

#[test]
fn a_file_of_123_transfers_states_its_count_and_exact_sum_twice() {
    let f = file((0..123).map(|n| transfer(n, "1000", "Released person")).collect());
    let (_, doc) = document(&f);
    assert_eq!(doc.values("GrpHdr/NbOfTxs"), ["123"]);
    assert_eq!(doc.values("GrpHdr/CtrlSum"), ["123000.00"]);
    assert_eq!(doc.values("PmtInf/NbOfTxs"), ["123"]);
    assert_eq!(doc.values("PmtInf/CtrlSum"), ["123000.00"]);
    assert_eq!(doc.values("CdtTrfTxInf/Amt/InstdAmt").len(), 123);
    assert!(doc.values("InstdAmt").iter().all(|a| *a == "1000.00"));
    assert_eq!(doc.currencies.len(), 123);
    assert!(doc.currencies.iter().all(|c| c == "EUR"));
    assert_eq!(doc.values("PmtId/EndToEndId")[122], "ZBOR-P122");
    assert_eq!(
        sepa::totals(&f).unwrap(),
        Totals { transactions: 123, control_sum: Decimal::new(12_300_000, 2) }
    );
}

/// The EPC's pain.001.001.09 schema, kept with these tests (`tests/iso20022/README.md`): what a
/// bank's intake checks a file against.
fn assert_valid_for_the_bank(xml: &str) {
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/iso20022/pain.001.001.09-EPC-SCT-2023.xsd");
    let path = std::env::temp_dir().join(format!("zbor-pain001-{}.xml", uuid::Uuid::new_v4()));
    std::fs::write(&path, xml).unwrap();
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema", schema])
        .arg(&path)
        .output()
        .expect("xmllint (deploy/xmllint.sh installs it)");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn files_validate_against_the_epc_schema_banks_check() {
    let mut transfers: Vec<CreditTransfer> =
        (0..123).map(|n| transfer(n, "1000", "Released person")).collect();
    transfers.push(transfer(123, "0.01", "Аляксандр Лукашэвіч & <Co>"));
    let (xml, _) = document(&file(transfers));
    assert_valid_for_the_bank(&xml);
    let mut without_bic = file(vec![transfer(1, "25.50", "Ales")]);
    without_bic.debtor = debtor(false);
    assert_valid_for_the_bank(&document(&without_bic).0);
    // and the check bites: a file with its elements out of order is refused
    let broken = xml.replacen("<PmtMtd>TRF</PmtMtd>", "", 1);
    assert_ne!(broken, xml);
    let path = std::env::temp_dir().join(format!("zbor-pain001-{}.xml", uuid::Uuid::new_v4()));
    std::fs::write(&path, &broken).unwrap();
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/iso20022/pain.001.001.09-EPC-SCT-2023.xsd");
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema", schema])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(!out.status.success(), "a file without PmtMtd must not validate");
}

#[test]
fn mixed_amounts_sum_exactly_and_keep_two_decimals() {
    let f = file(vec![transfer(0, "0.01", "A"), transfer(1, "999.99", "B"), transfer(2, "12.3", "C")]);
    let (xml, doc) = document(&f);
    assert_eq!(doc.values("GrpHdr/CtrlSum"), ["1012.30"]);
    assert_eq!(doc.values("PmtInf/CtrlSum"), ["1012.30"]);
    assert_eq!(doc.values("GrpHdr/NbOfTxs"), ["3"]);
    assert_eq!(doc.values("PmtInf/NbOfTxs"), ["3"]);
    assert_eq!(doc.values("InstdAmt"), ["0.01", "999.99", "12.30"]);
    assert!(xml.contains("<InstdAmt Ccy=\"EUR\">12.30</InstdAmt>"), "{xml}");
    // the largest amount SEPA allows, written in full
    let (_, doc) = document(&file(vec![transfer(0, "999999999.99", "A"), transfer(1, "0.01", "B")]));
    assert_eq!(doc.values("InstdAmt"), ["999999999.99", "0.01"]);
    assert_eq!(doc.values("GrpHdr/CtrlSum"), ["1000000000.00"]);
}

#[test]
fn the_elements_come_in_the_schema_order() {
    let mut one = transfer(7, "25", "Hanna");
    one.creditor_bic = Some(Bic::parse("DEUTDEFF").unwrap());
    let (_, doc) = document(&file(vec![one]));
    let expected = [
        "GrpHdr",
        "GrpHdr/MsgId",
        "GrpHdr/CreDtTm",
        "GrpHdr/NbOfTxs",
        "GrpHdr/CtrlSum",
        "GrpHdr/InitgPty",
        "GrpHdr/InitgPty/Nm",
        "PmtInf",
        "PmtInf/PmtInfId",
        "PmtInf/PmtMtd",
        "PmtInf/BtchBookg",
        "PmtInf/NbOfTxs",
        "PmtInf/CtrlSum",
        "PmtInf/PmtTpInf",
        "PmtInf/PmtTpInf/SvcLvl",
        "PmtInf/PmtTpInf/SvcLvl/Cd",
        "PmtInf/ReqdExctnDt",
        "PmtInf/ReqdExctnDt/Dt",
        "PmtInf/Dbtr",
        "PmtInf/Dbtr/Nm",
        "PmtInf/DbtrAcct",
        "PmtInf/DbtrAcct/Id",
        "PmtInf/DbtrAcct/Id/IBAN",
        "PmtInf/DbtrAgt",
        "PmtInf/DbtrAgt/FinInstnId",
        "PmtInf/DbtrAgt/FinInstnId/BICFI",
        "PmtInf/ChrgBr",
        "PmtInf/CdtTrfTxInf",
        "PmtInf/CdtTrfTxInf/PmtId",
        "PmtInf/CdtTrfTxInf/PmtId/EndToEndId",
        "PmtInf/CdtTrfTxInf/Amt",
        "PmtInf/CdtTrfTxInf/Amt/InstdAmt",
        "PmtInf/CdtTrfTxInf/CdtrAgt",
        "PmtInf/CdtTrfTxInf/CdtrAgt/FinInstnId",
        "PmtInf/CdtTrfTxInf/CdtrAgt/FinInstnId/BICFI",
        "PmtInf/CdtTrfTxInf/Cdtr",
        "PmtInf/CdtTrfTxInf/Cdtr/Nm",
        "PmtInf/CdtTrfTxInf/CdtrAcct",
        "PmtInf/CdtTrfTxInf/CdtrAcct/Id",
        "PmtInf/CdtTrfTxInf/CdtrAcct/Id/IBAN",
        "PmtInf/CdtTrfTxInf/RmtInf",
        "PmtInf/CdtTrfTxInf/RmtInf/Ustrd",
    ];
    assert_eq!(doc.paths(), expected);
    assert_eq!(doc.values("MsgId"), ["ZBOR-B1-0a1b2c3d4e5f"]);
    assert_eq!(doc.values("CreDtTm"), ["2026-11-22T10:30:00"]);
    assert_eq!(doc.values("InitgPty/Nm"), ["Civic Fund e.V."]);
    assert_eq!(doc.values("PmtInfId"), ["ZBOR-B1-0a1b2c3d4e5f"]);
    assert_eq!(doc.values("PmtMtd"), ["TRF"]);
    assert_eq!(doc.values("BtchBookg"), ["true"]);
    assert_eq!(doc.values("SvcLvl/Cd"), ["SEPA"]);
    assert_eq!(doc.values("ReqdExctnDt/Dt"), ["2026-11-23"]);
    assert_eq!(doc.values("Dbtr/Nm"), ["Civic Fund e.V."]);
    assert_eq!(doc.values("DbtrAcct/Id/IBAN"), ["DE89370400440532013000"]);
    assert_eq!(doc.values("DbtrAgt/FinInstnId/BICFI"), ["COBADEFFXXX"]);
    assert_eq!(doc.values("ChrgBr"), ["SLEV"]);
    assert_eq!(doc.values("EndToEndId"), ["ZBOR-P7"]);
    assert_eq!(doc.values("InstdAmt"), ["25.00"]);
    assert_eq!(doc.values("CdtrAgt/FinInstnId/BICFI"), ["DEUTDEFF"]);
    assert_eq!(doc.values("Cdtr/Nm"), ["Hanna"]);
    assert_eq!(doc.values("CdtrAcct/Id/IBAN"), [de_iban(8)]);
    assert_eq!(doc.values("RmtInf/Ustrd"), ["Payment ZBOR-P7"]);
}

#[test]
fn without_a_creditor_bic_there_is_no_creditor_agent() {
    let mut with_bic = transfer(1, "1", "With BIC");
    with_bic.creditor_bic = Some(Bic::parse("COBADEFFXXX").unwrap());
    let (_, doc) = document(&file(vec![transfer(0, "1", "No BIC"), with_bic]));
    assert_eq!(doc.values("CdtrAgt"), [""], "one agent: the second transfer's");
    assert_eq!(doc.values("CdtrAgt/FinInstnId/BICFI"), ["COBADEFFXXX"]);
    let first: Vec<&str> = doc
        .paths()
        .into_iter()
        .skip_while(|p| !p.ends_with("CdtTrfTxInf"))
        .skip(1)
        .take_while(|p| !p.ends_with("CdtTrfTxInf"))
        .collect();
    assert!(first.iter().all(|p| !p.contains("CdtrAgt")), "{first:?}");
    assert!(first.iter().any(|p| p.ends_with("Cdtr/Nm")), "{first:?}");
}

#[test]
fn without_a_debtor_bic_the_debtor_agent_is_notprovided() {
    let mut f = file(vec![transfer(0, "1", "A")]);
    f.debtor = debtor(false);
    let (_, doc) = document(&f);
    assert_eq!(doc.values("DbtrAgt/FinInstnId/Othr/Id"), ["NOTPROVIDED"]);
    assert!(doc.values("DbtrAgt/FinInstnId/BICFI").is_empty());
    let (_, with_bic) = document(&file(vec![transfer(0, "1", "A")]));
    assert!(with_bic.values("Othr/Id").is_empty());
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let make = || file((0..20).map(|n| transfer(n, "10.5", "Алесь Бяляцкі")).collect());
    let first = sepa::pain_001_001_09(&make()).unwrap();
    assert_eq!(sepa::pain_001_001_09(&make()).unwrap(), first);
    let mut later = make();
    later.created_at = Utc.with_ymd_and_hms(2026, 11, 22, 10, 30, 1).unwrap();
    let other = sepa::pain_001_001_09(&later).unwrap();
    assert_ne!(other, first, "the creation time is the caller's and is written");
    assert_eq!(parse(&other).values("CreDtTm"), ["2026-11-22T10:30:01"]);
}

#[test]
fn belarusian_and_other_cyrillic_names_are_transliterated_as_in_passports() {
    assert_eq!(sepa::to_epc_text("Алесь Бяляцкі", 70), "Ales Bialiatski");
    assert_eq!(sepa::to_epc_text("Марыя Калеснікава", 70), "Maryia Kalesnikava");
    assert_eq!(sepa::to_epc_text("Ўладзімір Хоміч", 70), "Uladzimir Khomich");
    assert_eq!(sepa::to_epc_text("Ігар Лосік", 70), "Ihar Losik");
    assert_eq!(sepa::to_epc_text("СВЯТЛАНА ЦІХАНОЎСКАЯ", 70), "SVIATLANA TSIKHANOUSKAIA");
    assert_eq!(sepa::to_epc_text("Жанна Ж. Чэрнікава", 70), "Zhanna Zh. Chernikava");
    assert_eq!(sepa::to_epc_text("Мар’яна Дар'я Вераб'ёва", 70), "Mariana Daria Verabiova");
    // Ukrainian and Russian letters, by the same table
    assert_eq!(sepa::to_epc_text("Євгенія Їжакевич Ґонта", 70), "Ievheniia Izhakevich Gonta");
    assert_eq!(sepa::to_epc_text("Щукин Подъячев Ёлкин", 70), "Shchukin Podiachev Iolkin");
    assert_eq!(sepa::to_epc_text("Ђорђевић Љубица", 70), "Djordjevic Ljubitsa");

    let (_, doc) = document(&file(vec![transfer(0, "5", "Алесь Бяляцкі")]));
    assert_eq!(doc.values("Cdtr/Nm"), ["Ales Bialiatski"]);
}

#[test]
fn polish_and_other_latin_names_lose_their_diacritics() {
    assert_eq!(sepa::to_epc_text("Łukasz Żółć-Gęślą", 70), "Lukasz Zolc-Gesla");
    assert_eq!(sepa::to_epc_text("ŁUKASZ ŻÓŁĆ", 70), "LUKASZ ZOLC");
    assert_eq!(sepa::to_epc_text("Agnieszka Wałęsa-Śliwińska", 70), "Agnieszka Walesa-Sliwinska");
    assert_eq!(sepa::to_epc_text("Straße", 70), "Strasse");
    assert_eq!(sepa::to_epc_text("Søren Ærø Müller", 70), "Soren Aero Muller");
    assert_eq!(sepa::to_epc_text("Ŭładzimir Ćwiek İlker Đurić", 70), "Uladzimir Cwiek Ilker Duric");
    // é as e + a combining accent (as macOS writes it)
    assert_eq!(sepa::to_epc_text("Rene\u{301}e Jose\u{301}", 70), "Renee Jose");
    assert_eq!(sepa::to_epc_text("Seán O’Brien", 70), "Sean O'Brien");

    let (_, doc) = document(&file(vec![transfer(0, "5", "Łukasz Żółć-Gęślą")]));
    assert_eq!(doc.values("Cdtr/Nm"), ["Lukasz Zolc-Gesla"]);
}

#[test]
fn other_characters_become_near_equivalents_or_spaces() {
    assert_eq!(sepa::to_epc_text("Tom & Jerry <Ltd>", 70), "Tom + Jerry (Ltd)");
    assert_eq!(sepa::to_epc_text("Праваабарончы цэнтр «Вясна»", 70), "Pravaabaronchy tsentr 'Viasna'");
    assert_eq!(sepa::to_epc_text("A — B; C!", 70), "A - B, C.");
    assert_eq!(sepa::to_epc_text("  a \t\n b  我们 ", 70), "a b");
    assert_eq!(sepa::to_epc_text("我们", 70), "");
    assert_eq!(sepa::to_epc_text("x@y.org #1 50% *", 70), "x y.org 1 50");
}

#[test]
fn names_are_cut_to_70_and_remittance_to_140_characters() {
    let hundred = "Abcdefghij".repeat(10);
    let mut long = transfer(0, "5", &hundred);
    long.remittance = "r".repeat(200);
    let cyrillic = transfer(1, "5", &"Я".repeat(50));
    let mut f = file(vec![long, cyrillic]);
    f.debtor.name = "Fundacja1 ".repeat(12);
    let (_, doc) = document(&f);
    let names = doc.values("Cdtr/Nm");
    assert_eq!(names[0], &hundred[..70]);
    assert_eq!(names[1], "IA".repeat(35), "cut after transliteration");
    assert_eq!(doc.values("RmtInf/Ustrd")[0], "r".repeat(140));
    // cut just after a space: no trailing space is written
    let debtor_name = doc.values("Dbtr/Nm")[0];
    assert_eq!(debtor_name, "Fundacja1 ".repeat(7).trim_end());
    assert_eq!(doc.values("InitgPty/Nm"), [debtor_name]);
    assert_eq!(sepa::to_epc_text(&"ł".repeat(200), 140).len(), 140);
}

#[test]
fn xml_special_characters_are_escaped_and_read_back() {
    let mut quoted = transfer(0, "5", "Tom & Jerry <Ltd>");
    quoted.remittance = "Rent 'May' & <June>".into();
    let mut f = file(vec![quoted, transfer(1, "5", "Seán O'Brien")]);
    f.debtor.name = "Smith & Sons <Bank> 'Ltd'".into();
    let (xml, doc) = document(&f);
    assert_eq!(doc.values("Cdtr/Nm"), ["Tom + Jerry (Ltd)", "Sean O'Brien"]);
    assert_eq!(doc.values("RmtInf/Ustrd")[0], "Rent 'May' + (June)");
    assert_eq!(doc.values("Dbtr/Nm"), ["Smith + Sons (Bank) 'Ltd'"]);
    // the apostrophe, the one character of the EPC set that XML reserves, is escaped
    assert!(xml.contains("<Nm>Sean O&apos;Brien</Nm>"), "{xml}");
    assert!(!xml.contains("O'Brien"));
    // no raw '&' or '<' reached the document: every '&' starts an entity, every '<' a tag
    assert_eq!(xml.matches('&').count(), xml.matches("&apos;").count());
    assert_eq!(xml.matches('<').count(), xml.matches("<?").count() + xml.matches("</").count() * 2);
}

/// The file is refused with `field` named, by both `totals` and the writer, and the reason
/// contains no creditor's name or IBAN.
fn refused(f: &PaymentFile, field: &str) -> String {
    let reason = match sepa::pain_001_001_09(f) {
        Err(Error::InvalidField { field: got, reason }) => {
            assert_eq!(got, field, "{reason}");
            reason
        }
        other => panic!("expected {field} to be refused, got {other:?}"),
    };
    assert!(matches!(sepa::totals(f), Err(Error::InvalidField { field: got, .. }) if got == field));
    for t in &f.transfers {
        let iban = t.creditor_iban.as_str();
        assert!(!reason.contains(iban) && !reason.contains(&iban[4..]), "no IBAN: {reason}");
        let name = t.creditor_name.as_str();
        assert!(name.len() < 4 || !reason.contains(name), "no name: {reason}");
    }
    assert!(!reason.contains(f.debtor.iban.as_str()) && !reason.contains(&f.debtor.name), "{reason}");
    reason
}

#[test]
fn amounts_in_another_currency_are_refused() {
    let mut usd = transfer(0, "5", "Hanna Secret");
    usd.amount = Money::parse("5", Currency::parse("USD").unwrap()).unwrap();
    let reason = refused(&file(vec![transfer(1, "5", "Other"), usd]), "amount");
    assert_eq!(reason, "transfer 1 (ZBOR-P0): SEPA pays in EUR only");
}

#[test]
fn zero_negative_and_too_large_amounts_are_refused() {
    let reason = refused(&file(vec![transfer(0, "0", "Hanna Secret")]), "amount");
    assert!(reason.contains("transfer 0 (ZBOR-P0)") && reason.contains("more than 0.00"), "{reason}");
    let reason = refused(&file(vec![transfer(0, "-1", "Hanna Secret")]), "amount");
    assert!(reason.contains("more than 0.00"), "{reason}");
    let reason = refused(&file(vec![transfer(0, "1000000000.00", "Hanna Secret")]), "amount");
    assert!(reason.contains("at most 999999999.99"), "{reason}");
}

#[test]
fn amounts_with_three_decimals_are_refused() {
    // EUR money cannot even hold three decimals...
    assert!(Money::parse("10.005", Currency::parse("EUR").unwrap()).is_err());
    // ...and the file checks it all the same, before the currency
    let mut fine = transfer(0, "5", "Hanna Secret");
    fine.amount = Money::new(Decimal::new(5_001, 3), Currency::parse("BHD").unwrap()).unwrap();
    let reason = refused(&file(vec![fine]), "amount");
    assert_eq!(reason, "transfer 0 (ZBOR-P0): must have at most 2 decimals");
    // three decimals that are zeros are two decimals
    let mut round = transfer(0, "5", "Hanna Secret");
    round.amount = Money::new(Decimal::new(5_000, 3), Currency::parse("BHD").unwrap()).unwrap();
    let reason = refused(&file(vec![round]), "amount");
    assert!(reason.contains("EUR only"), "{reason}");
}

#[test]
fn identifiers_of_36_characters_are_refused_and_35_accepted() {
    let mut f = file(vec![transfer(0, "5", "A")]);
    f.message_id = "A".repeat(35);
    f.payment_information_id = "B".repeat(35);
    f.transfers[0].end_to_end_id = "C".repeat(35);
    let (_, doc) = document(&f);
    assert_eq!(doc.values("MsgId"), ["A".repeat(35)]);
    assert_eq!(doc.values("EndToEndId"), ["C".repeat(35)]);

    let mut long = f.clone();
    long.message_id = "A".repeat(36);
    refused(&long, "message_id");
    let mut long = f.clone();
    long.payment_information_id = "B".repeat(36);
    refused(&long, "payment_information_id");
    let mut long = f.clone();
    long.transfers[0].end_to_end_id = "C".repeat(36);
    let reason = refused(&long, "end_to_end_id");
    assert!(reason.starts_with("transfer 0: "), "the bad id itself is not repeated: {reason}");
    let mut empty = f;
    empty.message_id = String::new();
    refused(&empty, "message_id");
}

#[test]
fn identifiers_with_double_or_edge_slashes_or_other_characters_are_refused() {
    for bad in ["ZBOR//1", "/ZBOR-1", "ZBOR-1/", "ZBOR 1", "ZBOR_1", "ZBOR&1", "ŻBOR-1"] {
        let mut t = transfer(0, "5", "A");
        t.end_to_end_id = bad.into();
        refused(&file(vec![t]), "end_to_end_id");
        let mut f = file(vec![transfer(0, "5", "A")]);
        f.message_id = bad.into();
        refused(&f, "message_id");
    }
    let mut fine = transfer(0, "5", "A");
    fine.end_to_end_id = "ZBOR/P-1?(a):b.c,d'e+f".into();
    let (_, doc) = document(&file(vec![fine]));
    assert_eq!(doc.values("EndToEndId"), ["ZBOR/P-1?(a):b.c,d'e+f"]);
}

#[test]
fn end_to_end_ids_must_be_unique_within_a_file() {
    let reason = refused(&file(vec![transfer(0, "5", "A"), transfer(0, "6", "B")]), "end_to_end_id");
    assert_eq!(reason, "transfer 1 (ZBOR-P0): used twice in one file");
}

#[test]
fn a_file_has_1_to_10000_transfers() {
    refused(&file(vec![]), "transfers");
    let many = file((0..10_001).map(|n| transfer(n, "1", "A")).collect());
    refused(&many, "transfers");
    let most = file((0..10_000).map(|n| transfer(n, "1", "A")).collect());
    assert_eq!(
        sepa::totals(&most).unwrap(),
        Totals { transactions: 10_000, control_sum: Decimal::new(1_000_000, 2) }
    );
}

#[test]
fn a_name_with_nothing_left_in_the_sepa_set_is_refused() {
    let reason = refused(&file(vec![transfer(0, "5", "A"), transfer(1, "5", "我们")]), "creditor_name");
    assert_eq!(reason, "transfer 1 (ZBOR-P1): has no letter or digit in the SEPA character set");
    refused(&file(vec![transfer(0, "5", "-- ...")]), "creditor_name");
    let mut f = file(vec![transfer(0, "5", "A")]);
    f.debtor.name = "   ".into();
    refused(&f, "debtor_name");
    // an empty remittance is left out, not refused
    let mut t = transfer(0, "5", "A");
    t.remittance = "我们".into();
    let (_, doc) = document(&file(vec![t]));
    assert!(doc.values("RmtInf").is_empty());
}

#[test]
fn accounts_outside_sepa_are_refused() {
    let mut belarus = transfer(0, "5", "Hanna Secret");
    belarus.creditor_iban = Iban::parse("BY13NBRB3600900000002Z00AB00").unwrap();
    belarus.creditor_bic = Some(Bic::parse("NBRBBY2X").unwrap());
    let reason = refused(&file(vec![belarus]), "creditor_iban");
    assert_eq!(reason, "transfer 0 (ZBOR-P0): is not in a SEPA country");
    let mut f = file(vec![transfer(0, "5", "A")]);
    f.debtor.iban = Iban::parse("UA213223130000026007233566001").unwrap();
    refused(&f, "debtor_iban");
}

#[test]
fn a_creditor_bank_outside_the_eea_needs_a_bic() {
    for iban in ["CH9300762011623852957", "GB82WEST12345698765432"] {
        let mut t = transfer(0, "5", "Hanna Secret");
        t.creditor_iban = Iban::parse(iban).unwrap();
        let reason = refused(&file(vec![t.clone()]), "creditor_bic");
        assert!(reason.contains("outside the EEA"), "{reason}");
        t.creditor_bic = Some(Bic::parse("UBSWCHZH80A").unwrap());
        let (_, doc) = document(&file(vec![t]));
        assert_eq!(doc.values("CdtrAgt/FinInstnId/BICFI"), ["UBSWCHZH80A"]);
    }
    // within the EEA the IBAN is enough, in any country
    let mut poland = transfer(0, "5", "A");
    poland.creditor_iban = Iban::parse("PL61109010140000071219812874").unwrap();
    let (_, doc) = document(&file(vec![poland]));
    assert!(doc.values("CdtrAgt").is_empty());
}

struct Rail {
    db: TestDb,
    key: DataKey,
    campaign: zbor_campaigns::Campaign,
    treasurers: Vec<UserId>,
}

async fn rail() -> Rail {
    let db = TestDb::new(8).await;
    let key = DataKey::generate();
    let campaign = funded_campaign(&db, "release", "5000").await;
    let treasurers = treasurers(&db, &key, &["a@example.org", "b@example.org", "c@example.org"]).await;
    Rail { db, key, campaign, treasurers }
}

#[tokio::test]
async fn a_batch_goes_to_the_bank_once_and_is_paid_when_confirmed() {
    let r = rail().await;
    let mut people = Vec::new();
    for (n, name) in ["Алесь Бяляцкі", "Марыя Калеснікава", "Person Three"].iter().enumerate()
    {
        let new = new(json!({ "name": name, "contact": "", "note": "",
            "method": { "kind": "sepa", "iban": de_iban(u64::try_from(n).unwrap() + 1) } }));
        people.push(beneficiaries::create(&r.db.pool, &r.key, r.campaign.id, &new).await.unwrap().id);
    }
    let items: Vec<NewItem> =
        people.iter().map(|p| NewItem { beneficiary: *p, amount: "1000".into() }).collect();
    confirm_all(&r.db.pool, r.campaign.id, r.treasurers[1]).await;
    let batch = batches::create(&r.db.pool, r.campaign.id, r.treasurers[0], &items).await.unwrap();
    batches::approve(&r.db.pool, batch.id, r.treasurers[1], &batch.content_hash).await.unwrap().unwrap();
    assert_eq!(
        batches::approve(&r.db.pool, batch.id, r.treasurers[2], &batch.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );
    let date = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let who = r.treasurers[0];

    // paused: no file
    switch::pause(&r.db.pool, Some(who), "").await.unwrap();
    assert!(matches!(
        sepa_files::create(&r.db.pool, &r.key, &debtor(true), batch.id, who, date).await,
        Err(Error::Paused)
    ));
    switch::resume(&r.db.pool, r.treasurers[1]).await.unwrap();
    switch::resume(&r.db.pool, r.treasurers[2]).await.unwrap();

    let made = sepa_files::create(&r.db.pool, &r.key, &debtor(true), batch.id, who, date).await.unwrap();
    assert_eq!((made.transactions, made.control_sum.to_string().as_str()), (3, "3000.00"));
    for item in &batch.items {
        assert_eq!(treasury::get(&r.db.pool, item.payout).await.unwrap().status, PayoutStatus::Sent);
    }
    // the same payouts never go into a second file
    assert!(matches!(
        sepa_files::create(&r.db.pool, &r.key, &debtor(true), batch.id, who, date).await,
        Err(Error::WrongState(_))
    ));

    let xml = sepa_files::document(&r.db.pool, &r.key, made.id, &debtor(true), &zbor_audit::Actor::CLI)
        .await
        .unwrap();
    // names and IBANs left zbor: the download is in the audit log
    let downloads: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'sepa_file.download' and actor = 'cli'",
    )
    .fetch_one(&r.db.pool)
    .await
    .unwrap();
    assert_eq!(downloads, 1);
    let texts = parse(&xml);
    assert_eq!(texts.values("GrpHdr/MsgId"), [made.message_id.as_str()]);
    assert_eq!(texts.values("GrpHdr/CtrlSum"), ["3000.00"]);
    assert_eq!(texts.values("Cdtr/Nm"), ["Ales Bialiatski", "Maryia Kalesnikava", "Person Three"]);
    assert_eq!(texts.values("CdtrAcct/Id/IBAN"), [de_iban(1), de_iban(2), de_iban(3)]);
    // nothing on the statement says what the money is for
    assert!(texts.values("RmtInf/Ustrd").iter().all(|u| u.starts_with("Payment ZBOR-P")));
    assert!(!xml.contains("political") && !xml.contains("Released"));

    // the bank returned the third; the rest of the file is confirmed and paid
    let third = batch.items[2].payout;
    treasury::mark_returned(&r.db.pool, third, who, "AC04 closed account").await.unwrap();
    assert_eq!(sepa_files::confirm(&r.db.pool, made.id, who).await.unwrap(), 2);
    assert!(matches!(sepa_files::confirm(&r.db.pool, made.id, who).await, Err(Error::WrongState(_))));
    let mut conn = r.db.pool.acquire().await.unwrap();
    let balance = zbor_ledger::balance(&mut conn, r.campaign.ledger_account).await.unwrap();
    drop(conn);
    assert_eq!((balance.posted, balance.available), (eur("3000"), eur("2000")), "2 paid, 1 still held");

    // retried, the returned payout goes into a new file alone; the first file reads the same
    treasury::retry(&r.db.pool, third, who).await.unwrap();
    let second = sepa_files::create(&r.db.pool, &r.key, &debtor(true), batch.id, who, date).await.unwrap();
    assert_eq!(second.transactions, 1);
    assert_ne!(second.message_id, made.message_id);
    assert_eq!(
        sepa_files::document(&r.db.pool, &r.key, made.id, &debtor(true), &zbor_audit::Actor::CLI)
            .await
            .unwrap(),
        xml
    );
    let texts = parse(
        &sepa_files::document(&r.db.pool, &r.key, second.id, &debtor(true), &zbor_audit::Actor::CLI)
            .await
            .unwrap(),
    );
    assert_eq!(texts.values("Cdtr/Nm"), ["Person Three"]);
    assert_eq!(sepa_files::confirm(&r.db.pool, second.id, who).await.unwrap(), 1);
    let b = batches::batch(&r.db.pool, batch.id).await.unwrap();
    assert_eq!(b.counts.get("paid"), Some(&3));
    assert!(zbor_ledger::verify(&r.db.pool).await.unwrap().is_ok());
    r.db.drop_database().await;
}

#[tokio::test]
async fn a_file_the_bank_would_refuse_is_not_made_and_its_payouts_stay_approved() {
    let r = rail().await;
    let outside = new(json!({ "name": "Person in Minsk", "contact": "", "note": "",
        "method": { "kind": "sepa", "iban": "BY13NBRB3600900000002Z00AB00" } }));
    let person = beneficiaries::create(&r.db.pool, &r.key, r.campaign.id, &outside).await.unwrap().id;
    let items = vec![NewItem { beneficiary: person, amount: "1000".into() }];
    confirm_all(&r.db.pool, r.campaign.id, r.treasurers[1]).await;
    let batch = batches::create(&r.db.pool, r.campaign.id, r.treasurers[0], &items).await.unwrap();
    batches::approve(&r.db.pool, batch.id, r.treasurers[1], &batch.content_hash).await.unwrap().unwrap();
    batches::approve(&r.db.pool, batch.id, r.treasurers[2], &batch.content_hash).await.unwrap().unwrap();
    let date = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let refused =
        sepa_files::create(&r.db.pool, &r.key, &debtor(true), batch.id, r.treasurers[0], date).await;
    match refused {
        Err(Error::InvalidField { field, reason }) => {
            assert_eq!(field, "creditor_iban", "{reason}");
            assert!(!reason.contains("BY13"), "no IBAN in the error: {reason}");
        }
        other => panic!("expected the file to be refused, got {other:?}"),
    }
    let payout = batch.items[0].payout;
    assert_eq!(treasury::get(&r.db.pool, payout).await.unwrap().status, PayoutStatus::Approved);
    let files: i64 =
        sqlx::query_scalar("select count(*) from payout_sepa_files").fetch_one(&r.db.pool).await.unwrap();
    assert_eq!(files, 0);
    // the treasurer pays that person another way: cancel, and the funds are free again
    treasury::cancel(&r.db.pool, payout, r.treasurers[0]).await.unwrap();
    r.db.drop_database().await;
}
