#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Exports against a real PostgreSQL, with donations booked through the real webhook handlers:
//! periods are half-open (an instant on the boundary is in exactly one), files stream in pages
//! and read back with another CSV reader, every export is audited, donors appear only when
//! revealed and only those who chose to be named.

mod common;

use common::intake::{event, receive_with, release_123, session, to_campaign};
use serde_json::json;
use sqlx::PgPool;
use zbor_audit::Actor;
use zbor_reports::exports::PAGE_ROWS;
use zbor_reports::{Error, Export, ExportKind, ExportSlots, Exporter, Period};
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

async fn export_all(pool: &PgPool, export: &Export, key: Option<&DataKey>) -> (String, usize) {
    let mut exporter = Exporter::start(pool, &ExportSlots::new(1), export, key, &Actor::CLI).await.unwrap();
    let (mut text, mut chunks) = (String::new(), 0);
    while let Some(chunk) = exporter.next_chunk().await.unwrap() {
        text.push_str(&chunk);
        chunks += 1;
    }
    assert_eq!(exporter.next_chunk().await.unwrap(), None, "it stays finished");
    (text, chunks)
}

fn records(text: &str) -> Vec<csv::StringRecord> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    reader.records().map(Result::unwrap).collect()
}

fn donations(from: &str, to: &str) -> Export {
    Export {
        kind: ExportKind::Donations,
        period: Period::parse(from, to).unwrap(),
        campaign: None,
        reveal_donors: false,
    }
}

async fn book(pool: &PgPool, key: &DataKey, session_id: &str, cents: i64, metadata: serde_json::Value) {
    let object = session(session_id, cents, "eur", "paid", metadata);
    let body =
        event(&format!("evt_{}", session_id.trim_start_matches("cs_")), "checkout.session.completed", object);
    receive_with(pool, &body, Some(key)).await.unwrap();
}

#[tokio::test]
async fn a_donation_on_the_boundary_instant_lands_in_exactly_one_period() {
    let db = TestDb::new(4).await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    release_123(&db).await;
    for (session_id, paid_at) in [
        ("cs_test_first", "2026-12-01T00:00:00Z"),
        ("cs_test_last", "2026-12-31T23:59:59.999999Z"),
        ("cs_test_new_year", "2027-01-01T00:00:00Z"),
    ] {
        book(&db.pool, &key, session_id, 2_500, to_campaign("release-123")).await;
        // the booking happened now; its date is set to the instant under test
        sqlx::query("update donations set paid_at = $2::timestamptz where stripe_session_id = $1")
            .bind(session_id)
            .bind(paid_at)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    let (december, _) = export_all(&db.pool, &donations("2026-12-01", "2027-01-01"), None).await;
    let (january, _) = export_all(&db.pool, &donations("2027-01-01", "2027-02-01"), None).await;
    let (november, _) = export_all(&db.pool, &donations("2026-11-01", "2026-12-01"), None).await;
    let dates = |text: &str| records(text).iter().map(|r| r[0].to_owned()).collect::<Vec<_>>();
    assert_eq!(dates(&december), ["2026-12-01T00:00:00.000000Z", "2026-12-31T23:59:59.999999Z"]);
    assert_eq!(dates(&january), ["2027-01-01T00:00:00.000000Z"]);
    assert!(dates(&november).is_empty());
    assert_eq!(
        november, "date,campaign,amount,fee,refunded,disputed,net,currency,status,method,stripe_payment\r\n",
        "an empty period is a header alone"
    );
    db.drop_database().await;
}

#[tokio::test]
async fn a_large_export_streams_page_by_page_in_order_and_reads_back() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    // pending SEPA debits (no ledger booking yet) are the quickest rows to make in bulk
    let rows: i64 = PAGE_ROWS * 2 + 500;
    sqlx::query(
        "insert into donations (stripe_session_id, campaign_id, currency, amount, status, stripe_payment_intent, created_at)
         select 'cs_test_bulk_' || lpad(n::text, 6, '0'), $1, 'EUR', (n % 100 + 1)::numeric + 0.5, 'pending',
                'pi_test_bulk_' || n, '2026-12-02T00:00:00Z'::timestamptz + make_interval(secs => n)
         from generate_series(1, $2) as n",
    )
    .bind(campaign.id)
    .bind(rows)
    .execute(&db.pool)
    .await
    .unwrap();
    let (text, chunks) = export_all(&db.pool, &donations("2026-12-01", "2027-01-01"), None).await;
    // the header, then three pages of at most PAGE_ROWS
    assert_eq!(chunks, 4);
    let read = records(&text);
    assert_eq!(i64::try_from(read.len()).unwrap(), rows);
    let dates: Vec<&str> = read.iter().map(|r| r.get(0).unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] < w[1]), "ordered by date");
    let first = &read[0];
    assert_eq!(
        first.iter().collect::<Vec<_>>(),
        [
            "2026-12-02T00:00:01.000000Z",
            "release-123",
            "2.50",
            "0.00",
            "0.00",
            "0.00",
            "0.00",
            "EUR",
            "pending",
            "",
            "pi_test_bulk_1"
        ]
    );
    // amounts at the currency's scale, a dot, no thousands separator, exactly what was stored
    let total: rust_decimal::Decimal =
        read.iter().map(|r| r[2].parse::<rust_decimal::Decimal>().unwrap()).sum();
    let stored: rust_decimal::Decimal =
        sqlx::query_scalar("select sum(amount) from donations").fetch_one(&db.pool).await.unwrap();
    assert_eq!(total, stored);
    assert!(text.ends_with("\r\n") && !text.contains("\n\n"));
    db.drop_database().await;
}

