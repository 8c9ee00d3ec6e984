//! Stripe's word on our transfers, from its webhooks: `transfer.created` confirms (or completes)
//! a payout, `transfer.reversed` gives money back to the campaign.
//!
//! - `transfer.created` for a payout still `sending` (its worker died after Stripe made the
//!   transfer), `approved` or `failed` (the worker's call timed out though Stripe made it)
//!   records it paid with that transfer: the money did leave. For a payout already paid with the
//!   same transfer it changes nothing. Anything else — a second transfer for one payout, a
//!   transfer for a cancelled payout, a different amount, a transfer zbor did not make — is
//!   stored for a person to review: money moved that zbor did not expect.
//! - `transfer.reversed` carries Stripe's running total of reversals (`amount_reversed`); what is
//!   new since the last one booked goes back from the processor balance to the campaign, under a
//!   ledger id derived from the running total, so duplicates and out-of-order deliveries book
//!   each cent once. Fully reversed, the payout is `reversed`; its beneficiary can be paid again
//!   in a new batch.
//!
//! Events are stored in `stripe_events` like intake's (deduplicated by id), redacted to ids and
//! amounts: the connected account is not kept.

use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use zbor_ledger::{AccountId, Currency, Money, NewTransaction, TransactionId};

use crate::treasury::{self, PayoutStatus};
use crate::Error;

/// True for the event types this module acts on.
pub fn handles(kind: &str) -> bool {
    matches!(kind, "transfer.created" | "transfer.updated" | "transfer.reversed")
}

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: Value,
}

#[derive(Deserialize)]
struct Transfer {
    id: String,
    amount: i64,
    #[serde(default)]
    amount_reversed: i64,
    currency: String,
    #[serde(default)]
    metadata: std::collections::HashMap<String, String>,
}

/// What acting on a transfer event did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub event_id: String,
    /// `booked`, `ignored` or `needs_review` (as stored in `stripe_events`).
    pub outcome: &'static str,
    pub review_reason: Option<String>,
    pub duplicate: bool,
}

fn malformed(reason: impl std::fmt::Display) -> Error {
    Error::invalid("event", reason)
}

/// Stores and acts on a verified transfer event (the signature was checked by the caller).
pub async fn receive(pool: &PgPool, body: &[u8]) -> Result<Receipt, Error> {
    let event: Event = serde_json::from_slice(body).map_err(malformed)?;
    let id_ok = event
        .id
        .strip_prefix("evt_")
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    if !id_ok || !handles(&event.kind) {
        return Err(malformed("not a transfer event with a Stripe event id"));
    }
    let transfer: Transfer = serde_json::from_value(event.data.object.clone()).map_err(malformed)?;
    let created =
        chrono::DateTime::from_timestamp(event.created, 0).ok_or_else(|| malformed("bad created"))?;

    let mut db = pool.begin().await?;
    let stored: Option<String> =
        sqlx::query_scalar("select outcome::text from stripe_events where id = $1 for update")
            .bind(&event.id)
            .fetch_optional(&mut *db)
            .await?;
    if stored.is_some() {
        let outcome = match stored.as_deref() {
            Some("booked") => "booked",
            Some("needs_review") => "needs_review",
            _ => "ignored",
        };
        return Ok(Receipt { event_id: event.id, outcome, review_reason: None, duplicate: true });
    }
    let acted = match event.kind.as_str() {
        "transfer.reversed" => reversed(&mut db, &transfer).await?,
        _ => created_or_updated(&mut db, &transfer).await?,
    };
    let (outcome, review_reason) = match acted {
        Acted::Booked => ("booked", None),
        Acted::Nothing => ("ignored", None),
        Acted::Review(reason) => ("needs_review", Some(reason)),
    };
    let payload = json!({
        "id": event.id, "type": event.kind, "created": event.created,
        "object": { "id": transfer.id, "amount": transfer.amount, "amount_reversed": transfer.amount_reversed,
                    "currency": transfer.currency, "metadata": { "zbor_payout": transfer.metadata.get("zbor_payout") } },
    });
    let inserted = sqlx::query(
        "insert into stripe_events (id, type, created, payload, outcome, review_reason)
         values ($1, $2, $3, $4, $5::stripe_event_outcome, $6) on conflict (id) do nothing",
    )
    .bind(&event.id)
    .bind(&event.kind)
    .bind(created)
    .bind(payload)
    .bind(outcome)
    .bind(review_reason.as_deref())
    .execute(&mut *db)
    .await?;
    if inserted.rows_affected() == 0 {
        // a concurrent delivery of the same event committed first: keep theirs
        db.rollback().await?;
        return Ok(Receipt { event_id: event.id, outcome: "ignored", review_reason: None, duplicate: true });
    }
    db.commit().await?;
    if let Some(reason) = &review_reason {
        tracing::warn!(event = %event.id, kind = %event.kind, reason, "transfer event needs review");
    } else {
        tracing::info!(event = %event.id, kind = %event.kind, outcome, "transfer event stored");
    }
    Ok(Receipt { event_id: event.id, outcome, review_reason, duplicate: false })
}

enum Acted {
    Booked,
    Nothing,
    Review(String),
}

