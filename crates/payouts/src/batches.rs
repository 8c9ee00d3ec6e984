//! Payout batches and four-eyes approvals.
//!
//! A treasurer creates a batch; its content hash covers the campaign, the currency, and every
//! item's beneficiary, amount and payee fingerprint (sorted by beneficiary). An approval signs the
//! hash the approver saw. The campaign's required number of distinct treasurers must approve,
//! never the creator (the database refuses that too), nobody twice. Editing the items, or a
//! beneficiary's destination changing, gives a new hash and voids every approval so far.
//!
//! The last approval does, in one database transaction: a ledger hold per payout on the
//! campaign's funds (so all fit or none: the non-negative guard refuses the holds that do not,
//! also against concurrent batches), the payouts' state, and one outbox job per payout, each
//! written by one statement for the whole batch.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgExecutor, PgPool};
use zbor_audit::{Actor, UserId};
use zbor_campaigns::{Campaign, CampaignId};
use zbor_ledger::{AccountId, Currency, HoldId, Money, NewHold};

use crate::beneficiaries::{BeneficiaryId, MethodKind};
use crate::jobs::{self, PayoutJob};
use crate::rails::{self, Delivery};
use crate::treasury::PayoutStatus;
use crate::{BatchId, Error, PayoutId};

/// Most items per batch (a release of hundreds of people fits with room).
pub const ITEMS_MAX: usize = 5_000;

/// A batch's state, as the database has it (type `payout_batch_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "payout_batch_status", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    AwaitingApproval,
    Approved,
    Cancelled,
}

impl std::fmt::Display for BatchStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl BatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::AwaitingApproval => "awaiting_approval",
            BatchStatus::Approved => "approved",
            BatchStatus::Cancelled => "cancelled",
        }
    }
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub beneficiary: BeneficiaryId,
    /// A decimal string in the campaign's currency.
    #[schema(example = "1000.00")]
    pub amount: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Item {
    pub payout: PayoutId,
    pub beneficiary: BeneficiaryId,
    /// A decimal string in the batch's currency.
    #[serde(serialize_with = "amount_string")]
    #[schema(value_type = String, example = "1000.00")]
    pub amount: Money,
    pub status: PayoutStatus,
    /// What approvers see of the destination: the method and its last four characters.
    pub method: MethodKind,
    pub masked_destination: Option<String>,
    /// A second treasurer confirmed the beneficiary's current destination.
    pub destination_confirmed: bool,
    /// The destination differs from the one this beneficiary was last paid to.
    pub changed_since_last_payout: bool,
}

fn amount_string<S: serde::Serializer>(money: &Money, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&money.amount().to_string())
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Batch {
    pub id: BatchId,
    pub campaign_id: CampaignId,
    pub currency: Currency,
    pub created_by: UserId,
    pub status: BatchStatus,
    /// What an approver signs (hex).
    pub content_hash: String,
    pub approvals: Vec<UserId>,
    pub approvals_required: i32,
    /// A decimal string in the batch's currency.
    #[serde(serialize_with = "amount_string")]
    #[schema(value_type = String, example = "123000.00")]
    pub total: Money,
    /// How many items are in each state.
    pub counts: std::collections::BTreeMap<String, usize>,
    pub items: Vec<Item>,
}

/// What an approval did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Approved {
    /// Recorded; this many more are needed.
    Waiting { more: i32 },
    /// The last one: funds held, payouts queued.
    Released,
}

