//! A campaign that fills, then overflows. A campaign with an overflow campaign is capped at its
//! goal: once what it kept (raised, net of refunds and disputes) reaches the goal, it is marked
//! funded once, new donors are sent to the overflow campaign (`create_session` refuses it with
//! `campaign_funded`, the give page redirects), and its Payment Link is switched at Stripe so that
//! gifts through the shared link are booked to the overflow campaign. Gifts already in flight land
//! where they were given, over the cap; [`surplus`] moves such money on, audited.
//!
//! Race-safety comes from where the decisions are made, not from locks on the hot path: bookings
//! never wait for the cap (a burst books at full speed and may overshoot by what was in flight);
//! `mark_funded` sets `funded_at` in one statement guarded by `funded_at is null`, so exactly one
//! node wins; the Stripe switch is keyed by campaign, overflow and the moment it was funded, so a
//! retry after a crash replays Stripe's first answer, and `payment_link_switched_at` records it
//! was done.
//!
//! Funded is not forever: when a coordinator raises the goal above what the campaign kept, or
//! removes its overflow, [`reopen`] clears `funded_at` (donors may give to it again) and a
//! switched Payment Link is switched back ([`restore_payment_links`]), keyed by the moment it
//! reopened. A refund that brings a funded campaign below an unchanged goal does not reopen it:
//! its donors were already sent on, and the coordinator decides (by raising the goal).

pub mod surplus;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use stripe_payment::payment_link::{
    AfterCompletionRedirectParams, UpdatePaymentLink, UpdatePaymentLinkAfterCompletion,
    UpdatePaymentLinkAfterCompletionType, UpdatePaymentLinkPaymentIntentData,
};
use zbor_campaigns::{Campaign, CampaignId};
use zbor_ledger::Money;

use crate::checkout::CheckoutLinks;
use crate::Error;

/// What a campaign kept: paid donations net of refunds and disputes (fees are not subtracted:
/// the cap is what donors gave and kept given, as the give page shows it).
const KEPT: &str = "coalesce(sum(d.amount - d.refunded - d.disputed), 0)";

/// Marks funded every capped campaign (one with an overflow) whose kept money reached its goal,
/// in one statement; returns the ids newly marked. Safe on every node at once: the `funded_at is
/// null` guard lets exactly one statement mark a campaign.
pub async fn mark_funded(pool: &PgPool) -> Result<Vec<CampaignId>, Error> {
    let funded: Vec<CampaignId> = sqlx::query_scalar(&format!(
        "with kept as (
             select c.id, {KEPT} as kept
             from campaigns c
             left join donations d on d.campaign_id = c.id and d.status = 'paid'
             where c.overflow_campaign_id is not null and c.funded_at is null
             group by c.id)
         update campaigns c set funded_at = now(), funded_goal = c.goal, updated_at = now()
         from kept
         where c.id = kept.id and kept.kept >= c.goal and c.funded_at is null
         returning c.id"
    ))
    .fetch_all(pool)
    .await?;
    for id in &funded {
        tracing::info!(campaign_id = id.as_i64(), "campaign funded: donors now go to its overflow");
    }
    Ok(funded)
}

/// The update that makes a Payment Link's gifts go to campaign `slug`: the link's metadata (which
/// Stripe copies onto each Checkout Session it opens) and its Payment Intents' metadata name it,
/// and donors land where `after` says.
fn link_to(link: &str, slug: &str, after: UpdatePaymentLinkAfterCompletion) -> UpdatePaymentLink {
    let metadata = HashMap::from([("zbor_campaign".to_owned(), slug.to_owned())]);
    let mut payment_intent = UpdatePaymentLinkPaymentIntentData::new();
    payment_intent.metadata = Some(metadata.clone());
    UpdatePaymentLink::new(link)
        .metadata(metadata)
        .payment_intent_data(payment_intent)
        .after_completion(after)
}

