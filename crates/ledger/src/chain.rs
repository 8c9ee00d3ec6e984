//! Sealing: appends committed transactions to the hash chain, in the order the sealer sees them.

use sqlx::PgPool;

use crate::content::{chain_hash, to_hash, GENESIS};
use crate::Error;

/// How many transactions one sealing round takes: a bound on the work of one database transaction.
pub const SEAL_BATCH_MAX: i64 = 5_000;

/// Arbitrary but fixed: the advisory lock that makes one sealer at a time across all processes.
const SEALER_LOCK: i64 = 0x7a62_6f72_5345_414c; // "zborSEAL"

/// Seals up to `SEAL_BATCH_MAX` queued transactions. Returns how many were sealed; 0 when there was
/// nothing to do or another process holds the sealer lock.
pub async fn seal(pool: &PgPool) -> Result<u64, Error> {
    let mut tx = pool.begin().await?;
    let locked: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1)")
        .bind(SEALER_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !locked {
        return Ok(0);
    }
    let head: Option<(i64, Vec<u8>)> =
        sqlx::query_as("select seq, hash from ledger_chain order by seq desc limit 1")
            .fetch_optional(&mut *tx)
            .await?;
    let (mut seq, mut prev) = match head {
        Some((seq, hash)) => (seq, to_hash(&hash).unwrap_or(GENESIS)),
        None => (0, GENESIS),
    };
    let queued: Vec<(uuid::Uuid, Vec<u8>)> = sqlx::query_as(
        "delete from ledger_unsealed u
         using ledger_transactions t
         where u.transaction_id = t.id
           and u.transaction_id in (select transaction_id from ledger_unsealed order by queued_seq limit $1)
         returning t.id, t.content_hash",
    )
    .bind(SEAL_BATCH_MAX)
    .fetch_all(&mut *tx)
    .await?;
    if queued.is_empty() {
        return Ok(0);
    }
    // `delete ... returning` gives no order guarantee; any fixed order is a valid chain order.
    let mut queued = queued;
    queued.sort();
    let mut seqs = Vec::with_capacity(queued.len());
    let mut ids = Vec::with_capacity(queued.len());
    let mut prevs = Vec::with_capacity(queued.len());
    let mut hashes = Vec::with_capacity(queued.len());
    for (id, content) in &queued {
        let content = to_hash(content).unwrap_or(GENESIS);
        let hash = chain_hash(&prev, &content);
        seq += 1;
        seqs.push(seq);
        ids.push(*id);
        prevs.push(prev.to_vec());
        hashes.push(hash.to_vec());
        prev = hash;
    }
    sqlx::query(
        "insert into ledger_chain (seq, transaction_id, prev_hash, hash)
         select * from unnest($1::bigint[], $2::uuid[], $3::bytea[], $4::bytea[])",
    )
    .bind(&seqs)
    .bind(&ids)
    .bind(&prevs)
    .bind(&hashes)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(u64::try_from(queued.len()).unwrap_or(u64::MAX))
}

/// Seals until the queue is empty.
pub async fn seal_all(pool: &PgPool) -> Result<u64, Error> {
    let mut total = 0;
    loop {
        let sealed = seal(pool).await?;
        if sealed == 0 {
            return Ok(total);
        }
        total += sealed;
    }
}