/// The payout a transfer is for, locked: by our metadata, else by the transfer id we recorded.
async fn payout_of(db: &mut PgConnection, transfer: &Transfer) -> Result<Option<treasury::Payout>, Error> {
    let by_metadata = transfer.metadata.get("zbor_payout").and_then(|id| id.parse::<i64>().ok());
    let id = match by_metadata {
        Some(id) => Some(id),
        None => {
            sqlx::query_scalar("select id from payouts where rail_reference = $1")
                .bind(&transfer.id)
                .fetch_optional(&mut *db)
                .await?
        }
    };
    match id {
        None => Ok(None),
        Some(id) => match treasury::lock(db, id).await {
            Ok(payout) => Ok(Some(payout)),
            Err(Error::PayoutNotFound(_)) => Ok(None),
            Err(e) => Err(e),
        },
    }
}

fn money_of(payout: &treasury::Payout) -> Result<Money, Error> {
    Ok(Money::new(payout.amount, Currency::parse(&payout.currency)?)?)
}

async fn created_or_updated(db: &mut PgConnection, transfer: &Transfer) -> Result<Acted, Error> {
    let Some(payout) = payout_of(db, transfer).await? else {
        return Ok(Acted::Review(format!("transfer {} is not one of zbor's payouts", transfer.id)));
    };
    let money = money_of(&payout)?;
    let matches = money.to_minor_units()? == transfer.amount
        && money.currency().stripe_code().eq_ignore_ascii_case(&transfer.currency)
        && payout.method == "stripe_connect";
    if !matches {
        return Ok(Acted::Review(format!(
            "transfer {} does not match payout {} (amount, currency or method)",
            transfer.id, payout.id
        )));
    }
    match payout.status {
        PayoutStatus::Sending | PayoutStatus::Approved | PayoutStatus::Failed => {
            treasury::settle_in(db, payout.id, &transfer.id, None).await?;
            tracing::info!(payout = payout.id, "payout recorded paid from Stripe's transfer event");
            Ok(Acted::Booked)
        }
        PayoutStatus::Paid | PayoutStatus::Reversed
            if payout.rail_reference.as_deref() == Some(transfer.id.as_str()) =>
        {
            Ok(Acted::Nothing)
        }
        PayoutStatus::Paid | PayoutStatus::Reversed => Ok(Acted::Review(format!(
            "a second transfer {} for payout {}, already paid",
            transfer.id, payout.id
        ))),
        PayoutStatus::Cancelled => Ok(Acted::Review(format!(
            "transfer {} for payout {}, which was cancelled and its funds released",
            transfer.id, payout.id
        ))),
        PayoutStatus::AwaitingApproval | PayoutStatus::Sent => Ok(Acted::Review(format!(
            "transfer {} for payout {}, which is {}",
            transfer.id,
            payout.id,
            payout.status.as_str()
        ))),
    }
}

async fn reversed(db: &mut PgConnection, transfer: &Transfer) -> Result<Acted, Error> {
    let Some(payout) = payout_of(db, transfer).await? else {
        return Ok(Acted::Review(format!("reversal of transfer {}, not one of zbor's payouts", transfer.id)));
    };
    if payout.rail_reference.as_deref() != Some(transfer.id.as_str())
        || !matches!(payout.status, PayoutStatus::Paid | PayoutStatus::Reversed)
    {
        return Ok(Acted::Review(format!(
            "reversal of transfer {} for payout {}, which is {} with another or no transfer",
            transfer.id,
            payout.id,
            payout.status.as_str()
        )));
    }
    let money = money_of(&payout)?;
    let currency = money.currency();
    let total_reversed = Money::from_minor_units(transfer.amount_reversed, currency)?;
    if total_reversed.checked_cmp(&money)? == std::cmp::Ordering::Greater {
        return Ok(Acted::Review(format!(
            "transfer {} reversed more than payout {}",
            transfer.id, payout.id
        )));
    }
    let booked = Money::new(payout.reversed_amount, currency)?;
    let new = total_reversed.checked_sub(&booked)?;
    if !new.is_positive() {
        return Ok(Acted::Nothing); // an older or repeated running total
    }
    let (campaign_account, code): (i64, String) = sqlx::query_as(
        "select c.ledger_account_id, 'stripe:balance:' || lower(b.currency) from payouts p
         join payout_batches b on b.id = p.batch_id join campaigns c on c.id = b.campaign_id where p.id = $1",
    )
    .bind(payout.id)
    .fetch_one(&mut *db)
    .await?;
    let balance = zbor_ledger::account_by_code(&mut *db, &code).await?;
    let back = NewTransaction::new(TransactionId::derived_from(&format!(
        "payout:{}:reversed:{}",
        payout.id, transfer.amount_reversed
    )))
    .debit(balance.id, new)
    .credit(AccountId::from_i64(campaign_account), new)
    .metadata(json!({ "kind": "payout_reversal", "payout": payout.id, "transfer": transfer.id }));
    zbor_ledger::post_in(db, &back).await?;
    let fully = total_reversed.checked_cmp(&money)? == std::cmp::Ordering::Equal;
    sqlx::query(
        "update payouts set reversed_amount = $2, status = case when $3 then 'reversed'::payout_status else status end
         where id = $1",
    )
    .bind(payout.id)
    .bind(total_reversed.amount())
    .bind(fully)
    .execute(&mut *db)
    .await?;
    tracing::warn!(payout = payout.id, fully, "payout transfer reversed; funds back on the campaign");
    Ok(Acted::Booked)
}
