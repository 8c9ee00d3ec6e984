//! What treasurers do with payouts after approval: record a cash (manual) payout as paid, confirm
//! or return SEPA payouts the bank executed or sent back, retry a failed payout, cancel one.
//!
//! Every change locks the payout's row and checks its state first, so a treasurer and a worker
//! never both act on one payout: the worker's claim takes the same lock. A payout's ledger hold is
//! posted exactly when it becomes `paid` and voided exactly when it becomes `cancelled`, in the
//! same transaction. Approval needed four eyes; these steps need one treasurer each and are
//! audited by the caller.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use zbor_ledger::{HoldId, TransactionId};
use zbor_vault::DataKey;

use crate::Error;

pub const NOTE_LEN_MAX: usize = 1_000;

/// A payout's state, as the database has it (type `payout_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type)]
#[sqlx(type_name = "payout_status", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    AwaitingApproval,
    Approved,
    Sending,
    Sent,
    Paid,
    Failed,
    Cancelled,
    Reversed,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::AwaitingApproval => "awaiting_approval",
            PayoutStatus::Approved => "approved",
            PayoutStatus::Sending => "sending",
            PayoutStatus::Sent => "sent",
            PayoutStatus::Paid => "paid",
            PayoutStatus::Failed => "failed",
            PayoutStatus::Cancelled => "cancelled",
            PayoutStatus::Reversed => "reversed",
        }
    }
}

/// One payout as treasurers see it: no personal data (the beneficiary is an id).
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Payout {
    pub id: i64,
    pub batch_id: i64,
    pub beneficiary_id: i64,
    pub method: String,
    #[serde(serialize_with = "decimal_string")]
    pub amount: Decimal,
    pub currency: String,
    pub status: PayoutStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub rail_reference: Option<String>,
    pub sepa_file_id: Option<i64>,
    pub paid_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "decimal_string")]
    pub reversed_amount: Decimal,
}

fn decimal_string<S: serde::Serializer>(amount: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&amount.to_string())
}

const PAYOUT_COLUMNS: &str =
    "p.id, p.batch_id, p.beneficiary_id, ben.method, p.amount, b.currency::text as currency,
     p.status, p.attempts, p.last_error, p.rail_reference, p.sepa_file_id, p.paid_at, p.reversed_amount";

pub async fn get(pool: &PgPool, id: i64) -> Result<Payout, Error> {
    let sql = format!(
        "select {PAYOUT_COLUMNS} from payouts p join payout_batches b on b.id = p.batch_id
         join beneficiaries ben on ben.id = p.beneficiary_id where p.id = $1"
    );
    sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?.ok_or(Error::PayoutNotFound(id))
}

/// Locks the payout's row for the rest of the transaction.
pub(crate) async fn lock(db: &mut PgConnection, id: i64) -> Result<Payout, Error> {
    let sql = format!(
        "select {PAYOUT_COLUMNS} from payouts p join payout_batches b on b.id = p.batch_id
         join beneficiaries ben on ben.id = p.beneficiary_id where p.id = $1 for update of p"
    );
    sqlx::query_as(&sql).bind(id).fetch_optional(&mut *db).await?.ok_or(Error::PayoutNotFound(id))
}

fn wrong_state(payout: &Payout, action: &str, allowed: &str) -> Error {
    Error::WrongState(format!(
        "payout {} is {}: only {allowed} can be {action}",
        payout.id,
        payout.status.as_str()
    ))
}

/// Posts the payout's hold (the money leaves the campaign for good) and marks it paid.
pub(crate) async fn settle_in(
    db: &mut PgConnection,
    id: i64,
    reference: &str,
    finished_by: Option<i64>,
) -> Result<(), Error> {
    let hold: Option<uuid::Uuid> =
        sqlx::query_scalar("select hold_id from payouts where id = $1").bind(id).fetch_one(&mut *db).await?;
    let hold = hold.ok_or_else(|| Error::WrongState(format!("payout {id} holds no funds")))?;
    zbor_ledger::post_hold_in(
        &mut *db,
        HoldId::from_uuid(hold),
        None,
        TransactionId::derived_from(&format!("payout:{id}:paid")),
        serde_json::json!({ "kind": "payout", "payout": id, "reference": reference }),
    )
    .await?;
    sqlx::query(
        "update payouts set status = 'paid', rail_reference = $2, paid_at = now(), last_error = null,
                finished_by = $3
         where id = $1",
    )
    .bind(id)
    .bind(reference)
    .bind(finished_by)
    .execute(&mut *db)
    .await?;
    Ok(())
}

fn seal_note(key: &DataKey, id: i64, note: &str) -> Result<Option<Vec<u8>>, Error> {
    let note = note.trim();
    if note.chars().count() > NOTE_LEN_MAX {
        return Err(Error::invalid("note", format!("at most {NOTE_LEN_MAX} characters")));
    }
    if note.is_empty() {
        return Ok(None);
    }
    Ok(Some(key.seal(note.as_bytes(), &format!("payout:{id}:note"))?))
}

