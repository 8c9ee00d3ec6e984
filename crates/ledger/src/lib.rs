//! zbor's ledger: exact money and double-entry bookkeeping on PostgreSQL.
//!
//! Functions ending in `_in` work inside a caller's database transaction, so that a booking can
//! commit atomically with the caller's own state (a payout batch, an outbox row). [`Ledger`]
//! wraps each in a transaction of its own.

mod accounts;
mod chain;
mod content;
mod currency;
mod error;
mod holds;
mod ids;
mod money;
mod transactions;
mod verify;

pub use accounts::{
    account, account_by_code, accounts_by_ids, balance, create_account, ensure_account, list_accounts,
    Account, AccountKind, Balance, NewAccount,
};
pub use chain::{seal, seal_all, SEAL_BATCH_MAX};
pub use content::{canonical_json, survives_jsonb, METADATA_BYTES_MAX};
pub use currency::{Currency, MAX_MINOR_UNITS};
pub use error::Error;
pub use holds::{create_hold_in, expire_holds, hold, post_hold_in, void_hold_in, Hold, HoldStatus, NewHold};
pub use holds::{create_holds_in, post_holds_in, HoldPost, HOLDS_MAX};
pub use ids::{AccountId, HoldId, TransactionId};
pub use money::Money;
pub use transactions::{post_in, post_many_in, NewTransaction, Outcome, Posting, Side, POSTINGS_MAX};
pub use verify::{read_only_snapshot, verify, Report};

use serde_json::Value;
use sqlx::PgPool;

/// The ledger over a connection pool; each call is one database transaction.
#[derive(Clone)]
pub struct Ledger {
    pool: PgPool,
}

impl Ledger {
    pub fn new(pool: PgPool) -> Ledger {
        Ledger { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn create_account(&self, new: &NewAccount) -> Result<Account, Error> {
        create_account(&self.pool, new).await
    }

    pub async fn ensure_account(&self, new: &NewAccount) -> Result<Account, Error> {
        let mut conn = self.pool.acquire().await?;
        ensure_account(&mut conn, new).await
    }

    /// `post_in` writes a transaction with a single statement, and PostgreSQL runs a lone
    /// statement as a transaction of its own, deferred constraint triggers included. So no
    /// BEGIN/COMMIT round trips: a booking is one round trip to the database.
    pub async fn post(&self, tx: &NewTransaction) -> Result<Outcome, Error> {
        let mut conn = self.pool.acquire().await?;
        post_in(&mut conn, tx).await
    }

    /// Books `txs` in one database transaction with one statement ([`post_many_in`]): all or
    /// none.
    pub async fn post_many(&self, txs: &[NewTransaction]) -> Result<Vec<Outcome>, Error> {
        let mut db = self.pool.begin().await?;
        let outcomes = post_many_in(&mut db, txs).await?;
        db.commit().await?;
        Ok(outcomes)
    }

    pub async fn create_hold(&self, hold: &NewHold) -> Result<Outcome, Error> {
        let mut db = self.pool.begin().await?;
        let outcome = create_hold_in(&mut db, hold).await?;
        db.commit().await?;
        Ok(outcome)
    }

    pub async fn post_hold(
        &self,
        id: HoldId,
        amount: Option<Money>,
        transaction_id: TransactionId,
        metadata: Value,
    ) -> Result<Outcome, Error> {
        let mut db = self.pool.begin().await?;
        let outcome = post_hold_in(&mut db, id, amount, transaction_id, metadata).await?;
        db.commit().await?;
        Ok(outcome)
    }

    pub async fn void_hold(&self, id: HoldId) -> Result<Outcome, Error> {
        let mut db = self.pool.begin().await?;
        let outcome = void_hold_in(&mut db, id).await?;
        db.commit().await?;
        Ok(outcome)
    }

    pub async fn hold(&self, id: HoldId) -> Result<Hold, Error> {
        hold(&self.pool, id).await
    }

    pub async fn expire_holds(&self) -> Result<u64, Error> {
        expire_holds(&self.pool).await
    }

    pub async fn balance(&self, id: AccountId) -> Result<Balance, Error> {
        let mut conn = self.pool.acquire().await?;
        balance(&mut conn, id).await
    }

    pub async fn seal_all(&self) -> Result<u64, Error> {
        seal_all(&self.pool).await
    }

    pub async fn verify(&self) -> Result<Report, Error> {
        verify(&self.pool).await
    }
}
