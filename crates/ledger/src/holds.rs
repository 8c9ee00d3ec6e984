//! Two-phase transfers: reserve now, then post (fully or partly), void, or let expire.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::accounts::{accounts_by_ids, Account};
use crate::content::{check_metadata, hold_hash, HashedHold};
use crate::transactions::{check_available, lowers_balance, Outcome, Posting, Side};
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

/// The most holds one call of [`create_holds_in`] or [`post_holds_in`] takes: a bound, not a
/// design limit (a payout batch has at most 5,000 items).
pub const HOLDS_MAX: usize = 10_000;

/// Reserves `hold.amount` inside the caller's database transaction. Refused with
/// `InsufficientFunds` when a non-negative account it draws on cannot cover it.
pub async fn create_hold_in(conn: &mut PgConnection, hold: &NewHold) -> Result<Outcome, Error> {
    let outcomes = create_holds_in(conn, std::slice::from_ref(hold)).await?;
    outcomes.first().copied().ok_or(Error::HoldCount { found: 0, max: HOLDS_MAX })
}

/// Reserves every hold of `holds` inside the caller's database transaction: the same checks,
/// errors, content hashes and outcomes as [`create_hold_in`] on each in turn (a hold repeated
/// with the same content is `AlreadyExisted`, with other content `HoldConflict`), in a number of
/// statements that does not grow with the number of holds. An error means nothing of the call
/// was written that the caller should keep: roll back.
///
/// All or nothing for funds: each non-negative account the new holds lower is locked (in id
/// order) before the one multi-row insert, and checked once after it, by the database's
/// statement trigger (`holds_check_statement`, migration 19: a caller that bypassed this function
/// cannot overdraw either) and read back here. Refused: `InsufficientFunds` with the account's
/// available balance before the call and the sum the call's holds asked of it.
pub async fn create_holds_in(conn: &mut PgConnection, holds: &[NewHold]) -> Result<Vec<Outcome>, Error> {
    if holds.len() > HOLDS_MAX {
        return Err(Error::HoldCount { found: holds.len(), max: HOLDS_MAX });
    }
    if holds.is_empty() {
        return Ok(Vec::new());
    }
    for hold in holds {
        if !hold.amount.is_positive() {
            return Err(Error::NotPositive(hold.amount.to_string()));
        }
        if hold.debit == hold.credit {
            return Err(Error::SameAccount);
        }
        check_metadata(&hold.metadata)?;
    }
    let mut ids: Vec<AccountId> = holds.iter().flat_map(|h| [h.debit, h.credit]).collect();
    ids.sort();
    ids.dedup();
    let accounts: BTreeMap<AccountId, Account> =
        accounts_by_ids(&mut *conn, &ids).await?.into_iter().map(|a| (a.id, a)).collect();
    for hold in holds {
        let mut sides = [hold.debit, hold.credit];
        sides.sort();
        for id in sides {
            let account = accounts.get(&id).ok_or(Error::AccountNotFound(id))?;
            if account.currency != hold.amount.currency() {
                return Err(Error::AccountCurrency {
                    account: id,
                    account_currency: account.currency,
                    found: hold.amount.currency(),
                });
            }
        }
    }
    let hashes: Vec<[u8; 32]> = holds.iter().map(NewHold::content_hash).collect();

    // Repeats, within the call and of holds made earlier, are answered before the expiry is
    // judged: a retry's expiry may have passed since, and it must still say "already existed".
    let mut outcomes = vec![Outcome::Created; holds.len()];
    let mut first: HashMap<HoldId, usize> = HashMap::with_capacity(holds.len());
    for (i, hold) in holds.iter().enumerate() {
        match first.get(&hold.id) {
            Some(&j) if hashes[j] == hashes[i] => outcomes[i] = Outcome::AlreadyExisted,
            Some(_) => return Err(Error::HoldConflict(hold.id)),
            None => {
                first.insert(hold.id, i);
            }
        }
    }
    let unique: Vec<uuid::Uuid> = first.keys().map(|id| id.as_uuid()).collect();
    let stored: Vec<(HoldId, Vec<u8>)> =
        sqlx::query_as("select id, content_hash from ledger_holds where id = any($1)")
            .bind(&unique)
            .fetch_all(&mut *conn)
            .await?;
    mark_existing(holds, &hashes, &first, &stored, &mut outcomes)?;
    let new: Vec<usize> = (0..holds.len())
        .filter(|&i| outcomes[i] == Outcome::Created && first.get(&holds[i].id) == Some(&i))
        .collect();
    if new.is_empty() {
        return Ok(outcomes);
    }

    // The database's clock decides expiry, as it does for available balances.
    let expiries: Vec<DateTime<Utc>> = new.iter().filter_map(|&i| holds[i].expires_at).collect();
    if !expiries.is_empty() {
        let in_past: bool =
            sqlx::query_scalar("select coalesce(min(e) <= now(), false) from unnest($1::timestamptz[]) as e")
                .bind(&expiries)
                .fetch_one(&mut *conn)
                .await?;
        if in_past {
            return Err(Error::ExpiryInPast);
        }
    }

    // What the new holds take from each non-negative account they lower, locked in id order
    // before the insert: its row trigger locks them again (already held), row by row, in the
    // rows' order, which for several accounts could deadlock two callers.
    let mut lowered: BTreeMap<AccountId, Money> = BTreeMap::new();
    for &i in &new {
        let hold = &holds[i];
        for (id, side) in [(hold.debit, Side::Debit), (hold.credit, Side::Credit)] {
            let account = accounts.get(&id).ok_or(Error::AccountNotFound(id))?;
            let posting = Posting { account: id, side, amount: hold.amount };
            if account.non_negative && lowers_balance(account, &posting) {
                let sum = lowered.entry(id).or_insert_with(|| Money::zero(hold.amount.currency()));
                *sum = sum.checked_add(&hold.amount)?;
            }
        }
    }
    for &account in lowered.keys() {
        sqlx::query("select ledger_lock_outflow($1)").bind(account).execute(&mut *conn).await?;
    }

    let ids: Vec<uuid::Uuid> = new.iter().map(|&i| holds[i].id.as_uuid()).collect();
    let debits: Vec<i64> = new.iter().map(|&i| holds[i].debit.as_i64()).collect();
    let credits: Vec<i64> = new.iter().map(|&i| holds[i].credit.as_i64()).collect();
    let currencies: Vec<&str> = new.iter().map(|&i| holds[i].amount.currency().code()).collect();
    let amounts: Vec<Decimal> = new.iter().map(|&i| holds[i].amount.amount()).collect();
    let expires: Vec<Option<DateTime<Utc>>> = new.iter().map(|&i| holds[i].expires_at).collect();
    let metadata: Vec<&Value> = new.iter().map(|&i| &holds[i].metadata).collect();
    let new_hashes: Vec<&[u8]> = new.iter().map(|&i| &hashes[i][..]).collect();
    let inserted: Vec<HoldId> = sqlx::query_scalar(
        "insert into ledger_holds
             (id, debit_account_id, credit_account_id, currency, amount, expires_at, metadata, content_hash)
         select * from unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::text[], $5::numeric[],
                              $6::timestamptz[], $7::jsonb[], $8::bytea[])
         on conflict (id) do nothing returning id",
    )
    .bind(&ids)
    .bind(&debits)
    .bind(&credits)
    .bind(&currencies)
    .bind(&amounts)
    .bind(&expires)
    .bind(&metadata)
    .bind(&new_hashes)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| hold_refusal(e, &lowered))?;
    if inserted.len() < new.len() {
        // A concurrent caller inserted some of these ids between the look-up and the insert
        // (the insert waited for it to commit): a repeat or a conflict, as above.
        let inserted: HashSet<HoldId> = inserted.into_iter().collect();
        let missing: Vec<uuid::Uuid> = new
            .iter()
            .map(|&i| holds[i].id)
            .filter(|id| !inserted.contains(id))
            .map(|id| id.as_uuid())
            .collect();
        let stored: Vec<(HoldId, Vec<u8>)> =
            sqlx::query_as("select id, content_hash from ledger_holds where id = any($1)")
                .bind(&missing)
                .fetch_all(&mut *conn)
                .await?;
        mark_existing(holds, &hashes, &first, &stored, &mut outcomes)?;
    }
    // One funds check per account, after the insert and under its lock. The statement trigger
    // has refused an overdraw already; this read-back also refuses one where the triggers were
    // disabled (`session_replication_role = replica`), as the single path always has.
    for (&account, requested) in &lowered {
        check_available(conn, account, requested).await?;
    }
    Ok(outcomes)
}

