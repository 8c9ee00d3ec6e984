//! Money going back: refunds (`charge.refunded`, partial too) and disputes
//! (`charge.dispute.created`, `charge.dispute.closed` won or lost).
//!
//! Each reversal books under an id derived from what Stripe reported, so every number and order
//! of deliveries gives the same ledger:
//! - refunds: `charge.refunded` carries the running total refunded. The highest total seen is
//!   kept per payment (`charge_refunds`); the booking is the difference to what was booked, under
//!   `refund:{payment_intent}:{total}`. A refund that arrives before its donation is applied when
//!   the donation books.
//! - disputes: the disputed amount is withdrawn once (`dispute:{id}:withdrawn`), whatever event
//!   arrives first; a dispute closed as won reinstates exactly what was withdrawn, once
//!   (`dispute:{id}:reinstated`). Inquiries (`warning_*` statuses) move no money at Stripe and
//!   book nothing. Stripe's dispute fee is the organisation's (`stripe:fees:{cur}`), booked once
//!   per balance transaction of the dispute (`dispute_fee:{txn}`).
//! - a reversal that does not fit what is left of the donation (refunds plus disputes above its
//!   amount), or that would overdraw funds already held for payouts, is stored for review.
//!
//! All events of one payment take a transaction-scoped advisory lock on its PaymentIntent first,
//! so a refund and its donation's checkout event arriving together cannot each miss the other.

use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::PgConnection;
use zbor_campaigns::AccountCode;
use zbor_ledger::{AccountId, Currency, Money, NewTransaction, TransactionId};

use crate::Error;
use zbor_stripe::events::{Handled, Outcome};

#[derive(Deserialize)]
pub(super) struct Charge {
    id: String,
    amount_refunded: i64,
    currency: String,
    payment_intent: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Dispute {
    id: String,
    amount: i64,
    currency: String,
    payment_intent: Option<String>,
    status: String,
    /// Stripe's balance transactions of the dispute (the withdrawal, a reinstatement), each
    /// with the fee Stripe charged or gave back.
    #[serde(default)]
    balance_transactions: Vec<DisputeBalanceTransaction>,
}

#[derive(Deserialize)]
struct DisputeBalanceTransaction {
    id: String,
    currency: String,
    #[serde(default)]
    fee: i64,
}

/// Serializes the handling of one payment's events until the end of the database transaction.
pub(super) async fn lock_payment(db: &mut PgConnection, payment_intent: &str) -> Result<(), Error> {
    lock_until_commit(db, "zbor-payment:", payment_intent).await
}

/// An advisory lock on `scope` + `id` (`zbor-payment:pi_…`, `zbor-invoice:in_…`), held until the
/// end of the database transaction.
pub(super) async fn lock_until_commit(db: &mut PgConnection, scope: &str, id: &str) -> Result<(), Error> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1 || $2, 0))")
        .bind(scope)
        .bind(id)
        .execute(&mut *db)
        .await?;
    Ok(())
}

pub(super) async fn refund(db: &mut PgConnection, charge: Charge) -> Result<Handled, Error> {
    let Some(payment_intent) = charge.payment_intent else {
        return Ok(review(format!("refund on charge {} without a payment intent", charge.id)));
    };
    let Ok(currency) = Currency::parse(&charge.currency) else {
        return Ok(review(format!("refund on charge {} in an unknown currency", charge.id)));
    };
    let total = Money::from_minor_units(charge.amount_refunded, currency)?;
    if total.is_negative() {
        return Err(Error::MalformedEvent("negative amount_refunded".into()));
    }
    lock_payment(db, &payment_intent).await?;
    sqlx::query(
        "insert into charge_refunds (stripe_payment_intent, currency, refunded) values ($1, $2, $3)
         on conflict (stripe_payment_intent) do update
             set refunded = greatest(charge_refunds.refunded, excluded.refunded), updated_at = now()",
    )
    .bind(&payment_intent)
    .bind(currency.code())
    .bind(total.amount())
    .execute(&mut *db)
    .await?;
    apply_refunds(db, &payment_intent).await
}

/// The paid donation of a payment, locked.
struct PaidDonation {
    session: String,
    campaign: String,
    campaign_account: AccountId,
    currency: Currency,
    amount: Decimal,
    refunded: Decimal,
    disputed: Decimal,
}

async fn paid_donation(db: &mut PgConnection, payment_intent: &str) -> Result<Option<PaidDonation>, Error> {
    let row: Option<(String, String, i64, String, Decimal, Decimal, Decimal)> = sqlx::query_as(
        "select d.stripe_session_id, c.slug, c.ledger_account_id, d.currency, d.amount, d.refunded, d.disputed
         from donations d join campaigns c on c.id = d.campaign_id
         where d.stripe_payment_intent = $1 and d.status = 'paid'
         for update of d",
    )
    .bind(payment_intent)
    .fetch_optional(&mut *db)
    .await?;
    row.map(|(session, campaign, account, currency, amount, refunded, disputed)| {
        Ok(PaidDonation {
            session,
            campaign,
            campaign_account: AccountId::from_i64(account),
            currency: Currency::parse(&currency)?,
            amount,
            refunded,
            disputed,
        })
    })
    .transpose()
}

