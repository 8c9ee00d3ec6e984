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
use zbor_audit::{Actor, UserId};
use zbor_ledger::{HoldId, HoldPost, TransactionId};
use zbor_vault::DataKey;

use crate::beneficiaries::{BeneficiaryId, MethodKind};
use crate::jobs::{self, PayoutJob};
use crate::rails::{self, Delivery};
use crate::{BatchId, Error, PayoutId, SepaFileId};

pub const NOTE_LEN_MAX: usize = 1_000;

/// A payout's state, as the database has it (type `payout_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type, utoipa::ToSchema)]
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

/// One payout as treasurers see it: no personal data (the beneficiary is an id). The words of a
/// third party in its last error (the bank's, Stripe's) are sealed at rest: [`Payout::opened`]
/// adds them. `Debug` leaves the error text out.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct Payout {
    pub id: PayoutId,
    pub batch_id: BatchId,
    pub beneficiary_id: BeneficiaryId,
    pub method: MethodKind,
    #[serde(serialize_with = "decimal_string")]
    #[schema(value_type = String, example = "1000.00")]
    pub amount: Decimal,
    pub currency: String,
    pub status: PayoutStatus,
    pub attempts: i32,
    /// What went wrong last, for people: zbor's words and the machine code (`returned by the bank
    /// (AC04)`), then, once [`Payout::opened`], the bank's or Stripe's own words after a colon.
    /// None once paid.
    pub last_error: Option<String>,
    /// The last error's machine code: Stripe's HTTP status, error type and code
    /// (`http_400:invalid_request_error:account_invalid`), a SEPA return reason (`AC04`), or
    /// zbor's own (`destination_not_approved`, `unavailable`).
    pub last_error_code: Option<String>,
    /// The last error has words of a third party that are sealed and not in `last_error`.
    pub last_error_sealed: bool,
    pub rail_reference: Option<String>,
    pub sepa_file_id: Option<SepaFileId>,
    pub paid_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "decimal_string")]
    #[schema(value_type = String, example = "0.00")]
    pub reversed_amount: Decimal,
    /// The parts `last_error` is made of.
    #[serde(skip)]
    error: ErrorParts,
}

#[derive(Clone, Default)]
struct ErrorParts {
    /// zbor's own words (`payouts.last_error`).
    summary: Option<String>,
    sealed: Option<Vec<u8>>,
    /// Clear text stored before errors were sealed, until `zbor vault rotate` seals it.
    legacy: Option<String>,
}

impl std::fmt::Debug for Payout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payout")
            .field("id", &self.id)
            .field("batch_id", &self.batch_id)
            .field("beneficiary_id", &self.beneficiary_id)
            .field("method", &self.method)
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("last_error_code", &self.last_error_code)
            .field("rail_reference", &self.rail_reference)
            .finish_non_exhaustive()
    }
}

impl Payout {
    /// The payout with its last error's sealed words opened and in `last_error` (where the API
    /// has always shown them); unchanged without a key or sealed words. Never log the result's
    /// `last_error`.
    pub fn opened(mut self, key: Option<&DataKey>) -> Result<Payout, Error> {
        if let (Some(key), Some(sealed)) = (key, self.error.sealed.as_deref()) {
            let plain = key.open(sealed, &last_error_record(self.id))?;
            let detail = String::from_utf8_lossy(&plain).into_owned();
            self.last_error =
                sentence(self.error.summary.as_deref(), self.last_error_code.as_deref(), Some(&detail));
            self.last_error_sealed = false;
        }
        Ok(self)
    }
}

/// `summary (code): detail`, each part only when there is one.
fn sentence(summary: Option<&str>, code: Option<&str>, detail: Option<&str>) -> Option<String> {
    let mut text = summary.unwrap_or_default().to_owned();
    if let Some(code) = code {
        text = if text.is_empty() { code.to_owned() } else { format!("{text} ({code})") };
    }
    if let Some(detail) = detail.filter(|d| !d.is_empty()) {
        text = if text.is_empty() { detail.to_owned() } else { format!("{text}: {detail}") };
    }
    (!text.is_empty()).then_some(text)
}

#[derive(sqlx::FromRow)]
struct PayoutRow {
    id: PayoutId,
    batch_id: BatchId,
    beneficiary_id: BeneficiaryId,
    method: MethodKind,
    amount: Decimal,
    currency: String,
    status: PayoutStatus,
    attempts: i32,
    last_error: Option<String>,
    last_error_code: Option<String>,
    last_error_sealed: Option<Vec<u8>>,
    last_error_legacy: Option<String>,
    rail_reference: Option<String>,
    sepa_file_id: Option<SepaFileId>,
    paid_at: Option<DateTime<Utc>>,
    reversed_amount: Decimal,
}