/// A treasurer records a manual payout as handed over (cash or another way), or a SEPA payout
/// the bank executed. `note` (optional) is sealed.
pub async fn mark_paid(
    pool: &PgPool,
    key: &DataKey,
    id: i64,
    user: i64,
    note: &str,
) -> Result<Payout, Error> {
    let sealed = seal_note(key, id, note)?;
    let mut db = pool.begin().await?;
    let payout = lock(&mut db, id).await?;
    let reference = match (payout.method.as_str(), payout.status) {
        ("manual", PayoutStatus::Approved) => {
            // the one rail a person pays: it too pays only what was approved
            crate::beneficiaries::approved_destination(&mut db, key, id).await?;
            format!("manual:{id}")
        }
        ("sepa", PayoutStatus::Sent) => sepa_reference(&payout),
        _ => {
            return Err(wrong_state(
                &payout,
                "marked paid by a treasurer",
                "an approved manual payout or a SEPA payout sent to the bank",
            ))
        }
    };
    settle_in(&mut db, id, &reference, Some(user)).await?;
    sqlx::query("update payouts set note_sealed = $2 where id = $1")
        .bind(id)
        .bind(sealed)
        .execute(&mut *db)
        .await?;
    db.commit().await?;
    tracing::info!(payout = id, user, "payout marked paid");
    get(pool, id).await
}

/// A SEPA payout's reference: its file and end-to-end id (what the bank statement shows).
fn sepa_reference(payout: &Payout) -> String {
    format!("sepa:{}:{}", payout.sepa_file_id.unwrap_or_default(), end_to_end_id(payout.id))
}

/// The EndToEndId of a payout in a SEPA file: the bank returns it on statements and returns.
pub fn end_to_end_id(payout: i64) -> String {
    format!("ZBOR-P{payout}")
}

/// The bank returned a SEPA payout (wrong account, closed account…): it is `failed` and waits
/// for a treasurer to retry (in a new file) or cancel. Its funds stay held until then.
pub async fn mark_returned(pool: &PgPool, id: i64, user: i64, reason: &str) -> Result<Payout, Error> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::invalid("reason", "1 to 500 characters"));
    }
    let mut db = pool.begin().await?;
    let payout = lock(&mut db, id).await?;
    if !(payout.method == "sepa" && payout.status == PayoutStatus::Sent) {
        return Err(wrong_state(&payout, "returned", "a SEPA payout sent to the bank"));
    }
    sqlx::query("update payouts set status = 'failed', last_error = $2, finished_by = $3 where id = $1")
        .bind(id)
        .bind(format!("returned by the bank: {reason}"))
        .bind(user)
        .execute(&mut *db)
        .await?;
    db.commit().await?;
    tracing::info!(payout = id, user, "SEPA payout returned");
    get(pool, id).await
}

/// A failed payout goes back to `approved`: a worker tries a Stripe transfer again (attempts
/// start over), a SEPA payout goes into the next file, a manual one waits to be marked paid.
pub async fn retry(pool: &PgPool, id: i64, user: i64) -> Result<Payout, Error> {
    let mut db = pool.begin().await?;
    let payout = lock(&mut db, id).await?;
    if payout.status != PayoutStatus::Failed {
        return Err(wrong_state(&payout, "retried", "a failed payout"));
    }
    sqlx::query(
        "update payouts set status = 'approved', attempts = 0, next_attempt_at = now() + interval '15 seconds',
                sepa_file_id = null, sent_at = null, finished_by = null
         where id = $1",
    )
    .bind(id)
    .execute(&mut *db)
    .await?;
    if payout.method == "stripe_connect" {
        // a new job key: the first job of this payout may still be in the outbox's history
        zbor_queue::enqueue_in(
            &mut db,
            crate::batches::PAYOUT_STREAM,
            &format!("payout:{id}:retry:{}", uuid::Uuid::new_v4().simple()),
            &serde_json::json!({ "payout": id }),
        )
        .await?;
    }
    db.commit().await?;
    tracing::info!(payout = id, user, "payout retried");
    get(pool, id).await
}

/// Cancels an approved or failed payout that is not on its way: the hold is voided and the funds
/// are available to the campaign again. A payout a worker is sending, or a SEPA payout at the
/// bank, cannot be cancelled (return the SEPA one first).
pub async fn cancel(pool: &PgPool, id: i64, user: i64) -> Result<Payout, Error> {
    let mut db = pool.begin().await?;
    let payout = lock(&mut db, id).await?;
    match payout.status {
        PayoutStatus::Approved | PayoutStatus::Failed => {}
        PayoutStatus::AwaitingApproval
        | PayoutStatus::Sending
        | PayoutStatus::Sent
        | PayoutStatus::Paid
        | PayoutStatus::Cancelled
        | PayoutStatus::Reversed => {
            return Err(wrong_state(&payout, "cancelled", "an approved or failed payout"));
        }
    }
    cancel_in(&mut db, id, Some(user)).await?;
    db.commit().await?;
    tracing::info!(payout = id, user, "payout cancelled");
    get(pool, id).await
}

pub(crate) async fn cancel_in(db: &mut PgConnection, id: i64, user: Option<i64>) -> Result<(), Error> {
    let hold: Option<uuid::Uuid> =
        sqlx::query_scalar("select hold_id from payouts where id = $1").bind(id).fetch_one(&mut *db).await?;
    if let Some(hold) = hold {
        zbor_ledger::void_hold_in(&mut *db, HoldId::from_uuid(hold)).await?;
    }
    sqlx::query("update payouts set status = 'cancelled', finished_by = $2 where id = $1")
        .bind(id)
        .bind(user)
        .execute(&mut *db)
        .await?;
    Ok(())
}

/// The sealed note of a payout, opened (for an audited reveal).
pub async fn note(pool: &PgPool, key: &DataKey, id: i64) -> Result<Option<String>, Error> {
    let sealed: Option<Option<Vec<u8>>> = sqlx::query_scalar("select note_sealed from payouts where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    let sealed = sealed.ok_or(Error::PayoutNotFound(id))?;
    match sealed {
        None => Ok(None),
        Some(sealed) => {
            let plain = key.open(&sealed, &format!("payout:{id}:note"))?;
            Ok(Some(String::from_utf8_lossy(&plain).into_owned()))
        }
    }
}
