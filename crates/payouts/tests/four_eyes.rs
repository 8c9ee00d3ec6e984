#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Four eyes that cannot be bypassed, tried as an insider would, against the real PostgreSQL:
//! - an approved payout cannot be redirected: the destination change is refused, and a rail that
//!   meets a changed destination anyway (a code path that skipped the check, a row edited in the
//!   database) pays nothing and hands the payout to treasurers;
//! - a destination needs a second treasurer's confirmation before it can be put in a batch;
//! - approvers see whether a destination changed since the last payout.

mod common;

use chrono::NaiveDate;
use common::*;
use serde_json::json;
use zbor_auth::UserId;
use zbor_campaigns::Campaign;
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_payouts::beneficiaries::{self, BeneficiaryId, BeneficiaryUpdate, Confirmation};
use zbor_payouts::iban::Iban;
use zbor_payouts::sepa::Debtor;
use zbor_payouts::treasury::{self, PayoutStatus};
use zbor_payouts::worker::{self, Step};
use zbor_payouts::{sepa_files, Error, PayoutId};
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

struct Setup {
    db: TestDb,
    key: DataKey,
    campaign: Campaign,
    /// three treasurers: [0] creates, [1] and [2] approve
    treasurers: Vec<UserId>,
}

async fn setup() -> Setup {
    let db = TestDb::new(8).await;
    let key = DataKey::generate();
    let campaign = funded_campaign(&db, "release-123", "10000").await;
    let treasurers = treasurers(&db, &key, &["a@example.org", "b@example.org", "c@example.org"]).await;
    Setup { db, key, campaign, treasurers }
}

/// Treasurer 0 adds a beneficiary paid by `method`; treasurer 1 confirms its destination.
async fn confirmed_beneficiary(s: &Setup, method: serde_json::Value) -> BeneficiaryId {
    let new = new(json!({ "name": "Released person", "contact": "", "note": "", "method": method }));
    let mut db = s.db.pool.begin().await.unwrap();
    let created = beneficiaries::create_in(
        &mut db,
        &s.key,
        s.campaign.id,
        &new,
        &zbor_audit::Actor::user(s.treasurers[0]),
    )
    .await
    .unwrap();
    db.commit().await.unwrap();
    beneficiaries::confirm(&s.db.pool, &[Confirmation::from(&created)], s.treasurers[1]).await.unwrap();
    created.id
}