impl From<PayoutRow> for Payout {
    fn from(row: PayoutRow) -> Payout {
        let error = ErrorParts {
            summary: row.last_error,
            sealed: row.last_error_sealed,
            legacy: row.last_error_legacy,
        };
        let last_error = match &error.legacy {
            // from before errors were sealed: shown as it always was until the rotation seals it
            Some(legacy) => Some(legacy.clone()),
            None => sentence(error.summary.as_deref(), row.last_error_code.as_deref(), None),
        };
        Payout {
            id: row.id,
            batch_id: row.batch_id,
            beneficiary_id: row.beneficiary_id,
            method: row.method,
            amount: row.amount,
            currency: row.currency,
            status: row.status,
            attempts: row.attempts,
            last_error,
            last_error_code: row.last_error_code,
            last_error_sealed: error.legacy.is_none() && error.sealed.is_some(),
            rail_reference: row.rail_reference,
            sepa_file_id: row.sepa_file_id,
            paid_at: row.paid_at,
            reversed_amount: row.reversed_amount,
            error,
        }
    }
}

fn decimal_string<S: serde::Serializer>(amount: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&amount.to_string())
}

const PAYOUT_COLUMNS: &str =
    "p.id, p.batch_id, p.beneficiary_id, ben.method, p.amount, b.currency::text as currency,
     p.status, p.attempts, p.last_error, p.last_error_code, p.last_error_sealed, p.last_error_legacy,
     p.rail_reference, p.sepa_file_id, p.paid_at, p.reversed_amount";

/// A payout without its error's sealed words (see [`Payout::opened`]).
pub async fn get(pool: &PgPool, id: PayoutId) -> Result<Payout, Error> {
    let sql = format!(
        "select {PAYOUT_COLUMNS} from payouts p join payout_batches b on b.id = p.batch_id
         join beneficiaries ben on ben.id = p.beneficiary_id where p.id = $1"
    );
    let row: Option<PayoutRow> = sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?;
    Ok(row.ok_or(Error::PayoutNotFound(id))?.into())
}

/// Locks the payout's row for the rest of the transaction.
pub(crate) async fn lock(db: &mut PgConnection, id: PayoutId) -> Result<Payout, Error> {
    let sql = format!(
        "select {PAYOUT_COLUMNS} from payouts p join payout_batches b on b.id = p.batch_id
         join beneficiaries ben on ben.id = p.beneficiary_id where p.id = $1 for update of p"
    );
    let row: Option<PayoutRow> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *db).await?;
    Ok(row.ok_or(Error::PayoutNotFound(id))?.into())
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
    id: PayoutId,
    reference: &str,
    finished_by: Option<UserId>,
) -> Result<(), Error> {
    settle_all_in(db, &[(id, reference.to_owned())], finished_by).await
}

/// [`settle_in`] for many payouts (`(payout, reference)`): their holds posted in one call, the
/// payouts marked paid with one statement.
pub(crate) async fn settle_all_in(
    db: &mut PgConnection,
    paid: &[(PayoutId, String)],
    finished_by: Option<UserId>,
) -> Result<(), Error> {
    if paid.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = paid.iter().map(|(id, _)| id.as_i64()).collect();
    let references: Vec<&str> = paid.iter().map(|(_, reference)| reference.as_str()).collect();
    let holds: std::collections::HashMap<PayoutId, Option<uuid::Uuid>> =
        sqlx::query_as::<_, (PayoutId, Option<uuid::Uuid>)>(
            "select id, hold_id from payouts where id = any($1)",
        )
        .bind(&ids)
        .fetch_all(&mut *db)
        .await?
        .into_iter()
        .collect();
    let mut posts = Vec::with_capacity(paid.len());
    for (id, reference) in paid {
        let hold = holds.get(id).copied().flatten();
        let hold = hold.ok_or_else(|| Error::WrongState(format!("payout {id} holds no funds")))?;
        posts.push(HoldPost {
            hold: HoldId::from_uuid(hold),
            amount: None,
            transaction: TransactionId::derived_from(&format!("payout:{id}:paid")),
            metadata: serde_json::json!({ "kind": "payout", "payout": id, "reference": reference }),
        });
    }
    zbor_ledger::post_holds_in(&mut *db, &posts).await?;
    sqlx::query(
        "update payouts p set status = 'paid', rail_reference = u.reference, paid_at = now(), finished_by = $3,
                last_error = null, last_error_code = null, last_error_sealed = null, last_error_legacy = null
         from unnest($1::bigint[], $2::text[]) as u (id, reference)
         where p.id = u.id",
    )
    .bind(&ids)
    .bind(&references)
    .bind(finished_by)
    .execute(&mut *db)
    .await?;
    Ok(())
}

