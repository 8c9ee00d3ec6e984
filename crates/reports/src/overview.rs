//! Every campaign at a glance, for coordinators deciding when to say "fully funded" and for the
//! accountant: one row per campaign, every amount in that campaign's currency. Campaigns in
//! different currencies are never added together; there is no grand total.

use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;
use zbor_ledger::{Currency, Money};

use crate::Error;

/// One campaign's figures. Amounts are decimal strings at the currency's scale (`"1000.00"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct CampaignOverview {
    #[schema(example = "release-123")]
    pub campaign: String,
    pub title: String,
    /// `open` or `closed`.
    #[schema(example = "open")]
    pub status: String,
    pub currency: Currency,
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "123000.00")]
    pub goal: Money,
    /// Gross of every paid donation.
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "125000.00")]
    pub raised: Money,
    /// Paid donations.
    pub donations: i64,
    /// Refunded to donors (partial refunds too).
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "50.00")]
    pub refunded: Money,
    /// Withdrawn by disputes and not won back (yet).
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "0.00")]
    pub disputed: Money,
    /// Stripe's fees on the donations.
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "1890.00")]
    pub fees: Money,
    /// `raised - refunded - disputed - fees`: what the campaign has to pay out (the same `net`
    /// as the campaign's live totals).
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "123060.00")]
    pub net: Money,
    /// `net >= goal`.
    pub goal_reached: bool,
    /// The amount each beneficiary gets, when the campaign has one.
    #[serde(serialize_with = "maybe_amount")]
    #[schema(value_type = Option<String>, example = "1000.00")]
    pub amount_per_beneficiary: Option<Money>,
    /// `floor(net / amount_per_beneficiary)`: people the money covers; none without an amount
    /// per beneficiary.
    pub people_funded: Option<i64>,
    /// Payouts paid (or paid and later reversed by Stripe).
    pub payouts_paid: PayoutFigures,
    /// Payouts approved and not yet paid: their funds are held (approved, sending, sent to the
    /// bank, or failed and awaiting a retry or cancellation).
    pub payouts_pending: PayoutFigures,
    /// Payouts in batches still awaiting treasurers' approval: nothing held yet.
    pub payouts_awaiting_approval: PayoutFigures,
}

/// How many payouts, and how much.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PayoutFigures {
    pub count: i64,
    #[serde(serialize_with = "amount")]
    #[schema(value_type = String, example = "123000.00")]
    pub amount: Money,
}

fn amount<S: serde::Serializer>(money: &Money, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&money.amount().to_string())
}

fn maybe_amount<S: serde::Serializer>(money: &Option<Money>, s: S) -> Result<S::Ok, S::Error> {
    match money {
        Some(money) => s.serialize_str(&money.amount().to_string()),
        None => s.serialize_none(),
    }
}

/// The most campaigns one overview lists; zbor runs a handful at a time.
pub const CAMPAIGNS_MAX: i64 = 1_000;

/// One campaign's row as PostgreSQL sums it.
#[derive(sqlx::FromRow)]
struct Row {
    slug: String,
    title: String,
    status: String,
    currency: String,
    goal: Decimal,
    amount_per_beneficiary: Option<Decimal>,
    raised: Decimal,
    donations: i64,
    refunded: Decimal,
    disputed: Decimal,
    fees: Decimal,
    paid_count: i64,
    paid_amount: Decimal,
    pending_count: i64,
    pending_amount: Decimal,
    awaiting_count: i64,
    awaiting_amount: Decimal,
}

/// Every campaign (newest first, at most [`CAMPAIGNS_MAX`]) with its figures, from one snapshot
/// of the database (call it in a repeatable-read transaction for figures that agree exactly).
pub async fn overview(conn: &mut PgConnection) -> Result<Vec<CampaignOverview>, Error> {
    // One pass over donations and one over payouts, grouped by campaign: no query per campaign.
    let rows: Vec<Row> = sqlx::query_as(
        "with given as (
             select campaign_id, sum(amount) as raised, count(*) as donations, sum(refunded) as refunded,
                    sum(disputed) as disputed, sum(fee) as fees
             from donations where status = 'paid' group by campaign_id
         ), paid_out as (
             select b.campaign_id,
                    count(*) filter (where p.status in ('paid', 'reversed')) as paid_count,
                    coalesce(sum(p.amount) filter (where p.status in ('paid', 'reversed')), 0) as paid_amount,
                    count(*) filter (where p.status in ('approved', 'sending', 'sent', 'failed')) as pending_count,
                    coalesce(sum(p.amount) filter (where p.status in ('approved', 'sending', 'sent', 'failed')), 0)
                        as pending_amount,
                    count(*) filter (where p.status = 'awaiting_approval') as awaiting_count,
                    coalesce(sum(p.amount) filter (where p.status = 'awaiting_approval'), 0) as awaiting_amount
             from payouts p join payout_batches b on b.id = p.batch_id
             group by b.campaign_id
         )
         select c.slug, c.title, c.status::text as status, c.currency::text as currency, c.goal,
                c.amount_per_beneficiary,
                coalesce(g.raised, 0) as raised, coalesce(g.donations, 0) as donations,
                coalesce(g.refunded, 0) as refunded, coalesce(g.disputed, 0) as disputed,
                coalesce(g.fees, 0) as fees,
                coalesce(o.paid_count, 0) as paid_count, coalesce(o.paid_amount, 0) as paid_amount,
                coalesce(o.pending_count, 0) as pending_count, coalesce(o.pending_amount, 0) as pending_amount,
                coalesce(o.awaiting_count, 0) as awaiting_count, coalesce(o.awaiting_amount, 0) as awaiting_amount
         from campaigns c
         left join given g on g.campaign_id = c.id
         left join paid_out o on o.campaign_id = c.id
         order by c.id desc
         limit $1",
    )
    .bind(CAMPAIGNS_MAX)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(campaign).collect()
}

fn campaign(row: Row) -> Result<CampaignOverview, Error> {
    let currency = Currency::parse(row.currency.trim())?;
    let money = |amount: Decimal| Money::new(amount, currency);
    let (raised, refunded) = (money(row.raised)?, money(row.refunded)?);
    let (disputed, fees) = (money(row.disputed)?, money(row.fees)?);
    let net = raised.checked_sub(&refunded)?.checked_sub(&disputed)?.checked_sub(&fees)?;
    let goal = money(row.goal)?;
    let amount_per_beneficiary = row.amount_per_beneficiary.map(money).transpose()?;
    let people_funded = match &amount_per_beneficiary {
        Some(each) if net.is_positive() => {
            let whole = (net.amount() / each.amount()).floor();
            Some(i64::try_from(whole).map_err(|_| zbor_ledger::Error::Overflow)?)
        }
        Some(_) => Some(0),
        None => None,
    };
    let goal_reached = net.checked_cmp(&goal)? != std::cmp::Ordering::Less;
    Ok(CampaignOverview {
        campaign: row.slug,
        title: row.title,
        status: row.status,
        currency,
        goal,
        raised,
        donations: row.donations,
        refunded,
        disputed,
        fees,
        net,
        goal_reached,
        amount_per_beneficiary,
        people_funded,
        payouts_paid: PayoutFigures { count: row.paid_count, amount: money(row.paid_amount)? },
        payouts_pending: PayoutFigures { count: row.pending_count, amount: money(row.pending_amount)? },
        payouts_awaiting_approval: PayoutFigures {
            count: row.awaiting_count,
            amount: money(row.awaiting_amount)?,
        },
    })
}