/// Holds of the call found stored already: `AlreadyExisted` for every occurrence when the stored
/// content is the same, `HoldConflict` otherwise.
fn mark_existing(
    holds: &[NewHold],
    hashes: &[[u8; 32]],
    first: &HashMap<HoldId, usize>,
    stored: &[(HoldId, Vec<u8>)],
    outcomes: &mut [Outcome],
) -> Result<(), Error> {
    for (id, hash) in stored {
        let i = *first.get(id).ok_or(Error::HoldNotFound(*id))?;
        if hash.as_slice() != hashes[i].as_slice() {
            return Err(Error::HoldConflict(*id));
        }
        for (outcome, hold) in outcomes.iter_mut().zip(holds) {
            if hold.id == *id {
                *outcome = Outcome::AlreadyExisted;
            }
        }
    }
    Ok(())
}

/// The hold triggers' refusals as the ledger's own errors: the statement trigger's overdraw
/// (its detail: the account and the available balance after the insert) as `InsufficientFunds`
/// before the call, and the expiry the database's clock judged past.
fn hold_refusal(e: sqlx::Error, lowered: &BTreeMap<AccountId, Money>) -> Error {
    let Some(pg) =
        e.as_database_error().and_then(|db| db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>())
    else {
        return Error::Database(e);
    };
    match pg.constraint() {
        Some("ledger_hold_expiry") => Error::ExpiryInPast,
        Some("ledger_non_negative") => {
            let detail: Vec<&str> = pg.detail().unwrap_or_default().split(' ').collect();
            let account = detail.first().and_then(|id| id.parse().ok()).map(AccountId::from_i64);
            let after = detail.get(1).and_then(|a| a.parse::<Decimal>().ok());
            match (account, after) {
                (Some(account), Some(after)) => {
                    let requested = lowered.get(&account).map_or(Decimal::ZERO, Money::amount);
                    Error::InsufficientFunds {
                        account,
                        available: after.checked_add(requested).unwrap_or(after).to_string(),
                        requested: requested.to_string(),
                    }
                }
                _ => Error::Database(e),
            }
        }
        _ => Error::Database(e),
    }
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
    let post = HoldPost { hold: id, amount, transaction: transaction_id, metadata };
    let outcomes = post_holds_in(conn, std::slice::from_ref(&post)).await?;
    // one post in, one outcome out
    outcomes.first().copied().ok_or(Error::HoldNotFound(id))
}