fn seal_note(key: &DataKey, id: PayoutId, note: &str) -> Result<Option<Vec<u8>>, Error> {
    let note = note.trim();
    if note.chars().count() > NOTE_LEN_MAX {
        return Err(Error::invalid("note", format!("at most {NOTE_LEN_MAX} characters")));
    }
    if note.is_empty() {
        return Ok(None);
    }
    Ok(Some(key.seal(note.as_bytes(), &note_record(id))?))
}

/// What a payout's sealed note is bound to.
pub(crate) fn note_record(id: PayoutId) -> String {
    format!("payout:{id}:note")
}

/// What a payout's sealed error words are bound to.
pub(crate) fn last_error_record(id: PayoutId) -> String {
    format!("payout:{id}:last_error")
}

/// A failure as a payout keeps it: zbor's words and a machine code in clear, the words of a
/// third party (the bank, Stripe, a treasurer quoting them) sealed.
pub(crate) struct Failure {
    pub(crate) summary: String,
    pub(crate) code: Option<String>,
    pub(crate) detail: Option<String>,
}

impl Failure {
    /// zbor's words and the code: what may be logged and returned in a [`crate::worker::Step`].
    pub(crate) fn public(&self) -> String {
        sentence(Some(&self.summary), self.code.as_deref(), None).unwrap_or_default()
    }

    /// The detail sealed for payout `id`'s record; none without detail, or without a key (then
    /// the detail is not kept at all).
    pub(crate) fn sealed_detail(
        &self,
        key: Option<&DataKey>,
        id: PayoutId,
    ) -> Result<Option<Vec<u8>>, Error> {
        match (key, self.detail.as_deref().map(str::trim).filter(|d| !d.is_empty())) {
            (Some(key), Some(detail)) => {
                let detail: String = detail.chars().take(ERROR_DETAIL_LEN_MAX).collect();
                Ok(Some(key.seal(detail.as_bytes(), &last_error_record(id))?))
            }
            _ => Ok(None),
        }
    }
}

/// Most characters of a third party's words kept with an error.
const ERROR_DETAIL_LEN_MAX: usize = 1_000;

/// What a treasurer does with one payout after approval. Each needs one treasurer (approval
/// needed four eyes) and leaves an audit entry.
pub enum TreasurerAction<'a> {
    /// A manual payout handed over, or a SEPA payout the bank executed; `note` is sealed.
    MarkPaid { key: &'a DataKey, note: &'a str },
    /// The bank sent a SEPA payout back. Beyond its return reason code, `reason` is kept only
    /// sealed, and only with a key.
    Returned { key: Option<&'a DataKey>, reason: &'a str },
    /// A failed payout is tried again.
    Retry,
    /// An approved or failed payout is cancelled; its funds are the campaign's again.
    Cancel,
}

impl TreasurerAction<'_> {
    /// Its name in the audit log.
    pub fn audit_action(&self) -> &'static str {
        match self {
            TreasurerAction::MarkPaid { .. } => "payout.mark_paid",
            TreasurerAction::Returned { .. } => "payout.returned",
            TreasurerAction::Retry => "payout.retry",
            TreasurerAction::Cancel => "payout.cancel",
        }
    }
}

/// Does `action` on payout `id` for `actor` and appends its audit entry (the batch, and the
/// state the action left the payout in), in the caller's transaction: both commit or neither.
/// Free text (the note, the bank's words) is sealed on the payout, never copied into the log.
pub async fn act_in(
    db: &mut PgConnection,
    id: PayoutId,
    actor: &Actor,
    action: TreasurerAction<'_>,
) -> Result<(), Error> {
    let user = actor.user_id().ok_or(Error::NeedsUser("a treasurer's action on a payout"))?;
    let audit_action = action.audit_action();
    match action {
        TreasurerAction::MarkPaid { key, note } => mark_paid_in(&mut *db, key, id, user, note).await?,
        TreasurerAction::Returned { key, reason } => {
            mark_returned_in(&mut *db, key, id, user, reason).await?
        }
        TreasurerAction::Retry => retry_in(&mut *db, id, user).await?,
        TreasurerAction::Cancel => cancel_by_treasurer_in(&mut *db, id, user).await?,
    }
    let (batch, status): (BatchId, PayoutStatus) =
        sqlx::query_as("select batch_id, status from payouts where id = $1")
            .bind(id)
            .fetch_one(&mut *db)
            .await?;
    let subject = format!("payout:{id}");
    zbor_audit::record_in(
        db,
        actor,
        audit_action,
        Some(&subject),
        serde_json::json!({ "batch": batch, "status": status }),
    )
    .await?;
    Ok(())
}

