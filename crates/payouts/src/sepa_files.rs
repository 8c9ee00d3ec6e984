//! The SEPA rail: a treasurer makes a file of a batch's approved SEPA payouts, uploads it to the
//! bank, and confirms it when the bank executed it (or returns single payouts it sent back, see
//! [`crate::treasury::mark_returned`]).
//!
//! Making the file moves its payouts to `sent` in the same transaction as the file's row, so a
//! payout is in one file at a time and never in two files the bank could both execute. The XML
//! itself is not stored (names and IBANs in clear): it is made again from the file's rows and the
//! sealed beneficiaries at each download, byte for byte the same.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use zbor_audit::{Actor, UserId};
use zbor_ledger::{Currency, Money};
use zbor_vault::DataKey;

use crate::batches::BatchStatus;
use crate::beneficiaries::{self, MethodKind, PayoutMethod, RevealedBeneficiary};
use crate::sepa::{self, CreditTransfer, Debtor, PaymentFile};
use crate::treasury::{self, PayoutStatus};
use crate::{BatchId, Error, PayoutId, SepaFileId};

#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SepaFile {
    pub id: SepaFileId,
    pub batch_id: BatchId,
    pub message_id: String,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub requested_execution_date: NaiveDate,
    pub transactions: i32,
    #[serde(serialize_with = "decimal_string")]
    #[schema(value_type = String, example = "123000.00")]
    pub control_sum: Decimal,
    pub confirmed_at: Option<DateTime<Utc>>,
}

fn decimal_string<S: serde::Serializer>(amount: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&amount.to_string())
}

/// What the bank statement shows the beneficiary: deliberately neutral. The campaign's name
/// ("released political prisoners") on a statement could endanger the person receiving it.
fn remittance(payout: PayoutId) -> String {
    format!("Payment {}", treasury::end_to_end_id(payout))
}

