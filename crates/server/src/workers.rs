//! `zbor worker`: the outbox relay, the payout sweeper, and payout workers on the Redis Stream.
//! Every part is safe to run in many processes at once: the relay locks rows with SKIP LOCKED,
//! workers share one consumer group and reclaim each other's stalled jobs, and paying a payout
//! is idempotent (see `zbor_payouts::worker`).

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;
use zbor_payouts::jobs::{PayoutJob, PAYOUT_STREAM, READ_BLOCK, RECLAIM_AFTER, SWEEP_EVERY, WORKER_GROUP};
use zbor_queue::{Consumer, Streams};
use zbor_stripe::Stripe;
use zbor_vault::DataKey;

use crate::tasks::spawn_named;

const RELAY_INTERVAL: Duration = Duration::from_millis(200);
/// Outbox rows one relay transaction publishes.
const RELAY_BATCH: i64 = 500;
/// Relay transactions one tick runs at most while each finds a full batch: a bound, so a tick
/// ends (and shutdown is seen) even if the outbox keeps filling.
const RELAY_BATCHES_PER_TICK: usize = 20;
/// Payouts one worker reads, claims, pays and records at once at most: one claim transaction and
/// one recording transaction for all of them, their Stripe calls side by side.
pub const JOBS_AT_ONCE: usize = 64;

/// Payouts one of `workers` workers sharing `stripe` reads at a time: [`JOBS_AT_ONCE`], or fewer
/// when the rail is slower than that: about one second of its transfers, shared by the workers.
/// A read is recorded when its last call is answered, so a read of minutes at a slow rail would
/// hold the others up, and calls queued past the limiter's wait (5 s) would give up (`Busy`).
pub fn jobs_per_read(stripe: Option<&Stripe>, workers: usize) -> usize {
    let per_second = stripe
        .map_or(JOBS_AT_ONCE, |stripe| usize::try_from(stripe.requests_per_second()).unwrap_or(JOBS_AT_ONCE));
    (per_second / workers.max(1)).clamp(1, JOBS_AT_ONCE)
}
/// PostgreSQL connections one worker uses at most: one for its claim or its recording, one for
/// refreshing its claims while Stripe answers.
pub const CONNECTIONS_PER_WORKER: usize = 2;

pub struct Workers {
    pub pool: PgPool,
    pub streams: Streams,
    /// Each worker opens its own connection from this (see `Streams::dedicated`).
    pub redis: redis::Client,
    pub data_key: DataKey,
    /// None: Stripe Connect payouts wait until a key is configured.
    pub stripe: Option<Stripe>,
    pub count: usize,
}

/// Runs the relay, the sweeper and `count` workers until `shutdown` turns true.
pub async fn run(workers: Workers, shutdown: watch::Receiver<bool>) {
    let mut tasks = vec![
        spawn_named("outbox_relay", relay(workers.pool.clone(), workers.streams.clone(), shutdown.clone())),
        spawn_named("payout_sweeper", sweep(workers.pool.clone(), workers.streams.clone(), shutdown.clone())),
    ];
    let prefix = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let per_read = jobs_per_read(workers.stripe.as_ref(), workers.count);
    let workers = std::sync::Arc::new(workers);
    for n in 0..workers.count {
        tasks.push(spawn_named(
            "payout_worker",
            work(workers.clone(), per_read, format!("{prefix}-{n}"), shutdown.clone()),
        ));
    }
    for task in tasks {
        task.await.ok();
    }
}

async fn relay(pool: PgPool, streams: Streams, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(RELAY_INTERVAL);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                // a released batch is published at once, not RELAY_BATCH per tick (that capped a
                // relay at 2,500 jobs/s, under what the workers pay)
                for _ in 0..RELAY_BATCHES_PER_TICK {
                    match zbor_queue::relay(&pool, &streams, RELAY_BATCH).await {
                        Ok(published) if published == usize::try_from(RELAY_BATCH).unwrap_or(0) => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "outbox relay failed; will retry");
                            break;
                        }
                    }
                }
            }
        }
    }
}

