//! Executing approved payouts on their rail, exactly once each, a worker's whole read at a time.
//!
//! 1. **Claim** (one short transaction for all of them, the payouts locked in id order): each
//!    payout must be `approved`, or `sending` with a claim not refreshed for
//!    [`crate::jobs::TAKEOVER_AFTER`] (its worker died mid-way); its destination must be the one
//!    the approvals signed ([`crate::beneficiaries::approved_destination`]), or it fails and
//!    nothing is paid; it becomes `sending` and its attempt is counted.
//! 2. **Call the rail** outside any transaction, for all claimed payouts at once (the Stripe
//!    client's limiter paces them). While the calls run, the claim is refreshed every
//!    [`crate::jobs::CLAIM_REFRESH_EVERY`], so a slow call is never taken over by another worker.
//!    A Stripe Connect transfer carries the `Idempotency-Key` `zbor:payout:{id}:{nonce}`
//!    ([`idempotency_key`]; the nonce is kept on the payout's row): a worker that died after
//!    Stripe made the transfer and before step 3 makes the same call again and Stripe answers
//!    with the same transfer.
//! 3. **Record** (one transaction for all of them): the holds are posted (ledger transactions
//!    `payout:{id}:paid`), the payouts are `paid` with their transfer's id. If that transaction
//!    fails, each payout is recorded again in a transaction of its own, so one payout's failure
//!    does not lose the others'.
//!
//! [`pay`] is the same for one payout. Per payout, the outcome ([`Step`]) is what it was when
//! each payout was paid on its own.
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

use std::collections::HashMap;
use std::future::Future;
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

/// What one run of [`pay`] did for a payout.
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
    id: PayoutId,
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

/// Pays payout `id` if it is due: [`pay_all`] for one payout. Safe to call for the same payout
/// from several workers at once and again after a crash at any point.
pub async fn pay(pool: &PgPool, key: &DataKey, stripe: Option<&Stripe>, id: PayoutId) -> Result<Step, Error> {
    pay_all(pool, key, stripe, &[id]).await?.pop().unwrap_or(Ok(Step::Finished))
}

/// Pays the payouts `ids` that are due: one claim transaction, the rail called for all claimed
/// payouts at once, one recording transaction. Returns a result per id, in the order given (an
/// id given twice is `Finished` the second time); an `Err` leaves that payout as it was or
/// `sending`, for a later attempt. `Err` as a whole only when nothing could be claimed. Safe to
/// call for the same payouts from several workers at once and again after a crash at any point.
pub async fn pay_all(
    pool: &PgPool,
    key: &DataKey,
    stripe: Option<&Stripe>,
    ids: &[PayoutId],
) -> Result<Vec<Result<Step, Error>>, Error> {
    let mut unique = ids.to_vec();
    unique.sort();
    unique.dedup();
    let mut decided: HashMap<PayoutId, Result<Step, Error>> = HashMap::new();
    let claims = match claim(pool, key, stripe.is_some(), &unique, &mut decided).await {
        Ok(claims) => claims,
        Err(e) if unique.len() == 1 => return Err(e),
        Err(e) => {
            // one payout the claim cannot take should not hold up the others
            tracing::warn!(error = %e, payouts = unique.len(), "claiming payouts together failed; one by one");
            decided.clear();
            let mut claims = Vec::new();
            for &id in &unique {
                match claim(pool, key, stripe.is_some(), &[id], &mut decided).await {
                    Ok(claimed) => claims.extend(claimed),
                    Err(e) => {
                        decided.insert(id, Err(e));
                    }
                }
            }
            claims
        }
    };
    if let (Some(stripe), false) = (stripe, claims.is_empty()) {
        let claimed: Vec<i64> = claims.iter().map(|c| c.id.as_i64()).collect();
        let sent = futures_util::future::join_all(
            claims.iter().map(|c| stripe.send(&c.transfer, &c.idempotency_key)),
        );
        let sent = while_refreshing_claims(pool, &claimed, sent).await;
        let results: Vec<(Claim, Sent)> = claims
            .into_iter()
            .zip(sent)
            .map(|(claim, sent)| {
                let sent = sent.map(|made| made.id.as_str().to_owned());
                (claim, sent)
            })
            .collect();
        decided.extend(record(pool, key, results).await);
    }
    // an id given twice is answered once; the other time (or a payout that is gone) is Finished
    Ok(ids.iter().map(|id| decided.remove(id).unwrap_or(Ok(Step::Finished))).collect())
}