pub async fn get(pool: &PgPool, id: SepaFileId) -> Result<SepaFile, Error> {
    sqlx::query_as("select * from payout_sepa_files where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(Error::SepaFileNotFound(id))
}

/// A file of every approved SEPA payout of `batch_id` not yet in a file; they become `sent`.
/// Refused while payouts are paused.
/// The file is written once inside the transaction (and thrown away): a payout the bank's rules
/// would refuse (an account outside SEPA, a name with nothing left in the SEPA character set)
/// refuses the file, with nothing moved to `sent`, instead of leaving a file that cannot be
/// downloaded.
pub async fn create(
    pool: &PgPool,
    key: &DataKey,
    debtor: &Debtor,
    batch_id: BatchId,
    user: UserId,
    requested_execution_date: NaiveDate,
) -> Result<SepaFile, Error> {
    let mut db = pool.begin().await?;
    let made =
        create_in(&mut db, key, debtor, batch_id, &Actor::user(user), requested_execution_date).await?;
    db.commit().await?;
    match (made.file, made.left_out.first()) {
        (Some(file), _) => Ok(file),
        (None, Some(first)) => Err(Error::DestinationNotApproved(*first)),
        (None, None) => Err(Error::WrongState(format!("batch {batch_id}: no file made"))),
    }
}

/// What [`create_in`] did: the file, and the payouts it left out and failed because their
/// destination is not the approved one. No file when every payout was left out.
#[derive(Clone, Debug)]
pub struct Made {
    pub file: Option<SepaFile>,
    pub left_out: Vec<PayoutId>,
}

/// [`create`] in the caller's transaction, with its audit entry (`sepa_file.create`, or
/// `sepa_file.refused` when every payout was left out), which the caller commits in both
/// outcomes: a file, or only payouts failed for treasurers.
pub async fn create_in(
    db: &mut PgConnection,
    key: &DataKey,
    debtor: &Debtor,
    batch_id: BatchId,
    actor: &Actor,
    requested_execution_date: NaiveDate,
) -> Result<Made, Error> {
    let user = actor.user_id().ok_or(Error::NeedsUser("a SEPA file"))?;
    let made = create_as(&mut *db, key, debtor, batch_id, user, requested_execution_date).await?;
    match &made.file {
        None => {
            let details = serde_json::json!({ "batch": batch_id, "left_out": made.left_out });
            zbor_audit::record_in(db, actor, "sepa_file.refused", None, details).await?;
        }
        Some(file) => {
            let details = serde_json::json!({ "batch": batch_id, "transactions": file.transactions,
                "control_sum": file.control_sum.to_string(), "left_out": made.left_out });
            zbor_audit::record_in(db, actor, "sepa_file.create", Some(&subject(file.id)), details).await?;
        }
    }
    Ok(made)
}

/// The audit log's name for a file.
fn subject(id: SepaFileId) -> String {
    format!("sepa_file:{id}")
}

async fn create_as(
    db: &mut PgConnection,
    key: &DataKey,
    debtor: &Debtor,
    batch_id: BatchId,
    user: UserId,
    requested_execution_date: NaiveDate,
) -> Result<Made, Error> {
    if crate::switch::is_paused_in(&mut *db).await? {
        return Err(Error::Paused);
    }
    let batch: Option<(BatchStatus, String)> =
        sqlx::query_as("select status, currency from payout_batches where id = $1 for update")
            .bind(batch_id)
            .fetch_optional(&mut *db)
            .await?;
    let (status, currency) = batch.ok_or(Error::BatchNotFound(batch_id))?;
    if status != BatchStatus::Approved {
        return Err(Error::WrongState(format!("batch {batch_id} is {}, not approved", status.as_str())));
    }
    if currency != "EUR" {
        return Err(Error::WrongState(format!("batch {batch_id} pays in {currency}: SEPA pays in EUR only")));
    }
    // the payouts this rail delivers in a file
    let approved: Vec<(PayoutId, Decimal)> = sqlx::query_as(
        "select p.id, p.amount from payouts p join beneficiaries b on b.id = p.beneficiary_id
         where p.batch_id = $1 and p.status = 'approved' and b.method = $2
         order by p.id for update of p",
    )
    .bind(batch_id)
    .bind(MethodKind::Sepa)
    .fetch_all(&mut *db)
    .await?;
    // Each payout's destination is checked against what the approvals signed before it goes into
    // the file: one that differs fails (for treasurers to look at) and stays out of it.
    let currency = Currency::parse(&currency)?;
    let mut payouts = Vec::with_capacity(approved.len());
    let mut not_approved = Vec::new();
    for (payout, amount) in approved {
        match beneficiaries::approved_destination(&mut *db, key, payout).await {
            Ok(person) => payouts.push((payout, Money::new(amount, currency)?, person)),
            Err(Error::DestinationNotApproved(_)) => not_approved.push(payout),
            Err(e) => return Err(e),
        }
    }
    if !not_approved.is_empty() {
        sqlx::query("update payouts set status = 'failed', last_error = $2 where id = any($1)")
            .bind(&not_approved)
            .bind("the beneficiary's destination is not the one the treasurers approved; left out of the SEPA file")
            .execute(&mut *db)
            .await?;
        tracing::warn!(
            batch = batch_id.as_i64(),
            failed = not_approved.len(),
            "payouts left out of a SEPA file: destination not approved"
        );
        if payouts.is_empty() {
            return Ok(Made { file: None, left_out: not_approved });
        }
    }
    if payouts.is_empty() {
        return Err(Error::WrongState(format!(
            "batch {batch_id} has no approved SEPA payout waiting for a file"
        )));
    }
    if payouts.len() > sepa::TRANSFERS_MAX {
        return Err(Error::WrongState(format!("more than {} payouts for one file", sepa::TRANSFERS_MAX)));
    }
    let control_sum =
        payouts.iter().try_fold(Decimal::ZERO, |sum, (_, amount, _)| sum.checked_add(amount.amount()));
    let control_sum = control_sum.ok_or_else(|| Error::invalid("amount", "the control sum overflows"))?;
    let message_id = format!("ZBOR-B{batch_id}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let file: SepaFile = sqlx::query_as(
        "insert into payout_sepa_files (batch_id, message_id, created_by, requested_execution_date, transactions, control_sum)
         values ($1, $2, $3, $4, $5, $6) returning *",
    )
    .bind(batch_id)
    .bind(&message_id)
    .bind(user)
    .bind(requested_execution_date)
    .bind(i32::try_from(payouts.len()).unwrap_or(i32::MAX))
    .bind(control_sum)
    .fetch_one(&mut *db)
    .await?;
    let ids: Vec<PayoutId> = payouts.iter().map(|(id, ..)| *id).collect();
    sqlx::query("insert into payout_sepa_file_items (file_id, payout_id) select $1, unnest($2::bigint[])")
        .bind(file.id)
        .bind(&ids)
        .execute(&mut *db)
        .await?;
    sqlx::query("update payouts set status = 'sent', sent_at = now(), sepa_file_id = $1 where id = any($2)")
        .bind(file.id)
        .bind(&ids)
        .execute(&mut *db)
        .await?;
    // written once here to refuse a file the bank would refuse, from the destinations just checked
    sepa::pain_001_001_09(&payment_file(&file, debtor, payouts)?)?;
    tracing::info!(
        batch = batch_id.as_i64(),
        file = file.id.as_i64(),
        transactions = ids.len(),
        "SEPA file made"
    );
    Ok(Made { file: Some(file), left_out: not_approved })
}

/// The file's pain.001.001.09 XML, made again from its rows and the sealed beneficiaries. It
/// holds names and IBANs: each download is in the audit log (`sepa_file.download`), appended
/// before the file is made.
pub async fn document(
    pool: &PgPool,
    key: &DataKey,
    id: SepaFileId,
    debtor: &Debtor,
    actor: &Actor,
) -> Result<String, Error> {
    let file = get(pool, id).await?;
    let mut audit = pool.begin().await?;
    let details = serde_json::json!({ "transactions": file.transactions });
    zbor_audit::record_in(&mut audit, actor, "sepa_file.download", Some(&subject(id)), details).await?;
    audit.commit().await?;
    let mut conn = pool.acquire().await?;
    let items: Vec<(PayoutId, Decimal, String)> = sqlx::query_as(
        "select p.id, p.amount, b.currency from payout_sepa_file_items i
         join payouts p on p.id = i.payout_id join payout_batches b on b.id = p.batch_id
         where i.file_id = $1 order by p.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut checked = Vec::with_capacity(items.len());
    for (payout, amount, currency) in items {
        let person = beneficiaries::approved_destination(&mut conn, key, payout).await?;
        checked.push((payout, Money::new(amount, Currency::parse(&currency)?)?, person));
    }
    sepa::pain_001_001_09(&payment_file(&file, debtor, checked)?)
}

/// The file's content from its payouts, each with the destination
/// [`beneficiaries::approved_destination`] checked: the one the approvals signed.
fn payment_file(
    file: &SepaFile,
    debtor: &Debtor,
    checked: Vec<(PayoutId, Money, RevealedBeneficiary)>,
) -> Result<PaymentFile, Error> {
    let mut transfers = Vec::with_capacity(checked.len());
    for (payout, amount, person) in checked {
        let PayoutMethod::Sepa { iban, bic } = person.method else {
            return Err(Error::WrongState(format!(
                "payout {payout}: its beneficiary is no longer paid by SEPA; make a new file"
            )));
        };
        transfers.push(CreditTransfer {
            end_to_end_id: treasury::end_to_end_id(payout),
            amount,
            creditor_name: person.name,
            creditor_iban: iban,
            creditor_bic: bic,
            remittance: remittance(payout),
        });
    }
    Ok(PaymentFile {
        message_id: file.message_id.clone(),
        created_at: file.created_at,
        payment_information_id: file.message_id.clone(),
        requested_execution_date: file.requested_execution_date,
        debtor: debtor.clone(),
        transfers,
    })
}

/// The bank executed the file: each of its payouts still `sent` is paid (its hold posted).
/// Payouts the bank returned were marked so before and stay as they are. Returns how many were
/// paid now.
pub async fn confirm(pool: &PgPool, id: SepaFileId, user: UserId) -> Result<usize, Error> {
    let mut db = pool.begin().await?;
    let paid = confirm_in(&mut db, id, &Actor::user(user)).await?;
    db.commit().await?;
    Ok(paid)
}

/// [`confirm`] in the caller's transaction, with its audit entry (how many were paid).
pub async fn confirm_in(db: &mut PgConnection, id: SepaFileId, actor: &Actor) -> Result<usize, Error> {
    let user = actor.user_id().ok_or(Error::NeedsUser("confirming a SEPA file"))?;
    let paid = confirm_as(&mut *db, id, user).await?;
    zbor_audit::record_in(
        db,
        actor,
        "sepa_file.confirm",
        Some(&subject(id)),
        serde_json::json!({ "paid": paid }),
    )
    .await?;
    Ok(paid)
}

async fn confirm_as(db: &mut PgConnection, id: SepaFileId, user: UserId) -> Result<usize, Error> {
    let confirmed: Option<Option<DateTime<Utc>>> =
        sqlx::query_scalar("select confirmed_at from payout_sepa_files where id = $1 for update")
            .bind(id)
            .fetch_optional(&mut *db)
            .await?;
    match confirmed {
        None => return Err(Error::SepaFileNotFound(id)),
        Some(Some(_)) => return Err(Error::WrongState(format!("SEPA file {id} is already confirmed"))),
        Some(None) => {}
    }
    let sent: Vec<(PayoutId, PayoutStatus)> = sqlx::query_as(
        "select p.id, p.status from payout_sepa_file_items i join payouts p on p.id = i.payout_id
         where i.file_id = $1 and p.sepa_file_id = $1 order by p.id for update of p",
    )
    .bind(id)
    .fetch_all(&mut *db)
    .await?;
    let mut paid = 0;
    for (payout, status) in sent {
        if status == PayoutStatus::Sent {
            let reference = crate::rails::Sepa.reference(id, payout);
            treasury::settle_in(&mut *db, payout, &reference, Some(user)).await?;
            paid += 1;
        }
    }
    sqlx::query("update payout_sepa_files set confirmed_at = now() where id = $1")
        .bind(id)
        .execute(&mut *db)
        .await?;
    tracing::info!(file = id.as_i64(), paid, "SEPA file confirmed");
    Ok(paid)
}
