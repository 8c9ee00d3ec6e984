//! The bank's word on SEPA payouts, from its statements (read by `zbor-reconcile`): a debit
//! with a payout's end-to-end id (`ZBOR-P{id}`) means the bank executed it; a credit returning
//! it (an R-transaction with a reason code such as AC04) means it came back.
//!
//! - Executed: a `sent` payout of exactly that amount and currency is paid (its hold posted),
//!   as if a treasurer confirmed the file; one already paid is left as it is.
//! - Returned: a `sent` payout is `failed` with the reason code and waits for a treasurer to
//!   retry or cancel (its funds stay held); a payout already `paid` (the statement that showed
//!   it executed came first) gets its money back on the campaign (`payout:{id}:returned`, bank →
//!   campaign) and is `reversed`, so its beneficiary can be paid in a new batch.
//!
//! The statement is the evidence, so the importer need not be a treasurer: the command line
//! imports too. Every change is audited with the statement's line, in the caller's transaction.

use serde_json::json;
use sqlx::PgConnection;
use zbor_audit::Actor;
use zbor_campaigns::CampaignId;
use zbor_ledger::{Money, NewTransaction, TransactionId};

use crate::beneficiaries::MethodKind;
use crate::treasury::{self, PayoutStatus};
use crate::{BatchId, Error, PayoutId};

/// What one line of a statement says about a payout.
#[derive(Clone, Copy, Debug)]
pub enum BankLine<'a> {
    /// A debit the bank booked; `reference` is the bank's own (AcctSvcrRef) or the statement's.
    Executed { reference: &'a str },
    /// A credit returning the payout, with the ISO return reason code when the bank gave one.
    Returned { code: Option<&'a str> },
}

/// What became of the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BankMatch {
    Recorded,
    /// The payout is already where the line would put it (a camt.054 then the day's camt.053).
    AlreadyRecorded,
    /// The line does not fit the payout; zbor's words why, for treasurers.
    Refused(String),
}

/// The payout whose SEPA end-to-end id is `end_to_end_id`, if it is one of zbor's.
pub fn payout_of_end_to_end_id(end_to_end_id: &str) -> Option<PayoutId> {
    let digits = end_to_end_id.strip_prefix("ZBOR-P")?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().map(PayoutId::from_i64)
}

/// Applies one statement line to payout `id`, checking the amount the bank moved against the
/// approved one, and audits a change as `actor`.
pub async fn apply_in(
    db: &mut PgConnection,
    id: PayoutId,
    amount: Money,
    line: BankLine<'_>,
    actor: &Actor,
) -> Result<BankMatch, Error> {
    let payout = match treasury::lock(&mut *db, id).await {
        Ok(payout) => payout,
        Err(Error::PayoutNotFound(_)) => return Ok(BankMatch::Refused(format!("no payout {id}"))),
        Err(e) => return Err(e),
    };
    if payout.method != MethodKind::Sepa {
        return Ok(BankMatch::Refused(format!("payout {id} is not a SEPA payout")));
    }
    let approved = Money::new(payout.amount, zbor_ledger::Currency::parse(&payout.currency)?)?;
    if approved != amount {
        return Ok(BankMatch::Refused(format!(
            "the bank moved {amount} for payout {id}, approved for {approved}"
        )));
    }
    let (action, outcome) = match (line, payout.status) {
        (BankLine::Executed { .. }, PayoutStatus::Paid | PayoutStatus::Reversed) => {
            return Ok(BankMatch::AlreadyRecorded)
        }
        (BankLine::Executed { reference }, PayoutStatus::Sent) => {
            treasury::settle_in(&mut *db, id, reference, actor.user_id()).await?;
            ("payout.bank_executed", BankMatch::Recorded)
        }
        (BankLine::Returned { .. }, PayoutStatus::Failed | PayoutStatus::Reversed) => {
            return Ok(BankMatch::AlreadyRecorded)
        }
        (BankLine::Returned { code }, PayoutStatus::Sent) => {
            sqlx::query(
                "update payouts set status = 'failed', finished_by = $2, last_error = 'returned by the bank',
                        last_error_code = $3, last_error_sealed = null, last_error_legacy = null
                 where id = $1",
            )
            .bind(id)
            .bind(actor.user_id())
            .bind(code)
            .execute(&mut *db)
            .await?;
            tracing::info!(payout = id.as_i64(), code, "SEPA payout returned, from the bank's statement");
            ("payout.bank_returned", BankMatch::Recorded)
        }
        (BankLine::Returned { code }, PayoutStatus::Paid) => {
            returned_after_paid(&mut *db, id, approved, code).await?;
            ("payout.bank_returned", BankMatch::Recorded)
        }
        (_, status) => {
            return Ok(BankMatch::Refused(format!(
                "payout {id} is {}: the bank's line fits only a payout sent in a SEPA file",
                status.as_str()
            )))
        }
    };
    let (batch, status): (BatchId, PayoutStatus) =
        sqlx::query_as("select batch_id, status from payouts where id = $1")
            .bind(id)
            .fetch_one(&mut *db)
            .await?;
    let code = match line {
        BankLine::Returned { code } => code,
        BankLine::Executed { .. } => None,
    };
    zbor_audit::record_in(
        db,
        actor,
        action,
        Some(&format!("payout:{id}")),
        json!({ "batch": batch, "status": status, "return_reason": code }),
    )
    .await?;
    Ok(outcome)
}

/// A paid SEPA payout the bank sent back: its money is the campaign's again.
async fn returned_after_paid(
    db: &mut PgConnection,
    id: PayoutId,
    amount: Money,
    code: Option<&str>,
) -> Result<(), Error> {
    let campaign_id: CampaignId = sqlx::query_scalar(
        "select b.campaign_id from payouts p join payout_batches b on b.id = p.batch_id where p.id = $1",
    )
    .bind(id)
    .fetch_one(&mut *db)
    .await?;
    let campaign =
        zbor_campaigns::by_id(&mut *db, campaign_id).await?.ok_or(Error::CampaignNotFound(campaign_id))?;
    let bank = crate::rails::of(MethodKind::Sepa).ledger_account(amount.currency());
    let bank = zbor_ledger::account_by_code(&mut *db, &bank.code).await?;
    let back = NewTransaction::new(TransactionId::derived_from(&format!("payout:{id}:returned")))
        .debit(bank.id, amount)
        .credit(campaign.ledger_account, amount)
        .metadata(json!({ "kind": "payout_returned", "payout": id, "return_reason": code }));
    zbor_ledger::post_in(&mut *db, &back).await?;
    sqlx::query(
        "update payouts set status = 'reversed', reversed_amount = amount, last_error = 'returned by the bank',
                last_error_code = $2
         where id = $1",
    )
    .bind(id)
    .bind(code)
    .execute(&mut *db)
    .await?;
    tracing::warn!(
        payout = id.as_i64(),
        code,
        "paid SEPA payout returned by the bank; funds back on the campaign"
    );
    Ok(())
}
