//! zbor's job queue (PostgreSQL outbox → Redis Stream → consumer-group workers) against BullMQ on
//! the same Redis, in one run: 10,000 jobs, 4 workers.
//!
//! zbor's workers acknowledge a job only after a PostgreSQL commit recorded it done (the handler
//! is an idempotent insert keyed by the job, as a payout's state change is); BullMQ's jobs are
//! no-ops. Then again with a worker killed every 2 s: jobs lost, jobs delivered again, and
//! how long the killed worker's jobs waited until another worker finished them.
//!
//! Needs `npm install --no-save --prefix load-tests/bullmq` for the reference.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark that cannot set up should stop
// Floats and casts here measure time and rates, never money.
#![allow(clippy::float_arithmetic, clippy::as_conversions, clippy::cast_precision_loss)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::ensure;
use serde_json::json;
use sqlx::{Executor, PgPool};
use tokio::sync::Mutex;
use zbor_load_tests::{bullmq_jobs_per_second, fresh_database, fresh_streams, percentile};
use zbor_queue::{enqueue_in, relay, Consumer, Streams};

const JOBS: usize = 10_000;
/// The run with kills lasts long enough for several of them.
const JOBS_WITH_KILLS: usize = 40_000;
const WORKERS: usize = 4;
const BATCH: usize = 50;
const RECLAIM_AFTER: Duration = Duration::from_secs(2);

/// A fresh database with the table the workers record jobs done in.
async fn queue_database(name: &str) -> anyhow::Result<PgPool> {
    let (_, pool) = fresh_database(name, 16).await?;
    pool.execute("create table done (job_key text primary key, deliveries int not null default 1, at timestamptz not null default clock_timestamp())")
        .await?;
    Ok(pool)
}

async fn enqueue_all(pool: &PgPool, streams: &Streams, jobs: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for chunk in (0..jobs).collect::<Vec<_>>().chunks(1_000) {
        let mut tx = pool.begin().await?;
        for n in chunk {
            enqueue_in(&mut tx, "bench", &format!("job:{n}"), &json!({ "n": n })).await?;
        }
        tx.commit().await?;
    }
    while relay(pool, streams, 2_000).await? > 0 {}
    Ok(started.elapsed())
}

async fn done_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from done").fetch_one(pool).await.unwrap_or(0)
}

/// One worker: take a batch, record every job done in one commit, then acknowledge the batch.
async fn worker(
    pool: PgPool,
    streams: Streams,
    name: String,
    (total, batch): (usize, usize),
    reclaimed_at: Arc<Mutex<Vec<Instant>>>,
) {
    let consumer = Consumer::join(&streams, "bench", "workers", &name, RECLAIM_AFTER).await.unwrap();
    loop {
        let jobs = consumer.next(batch, Duration::from_millis(50)).await.unwrap();
        if jobs.is_empty() {
            if done_count(&pool).await >= total as i64 {
                return;
            }
            continue;
        }
        let keys: Vec<String> = jobs.iter().map(|j| j.key.clone()).collect();
        sqlx::query(
            "insert into done (job_key) select unnest($1::text[])
             on conflict (job_key) do update set deliveries = done.deliveries + 1",
        )
        .bind(&keys)
        .execute(&pool)
        .await
        .unwrap();
        if jobs.iter().any(|j| j.reclaimed) {
            reclaimed_at.lock().await.extend(jobs.iter().filter(|j| j.reclaimed).map(|_| Instant::now()));
        }
        consumer.ack(&jobs.iter().map(|j| j.entry.clone()).collect::<Vec<_>>()).await.unwrap();
    }
}

struct Run {
    seconds: f64,
    lost: i64,
    doubled: i64,
    kills: usize,
    reclaim_waits_ms: Vec<f64>,
}

