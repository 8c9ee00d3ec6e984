#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Four eyes against the real PostgreSQL: 123 × EUR 1,000 released only by two treasurers other
//! than the creator; every bypass refused; edits and changed destinations void approvals; short
//! funds hold nothing, also with concurrent batches.

mod common;

use common::*;
use serde_json::json;
use zbor_auth::UserId;
use zbor_campaigns::Campaign;
use zbor_ledger::Money;
use zbor_payouts::batches::{self, Approved, BatchStatus, NewItem, Refusal};
use zbor_payouts::beneficiaries::{self, BeneficiaryId, BeneficiaryUpdate};
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

struct Setup {
    db: TestDb,
    key: DataKey,
    campaign: Campaign,
    creator: UserId,
    second: UserId,
    third: UserId,
}

async fn setup(funds: &str) -> Setup {
    let db = TestDb::new(8).await;
    let key = DataKey::generate();
    // donations arrived: the campaign holds `funds`
    let campaign = funded_campaign(&db, "release-123", funds).await;
    let ids =
        treasurers(&db, &key, &["creator@example.org", "second@example.org", "third@example.org"]).await;
    Setup { db, key, campaign, creator: ids[0], second: ids[1], third: ids[2] }
}

async fn beneficiaries_for(s: &Setup, count: u64) -> Vec<BeneficiaryId> {
    let mut ids = Vec::new();
    for n in 0..count {
        let new = new(json!({
            "name": format!("Released person {n}"), "contact": "via the fund", "note": "",
            "method": { "kind": "sepa", "iban": de_iban(n + 1) }
        }));
        ids.push(beneficiaries::create(&s.db.pool, &s.key, s.campaign.id, &new).await.unwrap().id);
    }
    confirm_all(&s.db.pool, s.campaign.id, s.third).await;
    ids
}

fn items(beneficiaries: &[BeneficiaryId], amount: &str) -> Vec<NewItem> {
    beneficiaries.iter().map(|b| NewItem { beneficiary: *b, amount: amount.into() }).collect()
}

async fn count(s: &Setup, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&s.db.pool).await.unwrap()
}

async fn available(s: &Setup) -> Money {
    let mut conn = s.db.pool.acquire().await.unwrap();
    zbor_ledger::balance(&mut conn, s.campaign.ledger_account).await.unwrap().available
}

#[tokio::test]
async fn two_treasurers_other_than_the_creator_release_123_payouts() {
    let s = setup("123000").await;
    let people = beneficiaries_for(&s, 123).await;
    let batch = batches::create(&s.db.pool, s.campaign.id, s.creator, &items(&people, "1000")).await.unwrap();
    assert_eq!((batch.items.len(), batch.total.amount().to_string().as_str()), (123, "123000.00"));
    let hash = batch.content_hash.clone();

    // bypass attempts
    assert_eq!(
        batches::approve(&s.db.pool, batch.id, s.creator, &hash).await.unwrap(),
        Err(Refusal::Creator)
    );
    assert_eq!(batches::approve(&s.db.pool, batch.id, s.second, "00").await.unwrap(), Err(Refusal::Stale));
    assert_eq!(
        batches::approve(&s.db.pool, batch.id, s.second, &hash).await.unwrap(),
        Ok(Approved::Waiting { more: 1 })
    );
    assert_eq!(batches::approve(&s.db.pool, batch.id, s.second, &hash).await.unwrap(), Err(Refusal::Twice));
    assert_eq!(
        count(&s, "select count(*) from ledger_holds").await,
        0,
        "nothing held before the last approval"
    );
    // the database refuses the creator even if the application did not
    let raw =
        sqlx::query("insert into payout_approvals (batch_id, user_id, content_hash) values ($1, $2, $3)")
            .bind(batch.id)
            .bind(s.creator)
            .bind(hex::decode(&hash).unwrap())
            .execute(&s.db.pool)
            .await;
    assert!(raw.unwrap_err().to_string().contains("cannot approve"));

    assert_eq!(batches::approve(&s.db.pool, batch.id, s.third, &hash).await.unwrap(), Ok(Approved::Released));
    let released = batches::batch(&s.db.pool, batch.id).await.unwrap();
    assert_eq!(released.status.as_str(), "approved");
    assert_eq!(released.approvals, vec![s.second, s.third]);
    assert!(released.items.iter().all(|i| i.status.as_str() == "approved"));
    assert_eq!(count(&s, "select count(*) from ledger_holds where status = 'pending'").await, 123);
    assert_eq!(available(&s).await, eur("0"), "all 123,000 held");
    // SEPA payouts go into a file for the bank, not to the workers
    assert_eq!(count(&s, "select count(*) from outbox where stream = 'payouts'").await, 0);
    assert_eq!(
        batches::approve(&s.db.pool, batch.id, s.third, &hash).await.unwrap(),
        Err(Refusal::NotAwaiting(zbor_payouts::batches::BatchStatus::Approved))
    );
    s.db.drop_database().await;
}

