//! `zbor ledger verify`: recompute everything that is stored derived, and check the chain.

use futures_util::TryStreamExt;
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::{PgPool, Postgres, Transaction};

use crate::content::{chain_hash, to_hash, transaction_hash, HashedPosting, GENESIS};
use crate::{AccountId, Error};

#[derive(Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Report {
    pub accounts: u64,
    pub transactions: u64,
    pub postings: u64,
    pub sealed: u64,
    /// Committed, queued for the sealer, not yet in the chain.
    pub awaiting_seal: u64,
    /// The first thing found wrong, in a sentence that names it.
    pub first_problem: Option<String>,
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.first_problem.is_none()
    }
}

/// A read-only transaction that sees one repeatable-read snapshot: every query in it reads the
/// database as it was at the first, so what commits meanwhile cannot make consistent data look
/// inconsistent to a verify. Roll it back when done (nothing to commit).
pub async fn read_only_snapshot(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut db = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only").execute(&mut *db).await?;
    Ok(db)
}

/// Runs every check, stopping at the first problem. Reads inside one repeatable-read snapshot so
/// that concurrent bookings cannot make consistent data look inconsistent.
pub async fn verify(pool: &PgPool) -> Result<Report, Error> {
    let mut db = read_only_snapshot(pool).await?;
    let mut report = Report::default();
    let counts: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from ledger_accounts), (select count(*) from ledger_transactions),
                (select count(*) from ledger_postings), (select count(*) from ledger_chain),
                (select count(*) from ledger_unsealed)",
    )
    .fetch_one(&mut *db)
    .await?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    report.accounts = count(counts.0);
    report.transactions = count(counts.1);
    report.postings = count(counts.2);
    report.sealed = count(counts.3);
    report.awaiting_seal = count(counts.4);

    // 1. Every transaction balances per currency and has at least two postings.
    let unbalanced: Option<(uuid::Uuid, String, Decimal, i64)> = sqlx::query_as(
        "select t.id, coalesce(p.currency, '-'), coalesce(p.total, 0), coalesce(p.n, 0)
         from ledger_transactions t
         left join (select transaction_id, currency, sum(amount) as total, count(*) as n
                    from ledger_postings group by transaction_id, currency) p
                on p.transaction_id = t.id
         where p.total is null or p.total <> 0
            or (select count(*) from ledger_postings q where q.transaction_id = t.id) < 2
         order by t.created_at, t.id limit 1",
    )
    .fetch_optional(&mut *db)
    .await?;
    if let Some((id, currency, total, n)) = unbalanced {
        report.first_problem =
            Some(format!("transaction {id} does not balance: {n} posting(s) in {currency} sum to {total}"));
        return Ok(report);
    }

    // 2. Rolled-up balances equal the sum of postings, account by account.
    let mismatch: Option<(i64, String, Decimal, Decimal, Decimal, Decimal)> = sqlx::query_as(
        "with p as (select account_id, sum(greatest(amount, 0)) as debits,
                           sum(greatest(-amount, 0)) as credits
                    from ledger_postings group by account_id),
              s as (select account_id, sum(debits) as debits, sum(credits) as credits
                    from ledger_balance_shards group by account_id)
         select a.id, a.code, coalesce(p.debits, 0), coalesce(p.credits, 0),
                coalesce(s.debits, 0), coalesce(s.credits, 0)
         from ledger_accounts a
         left join p on p.account_id = a.id
         left join s on s.account_id = a.id
         where coalesce(p.debits, 0) <> coalesce(s.debits, 0)
            or coalesce(p.credits, 0) <> coalesce(s.credits, 0)
         order by a.id limit 1",
    )
    .fetch_optional(&mut *db)
    .await?;
    if let Some((id, code, pd, pc, sd, sc)) = mismatch {
        report.first_problem = Some(format!(
            "account {id} ({code}): postings give debits {pd} credits {pc}, \
             stored balance says debits {sd} credits {sc}"
        ));
        return Ok(report);
    }

    // 3. No non-negative account is overdrawn.
    let overdrawn: Option<(i64, String, Decimal)> = sqlx::query_as(
        "select id, code, ledger_available(id) from ledger_accounts
         where non_negative and ledger_available(id) < 0 order by id limit 1",
    )
    .fetch_optional(&mut *db)
    .await?;
    if let Some((id, code, available)) = overdrawn {
        report.first_problem =
            Some(format!("account {id} ({code}) is non-negative but has available {available}"));
        return Ok(report);
    }

    // 4. Every transaction is either sealed or queued for sealing.
    let lost: Option<(uuid::Uuid,)> = sqlx::query_as(
        "select t.id from ledger_transactions t
         where not exists (select 1 from ledger_chain c where c.transaction_id = t.id)
           and not exists (select 1 from ledger_unsealed u where u.transaction_id = t.id)
         limit 1",
    )
    .fetch_optional(&mut *db)
    .await?;
    if let Some((id,)) = lost {
        report.first_problem = Some(format!("transaction {id} is neither sealed nor queued for sealing"));
        return Ok(report);
    }

    // 5. Content hashes and chain links, in chain order.
    if let Some(problem) = check_chain(&mut db).await? {
        report.first_problem = Some(problem);
    }
    db.rollback().await?;
    Ok(report)
}

type ChainRow = (i64, uuid::Uuid, Vec<u8>, Vec<u8>, Vec<u8>, Value, Vec<i64>, Vec<String>, Vec<Decimal>);

async fn check_chain(db: &mut sqlx::PgConnection) -> Result<Option<String>, Error> {
    let mut rows = sqlx::query_as::<_, ChainRow>(
        "select c.seq, t.id, c.prev_hash, c.hash, t.content_hash, t.metadata,
                array_agg(p.account_id order by p.account_id),
                array_agg(p.currency::text order by p.account_id),
                array_agg(p.amount order by p.account_id)
         from ledger_chain c
         join ledger_transactions t on t.id = c.transaction_id
         join ledger_postings p on p.transaction_id = t.id
         group by c.seq, t.id
         order by c.seq",
    )
    .fetch(db);
    let mut expected_seq = 1;
    let mut prev = GENESIS;
    while let Some((seq, id, prev_hash, hash, stored_content, metadata, accounts, currencies, amounts)) =
        rows.try_next().await?
    {
        if seq != expected_seq {
            return Ok(Some(format!("chain: expected link {expected_seq}, found {seq}")));
        }
        let postings: Vec<HashedPosting<'_>> = accounts
            .iter()
            .zip(&currencies)
            .zip(&amounts)
            .map(|((account, currency), amount)| HashedPosting {
                account: AccountId::from_i64(*account),
                currency: currency.as_str(),
                amount: *amount,
            })
            .collect();
        let content = transaction_hash(id, &postings, &metadata);
        if stored_content != content {
            return Ok(Some(format!(
                "transaction {id} (chain link {seq}): content does not match its hash \
                 (stored {}, recomputed {})",
                hex::encode(&stored_content),
                hex::encode(content)
            )));
        }
        if to_hash(&prev_hash) != Some(prev) {
            return Ok(Some(format!(
                "chain link {seq} (transaction {id}): previous hash does not match link {}",
                seq - 1
            )));
        }
        if to_hash(&hash) != Some(chain_hash(&prev, &content)) {
            return Ok(Some(format!("chain link {seq} (transaction {id}): hash does not match its content")));
        }
        prev = chain_hash(&prev, &content);
        expected_seq += 1;
    }
    Ok(None)
}