impl Approved {
    /// In words, as the audit entry's action and the API's answer say it.
    pub fn name(self) -> &'static str {
        match self {
            Approved::Waiting { .. } => "approved",
            Approved::Released => "released",
        }
    }

    /// Approvals still needed before the batch is released.
    pub fn more_needed(self) -> i32 {
        match self {
            Approved::Waiting { more } => more,
            Approved::Released => 0,
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidField { field, reason: reason.into() }
}

/// The content hash: campaign, currency, then each item sorted by beneficiary.
fn content_hash(
    campaign_id: CampaignId,
    currency: Currency,
    items: &[(BeneficiaryId, Decimal, Vec<u8>)],
) -> [u8; 32] {
    let mut sorted: Vec<&(BeneficiaryId, Decimal, Vec<u8>)> = items.iter().collect();
    sorted.sort_by_key(|(beneficiary, ..)| *beneficiary);
    let mut hash = Sha256::new();
    hash.update(b"zbor-payout-batch-v1\0");
    hash.update(campaign_id.as_i64().to_be_bytes());
    hash.update(currency.code().as_bytes());
    for (beneficiary, amount, fingerprint) in sorted {
        hash.update(beneficiary.as_i64().to_be_bytes());
        let amount = amount.normalize().to_string();
        hash.update(u64::try_from(amount.len()).unwrap_or(u64::MAX).to_be_bytes());
        hash.update(amount.as_bytes());
        hash.update(fingerprint);
    }
    hash.finalize().into()
}

/// Validates items against the campaign and reads each beneficiary's current payee fingerprint.
async fn resolve_items(
    db: &mut PgConnection,
    campaign_id: CampaignId,
    currency: Currency,
    items: &[NewItem],
) -> Result<Vec<(BeneficiaryId, Decimal, Vec<u8>)>, Error> {
    if items.is_empty() || items.len() > ITEMS_MAX {
        return Err(invalid("items", format!("1 to {ITEMS_MAX} items")));
    }
    let mut seen = std::collections::HashSet::new();
    let mut resolved = Vec::with_capacity(items.len());
    let mut unconfirmed = Vec::new();
    for item in items {
        if !seen.insert(item.beneficiary) {
            return Err(invalid("items", format!("beneficiary {} appears twice", item.beneficiary)));
        }
        let amount = Money::parse(&item.amount, currency).map_err(|e| invalid("amount", e.to_string()))?;
        if !amount.is_positive() {
            return Err(invalid("amount", "must be more than zero"));
        }
        let found: Option<(Vec<u8>, bool)> = sqlx::query_as(
            "select payee_fingerprint, destination_confirmed_at is not null
             from beneficiaries where id = $1 and campaign_id = $2",
        )
        .bind(item.beneficiary)
        .bind(campaign_id)
        .fetch_optional(&mut *db)
        .await?;
        let (fingerprint, confirmed) = found.ok_or(Error::BeneficiaryNotFound(item.beneficiary))?;
        if !confirmed {
            unconfirmed.push(item.beneficiary);
        }
        resolved.push((item.beneficiary, amount.amount(), fingerprint));
    }
    if !unconfirmed.is_empty() {
        return Err(Error::DestinationUnconfirmed(unconfirmed));
    }
    Ok(resolved)
}

/// Beneficiaries of the batch whose destination no second treasurer has confirmed (a
/// destination changed after the batch was made is unconfirmed again).
async fn unconfirmed_in(db: &mut PgConnection, batch_id: BatchId) -> Result<Vec<BeneficiaryId>, Error> {
    Ok(sqlx::query_scalar(
        "select b.id from payouts p join beneficiaries b on b.id = p.beneficiary_id
         where p.batch_id = $1 and b.destination_confirmed_at is null order by b.id",
    )
    .bind(batch_id)
    .fetch_all(&mut *db)
    .await?)
}

/// The batch's campaign: its currency, funds and approvals required (zbor-campaigns owns them).
async fn campaign_of<'c>(db: impl PgExecutor<'c>, campaign_id: CampaignId) -> Result<Campaign, Error> {
    zbor_campaigns::by_id(db, campaign_id).await?.ok_or(Error::CampaignNotFound(campaign_id))
}

async fn campaign_currency(db: &mut PgConnection, campaign_id: CampaignId) -> Result<Currency, Error> {
    Ok(campaign_of(db, campaign_id).await?.currency)
}

/// Creates a batch awaiting approval. `created_by` is the treasurer's user id.
pub async fn create(
    pool: &PgPool,
    campaign_id: CampaignId,
    created_by: UserId,
    items: &[NewItem],
) -> Result<Batch, Error> {
    let mut db = pool.begin().await?;
    let id = create_in(&mut db, campaign_id, &Actor::user(created_by), items).await?;
    db.commit().await?;
    batch(pool, id).await
}