#[tokio::test]
async fn an_edit_or_a_changed_destination_voids_every_approval() {
    let s = setup("10000").await;
    let people = beneficiaries_for(&s, 3).await;
    let batch = batches::create(&s.db.pool, s.campaign.id, s.creator, &items(&people, "1000")).await.unwrap();
    let first_hash = batch.content_hash.clone();
    assert!(batches::approve(&s.db.pool, batch.id, s.second, &first_hash).await.unwrap().is_ok());

    // edit: one amount changes
    let mut changed = items(&people, "1000");
    changed[0].amount = "1500".into();
    let edited = batches::edit(&s.db.pool, batch.id, &changed).await.unwrap();
    assert_ne!(edited.content_hash, first_hash);
    assert!(edited.approvals.is_empty(), "the edit voided the approval");
    assert_eq!(
        batches::approve(&s.db.pool, batch.id, s.third, &first_hash).await.unwrap(),
        Err(Refusal::Stale)
    );

    // approve the new content once, then a beneficiary's IBAN changes
    assert!(batches::approve(&s.db.pool, batch.id, s.second, &edited.content_hash).await.unwrap().is_ok());
    let change = BeneficiaryUpdate {
        name: None,
        contact: None,
        note: None,
        method: Some(serde_json::from_value(json!({"kind": "sepa", "iban": de_iban(999)})).unwrap()),
    };
    beneficiaries::update(&s.db.pool, &s.key, people[1], &change).await.unwrap();
    assert_eq!(
        batches::approve(&s.db.pool, batch.id, s.third, &edited.content_hash).await.unwrap(),
        Err(Refusal::DestinationChanged)
    );
    let reviewed = batches::batch(&s.db.pool, batch.id).await.unwrap();
    assert!(reviewed.approvals.is_empty());
    assert_ne!(reviewed.content_hash, edited.content_hash);
    // the new destination is unconfirmed: nobody approves until a second treasurer confirms it
    assert_eq!(
        batches::approve(&s.db.pool, batch.id, s.second, &reviewed.content_hash).await.unwrap(),
        Err(Refusal::Unconfirmed(vec![people[1]]))
    );
    let item = reviewed.items.iter().find(|i| i.beneficiary == people[1]).unwrap();
    assert!(!item.destination_confirmed);
    confirm_all(&s.db.pool, s.campaign.id, s.third).await;
    assert!(batches::approve(&s.db.pool, batch.id, s.second, &reviewed.content_hash).await.unwrap().is_ok());
    assert_eq!(
        batches::approve(&s.db.pool, batch.id, s.third, &reviewed.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );
    s.db.drop_database().await;
}

#[tokio::test]
async fn short_funds_hold_nothing_and_concurrent_batches_cannot_overdraw() {
    let s = setup("1500").await;
    let people = beneficiaries_for(&s, 3).await;
    // one batch that does not fit at all
    let too_big =
        batches::create(&s.db.pool, s.campaign.id, s.creator, &items(&people[..2], "1000")).await.unwrap();
    assert!(batches::approve(&s.db.pool, too_big.id, s.second, &too_big.content_hash).await.unwrap().is_ok());
    let refused = batches::approve(&s.db.pool, too_big.id, s.third, &too_big.content_hash).await.unwrap();
    assert!(matches!(refused, Err(Refusal::InsufficientFunds { .. })), "{refused:?}");
    assert_eq!(count(&s, "select count(*) from ledger_holds").await, 0);
    assert_eq!(count(&s, "select count(*) from outbox").await, 0);
    assert_eq!(batches::batch(&s.db.pool, too_big.id).await.unwrap().status.as_str(), "awaiting_approval");

    // two batches of 1,000 each against 1,500, their last approvals at the same moment
    let a =
        batches::create(&s.db.pool, s.campaign.id, s.creator, &items(&people[..1], "1000")).await.unwrap();
    let b =
        batches::create(&s.db.pool, s.campaign.id, s.creator, &items(&people[2..], "1000")).await.unwrap();
    for batch in [&a, &b] {
        assert!(batches::approve(&s.db.pool, batch.id, s.second, &batch.content_hash).await.unwrap().is_ok());
    }
    let (pool_a, pool_b) = (s.db.pool.clone(), s.db.pool.clone());
    let (hash_a, hash_b) = (a.content_hash.clone(), b.content_hash.clone());
    let third = s.third;
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { batches::approve(&pool_a, a.id, third, &hash_a).await.unwrap() }),
        tokio::spawn(async move { batches::approve(&pool_b, b.id, third, &hash_b).await.unwrap() }),
    );
    let outcomes = [ra.unwrap(), rb.unwrap()];
    assert_eq!(outcomes.iter().filter(|o| **o == Ok(Approved::Released)).count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| matches!(o, Err(Refusal::InsufficientFunds { .. }))).count(), 1);
    assert_eq!(available(&s).await, eur("500"));
    s.db.drop_database().await;
}

