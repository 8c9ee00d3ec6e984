//! Stripe's fee on each payment, so gross, fees and net are all known.
//!
//! The fee is on the charge's balance transaction, which no webhook carries: `charge.succeeded`
//! (or `charge.updated`, when the balance transaction is attached later) only names it. So:
//! 1. the charge event records `payment intent → balance transaction` in `charge_fees`;
//! 2. a background task ([`fetch_due`]) reads each balance transaction from Stripe's API
//!    (through the rate limiter; failures back off per row) and records the fee;
//! 3. once the donation is paid and its fee known — in either order — the fee is booked once
//!    (`fee:{session}`): the campaign gives it up, the processor balance shrinks by it.
//!
//! A fee in another currency than the donation (Stripe settled in a different currency) or one
//! the campaign can no longer cover (funds paid out) is not booked and is left for review.

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use stripe_core::balance_transaction::RetrieveBalanceTransaction;
use zbor_ledger::{AccountId, Currency, Money, TransactionId};
use zbor_stripe::Stripe;

use zbor_stripe::events::{is_stripe_id, Handled, Outcome};

use super::reversals;
use crate::Error;

#[derive(Deserialize)]
pub(super) struct Charge {
    id: String,
    payment_intent: Option<String>,
    /// An id, or the object itself when the event was sent expanded.
    balance_transaction: Option<Value>,
    /// Only its `type` is read (`card`, `sepa_debit`): never the card's or account's details.
    payment_method_details: Option<PaymentMethodDetails>,
}

#[derive(Deserialize)]
pub(super) struct PaymentMethodDetails {
    #[serde(rename = "type")]
    kind: String,
}

