//! Posting balanced transactions, idempotently, with a funds check only where one is needed.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgConnection;

use crate::accounts::Account;
use crate::content::{check_metadata, transaction_hash, HashedPosting};
use crate::{AccountId, Currency, Error, Money, TransactionId};

/// The most postings one transaction may carry: a bound, not a design limit.
pub const POSTINGS_MAX: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Debit,
    Credit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posting {
    pub account: AccountId,
    pub side: Side,
    /// Always positive; the side says which way it moves.
    pub amount: Money,
}

impl Posting {
    /// Debit positive, credit negative: the form stored in the database.
    pub fn signed_amount(&self) -> Decimal {
        match self.side {
            Side::Debit => self.amount.amount(),
            Side::Credit => -self.amount.amount(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewTransaction {
    pub id: TransactionId,
    pub postings: Vec<Posting>,
    pub metadata: Value,
}

impl NewTransaction {
    pub fn new(id: TransactionId) -> NewTransaction {
        NewTransaction { id, postings: Vec::new(), metadata: Value::Object(Default::default()) }
    }

    pub fn debit(mut self, account: AccountId, amount: Money) -> NewTransaction {
        self.postings.push(Posting { account, side: Side::Debit, amount });
        self
    }

    pub fn credit(mut self, account: AccountId, amount: Money) -> NewTransaction {
        self.postings.push(Posting { account, side: Side::Credit, amount });
        self
    }

    pub fn metadata(mut self, metadata: Value) -> NewTransaction {
        self.metadata = metadata;
        self
    }

    /// Everything that can be checked without the database: counts, signs, duplicates, balance per
    /// currency. Returns the postings sorted by account id, the order they are stored and hashed in
    /// (and the order locks are taken in, so two transactions cannot deadlock).
    pub fn validate(&self) -> Result<Vec<Posting>, Error> {
        let count = self.postings.len();
        if !(2..=POSTINGS_MAX).contains(&count) {
            return Err(Error::PostingCount { found: count, max: POSTINGS_MAX });
        }
        check_metadata(&self.metadata)?;
        let mut sums: BTreeMap<Currency, Money> = BTreeMap::new();
        for posting in &self.postings {
            if posting.amount.is_zero() {
                return Err(Error::ZeroPosting);
            }
            if posting.amount.is_negative() {
                return Err(Error::NotPositive(posting.amount.to_string()));
            }
            let currency = posting.amount.currency();
            let signed = match posting.side {
                Side::Debit => posting.amount,
                Side::Credit => posting.amount.negated(),
            };
            let sum = sums.entry(currency).or_insert_with(|| Money::zero(currency));
            *sum = sum.checked_add(&signed)?;
        }
        if let Some((currency, sum)) = sums.iter().find(|(_, sum)| !sum.is_zero()) {
            return Err(Error::Unbalanced { currency: *currency, sum: sum.amount().to_string() });
        }
        let mut sorted = self.postings.clone();
        sorted.sort_by_key(|p| p.account);
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0].account == pair[1].account) {
            return Err(Error::DuplicateAccount(pair[0].account));
        }
        Ok(sorted)
    }

    pub fn content_hash(&self, sorted: &[Posting]) -> [u8; 32] {
        let codes: Vec<String> = sorted.iter().map(|p| p.amount.currency().code().to_owned()).collect();
        let hashed: Vec<HashedPosting<'_>> = sorted
            .iter()
            .zip(&codes)
            .map(|(p, code)| HashedPosting { account: p.account, currency: code, amount: p.signed_amount() })
            .collect();
        transaction_hash(self.id.as_uuid(), &hashed, &self.metadata)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Booked now.
    Created,
    /// The same id with the same content was booked before; nothing new was written.
    AlreadyExisted,
}

/// Books `tx` with one statement. Inside a caller's database transaction it commits with the
/// caller's work (the deferred balance check runs at that commit); on a bare connection the
/// statement is its own transaction.
///
/// One statement writes the transaction and its postings, so a credit to a hot campaign account
/// costs three round trips (begin, insert, commit) and takes no lock beyond its balance shard.
/// Unknown accounts and currency mismatches are refused by the insert trigger; the statement
/// then failed, so the caller's database transaction must be rolled back (as on any error).
pub async fn post_in(conn: &mut PgConnection, tx: &NewTransaction) -> Result<Outcome, Error> {
    let sorted = tx.validate()?;
    let hash = tx.content_hash(&sorted);
    let account_ids: Vec<i64> = sorted.iter().map(|p| p.account.as_i64()).collect();
    let currencies: Vec<&str> = sorted.iter().map(|p| p.amount.currency().code()).collect();
    let amounts: Vec<Decimal> = sorted.iter().map(Posting::signed_amount).collect();

    // The id's unique index is the idempotency lock: a concurrent duplicate waits in the insert
    // until the first commits (then inserts nothing) or rolls back (then books it itself).
    // Postings are inserted in account order, so the row trigger locks outflow accounts in id
    // order and two transactions cannot deadlock on them; the statement trigger then refuses an
    // outflow that would overdraw a non-negative account.
    let written = sqlx::query(
        "with new_transaction as (
             insert into ledger_transactions (id, metadata, content_hash) values ($1, $2, $3)
             on conflict (id) do nothing
             returning id
         )
         insert into ledger_postings (transaction_id, account_id, currency, amount)
         select t.id, p.account_id, p.currency, p.amount
         from new_transaction t,
              unnest($4::bigint[], $5::text[], $6::numeric[]) with ordinality
                  as p (account_id, currency, amount, position)
         order by p.position",
    )
    .bind(tx.id)
    .bind(&tx.metadata)
    .bind(&hash[..])
    .bind(&account_ids)
    .bind(&currencies)
    .bind(&amounts)
    .execute(&mut *conn)
    .await
    .map_err(|e| refusal(e, &sorted))?;

    if written.rows_affected() == 0 {
        let existing: Vec<u8> =
            sqlx::query_scalar("select content_hash from ledger_transactions where id = $1")
                .bind(tx.id)
                .fetch_one(&mut *conn)
                .await?;
        return if existing == hash {
            Ok(Outcome::AlreadyExisted)
        } else {
            Err(Error::TransactionConflict(tx.id))
        };
    }
    Ok(Outcome::Created)
}

/// Books several transactions with one statement, with the same checks as [`post_in`]: the
/// same triggers run over every posting, the statement trigger over all of them, and the
/// deferred balance check at commit per transaction. Outcomes come back in `txs`' order. An id
/// given twice is booked once (the second is `AlreadyExisted`, or `TransactionConflict` if its
/// content differs). Any refusal fails the whole statement: nothing is booked, and the caller's
/// database transaction must be rolled back.
///
/// This is how a group commit books k donations in one round trip instead of k. All postings
/// are inserted in account order, so the row trigger locks outflow accounts and the balance
/// shards in one global order and two concurrent batches cannot deadlock on them.
pub async fn post_many_in(conn: &mut PgConnection, txs: &[NewTransaction]) -> Result<Vec<Outcome>, Error> {
    let mut outcomes: Vec<Option<Outcome>> = vec![None; txs.len()];
    let mut first_of: std::collections::HashMap<TransactionId, (usize, [u8; 32])> =
        std::collections::HashMap::with_capacity(txs.len());
    // (transaction index, posting): sorted by account below
    let mut postings: Vec<(usize, Posting)> = Vec::with_capacity(txs.len() * 2);
    let (mut ids, mut metadata, mut hashes) = (Vec::new(), Vec::new(), Vec::new());
    for (i, tx) in txs.iter().enumerate() {
        let sorted = tx.validate()?;
        let hash = tx.content_hash(&sorted);
        if let Some((_, first_hash)) = first_of.get(&tx.id) {
            if *first_hash != hash {
                return Err(Error::TransactionConflict(tx.id));
            }
            outcomes[i] = Some(Outcome::AlreadyExisted);
            continue;
        }
        first_of.insert(tx.id, (i, hash));
        ids.push(tx.id.as_uuid());
        metadata.push(&tx.metadata);
        hashes.push(hash.to_vec());
        postings.extend(sorted.into_iter().map(|p| (i, p)));
    }
    if ids.is_empty() {
        return Ok(outcomes.into_iter().map(|o| o.unwrap_or(Outcome::AlreadyExisted)).collect());
    }
    postings.sort_by_key(|(i, p)| (p.account, *i));
    let posting_transactions: Vec<uuid::Uuid> = postings.iter().map(|(i, _)| txs[*i].id.as_uuid()).collect();
    let account_ids: Vec<i64> = postings.iter().map(|(_, p)| p.account.as_i64()).collect();
    let currencies: Vec<&str> = postings.iter().map(|(_, p)| p.amount.currency().code()).collect();
    let amounts: Vec<Decimal> = postings.iter().map(|(_, p)| p.signed_amount()).collect();

    // As in `post_in`: the ids' unique index is the idempotency lock, and a transaction that
    // already exists gets no postings (the join drops them).
    let created: Vec<uuid::Uuid> = sqlx::query_scalar(
        "with new_transactions as (
             insert into ledger_transactions (id, metadata, content_hash)
             select * from unnest($1::uuid[], $2::jsonb[], $3::bytea[])
             on conflict (id) do nothing
             returning id
         ), written as (
             insert into ledger_postings (transaction_id, account_id, currency, amount)
             select p.transaction_id, p.account_id, p.currency, p.amount
             from unnest($4::uuid[], $5::bigint[], $6::text[], $7::numeric[]) with ordinality
                      as p (transaction_id, account_id, currency, amount, position)
             join new_transactions t on t.id = p.transaction_id
             order by p.position
             returning transaction_id
         )
         select distinct transaction_id from written",
    )
    .bind(&ids)
    .bind(&metadata)
    .bind(&hashes)
    .bind(&posting_transactions)
    .bind(&account_ids)
    .bind(&currencies)
    .bind(&amounts)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| {
        let all: Vec<Posting> = postings.iter().map(|(_, p)| p.clone()).collect();
        refusal(e, &all)
    })?;

