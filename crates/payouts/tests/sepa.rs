#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! SEPA payouts: the pain.001.001.09 file (EPC rules, read back with an XML parser), and the rail
//! against the real PostgreSQL: a file moves a batch's SEPA payouts to `sent` once, downloads are
//! identical, confirming pays them (holds posted), a returned payout goes into a later file.

mod common;

use chrono::{NaiveDate, TimeZone, Utc};
use common::*;
use quick_xml::events::Event;
use serde_json::json;
use zbor_intake::campaigns::{self, NewCampaign};
use zbor_ledger::{Currency, Money, NewTransaction, TransactionId};
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_payouts::iban::{Bic, Iban};
use zbor_payouts::sepa::{self, CreditTransfer, Debtor, PaymentFile};
use zbor_payouts::treasury::{self, PayoutStatus};
use zbor_payouts::{beneficiaries, sepa_files, switch, Error};
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

fn eur(amount: &str) -> Money {
    Money::parse(amount, Currency::parse("EUR").unwrap()).unwrap()
}

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

/// Every element's text, by its path (`Document/CstmrCdtTrfInitn/GrpHdr/MsgId`), in order; and
/// the root's namespace. Fails on XML that is not well-formed.
fn parse(xml: &str) -> (Vec<(String, String)>, String) {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut path: Vec<String> = Vec::new();
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut namespace = String::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if name == "Document" {
                    let ns = e.try_get_attribute("xmlns").unwrap().unwrap();
                    namespace = String::from_utf8(ns.value.to_vec()).unwrap();
                }
                path.push(name);
                texts.push((path.join("/"), String::new()));
            }
            Event::Text(t) => {
                let raw = t.decode().unwrap().into_owned();
                texts.last_mut().unwrap().1.push_str(&quick_xml::escape::unescape(&raw).unwrap());
            }
            Event::GeneralRef(r) => {
                let entity = format!("&{};", String::from_utf8(r.as_ref().to_vec()).unwrap());
                texts.last_mut().unwrap().1.push_str(&quick_xml::escape::unescape(&entity).unwrap());
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(path.is_empty(), "every element closed");
    (texts, namespace)
}

fn values<'a>(texts: &'a [(String, String)], suffix: &str) -> Vec<&'a str> {
    texts.iter().filter(|(p, _)| p.ends_with(suffix)).map(|(_, t)| t.as_str()).collect()
}

#[test]
fn a_file_of_123_transfers_states_its_count_and_exact_sum_twice() {
    let transfers = (0..123).map(|n| transfer(n, "1000", "Released person")).collect();
    let xml = sepa::pain_001_001_09(&file(transfers)).unwrap();
    let (texts, namespace) = parse(&xml);
    assert_eq!(namespace, "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09");
    assert_eq!(values(&texts, "GrpHdr/NbOfTxs"), ["123"]);
    assert_eq!(values(&texts, "GrpHdr/CtrlSum"), ["123000.00"]);
    assert_eq!(values(&texts, "PmtInf/NbOfTxs"), ["123"]);
    assert_eq!(values(&texts, "PmtInf/CtrlSum"), ["123000.00"]);
    assert_eq!(values(&texts, "GrpHdr/CreDtTm"), ["2026-11-22T10:30:00"]);
    assert_eq!(values(&texts, "ReqdExctnDt/Dt"), ["2026-11-23"]);
    assert_eq!(values(&texts, "SvcLvl/Cd"), ["SEPA"]);
    assert_eq!(values(&texts, "PmtInf/ChrgBr"), ["SLEV"]);
    assert_eq!(values(&texts, "DbtrAgt/FinInstnId/BICFI"), ["COBADEFFXXX"]);
    assert_eq!(values(&texts, "CdtTrfTxInf/Amt/InstdAmt").len(), 123);
    assert!(values(&texts, "InstdAmt").iter().all(|a| *a == "1000.00"));
    assert_eq!(values(&texts, "CdtTrfTxInf/PmtId/EndToEndId")[122], "ZBOR-P122");
    assert!(xml.contains("<InstdAmt Ccy=\"EUR\">1000.00</InstdAmt>"));
    // no creditor BIC known: no creditor agent at all
    assert!(values(&texts, "CdtrAgt/FinInstnId/BICFI").is_empty());
    // the same input, the same bytes
    let again =
        sepa::pain_001_001_09(&file((0..123).map(|n| transfer(n, "1000", "Released person")).collect()));
    assert_eq!(again.unwrap(), xml);
}