/// One post for [`post_holds_in`]: `amount` (all of the hold when none) booked as `transaction`.
#[derive(Clone, Debug)]
pub struct HoldPost {
    pub hold: HoldId,
    pub amount: Option<Money>,
    pub transaction: TransactionId,
    pub metadata: Value,
}

/// Posts every hold of `posts` inside the caller's database transaction: the same checks,
/// errors and outcomes as [`post_hold_in`] on each in turn, in a number of statements that does
/// not grow with the number of posts (the holds locked in id order, one update, one statement
/// writing every transaction and its postings). An error means the caller must roll back.
pub async fn post_holds_in(conn: &mut PgConnection, posts: &[HoldPost]) -> Result<Vec<Outcome>, Error> {
    if posts.len() > HOLDS_MAX {
        return Err(Error::HoldCount { found: posts.len(), max: HOLDS_MAX });
    }
    if posts.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<uuid::Uuid> = posts.iter().map(|p| p.hold.as_uuid()).collect();
    ids.sort();
    ids.dedup();
    // in id order, so two callers posting some of the same holds cannot deadlock
    let rows: Vec<HoldRow> = sqlx::query_as(&format!(
        "select {HOLD_COLUMNS} from ledger_holds where id = any($1) order by id for update"
    ))
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let rows: HashMap<HoldId, HoldRow> = rows.into_iter().map(|row| (row.id, row)).collect();

    let mut outcomes = Vec::with_capacity(posts.len());
    let mut hashes: Vec<[u8; 32]> = Vec::with_capacity(posts.len());
    // what is booked now, and earlier posts this call repeats (their stored hash decides)
    let mut booked: Vec<(HoldId, Money, NewTransaction, Vec<Posting>)> = Vec::new();
    let mut repeats: Vec<(TransactionId, [u8; 32])> = Vec::new();
    let mut first_of_hold: HashMap<HoldId, usize> = HashMap::new();
    let mut hold_of_transaction: HashMap<TransactionId, HoldId> = HashMap::new();
    for (i, post) in posts.iter().enumerate() {
        let id = post.hold;
        let row = rows.get(&id).ok_or(Error::HoldNotFound(id))?;
        let reserved = Money::new(row.amount, Currency::parse(&row.currency)?)?;
        let amount = post.amount.unwrap_or(reserved);
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
        let tx = NewTransaction::new(post.transaction)
            .debit(row.debit_account_id, amount)
            .credit(row.credit_account_id, amount)
            .metadata(post.metadata.clone());
        let sorted = tx.validate()?;
        let hash = tx.content_hash(&sorted);
        hashes.push(hash);
        // one transaction resolves one hold
        if hold_of_transaction.insert(post.transaction, id).is_some_and(|other| other != id) {
            return Err(Error::TransactionConflict(post.transaction));
        }
        // the same hold twice in one call: the second is what it would be after the first
        if let Some(&j) = first_of_hold.get(&id) {
            if posts[j].transaction != post.transaction {
                return Err(Error::HoldNotPending { id, status: HoldStatus::Posted.name().to_owned() });
            }
            if hashes[j] != hash {
                return Err(Error::TransactionConflict(post.transaction));
            }
            outcomes.push(Outcome::AlreadyExisted);
            continue;
        }
        first_of_hold.insert(id, i);
        match row.status {
            HoldStatus::Pending if row.expired => return Err(Error::HoldExpired(id)),
            HoldStatus::Pending => {
                booked.push((id, amount, tx, sorted));
                outcomes.push(Outcome::Created);
            }
            // A retry of this very post: the same transaction content, or a conflict.
            HoldStatus::Posted if row.resolved_transaction_id == Some(post.transaction) => {
                repeats.push((post.transaction, hash));
                outcomes.push(Outcome::AlreadyExisted);
            }
            status @ (HoldStatus::Posted | HoldStatus::Voided | HoldStatus::Expired) => {
                return Err(Error::HoldNotPending { id, status: status.name().to_owned() })
            }
        }
    }
    if !repeats.is_empty() {
        let ids: Vec<uuid::Uuid> = repeats.iter().map(|(tx, _)| tx.as_uuid()).collect();
        let stored: HashMap<TransactionId, Vec<u8>> = sqlx::query_as::<_, (TransactionId, Vec<u8>)>(
            "select id, content_hash from ledger_transactions where id = any($1)",
        )
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
        for (tx, hash) in &repeats {
            if stored.get(tx).map(Vec::as_slice) != Some(hash.as_slice()) {
                return Err(Error::TransactionConflict(*tx));
            }
        }
    }
    if booked.is_empty() {
        return Ok(outcomes);
    }

    // Mark the holds posted before booking, so the funds check does not count the reservations
    // and the postings both. The foreign key to each transaction is checked at commit.
    let hold_ids: Vec<uuid::Uuid> = booked.iter().map(|(id, ..)| id.as_uuid()).collect();
    let amounts: Vec<Decimal> = booked.iter().map(|(_, amount, ..)| amount.amount()).collect();
    let transaction_ids: Vec<uuid::Uuid> = booked.iter().map(|(_, _, tx, _)| tx.id.as_uuid()).collect();
    sqlx::query(
        "update ledger_holds h
         set status = 'posted', posted_amount = u.amount, resolved_transaction_id = u.transaction_id,
             resolved_at = now()
         from unnest($1::uuid[], $2::numeric[], $3::uuid[]) as u (id, amount, transaction_id)
         where h.id = u.id",
    )
    .bind(&hold_ids)
    .bind(&amounts)
    .bind(&transaction_ids)
    .execute(&mut *conn)
    .await?;

    // Every transaction and its postings in one statement, as `post_in` writes one. Postings go
    // in account order, then transaction: covered by their holds, they lock nothing, and if they
    // ever did, two callers would lock in the same order.
    let metadata: Vec<&Value> = booked.iter().map(|(_, _, tx, _)| &tx.metadata).collect();
    let transaction_hashes: Vec<Vec<u8>> =
        booked.iter().map(|(_, _, tx, sorted)| tx.content_hash(sorted).to_vec()).collect();
    let mut postings: Vec<(AccountId, uuid::Uuid, &str, Decimal)> = booked
        .iter()
        .flat_map(|(_, _, tx, sorted)| {
            sorted
                .iter()
                .map(move |p| (p.account, tx.id.as_uuid(), p.amount.currency().code(), p.signed_amount()))
        })
        .collect();
    postings.sort_by_key(|&(account, transaction, ..)| (account, transaction));
    let posting_transactions: Vec<uuid::Uuid> = postings.iter().map(|p| p.1).collect();
    let posting_accounts: Vec<i64> = postings.iter().map(|p| p.0.as_i64()).collect();
    let posting_currencies: Vec<&str> = postings.iter().map(|p| p.2).collect();
    let posting_amounts: Vec<Decimal> = postings.iter().map(|p| p.3).collect();
    let written: Vec<TransactionId> = sqlx::query_scalar(
        "with new_transactions as (
             insert into ledger_transactions (id, metadata, content_hash)
             select * from unnest($1::uuid[], $2::jsonb[], $3::bytea[])
             on conflict (id) do nothing
             returning id
         )
         insert into ledger_postings (transaction_id, account_id, currency, amount)
         select p.transaction_id, p.account_id, p.currency, p.amount
         from unnest($4::uuid[], $5::bigint[], $6::text[], $7::numeric[]) with ordinality
                  as p (transaction_id, account_id, currency, amount, position)
         join new_transactions t on t.id = p.transaction_id
         order by p.position
         returning transaction_id",
    )
    .bind(&transaction_ids)
    .bind(&metadata)
    .bind(&transaction_hashes)
    .bind(&posting_transactions)
    .bind(&posting_accounts)
    .bind(&posting_currencies)
    .bind(&posting_amounts)
    .fetch_all(&mut *conn)
    .await?;
    let written: HashSet<TransactionId> = written.into_iter().collect();
    // A transaction id used by something else already: this post is not a repeat.
    if let Some((_, _, tx, _)) = booked.iter().find(|(_, _, tx, _)| !written.contains(&tx.id)) {
        return Err(Error::TransactionConflict(tx.id));
    }
    Ok(outcomes)
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
