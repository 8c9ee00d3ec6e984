#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Rotating ZBOR_DATA_KEY on a populated database, against the real PostgreSQL: users with a
//! second factor, a named donor, beneficiaries of every method (two sharing an IBAN), payouts
//! approved, paid, returned and paid before their beneficiary moved, a sealed note, error texts
//! and a pause reason from before they were sealed. After `zbor vault rotate`'s passes everything
//! opens, logins, duplicate flags, approvals' fingerprint checks and "changed since the last
//! payout" work with the new key alone; an interrupted rotation finishes when run again while
//! payouts go on; the database lets only a rotation re-key a fingerprint, and only forwards.

mod common;

use std::ops::ControlFlow;
use std::time::Duration;

use chrono::Utc;
use common::*;
use serde_json::json;
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_payouts::beneficiaries::{self, BeneficiaryId, BeneficiaryUpdate, Confirmation, PayoutMethod};
use zbor_payouts::key_rotation;
use zbor_payouts::treasury::{self, PayoutStatus};
use zbor_payouts::worker::{self, Step};
use zbor_payouts::{switch, PayoutId};
use zbor_stripe::{Stripe, StripeConfig};
use zbor_stripe_sim::{Config as SimConfig, Simulator};
use zbor_testkit::TestDb;
use zbor_vault::{DataKey, Rotated};

const PASSWORD: &str = "correct horse battery";
const STRIPE_KEY: &str = "sk_test_rotation";
const SHARED_IBAN_ACCOUNT: u64 = 1;

/// The keys of a rotation from version 1 (a single key, as before rotation existed) to 2.
struct Keys {
    old: DataKey,
    /// `2:new,1:old`: what every process runs with during the rotation.
    ring: DataKey,
    /// `2:new`: after the rotation, the old key dropped.
    new_only: DataKey,
}

fn keys() -> Keys {
    let (old, new) = (DataKey::generate_hex(), DataKey::generate_hex());
    Keys {
        old: DataKey::parse(&old).unwrap(),
        ring: DataKey::parse(&format!("2:{new},1:{old}")).unwrap(),
        new_only: DataKey::parse(&format!("2:{new}")).unwrap(),
    }
}

struct Treasurer {
    id: zbor_auth::UserId,
    email: String,
    totp_secret: Vec<u8>,
}

struct World {
    db: TestDb,
    keys: Keys,
    campaign: zbor_campaigns::CampaignId,
    treasurers: Vec<Treasurer>,
}

impl World {
    fn pool(&self) -> &sqlx::PgPool {
        &self.db.pool
    }

    fn treasurer(&self, n: usize) -> zbor_auth::UserId {
        self.treasurers[n].id
    }
}

/// A funded campaign and three treasurers with a second factor, all under the old key.
async fn world() -> World {
    let db = TestDb::new(8).await;
    let keys = keys();
    let campaign = funded_campaign(&db, "release-123", "20000").await;
    let mut treasurers = Vec::new();
    for email in ["a@example.org", "b@example.org", "c@example.org"] {
        let user = zbor_auth::add_user(
            &db.pool,
            &keys.old,
            email,
            zbor_auth::Role::Treasurer,
            PASSWORD,
            &zbor_auth::Actor::CLI,
        )
        .await
        .unwrap();
        let enrolment = zbor_auth::begin_totp_enrolment(&db.pool, &keys.old, user.id).await.unwrap();
        let secret = zbor_auth::totp::base32_decode(&enrolment.secret).unwrap();
        // enrolled five minutes ago: the codes of now are still unused
        let before = Utc::now() - chrono::Duration::minutes(5);
        let code = zbor_auth::totp::code(&secret, zbor_auth::totp::step_at(before.timestamp()));
        zbor_auth::confirm_totp(&db.pool, &keys.old, user.id, &code, before).await.unwrap();
        treasurers.push(Treasurer { id: user.id, email: email.into(), totp_secret: secret });
    }
    World { db, keys, campaign: campaign.id, treasurers }
}