/// A payout claimed for its rail: what the transfer is.
struct Claim {
    id: PayoutId,
    attempt: i32,
    idempotency_key: String,
    transfer: CreateTransfer,
}

/// What Stripe answered for a claimed payout: the transfer's id, or why not.
type Sent = Result<String, zbor_stripe::Error>;

/// Step 1 for `ids` (sorted, distinct) in one transaction: the payouts to call the rail for,
/// marked `sending`; every other payout's outcome goes into `decided`. `Err`: nothing claimed.
async fn claim(
    pool: &PgPool,
    key: &DataKey,
    stripe_configured: bool,
    ids: &[PayoutId],
    decided: &mut HashMap<PayoutId, Result<Step, Error>>,
) -> Result<Vec<Claim>, Error> {
    let raw: Vec<i64> = ids.iter().map(|id| id.as_i64()).collect();
    let mut db = pool.begin().await?;
    // locked in id order: two workers claiming overlapping reads cannot deadlock
    let rows: Vec<DueRow> = sqlx::query_as(
        "select p.id, p.status, p.amount, b.currency, p.beneficiary_id as beneficiary,
                p.batch_id as batch, p.attempts, ben.method,
                coalesce(p.next_attempt_at <= now() - $2 * interval '1 millisecond', true) as stale,
                p.idempotency_nonce
         from payouts p join payout_batches b on b.id = p.batch_id join beneficiaries ben on ben.id = p.beneficiary_id
         where p.id = any($1) order by p.id for update of p",
    )
    .bind(&raw)
    .bind(millis(TAKEOVER_AFTER))
    .fetch_all(&mut *db)
    .await?;
    let mut decisions: Vec<(PayoutId, Result<Step, Error>)> = Vec::new();
    let mut due: Vec<DueRow> = Vec::new();
    let mut paused: Option<bool> = None;
    for row in rows {
        let id = row.id;
        // `sending` and recent: another worker is on it. Stale (a job is reclaimed from a silent
        // worker only after longer than this: `jobs`): that worker died or hangs; take over. Both
        // calling Stripe is safe: the idempotency key gives both the one transfer, and one records it.
        if !(row.status == PayoutStatus::Approved || (row.status == PayoutStatus::Sending && row.stale)) {
            decisions.push((id, Ok(Step::Finished)));
            continue;
        }
        if rails::of(row.method).delivery() != Delivery::Worker {
            decisions.push((id, Ok(Step::ForTreasurers)));
            continue;
        }
        let is_paused = match paused {
            Some(paused) => paused,
            None => *paused.insert(crate::switch::is_paused_in(&mut db).await?),
        };
        if is_paused {
            decisions.push((id, Ok(Step::Paused)));
            continue;
        }
        due.push(row);
    }
    // what the approvals signed, checked now, under the payouts' locks: a beneficiary's row
    // cannot change from here until its payout is paid or failed (beneficiaries_destination_guard);
    // under the key version the beneficiary is sealed with, so paying goes on during a rotation
    let ids: Vec<PayoutId> = due.iter().map(|row| row.id).collect();
    let destinations = crate::beneficiaries::approved_destinations(&mut db, key, &ids).await?;
    let mut failures: Vec<(PayoutId, BeneficiaryId, Failure)> = Vec::new();
    let mut claims = Vec::new();
    for (row, (id, approved)) in due.iter().zip(destinations) {
        let approved = match approved {
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
                failures.push((id, row.beneficiary, failure));
                continue;
            }
            // this payout's own problem (its sealed data): it stays as it was
            Err(e) => {
                decisions.push((id, Err(e)));
                continue;
            }
        };
        let PayoutMethod::StripeConnect { account } = approved.method else {
            decisions.push((id, Ok(Step::ForTreasurers)));
            continue;
        };
        if !stripe_configured {
            decisions.push((id, Ok(Step::RetryLater { after_seconds: 60 })));
            continue;
        }
        let transfer = match transfer(row, account.as_str()) {
            Ok(transfer) => transfer,
            Err(e) => {
                decisions.push((id, Err(e)));
                continue;
            }
        };
        let idempotency_key = idempotency_key(id, row.idempotency_nonce);
        claims.push(Claim { id, attempt: row.attempts + 1, idempotency_key, transfer });
    }
    if !claims.is_empty() {
        let claimed: Vec<i64> = claims.iter().map(|c| c.id.as_i64()).collect();
        sqlx::query(
            "update payouts set status = 'sending', attempts = attempts + 1, next_attempt_at = now()
             where id = any($1)",
        )
        .bind(&claimed)
        .execute(&mut *db)
        .await?;
    }
    db.commit().await?;
    for (id, beneficiary, failure) in failures {
        tracing::warn!(
            payout = id.as_i64(),
            beneficiary = beneficiary.as_i64(),
            "payout failed: destination not the approved one"
        );
        decisions.push((id, Ok(Step::Failed { reason: failure.public() })));
    }
    decided.extend(decisions);
    Ok(claims)
}

