//! The bank's statements imported: each line matched to what zbor expects the bank to show.
//!
//! - A debit carrying a payout's end-to-end id (`ZBOR-P{id}`) confirms the SEPA payout paid; a
//!   credit returning one (a reason code, or the bank's reversal flag) fails it, or returns its
//!   money to the campaign if it was paid already (`zbor_payouts::bank`).
//! - A credit without one of zbor's ids is matched to a Stripe payout to the bank
//!   (`stripe_payouts`) of the same amount and currency arriving within three days of its
//!   booking date, each Stripe payout once.
//! - Everything else is listed for treasurers, by amount, date and the bank's reference only.
//!
//! Importing is one database transaction: all of a statement or none of it. The same file (or
//! the same message under another encoding) imported again changes nothing and answers with
//! what the first import did. Statements are imported one at a time (an advisory lock), so a
//! camt.054 and the day's camt.053 showing the same debit cannot both act on it.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use zbor_audit::Actor;
use zbor_ledger::{Currency, Money};
use zbor_payouts::bank::{BankLine, BankMatch};
use zbor_payouts::PayoutId;

use crate::camt::{self, Direction, MessageKind};
use crate::Error;

/// How far a Stripe payout's arrival date and the bank's booking date may lie apart.
const STRIPE_ARRIVAL_DAYS: i64 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineOutcome {
    /// A SEPA payout confirmed paid by this line.
    Paid,
    /// A SEPA payout returned by this line.
    Returned,
    /// The payout was already where this line puts it.
    AlreadyRecorded,
    /// A Stripe payout to the bank arrived.
    StripePayout,
    /// Nothing zbor knows; a treasurer looks at it.
    Unmatched,
}

impl LineOutcome {
    fn as_str(self) -> &'static str {
        match self {
            LineOutcome::Paid => "paid",
            LineOutcome::Returned => "returned",
            LineOutcome::AlreadyRecorded => "already_recorded",
            LineOutcome::StripePayout => "stripe_payout",
            LineOutcome::Unmatched => "unmatched",
        }
    }

    fn parse(text: &str) -> LineOutcome {
        match text {
            "paid" => LineOutcome::Paid,
            "returned" => LineOutcome::Returned,
            "already_recorded" => LineOutcome::AlreadyRecorded,
            "stripe_payout" => LineOutcome::StripePayout,
            _ => LineOutcome::Unmatched,
        }
    }
}

/// One line of a statement (an entry, or one transaction of a batch entry) and its outcome.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BankStatementLine)]
pub struct Line {
    pub entry: i32,
    pub transaction: i32,
    #[schema(value_type = String, example = "debit")]
    pub direction: String,
    #[schema(value_type = String, example = "1000.00")]
    pub amount: Decimal,
    pub currency: String,
    pub booking_date: Option<NaiveDate>,
    pub outcome: LineOutcome,
    #[schema(value_type = Option<i64>)]
    pub payout: Option<PayoutId>,
    pub stripe_payout: Option<String>,
    /// zbor's words on why a line matched nothing.
    pub reason: Option<String>,
    pub return_reason: Option<String>,
}

/// What an import did.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = BankStatementImport)]
pub struct Imported {
    pub statement: i64,
    /// `camt.053` or `camt.054`.
    pub kind: String,
    /// True when this statement had been imported before: nothing changed now.
    pub already_imported: bool,
    pub paid: u64,
    pub returned: u64,
    pub already_recorded: u64,
    pub stripe_payouts: u64,
    pub unmatched: u64,
    pub lines: Vec<Line>,
}