/// A treasurer records a manual payout as handed over (cash or another way), or a SEPA payout
/// the bank executed. `note` (optional) is sealed.
pub async fn mark_paid(
    pool: &PgPool,
    key: &DataKey,
    id: PayoutId,
    user: UserId,
    note: &str,
) -> Result<Payout, Error> {
    let mut db = pool.begin().await?;
    act_in(&mut db, id, &Actor::user(user), TreasurerAction::MarkPaid { key, note }).await?;
    db.commit().await?;
    get(pool, id).await
}

async fn mark_paid_in(
    db: &mut PgConnection,
    key: &DataKey,
    id: PayoutId,
    user: UserId,
    note: &str,
) -> Result<(), Error> {
    let sealed = seal_note(key, id, note)?;
    let payout = lock(&mut *db, id).await?;
    let rail = rails::of(payout.method);
    let Some(reference) = rail.paid_by_treasurer(&payout) else {
        return Err(wrong_state(
            &payout,
            "marked paid by a treasurer",
            "an approved manual payout or a SEPA payout sent to the bank",
        ));
    };
    if rail.delivery() == Delivery::ByHand {
        // a person pays it now: it too pays only what was approved
        crate::beneficiaries::approved_destination(&mut *db, key, id).await?;
    }
    settle_in(&mut *db, id, &reference, Some(user)).await?;
    sqlx::query("update payouts set note_sealed = $2 where id = $1")
        .bind(id)
        .bind(sealed)
        .execute(&mut *db)
        .await?;
    tracing::info!(payout = id.as_i64(), user = %user, "payout marked paid");
    Ok(())
}

/// The EndToEndId of a payout in a SEPA file: the bank returns it on statements and returns.
pub fn end_to_end_id(payout: PayoutId) -> String {
    format!("ZBOR-P{payout}")
}

/// SEPA return reason codes (ISO 20022 ExternalReturnReason1Code, EPC rulebooks) made of letters
/// only; the others are two letters and two digits (AC01, AC04, AM05, MD07, MS03, RR04…).
const LETTER_RETURN_CODES: &[&str] = &[
    "AGNT", "ARDT", "CNOR", "CURR", "CUST", "DNOR", "DUPL", "ERIN", "FOCR", "FRAD", "LEGL", "NARR", "NOAS",
    "NOOR", "TECH", "UPAY",
];

/// The SEPA return reason code `reason` starts with (`AC04`, `MD07`, `FOCR`…), and the rest of
/// the text: `"AC04: account closed"` gives `(Some("AC04"), "account closed")`. Only a code is
/// ever kept in clear.
pub fn split_return_reason(reason: &str) -> (Option<&str>, &str) {
    let reason = reason.trim();
    let (first, rest) = reason
        .split_once(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | ';' | '-' | '/'))
        .unwrap_or((reason, ""));
    let bytes = first.as_bytes();
    let is_code = match bytes {
        [a, b, c, d] => {
            (a.is_ascii_uppercase() && b.is_ascii_uppercase() && c.is_ascii_digit() && d.is_ascii_digit())
                || LETTER_RETURN_CODES.contains(&first)
        }
        _ => false,
    };
    if is_code {
        let rest =
            rest.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | ';' | '-' | '/'));
        (Some(first), rest.trim())
    } else {
        (None, reason)
    }
}

/// The bank returned a SEPA payout (wrong account, closed account…): it is `failed` and waits
/// for a treasurer to retry (in a new file) or cancel. Its funds stay held until then.
///
/// Without the data key only the return reason code is kept (`AC04`), never the rest of the text:
/// [`mark_returned_sealed`] seals it.
pub async fn mark_returned(pool: &PgPool, id: PayoutId, user: UserId, reason: &str) -> Result<Payout, Error> {
    let mut db = pool.begin().await?;
    act_in(&mut db, id, &Actor::user(user), TreasurerAction::Returned { key: None, reason }).await?;
    db.commit().await?;
    get(pool, id).await
}