    let created: std::collections::HashSet<uuid::Uuid> = created.into_iter().collect();
    let existing: Vec<uuid::Uuid> = ids.iter().filter(|id| !created.contains(id)).copied().collect();
    let stored: std::collections::HashMap<uuid::Uuid, Vec<u8>> = if existing.is_empty() {
        Default::default()
    } else {
        sqlx::query_as::<_, (uuid::Uuid, Vec<u8>)>(
            "select id, content_hash from ledger_transactions where id = any($1)",
        )
        .bind(&existing)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect()
    };
    for (id, (i, hash)) in &first_of {
        outcomes[*i] = Some(if created.contains(&id.as_uuid()) {
            Outcome::Created
        } else if stored.get(&id.as_uuid()).is_some_and(|stored| stored[..] == hash[..]) {
            Outcome::AlreadyExisted
        } else {
            return Err(Error::TransactionConflict(*id));
        });
    }
    Ok(outcomes.into_iter().map(|o| o.unwrap_or(Outcome::AlreadyExisted)).collect())
}

/// Turns the triggers' refusals (raised with the account and figures in their detail) into the
/// ledger's own errors.
fn refusal(e: sqlx::Error, postings: &[Posting]) -> Error {
    let Some(pg) =
        e.as_database_error().and_then(|db| db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>())
    else {
        return Error::Database(e);
    };
    let detail: Vec<&str> = pg.detail().unwrap_or_default().split(' ').collect();
    let Some(account) = detail.first().and_then(|id| id.parse().ok()).map(AccountId::from_i64) else {
        return Error::Database(e);
    };
    let currency = |i: usize| detail.get(i).and_then(|c| Currency::parse(c).ok());
    match pg.constraint() {
        Some("ledger_posting_account") => Error::AccountNotFound(account),
        Some("ledger_posting_currency") => match (currency(1), currency(2)) {
            (Some(account_currency), Some(found)) => {
                Error::AccountCurrency { account, account_currency, found }
            }
            _ => Error::Database(e),
        },
        Some("ledger_non_negative") => {
            let requested = postings.iter().find(|p| p.account == account).map(|p| p.amount.amount());
            let available_after = detail.get(1).and_then(|a| a.parse::<Decimal>().ok());
            match (requested, available_after) {
                (Some(requested), Some(after)) => Error::InsufficientFunds {
                    account,
                    available: after
                        .checked_add(requested)
                        .map_or_else(|| after.to_string(), |a| a.to_string()),
                    requested: requested.to_string(),
                },
                _ => Error::Database(e),
            }
        }
        _ => Error::Database(e),
    }
}

