//! A campaign's totals, computed from PostgreSQL (the source of truth).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use zbor_ledger::{Currency, Money};

use crate::Error;

/// What coordinators watch. Amounts serialize as decimal strings at the currency's scale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub campaign: String,
    pub currency: Currency,
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "1000.00")]
    pub goal: Money,
    /// Gross of every paid donation: `one_off_raised + recurring_raised`.
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "1000.00")]
    pub raised: Money,
    /// Gross of the one-off gifts (Checkout Sessions and Payment Links).
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "900.00")]
    pub one_off_raised: Money,
    /// Gross of the paid invoices of monthly gifts.
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "100.00")]
    pub recurring_raised: Money,
    /// Monthly gifts active now, and what they give each month.
    pub monthly_commitments: MonthlyCommitments,
    /// Refunds, plus disputes withdrawn and not won back.
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "1000.00")]
    pub refunded: Money,
    /// Stripe's fees on those donations.
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "1000.00")]
    pub fees: Money,
    /// `raised - refunded - fees`: what the campaign can pay out.
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "1000.00")]
    pub net: Money,
    /// Number of paid donations.
    pub donations: i64,
    /// `floor(net / amount_per_beneficiary)` when the campaign has one.
    pub beneficiaries_funded: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

/// The campaign's active monthly gifts (past due and canceled ones are not counted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MonthlyCommitments {
    pub subscriptions: i64,
    /// What they give together each month.
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "250.00")]
    pub amount: Money,
}

fn amount<S: serde::Serializer>(money: &Money, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&money.amount().to_string())
}

pub async fn totals(conn: &mut PgConnection, slug: &str) -> Result<Totals, Error> {
    let campaign = zbor_campaigns::by_slug(&mut *conn, slug).await?;
    let (one_off_raised, recurring_raised, refunded, fees, donations, last_paid): (
        Decimal,
        Decimal,
        Decimal,
        Decimal,
        i64,
        Option<DateTime<Utc>>,
    ) = sqlx::query_as(
        "select coalesce(sum(amount) filter (where stripe_subscription_id is null), 0),
                coalesce(sum(amount) filter (where stripe_subscription_id is not null), 0),
                coalesce(sum(refunded + disputed), 0), coalesce(sum(fee), 0), count(*), max(paid_at)
             from donations where campaign_id = $1 and status = 'paid'",
    )
    .bind(campaign.id)
    .fetch_one(&mut *conn)
    .await?;
    let (subscriptions, monthly): (i64, Decimal) = sqlx::query_as(
        "select count(*), coalesce(sum(amount), 0) from subscriptions
         where campaign_id = $1 and status = 'active' and \"interval\" = 'month'",
    )
    .bind(campaign.id)
    .fetch_one(&mut *conn)
    .await?;
    let currency = campaign.currency;
    let one_off_raised = Money::new(one_off_raised, currency)?;
    let recurring_raised = Money::new(recurring_raised, currency)?;
    let raised = one_off_raised.checked_add(&recurring_raised)?;
    let monthly_commitments = MonthlyCommitments { subscriptions, amount: Money::new(monthly, currency)? };
    let refunded = Money::new(refunded, currency)?;
    let fees = Money::new(fees, currency)?;
    let net = raised.checked_sub(&refunded)?.checked_sub(&fees)?;
    let beneficiaries_funded = match campaign.amount_per_beneficiary {
        Some(each) if net.is_positive() => {
            let whole = (net.amount() / each.amount()).floor();
            Some(i64::try_from(whole).map_err(|_| zbor_ledger::Error::Overflow)?)
        }
        Some(_) => Some(0),
        None => None,
    };
    Ok(Totals {
        campaign: campaign.slug.as_str().to_owned(),
        currency,
        goal: campaign.goal,
        raised,
        one_off_raised,
        recurring_raised,
        monthly_commitments,
        refunded,
        fees,
        net,
        donations,
        beneficiaries_funded,
        updated_at: last_paid.unwrap_or(campaign.updated_at),
    })
}

/// Donations per minute over a window, and the latest donations: amounts and times only, never
/// who gave.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Timeline {
    pub campaign: String,
    pub currency: Currency,
    pub minutes: Vec<Minute>,
    pub recent: Vec<RecentDonation>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Minute {
    pub at: DateTime<Utc>,
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "1000.00")]
    pub raised: Money,
    pub donations: i64,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RecentDonation {
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "1000.00")]
    pub amount: Money,
    pub at: DateTime<Utc>,
}

/// The longest window a timeline covers, and the most recent donations listed.
pub const TIMELINE_MINUTES_MAX: i64 = 24 * 60;
pub const RECENT_MAX: i64 = 20;

pub async fn timeline(conn: &mut PgConnection, slug: &str, minutes: i64) -> Result<Timeline, Error> {
    let campaign = zbor_campaigns::by_slug(&mut *conn, slug).await?;
    let minutes = minutes.clamp(1, TIMELINE_MINUTES_MAX);
    let rows: Vec<(DateTime<Utc>, Decimal, i64)> = sqlx::query_as(
        "select date_trunc('minute', paid_at), sum(amount), count(*)
         from donations
         where campaign_id = $1 and status = 'paid' and paid_at > now() - make_interval(mins => $2::int)
         group by 1 order by 1",
    )
    .bind(campaign.id)
    .bind(i32::try_from(minutes).unwrap_or(60))
    .fetch_all(&mut *conn)
    .await?;
    let recent: Vec<(Decimal, DateTime<Utc>)> = sqlx::query_as(
        "select amount, paid_at from donations
         where campaign_id = $1 and status = 'paid' order by paid_at desc limit $2",
    )
    .bind(campaign.id)
    .bind(RECENT_MAX)
    .fetch_all(&mut *conn)
    .await?;
    let currency = campaign.currency;
    Ok(Timeline {
        campaign: campaign.slug.as_str().to_owned(),
        currency,
        minutes: rows
            .into_iter()
            .map(|(at, raised, donations)| {
                Ok(Minute { at, raised: Money::new(raised, currency)?, donations })
            })
            .collect::<Result<_, Error>>()?,
        recent: recent
            .into_iter()
            .map(|(amount, at)| Ok(RecentDonation { amount: Money::new(amount, currency)?, at }))
            .collect::<Result<_, Error>>()?,
    })
}