/// [`create`] in the caller's transaction, with its audit entry (how many items, the content
/// hash): the new batch's id.
pub async fn create_in(
    db: &mut PgConnection,
    campaign_id: CampaignId,
    actor: &Actor,
    items: &[NewItem],
) -> Result<BatchId, Error> {
    let created_by = actor.user_id().ok_or(Error::NeedsUser("a payout batch"))?;
    let id = insert(&mut *db, campaign_id, created_by, items).await?;
    let (count, content_hash) = summary_in(&mut *db, id).await?;
    let details = serde_json::json!({ "items": count, "content_hash": content_hash });
    zbor_audit::record_in(db, actor, "payout_batch.create", Some(&subject(id)), details).await?;
    Ok(id)
}

/// The audit log's name for a batch.
fn subject(id: BatchId) -> String {
    format!("payout_batch:{id}")
}

async fn insert(
    db: &mut PgConnection,
    campaign_id: CampaignId,
    created_by: UserId,
    items: &[NewItem],
) -> Result<BatchId, Error> {
    let currency = campaign_currency(&mut *db, campaign_id).await?;
    let resolved = resolve_items(&mut *db, campaign_id, currency, items).await?;
    let hash = content_hash(campaign_id, currency, &resolved);
    let id: BatchId = sqlx::query_scalar(
        "insert into payout_batches (campaign_id, currency, created_by, content_hash) values ($1, $2, $3, $4) returning id",
    )
    .bind(campaign_id)
    .bind(currency.code())
    .bind(created_by)
    .bind(hash.to_vec())
    .fetch_one(&mut *db)
    .await?;
    insert_items(&mut *db, id, &resolved).await?;
    Ok(id)
}

async fn insert_items(
    db: &mut PgConnection,
    batch_id: BatchId,
    items: &[(BeneficiaryId, Decimal, Vec<u8>)],
) -> Result<(), Error> {
    let beneficiaries: Vec<BeneficiaryId> = items.iter().map(|(b, ..)| *b).collect();
    let amounts: Vec<Decimal> = items.iter().map(|(_, a, _)| *a).collect();
    let fingerprints: Vec<Vec<u8>> = items.iter().map(|(.., f)| f.clone()).collect();
    sqlx::query(
        "insert into payouts (batch_id, beneficiary_id, amount, payee_fingerprint)
         select $1, b, a, f from unnest($2::bigint[], $3::numeric[], $4::bytea[]) as t(b, a, f)",
    )
    .bind(batch_id)
    .bind(&beneficiaries)
    .bind(&amounts)
    .bind(&fingerprints)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Replaces the items of a batch still awaiting approval: a new hash, and every approval so far
/// is void.
pub async fn edit(pool: &PgPool, batch_id: BatchId, items: &[NewItem]) -> Result<Batch, Error> {
    let mut db = pool.begin().await?;
    let (campaign_id, currency, status) = lock_batch(&mut db, batch_id).await?;
    if status != BatchStatus::AwaitingApproval {
        return Err(invalid(
            "batch",
            format!("batch {batch_id} is {status}; only a batch awaiting approval changes"),
        ));
    }
    let resolved = resolve_items(&mut db, campaign_id, currency, items).await?;
    sqlx::query("delete from payouts where batch_id = $1").bind(batch_id).execute(&mut *db).await?;
    insert_items(&mut db, batch_id, &resolved).await?;
    let hash = content_hash(campaign_id, currency, &resolved);
    sqlx::query("update payout_batches set content_hash = $2 where id = $1")
        .bind(batch_id)
        .bind(hash.to_vec())
        .execute(&mut *db)
        .await?;
    let voided = sqlx::query("delete from payout_approvals where batch_id = $1")
        .bind(batch_id)
        .execute(&mut *db)
        .await?;
    db.commit().await?;
    tracing::info!(
        batch = batch_id.as_i64(),
        voided = voided.rows_affected(),
        "payout batch edited; approvals voided"
    );
    batch(pool, batch_id).await
}

async fn lock_batch(
    db: &mut PgConnection,
    batch_id: BatchId,
) -> Result<(CampaignId, Currency, BatchStatus), Error> {
    let row: Option<(CampaignId, String, BatchStatus)> =
        sqlx::query_as("select campaign_id, currency, status from payout_batches where id = $1 for update")
            .bind(batch_id)
            .fetch_optional(&mut *db)
            .await?;
    let (campaign_id, currency, status) = row.ok_or(Error::BatchNotFound(batch_id))?;
    Ok((campaign_id, Currency::parse(&currency)?, status))
}

/// Why an approval was refused; each is the approver's (or the content's) fault, a 4xx.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the creator of a batch cannot approve it")]
    Creator,
    #[error("you have already approved this batch")]
    Twice,
    #[error("the batch changed since you looked at it: review it again and sign its new hash")]
    Stale,
    #[error(
        "a beneficiary's payout destination changed: the approvals so far are void; review the batch again"
    )]
    DestinationChanged,
    #[error("the batch is {0}, not awaiting approval")]
    NotAwaiting(BatchStatus),
    #[error(
        "beneficiaries {} have a destination no second treasurer has confirmed: confirm them, then approve",
        .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    Unconfirmed(Vec<BeneficiaryId>),
    #[error(
        "the campaign's available funds ({available}) do not cover this batch ({requested}): nothing is held"
    )]
    InsufficientFunds { available: String, requested: String },
}