/// [`mark_returned`], keeping the bank's words beyond the return reason code sealed (shown by
/// [`Payout::opened`]).
pub async fn mark_returned_sealed(
    pool: &PgPool,
    key: &DataKey,
    id: PayoutId,
    user: UserId,
    reason: &str,
) -> Result<Payout, Error> {
    let mut db = pool.begin().await?;
    act_in(&mut db, id, &Actor::user(user), TreasurerAction::Returned { key: Some(key), reason }).await?;
    db.commit().await?;
    get(pool, id).await?.opened(Some(key))
}

async fn mark_returned_in(
    db: &mut PgConnection,
    key: Option<&DataKey>,
    id: PayoutId,
    user: UserId,
    reason: &str,
) -> Result<(), Error> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::invalid("reason", "1 to 500 characters"));
    }
    let (code, words) = split_return_reason(reason);
    let failure = Failure {
        summary: "returned by the bank".into(),
        code: code.map(str::to_owned),
        detail: Some(words.to_owned()),
    };
    let sealed = failure.sealed_detail(key, id)?;
    let payout = lock(&mut *db, id).await?;
    if !(rails::of(payout.method).can_be_returned() && payout.status == PayoutStatus::Sent) {
        return Err(wrong_state(&payout, "returned", "a SEPA payout sent to the bank"));
    }
    sqlx::query(
        "update payouts set status = 'failed', finished_by = $3, last_error = $2, last_error_code = $4,
                last_error_sealed = $5, last_error_legacy = null
         where id = $1",
    )
    .bind(id)
    .bind(&failure.summary)
    .bind(user)
    .bind(&failure.code)
    .bind(sealed)
    .execute(&mut *db)
    .await?;
    tracing::info!(payout = id.as_i64(), user = %user, code = failure.code.as_deref(), "SEPA payout returned");
    Ok(())
}

/// A failed payout goes back to `approved`: a worker tries a Stripe transfer again (attempts
/// start over), a SEPA payout goes into the next file, a manual one waits to be marked paid.
pub async fn retry(pool: &PgPool, id: PayoutId, user: UserId) -> Result<Payout, Error> {
    let mut db = pool.begin().await?;
    act_in(&mut db, id, &Actor::user(user), TreasurerAction::Retry).await?;
    db.commit().await?;
    get(pool, id).await
}

async fn retry_in(db: &mut PgConnection, id: PayoutId, user: UserId) -> Result<(), Error> {
    let payout = lock(&mut *db, id).await?;
    if payout.status != PayoutStatus::Failed {
        return Err(wrong_state(&payout, "retried", "a failed payout"));
    }
    sqlx::query(
        "update payouts set status = 'approved', attempts = 0,
                next_attempt_at = now() + $2 * interval '1 millisecond',
                sepa_file_id = null, sent_at = null, finished_by = null
         where id = $1",
    )
    .bind(id)
    .bind(jobs::millis(jobs::REPUBLISH_AFTER))
    .execute(&mut *db)
    .await?;
    if rails::of(payout.method).delivery() == Delivery::Worker {
        PayoutJob { payout: id }.enqueue_retry_in(&mut *db).await?;
    }
    tracing::info!(payout = id.as_i64(), user = %user, "payout retried");
    Ok(())
}

/// Cancels an approved or failed payout that is not on its way: the hold is voided and the funds
/// are available to the campaign again. A payout a worker is sending, or a SEPA payout at the
/// bank, cannot be cancelled (return the SEPA one first).
pub async fn cancel(pool: &PgPool, id: PayoutId, user: UserId) -> Result<Payout, Error> {
    let mut db = pool.begin().await?;
    act_in(&mut db, id, &Actor::user(user), TreasurerAction::Cancel).await?;
    db.commit().await?;
    get(pool, id).await
}

async fn cancel_by_treasurer_in(db: &mut PgConnection, id: PayoutId, user: UserId) -> Result<(), Error> {
    let payout = lock(&mut *db, id).await?;
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
    cancel_in(&mut *db, id, Some(user)).await?;
    tracing::info!(payout = id.as_i64(), user = %user, "payout cancelled");
    Ok(())
}

pub(crate) async fn cancel_in(
    db: &mut PgConnection,
    id: PayoutId,
    user: Option<UserId>,
) -> Result<(), Error> {
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
pub async fn note(pool: &PgPool, key: &DataKey, id: PayoutId) -> Result<Option<String>, Error> {
    let sealed: Option<Option<Vec<u8>>> = sqlx::query_scalar("select note_sealed from payouts where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    let sealed = sealed.ok_or(Error::PayoutNotFound(id))?;
    match sealed {
        None => Ok(None),
        Some(sealed) => {
            let plain = key.open(&sealed, &note_record(id))?;
            Ok(Some(String::from_utf8_lossy(&plain).into_owned()))
        }
    }
}