/// Reopens every funded campaign whose cap no longer holds: its overflow was removed, or its goal
/// was raised above the one it was funded at and above what it kept. One statement, guarded by
/// `funded_at is not null`, safe on every node at once. Returns the ids reopened.
pub async fn reopen(pool: &PgPool) -> Result<Vec<CampaignId>, Error> {
    let reopened: Vec<CampaignId> = sqlx::query_scalar(&format!(
        "with kept as (
             select c.id, {KEPT} as kept
             from campaigns c
             left join donations d on d.campaign_id = c.id and d.status = 'paid'
             where c.funded_at is not null
             group by c.id)
         update campaigns c
            set funded_at = null, funded_goal = null, payment_link_switched_at = null,
                payment_link_restore_due_at = case when c.payment_link_switched_at is not null
                                                   then coalesce(c.payment_link_restore_due_at, now())
                                                   else c.payment_link_restore_due_at end,
                updated_at = now()
         from kept
         where c.id = kept.id and c.funded_at is not null
           and (c.overflow_campaign_id is null or (c.goal > c.funded_goal and kept.kept < c.goal))
         returning c.id"
    ))
    .fetch_all(pool)
    .await?;
    for id in &reopened {
        tracing::info!(
            campaign_id = id.as_i64(),
            "campaign open again: its goal was raised or its overflow removed"
        );
    }
    Ok(reopened)
}

/// Switches back at Stripe the Payment Link of every reopened campaign whose link was switched
/// to its overflow: its own campaign in the metadata again, and Stripe's own confirmation page,
/// as when it was made. Returns how many were switched back.
pub async fn restore_payment_links(pool: &PgPool, links: &CheckoutLinks) -> Result<u64, Error> {
    let due: Vec<(CampaignId, String, String, DateTime<Utc>)> = sqlx::query_as(
        "select id, slug, stripe_payment_link_id, payment_link_restore_due_at from campaigns
         where payment_link_restore_due_at is not null and stripe_payment_link_id is not null
         order by id limit 100",
    )
    .fetch_all(pool)
    .await?;
    let mut restored = 0;
    for (id, slug, link, due_at) in due {
        let after =
            UpdatePaymentLinkAfterCompletion::new(UpdatePaymentLinkAfterCompletionType::HostedConfirmation);
        let request = link_to(&link, &slug, after);
        let key = format!("zbor:campaign:{}:restore:{}", id.as_i64(), due_at.timestamp_micros());
        links.stripe().send(&request, &key).await?;
        sqlx::query(
            "update campaigns set payment_link_restore_due_at = null
             where id = $1 and payment_link_restore_due_at = $2",
        )
        .bind(id)
        .bind(due_at)
        .execute(pool)
        .await?;
        tracing::info!(campaign_id = id.as_i64(), "payment link switched back to its own campaign");
        restored += 1;
    }
    Ok(restored)
}

/// Switches at Stripe the Payment Link of every funded campaign not switched yet: its metadata
/// (copied by Stripe onto each Checkout Session the link makes, which is how intake attributes a
/// link's gifts) and its Payment Intents' metadata name the overflow campaign, and donors land on
/// the overflow's thank-you page. Sessions opened before the switch keep the old metadata, so
/// gifts in flight are booked where they were given. Returns how many links were switched.
pub async fn switch_payment_links(pool: &PgPool, links: &CheckoutLinks) -> Result<u64, Error> {
    // a link still to be switched back is switched back first ([`restore_payment_links`])
    let due: Vec<(CampaignId, String, i64, String, DateTime<Utc>)> = sqlx::query_as(
        "select c.id, c.stripe_payment_link_id, o.id, o.slug, c.funded_at
         from campaigns c join campaigns o on o.id = c.overflow_campaign_id
         where c.funded_at is not null and c.payment_link_switched_at is null
           and c.payment_link_restore_due_at is null and c.stripe_payment_link_id is not null
         order by c.id limit 100",
    )
    .fetch_all(pool)
    .await?;
    let mut switched = 0;
    for (id, link, overflow_id, overflow_slug, funded_at) in due {
        let mut after = UpdatePaymentLinkAfterCompletion::new(UpdatePaymentLinkAfterCompletionType::Redirect);
        after.redirect = Some(AfterCompletionRedirectParams::new(format!(
            "{}/give/{overflow_slug}/thanks",
            links.public_url()
        )));
        let request = link_to(&link, &overflow_slug, after);
        // Keyed by campaign, overflow and funding: a node that crashed after Stripe answered
        // replays it; funded again after a reopening, it is a new switch.
        let key =
            format!("zbor:campaign:{}:overflow:{overflow_id}:{}", id.as_i64(), funded_at.timestamp_micros());
        links.stripe().send(&request, &key).await?;
        // Reopened while Stripe was answering (another node): the link must go back again.
        sqlx::query(
            "update campaigns
                set payment_link_switched_at = case when funded_at = $2 then now()
                                                    else payment_link_switched_at end,
                    payment_link_restore_due_at = case when funded_at is distinct from $2
                                                       then coalesce(payment_link_restore_due_at, now())
                                                       else payment_link_restore_due_at end
              where id = $1",
        )
        .bind(id)
        .bind(funded_at)
        .execute(pool)
        .await?;
        tracing::info!(campaign_id = id.as_i64(), "payment link switched to the overflow campaign");
        switched += 1;
    }
    Ok(switched)
}