/// The transfer of a claimed payout to its connected account `account`.
fn transfer(row: &DueRow, account: &str) -> Result<CreateTransfer, Error> {
    let currency = Currency::parse(&row.currency)?;
    let minor = Money::new(row.amount, currency)?.to_minor_units()?;
    let Ok(stripe_currency) = currency.stripe_code().parse::<stripe_types::Currency>();
    Ok(CreateTransfer::new(stripe_currency, account)
        .amount(minor)
        .transfer_group(format!("zbor-batch-{}", row.batch))
        .metadata(std::collections::HashMap::from([("zbor_payout".to_owned(), row.id.to_string())])))
}

/// Runs `work` (the rail calls) while refreshing the claim of payouts `claimed`: as long as this
/// worker lives, its claims stay fresh and no other worker takes the payouts over.
async fn while_refreshing_claims<T>(pool: &PgPool, claimed: &[i64], work: impl Future<Output = T>) -> T {
    crate::jobs::while_refreshing(work, || async {
        let refreshed = sqlx::query(
            "update payouts set next_attempt_at = now() where id = any($1) and status = 'sending'",
        )
        .bind(claimed)
        .execute(pool)
        .await;
        if let Err(e) = refreshed {
            tracing::warn!(error = %e, "refreshing payout claims failed; will retry");
        }
    })
    .await
}

/// Step 3: what the rail answered, recorded in one transaction; if that fails, each payout in a
/// transaction of its own.
async fn record(
    pool: &PgPool,
    key: &DataKey,
    results: Vec<(Claim, Sent)>,
) -> Vec<(PayoutId, Result<Step, Error>)> {
    match record_together(pool, key, &results).await {
        Ok(steps) => steps,
        Err(e) if results.len() == 1 => results.iter().map(|(claim, _)| claim.id).zip([Err(e)]).collect(),
        Err(e) => {
            tracing::warn!(error = %e, payouts = results.len(), "recording payouts together failed; one by one");
            let mut steps = Vec::with_capacity(results.len());
            for one in results.chunks(1) {
                let id = one[0].0.id;
                match record_together(pool, key, one).await {
                    Ok(step) => steps.extend(step),
                    // not acknowledged: the payout stays `sending` and is taken over later
                    Err(e) => steps.push((id, Err(e))),
                }
            }
            steps
        }
    }
}

/// What became of one payout's rail call, before it is written.
enum Record {
    /// Transfer made: paid if still `sending` (another worker, or the `transfer.created`
    /// webhook, may have recorded it first).
    Paid {
        reference: String,
    },
    /// Our own limit for this rail: not the transfer's fault, so not an attempt.
    Busy {
        after: Duration,
    },
    Failed {
        failure: Failure,
    },
    Retry {
        after: Duration,
        failure: Failure,
    },
}