#[test]
fn mixed_amounts_sum_exactly_and_keep_two_decimals() {
    let xml = sepa::pain_001_001_09(&file(vec![
        transfer(0, "0.01", "A"),
        transfer(1, "999.99", "B"),
        transfer(2, "12.3", "C"),
    ]))
    .unwrap();
    let (texts, _) = parse(&xml);
    assert_eq!(values(&texts, "GrpHdr/CtrlSum"), ["1012.30"]);
    assert_eq!(values(&texts, "InstdAmt"), ["0.01", "999.99", "12.30"]);
}

#[test]
fn names_are_transliterated_cut_and_escaped_for_the_bank() {
    assert_eq!(sepa::to_epc_text("Алесь Бяляцкі", 70), "Ales Bialiatski");
    assert_eq!(sepa::to_epc_text("Марыя Калеснікава", 70), "Maryia Kalesnikava");
    assert_eq!(sepa::to_epc_text("Ўладзімір Хоміч", 70), "Uladzimir Khomich");
    assert_eq!(sepa::to_epc_text("Łukasz Żółć-Gęślą", 70), "Lukasz Zolc-Gesla");
    assert_eq!(sepa::to_epc_text("Straße  & <Söhne>", 70), "Strasse Sohne");
    let long = "Abcdefghij ".repeat(10);
    let mut transfers = vec![transfer(0, "5", &long), transfer(1, "5", "Seán O'Brien")];
    transfers[0].remittance = "r".repeat(200);
    let mut f = file(transfers);
    f.debtor = debtor(false);
    let xml = sepa::pain_001_001_09(&f).unwrap();
    let (texts, _) = parse(&xml);
    let names = values(&texts, "Cdtr/Nm");
    assert_eq!(names[0].chars().count(), 70);
    assert!(long.starts_with(names[0]));
    assert_eq!(names[1], "Sean O'Brien", "the apostrophe is escaped and reads back");
    assert!(xml.contains("O&apos;Brien"));
    assert_eq!(values(&texts, "RmtInf/Ustrd")[0].len(), 140);
    assert_eq!(values(&texts, "DbtrAgt/FinInstnId/Othr/Id"), ["NOTPROVIDED"]);
    let mut with_bic = transfer(2, "1", "X");
    with_bic.creditor_bic = Some(Bic::parse("COBADEFFXXX").unwrap());
    let (texts, _) = parse(&sepa::pain_001_001_09(&file(vec![with_bic])).unwrap());
    assert_eq!(values(&texts, "CdtrAgt/FinInstnId/BICFI"), ["COBADEFFXXX"]);
}

fn refused(f: &PaymentFile, field: &str) {
    match sepa::pain_001_001_09(f) {
        Err(Error::InvalidField { field: got, reason }) => {
            assert_eq!(got, field, "{reason}");
            assert!(!reason.contains("DE"), "no IBAN in errors: {reason}");
        }
        other => panic!("expected {field} to be refused, got {other:?}"),
    }
}

#[test]
fn files_the_bank_would_reject_are_refused_with_the_field_named() {
    let mut usd = transfer(0, "5", "A");
    usd.amount = Money::parse("5", Currency::parse("USD").unwrap()).unwrap();
    refused(&file(vec![usd]), "amount");
    refused(&file(vec![transfer(0, "0", "A")]), "amount");
    refused(&file(vec![transfer(0, "-1", "A")]), "amount");
    let mut fine = transfer(0, "5", "A");
    fine.amount = Money::new(rust_decimal::Decimal::new(5001, 3), Currency::parse("BHD").unwrap()).unwrap();
    refused(&file(vec![fine]), "amount");
    refused(&file(vec![]), "transfers");
    let mut long_id = file(vec![transfer(0, "5", "A")]);
    long_id.message_id = "A".repeat(36);
    refused(&long_id, "message_id");
    let mut slashes = transfer(0, "5", "A");
    slashes.end_to_end_id = "ZBOR//1".into();
    refused(&file(vec![slashes]), "end_to_end_id");
    refused(&file(vec![transfer(0, "5", "A"), transfer(0, "6", "B")]), "end_to_end_id");
    refused(&file(vec![transfer(0, "5", "我们")]), "creditor name");
}

struct Rail {
    db: TestDb,
    key: DataKey,
    campaign: zbor_intake::campaigns::Campaign,
    treasurers: Vec<i64>,
}

