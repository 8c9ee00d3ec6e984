//! A campaign's totals, computed from PostgreSQL (the source of truth).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use zbor_campaigns::Campaign;
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
    /// Monthly gifts active now, and what they give each month. Staff only (`null` in the public
    /// view): the count and amount move by one gift whenever a donor starts or stops one, which
    /// would show that gift on its own.
    pub monthly_commitments: Option<MonthlyCommitments>,
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
    /// True for staff (exact, live figures); false for everyone else, who get the delayed public
    /// snapshot ([`crate::public_feed`]).
    pub exact: bool,
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

pub(crate) fn amount<S: serde::Serializer>(money: &Money, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&money.amount().to_string())
}

/// The exact totals: every paid donation, live.
pub async fn totals(conn: &mut PgConnection, slug: &str) -> Result<Totals, Error> {
    let campaign = zbor_campaigns::by_slug(&mut *conn, slug).await?;
    let sums: Sums = sqlx::query_as(
        "select coalesce(sum(amount) filter (where stripe_subscription_id is null), 0) as one_off_raised,
                coalesce(sum(amount) filter (where stripe_subscription_id is not null), 0) as recurring_raised,
                coalesce(sum(refunded + disputed), 0) as refunded, coalesce(sum(fee), 0) as fees,
                count(*) as donations, max(paid_at) as last_paid
             from donations
             where campaign_id = $1 and status = 'paid'",
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
    let monthly_commitments =
        Some(MonthlyCommitments { subscriptions, amount: Money::new(monthly, campaign.currency)? });
    let mut totals = Totals::from_sums(&campaign, &sums, monthly_commitments)?;
    totals.updated_at = sums.last_paid.unwrap_or(campaign.updated_at);
    Ok(totals)
}

/// The figures totals are made of, in the campaign's currency, as the database adds them up.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Sums {
    pub one_off_raised: Decimal,
    pub recurring_raised: Decimal,
    /// Refunds, plus disputes withdrawn and not won back.
    pub refunded: Decimal,
    pub fees: Decimal,
    pub donations: i64,
    pub last_paid: Option<DateTime<Utc>>,
}

impl Totals {
    /// Totals of `sums` for `campaign` (its goal and amount per beneficiary as they are now),
    /// exact, stamped with the campaign's last change: the caller sets `updated_at` and `exact`
    /// for its view.
    pub(crate) fn from_sums(
        campaign: &Campaign,
        sums: &Sums,
        monthly_commitments: Option<MonthlyCommitments>,
    ) -> Result<Totals, Error> {
        let currency = campaign.currency;
        let one_off_raised = Money::new(sums.one_off_raised, currency)?;
        let recurring_raised = Money::new(sums.recurring_raised, currency)?;
        let raised = one_off_raised.checked_add(&recurring_raised)?;
        let refunded = Money::new(sums.refunded, currency)?;
        let fees = Money::new(sums.fees, currency)?;
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
            donations: sums.donations,
            beneficiaries_funded,
            updated_at: campaign.updated_at,
            exact: true,
        })
    }
}

/// Donations per time bucket over a window, and the latest donations: amounts and times only,
/// never who gave. Staff get it exact (1-minute buckets, each donation on its own); everyone
/// else gets the public view of [`crate::public_feed::timeline`] (bands, 5-minute buckets, a
/// delay, never fewer than K donations in a group).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Timeline {
    pub campaign: String,
    pub currency: Currency,
    /// True: exact figures (staff). False: the public view.
    pub exact: bool,
    /// How many minutes each `minutes` entry covers (an entry of the public view also holds
    /// donations held back from earlier buckets).
    pub bucket_minutes: i64,
    pub minutes: Vec<Minute>,
    /// Newest first.
    pub recent: Vec<RecentDonations>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Minute {
    /// The bucket's start.
    pub at: DateTime<Utc>,
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "1000.00")]
    pub raised: Money,
    pub donations: i64,
}

/// Donations in one amount band at one time. Exact (staff): one donation, `amount_from ==
/// amount_to` its amount. Public: a band, and never fewer than K donations.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RecentDonations {
    /// The bucket's start (exact: the donation's time).
    pub at: DateTime<Utc>,
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "50.00")]
    pub amount_from: Money,
    /// The band's top; null: "and more".
    #[serde(serialize_with = "optional_amount")]
    #[schema(value_type = Option<String>, example = "99.99")]
    pub amount_to: Option<Money>,
    pub donations: i64,
}

fn optional_amount<S: serde::Serializer>(money: &Option<Money>, s: S) -> Result<S::Ok, S::Error> {
    match money {
        Some(money) => amount(money, s),
        None => s.serialize_none(),
    }
}

/// The longest window a timeline covers, and the most recent entries listed.
pub const TIMELINE_MINUTES_MAX: i64 = 24 * 60;
pub const RECENT_MAX: i64 = 20;

/// The exact timeline, for staff only: per minute, and each of the latest donations with its
/// amount and time.
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
        exact: true,
        bucket_minutes: 1,
        minutes: rows
            .into_iter()
            .map(|(at, raised, donations)| {
                Ok(Minute { at, raised: Money::new(raised, currency)?, donations })
            })
            .collect::<Result<_, Error>>()?,
        recent: recent
            .into_iter()
            .map(|(amount, at)| {
                let amount = Money::new(amount, currency)?;
                Ok(RecentDonations { at, amount_from: amount, amount_to: Some(amount), donations: 1 })
            })
            .collect::<Result<_, Error>>()?,
    })
}