async fn record_together(
    pool: &PgPool,
    key: &DataKey,
    results: &[(Claim, Sent)],
) -> Result<Vec<(PayoutId, Result<Step, Error>)>, Error> {
    let mut ids: Vec<i64> = results.iter().map(|(claim, _)| claim.id.as_i64()).collect();
    ids.sort_unstable();
    let mut db = pool.begin().await?;
    // locked in id order, as claims lock them
    let statuses: HashMap<PayoutId, PayoutStatus> = sqlx::query_as::<_, (PayoutId, PayoutStatus)>(
        "select id, status from payouts where id = any($1) order by id for update",
    )
    .bind(&ids)
    .fetch_all(&mut *db)
    .await?
    .into_iter()
    .collect();
    let mut steps = Vec::with_capacity(results.len());
    let mut paid: Vec<(PayoutId, String)> = Vec::new();
    // written once the transaction committed: (payout, attempt, code, what happened)
    let mut failed: Vec<(PayoutId, i32, Option<String>, &str)> = Vec::new();
    for (claim, sent) in results {
        let id = claim.id;
        let record = match sent {
            Ok(reference) => Record::Paid { reference: reference.clone() },
            Err(zbor_stripe::Error::Busy) => Record::Busy { after: zbor_stripe::with_jitter(RETRY_FIRST) },
            Err(e @ zbor_stripe::Error::Refused { status, .. }) if !(500..600).contains(status) => {
                Record::Failed { failure: stripe_failure("Stripe refused the transfer".to_owned(), e) }
            }
            Err(e) if claim.attempt >= ATTEMPTS_MAX => Record::Failed {
                failure: stripe_failure(format!("gave up after {} attempts", claim.attempt), e),
            },
            Err(e) => Record::Retry {
                after: backoff(claim.attempt),
                failure: stripe_failure("the Stripe transfer failed; it is tried again".to_owned(), e),
            },
        };
        let step = match record {
            Record::Paid { reference } => {
                if statuses.get(&id) == Some(&PayoutStatus::Sending) {
                    paid.push((id, reference.clone()));
                    Step::Paid { reference }
                } else {
                    Step::Finished
                }
            }
            Record::Busy { after } => {
                sqlx::query(
                    "update payouts set status = 'approved', attempts = attempts - 1,
                            next_attempt_at = now() + $2 * interval '1 millisecond'
                     where id = $1 and status = 'sending'",
                )
                .bind(id)
                .bind(millis(after))
                .execute(&mut *db)
                .await?;
                Step::RetryLater { after_seconds: i64::try_from(after.as_secs()).unwrap_or(i64::MAX) }
            }
            Record::Failed { failure } => {
                sqlx::query(
                    "update payouts set status = 'failed', last_error = $2, last_error_code = $3,
                            last_error_sealed = $4, last_error_legacy = null
                     where id = $1 and status = 'sending'",
                )
                .bind(id)
                .bind(&failure.summary)
                .bind(&failure.code)
                .bind(failure.sealed_detail(Some(key), id)?)
                .execute(&mut *db)
                .await?;
                failed.push((
                    id,
                    claim.attempt,
                    failure.code.clone(),
                    "payout failed; waits for a treasurer",
                ));
                Step::Failed { reason: failure.public() }
            }
            Record::Retry { after, failure } => {
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
                .bind(millis(after))
                .execute(&mut *db)
                .await?;
                failed.push((id, claim.attempt, failure.code.clone(), "payout failed; will retry"));
                Step::RetryLater { after_seconds: i64::try_from(after.as_secs()).unwrap_or(i64::MAX) }
            }
        };
        steps.push((id, step));
    }
    crate::treasury::settle_all_in(&mut db, &paid, None).await?;
    db.commit().await?;
    for (id, _) in &paid {
        tracing::info!(payout = id.as_i64(), "payout paid");
    }
    // Stripe's message stays out of the log: it can quote the connected account
    for (id, attempt, code, what) in failed {
        tracing::warn!(payout = id.as_i64(), attempt, code = code.as_deref(), "{what}");
    }
    Ok(steps.into_iter().map(|(id, step)| (id, Ok(step))).collect())
}