/// Books whatever part of the reported refund total is not booked yet. The caller holds the
/// payment's lock.
pub(super) async fn apply_refunds(db: &mut PgConnection, payment_intent: &str) -> Result<Handled, Error> {
    let Some(donation) = paid_donation(db, payment_intent).await? else {
        return Ok(Handled::new(Outcome::Waiting));
    };
    let reported: Option<(String, Decimal)> =
        sqlx::query_as("select currency, refunded from charge_refunds where stripe_payment_intent = $1")
            .bind(payment_intent)
            .fetch_optional(&mut *db)
            .await?;
    let Some((reported_currency, total)) = reported else {
        return Ok(Handled::new(Outcome::Ignored));
    };
    let room = donation.amount - donation.disputed;
    if reported_currency != donation.currency.code() || total > room {
        return Ok(review(format!(
            "refund total {total} {reported_currency} does not fit donation {} ({} {}, {} disputed)",
            donation.session, donation.amount, donation.currency, donation.disputed
        )));
    }
    let Some(delta) = total.checked_sub(donation.refunded).filter(|d| d.is_sign_positive() && !d.is_zero())
    else {
        return Ok(Handled::new(Outcome::Ignored));
    };
    let delta = Money::new(delta, donation.currency)?;
    let id = TransactionId::derived_from(&format!("refund:{payment_intent}:{total}"));
    let metadata = serde_json::json!({ "kind": "refund", "stripe_session": donation.session });
    if let Err(reason) = take_back(db, id, donation.campaign_account, delta, metadata).await? {
        return Ok(review(reason));
    }
    sqlx::query("update donations set refunded = $2 where stripe_session_id = $1")
        .bind(&donation.session)
        .bind(total)
        .execute(&mut *db)
        .await?;
    Ok(Handled::new(Outcome::Booked).for_campaign(donation.campaign).counted_as(super::DONATIONS_REFUNDED))
}

pub(super) async fn dispute(db: &mut PgConnection, dispute: Dispute) -> Result<Handled, Error> {
    let fee_booked = book_dispute_fees(db, &dispute).await?;
    let handled = dispute_amount(db, dispute).await?;
    Ok(if fee_booked && matches!(handled.outcome, Outcome::Ignored) {
        Handled::new(Outcome::Booked)
    } else {
        handled
    })
}

/// Stripe's dispute fee (and any fee it gives back) is the organisation's cost, not the
/// campaign's: debit `stripe:fees:{cur}`, credit `stripe:balance:{cur}`, once per balance
/// transaction (`dispute_fee:{txn}`), so the ledger's Stripe balance follows Stripe's.
async fn book_dispute_fees(db: &mut PgConnection, dispute: &Dispute) -> Result<bool, Error> {
    let mut booked = false;
    for txn in dispute.balance_transactions.iter().filter(|t| t.fee != 0) {
        let Ok(currency) = Currency::parse(&txn.currency.to_ascii_uppercase()) else {
            return Err(Error::MalformedEvent("dispute balance transaction currency".into()));
        };
        if !zbor_stripe::events::is_stripe_id(&txn.id, "txn_") {
            return Err(Error::MalformedEvent("dispute balance transaction id".into()));
        }
        let fee = Money::from_minor_units(txn.fee.saturating_abs(), currency)?;
        let fees =
            zbor_ledger::ensure_account(&mut *db, &AccountCode::stripe_fees(currency).new_account(currency))
                .await?
                .id;
        let balance = zbor_ledger::ensure_account(
            &mut *db,
            &AccountCode::stripe_balance(currency).new_account(currency),
        )
        .await?
        .id;
        let tx = NewTransaction::new(TransactionId::derived_from(&format!("dispute_fee:{}", txn.id)));
        let tx = if txn.fee > 0 {
            tx.debit(fees, fee).credit(balance, fee)
        } else {
            tx.debit(balance, fee).credit(fees, fee)
        };
        let tx = tx.metadata(serde_json::json!({
            "kind": "dispute_fee", "dispute": dispute.id, "balance_transaction": txn.id,
        }));
        if zbor_ledger::post_in(&mut *db, &tx).await? == zbor_ledger::Outcome::Created {
            booked = true;
        }
    }
    Ok(booked)
}