/// Every action that moves money or grants power carries its audit entry: the domain appends it
/// in the action's transaction, so no caller (HTTP, command line, a test) can leave it out, and
/// an action by no one in particular is refused with nothing written.
#[tokio::test]
async fn actions_append_their_own_audit_entries_and_need_someone_to_answer_for_them() {
    let s = setup("3000").await;
    let people = beneficiaries_for(&s, 2).await;
    let batch = batches::create(&s.db.pool, s.campaign.id, s.creator, &items(&people, "1000")).await.unwrap();
    let refused = batches::approve(&s.db.pool, batch.id, s.creator, &batch.content_hash).await.unwrap();
    assert!(matches!(refused, Err(Refusal::Creator)));
    batches::approve(&s.db.pool, batch.id, s.second, &batch.content_hash).await.unwrap().unwrap();
    let entries: Vec<(String, String, Option<String>)> =
        sqlx::query_as("select actor, action, subject from audit_log order by seq")
            .fetch_all(&s.db.pool)
            .await
            .unwrap();
    let subject = Some(format!("payout_batch:{}", batch.id));
    let ours: Vec<(String, String, Option<String>)> =
        entries.into_iter().filter(|(_, action, _)| action.starts_with("payout_batch.")).collect();
    assert_eq!(
        ours,
        [
            (s.creator.to_string(), "payout_batch.create".to_owned(), subject.clone()),
            (s.creator.to_string(), "payout_batch.approve_refused".to_owned(), subject.clone()),
            (s.second.to_string(), "payout_batch.approve_approved".to_owned(), subject),
        ]
    );
    // the bootstrap token or the command line cannot approve: no one would answer for it
    let before = count(&s, "select count(*) from audit_log").await;
    let mut db = s.db.pool.begin().await.unwrap();
    let err = batches::approve_in(&mut db, batch.id, &zbor_audit::Actor::BOOTSTRAP, &batch.content_hash)
        .await
        .unwrap_err();
    drop(db);
    assert!(matches!(err, zbor_payouts::Error::NeedsUser(_)), "{err}");
    assert_eq!(count(&s, "select count(*) from audit_log").await, before);
    assert_eq!(count(&s, "select count(*) from payout_approvals").await, 1);
    s.db.drop_database().await;
}

/// The campaign's own number of approvals (zbor-campaigns keeps it) is what a batch shows, lists
/// and waits for; its funds are what the released batch holds.
#[tokio::test]
async fn a_batch_waits_for_its_campaigns_number_of_approvals() {
    let s = setup("3000").await;
    sqlx::query("update campaigns set payout_approvals_required = 3 where id = $1")
        .bind(s.campaign.id)
        .execute(&s.db.pool)
        .await
        .unwrap();
    let people = beneficiaries_for(&s, 3).await;
    let batch = batches::create(&s.db.pool, s.campaign.id, s.creator, &items(&people, "1000")).await.unwrap();
    assert_eq!(batch.approvals_required, 3);
    let listed = batches::list(&s.db.pool, 10).await.unwrap();
    assert_eq!(
        (listed[0].id, listed[0].campaign_slug.as_str(), listed[0].approvals_required),
        (batch.id, "release-123", 3)
    );
    let hash = batch.content_hash.clone();
    assert_eq!(
        batches::approve(&s.db.pool, batch.id, s.second, &hash).await.unwrap(),
        Ok(Approved::Waiting { more: 2 })
    );
    assert_eq!(
        batches::approve(&s.db.pool, batch.id, s.third, &hash).await.unwrap(),
        Ok(Approved::Waiting { more: 1 })
    );
    let fourth = treasurers(&s.db, &s.key, &["fourth@example.org"]).await[0];
    assert_eq!(batches::approve(&s.db.pool, batch.id, fourth, &hash).await.unwrap(), Ok(Approved::Released));
    assert_eq!(available(&s).await, eur("0"), "all 3,000 held on the campaign's funds");
    s.db.drop_database().await;
}

