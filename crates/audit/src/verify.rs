//! `zbor audit verify`: walk the chain in `seq` order and recompute every link.

use sqlx::PgPool;

use crate::content::{entry_hash, Hash, GENESIS};
use crate::{Error, Record};

/// Rows read per query: memory stays bounded however long the log grows.
const PAGE: i64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// `prev_hash` is not the hash of the entry before it: an entry was removed, inserted or
    /// reordered.
    BrokenLink,
    /// The stored hash is not the hash of the entry's content: the entry was changed.
    HashMismatch,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub seq: i64,
    pub kind: ProblemKind,
    /// A sentence naming the entry and what is wrong.
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Entries checked (all of them when the chain is intact).
    pub entries: u64,
    /// The hash of the last entry, hex; record it elsewhere to detect a later rewrite of the tail
    /// (a chain alone cannot show that its newest entries were cut off or recomputed).
    pub head: Option<String>,
    /// The first thing found wrong.
    pub first_problem: Option<Problem>,
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.first_problem.is_none()
    }
}

/// Recomputes the chain from the genesis, page by page, inside one repeatable-read snapshot so
/// that concurrent appends are simply not seen. Stops at the first problem.
pub async fn verify(pool: &PgPool) -> Result<Report, Error> {
    let mut db = zbor_ledger::read_only_snapshot(pool).await?;
    let mut report = Report::default();
    let mut prev: Hash = GENESIS;
    let mut after = 0_i64;
    let mut previous_seq: Option<i64> = None;
    loop {
        let page = sqlx::query_as::<_, Record>(
            "select seq, at, actor, action, subject, details, prev_hash, hash
             from audit_log where seq > $1 order by seq limit $2",
        )
        .bind(after)
        .bind(PAGE)
        .fetch_all(&mut *db)
        .await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for record in &page {
            if let Some(problem) = check(record, &prev, previous_seq) {
                report.first_problem = Some(problem);
                db.rollback().await?;
                return Ok(report);
            }
            prev = entry_hash(&prev, record.at, &record.entry());
            previous_seq = Some(record.seq);
            report.entries += 1;
        }
    }
    db.rollback().await?;
    report.head = previous_seq.map(|_| hex::encode(prev));
    Ok(report)
}

fn check(record: &Record, prev: &Hash, previous_seq: Option<i64>) -> Option<Problem> {
    let seq = record.seq;
    if record.prev_hash.as_slice() != prev.as_slice() {
        let message = match previous_seq {
            Some(p) => format!("audit entry {seq}: previous hash does not match the hash of entry {p}"),
            None => format!("audit entry {seq}: the first entry does not start from the genesis hash"),
        };
        return Some(Problem { seq, kind: ProblemKind::BrokenLink, message });
    }
    let recomputed = entry_hash(prev, record.at, &record.entry());
    if record.hash.as_slice() != recomputed.as_slice() {
        let message = format!(
            "audit entry {seq}: content does not match its hash (stored {}, recomputed {})",
            hex::encode(&record.hash),
            hex::encode(recomputed)
        );
        return Some(Problem { seq, kind: ProblemKind::HashMismatch, message });
    }
    None
}