/// Imports the statement `xml` as `actor`. A statement that cannot be read is refused whole, and
/// so is one of another account than `account` (the organisation's IBAN SEPA files pay from,
/// when it is configured): another account's debits must not confirm this one's payouts.
pub async fn import(
    pool: &PgPool,
    xml: &[u8],
    actor: &Actor,
    account: Option<&str>,
) -> Result<Imported, Error> {
    let statement = camt::parse(xml)?;
    if let Some(expected) = account {
        let normal =
            |iban: &str| iban.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        if statement.account_iban.as_deref().map(normal) != Some(normal(expected)) {
            return Err(Error::invalid(
                "statement",
                "it is not a statement of the organisation's account (ZBOR_SEPA_DEBTOR_IBAN); nothing was imported",
            ));
        }
    }
    let sha256 = Sha256::digest(xml).to_vec();
    let kind = match statement.kind {
        MessageKind::Statement => "camt.053",
        MessageKind::Notification => "camt.054",
    };
    let mut db = pool.begin().await?;
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('zbor-bank-statement-import', 0))")
        .execute(&mut *db)
        .await?;
    let earlier: Option<i64> = sqlx::query_scalar(
        "select id from bank_statements where sha256 = $1 or (kind = $2 and message_id = $3 and statement_id = $4)",
    )
    .bind(&sha256)
    .bind(kind)
    .bind(&statement.message_id)
    .bind(&statement.id)
    .fetch_optional(&mut *db)
    .await?;
    if let Some(id) = earlier {
        db.commit().await?;
        return imported(pool, id, true).await;
    }
    let id: i64 = sqlx::query_scalar(
        "insert into bank_statements (kind, message_id, statement_id, sha256, imported_by)
         values ($1, $2, $3, $4, $5) returning id",
    )
    .bind(kind)
    .bind(&statement.message_id)
    .bind(&statement.id)
    .bind(&sha256)
    .bind(actor.name())
    .fetch_one(&mut *db)
    .await?;
    let reference = format!("bank statement {id}");
    for entry in &statement.entries {
        let details: Vec<Detail> = if entry.transactions.is_empty() {
            vec![Detail {
                end_to_end_id: None,
                amount: entry.amount,
                currency: entry.currency.clone(),
                return_reason: None,
            }]
        } else {
            entry
                .transactions
                .iter()
                .map(|t| Detail {
                    end_to_end_id: t.end_to_end_id.clone(),
                    // one transaction of an entry: the entry's amount is its amount
                    amount: t.amount.unwrap_or(entry.amount),
                    currency: t.currency.clone().unwrap_or_else(|| entry.currency.clone()),
                    return_reason: t.return_reason.clone(),
                })
                .collect()
        };
        for (index, detail) in details.iter().enumerate() {
            let reference = entry.servicer_reference.as_deref().unwrap_or(&reference);
            let decided = decide(&mut db, entry, detail, reference, actor).await?;
            let own_id = detail
                .end_to_end_id
                .as_deref()
                .filter(|e| zbor_payouts::bank::payout_of_end_to_end_id(e).is_some());
            let return_reason = detail.return_reason.as_deref().filter(|c| is_reason_code(c));
            sqlx::query(
                "insert into bank_statement_lines (statement_id, entry_index, transaction_index, direction, reversal,
                     currency, amount, booking_date, servicer_reference, end_to_end_id, return_reason, outcome,
                     reason, payout_id, stripe_payout_id)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(id)
            .bind(i32::try_from(entry.index).unwrap_or(i32::MAX))
            .bind(i32::try_from(index).unwrap_or(i32::MAX))
            .bind(match entry.direction {
                Direction::Credit => "credit",
                Direction::Debit => "debit",
            })
            .bind(entry.reversal)
            .bind(&detail.currency)
            .bind(detail.amount)
            .bind(entry.booking_date)
            .bind(entry.servicer_reference.as_deref().map(|r| r.chars().take(140).collect::<String>()))
            .bind(own_id)
            .bind(return_reason)
            .bind(decided.outcome.as_str())
            .bind(decided.reason.as_deref())
            .bind(decided.payout)
            .bind(decided.stripe_payout.as_deref())
            .execute(&mut *db)
            .await?;
        }
    }
    let counts: (i64, i64, i64) = sqlx::query_as(
        "select count(*) filter (where outcome in ('paid', 'returned')), count(*) filter (where outcome = 'unmatched'),
                count(*)
         from bank_statement_lines where statement_id = $1",
    )
    .bind(id)
    .fetch_one(&mut *db)
    .await?;
    zbor_audit::record_in(
        &mut db,
        actor,
        "bank_statement.imported",
        Some(&format!("bank_statement:{id}")),
        serde_json::json!({ "kind": kind, "lines": counts.2, "payouts_changed": counts.0, "unmatched": counts.1 }),
    )
    .await?;
    db.commit().await?;
    tracing::info!(statement = id, kind, lines = counts.2, unmatched = counts.1, "bank statement imported");
    imported(pool, id, false).await
}

struct Detail {
    end_to_end_id: Option<String>,
    amount: Decimal,
    currency: String,
    return_reason: Option<String>,
}

struct Decided {
    outcome: LineOutcome,
    reason: Option<String>,
    payout: Option<PayoutId>,
    stripe_payout: Option<String>,
}

impl Decided {
    fn unmatched(reason: impl Into<String>) -> Decided {
        Decided {
            outcome: LineOutcome::Unmatched,
            reason: Some(reason.into()),
            payout: None,
            stripe_payout: None,
        }
    }
}