/// The largest batch there is, released by its last approval: every payout held, approved and
/// queued for the workers in the one transaction (with one statement each for the holds, the
/// payouts and the outbox: a release of 5,000 no longer takes 5,000 funds checks).
#[tokio::test]
async fn a_batch_of_5000_is_released_whole() {
    let s = setup("6000").await;
    let mut csv = String::from("name,contact,iban,bic,stripe_account,note\n");
    for n in 0..batches::ITEMS_MAX {
        csv.push_str(&format!("Person {n},,,,acct_1Batch{n:07},\n"));
    }
    let report =
        zbor_payouts::import::import_csv(&s.db.pool, &s.key, s.campaign.id, csv.as_bytes(), |_, _| {})
            .await
            .unwrap();
    assert_eq!((report.created, report.errors.len()), (batches::ITEMS_MAX, 0));
    confirm_all(&s.db.pool, s.campaign.id, s.third).await;
    let people: Vec<BeneficiaryId> =
        beneficiaries::list(&s.db.pool, s.campaign.id).await.unwrap().iter().map(|b| b.id).collect();
    let batch = batches::create(&s.db.pool, s.campaign.id, s.creator, &items(&people, "1.00")).await.unwrap();
    assert_eq!(
        batches::approve(&s.db.pool, batch.id, s.second, &batch.content_hash).await.unwrap(),
        Ok(Approved::Waiting { more: 1 })
    );
    assert_eq!(
        batches::approve(&s.db.pool, batch.id, s.third, &batch.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );

    assert_eq!(
        count(&s, "select count(*) from payouts where status = 'approved' and hold_id is not null").await,
        5000
    );
    let held = format!(
        "select count(*) from payouts p join ledger_holds h on h.id = p.hold_id
         where h.status = 'pending' and h.amount = p.amount and h.debit_account_id = {}",
        s.campaign.ledger_account
    );
    assert_eq!(count(&s, &held).await, 5000, "one pending hold per payout, on the campaign's funds");
    assert_eq!(count(&s, "select count(*) from ledger_holds").await, 5000);
    let queued = "select count(distinct o.job_key) from outbox o join payouts p
                  on o.job_key = 'payout:' || p.id and o.payload = jsonb_build_object('payout', p.id)
                  where o.stream = 'payouts' and o.published_at is null";
    assert_eq!(count(&s, queued).await, 5000, "one job per payout");
    assert_eq!(count(&s, "select count(*) from outbox").await, 5000);
    assert_eq!(available(&s).await, eur("1000"));
    let released = batches::batch(&s.db.pool, batch.id).await.unwrap();
    assert_eq!((released.status, released.counts.get("approved")), (BatchStatus::Approved, Some(&5000)));
    zbor_ledger::seal_all(&s.db.pool).await.unwrap();
    assert!(zbor_ledger::verify(&s.db.pool).await.unwrap().is_ok());

    // a second batch that does not fit the 1,000 left: refused whole, nothing more held
    let more = &people[..1001];
    let next = batches::create(&s.db.pool, s.campaign.id, s.creator, &items(more, "1.00")).await.unwrap();
    batches::approve(&s.db.pool, next.id, s.second, &next.content_hash).await.unwrap().unwrap();
    let refused = batches::approve(&s.db.pool, next.id, s.third, &next.content_hash).await.unwrap();
    assert_eq!(
        refused,
        Err(Refusal::InsufficientFunds { available: "1000.00".into(), requested: "1001.00".into() })
    );
    assert_eq!(count(&s, "select count(*) from ledger_holds").await, 5000);
    assert_eq!(count(&s, "select count(*) from outbox").await, 5000);
    s.db.drop_database().await;
}
