//! How payouts paid by workers reach them: the job, the stream it travels on, and the sweep
//! policy that makes PostgreSQL, not Redis, the record of what is still to pay.
//!
//! A job is queued in the outbox in the transaction that releases (or retries) its payout, the
//! relay publishes it, and a worker in the consumer group pays it. Redis may lose jobs and a
//! worker may die: the sweeper publishes again whatever PostgreSQL says is due. The times below
//! are one policy; their order is what makes it safe (checked by a test).

use std::time::Duration;

use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use zbor_queue::Streams;

use crate::{Error, PayoutId};

/// The stream payout jobs go to.
pub const PAYOUT_STREAM: &str = "payouts";
/// The consumer group every payout worker joins.
pub const WORKER_GROUP: &str = "payout-workers";

/// While a worker works on payouts it refreshes its claim this often: their `next_attempt_at`
/// in PostgreSQL (the claim [`TAKEOVER_AFTER`] reads) and the idle time of their stream entries
/// in Redis (what [`RECLAIM_AFTER`] reads). A Stripe call may take far longer than either time
/// (5 attempts of up to 20 s each, with backoff, after up to 5 s in the rail's queue): the
/// refresh, not the length of these times, is what keeps a slow but live worker's payouts its
/// own. Only a worker that stopped (killed, or hung) stops refreshing.
pub const CLAIM_REFRESH_EVERY: Duration = Duration::from_millis(250);
/// A `sending` payout whose claim was not refreshed this long may be taken over by another
/// worker: its first worker died or hangs. Both calling Stripe is safe (one idempotency key, one
/// transfer, one recording). Several refreshes long, so a live worker's claim never gets this old.
pub const TAKEOVER_AFTER: Duration = Duration::from_secs(1);
/// A worker's job unacknowledged and not refreshed this long is reclaimed by another worker.
/// Longer than [`TAKEOVER_AFTER`] by two refreshes, so the reclaiming worker finds the payout
/// ready to take over: the dead worker refreshed its claim in PostgreSQL at most one refresh
/// after it last refreshed its entries in Redis.
pub const RECLAIM_AFTER: Duration = Duration::from_millis(1500);
/// How long a worker waits for new jobs before it looks again for jobs to reclaim: a dead
/// worker's jobs wait at most about [`RECLAIM_AFTER`] plus this.
pub const READ_BLOCK: Duration = Duration::from_millis(100);
/// A released payout still unpaid this long is published again (Redis lost its job).
pub const REPUBLISH_AFTER: Duration = Duration::from_secs(15);
/// A payout `sending` this long is published again (its worker died and its job was lost too).
pub const STUCK_SENDING_AFTER: Duration = Duration::from_secs(30);
/// How often the sweeper looks.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// Most payouts one sweep publishes.
const SWEEP_BATCH: i64 = 500;

/// Pay payout `payout` (see `worker::pay`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayoutJob {
    pub payout: PayoutId,
}

impl PayoutJob {
    /// The job's key in the outbox: one job per payout's release.
    pub fn key(&self) -> String {
        format!("payout:{}", self.payout)
    }

    /// A retry's key: new each time, as the first job may still be in the outbox's history.
    fn retry_key(&self) -> String {
        format!("payout:{}:retry:{}", self.payout, uuid::Uuid::new_v4().simple())
    }

    pub fn payload(&self) -> Value {
        json!({ "payout": self.payout })
    }

    /// A job read from the stream; `None` for anything that is not a payout job.
    pub fn from_payload(payload: &Value) -> Option<PayoutJob> {
        payload["payout"].as_i64().map(|payout| PayoutJob { payout: PayoutId::from_i64(payout) })
    }

    /// Queues the job in the caller's transaction (it is published only if that commits).
    pub async fn enqueue_in(&self, db: &mut PgConnection) -> Result<(), Error> {
        zbor_queue::enqueue_in(db, PAYOUT_STREAM, &self.key(), &self.payload()).await?;
        Ok(())
    }

    /// [`PayoutJob::enqueue_in`] for many jobs with one statement (a batch's release).
    pub async fn enqueue_all_in(db: &mut PgConnection, jobs: &[PayoutJob]) -> Result<(), Error> {
        let rows: Vec<(String, Value)> = jobs.iter().map(|job| (job.key(), job.payload())).collect();
        zbor_queue::enqueue_all_in(db, PAYOUT_STREAM, &rows).await?;
        Ok(())
    }

    /// [`PayoutJob::enqueue_in`] for a payout a treasurer retries.
    pub async fn enqueue_retry_in(&self, db: &mut PgConnection) -> Result<(), Error> {
        zbor_queue::enqueue_in(db, PAYOUT_STREAM, &self.retry_key(), &self.payload()).await?;
        Ok(())
    }
}

/// `interval` as milliseconds, for SQL (`$n * interval '1 millisecond'`).
pub(crate) fn millis(interval: Duration) -> i64 {
    i64::try_from(interval.as_millis()).unwrap_or(i64::MAX)
}