/// Treasurer 0 adds a beneficiary under `key`; treasurer 1 confirms its destination.
async fn beneficiary(w: &World, key: &DataKey, name: &str, method: serde_json::Value) -> BeneficiaryId {
    let new =
        new(json!({ "name": name, "contact": "+375 29 000 00 00", "note": "released", "method": method }));
    let mut db = w.pool().begin().await.unwrap();
    let created =
        beneficiaries::create_in(&mut db, key, w.campaign, &new, &zbor_audit::Actor::user(w.treasurer(0)))
            .await
            .unwrap();
    db.commit().await.unwrap();
    beneficiaries::confirm(w.pool(), &[Confirmation::from(&created)], w.treasurer(1)).await.unwrap();
    created.id
}

/// Created by treasurer 0, released by treasurers 1 and 2: the payout ids, in `people`'s order.
async fn released(w: &World, people: &[BeneficiaryId]) -> Vec<PayoutId> {
    let items: Vec<NewItem> =
        people.iter().map(|p| NewItem { beneficiary: *p, amount: "1000".into() }).collect();
    let batch = batches::create(w.pool(), w.campaign, w.treasurer(0), &items).await.unwrap();
    batches::approve(w.pool(), batch.id, w.treasurer(1), &batch.content_hash).await.unwrap().unwrap();
    assert_eq!(
        batches::approve(w.pool(), batch.id, w.treasurer(2), &batch.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );
    people.iter().map(|p| batch.items.iter().find(|i| i.beneficiary == *p).unwrap().payout).collect()
}

async fn mark_sent(w: &World, payout: PayoutId) {
    sqlx::query("update payouts set status = 'sent', sent_at = now() where id = $1")
        .bind(payout)
        .execute(w.pool())
        .await
        .unwrap();
}

fn continue_always() -> impl FnMut(u64) -> ControlFlow<()> + Send {
    |_| ControlFlow::Continue(())
}

/// Every pass of `zbor vault rotate`, in its order; each pass's result.
async fn rotate_all(pool: &sqlx::PgPool, key: &DataKey) -> Vec<(&'static str, Rotated)> {
    let mut go = continue_always();
    vec![
        ("users", zbor_auth::User::rekey_all(pool, key, &mut go).await.unwrap()),
        ("donors", zbor_intake::webhook::rekey_donors(pool, key, &mut go).await.unwrap()),
        ("beneficiaries", key_rotation::rekey_beneficiaries(pool, key, &mut go).await.unwrap()),
        ("payouts", key_rotation::rekey_payouts(pool, key, &mut go).await.unwrap()),
        ("pause reason", switch::rekey_reason(pool, key, &mut go).await.unwrap()),
    ]
}

fn rekeyed(passes: &[(&'static str, Rotated)], pass: &str) -> u64 {
    let (_, rotated) = passes.iter().find(|(name, _)| *name == pass).unwrap();
    assert!(rotated.failed.is_empty() && !rotated.interrupted, "{pass}: {rotated:?}");
    rotated.rekeyed
}

/// Values (of every kind) not under `version`, counted in SQL from their headers and markers.
async fn not_under(pool: &sqlx::PgPool, version: i32) -> i64 {
    sqlx::query_scalar(
        "select (select count(*) from users where zbor_key_version(email_sealed) <> $1
                    or zbor_key_version(totp_sealed) <> $1)
              + (select count(*) from donations where zbor_key_version(donor_sealed) <> $1)
              + (select count(*) from beneficiaries where zbor_key_version(sealed) is distinct from $1)
              + (select count(*) from payouts where payee_fingerprint_key_version is distinct from $1
                    or zbor_key_version(note_sealed) <> $1 or zbor_key_version(last_error_sealed) <> $1
                    or last_error_legacy is not null)
              + (select count(*) from payout_switch where zbor_key_version(reason_sealed) <> $1
                    or reason_legacy is not null)",
    )
    .bind(version)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn simulator() -> (Simulator, Stripe) {
    let sim = Simulator::start(
        SimConfig { api_key: STRIPE_KEY.into(), ..SimConfig::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let mut config = StripeConfig::new(STRIPE_KEY, sim.base_url.as_str());
    config.backoff_first = Duration::from_millis(10);
    let stripe = Stripe::new(config).unwrap();
    (sim, stripe)
}

/// A named donor's donation, sealed as intake seals it.
async fn named_donor(w: &World, session: &str) {
    let identity = json!({ "name": "Jane Donor", "email": "donor@example.com" }).to_string();
    let sealed = w.keys.old.seal(identity.as_bytes(), &zbor_intake::webhook::donor_record(session)).unwrap();
    sqlx::query(
        "insert into donations (stripe_session_id, campaign_id, currency, amount, status, anonymous, donor_sealed)
         values ($1, $2, 'EUR', 25, 'pending', false, $3)",
    )
    .bind(session)
    .bind(w.campaign)
    .bind(sealed)
    .execute(w.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn a_rotation_re_keys_everything_and_the_old_key_can_then_go() {
    let w = world().await;
    let old = &w.keys.old;
    let shared_iban = de_iban(SHARED_IBAN_ACCOUNT);
    // every method, and two beneficiaries sharing an account (one with a BIC, one without)
    let sepa =
        beneficiary(&w, old, "Ales", json!({"kind": "sepa", "iban": shared_iban, "bic": "COBADEFFXXX"}))
            .await;
    let family = beneficiary(&w, old, "Natalia", json!({"kind": "sepa", "iban": shared_iban})).await;
    let stripe =
        beneficiary(&w, old, "Maria", json!({"kind": "stripe_connect", "account": "acct_1Pgaf1B7WZ01zgkW"}))
            .await;
    let manual = beneficiary(&w, old, "Ihar", json!({"kind": "manual"})).await;
    let moved = beneficiary(&w, old, "Pavel", json!({"kind": "sepa", "iban": de_iban(5)})).await;

    // approved and on their way: sepa, stripe; paid: manual (with a sealed note) and moved
    let payouts = released(&w, &[sepa, stripe, manual, moved]).await;
    let [sepa_payout, stripe_payout, manual_payout, moved_payout] = payouts[..] else { panic!() };
    treasury::mark_paid(w.pool(), old, manual_payout, w.treasurer(0), "handed over in Vilnius")
        .await
        .unwrap();
    mark_sent(&w, moved_payout).await;
    treasury::mark_paid(w.pool(), old, moved_payout, w.treasurer(0), "").await.unwrap();
    // paid, then the beneficiary moved: its payout holds a destination no longer stored
    let to_new_account = BeneficiaryUpdate {
        method: Some(serde_json::from_value(json!({"kind": "sepa", "iban": de_iban(6)})).unwrap()),
        ..Default::default()
    };
    beneficiaries::update(w.pool(), old, moved, &to_new_account).await.unwrap();
    let reconfirm = beneficiaries::get(w.pool(), moved).await.unwrap();
    beneficiaries::confirm(w.pool(), &[Confirmation::from(&reconfirm)], w.treasurer(1)).await.unwrap();
    // returned by the bank, the bank's words sealed
    let [family_payout] = released(&w, &[family]).await[..] else { panic!() };
    mark_sent(&w, family_payout).await;
    treasury::mark_returned_sealed(w.pool(), old, family_payout, w.treasurer(0), "AC04 account closed")
        .await
        .unwrap();
    // a named donor; an error text and a pause reason from before they were sealed
    named_donor(&w, "cs_test_named").await;
    sqlx::query("update payouts set last_error_legacy = 'Stripe: No such destination: acct_1Pgaf1B7WZ01zgkW' where id = $1")
        .bind(stripe_payout)
        .execute(w.pool())
        .await
        .unwrap();
    sqlx::query("update payout_switch set reason_legacy = 'the bank called'")
        .execute(w.pool())
        .await
        .unwrap();

    // what treasurers see before: duplicates, changes since the last payout, confirmations
    let everyone = [sepa, family, stripe, manual, moved];
    let mut revealed_before = Vec::new();
    for person in everyone {
        let revealed = beneficiaries::reveal(w.pool(), old, person, &zbor_audit::Actor::CLI).await.unwrap();
        revealed_before.push((revealed.name, revealed.method));
    }
    assert_eq!(beneficiaries::get(w.pool(), sepa).await.unwrap().duplicate_of, vec![family]);
    assert!(beneficiaries::get(w.pool(), moved).await.unwrap().changed_since_last_payout);
    assert!(!beneficiaries::get(w.pool(), manual).await.unwrap().changed_since_last_payout);
    // everything is under the one key there was, but for the two texts from before sealing
    assert_eq!(not_under(w.pool(), 1).await, 2);

    // every process gets the ring `2:new,1:old`; then the rotation runs
    let ring = &w.keys.ring;
    let passes = rotate_all(w.pool(), ring).await;
    assert_eq!(rekeyed(&passes, "users"), 3);
    assert_eq!(rekeyed(&passes, "donors"), 1);
    assert_eq!(rekeyed(&passes, "beneficiaries"), 5);
    // the note, the sealed return reason, the legacy error
    assert_eq!(rekeyed(&passes, "payouts"), 3);
    assert_eq!(rekeyed(&passes, "pause reason"), 1);
    assert_eq!(not_under(w.pool(), 2).await, 0, "every value and fingerprint under version 2");
    assert_eq!(key_rotation::outdated(w.pool(), ring).await.unwrap().total(), 0);
    assert_eq!(zbor_auth::User::count_outdated(w.pool(), ring).await.unwrap(), 0);
    assert_eq!(zbor_intake::webhook::count_outdated_donors(w.pool(), ring).await.unwrap(), 0);
    // run again: nothing left to do
    for (pass, rotated) in rotate_all(w.pool(), ring).await {
        assert_eq!(rotated, Rotated::default(), "{pass}");
    }

    // the old key is dropped: everything works with the new key alone
    let key = &w.keys.new_only;
    for (person, (name, method)) in everyone.iter().zip(&revealed_before) {
        let revealed = beneficiaries::reveal(w.pool(), key, *person, &zbor_audit::Actor::CLI).await.unwrap();
        assert_eq!((&revealed.name, &revealed.method), (name, method), "beneficiary {person}");
        assert!(
            beneficiaries::get(w.pool(), *person).await.unwrap().destination_confirmed(),
            "still confirmed"
        );
    }
    assert!(
        beneficiaries::reveal(w.pool(), old, sepa, &zbor_audit::Actor::CLI).await.is_err(),
        "re-sealed: the old key alone opens nothing"
    );
    // logins find users by their re-keyed email index; emails and second factors open
    let now = Utc::now();
    for t in &w.treasurers {
        let code = zbor_auth::totp::code(&t.totp_secret, zbor_auth::totp::step_at(now.timestamp()));
        let login = zbor_auth::Login { email: t.email.clone(), password: PASSWORD.into(), totp: Some(code) };
        let (user, second_factor) = zbor_auth::authenticate(w.pool(), key, &login, now).await.unwrap();
        assert_eq!((user.id, user.email.as_str(), second_factor), (t.id, t.email.as_str(), true));
    }
    // duplicates: the pair is still one group, and a new beneficiary on the same account joins it
    let groups = beneficiaries::duplicates(w.pool(), Some(w.campaign)).await.unwrap();
    let members: Vec<Vec<BeneficiaryId>> =
        groups.iter().map(|g| g.beneficiaries.iter().map(|b| b.id).collect()).collect();
    assert_eq!(members, vec![vec![sepa, family]]);
    let newcomer = beneficiary(&w, key, "Olga", json!({"kind": "sepa", "iban": shared_iban})).await;
    assert_eq!(beneficiaries::get(w.pool(), newcomer).await.unwrap().duplicate_of, vec![sepa, family]);
    // changed since the last payout: as before
    assert!(beneficiaries::get(w.pool(), moved).await.unwrap().changed_since_last_payout);
    assert!(!beneficiaries::get(w.pool(), manual).await.unwrap().changed_since_last_payout);
    let batch = batches::create(
        w.pool(),
        w.campaign,
        w.treasurer(0),
        &[NewItem { beneficiary: moved, amount: "10".into() }],
    )
    .await
    .unwrap();
    assert!(batch.items[0].changed_since_last_payout);
    // approvals' fingerprint checks: the payouts on their way still pay exactly what was approved
    let mut conn = w.pool().acquire().await.unwrap();
    let approved = beneficiaries::approved_destination(&mut conn, key, sepa_payout).await.unwrap();
    assert_eq!(approved.id, sepa);
    assert!(matches!(approved.method, PayoutMethod::Sepa { .. }));
    drop(conn);
    let (sim, stripe_client) = simulator().await;
    let step = worker::pay(w.pool(), key, Some(&stripe_client), stripe_payout).await.unwrap();
    assert!(matches!(step, Step::Paid { .. }), "{step:?}");
    assert_eq!(sim.transfers().len(), 1);
    // sealed texts open: the note, the bank's words, the legacy error, the pause reason, the donor
    assert_eq!(
        treasury::note(w.pool(), key, manual_payout).await.unwrap().as_deref(),
        Some("handed over in Vilnius")
    );
    let returned = treasury::get(w.pool(), family_payout).await.unwrap().opened(Some(key)).unwrap();
    assert_eq!(returned.last_error.as_deref(), Some("returned by the bank (AC04): account closed"));
    let state = switch::state(w.pool()).await.unwrap();
    assert_eq!((state.reason.as_deref(), state.reason_sealed), (None, true), "sealed now");
    assert_eq!(state.opened(Some(key)).unwrap().reason.as_deref(), Some("the bank called"));
    let mut conn = w.pool().acquire().await.unwrap();
    let (name, email) = zbor_intake::webhook::donor(&mut conn, key, "cs_test_named").await.unwrap().unwrap();
    assert_eq!((name.as_deref(), email.as_deref()), (Some("Jane Donor"), Some("donor@example.com")));
    drop(conn);
    w.db.drop_database().await;
}

#[tokio::test]
async fn the_legacy_error_of_a_payout_is_sealed_by_the_rotation_and_shown_as_before() {
    let w = world().await;
    let old = &w.keys.old;
    let person =
        beneficiary(&w, old, "Ales", json!({"kind": "stripe_connect", "account": "acct_1Pgaf1B7WZ01zgkW"}))
            .await;
    let [payout] = released(&w, &[person]).await[..] else { panic!() };
    let legacy = "Stripe refused the transfer (HTTP 400): No such destination: 'acct_1Pgaf1B7WZ01zgkW'";
    sqlx::query("update payouts set last_error_legacy = $2 where id = $1")
        .bind(payout)
        .bind(legacy)
        .execute(w.pool())
        .await
        .unwrap();
    // until the rotation: shown as it always was
    let before = treasury::get(w.pool(), payout).await.unwrap();
    assert_eq!((before.last_error.as_deref(), before.last_error_sealed), (Some(legacy), false));

    let passes = rotate_all(w.pool(), &w.keys.ring).await;
    assert_eq!(rekeyed(&passes, "payouts"), 1);
    let (clear, legacy_left): (String, Option<String>) =
        sqlx::query_as("select row_to_json(p)::text, last_error_legacy from payouts p where id = $1")
            .bind(payout)
            .fetch_one(w.pool())
            .await
            .unwrap();
    assert!(legacy_left.is_none() && !clear.contains("acct_1Pgaf1B7WZ01zgkW"), "{clear}");
    let after = treasury::get(w.pool(), payout).await.unwrap();
    assert_eq!((after.last_error.as_deref(), after.last_error_sealed), (None, true));
    assert_eq!(after.opened(Some(&w.keys.new_only)).unwrap().last_error.as_deref(), Some(legacy));
    w.db.drop_database().await;
}

#[tokio::test]
async fn an_interrupted_rotation_finishes_when_run_again_and_payouts_go_on_meanwhile() {
    let w = world().await;
    let old = &w.keys.old;
    let mut people = Vec::new();
    for n in 0..6 {
        let method = match n % 3 {
            0 => json!({"kind": "sepa", "iban": de_iban(10 + n)}),
            1 => json!({"kind": "stripe_connect", "account": format!("acct_1Pgaf{n}B7WZ01zgkW")}),
            _ => json!({"kind": "manual"}),
        };
        people.push(beneficiary(&w, old, &format!("Person {n}"), method).await);
    }
    let payouts = released(&w, &people).await;
    let ring = &w.keys.ring;

    // killed after two users and two beneficiaries (each committed on its own)
    let mut stop_after_two =
        |done: u64| if done >= 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) };
    let users = zbor_auth::User::rekey_all(w.pool(), ring, &mut stop_after_two).await.unwrap();
    assert!(users.interrupted && users.rekeyed == 2, "{users:?}");
    let half = key_rotation::rekey_beneficiaries(w.pool(), ring, &mut stop_after_two).await.unwrap();
    assert!(half.interrupted && half.rekeyed == 2, "{half:?}");
    let outdated = key_rotation::outdated(w.pool(), ring).await.unwrap();
    assert_eq!((outdated.beneficiaries, outdated.payout_fingerprints), (4, 4));
    assert_eq!(zbor_auth::User::count_outdated(w.pool(), ring).await.unwrap(), 1);

    // meanwhile, under the ring, every approved payout passes its check, re-keyed or not yet
    let mut conn = w.pool().acquire().await.unwrap();
    for payout in &payouts {
        beneficiaries::approved_destination(&mut conn, ring, *payout).await.unwrap();
    }
    drop(conn);
    let (sim, stripe) = simulator().await;
    for payout in [payouts[1], payouts[4]] {
        let step = worker::pay(w.pool(), ring, Some(&stripe), payout).await.unwrap();
        assert!(matches!(step, Step::Paid { .. }), "payout {payout}: {step:?}");
    }
    assert_eq!(sim.transfers().len(), 2);
    // a manual payout marked paid by a treasurer, its beneficiary not re-keyed yet
    let paid = treasury::mark_paid(w.pool(), ring, payouts[5], w.treasurer(0), "cash").await.unwrap();
    assert_eq!(paid.status, PayoutStatus::Paid);

    // run again: it finishes
    let passes = rotate_all(w.pool(), ring).await;
    assert_eq!(rekeyed(&passes, "users"), 1);
    assert_eq!(rekeyed(&passes, "beneficiaries"), 4);
    assert_eq!(not_under(w.pool(), 2).await, 0);
    // and with the new key alone, the rest still pays exactly what was approved
    let key = &w.keys.new_only;
    let mut conn = w.pool().acquire().await.unwrap();
    for payout in [payouts[0], payouts[2], payouts[3]] {
        beneficiaries::approved_destination(&mut conn, key, payout).await.unwrap();
    }
    drop(conn);
    let step = worker::pay(w.pool(), key, Some(&stripe), payouts[1]).await.unwrap();
    assert_eq!(step, Step::Finished, "paid once");
    assert_eq!(treasury::note(w.pool(), key, payouts[5]).await.unwrap().as_deref(), Some("cash"));
    w.db.drop_database().await;
}

#[tokio::test]
async fn a_row_altered_in_the_database_is_reported_and_left_as_it_is() {
    let w = world().await;
    let old = &w.keys.old;
    let honest = beneficiary(&w, old, "Ales", json!({"kind": "sepa", "iban": de_iban(1)})).await;
    let altered = beneficiary(&w, old, "Maria", json!({"kind": "sepa", "iban": de_iban(2)})).await;
    // someone pointed its IBAN index at another beneficiary's account
    sqlx::query("update beneficiaries set iban_index = (select iban_index from beneficiaries where id = $2) where id = $1")
        .bind(altered)
        .bind(honest)
        .execute(w.pool())
        .await
        .unwrap();
    let rotated =
        key_rotation::rekey_beneficiaries(w.pool(), &w.keys.ring, &mut continue_always()).await.unwrap();
    assert_eq!(rotated.rekeyed, 1);
    assert_eq!(rotated.failed.len(), 1, "{rotated:?}");
    assert!(rotated.failed[0].starts_with(&format!("beneficiary {altered}: ")), "{rotated:?}");
    assert!(!rotated.failed[0].contains("Maria") && !rotated.failed[0].contains("DE"), "{rotated:?}");
    let versions: Vec<(BeneficiaryId, i32)> =
        sqlx::query_as("select id, zbor_key_version(sealed) from beneficiaries order by id")
            .fetch_all(w.pool())
            .await
            .unwrap();
    assert_eq!(versions, vec![(honest, 2), (altered, 1)]);
    w.db.drop_database().await;
}

#[tokio::test]
async fn the_database_lets_only_a_rotation_re_key_a_fingerprint_and_only_forwards() {
    let w = world().await;
    let old = &w.keys.old;
    let person = beneficiary(&w, old, "Ales", json!({"kind": "sepa", "iban": de_iban(1)})).await;
    let [payout] = released(&w, &[person]).await[..] else { panic!() };
    let version: Option<i32> =
        sqlx::query_scalar("select payee_fingerprint_key_version from payouts where id = $1")
            .bind(payout)
            .fetch_one(w.pool())
            .await
            .unwrap();
    assert_eq!(version, Some(1), "a snapshot carries its beneficiary's key version");

    let refused = |sql: &'static str, rekeying: bool| {
        let pool = w.pool().clone();
        async move {
            let mut db = pool.begin().await.unwrap();
            if rekeying {
                sqlx::query("select set_config('zbor.rekeying', 'on', true)")
                    .execute(&mut *db)
                    .await
                    .unwrap();
            }
            let result = sqlx::query(sql).bind(payout).bind(person).execute(&mut *db).await;
            let constraint = result
                .as_ref()
                .err()
                .and_then(|e| e.as_database_error())
                .and_then(|d| d.constraint().map(str::to_owned));
            (result.is_err(), constraint)
        }
    };
    let elsewhere =
        "update payouts set payee_fingerprint = sha256('elsewhere'::bytea), payee_fingerprint_key_version = 2
                     where id = $1 and $2 > 0";
    // outside a rotation an approved fingerprint never changes
    assert_eq!(refused(elsewhere, false).await, (true, Some("payout_approved_destination".into())));
    // inside one, an approved payout gets only its beneficiary's destination
    assert_eq!(refused(elsewhere, true).await, (true, Some("payout_approved_destination".into())));
    // and only towards a newer key
    let backwards =
        "update payouts p set payee_fingerprint = sha256('x'::bytea), payee_fingerprint_key_version = 1
                     where p.id = $1 and $2 > 0";
    assert_eq!(refused(backwards, true).await, (true, Some("payout_approved_destination".into())));
    // a beneficiary's new fingerprint without its data re-sealed under a newer key is a new
    // destination, refused while a payout is on its way, rotation or not
    let beneficiary_elsewhere = "update beneficiaries set payee_fingerprint = sha256('elsewhere'::bytea)
                                 where id = $2 and $1 > 0";
    assert_eq!(
        refused(beneficiary_elsewhere, true).await,
        (true, Some("beneficiary_destination_locked".into()))
    );
    // the SQL reading of a sealed value's key version is zbor-vault's
    for sealed in [
        old.seal(b"x", "r").unwrap(),
        w.keys.ring.seal(b"x", "r").unwrap(),
        DataKey::parse(&format!("300:{}", DataKey::generate_hex())).unwrap().seal(b"x", "r").unwrap(),
        vec![9, 9, 9],
        vec![2, 0, 0, 1],
        vec![],
    ] {
        let in_sql: Option<i32> = sqlx::query_scalar("select zbor_key_version($1)")
            .bind(&sealed)
            .fetch_one(w.pool())
            .await
            .unwrap();
        assert_eq!(in_sql, zbor_vault::sealed_version(&sealed).map(i32::from), "{sealed:?}");
    }
    // the rotation itself passes both guards, and keeps the destination confirmed
    let passes = rotate_all(w.pool(), &w.keys.ring).await;
    assert_eq!(rekeyed(&passes, "beneficiaries"), 1);
    let after = beneficiaries::get(w.pool(), person).await.unwrap();
    assert!(after.destination_confirmed());
    let mut conn = w.pool().acquire().await.unwrap();
    beneficiaries::approved_destination(&mut conn, &w.keys.new_only, payout).await.unwrap();
    w.db.drop_database().await;
}

#[tokio::test]
async fn an_email_is_not_added_again_while_its_account_awaits_the_rotation() {
    let w = world().await;
    // the lookup covers every key of the ring: the old row is found, the email is refused
    let again = zbor_auth::add_user(
        w.pool(),
        &w.keys.ring,
        "a@example.org",
        zbor_auth::Role::Coordinator,
        PASSWORD,
        &zbor_auth::Actor::CLI,
    )
    .await;
    assert!(matches!(again, Err(zbor_auth::Error::EmailTaken)), "{again:?}");
    // and its owner still logs in under the new ring before the rotation reached them
    let id = zbor_auth::user_id_for_email(w.pool(), &w.keys.ring, "A@example.org").await.unwrap();
    assert_eq!(id, Some(w.treasurer(0)));
    let rotated = zbor_auth::User::rekey_all(w.pool(), &w.keys.ring, &mut continue_always()).await.unwrap();
    assert!(rotated.failed.is_empty(), "{rotated:?}");
    assert_eq!(zbor_auth::User::count_outdated(w.pool(), &w.keys.ring).await.unwrap(), 0);
    w.db.drop_database().await;
}
