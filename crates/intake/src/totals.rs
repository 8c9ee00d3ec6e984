//! A campaign's totals, computed from PostgreSQL (the source of truth).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgConnection;
use zbor_ledger::{Currency, Money};

use crate::campaigns;
use crate::Error;

/// What coordinators watch. Amounts serialize as decimal strings at the currency's scale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub campaign: String,
    pub currency: Currency,
    #[serde(serialize_with = "amount")]
    pub goal: Money,
    /// Gross of every paid donation.
    #[serde(serialize_with = "amount")]
    pub raised: Money,
    /// Refunds, plus disputes withdrawn and not won back.
    #[serde(serialize_with = "amount")]
    pub refunded: Money,
    /// Stripe's fees on those donations.
    #[serde(serialize_with = "amount")]
    pub fees: Money,
    /// `raised - refunded - fees`: what the campaign can pay out.
    #[serde(serialize_with = "amount")]
    pub net: Money,
    /// Number of paid donations.
    pub donations: i64,
    /// `floor(net / amount_per_beneficiary)` when the campaign has one.
    pub beneficiaries_funded: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

fn amount<S: serde::Serializer>(money: &Money, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&money.amount().to_string())
}

pub async fn totals(conn: &mut PgConnection, slug: &str) -> Result<Totals, Error> {
    let campaign = campaigns::by_slug(&mut *conn, slug).await?;
    let (raised, refunded, fees, donations, last_paid): (
        Decimal,
        Decimal,
        Decimal,
        i64,
        Option<DateTime<Utc>>,
    ) = sqlx::query_as(
        "select coalesce(sum(amount), 0), coalesce(sum(refunded + disputed), 0), coalesce(sum(fee), 0),
                    count(*), max(paid_at)
             from donations where campaign_id = $1 and status = 'paid'",
    )
    .bind(campaign.id)
    .fetch_one(&mut *conn)
    .await?;
    let currency = campaign.currency;
    let raised = Money::new(raised, currency)?;
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
        refunded,
        fees,
        net,
        donations,
        beneficiaries_funded,
        updated_at: last_paid.unwrap_or(campaign.updated_at),
    })
}
