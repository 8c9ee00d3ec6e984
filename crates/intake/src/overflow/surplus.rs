//! Surplus transfers: money that landed after a campaign's cap (gifts in flight when it was
//! funded) moved on to its overflow campaign by one balanced ledger transaction, audited.
//!
//! Four eyes above a threshold: a transfer of at most `solo_max` (in the campaign's currency; the
//! operator sets it, `ZBOR_SURPLUS_SOLO_MAX`, so no one can raise it through the API) is made by
//! its requester at once; a larger one waits for a second person, who cannot be the requester.
//! What is moved is exactly what was requested (the row is never changed), and the funds are
//! checked again at the moment of moving, under the campaign's row lock.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;
use zbor_audit::{Actor, UserId};
use zbor_campaigns::{Campaign, CampaignId};
use zbor_ledger::{Money, NewTransaction, TransactionId};

use super::cap_status;
use crate::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "surplus_transfer_state", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SurplusState {
    AwaitingApproval,
    Done,
    Cancelled,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SurplusTransfer {
    pub id: i64,
    /// The funded campaign the money leaves.
    pub from: String,
    /// Its overflow campaign, where the money goes.
    pub to: String,
    #[schema(value_type = String, example = "480.00")]
    #[serde(serialize_with = "crate::totals::amount")]
    pub amount: Money,
    pub state: SurplusState,
    #[schema(value_type = Option<i64>)]
    pub requested_by: Option<UserId>,
    #[schema(value_type = Option<i64>)]
    pub approved_by: Option<UserId>,
    /// The ledger transaction that moved it, once done.
    pub ledger_transaction_id: Option<Uuid>,
    pub requested_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    from_slug: String,
    to_slug: String,
    amount: Decimal,
    currency: String,
    state: SurplusState,
    requested_by: Option<UserId>,
    approved_by: Option<UserId>,
    ledger_transaction_id: Option<Uuid>,
    requested_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
}

impl Row {
    fn into_transfer(self) -> Result<SurplusTransfer, Error> {
        let currency = zbor_ledger::Currency::parse(self.currency.trim())?;
        Ok(SurplusTransfer {
            id: self.id,
            from: self.from_slug,
            to: self.to_slug,
            amount: Money::new(self.amount, currency)?,
            state: self.state,
            requested_by: self.requested_by,
            approved_by: self.approved_by,
            ledger_transaction_id: self.ledger_transaction_id,
            requested_at: self.requested_at,
            decided_at: self.decided_at,
        })
    }
}

const SELECT: &str = "select t.id, f.slug as from_slug, o.slug as to_slug, t.amount,
                             t.currency, t.state, t.requested_by, t.approved_by, t.ledger_transaction_id,
                             t.requested_at, t.decided_at
                      from surplus_transfers t
                      join campaigns f on f.id = t.from_campaign_id
                      join campaigns o on o.id = t.to_campaign_id";

/// The campaign, locked for the rest of the transaction: requests and approvals for one campaign
/// take turns, so two of them cannot both pass the funds check on the same money.
async fn lock_campaign(db: &mut PgConnection, id: CampaignId) -> Result<Campaign, Error> {
    sqlx::query("select 1 from campaigns where id = $1 for update").bind(id).execute(&mut *db).await?;
    zbor_campaigns::by_id(&mut *db, id)
        .await?
        .ok_or_else(|| Error::Campaign(zbor_campaigns::Error::CampaignNotFound(id.as_i64().to_string())))
}

/// What may still be asked for: the movable surplus less what other requests wait to move.
async fn askable(db: &mut PgConnection, campaign: &Campaign, except: Option<i64>) -> Result<Money, Error> {
    let status = cap_status(&mut *db, campaign).await?;
    if status.fees_pending > 0 {
        return Err(Error::SurplusRefused(format!(
            "Stripe's fees of {} donations are not known yet: try again in a minute",
            status.fees_pending
        )));
    }
    let waiting: Decimal = sqlx::query_scalar(
        "select coalesce(sum(amount), 0) from surplus_transfers
         where from_campaign_id = $1 and state = 'awaiting_approval' and id is distinct from $2",
    )
    .bind(campaign.id)
    .bind(except)
    .fetch_one(&mut *db)
    .await?;
    Ok(status.movable_surplus.checked_sub(&Money::new(waiting, campaign.currency)?)?)
}

/// Asks to move `amount` of the campaign's surplus to its overflow campaign. At most `solo_max`
/// is moved at once by the requester; more waits for a second person's [`approve_in`].
pub async fn request_in(
    db: &mut PgConnection,
    slug: &str,
    amount: &str,
    actor: &Actor,
    solo_max: Decimal,
) -> Result<SurplusTransfer, Error> {
    let found = zbor_campaigns::by_slug(&mut *db, slug).await?;
    let campaign = lock_campaign(&mut *db, found.id).await?;
    let (Some(overflow_id), Some(_)) = (campaign.overflow_campaign_id, campaign.funded_at) else {
        return Err(Error::SurplusRefused(format!(
            "campaign {:?} has no surplus to move: it must have an overflow campaign and be funded",
            campaign.slug.as_str()
        )));
    };
    let amount = Money::parse(amount, campaign.currency).map_err(|e| Error::invalid("amount", e))?;
    if !amount.is_positive() {
        return Err(Error::invalid("amount", "must be more than zero"));
    }
    let askable = askable(&mut *db, &campaign, None).await?;
    if amount.checked_cmp(&askable)?.is_gt() {
        return Err(Error::SurplusRefused(format!(
            "{} {} is more than the surplus that may be moved now ({} {})",
            amount.amount(),
            campaign.currency.code(),
            if askable.is_positive() { askable.amount() } else { Decimal::ZERO },
            campaign.currency.code()
        )));
    }
    let id: i64 = sqlx::query_scalar(
        "insert into surplus_transfers (from_campaign_id, to_campaign_id, amount, currency, state, requested_by)
         values ($1, $2, $3, $4, 'awaiting_approval', $5) returning id",
    )
    .bind(campaign.id)
    .bind(overflow_id)
    .bind(amount.amount())
    .bind(campaign.currency.code())
    .bind(actor.user_id())
    .fetch_one(&mut *db)
    .await?;
    let details = serde_json::json!({ "from": campaign.slug.as_str(), "to_campaign_id": overflow_id.as_i64(),
                                      "amount": amount.amount().to_string(), "currency": campaign.currency.code() });
    zbor_audit::record_in(db, actor, "surplus.request", Some(&subject(id)), details).await?;
    let solo_max = Money::new(solo_max, campaign.currency).map_err(|e| Error::invalid("solo_max", e))?;
    if amount.checked_cmp(&solo_max)?.is_le() {
        move_in(db, id, &campaign, overflow_id, amount, None).await?;
        let details = serde_json::json!({ "amount": amount.amount().to_string(), "approvals": "one person, at most the threshold" });
        zbor_audit::record_in(db, actor, "surplus.transfer", Some(&subject(id)), details).await?;
    }
    by_id(db, id).await
}

/// A second person approves a waiting transfer: the money moves now, exactly as requested, if
/// the campaign still has that much surplus.
pub async fn approve_in(db: &mut PgConnection, id: i64, actor: &Actor) -> Result<SurplusTransfer, Error> {
    let approver = actor.user_id().ok_or_else(|| {
        Error::SurplusRefused("a surplus transfer is approved by a signed-in person".into())
    })?;
    let first = by_id(&mut *db, id).await?;
    let from = campaign_of(&mut *db, id).await?;
    let campaign = lock_campaign(&mut *db, from).await?;
    let (state, requested_by, to): (SurplusState, Option<UserId>, CampaignId) = sqlx::query_as(
        "select state, requested_by, to_campaign_id from surplus_transfers where id = $1 for update",
    )
    .bind(id)
    .fetch_one(&mut *db)
    .await?;
    if state != SurplusState::AwaitingApproval {
        return Err(Error::SurplusRefused(format!(
            "surplus transfer {id} is {state:?}, not awaiting approval"
        )));
    }
    if requested_by == Some(approver) {
        return Err(Error::SurplusSamePerson);
    }
    let askable = askable(&mut *db, &campaign, Some(id)).await?;
    if first.amount.checked_cmp(&askable)?.is_gt() {
        return Err(Error::SurplusRefused(format!(
            "campaign {:?} no longer has {} {} of surplus to move",
            campaign.slug.as_str(),
            first.amount.amount(),
            campaign.currency.code()
        )));
    }
    move_in(db, id, &campaign, to, first.amount, Some(approver)).await?;
    let details =
        serde_json::json!({ "amount": first.amount.amount().to_string(), "approvals": "two people" });
    zbor_audit::record_in(db, actor, "surplus.transfer", Some(&subject(id)), details).await?;
    by_id(db, id).await
}

/// Withdraws a waiting transfer (either person may); nothing moves.
pub async fn cancel_in(db: &mut PgConnection, id: i64, actor: &Actor) -> Result<SurplusTransfer, Error> {
    let updated = sqlx::query(
        "update surplus_transfers set state = 'cancelled', decided_at = now()
         where id = $1 and state = 'awaiting_approval'",
    )
    .bind(id)
    .execute(&mut *db)
    .await?;
    if updated.rows_affected() == 0 {
        let current = by_id(&mut *db, id).await?;
        return Err(Error::SurplusRefused(format!(
            "surplus transfer {id} is {:?}, not awaiting approval",
            current.state
        )));
    }
    zbor_audit::record_in(db, actor, "surplus.cancel", Some(&subject(id)), serde_json::json!({})).await?;
    by_id(db, id).await
}

/// One balanced transaction from the campaign's funds to the overflow's, with an id derived from
/// the transfer's, so it can never be booked twice.
async fn move_in(
    db: &mut PgConnection,
    id: i64,
    from: &Campaign,
    to: CampaignId,
    amount: Money,
    approver: Option<UserId>,
) -> Result<(), Error> {
    let overflow = zbor_campaigns::by_id(&mut *db, to)
        .await?
        .ok_or_else(|| Error::Campaign(zbor_campaigns::Error::CampaignNotFound(to.as_i64().to_string())))?;
    let transaction_id = TransactionId::derived_from(&format!("zbor:surplus-transfer:{id}"));
    let tx = NewTransaction::new(transaction_id)
        .debit(from.ledger_account, amount)
        .credit(overflow.ledger_account, amount)
        .metadata(serde_json::json!({ "kind": "surplus_transfer", "surplus_transfer_id": id }));
    zbor_ledger::post_in(&mut *db, &tx).await?;
    sqlx::query(
        "update surplus_transfers set state = 'done', approved_by = $2, ledger_transaction_id = $3,
                decided_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(approver)
    .bind(transaction_id.as_uuid())
    .execute(&mut *db)
    .await?;
    tracing::info!(surplus_transfer_id = id, "surplus moved to the overflow campaign");
    Ok(())
}

async fn campaign_of(db: &mut PgConnection, id: i64) -> Result<CampaignId, Error> {
    sqlx::query_scalar("select from_campaign_id from surplus_transfers where id = $1")
        .bind(id)
        .fetch_optional(&mut *db)
        .await?
        .ok_or(Error::SurplusNotFound(id))
}

pub async fn by_id(db: &mut PgConnection, id: i64) -> Result<SurplusTransfer, Error> {
    let row: Option<Row> =
        sqlx::query_as(&format!("{SELECT} where t.id = $1")).bind(id).fetch_optional(&mut *db).await?;
    row.ok_or(Error::SurplusNotFound(id))?.into_transfer()
}

/// A campaign's surplus transfers, newest first.
pub async fn list(db: &mut PgConnection, campaign: &Campaign) -> Result<Vec<SurplusTransfer>, Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} where t.from_campaign_id = $1 order by t.requested_at desc, t.id desc limit 500"
    ))
    .bind(campaign.id)
    .fetch_all(&mut *db)
    .await?;
    rows.into_iter().map(Row::into_transfer).collect()
}

fn subject(id: i64) -> String {
    format!("surplus_transfer:{id}")
}