/// Creates (treasurer 0) and releases (treasurers 1 and 2) a batch of EUR 1,000 to `person`;
/// its payout id.
async fn approved_payout(s: &Setup, person: BeneficiaryId) -> PayoutId {
    let items = [NewItem { beneficiary: person, amount: "1000".into() }];
    let batch = batches::create(&s.db.pool, s.campaign.id, s.treasurers[0], &items).await.unwrap();
    batches::approve(&s.db.pool, batch.id, s.treasurers[1], &batch.content_hash).await.unwrap().unwrap();
    assert_eq!(
        batches::approve(&s.db.pool, batch.id, s.treasurers[2], &batch.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );
    batch.items[0].payout
}

fn to_method(method: serde_json::Value) -> BeneficiaryUpdate {
    BeneficiaryUpdate { method: Some(serde_json::from_value(method).unwrap()), ..Default::default() }
}

fn sepa(iban: &str) -> serde_json::Value {
    json!({"kind": "sepa", "iban": iban})
}

const APPROVED_IBAN: &str = "LT121000011101001000";
const ATTACKER_IBAN: &str = "NL91ABNA0417164300";

fn debtor() -> Debtor {
    Debtor { name: "Civic Fund e.V.".into(), iban: Iban::parse("DE89370400440532013000").unwrap(), bic: None }
}

/// A beneficiary row's destination and the seal it opens with.
type SealedIdentity = (String, Vec<u8>, Option<Vec<u8>>, Option<String>, Vec<u8>, uuid::Uuid);

/// What an insider with a code path that skips the application's check would do, or someone
/// editing the row in the database: the guard is switched off and the victim's row is given
/// another destination, sealed properly (it opens and agrees with its own fingerprint).
async fn redirect_behind_the_guard(s: &Setup, person: BeneficiaryId, method: serde_json::Value) {
    let mut db = s.db.pool.begin().await.unwrap();
    // a properly sealed row with the attacker's destination, whose identity the victim takes
    let other = beneficiaries::create_in(
        &mut db,
        &s.key,
        s.campaign.id,
        &new(json!({ "name": "Released person", "contact": "", "note": "", "method": method })),
        &zbor_audit::Actor::CLI,
    )
    .await
    .unwrap();
    let sealed: SealedIdentity = sqlx::query_as(
        "delete from beneficiaries where id = $1
         returning method, sealed, iban_index, masked, payee_fingerprint, record_key",
    )
    .bind(other.id)
    .fetch_one(&mut *db)
    .await
    .unwrap();
    sqlx::query("alter table beneficiaries disable trigger beneficiaries_destination_guard")
        .execute(&mut *db)
        .await
        .unwrap();
    sqlx::query(
        "update beneficiaries set method = $2, sealed = $3, iban_index = $4, masked = $5, payee_fingerprint = $6,
                record_key = $7
         where id = $1",
    )
    .bind(person)
    .bind(sealed.0)
    .bind(sealed.1)
    .bind(sealed.2)
    .bind(sealed.3)
    .bind(sealed.4)
    .bind(sealed.5)
    .execute(&mut *db)
    .await
    .unwrap();
    sqlx::query("alter table beneficiaries enable trigger beneficiaries_destination_guard")
        .execute(&mut *db)
        .await
        .unwrap();
    db.commit().await.unwrap();
}

#[tokio::test]
async fn an_approved_payout_cannot_be_redirected() {
    let s = setup().await;
    let person = confirmed_beneficiary(&s, sepa(APPROVED_IBAN)).await;
    let payout = approved_payout(&s, person).await;

    // the creator alone tries to change the IBAN: refused, naming the payout
    let mut db = s.db.pool.begin().await.unwrap();
    let err = beneficiaries::update_in(
        &mut db,
        &s.key,
        person,
        &to_method(sepa(ATTACKER_IBAN)),
        &zbor_audit::Actor::user(s.treasurers[0]),
    )
    .await
    .unwrap_err();
    drop(db);
    assert!(matches!(&err, Error::DestinationLocked { payouts, .. } if payouts == &vec![payout]), "{err:?}");
    assert!(err.to_string().contains(&payout.to_string()), "{err}");
    // a change of name is still fine: it does not touch where the money goes
    let renamed = BeneficiaryUpdate { name: Some("Renamed".into()), ..Default::default() };
    assert!(!beneficiaries::update(&s.db.pool, &s.key, person, &renamed).await.unwrap().payee_changed);

    // the database refuses it too, whatever the application does
    let raw = sqlx::query("update beneficiaries set payee_fingerprint = sha256('x'::bytea) where id = $1")
        .bind(person)
        .execute(&s.db.pool)
        .await
        .unwrap_err();
    assert_eq!(raw.as_database_error().unwrap().constraint(), Some("beneficiary_destination_locked"));
    // nor can the approved amount or snapshot be edited after approval
    for sql in [
        "update payouts set amount = 5000 where id = $1",
        "update payouts set payee_fingerprint = sha256('x'::bytea) where id = $1",
    ] {
        let err = sqlx::query(sql).bind(payout).execute(&s.db.pool).await.unwrap_err();
        assert_eq!(
            err.as_database_error().unwrap().constraint(),
            Some("payout_approved_destination"),
            "{sql}"
        );
    }

    // the file pays the approved IBAN
    let file = sepa_files::create(
        &s.db.pool,
        &s.key,
        &debtor(),
        batches::batch(&s.db.pool, treasury::get(&s.db.pool, payout).await.unwrap().batch_id)
            .await
            .unwrap()
            .id,
        s.treasurers[0],
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
    )
    .await
    .unwrap();
    let xml =
        sepa_files::document(&s.db.pool, &s.key, file.id, &debtor(), &zbor_audit::Actor::CLI).await.unwrap();
    assert!(xml.contains(APPROVED_IBAN) && !xml.contains(ATTACKER_IBAN));
    // sent to the bank: still locked
    let err =
        beneficiaries::update(&s.db.pool, &s.key, person, &to_method(sepa(ATTACKER_IBAN))).await.unwrap_err();
    assert!(matches!(err, Error::DestinationLocked { .. }), "{err:?}");
    s.db.drop_database().await;
}

#[tokio::test]
async fn a_rail_pays_only_the_approved_destination() {
    let s = setup().await;
    // SEPA: approved to one IBAN, then the row is made to pay another behind every check
    let sepa_person = confirmed_beneficiary(&s, sepa(APPROVED_IBAN)).await;
    let sepa_payout = approved_payout(&s, sepa_person).await;
    let batch_id = treasury::get(&s.db.pool, sepa_payout).await.unwrap().batch_id;
    redirect_behind_the_guard(&s, sepa_person, sepa(ATTACKER_IBAN)).await;

    // the database will not move it towards the bank
    let err = sqlx::query("update payouts set status = 'sent' where id = $1")
        .bind(sepa_payout)
        .execute(&s.db.pool)
        .await
        .unwrap_err();
    assert_eq!(err.as_database_error().unwrap().constraint(), Some("payout_approved_destination"));
    // the file is not made; the payout is failed with its reason, for treasurers
    let err = sepa_files::create(
        &s.db.pool,
        &s.key,
        &debtor(),
        batch_id,
        s.treasurers[0],
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::DestinationNotApproved(p) if p == sepa_payout), "{err:?}");
    let failed = treasury::get(&s.db.pool, sepa_payout).await.unwrap();
    assert_eq!(failed.status, PayoutStatus::Failed);
    assert!(failed.last_error.unwrap().contains("not the one the treasurers approved"));
    let files: i64 =
        sqlx::query_scalar("select count(*) from payout_sepa_files").fetch_one(&s.db.pool).await.unwrap();
    assert_eq!(files, 0);
    // a retry cannot send it either: back to approved is refused by the database
    let err = treasury::retry(&s.db.pool, sepa_payout, s.treasurers[1]).await.unwrap_err();
    assert!(
        matches!(&err, Error::Database(e) if e.as_database_error().and_then(|d| d.constraint()) == Some("payout_approved_destination")),
        "{err:?}"
    );

    // Stripe Connect: the worker checks before it calls Stripe (no Stripe here: it must not get
    // that far)
    let stripe_person =
        confirmed_beneficiary(&s, json!({"kind": "stripe_connect", "account": "acct_1032D82eZvKYlo2C"}))
            .await;
    let stripe_payout = approved_payout(&s, stripe_person).await;
    redirect_behind_the_guard(
        &s,
        stripe_person,
        json!({"kind": "stripe_connect", "account": "acct_1AttackerAccount"}),
    )
    .await;
    let step = worker::pay(&s.db.pool, &s.key, None, stripe_payout).await.unwrap();
    assert!(
        matches!(&step, Step::Failed { reason } if reason.contains("not the one the treasurers approved")),
        "{step:?}"
    );
    let failed = treasury::get(&s.db.pool, stripe_payout).await.unwrap();
    assert_eq!((failed.status, failed.attempts), (PayoutStatus::Failed, 0), "claimed, never sent");

    // manual: a treasurer cannot record a redirected cash payout as paid
    let manual_person = confirmed_beneficiary(&s, json!({"kind": "manual"})).await;
    let manual_payout = approved_payout(&s, manual_person).await;
    // another person's cash payout record (a manual destination is the record itself)
    redirect_behind_the_guard(&s, manual_person, json!({"kind": "manual"})).await;
    let err = treasury::mark_paid(&s.db.pool, &s.key, manual_payout, s.treasurers[1], "").await.unwrap_err();
    assert!(matches!(err, Error::DestinationNotApproved(p) if p == manual_payout), "{err:?}");
    assert_eq!(treasury::get(&s.db.pool, manual_payout).await.unwrap().status, PayoutStatus::Approved);

    // cancelled, the funds come back and the destination may change again
    treasury::cancel(&s.db.pool, sepa_payout, s.treasurers[1]).await.unwrap();
    s.db.drop_database().await;
}

