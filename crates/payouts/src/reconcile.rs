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
//! The event store (`zbor_stripe::events`) runs these handlers in its transaction and keeps each
//! event once, redacted to ids and amounts: the connected account is not kept.

use serde::Deserialize;
use serde_json::json;
use sqlx::PgConnection;
use zbor_campaigns::{AccountCode, CampaignId};
use zbor_ledger::{Currency, Money, NewTransaction, TransactionId};
use zbor_stripe::events::{Context, Dispatcher, Event, Handled, HandlerFuture, Outcome};

use crate::beneficiaries::MethodKind;
use crate::treasury::{self, PayoutStatus};
use crate::{Error, PayoutId};

/// Registers payouts' handlers in the event table.
pub fn register(events: Dispatcher) -> Dispatcher {
    events
        .on("transfer.created", transfer_created)
        .on("transfer.updated", transfer_created)
        .on("transfer.reversed", transfer_reversed)
}

fn transfer_created<'a>(db: &'a mut PgConnection, event: &'a Event, _: &'a Context) -> HandlerFuture<'a> {
    Box::pin(async move { Ok(created_or_updated(db, &event.object_as("transfer")?).await?) })
}

fn transfer_reversed<'a>(db: &'a mut PgConnection, event: &'a Event, _: &'a Context) -> HandlerFuture<'a> {
    Box::pin(async move { Ok(reversed(db, &event.object_as("transfer")?).await?) })
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

/// The payout a transfer is for, locked: by our metadata, else by the transfer id we recorded.
async fn payout_of(db: &mut PgConnection, transfer: &Transfer) -> Result<Option<treasury::Payout>, Error> {
    let by_metadata =
        transfer.metadata.get("zbor_payout").and_then(|id| id.parse::<i64>().ok()).map(PayoutId::from_i64);
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

async fn created_or_updated(db: &mut PgConnection, transfer: &Transfer) -> Result<Handled, Error> {
    let Some(payout) = payout_of(db, transfer).await? else {
        return Ok(Handled::review(format!("transfer {} is not one of zbor's payouts", transfer.id)));
    };
    let money = money_of(&payout)?;
    let matches = money.to_minor_units()? == transfer.amount
        && money.currency().stripe_code().eq_ignore_ascii_case(&transfer.currency)
        && payout.method == MethodKind::StripeConnect;
    if !matches {
        return Ok(Handled::review(format!(
            "transfer {} does not match payout {} (amount, currency or method)",
            transfer.id, payout.id
        )));
    }
    match payout.status {
        PayoutStatus::Sending | PayoutStatus::Approved | PayoutStatus::Failed => {
            treasury::settle_in(db, payout.id, &transfer.id, None).await?;
            tracing::info!(payout = payout.id.as_i64(), "payout recorded paid from Stripe's transfer event");
            Ok(Handled::new(Outcome::Booked))
        }
        PayoutStatus::Paid | PayoutStatus::Reversed
            if payout.rail_reference.as_deref() == Some(transfer.id.as_str()) =>
        {
            Ok(Handled::ignored())
        }
        PayoutStatus::Paid | PayoutStatus::Reversed => Ok(Handled::review(format!(
            "a second transfer {} for payout {}, already paid",
            transfer.id, payout.id
        ))),
        PayoutStatus::Cancelled => Ok(Handled::review(format!(
            "transfer {} for payout {}, which was cancelled and its funds released",
            transfer.id, payout.id
        ))),
        PayoutStatus::AwaitingApproval | PayoutStatus::Sent => Ok(Handled::review(format!(
            "transfer {} for payout {}, which is {}",
            transfer.id,
            payout.id,
            payout.status.as_str()
        ))),
    }
}

async fn reversed(db: &mut PgConnection, transfer: &Transfer) -> Result<Handled, Error> {
    let Some(payout) = payout_of(db, transfer).await? else {
        return Ok(Handled::review(format!(
            "reversal of transfer {}, not one of zbor's payouts",
            transfer.id
        )));
    };
    if payout.rail_reference.as_deref() != Some(transfer.id.as_str())
        || !matches!(payout.status, PayoutStatus::Paid | PayoutStatus::Reversed)
    {
        return Ok(Handled::review(format!(
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
        return Ok(Handled::review(format!(
            "transfer {} reversed more than payout {}",
            transfer.id, payout.id
        )));
    }
    let booked = Money::new(payout.reversed_amount, currency)?;
    let new = total_reversed.checked_sub(&booked)?;
    if !new.is_positive() {
        return Ok(Handled::ignored()); // an older or repeated running total
    }
    let campaign_id: CampaignId = sqlx::query_scalar(
        "select b.campaign_id from payouts p join payout_batches b on b.id = p.batch_id where p.id = $1",
    )
    .bind(payout.id)
    .fetch_one(&mut *db)
    .await?;
    let campaign =
        zbor_campaigns::by_id(&mut *db, campaign_id).await?.ok_or(Error::CampaignNotFound(campaign_id))?;
    let balance =
        zbor_ledger::account_by_code(&mut *db, AccountCode::stripe_balance(currency).as_str()).await?;
    let back = NewTransaction::new(TransactionId::derived_from(&format!(
        "payout:{}:reversed:{}",
        payout.id, transfer.amount_reversed
    )))
    .debit(balance.id, new)
    .credit(campaign.ledger_account, new)
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
    tracing::warn!(
        payout = payout.id.as_i64(),
        fully,
        "payout transfer reversed; funds back on the campaign"
    );
    Ok(Handled::new(Outcome::Booked))
}