/// Where a campaign stands against its cap, for coordinators (and the surplus check).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CapStatus {
    pub campaign: String,
    pub overflow: Option<String>,
    #[schema(value_type = String, example = "123000.00")]
    #[serde(serialize_with = "crate::totals::amount")]
    pub goal: Money,
    /// Raised net of refunds and disputes: what the cap is measured against.
    #[schema(value_type = String, example = "123480.00")]
    #[serde(serialize_with = "crate::totals::amount")]
    pub kept: Money,
    /// `kept - goal` when positive: what landed after the cap (gifts that were in flight).
    #[schema(value_type = String, example = "480.00")]
    #[serde(serialize_with = "crate::totals::amount")]
    pub over_cap: Money,
    /// Kept net of Stripe's fees, minus the goal and minus surplus already moved on, when
    /// positive: what a surplus transfer may move now.
    #[schema(value_type = String, example = "120.00")]
    #[serde(serialize_with = "crate::totals::amount")]
    pub movable_surplus: Money,
    pub funded_at: Option<DateTime<Utc>>,
    pub payment_link_switched: bool,
    /// Paid donations whose Stripe fee is not known yet. While any are, no surplus moves: the
    /// fee will come out of the campaign, and what is movable is only known after it.
    pub fees_pending: i64,
}

pub async fn cap_status(conn: &mut PgConnection, campaign: &Campaign) -> Result<CapStatus, Error> {
    let (kept, fees, moved, switched, fees_pending): (Decimal, Decimal, Decimal, bool, i64) = sqlx::query_as(&format!(
        "select (select {KEPT} from donations d where d.campaign_id = $1 and d.status = 'paid'),
                (select coalesce(sum(d.fee), 0) from donations d where d.campaign_id = $1 and d.status = 'paid'),
                (select coalesce(sum(amount), 0) from surplus_transfers
                  where from_campaign_id = $1 and state = 'done'),
                (select payment_link_switched_at is not null from campaigns where id = $1),
                (select count(*) from donations d
                  where d.campaign_id = $1 and d.status = 'paid' and d.fee_transaction_id is null
                    and not exists (select 1 from charge_fees f
                                    where f.stripe_payment_intent = d.stripe_payment_intent and f.fee is not null))"
    ))
    .bind(campaign.id)
    .fetch_one(&mut *conn)
    .await?;
    let currency = campaign.currency;
    let zero = Money::zero(currency);
    let kept = Money::new(kept, currency)?;
    let over_cap = kept.checked_sub(&campaign.goal)?;
    let movable = kept
        .checked_sub(&Money::new(fees, currency)?)?
        .checked_sub(&campaign.goal)?
        .checked_sub(&Money::new(moved, currency)?)?;
    Ok(CapStatus {
        campaign: campaign.slug.as_str().to_owned(),
        overflow: campaign.overflow.as_ref().map(|s| s.as_str().to_owned()),
        goal: campaign.goal,
        kept,
        over_cap: if over_cap.is_positive() { over_cap } else { zero },
        movable_surplus: if movable.is_positive() { movable } else { zero },
        funded_at: campaign.funded_at,
        payment_link_switched: switched,
        fees_pending,
    })
}