/// Records `approver`'s approval of the content with hash `signed` (hex). The last required
/// approval releases the batch: holds, payouts approved, jobs queued, in one transaction.
pub async fn approve(
    pool: &PgPool,
    batch_id: BatchId,
    approver: UserId,
    signed: &str,
) -> Result<Result<Approved, Refusal>, Error> {
    let mut db = pool.begin().await?;
    let outcome = approve_in(&mut db, batch_id, &Actor::user(approver), signed).await?;
    db.commit().await?;
    Ok(outcome)
}

/// [`approve`] in the caller's transaction, with the audit entry of the approval or of its
/// refusal (`payout_batch.approve_{approved,released,refused}`). The caller commits whatever the
/// outcome: a refusal leaves nothing behind but its entry and the voided approvals of a batch
/// whose destinations changed.
pub async fn approve_in(
    db: &mut PgConnection,
    batch_id: BatchId,
    actor: &Actor,
    signed: &str,
) -> Result<Result<Approved, Refusal>, Error> {
    let approver = actor.user_id().ok_or(Error::NeedsUser("an approval"))?;
    let outcome = approve_as(&mut *db, batch_id, approver, signed).await?;
    let (status, mut details) = describe(&outcome);
    details["content_hash"] = serde_json::json!(signed.chars().take(64).collect::<String>());
    let action = format!("payout_batch.approve_{status}");
    zbor_audit::record_in(db, actor, &action, Some(&subject(batch_id)), details).await?;
    Ok(outcome)
}

/// An approval's outcome in words (`approved`, `released`, `refused`) and details: what the
/// audit entry and the API's answer say.
pub fn describe(outcome: &Result<Approved, Refusal>) -> (&'static str, serde_json::Value) {
    match outcome {
        Ok(approved) => (approved.name(), serde_json::json!({ "more_needed": approved.more_needed() })),
        Err(refusal) => ("refused", serde_json::json!({ "reason": refusal.to_string() })),
    }
}

