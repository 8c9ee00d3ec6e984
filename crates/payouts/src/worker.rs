//! Executing one approved payout on its rail, exactly once.
//!
//! 1. **Claim** (a short transaction): the payout must be `approved` or `sending` (a worker died
//!    mid-way); its destination must be the one the approvals signed
//!    ([`crate::beneficiaries::approved_destination`]), or it fails and nothing is paid; it becomes
//!    `sending` and its attempt is counted.
//! 2. **Call the rail** outside any transaction. A Stripe Connect transfer carries the
//!    `Idempotency-Key` `zbor:payout:{id}:{nonce}` ([`idempotency_key`]; the nonce is kept on the
//!    payout's row): a worker that died after Stripe made the transfer and before step 3 makes
//!    the same call again and Stripe answers with the same transfer.
//! 3. **Record** (one transaction): the hold is posted (ledger transaction `payout:{id}:paid`),
//!    the payout is `paid` with the transfer's id.
//!
//! A transient failure puts the payout back to `approved` with an exponential, jittered
//! `next_attempt_at` (the sweeper publishes it again when due); a refusal by Stripe, or
//! too many attempts, makes it `failed`, where it waits for a treasurer to retry or cancel (cancel
//! voids the hold). SEPA and manual payouts are not paid by workers: treasurers send the SEPA
//! file or pay by hand and mark them.
//!
//! What went wrong is kept on the payout as zbor's words and Stripe's machine codes in clear, and
//! Stripe's message sealed (it can quote the connected account `acct_…`): the message is never
//! logged, nor returned in a [`Step`].

use std::time::Duration;

use rust_decimal::Decimal;
use sqlx::PgPool;
use stripe_connect::transfer::CreateTransfer;
use zbor_ledger::{Currency, Money};
use zbor_stripe::Stripe;
use zbor_vault::DataKey;

use crate::beneficiaries::{BeneficiaryId, MethodKind, PayoutMethod};
use crate::jobs::{millis, TAKEOVER_AFTER};
use crate::rails::{self, Delivery};
use crate::treasury::{Failure, PayoutStatus};
use crate::{BatchId, Error, PayoutId};

/// Attempts before a payout is `failed` and waits for a treasurer.
pub const ATTEMPTS_MAX: i32 = 8;
/// First retry delay; doubles per attempt, capped at an hour, plus up to 50% jitter.
const RETRY_FIRST: Duration = Duration::from_secs(5);

/// What one run of [`pay`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Paid {
        reference: String,
    },
    /// Already paid, failed or cancelled: nothing to do.
    Finished,
    /// A SEPA or manual payout: treasurers complete it.
    ForTreasurers,
    /// Payouts are paused: left approved; the sweeper publishes it again after resuming.
    Paused,
    /// Will be tried again after this many seconds.
    RetryLater {
        after_seconds: i64,
    },
    /// `reason`: zbor's words and the machine code, nothing a third party wrote.
    Failed {
        reason: String,
    },
}

/// Stripe's machine codes of a failed call, for `payouts.last_error_code`
/// (`http_400:invalid_request_error:account_invalid`), and its message, to be sealed.
fn stripe_failure(summary: String, e: &zbor_stripe::Error) -> Failure {
    let (code, detail) = match e {
        zbor_stripe::Error::Refused { status, kind, code, message, .. } => {
            let parts = [Some(format!("http_{status}")), Some(kind.clone()), code.clone()];
            let tokens: Vec<String> = parts.into_iter().flatten().filter(|t| is_code_token(t)).collect();
            (Some(tokens.join(":")), Some(message.clone()))
        }
        zbor_stripe::Error::Unavailable { last, .. } => (Some(unavailable_code(last)), Some(last.clone())),
        zbor_stripe::Error::Busy => (Some("busy".to_owned()), None),
        zbor_stripe::Error::Config(text) => (Some("configuration".to_owned()), Some(text.clone())),
        // the event store's errors: a call to Stripe never returns them
        zbor_stripe::Error::Signature(_)
        | zbor_stripe::Error::MalformedEvent(_)
        | zbor_stripe::Error::Handler(_)
        | zbor_stripe::Error::Database(_)
        | zbor_stripe::Error::Stopping => (Some("internal".to_owned()), None),
    };
    Failure { summary, code, detail }
}

/// `unavailable`, with what zbor-stripe's summary of the last failure says in machine terms:
/// `unavailable:http_503:api_error`, `unavailable:timeout`, `unavailable:connection`.
fn unavailable_code(last: &str) -> String {
    let mut parts = vec!["unavailable".to_owned()];
    if let Some(rest) = last.strip_prefix("HTTP ") {
        let mut words = rest.split([' ', ':']);
        if let Some(status) = words.next().filter(|s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit())) {
            parts.push(format!("http_{status}"));
            parts.extend(words.next().filter(|kind| is_code_token(kind)).map(str::to_owned));
        }
    } else if let Some(kind) =
        ["timeout", "connection", "unreadable response"].into_iter().find(|kind| last.starts_with(kind))
    {
        parts.push(kind.replace(' ', "_"));
    }
    parts.join(":")
}