async fn decide(
    db: &mut PgConnection,
    entry: &camt::Entry,
    detail: &Detail,
    reference: &str,
    actor: &Actor,
) -> Result<Decided, Error> {
    if entry.status != "BOOK" {
        return Ok(Decided::unmatched(format!("not booked by the bank (status {})", short(&entry.status))));
    }
    let Ok(currency) = Currency::parse(&detail.currency) else {
        return Ok(Decided::unmatched("a currency zbor does not know"));
    };
    let Ok(amount) = Money::new(detail.amount, currency) else {
        return Ok(Decided::unmatched("an amount finer than its currency allows"));
    };
    let payout = detail.end_to_end_id.as_deref().and_then(zbor_payouts::bank::payout_of_end_to_end_id);
    let is_return =
        entry.direction == Direction::Credit && (detail.return_reason.is_some() || entry.reversal);
    let line = match (entry.direction, payout) {
        (Direction::Debit, Some(_)) if !entry.reversal => BankLine::Executed { reference },
        // a credit naming one of zbor's payouts is that payout coming back, with or without a code
        (Direction::Credit, Some(_)) => {
            BankLine::Returned { code: detail.return_reason.as_deref().filter(|c| is_reason_code(c)) }
        }
        (Direction::Credit, None) if !is_return => return stripe_payout(db, entry, amount).await,
        (Direction::Credit, None) => return Ok(Decided::unmatched("a return of none of zbor's payouts")),
        (Direction::Debit, _) => return Ok(Decided::unmatched("a debit that is none of zbor's payouts")),
    };
    let Some(payout) = payout else {
        return Ok(Decided::unmatched("none of zbor's payouts"));
    };
    let outcome = zbor_payouts::bank::apply_in(db, payout, amount, line, actor).await?;
    Ok(match outcome {
        BankMatch::Recorded => Decided {
            outcome: match line {
                BankLine::Executed { .. } => LineOutcome::Paid,
                BankLine::Returned { .. } => LineOutcome::Returned,
            },
            reason: None,
            payout: Some(payout),
            stripe_payout: None,
        },
        BankMatch::AlreadyRecorded => Decided {
            outcome: LineOutcome::AlreadyRecorded,
            reason: None,
            payout: Some(payout),
            stripe_payout: None,
        },
        BankMatch::Refused(reason) => Decided { payout: Some(payout), ..Decided::unmatched(reason) },
    })
}

/// A credit matched to a Stripe payout not yet seen arriving.
async fn stripe_payout(db: &mut PgConnection, entry: &camt::Entry, amount: Money) -> Result<Decided, Error> {
    let found: Option<String> = sqlx::query_scalar(
        "select p.id from stripe_payouts p
         where p.status = 'paid' and p.currency = $1 and p.amount = $2
           and ($3::date is null or p.arrival_date is null or abs(p.arrival_date - $3::date) <= $4)
           and not exists (select 1 from bank_statement_lines l where l.stripe_payout_id = p.id)
         order by abs(coalesce(p.arrival_date, $3::date, current_date) - coalesce($3::date, current_date)), p.created_at
         limit 1",
    )
    .bind(amount.currency().code())
    .bind(amount.amount())
    .bind(entry.booking_date)
    .bind(i32::try_from(STRIPE_ARRIVAL_DAYS).unwrap_or(3))
    .fetch_optional(&mut *db)
    .await?;
    Ok(match found {
        Some(id) => Decided {
            outcome: LineOutcome::StripePayout,
            reason: None,
            payout: None,
            stripe_payout: Some(id),
        },
        None => Decided::unmatched("a credit matching no Stripe payout paid to the bank"),
    })
}

/// What an import did, read back (also for a statement imported before).
pub async fn imported(pool: &PgPool, id: i64, already_imported: bool) -> Result<Imported, Error> {
    let kind: String =
        sqlx::query_scalar("select kind from bank_statements where id = $1").bind(id).fetch_one(pool).await?;
    type Row = (
        i32,
        i32,
        String,
        Decimal,
        String,
        Option<NaiveDate>,
        String,
        Option<PayoutId>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "select entry_index, transaction_index, direction, amount, currency::text, booking_date, outcome, payout_id,
                stripe_payout_id, reason, return_reason
         from bank_statement_lines where statement_id = $1 order by entry_index, transaction_index",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let lines: Vec<Line> = rows
        .into_iter()
        .map(
            |(
                entry,
                transaction,
                direction,
                amount,
                currency,
                booking_date,
                outcome,
                payout,
                stripe_payout,
                reason,
                return_reason,
            )| Line {
                entry,
                transaction,
                direction,
                amount,
                currency,
                booking_date,
                outcome: LineOutcome::parse(&outcome),
                payout,
                stripe_payout,
                reason,
                return_reason,
            },
        )
        .collect();
    let count =
        |o: LineOutcome| u64::try_from(lines.iter().filter(|l| l.outcome == o).count()).unwrap_or(u64::MAX);
    Ok(Imported {
        statement: id,
        kind,
        already_imported,
        paid: count(LineOutcome::Paid),
        returned: count(LineOutcome::Returned),
        already_recorded: count(LineOutcome::AlreadyRecorded),
        stripe_payouts: count(LineOutcome::StripePayout),
        unmatched: count(LineOutcome::Unmatched),
        lines,
    })
}

/// An ISO return reason code: four capitals or digits (AC04, MD07, FOCR).
fn is_reason_code(code: &str) -> bool {
    code.len() == 4 && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A bank's status code, cut short and to the letters, for zbor's own sentence.
fn short(text: &str) -> String {
    text.chars().filter(char::is_ascii_alphanumeric).take(8).collect()
}