async fn approve_as(
    db: &mut PgConnection,
    batch_id: BatchId,
    approver: UserId,
    signed: &str,
) -> Result<Result<Approved, Refusal>, Error> {
    let (campaign_id, currency, status) = lock_batch(&mut *db, batch_id).await?;
    if status != BatchStatus::AwaitingApproval {
        return Ok(Err(Refusal::NotAwaiting(status)));
    }
    let (created_by, stored_hash): (UserId, Vec<u8>) =
        sqlx::query_as("select b.created_by, b.content_hash from payout_batches b where b.id = $1")
            .bind(batch_id)
            .fetch_one(&mut *db)
            .await?;
    let campaign = campaign_of(&mut *db, campaign_id).await?;
    let required = campaign.payout_approvals_required;
    if created_by == approver {
        return Ok(Err(Refusal::Creator));
    }
    let already: bool = sqlx::query_scalar(
        "select exists (select 1 from payout_approvals where batch_id = $1 and user_id = $2)",
    )
    .bind(batch_id)
    .bind(approver)
    .fetch_one(&mut *db)
    .await?;
    if already {
        return Ok(Err(Refusal::Twice));
    }
    // the content now, with each beneficiary's destination as it is now
    let current: Vec<(BeneficiaryId, Decimal, Vec<u8>)> = sqlx::query_as(
        "select p.beneficiary_id, p.amount, b.payee_fingerprint from payouts p
         join beneficiaries b on b.id = p.beneficiary_id where p.batch_id = $1",
    )
    .bind(batch_id)
    .fetch_all(&mut *db)
    .await?;
    let now_hash = content_hash(campaign_id, currency, &current);
    if now_hash.as_slice() != stored_hash.as_slice() {
        // a destination changed after the batch was made: void the approvals, take the new content
        sqlx::query("delete from payout_approvals where batch_id = $1")
            .bind(batch_id)
            .execute(&mut *db)
            .await?;
        sqlx::query(
            "update payouts p set payee_fingerprint = b.payee_fingerprint from beneficiaries b
             where p.batch_id = $1 and b.id = p.beneficiary_id",
        )
        .bind(batch_id)
        .execute(&mut *db)
        .await?;
        sqlx::query("update payout_batches set content_hash = $2 where id = $1")
            .bind(batch_id)
            .bind(now_hash.to_vec())
            .execute(&mut *db)
            .await?;
        return Ok(Err(Refusal::DestinationChanged));
    }
    if !hex::decode(signed.trim()).is_ok_and(|h| h == stored_hash) {
        return Ok(Err(Refusal::Stale));
    }
    let unconfirmed = unconfirmed_in(&mut *db, batch_id).await?;
    if !unconfirmed.is_empty() {
        return Ok(Err(Refusal::Unconfirmed(unconfirmed)));
    }
    sqlx::query("insert into payout_approvals (batch_id, user_id, content_hash) values ($1, $2, $3)")
        .bind(batch_id)
        .bind(approver)
        .bind(&stored_hash)
        .execute(&mut *db)
        .await?;
    let approvals: i64 = sqlx::query_scalar("select count(*) from payout_approvals where batch_id = $1")
        .bind(batch_id)
        .fetch_one(&mut *db)
        .await?;
    let more = i64::from(required) - approvals;
    if more > 0 {
        return Ok(Ok(Approved::Waiting { more: i32::try_from(more).unwrap_or(i32::MAX) }));
    }
    // a savepoint: funds that do not cover the batch undo this approval and every hold, while
    // the caller still commits its audit entry of the refusal
    let mut release_point = sqlx::Connection::begin(&mut *db).await?;
    match release(&mut release_point, batch_id, currency, campaign.ledger_account).await? {
        Ok(()) => release_point.commit().await?,
        Err(refusal) => {
            release_point.rollback().await?;
            sqlx::query("delete from payout_approvals where batch_id = $1 and user_id = $2")
                .bind(batch_id)
                .bind(approver)
                .execute(&mut *db)
                .await?;
            return Ok(Err(refusal));
        }
    }
    tracing::info!(batch = batch_id.as_i64(), "payout batch approved and released");
    Ok(Ok(Approved::Released))
}