/// A machine token (`invalid_request_error`, `account_invalid`) that may be kept in clear.
fn is_code_token(token: &str) -> bool {
    (1..=48).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn backoff(attempt: i32) -> Duration {
    let doublings = u32::try_from(attempt.clamp(1, 20) - 1).unwrap_or(0);
    let base = RETRY_FIRST.saturating_mul(2u32.saturating_pow(doublings)).min(Duration::from_secs(3600));
    zbor_stripe::with_jitter(base)
}

#[derive(sqlx::FromRow)]
struct DueRow {
    status: PayoutStatus,
    amount: Decimal,
    currency: String,
    beneficiary: BeneficiaryId,
    batch: BatchId,
    attempts: i32,
    method: MethodKind,
    stale: bool,
    idempotency_nonce: Option<uuid::Uuid>,
}

/// The payout's `Idempotency-Key` at Stripe: the same for every attempt at one payout, different
/// for a payout that reuses an id after a point-in-time restore (migration 18). Payouts made
/// before that migration have no nonce and keep the key they were first sent with.
pub fn idempotency_key(id: PayoutId, nonce: Option<uuid::Uuid>) -> String {
    match nonce {
        Some(nonce) => format!("zbor:payout:{id}:{}", nonce.simple()),
        None => format!("zbor:payout:{id}"),
    }
}

/// Pays payout `id` if it is due. Safe to call for the same payout from several workers at once
/// and again after a crash at any point.
pub async fn pay(pool: &PgPool, key: &DataKey, stripe: Option<&Stripe>, id: PayoutId) -> Result<Step, Error> {
    let mut db = pool.begin().await?;
    let row: Option<DueRow> = sqlx::query_as(
        "select p.status, p.amount, b.currency, p.beneficiary_id as beneficiary,
                p.batch_id as batch, p.attempts, ben.method,
                coalesce(p.next_attempt_at <= now() - $2 * interval '1 millisecond', true) as stale,
                p.idempotency_nonce
         from payouts p join payout_batches b on b.id = p.batch_id join beneficiaries ben on ben.id = p.beneficiary_id
         where p.id = $1 for update of p",
    )
    .bind(id)
    .bind(millis(TAKEOVER_AFTER))
    .fetch_optional(&mut *db)
    .await?;
    let Some(DueRow {
        status,
        amount,
        currency,
        beneficiary,
        batch,
        attempts,
        method,
        stale,
        idempotency_nonce,
    }) = row
    else {
        return Ok(Step::Finished);
    };
    // `sending` and recent: another worker is on it. Stale (a job is reclaimed from a silent
    // worker only after longer than this: `jobs`): that worker died or hangs; take over. Both
    // calling Stripe is safe: the idempotency key gives both the one transfer, and one records it.
    if !(status == PayoutStatus::Approved || (status == PayoutStatus::Sending && stale)) {
        return Ok(Step::Finished);
    }
    if rails::of(method).delivery() != Delivery::Worker {
        return Ok(Step::ForTreasurers);
    }
    if crate::switch::is_paused_in(&mut db).await? {
        return Ok(Step::Paused);
    }
    // what the approvals signed, checked now, under the payout's lock: the beneficiary's row
    // cannot change from here until the payout is paid or failed (beneficiaries_destination_guard);
    // under the key version the beneficiary is sealed with, so paying goes on during a rotation
    let approved = match crate::beneficiaries::approved_destination(&mut db, key, id).await {
        Ok(approved) => approved,
        Err(Error::DestinationNotApproved(_)) => {
            let failure = Failure {
                summary: Error::DestinationNotApproved(id).to_string(),
                code: Some("destination_not_approved".to_owned()),
                detail: None,
            };
            sqlx::query(
                "update payouts set status = 'failed', last_error = $2, last_error_code = $3,
                        last_error_sealed = null, last_error_legacy = null
                 where id = $1",
            )
            .bind(id)
            .bind(&failure.summary)
            .bind(&failure.code)
            .execute(&mut *db)
            .await?;
            db.commit().await?;
            tracing::warn!(
                payout = id.as_i64(),
                beneficiary = beneficiary.as_i64(),
                "payout failed: destination not the approved one"
            );
            return Ok(Step::Failed { reason: failure.public() });
        }
        Err(e) => return Err(e),
    };
    let PayoutMethod::StripeConnect { account } = approved.method else {
        return Ok(Step::ForTreasurers);
    };
    let Some(stripe) = stripe else {
        return Ok(Step::RetryLater { after_seconds: 60 });
    };
    sqlx::query("update payouts set status = 'sending', attempts = attempts + 1, next_attempt_at = now() where id = $1")
        .bind(id)
        .execute(&mut *db)
        .await?;
    db.commit().await?;
    let attempt = attempts + 1;

    let currency = Currency::parse(&currency)?;
    let money = Money::new(amount, currency)?;
    let minor = money.to_minor_units()?;
    let Ok(stripe_currency) = currency.stripe_code().parse::<stripe_types::Currency>();
    let transfer = CreateTransfer::new(stripe_currency, account.as_str())
        .amount(minor)
        .transfer_group(format!("zbor-batch-{batch}"))
        .metadata(std::collections::HashMap::from([("zbor_payout".to_owned(), id.to_string())]));
    match stripe.send(&transfer, &idempotency_key(id, idempotency_nonce)).await {
        Ok(made) => {
            let reference = made.id.as_str().to_owned();
            if !record_paid(pool, id, &reference).await? {
                return Ok(Step::Finished);
            }
            tracing::info!(payout = id.as_i64(), "payout paid");
            Ok(Step::Paid { reference })
        }
        // our own limit for this rail: not the transfer's fault, so not an attempt
        Err(zbor_stripe::Error::Busy) => {
            let after = zbor_stripe::with_jitter(RETRY_FIRST);
            sqlx::query(
                "update payouts set status = 'approved', attempts = attempts - 1,
                        next_attempt_at = now() + $2 * interval '1 millisecond'
                 where id = $1 and status = 'sending'",
            )
            .bind(id)
            .bind(i64::try_from(after.as_millis()).unwrap_or(i64::MAX))
            .execute(pool)
            .await?;
            Ok(Step::RetryLater { after_seconds: i64::try_from(after.as_secs()).unwrap_or(i64::MAX) })
        }
        Err(e @ zbor_stripe::Error::Refused { status, .. }) if !(500..600).contains(&status) => {
            let failure = stripe_failure("Stripe refused the transfer".to_owned(), &e);
            mark_failed(pool, key, id, &failure).await?;
            Ok(Step::Failed { reason: failure.public() })
        }
        Err(e) if attempt >= ATTEMPTS_MAX => {
            let failure = stripe_failure(format!("gave up after {attempt} attempts"), &e);
            mark_failed(pool, key, id, &failure).await?;
            Ok(Step::Failed { reason: failure.public() })
        }
        Err(e) => {
            let after = backoff(attempt);
            let after_seconds = i64::try_from(after.as_secs()).unwrap_or(i64::MAX);
            let failure = stripe_failure("the Stripe transfer failed; it is tried again".to_owned(), &e);
            sqlx::query(
                "update payouts set status = 'approved', last_error = $2, last_error_code = $3,
                        last_error_sealed = $4, last_error_legacy = null,
                        next_attempt_at = now() + $5 * interval '1 millisecond'
                 where id = $1 and status = 'sending'",
            )
            .bind(id)
            .bind(&failure.summary)
            .bind(&failure.code)
            .bind(failure.sealed_detail(Some(key), id)?)
            .bind(i64::try_from(after.as_millis()).unwrap_or(i64::MAX))
            .execute(pool)
            .await?;
            // Stripe's message stays out of the log: it can quote the connected account
            tracing::warn!(
                payout = id.as_i64(),
                attempt,
                code = failure.code.as_deref(),
                "payout failed; will retry"
            );
            Ok(Step::RetryLater { after_seconds })
        }
    }
}

/// Posts the hold and marks the payout paid; false when it is no longer `sending` (another
/// worker, or the `transfer.created` webhook, recorded it first).
async fn record_paid(pool: &PgPool, id: PayoutId, reference: &str) -> Result<bool, Error> {
    let mut db = pool.begin().await?;
    let status: Option<PayoutStatus> =
        sqlx::query_scalar("select status from payouts where id = $1 for update")
            .bind(id)
            .fetch_optional(&mut *db)
            .await?;
    if status != Some(PayoutStatus::Sending) {
        return Ok(false);
    }
    crate::treasury::settle_in(&mut db, id, reference, None).await?;
    db.commit().await?;
    Ok(true)
}

async fn mark_failed(pool: &PgPool, key: &DataKey, id: PayoutId, failure: &Failure) -> Result<(), Error> {
    sqlx::query(
        "update payouts set status = 'failed', last_error = $2, last_error_code = $3, last_error_sealed = $4,
                last_error_legacy = null
         where id = $1 and status = 'sending'",
    )
    .bind(id)
    .bind(&failure.summary)
    .bind(&failure.code)
    .bind(failure.sealed_detail(Some(key), id)?)
    .execute(pool)
    .await?;
    tracing::warn!(
        payout = id.as_i64(),
        code = failure.code.as_deref(),
        "payout failed; waits for a treasurer"
    );
    Ok(())
}