/// PostgreSQL is the system of record: payouts due but not finished are published again (after
/// a Redis flush or restart, after a retry delay, after a worker died mid-way). The policy is
/// `zbor_payouts::jobs`'.
async fn sweep(pool: PgPool, streams: Streams, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                if let Err(e) = zbor_payouts::jobs::sweep(&pool, &streams).await {
                    tracing::warn!(error = %e, "payout sweep failed; will retry");
                }
            }
        }
    }
}

/// One worker: named `name` in the consumer group, reading `per_read` jobs at a time.
async fn work(
    workers: std::sync::Arc<Workers>,
    per_read: usize,
    name: String,
    shutdown: watch::Receiver<bool>,
) {
    let Workers { pool, streams, redis, data_key: key, stripe, .. } = &*workers;
    let consumer = loop {
        let joined = match streams.dedicated(redis).await {
            Ok(own) => Consumer::join(&own, PAYOUT_STREAM, WORKER_GROUP, &name, RECLAIM_AFTER).await,
            Err(e) => Err(e),
        };
        match joined {
            Ok(consumer) => break consumer,
            Err(e) => {
                tracing::warn!(error = %e, "joining the payout stream failed; will retry");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    while !*shutdown.borrow() {
        // short blocks: a dead worker's jobs are looked for again soon (jobs::READ_BLOCK), and the
        // connection's response timeout must not fire while Redis waits
        let jobs = match consumer.next(per_read, READ_BLOCK).await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(error = %e, "reading the payout stream failed; will retry");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if jobs.is_empty() {
            continue;
        }
        let reclaimed = jobs.iter().filter(|job| job.reclaimed).count();
        if reclaimed > 0 {
            metrics::counter!("zbor_payout_reclaims_total").increment(u64::try_from(reclaimed).unwrap_or(0));
        }
        // not a payout job: nothing to do, off the stream
        let (payout_jobs, others): (Vec<_>, Vec<_>) =
            jobs.iter().partition(|job| PayoutJob::from_payload(&job.payload).is_some());
        let mut done: Vec<String> = others.iter().map(|job| job.entry.clone()).collect();
        let payouts: Vec<_> = payout_jobs
            .iter()
            .filter_map(|job| PayoutJob::from_payload(&job.payload))
            .map(|job| job.payout)
            .collect();
        let entries: Vec<String> = payout_jobs.iter().map(|job| job.entry.clone()).collect();
        let paying = zbor_payouts::worker::pay_all(pool, key, stripe.as_ref(), &payouts);
        match while_refreshing_entries(&consumer, &entries, paying).await {
            Ok(steps) => {
                for ((job, payout), step) in payout_jobs.iter().zip(&payouts).zip(steps) {
                    match step {
                        // done, paused, or recorded in PostgreSQL for a later attempt: off the stream
                        Ok(step) => {
                            if matches!(step, zbor_payouts::worker::Step::Failed { .. }) {
                                metrics::counter!("zbor_payouts_failed_total").increment(1);
                            }
                            tracing::debug!(payout = payout.as_i64(), ?step, "payout step");
                            done.push(job.entry.clone());
                        }
                        // not acknowledged: another worker reclaims it, or the sweeper publishes it again
                        Err(e) => tracing::warn!(payout = payout.as_i64(), error = %e, "payout step failed"),
                    }
                }
            }
            // nothing claimed: every job stays pending, to be reclaimed
            Err(e) => tracing::warn!(payouts = payouts.len(), error = %e, "payout steps failed"),
        }
        if !done.is_empty() {
            if let Err(e) = consumer.ack(&done).await {
                tracing::warn!(error = %e, "acknowledging payout jobs failed; they will be redelivered");
            }
        }
    }
}

/// Runs `work` (paying the jobs of `entries`) while telling the group that this worker still
/// works on them: no other worker reclaims the jobs of a live worker, however long Stripe takes.
async fn while_refreshing_entries<T>(
    consumer: &Consumer,
    entries: &[String],
    work: impl std::future::Future<Output = T>,
) -> T {
    zbor_payouts::jobs::while_refreshing(work, || async {
        match consumer.refresh(entries).await {
            Ok(held) if held < entries.len() => tracing::warn!(
                lost = entries.len() - held,
                "another worker reclaimed payout jobs this worker is still on"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "refreshing payout jobs failed; will retry"),
        }
    })
    .await
}