/// After the outflow was written (and its account locked): is the available balance still >= 0?
pub(crate) async fn check_available(
    conn: &mut PgConnection,
    account: AccountId,
    outflow: &Money,
) -> Result<(), Error> {
    let available: Decimal =
        sqlx::query_scalar("select ledger_available($1)").bind(account).fetch_one(&mut *conn).await?;
    if available.is_sign_negative() && !available.is_zero() {
        let before = available.checked_add(outflow.amount()).ok_or(Error::Overflow)?;
        return Err(Error::InsufficientFunds {
            account,
            available: before.to_string(),
            requested: outflow.amount().to_string(),
        });
    }
    Ok(())
}

pub(crate) fn lowers_balance(account: &Account, posting: &Posting) -> bool {
    match (account.kind.is_debit_normal(), posting.side) {
        (true, Side::Credit) | (false, Side::Debit) => true,
        (true, Side::Debit) | (false, Side::Credit) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(s: &str) -> Money {
        Money::parse(s, Currency::parse("EUR").unwrap()).unwrap()
    }

    fn id(n: i64) -> AccountId {
        AccountId::from_i64(n)
    }

    #[test]
    fn validation_without_a_database() {
        let t = || NewTransaction::new(TransactionId::new_random());
        assert!(t().debit(id(1), eur("1")).credit(id(2), eur("1")).validate().is_ok());
        assert!(matches!(t().debit(id(1), eur("1")).validate(), Err(Error::PostingCount { .. })));
        assert!(matches!(
            t().debit(id(1), eur("1")).credit(id(2), eur("0.99")).validate(),
            Err(Error::Unbalanced { .. })
        ));
        assert!(matches!(
            t().debit(id(1), eur("0")).credit(id(2), eur("0")).validate(),
            Err(Error::ZeroPosting)
        ));
        assert!(matches!(
            t().debit(id(1), eur("-1")).credit(id(2), eur("-1")).validate(),
            Err(Error::NotPositive(_))
        ));
        assert!(matches!(
            t().debit(id(1), eur("1")).credit(id(1), eur("1")).validate(),
            Err(Error::DuplicateAccount(_))
        ));
        let usd = Money::parse("1", Currency::parse("USD").unwrap()).unwrap();
        assert!(matches!(
            t().debit(id(1), eur("1")).credit(id(2), usd).validate(),
            Err(Error::Unbalanced { .. })
        ));
        assert!(matches!(
            t().debit(id(1), eur("1")).credit(id(2), eur("1")).metadata(serde_json::json!([1])).validate(),
            Err(Error::InvalidMetadata { .. })
        ));
    }

    #[test]
    fn postings_are_sorted_by_account() {
        let tx = NewTransaction::new(TransactionId::new_random())
            .debit(id(9), eur("3"))
            .credit(id(2), eur("1"))
            .credit(id(5), eur("2"));
        let sorted = tx.validate().unwrap();
        let order: Vec<i64> = sorted.iter().map(|p| p.account.as_i64()).collect();
        assert_eq!(order, vec![2, 5, 9]);
    }
}