#[tokio::test]
async fn a_destination_needs_a_second_treasurer() {
    let s = setup().await;
    let new =
        new(json!({ "name": "Released person", "contact": "", "note": "", "method": sepa(APPROVED_IBAN) }));
    let created = beneficiaries::create_in(
        &mut s.db.pool.acquire().await.unwrap(),
        &s.key,
        s.campaign.id,
        &new,
        &zbor_audit::Actor::user(s.treasurers[0]),
    )
    .await
    .unwrap();
    assert_eq!(created.destination_set_by, Some(s.treasurers[0]));
    assert!(!created.destination_confirmed());
    let person = created.id;
    let items = [NewItem { beneficiary: person, amount: "1000".into() }];

    // not payable yet
    let err = batches::create(&s.db.pool, s.campaign.id, s.treasurers[2], &items).await.unwrap_err();
    assert!(matches!(&err, Error::DestinationUnconfirmed(ids) if ids == &vec![person]), "{err:?}");
    // the one who set it cannot confirm it
    let err = beneficiaries::confirm(&s.db.pool, &[Confirmation::from(&created)], s.treasurers[0])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SamePerson(_)), "{err:?}");
    // nor can the database be told otherwise
    let err = sqlx::query(
        "update beneficiaries set destination_confirmed_by = destination_set_by, destination_confirmed_at = now() where id = $1",
    )
    .bind(person)
    .execute(&s.db.pool)
    .await
    .unwrap_err();
    assert_eq!(err.as_database_error().unwrap().constraint(), Some("beneficiary_destination_four_eyes"));
    // a confirmation signs the destination the confirmer saw: a stale one is refused
    let stale = Confirmation { beneficiary: person, payee_fingerprint: "00".repeat(32) };
    let err = beneficiaries::confirm(&s.db.pool, &[stale], s.treasurers[1]).await.unwrap_err();
    assert!(matches!(err, Error::WrongState(_)), "{err:?}");
    // all or nothing
    let both = [
        Confirmation::from(&created),
        Confirmation {
            beneficiary: BeneficiaryId::from_i64(person.as_i64() + 100),
            payee_fingerprint: "00".repeat(32),
        },
    ];
    assert!(beneficiaries::confirm(&s.db.pool, &both, s.treasurers[1]).await.is_err());
    assert!(!beneficiaries::get(&s.db.pool, created.id).await.unwrap().destination_confirmed());

    let confirmed =
        beneficiaries::confirm(&s.db.pool, &[Confirmation::from(&created)], s.treasurers[1]).await.unwrap();
    assert_eq!(confirmed, vec![created.id]);
    let seen = beneficiaries::get(&s.db.pool, created.id).await.unwrap();
    assert_eq!(seen.destination_confirmed_by, Some(s.treasurers[1]));

    // a new destination is unconfirmed again, whoever changes it (the database clears it too)
    let mut db = s.db.pool.begin().await.unwrap();
    let moved = beneficiaries::update_in(
        &mut db,
        &s.key,
        created.id,
        &to_method(sepa(ATTACKER_IBAN)),
        &zbor_audit::Actor::user(s.treasurers[1]),
    )
    .await
    .unwrap();
    db.commit().await.unwrap();
    assert!(moved.payee_changed && !moved.beneficiary.destination_confirmed());
    assert_eq!(moved.beneficiary.destination_set_by, Some(s.treasurers[1]));
    // now treasurer 1 set it: they may not confirm it, treasurer 0 may
    let err = beneficiaries::confirm(&s.db.pool, &[Confirmation::from(&moved.beneficiary)], s.treasurers[1])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SamePerson(_)), "{err:?}");
    beneficiaries::confirm(&s.db.pool, &[Confirmation::from(&moved.beneficiary)], s.treasurers[0])
        .await
        .unwrap();
    assert!(batches::create(&s.db.pool, s.campaign.id, s.treasurers[2], &items).await.is_ok());
    s.db.drop_database().await;
}