/// Holds, payouts and jobs of a released batch, in the caller's transaction, in a number of
/// statements that does not grow with the batch: the destination accounts ensured once per rail,
/// every hold in one call (one funds check for the campaign, after the insert), the payouts
/// updated and their jobs queued with one statement each.
async fn release(
    db: &mut PgConnection,
    batch_id: BatchId,
    currency: Currency,
    campaign_account: AccountId,
) -> Result<Result<(), Refusal>, Error> {
    let payouts: Vec<(PayoutId, Decimal, MethodKind)> = sqlx::query_as(
        "select p.id, p.amount, b.method from payouts p join beneficiaries b on b.id = p.beneficiary_id
         where p.batch_id = $1 order by p.id",
    )
    .bind(batch_id)
    .fetch_all(&mut *db)
    .await?;
    let mut total = Money::zero(currency);
    for (_, amount, _) in &payouts {
        total = total.checked_add(&Money::new(*amount, currency)?)?;
    }
    // where the money is when it leaves zbor's books, per rail: Stripe's balance or the bank
    let mut destinations: HashMap<MethodKind, AccountId> = HashMap::new();
    let mut holds = Vec::with_capacity(payouts.len());
    let mut jobs = Vec::new();
    for &(payout, amount, method) in &payouts {
        let rail = rails::of(method);
        let destination = match destinations.get(&method) {
            Some(&account) => account,
            None => {
                let account = zbor_ledger::ensure_account(&mut *db, &rail.ledger_account(currency)).await?.id;
                destinations.insert(method, account);
                account
            }
        };
        holds.push(NewHold {
            id: HoldId::derived_from(&format!("payout:{payout}")),
            debit: campaign_account,
            credit: destination,
            amount: Money::new(amount, currency)?,
            expires_at: None,
            metadata: serde_json::json!({ "kind": "payout", "payout": payout, "batch": batch_id }),
        });
        // workers pay what their rail delivers; files and hand-overs wait for treasurers
        if rail.delivery() == Delivery::Worker {
            jobs.push(PayoutJob { payout });
        }
    }
    match zbor_ledger::create_holds_in(&mut *db, &holds).await {
        Ok(_) => {}
        Err(zbor_ledger::Error::InsufficientFunds { available, .. }) => {
            // the caller's transaction is dropped: no hold, no approval, nothing queued
            return Ok(Err(Refusal::InsufficientFunds { available, requested: total.amount().to_string() }));
        }
        Err(e) => return Err(e.into()),
    }
    let ids: Vec<i64> = payouts.iter().map(|(payout, ..)| payout.as_i64()).collect();
    let hold_ids: Vec<uuid::Uuid> = holds.iter().map(|hold| hold.id.as_uuid()).collect();
    sqlx::query(
        // the relay publishes them now; the sweeper again only what is still unpaid by then
        "update payouts p set status = 'approved', hold_id = u.hold_id,
                next_attempt_at = now() + $3 * interval '1 millisecond'
         from unnest($1::bigint[], $2::uuid[]) as u (id, hold_id)
         where p.id = u.id",
    )
    .bind(&ids)
    .bind(&hold_ids)
    .bind(jobs::millis(jobs::REPUBLISH_AFTER))
    .execute(&mut *db)
    .await?;
    PayoutJob::enqueue_all_in(&mut *db, &jobs).await?;
    sqlx::query("update payout_batches set status = 'approved', approved_at = now() where id = $1")
        .bind(batch_id)
        .execute(&mut *db)
        .await?;
    Ok(Ok(()))
}

/// How many items a batch has and its content hash (hex), in the caller's transaction: what
/// its creation's audit entry records.
pub async fn summary_in(db: &mut PgConnection, id: BatchId) -> Result<(i64, String), Error> {
    sqlx::query_as(
        "select (select count(*) from payouts where batch_id = b.id), encode(b.content_hash, 'hex')
         from payout_batches b where b.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *db)
    .await?
    .ok_or(Error::BatchNotFound(id))
}

/// The batch with its items and approvals.
pub async fn batch(pool: &PgPool, id: BatchId) -> Result<Batch, Error> {
    let row: Option<(CampaignId, String, UserId, BatchStatus, Vec<u8>)> = sqlx::query_as(
        "select b.campaign_id, b.currency, b.created_by, b.status, b.content_hash
         from payout_batches b where b.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let (campaign_id, currency, created_by, status, hash) = row.ok_or(Error::BatchNotFound(id))?;
    let approvals_required = campaign_of(pool, campaign_id).await?.payout_approvals_required;
    let currency = Currency::parse(&currency)?;
    #[derive(sqlx::FromRow)]
    struct ItemRow {
        payout: PayoutId,
        beneficiary: BeneficiaryId,
        amount: Decimal,
        status: PayoutStatus,
        method: MethodKind,
        masked: Option<String>,
        confirmed: bool,
        changed_since_last_payout: bool,
    }
    let rows: Vec<ItemRow> = sqlx::query_as(&format!(
        "select p.id as payout, p.beneficiary_id as beneficiary, p.amount, p.status,
                b.method, b.masked, b.destination_confirmed_at is not null as confirmed,
                {} as changed_since_last_payout
         from payouts p join beneficiaries b on b.id = p.beneficiary_id
         where p.batch_id = $1 order by p.id",
        crate::beneficiaries::CHANGED_SINCE_LAST_PAYOUT
    ))
    .bind(id)
    .fetch_all(pool)
    .await?;
    let mut total = Money::zero(currency);
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let amount = Money::new(row.amount, currency)?;
        total = total.checked_add(&amount)?;
        items.push(Item {
            payout: row.payout,
            beneficiary: row.beneficiary,
            amount,
            status: row.status,
            method: row.method,
            masked_destination: row.masked,
            destination_confirmed: row.confirmed,
            changed_since_last_payout: row.changed_since_last_payout,
        });
    }
    let mut counts = std::collections::BTreeMap::new();
    for item in &items {
        *counts.entry(item.status.as_str().to_owned()).or_insert(0) += 1;
    }
    let approvals: Vec<UserId> =
        sqlx::query_scalar("select user_id from payout_approvals where batch_id = $1 order by approved_at")
            .bind(id)
            .fetch_all(pool)
            .await?;
    Ok(Batch {
        id,
        campaign_id,
        currency,
        created_by,
        status,
        content_hash: hex::encode(hash),
        approvals,
        approvals_required,
        total,
        counts,
        items,
    })
}