#[tokio::test]
async fn every_export_is_audited_and_refusals_change_nothing() {
    let db = TestDb::new(4).await;
    release_123(&db).await;
    let audited = |db: &TestDb| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_as::<_, (String, Option<String>, serde_json::Value)>(
                "select action, subject, details from audit_log where action like 'export.%' order by seq",
            )
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    for kind in ExportKind::ALL {
        let export = Export {
            kind,
            period: Period::parse("2026-12-01", "2027-01-01").unwrap(),
            campaign: Some("release-123".into()),
            reveal_donors: false,
        };
        let (text, _) = export_all(&db.pool, &export, None).await;
        assert_eq!(text, zbor_reports::csv::header(&kind.columns(false)));
        assert_eq!(export.filename(), format!("{}-release-123-2026-12-01--2027-01-01.csv", kind.name()));
    }
    let entries = audited(&db).await;
    assert_eq!(
        entries.iter().map(|(action, _, _)| action.as_str()).collect::<Vec<_>>(),
        ["export.donations", "export.refunds", "export.disputes", "export.payouts"]
    );
    for (_, subject, details) in &entries {
        assert_eq!(subject.as_deref(), Some("campaign:release-123"));
        assert_eq!(details, &json!({"from": "2026-12-01", "to": "2027-01-01", "reveal_donors": false}));
    }

    // refused: nothing audited, nothing read
    let mut unknown = donations("2026-12-01", "2027-01-01");
    unknown.campaign = Some("no-such-campaign".into());
    let refused =
        Exporter::start(&db.pool, &ExportSlots::new(1), &unknown, None, &Actor::CLI).await.err().unwrap();
    assert!(matches!(refused, Error::UnknownCampaign(_)), "{refused}");
    let mut not_a_slug = unknown.clone();
    not_a_slug.campaign = Some("=HYPERLINK(\"x\")".into());
    assert!(matches!(
        Exporter::start(&db.pool, &ExportSlots::new(1), &not_a_slug, None, &Actor::CLI).await.err().unwrap(),
        Error::UnknownCampaign(_)
    ));
    let mut reveal_without_key = donations("2026-12-01", "2027-01-01");
    reveal_without_key.reveal_donors = true;
    assert!(matches!(
        Exporter::start(&db.pool, &ExportSlots::new(1), &reveal_without_key, None, &Actor::CLI)
            .await
            .err()
            .unwrap(),
        Error::NoDataKey
    ));
    let mut reveal_payouts = reveal_without_key.clone();
    reveal_payouts.kind = ExportKind::Payouts;
    let key = DataKey::parse(DATA_KEY).unwrap();
    assert!(matches!(
        Exporter::start(&db.pool, &ExportSlots::new(1), &reveal_payouts, Some(&key), &Actor::CLI)
            .await
            .err()
            .unwrap(),
        Error::InvalidRequest(_)
    ));
    assert_eq!(audited(&db).await.len(), 4);
    db.drop_database().await;
}