async fn rail() -> Rail {
    let db = TestDb::new(8).await;
    let key = DataKey::generate();
    let campaign = campaigns::create(
        &db.pool,
        &NewCampaign {
            slug: "release".into(),
            title: "Released political prisoners".into(),
            description: String::new(),
            currency: "EUR".into(),
            goal: "10000".into(),
            amount_per_beneficiary: Some("1000".into()),
            suggested_amounts: vec![],
        },
    )
    .await
    .unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    let stripe = zbor_ledger::account_by_code(&mut *conn, "stripe:balance:eur").await.unwrap();
    let tx = NewTransaction::new(TransactionId::derived_from("funds"))
        .debit(stripe.id, eur("5000"))
        .credit(campaign.ledger_account, eur("5000"));
    zbor_ledger::post_in(&mut conn, &tx).await.unwrap();
    drop(conn);
    let mut treasurers = Vec::new();
    for email in ["a@example.org", "b@example.org", "c@example.org"] {
        let user =
            zbor_auth::add_user(&db.pool, &key, email, zbor_auth::Role::Treasurer, "correct horse battery")
                .await
                .unwrap();
        treasurers.push(user.id.as_i64());
    }
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
        people.push(
            beneficiaries::create(&r.db.pool, &r.key, r.campaign.id.as_i64(), &new)
                .await
                .unwrap()
                .id
                .as_i64(),
        );
    }
    let items: Vec<NewItem> =
        people.iter().map(|p| NewItem { beneficiary: *p, amount: "1000".into() }).collect();
    let batch = batches::create(&r.db.pool, r.campaign.id.as_i64(), r.treasurers[0], &items).await.unwrap();
    batches::approve(&r.db.pool, batch.id, r.treasurers[1], &batch.content_hash).await.unwrap().unwrap();
    assert_eq!(
        batches::approve(&r.db.pool, batch.id, r.treasurers[2], &batch.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );
    let date = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let who = r.treasurers[0];

    // paused: no file
    switch::pause(&r.db.pool, Some(who), "").await.unwrap();
    assert!(matches!(sepa_files::create(&r.db.pool, batch.id, who, date).await, Err(Error::Paused)));
    switch::resume(&r.db.pool, r.treasurers[1]).await.unwrap();
    switch::resume(&r.db.pool, r.treasurers[2]).await.unwrap();

    let made = sepa_files::create(&r.db.pool, batch.id, who, date).await.unwrap();
    assert_eq!((made.transactions, made.control_sum.to_string().as_str()), (3, "3000.00"));
    for item in &batch.items {
        assert_eq!(treasury::get(&r.db.pool, item.payout).await.unwrap().status, PayoutStatus::Sent);
    }
    // the same payouts never go into a second file
    assert!(matches!(sepa_files::create(&r.db.pool, batch.id, who, date).await, Err(Error::WrongState(_))));

    let xml = sepa_files::document(&r.db.pool, &r.key, made.id, &debtor(true)).await.unwrap();
    let (texts, _) = parse(&xml);
    assert_eq!(values(&texts, "GrpHdr/MsgId"), [made.message_id.as_str()]);
    assert_eq!(values(&texts, "GrpHdr/CtrlSum"), ["3000.00"]);
    assert_eq!(values(&texts, "Cdtr/Nm"), ["Ales Bialiatski", "Maryia Kalesnikava", "Person Three"]);
    assert_eq!(values(&texts, "CdtrAcct/Id/IBAN"), [de_iban(1), de_iban(2), de_iban(3)]);
    // nothing on the statement says what the money is for
    assert!(values(&texts, "RmtInf/Ustrd").iter().all(|u| u.starts_with("Payment ZBOR-P")));
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
    let second = sepa_files::create(&r.db.pool, batch.id, who, date).await.unwrap();
    assert_eq!(second.transactions, 1);
    assert_ne!(second.message_id, made.message_id);
    assert_eq!(sepa_files::document(&r.db.pool, &r.key, made.id, &debtor(true)).await.unwrap(), xml);
    let (texts, _) =
        parse(&sepa_files::document(&r.db.pool, &r.key, second.id, &debtor(true)).await.unwrap());
    assert_eq!(values(&texts, "Cdtr/Nm"), ["Person Three"]);
    assert_eq!(sepa_files::confirm(&r.db.pool, second.id, who).await.unwrap(), 1);
    let b = batches::batch(&r.db.pool, batch.id).await.unwrap();
    assert_eq!(b.counts.get("paid"), Some(&3));
    assert!(zbor_ledger::verify(&r.db.pool).await.unwrap().is_ok());
    r.db.drop_database().await;
}