/// A payment method's kind as Stripe names it: a short lower-case word (the table's check).
fn is_method_kind(kind: &str) -> bool {
    let mut bytes = kind.bytes();
    kind.len() <= 40
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Records how a charge's payment was made, and which balance transaction holds its fee.
pub(super) async fn record_charge(db: &mut PgConnection, charge: Charge) -> Result<Handled, Error> {
    record_method(db, &charge).await?;
    let transaction = match &charge.balance_transaction {
        Some(Value::String(id)) => Some(id.clone()),
        Some(Value::Object(object)) => object.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let (Some(payment_intent), Some(transaction)) = (charge.payment_intent, transaction) else {
        // not settled yet (a later charge.updated names it), or not a payment of ours
        return Ok(Handled::new(Outcome::Ignored));
    };
    if !is_stripe_id(&payment_intent, "pi_")
        || !is_stripe_id(&transaction, "txn_")
        || !is_stripe_id(&charge.id, "ch_")
    {
        return Err(Error::MalformedEvent("charge, payment intent or balance transaction id".into()));
    }
    sqlx::query(
        "insert into charge_fees (stripe_payment_intent, balance_transaction) values ($1, $2)
         on conflict (stripe_payment_intent) do nothing",
    )
    .bind(&payment_intent)
    .bind(&transaction)
    .execute(&mut *db)
    .await?;
    Ok(Handled::new(Outcome::Waiting))
}

/// The payment's method kind, first seen wins (a payment's method does not change; a charge event
/// without details says nothing).
async fn record_method(db: &mut PgConnection, charge: &Charge) -> Result<(), Error> {
    let (Some(payment_intent), Some(details)) = (&charge.payment_intent, &charge.payment_method_details)
    else {
        return Ok(());
    };
    if !is_stripe_id(payment_intent, "pi_") || !is_method_kind(&details.kind) {
        return Err(Error::MalformedEvent("charge's payment intent or payment method type".into()));
    }
    sqlx::query(
        "insert into payment_methods (stripe_payment_intent, method) values ($1, $2)
         on conflict (stripe_payment_intent) do nothing",
    )
    .bind(payment_intent)
    .bind(&details.kind)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// What one pass of [`fetch_due`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FeesFetched {
    pub fetched: usize,
    pub failed: usize,
    /// Campaigns whose totals changed (a fee was booked).
    pub campaigns: Vec<String>,
}

/// Reads from Stripe the fees not yet known (at most `limit`, due ones first) and books those
/// whose donation is paid.
pub async fn fetch_due(pool: &PgPool, stripe: &Stripe, limit: i64) -> Result<FeesFetched, Error> {
    let due: Vec<(String, String)> = sqlx::query_as(
        "select stripe_payment_intent, balance_transaction from charge_fees
         where fee is null and next_fetch_at <= now() order by next_fetch_at limit $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut done = FeesFetched::default();
    for (payment_intent, transaction) in due {
        let fetched = stripe.read(&RetrieveBalanceTransaction::new(transaction.as_str())).await;
        let balance_transaction = match fetched {
            Ok(bt) => bt,
            Err(e) => {
                done.failed += 1;
                tracing::warn!(%payment_intent, error = %e, "reading a balance transaction failed; will retry");
                sqlx::query(
                    "update charge_fees set fetch_attempts = fetch_attempts + 1, last_error = $2,
                            next_fetch_at = now() + least(interval '1 hour', interval '1 second' * power(2, fetch_attempts))
                     where stripe_payment_intent = $1",
                )
                .bind(&payment_intent)
                .bind(e.to_string().chars().take(500).collect::<String>())
                .execute(pool)
                .await?;
                continue;
            }
        };
        let currency = Currency::parse(&balance_transaction.currency.to_string())?;
        let fee = Money::from_minor_units(balance_transaction.fee, currency)?;
        let mut db = pool.begin().await?;
        reversals::lock_payment(&mut db, &payment_intent).await?;
        sqlx::query(
            "update charge_fees set fee = $2, currency = $3, last_error = null
             where stripe_payment_intent = $1 and fee is null",
        )
        .bind(&payment_intent)
        .bind(fee.amount())
        .bind(currency.code())
        .execute(&mut *db)
        .await?;
        let booked = apply_fee(&mut db, &payment_intent).await?;
        db.commit().await?;
        done.fetched += 1;
        done.campaigns.extend(booked);
    }
    Ok(done)
}

/// Books the fee of a paid donation once it is known. Returns the campaign when it booked.
/// Called with the payment's advisory lock held.
pub(super) async fn apply_fee(db: &mut PgConnection, payment_intent: &str) -> Result<Option<String>, Error> {
    let row: Option<(String, String, i64, String, Decimal, String)> = sqlx::query_as(
        "select d.stripe_session_id, c.slug, c.ledger_account_id, d.currency, f.fee, f.currency
         from donations d
         join charge_fees f on f.stripe_payment_intent = d.stripe_payment_intent
         join campaigns c on c.id = d.campaign_id
         where d.stripe_payment_intent = $1 and d.status = 'paid' and d.fee_transaction_id is null
           and f.fee is not null",
    )
    .bind(payment_intent)
    .fetch_optional(&mut *db)
    .await?;
    let Some((session, slug, campaign_account, donation_currency, fee, fee_currency)) = row else {
        return Ok(None);
    };
    if fee.is_zero() {
        return Ok(None);
    }
    if donation_currency.trim() != fee_currency.trim() {
        let reason = format!("fee settled in {fee_currency}, donation in {donation_currency}");
        leave_for_review(db, payment_intent, &reason).await?;
        return Ok(None);
    }
    let fee = Money::new(fee, Currency::parse(&fee_currency)?)?;
    let id = TransactionId::derived_from(&format!("fee:{session}"));
    let metadata = serde_json::json!({ "kind": "stripe_fee", "stripe_session": session });
    let taken = reversals::take_back(db, id, AccountId::from_i64(campaign_account), fee, metadata).await?;
    if let Err(reason) = taken {
        leave_for_review(db, payment_intent, &reason).await?;
        return Ok(None);
    }
    sqlx::query("update donations set fee = $2, fee_transaction_id = $3 where stripe_session_id = $1")
        .bind(&session)
        .bind(fee.amount())
        .bind(id)
        .execute(&mut *db)
        .await?;
    Ok(Some(slug))
}

async fn leave_for_review(db: &mut PgConnection, payment_intent: &str, reason: &str) -> Result<(), Error> {
    tracing::warn!(%payment_intent, %reason, "fee not booked; needs review");
    sqlx::query("update charge_fees set last_error = $2 where stripe_payment_intent = $1")
        .bind(payment_intent)
        .bind(reason)
        .execute(&mut *db)
        .await?;
    Ok(())
}