#[tokio::test]
async fn donors_appear_only_when_revealed_and_only_those_who_chose_to_be_named() {
    let db = TestDb::new(4).await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    release_123(&db).await;
    let named = json!({ "zbor_campaign": "release-123", "zbor_anonymous": "false" });
    let anonymous = json!({ "zbor_campaign": "release-123", "zbor_anonymous": "true" });
    book(&db.pool, &key, "cs_test_named", 5_000, named).await;
    book(&db.pool, &key, "cs_test_anonymous", 7_000, anonymous).await;
    // the fixture's customer is "Jane Donor" <donor@example.com> on both sessions
    let today = chrono::Utc::now().date_naive();
    let period = Period::new(today, today + chrono::Duration::days(1)).unwrap();
    let hidden = Export { kind: ExportKind::Donations, period, campaign: None, reveal_donors: false };
    let (text, _) = export_all(&db.pool, &hidden, Some(&key)).await;
    assert!(!text.contains("Jane") && !text.contains("donor@"), "{text}");
    assert_eq!(records(&text).len(), 2);

    let revealed = Export { reveal_donors: true, ..hidden };
    let (text, _) = export_all(&db.pool, &revealed, Some(&key)).await;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header[header.len() - 2..], ["donor_name", "donor_email"]);
    let rows: Vec<(String, String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[2].to_owned(), r[r.len() - 2].to_owned(), r[r.len() - 1].to_owned())
        })
        .collect();
    let mut rows = rows;
    rows.sort();
    assert_eq!(
        rows,
        [
            ("50.00".to_owned(), "Jane Donor".to_owned(), "donor@example.com".to_owned()),
            ("70.00".to_owned(), String::new(), String::new()),
        ]
    );
    let reveals: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'export.donations' and details->>'reveal_donors' = 'true'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(reveals, 1);
    // a donor's identity is never copied into the audit log
    let leaked: i64 = sqlx::query_scalar("select count(*) from audit_log where details::text like '%Jane%'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(leaked, 0);
    db.drop_database().await;
}

#[tokio::test]
async fn exports_beyond_the_slots_are_refused_until_one_ends_and_not_audited() {
    let db = TestDb::new(4).await;
    release_123(&db).await;
    let slots = ExportSlots::new(2);
    let export = donations("2026-12-01", "2027-01-01");
    let first = Exporter::start(&db.pool, &slots, &export, None, &Actor::CLI).await.unwrap();
    let mut second = Exporter::start(&db.pool, &slots, &export, None, &Actor::CLI).await.unwrap();
    assert_eq!(slots.running(), 2);
    let busy = Exporter::start(&db.pool, &slots, &export, None, &Actor::CLI).await.err().unwrap();
    assert!(matches!(busy, Error::Busy(2)), "{busy}");
    assert_eq!(zbor_errors::Classified::code(&busy), "exports_busy");
    // a slot is free again when an export is dropped, finished or not (a client gone away)
    drop(first);
    assert_eq!(slots.running(), 1);
    while second.next_chunk().await.unwrap().is_some() {}
    assert_eq!(slots.running(), 1, "a finished export keeps its slot until it is dropped");
    drop(second);
    let third = Exporter::start(&db.pool, &slots, &export, None, &Actor::CLI).await.unwrap();
    assert_eq!(slots.running(), 1);
    drop(third);
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action = 'export.donations'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(audited, 3, "the refused one left no entry");
    db.drop_database().await;
}