/// Payouts paid by workers that the sweeper publishes again: approved and due (a retry's delay
/// is over, or still unpaid [`REPUBLISH_AFTER`] after release: Redis lost it), or stuck
/// `sending` for [`STUCK_SENDING_AFTER`]. None while paused.
pub async fn due(pool: &PgPool, limit: i64) -> Result<Vec<PayoutId>, Error> {
    due_where(pool, limit, true).await
}

/// [`due`] without the payouts never tried yet: what the sweeper publishes while the stream
/// still has a backlog (they are in it, waiting for a worker; publishing them again would only
/// make work).
pub async fn due_retries(pool: &PgPool, limit: i64) -> Result<Vec<PayoutId>, Error> {
    due_where(pool, limit, false).await
}

async fn due_where(pool: &PgPool, limit: i64, untried_too: bool) -> Result<Vec<PayoutId>, Error> {
    if crate::switch::is_paused(pool).await? {
        return Ok(Vec::new());
    }
    let worker_methods: Vec<&str> = crate::rails::delivered_by_workers().map(|kind| kind.as_str()).collect();
    Ok(sqlx::query_scalar(
        "select id from payouts
         where ((status = 'approved' and next_attempt_at <= now() and ($2 or attempts > 0))
                or (status = 'sending' and next_attempt_at <= now() - $3 * interval '1 millisecond'))
           and exists (select 1 from beneficiaries b where b.id = beneficiary_id and b.method = any($4))
         order by next_attempt_at limit $1",
    )
    .bind(limit)
    .bind(untried_too)
    .bind(millis(STUCK_SENDING_AFTER))
    .bind(worker_methods)
    .fetch_all(pool)
    .await?)
}

/// One sweep: publishes what is due. While the stream has a backlog it holds the payouts not
/// tried yet, so only retries are published; when it is empty (or Redis lost the stream), all.
/// Returns how many payouts it published.
pub async fn sweep(pool: &PgPool, streams: &Streams) -> Result<usize, Error> {
    let backlog = streams.backlog(PAYOUT_STREAM, WORKER_GROUP).await.unwrap_or(None);
    let due = if backlog.is_some_and(|b| b > 0) {
        due_retries(pool, SWEEP_BATCH).await?
    } else {
        due(pool, SWEEP_BATCH).await?
    };
    let jobs: Vec<(String, Value)> =
        due.iter().map(|&payout| PayoutJob { payout }).map(|job| (job.key(), job.payload())).collect();
    zbor_queue::publish(streams, PAYOUT_STREAM, &jobs).await?;
    Ok(jobs.len())
}

/// Runs `work` while calling `refresh` every [`CLAIM_REFRESH_EVERY`] (the first after one
/// period): how a live worker keeps its claims fresh, however long the rail takes. `refresh`
/// reports its own failures; the next period tries again.
pub async fn while_refreshing<T, R>(
    work: impl std::future::Future<Output = T>,
    mut refresh: impl FnMut() -> R,
) -> T
where
    R: std::future::Future<Output = ()>,
{
    let refreshing = async {
        let start = tokio::time::Instant::now() + CLAIM_REFRESH_EVERY;
        let mut every = tokio::time::interval_at(start, CLAIM_REFRESH_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            refresh().await;
        }
    };
    tokio::pin!(work);
    tokio::select! {
        done = &mut work => done,
        // never: the refresh loop does not end
        () = refreshing => work.await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_policy_hands_work_over_in_a_safe_order() {
        // a live worker refreshes its claim several times before it could be taken over ...
        assert!(TAKEOVER_AFTER >= CLAIM_REFRESH_EVERY * 4);
        // ... and its entries long before they could be reclaimed; a reclaimed job finds its
        // payout ready to take over (the claim is at most one refresh younger than the entry) ...
        assert!(RECLAIM_AFTER >= TAKEOVER_AFTER + CLAIM_REFRESH_EVERY * 2);
        // ... and a dead worker's jobs are paid by another within about 2 s
        assert!(RECLAIM_AFTER + READ_BLOCK <= Duration::from_secs(2));
        // ... and a stuck payout is republished only after a reclaim had its chance
        assert!(STUCK_SENDING_AFTER > RECLAIM_AFTER + SWEEP_EVERY);
        assert!(REPUBLISH_AFTER > RECLAIM_AFTER);
    }

    #[test]
    fn jobs_round_trip_and_retries_get_new_keys() {
        let job = PayoutJob { payout: PayoutId::from_i64(42) };
        assert_eq!(job.key(), "payout:42");
        assert_eq!(PayoutJob::from_payload(&job.payload()), Some(job));
        assert_eq!(PayoutJob::from_payload(&json!({ "other": 1 })), None);
        assert_ne!(job.retry_key(), job.retry_key());
        assert!(job.retry_key().starts_with("payout:42:retry:"));
    }
}
