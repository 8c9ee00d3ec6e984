//! Stripe pays the platform's balance out to the organisation's bank (`payout.paid`), and now
//! and then the bank sends it back (`payout.failed`). Each is booked once in the ledger:
//!
//! - paid: debit `bank:{cur}`, credit `stripe:balance:{cur}`, ledger id derived from
//!   `stripe_payout:{po}:paid`;
//! - failed: the same back, from `stripe_payout:{po}:failed`. A payout that fails before it was
//!   ever reported paid gets both bookings, so the ledger mirrors Stripe's two balance
//!   transactions (the payout and its `payout_failure`) whatever order the events arrive in.
//!
//! Both run inside the event store's transaction (`zbor_stripe::events`), so a duplicate or
//! replayed event books nothing twice. A payout's row (`stripe_payouts`) is what a bank
//! statement's incoming credit is later matched to (`bank`).

use serde::Deserialize;
use serde_json::json;
use sqlx::PgConnection;
use zbor_campaigns::AccountCode;
use zbor_ledger::{Currency, Money, NewTransaction, TransactionId};
use zbor_stripe::events::{is_stripe_id, Context, Dispatcher, Event, Handled, HandlerFuture, Outcome};

use crate::Error;

/// Registers the handlers of Stripe's payouts to the bank in the event table.
pub fn register(events: Dispatcher) -> Dispatcher {
    events.on("payout.paid", payout_paid).on("payout.failed", payout_failed)
}

fn payout_paid<'a>(db: &'a mut PgConnection, event: &'a Event, _: &'a Context) -> HandlerFuture<'a> {
    Box::pin(async move { Ok(paid(db, &event.object_as("payout")?).await?) })
}

fn payout_failed<'a>(db: &'a mut PgConnection, event: &'a Event, _: &'a Context) -> HandlerFuture<'a> {
    Box::pin(async move { Ok(failed(db, &event.object_as("payout")?).await?) })
}

/// The fields of Stripe's `payout` object zbor reads.
#[derive(Deserialize)]
struct Payout {
    id: String,
    amount: i64,
    currency: String,
    #[serde(default)]
    arrival_date: Option<i64>,
    #[serde(default)]
    failure_code: Option<String>,
}

/// The ledger transaction of a Stripe payout's step: `paid` or `failed`.
pub fn transaction_id(payout: &str, step: &str) -> TransactionId {
    TransactionId::derived_from(&format!("stripe_payout:{payout}:{step}"))
}

enum Recorded {
    /// The payout's row as it was before this event, locked.
    Known { currency: String, amount: rust_decimal::Decimal, status: String },
    /// First seen now: the paid booking was made, the row inserted.
    New,
}

async fn paid(db: &mut PgConnection, payout: &Payout) -> Result<Handled, Error> {
    let money = match money(payout) {
        Ok(money) => money,
        Err(reason) => return Ok(Handled::review(reason)),
    };
    Ok(match record_paid(db, payout, money).await? {
        Recorded::New => Handled::new(Outcome::Booked),
        Recorded::Known { currency, amount, .. } => {
            mismatch(payout, money, &currency, amount).map_or_else(Handled::ignored, Handled::review)
        }
    })
}

async fn failed(db: &mut PgConnection, payout: &Payout) -> Result<Handled, Error> {
    let money = match money(payout) {
        Ok(money) => money,
        Err(reason) => return Ok(Handled::review(reason)),
    };
    let status = match record_paid(db, payout, money).await? {
        Recorded::New => "paid".to_owned(),
        Recorded::Known { currency, amount, status } => {
            if let Some(reason) = mismatch(payout, money, &currency, amount) {
                return Ok(Handled::review(reason));
            }
            status
        }
    };
    if status == "failed" {
        return Ok(Handled::ignored());
    }
    let (bank, balance) = accounts(db, money.currency()).await?;
    let id = transaction_id(&payout.id, "failed");
    let back = NewTransaction::new(id)
        .debit(balance, money)
        .credit(bank, money)
        .metadata(json!({ "kind": "stripe_payout_failure", "stripe_payout": payout.id }));
    zbor_ledger::post_in(&mut *db, &back).await?;
    let code = payout.failure_code.as_deref().filter(|c| {
        !c.is_empty()
            && c.len() <= 64
            && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    });
    sqlx::query(
        "update stripe_payouts set status = 'failed', failed_transaction_id = $2, failure_code = $3,
                updated_at = now()
         where id = $1",
    )
    .bind(&payout.id)
    .bind(id)
    .bind(code)
    .execute(&mut *db)
    .await?;
    tracing::warn!(stripe_payout = %payout.id, "Stripe's payout to the bank failed; booked back to Stripe's balance");
    Ok(Handled::new(Outcome::Booked))
}

