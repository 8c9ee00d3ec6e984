//! Accounts: created once, never changed or deleted (the database refuses both).

use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};

use crate::{AccountId, Currency, Error, Money};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "ledger_account_kind", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    Asset,
    Liability,
    Income,
    Expense,
}

impl AccountKind {
    /// Assets and expenses grow with debits; liabilities and income grow with credits.
    pub fn is_debit_normal(self) -> bool {
        match self {
            AccountKind::Asset | AccountKind::Expense => true,
            AccountKind::Liability | AccountKind::Income => false,
        }
    }

    pub fn parse(kind: &str) -> Option<AccountKind> {
        match kind {
            "asset" => Some(AccountKind::Asset),
            "liability" => Some(AccountKind::Liability),
            "income" => Some(AccountKind::Income),
            "expense" => Some(AccountKind::Expense),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub id: AccountId,
    pub code: String,
    pub kind: AccountKind,
    pub currency: Currency,
    /// Available balance may never go below zero.
    pub non_negative: bool,
}

#[derive(Clone, Debug)]
pub struct NewAccount {
    pub code: String,
    pub kind: AccountKind,
    pub currency: Currency,
    pub non_negative: bool,
}

pub const ACCOUNT_CODE_LEN_MAX: usize = 128;

fn valid_code(code: &str) -> bool {
    let mut bytes = code.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    first_ok
        && code.len() <= ACCOUNT_CODE_LEN_MAX
        && bytes
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b':' | b'.' | b'_' | b'-'))
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: AccountId,
    code: String,
    kind: AccountKind,
    currency: String,
    non_negative: bool,
}

impl AccountRow {
    fn into_account(self) -> Result<Account, Error> {
        Ok(Account {
            id: self.id,
            code: self.code,
            kind: self.kind,
            currency: Currency::parse(&self.currency)?,
            non_negative: self.non_negative,
        })
    }
}

pub async fn create_account(conn: impl PgExecutor<'_>, new: &NewAccount) -> Result<Account, Error> {
    if !valid_code(&new.code) {
        return Err(Error::InvalidAccountCode(new.code.chars().take(ACCOUNT_CODE_LEN_MAX).collect()));
    }
    let row: Option<AccountRow> = sqlx::query_as(
        "insert into ledger_accounts (code, kind, currency, non_negative)
         values ($1, $2, $3, $4)
         on conflict (code) do nothing
         returning id, code, kind, currency, non_negative",
    )
    .bind(&new.code)
    .bind(new.kind)
    .bind(new.currency.code())
    .bind(new.non_negative)
    .fetch_optional(conn)
    .await?;
    match row {
        Some(row) => row.into_account(),
        None => Err(Error::AccountCodeTaken(new.code.clone())),
    }
}

/// Returns the account with this code, creating it when missing. When it exists with a different
/// kind, currency or flag, that is a conflict: an account's nature never changes.
pub async fn ensure_account(conn: &mut PgConnection, new: &NewAccount) -> Result<Account, Error> {
    match create_account(&mut *conn, new).await {
        Err(Error::AccountCodeTaken(code)) => {
            let existing = account_by_code(&mut *conn, &code).await?;
            let same = existing.kind == new.kind
                && existing.currency == new.currency
                && existing.non_negative == new.non_negative;
            if same {
                Ok(existing)
            } else {
                Err(Error::AccountCodeTaken(code))
            }
        }
        other => other,
    }
}

pub async fn account(conn: impl PgExecutor<'_>, id: AccountId) -> Result<Account, Error> {
    let row: Option<AccountRow> =
        sqlx::query_as("select id, code, kind, currency, non_negative from ledger_accounts where id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    row.ok_or(Error::AccountNotFound(id))?.into_account()
}

pub async fn account_by_code(conn: impl PgExecutor<'_>, code: &str) -> Result<Account, Error> {
    let row: Option<AccountRow> =
        sqlx::query_as("select id, code, kind, currency, non_negative from ledger_accounts where code = $1")
            .bind(code)
            .fetch_optional(conn)
            .await?;
    row.ok_or_else(|| Error::AccountCodeNotFound(code.chars().take(ACCOUNT_CODE_LEN_MAX).collect()))?
        .into_account()
}

pub async fn accounts_by_ids(conn: impl PgExecutor<'_>, ids: &[AccountId]) -> Result<Vec<Account>, Error> {
    let raw: Vec<i64> = ids.iter().map(AccountId::as_i64).collect();
    let rows: Vec<AccountRow> = sqlx::query_as(
        "select id, code, kind, currency, non_negative from ledger_accounts
         where id = any($1) order by id",
    )
    .bind(&raw)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(AccountRow::into_account).collect()
}

pub async fn list_accounts(conn: impl PgExecutor<'_>, limit: i64) -> Result<Vec<Account>, Error> {
    let rows: Vec<AccountRow> = sqlx::query_as(
        "select id, code, kind, currency, non_negative from ledger_accounts order by id limit $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(AccountRow::into_account).collect()
}

/// An account's money, in its normal direction (a liability's balance grows with credits).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Balance {
    pub account: AccountId,
    pub debits: Money,
    pub credits: Money,
    /// Posted balance in the normal direction.
    pub posted: Money,
    /// Pending holds that will move money out of the account.
    pub pending_outflow: Money,
    /// `posted - pending_outflow`: what can still be spent.
    pub available: Money,
}

pub async fn balance(conn: &mut PgConnection, id: AccountId) -> Result<Balance, Error> {
    let account = account(&mut *conn, id).await?;
    let (debits, credits, available): (rust_decimal::Decimal, rust_decimal::Decimal, rust_decimal::Decimal) =
        sqlx::query_as(
            "select coalesce(sum(debits), 0), coalesce(sum(credits), 0), ledger_available($1)
             from ledger_balance_shards where account_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let currency = account.currency;
    let debits = Money::new(debits, currency)?;
    let credits = Money::new(credits, currency)?;
    let posted = if account.kind.is_debit_normal() {
        debits.checked_sub(&credits)?
    } else {
        credits.checked_sub(&debits)?
    };
    let available = Money::new(available, currency)?;
    let pending_outflow = posted.checked_sub(&available)?;
    Ok(Balance { account: id, debits, credits, posted, pending_outflow, available })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_codes() {
        for ok in ["campaign:release-123", "stripe.balance", "a", "0_x"] {
            assert!(valid_code(ok), "{ok}");
        }
        for bad in ["", "Campaign", ":x", "a b", "é", &"a".repeat(129)] {
            assert!(!valid_code(bad), "{bad}");
        }
    }
}
