//! Two-phase transfers: reserve now, then post (fully or partly), void, or let expire.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};

use crate::accounts::accounts_by_ids;
use crate::content::{check_metadata, hold_hash, HashedHold};
use crate::transactions::{check_available, lowers_balance, post_in, Outcome, Posting, Side};
use crate::{AccountId, Currency, Error, HoldId, Money, NewTransaction, TransactionId};

#[derive(Clone, Debug)]
pub struct NewHold {
    pub id: HoldId,
    /// The account debited when posted. For a liability such as a campaign's funds, a debit
    /// lowers it: this is where the money comes from.
    pub debit: AccountId,
    /// The account credited when posted (e.g. payouts in transit).
    pub credit: AccountId,
    pub amount: Money,
    pub expires_at: Option<DateTime<Utc>>,
    pub metadata: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type)]
#[sqlx(type_name = "ledger_hold_status", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum HoldStatus {
    Pending,
    Posted,
    Voided,
    Expired,
}

impl HoldStatus {
    fn name(self) -> &'static str {
        match self {
            HoldStatus::Pending => "pending",
            HoldStatus::Posted => "posted",
            HoldStatus::Voided => "voided",
            HoldStatus::Expired => "expired",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Hold {
    pub id: HoldId,
    pub debit: AccountId,
    pub credit: AccountId,
    pub amount: Money,
    pub status: HoldStatus,
    pub posted_amount: Option<Money>,
    pub resolved_transaction: Option<TransactionId>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl NewHold {
    fn content_hash(&self) -> [u8; 32] {
        hold_hash(&HashedHold {
            id: self.id.as_uuid(),
            debit: self.debit,
            credit: self.credit,
            currency: self.amount.currency().code(),
            amount: self.amount.amount(),
            expires_at: self.expires_at,
            metadata: &self.metadata,
        })
    }
}

/// Reserves `hold.amount` inside the caller's database transaction. Refused with
/// `InsufficientFunds` when a non-negative account it draws on cannot cover it.
pub async fn create_hold_in(conn: &mut PgConnection, hold: &NewHold) -> Result<Outcome, Error> {
    if !hold.amount.is_positive() {
        return Err(Error::NotPositive(hold.amount.to_string()));
    }
    if hold.debit == hold.credit {
        return Err(Error::SameAccount);
    }
    check_metadata(&hold.metadata)?;
    let mut ids = [hold.debit, hold.credit];
    ids.sort();
    let accounts = accounts_by_ids(&mut *conn, &ids).await?;
    for id in ids {
        let account = accounts.iter().find(|a| a.id == id).ok_or(Error::AccountNotFound(id))?;
        if account.currency != hold.amount.currency() {
            return Err(Error::AccountCurrency {
                account: id,
                account_currency: account.currency,
                found: hold.amount.currency(),
            });
        }
    }
    let hash = hold.content_hash();
    // A retry of a hold made earlier is answered before the expiry is judged: its expiry may
    // have passed since, and the retry must still say "already existed".
    let existing: Option<Vec<u8>> = sqlx::query_scalar("select content_hash from ledger_holds where id = $1")
        .bind(hold.id)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(existing) = existing {
        return if existing == hash {
            Ok(Outcome::AlreadyExisted)
        } else {
            Err(Error::HoldConflict(hold.id))
        };
    }
    // The database's clock decides expiry, as it does for available balances.
    let in_past: bool = sqlx::query_scalar("select coalesce($1 <= now(), false)")
        .bind(hold.expires_at)
        .fetch_one(&mut *conn)
        .await?;
    if in_past {
        return Err(Error::ExpiryInPast);
    }
    let inserted: Option<(uuid::Uuid,)> = sqlx::query_as(
        "insert into ledger_holds
             (id, debit_account_id, credit_account_id, currency, amount, expires_at, metadata, content_hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (id) do nothing returning id",
    )
    .bind(hold.id)
    .bind(hold.debit)
    .bind(hold.credit)
    .bind(hold.amount.currency().code())
    .bind(hold.amount.amount())
    .bind(hold.expires_at)
    .bind(&hold.metadata)
    .bind(&hash[..])
    .fetch_optional(&mut *conn)
    .await?;
    if inserted.is_none() {
        let existing: Vec<u8> = sqlx::query_scalar("select content_hash from ledger_holds where id = $1")
            .bind(hold.id)
            .fetch_one(&mut *conn)
            .await?;
        return if existing == hash {
            Ok(Outcome::AlreadyExisted)
        } else {
            Err(Error::HoldConflict(hold.id))
        };
    }
    // The insert trigger locked every non-negative account this hold lowers; check them now.
    for account in &accounts {
        let side = if account.id == hold.debit { Side::Debit } else { Side::Credit };
        let posting = Posting { account: account.id, side, amount: hold.amount };
        if account.non_negative && lowers_balance(account, &posting) {
            check_available(conn, account.id, &hold.amount).await?;
        }
    }
    Ok(Outcome::Created)
}

#[derive(sqlx::FromRow)]
struct HoldRow {
    id: HoldId,
    debit_account_id: AccountId,
    credit_account_id: AccountId,
    currency: String,
    amount: Decimal,
    status: HoldStatus,
    posted_amount: Option<Decimal>,
    resolved_transaction_id: Option<TransactionId>,
    expires_at: Option<DateTime<Utc>>,
    /// Judged by the database's clock, the same one `ledger_available` uses.
    expired: bool,
}

impl HoldRow {
    fn into_hold(self) -> Result<Hold, Error> {
        let currency = Currency::parse(&self.currency)?;
        Ok(Hold {
            id: self.id,
            debit: self.debit_account_id,
            credit: self.credit_account_id,
            amount: Money::new(self.amount, currency)?,
            status: self.status,
            posted_amount: self.posted_amount.map(|a| Money::new(a, currency)).transpose()?,
            resolved_transaction: self.resolved_transaction_id,
            expires_at: self.expires_at,
        })
    }
}

const HOLD_COLUMNS: &str = "id, debit_account_id, credit_account_id, currency, amount, status, \
                            posted_amount, resolved_transaction_id, expires_at, \
                            coalesce(expires_at <= now(), false) as expired";

pub async fn hold(conn: impl PgExecutor<'_>, id: HoldId) -> Result<Hold, Error> {
    let row: Option<HoldRow> =
        sqlx::query_as(&format!("select {HOLD_COLUMNS} from ledger_holds where id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?;
    row.ok_or(Error::HoldNotFound(id))?.into_hold()
}

async fn lock_hold(conn: &mut PgConnection, id: HoldId) -> Result<HoldRow, Error> {
    let row: Option<HoldRow> =
        sqlx::query_as(&format!("select {HOLD_COLUMNS} from ledger_holds where id = $1 for update"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    row.ok_or(Error::HoldNotFound(id))
}

/// Posts `amount` (or all) of a pending hold as transaction `transaction_id`; the rest is released.
/// Repeating the same post returns `AlreadyExisted`.
pub async fn post_hold_in(
    conn: &mut PgConnection,
    id: HoldId,
    amount: Option<Money>,
    transaction_id: TransactionId,
    metadata: Value,
) -> Result<Outcome, Error> {
    let row = lock_hold(conn, id).await?;
    let reserved = Money::new(row.amount, Currency::parse(&row.currency)?)?;
    let amount = amount.unwrap_or(reserved);
    if !amount.is_positive() {
        return Err(Error::NotPositive(amount.to_string()));
    }
    if amount.checked_cmp(&reserved)? == std::cmp::Ordering::Greater {
        return Err(Error::HoldExceeded {
            id,
            reserved: reserved.amount().to_string(),
            requested: amount.amount().to_string(),
        });
    }
    match row.status {
        HoldStatus::Pending if row.expired => return Err(Error::HoldExpired(id)),
        HoldStatus::Pending => {}
        HoldStatus::Posted if row.resolved_transaction_id == Some(transaction_id) => {
            // A retry of this very post: the same transaction content, or a conflict.
            let tx = NewTransaction::new(transaction_id)
                .debit(row.debit_account_id, amount)
                .credit(row.credit_account_id, amount)
                .metadata(metadata);
            let sorted = tx.validate()?;
            let stored: Vec<u8> =
                sqlx::query_scalar("select content_hash from ledger_transactions where id = $1")
                    .bind(transaction_id)
                    .fetch_one(&mut *conn)
                    .await?;
            return if stored == tx.content_hash(&sorted) {
                Ok(Outcome::AlreadyExisted)
            } else {
                Err(Error::TransactionConflict(transaction_id))
            };
        }
        status @ (HoldStatus::Posted | HoldStatus::Voided | HoldStatus::Expired) => {
            return Err(Error::HoldNotPending { id, status: status.name().to_owned() })
        }
    }
    // Mark the hold posted before booking, so the funds check does not count the reservation
    // and the posting both. The foreign key to the transaction is checked at commit.
    sqlx::query(
        "update ledger_holds
         set status = 'posted', posted_amount = $2, resolved_transaction_id = $3, resolved_at = now()
         where id = $1",
    )
    .bind(id)
    .bind(amount.amount())
    .bind(transaction_id)
    .execute(&mut *conn)
    .await?;
    let tx = NewTransaction::new(transaction_id)
        .debit(row.debit_account_id, amount)
        .credit(row.credit_account_id, amount)
        .metadata(metadata);
    match post_in(conn, &tx).await? {
        Outcome::Created => Ok(Outcome::Created),
        // The transaction id was used by something else already: this post is not a repeat.
        Outcome::AlreadyExisted => Err(Error::TransactionConflict(transaction_id)),
    }
}

/// Releases a pending hold. Voiding a voided hold again is a no-op.
pub async fn void_hold_in(conn: &mut PgConnection, id: HoldId) -> Result<Outcome, Error> {
    let row = lock_hold(conn, id).await?;
    match row.status {
        HoldStatus::Pending => {}
        HoldStatus::Voided => return Ok(Outcome::AlreadyExisted),
        status @ (HoldStatus::Posted | HoldStatus::Expired) => {
            return Err(Error::HoldNotPending { id, status: status.name().to_owned() })
        }
    }
    sqlx::query("update ledger_holds set status = 'voided', resolved_at = now() where id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(Outcome::Created)
}

/// Marks pending holds whose time has passed as expired. They already stopped counting against
/// available balances at `expires_at`; this makes their state say so.
pub async fn expire_holds(conn: impl PgExecutor<'_>) -> Result<u64, Error> {
    let done = sqlx::query(
        "update ledger_holds set status = 'expired', resolved_at = now()
         where status = 'pending' and expires_at <= now()",
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