#[tokio::test]
async fn approvers_see_a_destination_that_changed_since_the_last_payout() {
    let s = setup().await;
    let person = confirmed_beneficiary(&s, json!({"kind": "manual"})).await;
    let payout = approved_payout(&s, person).await;
    let first =
        batches::batch(&s.db.pool, treasury::get(&s.db.pool, payout).await.unwrap().batch_id).await.unwrap();
    assert!(!first.items[0].changed_since_last_payout, "never paid before");
    treasury::mark_paid(&s.db.pool, &s.key, payout, s.treasurers[1], "handed over").await.unwrap();

    // paid: the destination may change now (nothing is on its way), and it shows
    let mut db = s.db.pool.begin().await.unwrap();
    let moved = beneficiaries::update_in(
        &mut db,
        &s.key,
        person,
        &to_method(sepa(APPROVED_IBAN)),
        &zbor_audit::Actor::user(s.treasurers[0]),
    )
    .await
    .unwrap();
    db.commit().await.unwrap();
    assert!(moved.beneficiary.changed_since_last_payout);
    beneficiaries::confirm(&s.db.pool, &[Confirmation::from(&moved.beneficiary)], s.treasurers[2])
        .await
        .unwrap();
    let items = [NewItem { beneficiary: person, amount: "500".into() }];
    let second = batches::create(&s.db.pool, s.campaign.id, s.treasurers[1], &items).await.unwrap();
    let item = &second.items[0];
    assert!(item.changed_since_last_payout && item.destination_confirmed);
    assert_eq!(item.method.as_str(), "sepa");
    assert_eq!(item.masked_destination.as_deref().map(|m| m.ends_with("1000")), Some(true));
    s.db.drop_database().await;
}
