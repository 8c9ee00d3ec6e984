//! What the benchmarks in `src/bin` share: a fresh database, a `zbor serve` to measure, a
//! fresh Redis prefix, BullMQ's reference rate, and percentiles of what they measured.
// Floats and casts here measure time and rates, never money.
#![allow(clippy::float_arithmetic, clippy::as_conversions, clippy::cast_precision_loss)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{ensure, Context};
use serde_json::Value;
use sqlx::{Executor, PgPool};
use zbor_testkit::{server_url, with_database};

/// Drops database `name` if an earlier run left it, creates it again and applies the
/// migrations; its URL, and a pool of `connections` on it.
pub async fn fresh_database(name: &str, connections: u32) -> anyhow::Result<(String, PgPool)> {
    let admin = zbor_db::connect(&with_database(&server_url(), "postgres"), 1).await?;
    admin.execute(format!("drop database if exists {name} with (force)").as_str()).await?;
    admin.execute(format!("create database {name}").as_str()).await?;
    admin.close().await;
    let url = with_database(&server_url(), name);
    let pool = zbor_db::connect(&url, connections).await?;
    zbor_db::migrate(&pool).await?;
    Ok((url, pool))
}

/// Drops database `name`, connections to it and all.
pub async fn drop_database(name: &str) -> anyhow::Result<()> {
    let admin = zbor_db::connect(&with_database(&server_url(), "postgres"), 1).await?;
    admin.execute(format!("drop database if exists {name} with (force)").as_str()).await?;
    admin.close().await;
    Ok(())
}

/// `zbor serve` from `ZBOR_BIN` (by default `target/release/zbor`: run the benchmark from the
/// workspace root) on `database_url`, listening on `listen`, its output dropped. Add the rest of
/// its settings with `.env` and start it with [`Server::start`].
pub fn zbor_serve(database_url: &str, listen: &str) -> Command {
    let binary = std::env::var("ZBOR_BIN").unwrap_or_else(|_| "target/release/zbor".into());
    let mut command = Command::new(binary);
    command.arg("serve").env("DATABASE_URL", database_url).env("ZBOR_LISTEN", listen).stdout(Stdio::null());
    command
}

/// A `zbor serve` process, killed when dropped: also when the benchmark stops with an error.
pub struct Server(Child);

impl Server {
    pub fn start(command: &mut Command) -> anyhow::Result<Server> {
        let binary = command.get_program().to_string_lossy().into_owned();
        let child = command
            .spawn()
            .with_context(|| format!("starting {binary} (cargo build --release --bin zbor)"))?;
        Ok(Server(child))
    }

    /// The process id, for what else `/proc/{pid}` tells (the peak memory, `VmHWM`).
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// The server's resident memory now, in KiB (`VmRSS` in `/proc/{pid}/status`).
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .context("no VmRSS in /proc/{pid}/status")
    }
}

/// Raises this process's open-files limit to its hard limit: thousands of SSE clients are
/// thousands of sockets.
pub fn raise_open_files_limit() -> anyhow::Result<u64> {
    Ok(rlimit::increase_nofile_limit(u64::MAX)?)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits, for 10 s at most, until the server at `listen` says it is ready; a server that is
/// not by then fails the benchmark's first request instead.
pub async fn wait_until_ready(client: &reqwest::Client, listen: &str) {
    for _ in 0..100 {
        if client
            .get(format!("http://{listen}/health/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Campaign `slug`'s exact totals, as the server at `listen` gives them to staff (`token`: the
/// admin token; anyone else gets the delayed public snapshot).
pub async fn campaign_totals(
    client: &reqwest::Client,
    listen: &str,
    slug: &str,
    token: &str,
) -> anyhow::Result<Value> {
    let url = format!("http://{listen}/api/v1/campaigns/{slug}/totals");
    Ok(client.get(url).bearer_auth(token).send().await?.json().await?)
}

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// Streams under `prefix`, with every key an earlier run left under it deleted; and the Redis
/// client, for connections of one's own.
pub async fn fresh_streams(prefix: &str) -> anyhow::Result<(redis::Client, zbor_queue::Streams)> {
    let client = redis::Client::open(redis_url())?;
    let redis = redis::aio::ConnectionManager::new(client.clone()).await?;
    let mut conn = redis.clone();
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut conn).await?;
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL").arg(keys).query_async(&mut conn).await?;
    }
    Ok((client, zbor_queue::Streams::new(redis, prefix)))
}

/// The reference: BullMQ's no-op jobs per second on the same Redis, `jobs` of them taken by
/// `workers` workers (`bullmq/bench.mjs`; needs `npm install --no-save --prefix load-tests/bullmq`).
pub fn bullmq_jobs_per_second(jobs: usize, workers: usize) -> anyhow::Result<f64> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bullmq/bench.mjs");
    let output = Command::new("node")
        .args([script, &redis_url(), &jobs.to_string(), &workers.to_string()])
        .output()
        .context("node (npm install --no-save --prefix load-tests/bullmq)")?;
    ensure!(output.status.success(), "bullmq: {}", String::from_utf8_lossy(&output.stderr));
    let line = String::from_utf8_lossy(&output.stdout).lines().last().unwrap_or_default().to_owned();
    let reference: Value = serde_json::from_str(&line)?;
    Ok(reference["per_second"].as_f64().unwrap_or(f64::NAN))
}

/// The `p` percentile (0.0 to 1.0) of `samples`, the nearest sample by rank; NaN when there are
/// none. Sorts `samples`.
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

/// Latencies as the benchmarks' tables print them: `p50 / p99` in milliseconds, one decimal.
pub fn p50_p99_ms(samples: &[Duration]) -> String {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    format!("{:.1} / {:.1}", percentile(&mut ms, 0.5), percentile(&mut ms, 0.99))
}