async fn dispute_amount(db: &mut PgConnection, dispute: Dispute) -> Result<Handled, Error> {
    // Inquiries (warning_needs_response, warning_under_review, warning_closed) withdraw nothing.
    if dispute.status.starts_with("warning_") {
        return Ok(Handled::new(Outcome::Ignored));
    }
    let Some(payment_intent) = dispute.payment_intent.as_deref() else {
        return Ok(review(format!("dispute {} without a payment intent", dispute.id)));
    };
    lock_payment(db, payment_intent).await?;
    let Some(donation) = paid_donation(db, payment_intent).await? else {
        return Ok(review(format!("dispute {} on a payment with no booked donation", dispute.id)));
    };
    if Currency::parse(&dispute.currency).ok() != Some(donation.currency) {
        return Ok(review(format!("dispute {} in another currency than its donation", dispute.id)));
    }
    let amount = Money::from_minor_units(dispute.amount, donation.currency)?;
    if !amount.is_positive() {
        return Err(Error::MalformedEvent("dispute amount".into()));
    }
    let metadata =
        serde_json::json!({ "kind": "dispute", "stripe_session": donation.session, "dispute": dispute.id });
    let mut booked = false;
    // Withdrawn once, whichever of created/closed arrives first.
    let withdrawn_id = TransactionId::derived_from(&format!("dispute:{}:withdrawn", dispute.id));
    let withdrawn = match withdrawn_amount(db, withdrawn_id, donation.campaign_account).await? {
        Some(earlier) => earlier,
        None => {
            if amount.amount() > donation.amount - donation.refunded - donation.disputed {
                return Ok(review(format!(
                    "dispute {} of {} does not fit donation {} ({} {}, {} refunded, {} disputed)",
                    dispute.id,
                    amount,
                    donation.session,
                    donation.amount,
                    donation.currency,
                    donation.refunded,
                    donation.disputed
                )));
            }
            if let Err(reason) =
                take_back(db, withdrawn_id, donation.campaign_account, amount, metadata.clone()).await?
            {
                return Ok(review(reason));
            }
            adjust_disputed(db, &donation.session, amount.amount()).await?;
            booked = true;
            amount.amount()
        }
    };
    if dispute.status == "won" {
        let reinstated = TransactionId::derived_from(&format!("dispute:{}:reinstated", dispute.id));
        if !exists(db, reinstated).await? {
            // exactly what was withdrawn goes back
            let back = Money::new(withdrawn, donation.currency)?;
            let balance = stripe_balance(db, donation.currency).await?;
            let tx = NewTransaction::new(reinstated)
                .debit(balance, back)
                .credit(donation.campaign_account, back)
                .metadata(metadata);
            zbor_ledger::post_in(db, &tx).await?;
            adjust_disputed(db, &donation.session, -withdrawn).await?;
            booked = true;
        }
    }
    Ok(if booked {
        Handled::new(Outcome::Booked).for_campaign(donation.campaign)
    } else {
        Handled::new(Outcome::Ignored)
    })
}

/// What the withdrawal transaction took from the campaign, if it was booked.
async fn withdrawn_amount(
    db: &mut PgConnection,
    id: TransactionId,
    campaign_account: AccountId,
) -> Result<Option<Decimal>, Error> {
    Ok(sqlx::query_scalar("select amount from ledger_postings where transaction_id = $1 and account_id = $2")
        .bind(id)
        .bind(campaign_account)
        .fetch_optional(&mut *db)
        .await?)
}

async fn exists(db: &mut PgConnection, id: TransactionId) -> Result<bool, Error> {
    Ok(sqlx::query_scalar("select exists (select 1 from ledger_transactions where id = $1)")
        .bind(id)
        .fetch_one(&mut *db)
        .await?)
}

async fn adjust_disputed(db: &mut PgConnection, session: &str, by: Decimal) -> Result<(), Error> {
    sqlx::query("update donations set disputed = disputed + $2 where stripe_session_id = $1")
        .bind(session)
        .bind(by)
        .execute(&mut *db)
        .await?;
    Ok(())
}

async fn stripe_balance(db: &mut PgConnection, currency: Currency) -> Result<AccountId, Error> {
    Ok(zbor_ledger::account_by_code(&mut *db, AccountCode::stripe_balance(currency).as_str()).await?.id)
}

/// Moves `amount` from the campaign back to the processor balance. When the campaign's funds are
/// already held for payouts, that would overdraw it: the booking is undone (savepoint) and the
/// reason returned, so the event is stored for review instead of failing forever.
pub(super) async fn take_back(
    db: &mut PgConnection,
    id: TransactionId,
    campaign_account: AccountId,
    amount: Money,
    metadata: serde_json::Value,
) -> Result<Result<(), String>, Error> {
    let balance = stripe_balance(db, amount.currency()).await?;
    let tx =
        NewTransaction::new(id).debit(campaign_account, amount).credit(balance, amount).metadata(metadata);
    sqlx::query("savepoint reversal").execute(&mut *db).await?;
    match zbor_ledger::post_in(db, &tx).await {
        Ok(_) => {
            sqlx::query("release savepoint reversal").execute(&mut *db).await?;
            Ok(Ok(()))
        }
        Err(zbor_ledger::Error::InsufficientFunds { available, requested, .. }) => {
            sqlx::query("rollback to savepoint reversal").execute(&mut *db).await?;
            Ok(Err(format!(
                "taking back {requested} would overdraw the campaign (available {available}): funds are held or paid out"
            )))
        }
        Err(e) => Err(e.into()),
    }
}

fn review(reason: String) -> Handled {
    Handled::review(reason)
}