async fn run(
    pool: &PgPool,
    streams: &Streams,
    work: (usize, usize),
    kill_every: Option<Duration>,
) -> anyhow::Result<Run> {
    let (total, _) = work;
    let reclaimed_at = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let mut handles: Vec<tokio::task::JoinHandle<()>> = (0..WORKERS)
        .map(|w| {
            tokio::spawn(worker(pool.clone(), streams.clone(), format!("w{w}"), work, reclaimed_at.clone()))
        })
        .collect();
    let mut kills = Vec::new();
    let mut next_name = WORKERS;
    let deadline = Instant::now() + Duration::from_secs(300);
    while done_count(pool).await < total as i64 && Instant::now() < deadline {
        match kill_every {
            Some(every) => {
                tokio::time::sleep(every).await;
                // kill a worker mid-work (whatever it holds stays pending) and start a fresh one
                let victim = kills.len() % WORKERS;
                handles[victim].abort();
                kills.push(Instant::now());
                handles[victim] = tokio::spawn(worker(
                    pool.clone(),
                    streams.clone(),
                    format!("w{next_name}"),
                    work,
                    reclaimed_at.clone(),
                ));
                next_name += 1;
            }
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    for handle in &handles {
        handle.abort();
    }
    let lost = total as i64 - done_count(pool).await;
    let doubled: i64 =
        sqlx::query_scalar("select count(*) from done where deliveries > 1").fetch_one(pool).await?;
    // how long a killed worker's jobs waited: from the kill before each reclaim to the reclaim
    let mut reclaim_waits_ms = Vec::new();
    for at in reclaimed_at.lock().await.iter() {
        if let Some(kill) = kills.iter().rev().find(|k| *k <= at) {
            reclaim_waits_ms.push(at.duration_since(*kill).as_secs_f64() * 1000.0);
        }
    }
    Ok(Run { seconds, lost, doubled, kills: kills.len(), reclaim_waits_ms })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let bullmq_per_second = bullmq_jobs_per_second(JOBS, WORKERS)?;

    let mut rows = Vec::new();
    let mut steady = Vec::new();
    for (name, batch) in [("batches", BATCH), ("single", 1)] {
        let pool = queue_database(&format!("zbor_bench_queue_{name}")).await?;
        let (_, streams) = fresh_streams(&format!("zbor-bench-queue-{name}:")).await?;
        let enqueued_in = enqueue_all(&pool, &streams, JOBS).await?;
        let result = run(&pool, &streams, (JOBS, batch), None).await?;
        ensure!(
            result.lost == 0 && result.doubled == 0,
            "lost {} / redelivered {} without failures",
            result.lost,
            result.doubled
        );
        steady.push((batch, JOBS as f64 / result.seconds, enqueued_in));
    }
    let pool = queue_database("zbor_bench_queue_kills").await?;
    let (_, streams_k) = fresh_streams("zbor-bench-queue-kills:").await?;
    enqueue_all(&pool, &streams_k, JOBS_WITH_KILLS).await?;
    let mut killed = run(&pool, &streams_k, (JOBS_WITH_KILLS, 1), Some(Duration::from_secs(2))).await?;

    rows.push(format!("| jobs / workers | {JOBS} / {WORKERS} |"));
    rows.push(format!(
        "| zbor: outbox write + relay into the stream, s | {:.2} |",
        steady[0].2.as_secs_f64()
    ));
    for (batch, per_second, _) in &steady {
        rows.push(format!(
            "| zbor: jobs/s, taken {batch} at a time, acknowledged after the PostgreSQL commit recording them | {per_second:.0} (×{:.2} BullMQ) |",
            per_second / bullmq_per_second
        ));
    }
    rows.push(format!("| BullMQ 5.81.5: no-op jobs/s, concurrency 1 per worker | {bullmq_per_second:.0} |"));
    rows.push(format!(
        "| {JOBS_WITH_KILLS} jobs, one at a time, a worker killed every 2 s: kills / jobs/s | {} / {:.0} |",
        killed.kills,
        JOBS_WITH_KILLS as f64 / killed.seconds
    ));
    rows.push(format!(
        "| with kills: jobs lost / delivered again after a kill (one effect each: idempotent by key) | {} / {} |",
        killed.lost, killed.doubled
    ));
    rows.push(format!(
        "| with kills: a killed worker's jobs finished after p50 / p99 ms ({} jobs; reclaimed after {} s idle) | {:.0} / {:.0} |",
        killed.reclaim_waits_ms.len(),
        RECLAIM_AFTER.as_secs(),
        percentile(&mut killed.reclaim_waits_ms, 0.5),
        percentile(&mut killed.reclaim_waits_ms, 0.99)
    ));
    println!("| measure | value |");
    println!("|---|---:|");
    for row in rows {
        println!("{row}");
    }
    Ok(())
}