/// The payout's amount, or why it cannot be booked (for a person to review).
fn money(payout: &Payout) -> Result<Money, String> {
    if !is_stripe_id(&payout.id, "po_") {
        return Err("a payout event without a payout id".into());
    }
    let currency = Currency::parse(&payout.currency.to_ascii_uppercase())
        .map_err(|_| format!("payout {} in an unknown currency", payout.id))?;
    match Money::from_minor_units(payout.amount, currency) {
        Ok(money) if money.is_positive() => Ok(money),
        _ => Err(format!("payout {} of a non-positive amount", payout.id)),
    }
}

fn mismatch(payout: &Payout, money: Money, currency: &str, amount: rust_decimal::Decimal) -> Option<String> {
    (currency != money.currency().code() || amount != money.amount())
        .then(|| format!("payout {} changed its amount or currency since it was booked", payout.id))
}

/// Books the payout as paid unless it was, and returns its row as it stood (locked).
async fn record_paid(db: &mut PgConnection, payout: &Payout, money: Money) -> Result<Recorded, Error> {
    if let Some(known) = lock(db, &payout.id).await? {
        return Ok(known);
    }
    let (bank, balance) = accounts(db, money.currency()).await?;
    let id = transaction_id(&payout.id, "paid");
    let out = NewTransaction::new(id)
        .debit(bank, money)
        .credit(balance, money)
        .metadata(json!({ "kind": "stripe_payout", "stripe_payout": payout.id }));
    zbor_ledger::post_in(&mut *db, &out).await?;
    let arrival =
        payout.arrival_date.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map(|t| t.date_naive());
    let inserted = sqlx::query(
        "insert into stripe_payouts (id, currency, amount, status, arrival_date, paid_transaction_id)
         values ($1, $2, $3, 'paid', $4, $5) on conflict (id) do nothing",
    )
    .bind(&payout.id)
    .bind(money.currency().code())
    .bind(money.amount())
    .bind(arrival)
    .bind(id)
    .execute(&mut *db)
    .await?
    .rows_affected();
    if inserted == 1 {
        tracing::info!(stripe_payout = %payout.id, "Stripe's payout to the bank booked");
        return Ok(Recorded::New);
    }
    // another event of this payout inserted it first (it waited on our key): read it as it is
    lock(db, &payout.id).await?.ok_or_else(|| Error::StripeAnswer(format!("payout {} vanished", payout.id)))
}

async fn lock(db: &mut PgConnection, id: &str) -> Result<Option<Recorded>, Error> {
    let row: Option<(String, rust_decimal::Decimal, String)> =
        sqlx::query_as("select currency::text, amount, status from stripe_payouts where id = $1 for update")
            .bind(id)
            .fetch_optional(&mut *db)
            .await?;
    Ok(row.map(|(currency, amount, status)| Recorded::Known { currency, amount, status }))
}

/// The bank's and Stripe's balance accounts in `currency`, made on first use.
async fn accounts(
    db: &mut PgConnection,
    currency: Currency,
) -> Result<(zbor_ledger::AccountId, zbor_ledger::AccountId), Error> {
    let bank =
        zbor_ledger::ensure_account(&mut *db, &AccountCode::bank(currency).new_account(currency)).await?;
    let balance =
        zbor_ledger::ensure_account(&mut *db, &AccountCode::stripe_balance(currency).new_account(currency))
            .await?;
    Ok((bank.id, balance.id))
}
