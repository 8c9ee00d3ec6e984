//! Bank statements confirm SEPA payouts: a day's camt.053 with 122 executed payouts (one batch
//! booking) and a return, a Stripe payout arriving, a stranger's debit; then the same statement
//! again, the same debits in a camt.054, a return after payment, and a wrong amount.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../payouts/tests/common/mod.rs"]
mod common;

use std::str::FromStr;

use chrono::NaiveDate;
use common::{de_iban, eur, funded_campaign, new, treasurers};
use rust_decimal::Decimal;
use serde_json::json;
use zbor_audit::Actor;
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_payouts::sepa::Debtor;
use zbor_payouts::treasury::{self, PayoutStatus};
use zbor_payouts::{beneficiaries, PayoutId};
use zbor_reconcile::bank::{self, LineOutcome};
use zbor_reconcile::camt::testing::{camt053, camt054, TestEntry, TestTransaction};
use zbor_reconcile::camt::Direction;
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

const ORG_IBAN: &str = "DE89370400440532013000";

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn money(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn debit_batch(payouts: &[PayoutId], amount: &str, on: NaiveDate, reference: &str) -> TestEntry {
    let each = money(amount);
    TestEntry {
        amount: each * Decimal::from(payouts.len()),
        currency: "EUR".into(),
        direction: Direction::Debit,
        reversal: false,
        booking_date: on,
        servicer_reference: reference.into(),
        transactions: payouts
            .iter()
            .map(|p| TestTransaction {
                end_to_end_id: Some(format!("ZBOR-P{p}")),
                amount: each,
                return_reason: None,
                remittance: Some(format!("Payment ZBOR-P{p}")),
            })
            .collect(),
    }
}

fn one(
    direction: Direction,
    e2e: Option<String>,
    amount: &str,
    reason: Option<&str>,
    on: NaiveDate,
    r: &str,
) -> TestEntry {
    TestEntry {
        amount: money(amount),
        currency: "EUR".into(),
        direction,
        reversal: false,
        booking_date: on,
        servicer_reference: r.into(),
        transactions: vec![TestTransaction {
            end_to_end_id: e2e,
            amount: money(amount),
            return_reason: reason.map(str::to_owned),
            remittance: Some("Rent November, Ales Bialiatski".into()),
        }],
    }
}

async fn campaign_balance(db: &TestDb) -> zbor_ledger::Balance {
    let mut conn = db.pool.acquire().await.unwrap();
    let account = zbor_ledger::account_by_code(&mut *conn, "campaign:release-123").await.unwrap();
    zbor_ledger::balance(&mut conn, account.id).await.unwrap()
}

async fn status(db: &TestDb, payout: PayoutId) -> (PayoutStatus, Option<String>) {
    let p = treasury::get(&db.pool, payout).await.unwrap();
    (p.status, p.last_error_code)
}

#[tokio::test]
async fn a_statement_confirms_122_sepa_payouts_fails_a_returned_one_and_changes_nothing_twice() {
    let db = TestDb::new(8).await;
    let key = DataKey::generate();
    let campaign = funded_campaign(&db, "release-123", "130000").await;
    let people = treasurers(&db, &key, &["a@example.org", "b@example.org", "c@example.org"]).await;
    let mut items = Vec::new();
    for n in 1..=123u64 {
        let b = new(json!({ "name": format!("Person {n}"), "contact": "", "note": "",
                            "method": {"kind": "sepa", "iban": de_iban(n)} }));
        let id = beneficiaries::create(&db.pool, &key, campaign.id, &b).await.unwrap().id;
        items.push(NewItem { beneficiary: id, amount: "1000".into() });
    }
    common::confirm_all(&db.pool, campaign.id, people[1]).await;
    let batch = batches::create(&db.pool, campaign.id, people[0], &items).await.unwrap();
    batches::approve(&db.pool, batch.id, people[1], &batch.content_hash).await.unwrap().unwrap();
    assert_eq!(
        batches::approve(&db.pool, batch.id, people[2], &batch.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );
    let debtor = Debtor {
        name: "Civic Fund e.V.".into(),
        iban: zbor_payouts::iban::Iban::parse(ORG_IBAN).unwrap(),
        bic: None,
    };
    zbor_payouts::sepa_files::create(&db.pool, &key, &debtor, batch.id, people[0], day(27)).await.unwrap();
    let payouts: Vec<PayoutId> = batch.items.iter().map(|i| i.payout).collect();
    for p in &payouts {
        assert_eq!(status(&db, *p).await.0, PayoutStatus::Sent);
    }
    assert_eq!(campaign_balance(&db).await.available, eur("7000"), "123,000 held");

    // A Stripe payout to the bank, booked from its webhook, arrives the same day.
    let events = zbor_stripe::events::Dispatcher::new(zbor_stripe::events::Context::default());
    let events = zbor_reconcile::stripe_payouts::register(events);
    let paid = json!({ "id": "evt_payout_paid_1", "type": "payout.paid", "created": 1_795_000_000,
        "data": { "object": { "id": "po_1Stripe", "object": "payout", "amount": 432_155, "currency": "eur",
                              "arrival_date": day(28).and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp(),
                              "status": "paid" } } });
    events.receive(&db.pool, paid.to_string().as_bytes()).await.unwrap();

    // The day's statement: the first 122 executed in one batch booking, the last returned (AC04),
    // Stripe's payout credited, a stranger's debit, and a debit of one of ours for a wrong amount.
    let (executed, returned) = payouts.split_at(122);
    let returned = returned[0];
    let statement = camt053(
        "STMT-2026-11-28",
        ORG_IBAN,
        "EUR",
        money("200000.00"),
        &[
            debit_batch(executed, "1000.00", day(28), "BATCH-1"),
            one(
                Direction::Credit,
                Some(format!("ZBOR-P{returned}")),
                "1000.00",
                Some("AC04"),
                day(28),
                "RTN-1",
            ),
            one(Direction::Credit, None, "4321.55", None, day(28), "STRIPE-1"),
            one(Direction::Debit, Some("RENT-NOV".into()), "850.00", None, day(28), "RENT-1"),
        ],
    );
    assert!(!statement.is_empty());
    let first =
        bank::import(&db.pool, statement.as_bytes(), &Actor::user(people[0]), Some(ORG_IBAN)).await.unwrap();
    assert!(!first.already_imported);
    assert_eq!(
        (first.paid, first.returned, first.stripe_payouts, first.unmatched),
        (122, 1, 1, 1),
        "{first:#?}"
    );
    for p in executed {
        assert_eq!(status(&db, *p).await.0, PayoutStatus::Paid, "payout {p}");
    }
    assert_eq!(status(&db, returned).await, (PayoutStatus::Failed, Some("AC04".into())));
    let balance = campaign_balance(&db).await;
    assert_eq!(balance.posted, eur("8000"), "130,000 − 122 × 1,000 paid");
    assert_eq!(balance.available, eur("7000"), "the returned payout stays held for a retry");
    let unmatched = first.lines.iter().find(|l| l.outcome == LineOutcome::Unmatched).unwrap();
    assert_eq!((unmatched.amount, unmatched.direction.as_str()), (money("850.00"), "debit"));
    assert!(unmatched.reason.as_deref().unwrap().contains("none of zbor's payouts"));
    let stripe_line = first.lines.iter().find(|l| l.outcome == LineOutcome::StripePayout).unwrap();
    assert_eq!(stripe_line.stripe_payout.as_deref(), Some("po_1Stripe"));
    // nothing of a stranger's line is kept but amount, date and the bank's reference
    let kept: Vec<(Option<String>,)> =
        sqlx::query_as("select end_to_end_id from bank_statement_lines where outcome = 'unmatched'")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(kept, vec![(None,)]);
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'payout.bank_executed' and actor = $1",
    )
    .bind(people[0].to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(audited, 122);

    // The same file again, and the same message re-indented: nothing changes.
    let audit_before: i64 =
        sqlx::query_scalar("select count(*) from audit_log").fetch_one(&db.pool).await.unwrap();
    let again = bank::import(&db.pool, statement.as_bytes(), &Actor::CLI, Some(ORG_IBAN)).await.unwrap();
    assert!(again.already_imported);
    assert_eq!((again.statement, again.paid, again.unmatched), (first.statement, 122, 1));
    let reformatted = statement.replace("\n  ", "\n    ");
    assert_ne!(reformatted, statement);
    assert!(
        bank::import(&db.pool, reformatted.as_bytes(), &Actor::CLI, Some(ORG_IBAN))
            .await
            .unwrap()
            .already_imported
    );
    let audit_after: i64 =
        sqlx::query_scalar("select count(*) from audit_log").fetch_one(&db.pool).await.unwrap();
    assert_eq!(audit_before, audit_after);
    assert_eq!(campaign_balance(&db).await.posted, eur("8000"));

    // A debit notification (camt.054) of the same payouts: already recorded, nothing twice.
    let notification =
        camt054("NTFCN-1", ORG_IBAN, &[debit_batch(&executed[..10], "1000.00", day(28), "BATCH-1")]);
    let notified =
        bank::import(&db.pool, notification.as_bytes(), &Actor::CLI, Some(ORG_IBAN)).await.unwrap();
    assert_eq!((notified.already_recorded, notified.paid, notified.unmatched), (10, 0, 0));
    assert_eq!(campaign_balance(&db).await.posted, eur("8000"));

    // Days later the bank returns a paid one (MD07, beneficiary deceased): its money is the
    // campaign's again, once; and a line for one of ours with a wrong amount changes nothing.
    let late = camt054(
        "NTFCN-2",
        ORG_IBAN,
        &[
            one(
                Direction::Credit,
                Some(format!("ZBOR-P{}", executed[0])),
                "1000.00",
                Some("MD07"),
                day(30),
                "RTN-2",
            ),
            one(
                Direction::Credit,
                Some(format!("ZBOR-P{}", executed[1])),
                "999.00",
                Some("AC04"),
                day(30),
                "RTN-3",
            ),
        ],
    );
    let later = bank::import(&db.pool, late.as_bytes(), &Actor::CLI, Some(ORG_IBAN)).await.unwrap();
    assert_eq!((later.returned, later.unmatched), (1, 1), "{later:#?}");
    assert!(later.lines[1].reason.as_deref().unwrap().contains("approved for"), "{:?}", later.lines[1]);
    assert_eq!(status(&db, executed[0]).await, (PayoutStatus::Reversed, Some("MD07".into())));
    assert_eq!(status(&db, executed[1]).await.0, PayoutStatus::Paid);
    assert_eq!(campaign_balance(&db).await.posted, eur("9000"), "1,000 back on the campaign");
    let replayed = camt054(
        "NTFCN-3",
        ORG_IBAN,
        &[one(
            Direction::Credit,
            Some(format!("ZBOR-P{}", executed[0])),
            "1000.00",
            Some("MD07"),
            day(30),
            "RTN-2",
        )],
    );
    assert_eq!(
        bank::import(&db.pool, replayed.as_bytes(), &Actor::CLI, Some(ORG_IBAN))
            .await
            .unwrap()
            .already_recorded,
        1
    );
    assert_eq!(campaign_balance(&db).await.posted, eur("9000"), "returned once");
    let cli_entries: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'payout.bank_returned' and actor = 'cli'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(cli_entries, 1);

    // The ledger is whole.
    let report = zbor_ledger::verify(&db.pool).await.unwrap();
    assert!(report.first_problem.is_none(), "{:?}", report.first_problem);
    db.drop_database().await;
}

#[tokio::test]
async fn a_statement_unreadable_or_of_another_account_imports_nothing_and_says_why_without_quoting_it() {
    let db = TestDb::new(2).await;
    let broken = camt053(
        "STMT-X",
        ORG_IBAN,
        "EUR",
        money("10.00"),
        &[one(Direction::Debit, Some("ZBOR-P1".into()), "5.00", None, day(28), "R")],
    )
    .replace("<CdtDbtInd>DBIT</CdtDbtInd>", "<CdtDbtInd>Ales Bialiatski</CdtDbtInd>");
    let err = bank::import(&db.pool, broken.as_bytes(), &Actor::CLI, Some(ORG_IBAN)).await.unwrap_err();
    assert!(matches!(err, zbor_reconcile::Error::Statement(_)), "{err:?}");
    assert!(!err.to_string().contains("Bialiatski"), "{err}");
    let stored: i64 =
        sqlx::query_scalar("select count(*) from bank_statements").fetch_one(&db.pool).await.unwrap();
    assert_eq!(stored, 0);
    // A readable statement of another account confirms nothing.
    let other = camt053("STMT-Y", "DE02120300000000202051", "EUR", money("10.00"), &[]);
    let err = bank::import(&db.pool, other.as_bytes(), &Actor::CLI, Some(ORG_IBAN)).await.unwrap_err();
    assert!(matches!(err, zbor_reconcile::Error::InvalidField { field: "statement", .. }), "{err:?}");
    let stored: i64 =
        sqlx::query_scalar("select count(*) from bank_statements").fetch_one(&db.pool).await.unwrap();
    assert_eq!(stored, 0);
    db.drop_database().await;
}