/// A batch in a list: what a treasurer needs to pick it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct BatchSummary {
    pub id: BatchId,
    pub campaign_id: CampaignId,
    /// From zbor-campaigns, as is `approvals_required`.
    #[sqlx(skip)]
    pub campaign_slug: String,
    pub currency: String,
    pub created_by: UserId,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub status: BatchStatus,
    pub content_hash: String,
    pub items: i64,
    #[serde(serialize_with = "decimal_string")]
    #[schema(value_type = String, example = "123000.00")]
    pub total: Decimal,
    pub approvals: Vec<UserId>,
    #[sqlx(skip)]
    pub approvals_required: i32,
    /// Items not yet paid, cancelled or reversed.
    pub unfinished: i64,
}

fn decimal_string<S: serde::Serializer>(amount: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&amount.to_string())
}

/// The most recent batches, newest first, at most `limit` (capped at 500).
pub async fn list(pool: &PgPool, limit: i64) -> Result<Vec<BatchSummary>, Error> {
    let mut batches: Vec<BatchSummary> = sqlx::query_as(
        "select b.id, b.campaign_id, b.currency::text as currency, b.created_by,
                b.created_at, b.status, encode(b.content_hash, 'hex') as content_hash,
                (select count(*) from payouts p where p.batch_id = b.id) as items,
                coalesce((select sum(amount) from payouts p where p.batch_id = b.id), 0) as total,
                array(select user_id from payout_approvals a where a.batch_id = b.id order by approved_at) as approvals,
                (select count(*) from payouts p where p.batch_id = b.id
                   and p.status not in ('paid', 'cancelled', 'reversed')) as unfinished
         from payout_batches b
         order by b.id desc limit $1",
    )
    .bind(limit.clamp(1, 500))
    .fetch_all(pool)
    .await?;
    let ids: Vec<CampaignId> = batches.iter().map(|b| b.campaign_id).collect();
    let campaigns = zbor_campaigns::by_ids(pool, &ids).await?;
    for batch in &mut batches {
        let campaign = campaigns
            .iter()
            .find(|c| c.id == batch.campaign_id)
            .ok_or(Error::CampaignNotFound(batch.campaign_id))?;
        batch.campaign_slug = campaign.slug.as_str().to_owned();
        batch.approvals_required = campaign.payout_approvals_required;
    }
    Ok(batches)
}

/// Cancels a batch still awaiting approval (nothing is held yet): it and its items end, with an
/// audit entry, in the caller's transaction.
pub async fn cancel_in(db: &mut PgConnection, batch_id: BatchId, actor: &Actor) -> Result<(), Error> {
    let (_, _, status) = lock_batch(&mut *db, batch_id).await?;
    if status != BatchStatus::AwaitingApproval {
        return Err(Error::WrongState(format!(
            "batch {batch_id} is {status}: only a batch awaiting approval is cancelled whole; cancel its payouts one by one"
        )));
    }
    sqlx::query("update payout_batches set status = 'cancelled' where id = $1")
        .bind(batch_id)
        .execute(&mut *db)
        .await?;
    sqlx::query("update payouts set status = 'cancelled' where batch_id = $1")
        .bind(batch_id)
        .execute(&mut *db)
        .await?;
    zbor_audit::record_in(db, actor, "payout_batch.cancel", Some(&subject(batch_id)), serde_json::json!({}))
        .await?;
    Ok(())
}
