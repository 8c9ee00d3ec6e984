//! Prometheus metrics, served on a listener of their own (`ZBOR_METRICS_LISTEN`), never on the
//! public port: what is counted is for the operator, and a scrape must not compete with donors.
//!
//! Counters and histograms are recorded where things happen, through the `metrics` facade
//! (webhook deliveries here in the server, Stripe calls in zbor-stripe, donations booked in the
//! event store after its commit). Gauges that describe the database or Redis are sampled here
//! every few seconds, by every process: a value read from PostgreSQL is the same on every
//! instance, so dashboards and alerts take `max` over instances. Nothing carries an amount per
//! donor, a name or an address: labels are states, results and status classes.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::watch;
use zbor_payouts::jobs::{PAYOUT_STREAM, WORKER_GROUP};
use zbor_queue::Streams;

use crate::app::stopped;
use crate::live::StreamPermits;

/// Buckets of every `*_seconds` histogram: from a fast webhook (5 ms) to a slow Stripe call.
const SECONDS_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
/// How often gauges read from memory, Redis and `select 1` are sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// How often gauges that read tables are sampled (each is one small query).
const SAMPLE_TABLES_EVERY: Duration = Duration::from_secs(15);
/// How long one probe of PostgreSQL or Redis may take before it counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the whole ledger is checked (`zbor ledger verify`'s checks: every transaction
/// balances, the stored balances are the sums, the chain is unbroken), by one `serve` instance.
const VERIFY_EVERY: Duration = Duration::from_secs(3600);
/// How often each instance looks whether the check is due and republishes its latest result.
const VERIFY_LOOK_EVERY: Duration = Duration::from_secs(60);

/// The process's recorder, installed on first use. Tests start many servers in one process:
/// they share it, as threads share one process's counters.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new();
        let builder = builder
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed before: /metrics stays empty");
        }
        describe();
        handle
    })
}

/// The `# HELP` lines: what each series means, for whoever reads the scrape.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!("zbor_webhook_deliveries_total", "Stripe webhook deliveries answered, by result");
    describe_histogram!(
        "zbor_webhook_duration_seconds",
        Unit::Seconds,
        "Time to answer a Stripe webhook delivery"
    );
    describe_counter!(
        "zbor_http_requests_total",
        "HTTP requests answered, by route template (or `unmatched`) and status class"
    );
    describe_counter!(
        "zbor_ledger_transactions_total",
        "Ledger transactions committed (counted when sealed)"
    );
    describe_counter!("zbor_donations_booked_total", "Donations booked (counts, not amounts)");
    describe_counter!("zbor_donations_refunded_total", "Refunds booked (counts, not amounts)");
    describe_histogram!(
        zbor_stripe::events::GROUP_SIZE,
        "Stripe events stored and acted on per database transaction (webhook group commit)"
    );
    describe_counter!(
        zbor_stripe::events::GROUPS_UNDONE,
        "Webhook group commits undone and received one by one (a refused event, a conflict, a deadlock)"
    );
    describe_gauge!("zbor_sse_clients", "Live totals streams open on this process");
    describe_gauge!("zbor_stream_length", "Entries in a Redis stream of the job queue");
    describe_gauge!("zbor_stream_pending", "Entries delivered to a worker and not yet acknowledged");
    describe_gauge!("zbor_stream_lag", "Entries no worker has read yet (the backlog)");
    describe_gauge!("zbor_stream_oldest_pending_seconds", "Idle time of the oldest unacknowledged entry");
    describe_counter!("zbor_payout_reclaims_total", "Payout jobs taken over from a worker that stopped");
    describe_gauge!("zbor_payouts", "Payouts by state");
    describe_gauge!(
        "zbor_payouts_oldest_open_seconds",
        "Age of the oldest payout released and not finished, by state"
    );
    describe_counter!("zbor_payouts_failed_total", "Payouts this process recorded failed");
    describe_counter!("zbor_stripe_requests_total", "Calls to Stripe's API, by answer");
    describe_histogram!(
        "zbor_stripe_limiter_wait_seconds",
        Unit::Seconds,
        "Wait for the Stripe rate limiter"
    );
    describe_gauge!("zbor_db_connections", "PostgreSQL connections of this process's pool, by state");
    describe_gauge!("zbor_db_connections_max", "Largest PostgreSQL pool of this process");
    describe_gauge!(
        "zbor_ledger_unsealed_transactions",
        "Committed ledger transactions not yet in the hash chain"
    );
    describe_gauge!(
        "zbor_ledger_seal_lag_seconds",
        "Age of the oldest ledger transaction not yet in the hash chain"
    );
    describe_counter!("zbor_holds_expired_total", "Ledger holds that passed their expiry");
    describe_counter!("zbor_campaigns_funded_total", "Capped campaigns that reached their goal");
    describe_gauge!("zbor_ledger_verify_ok", "1 when the last check of the whole ledger passed");
    describe_gauge!("zbor_ledger_verify_last_run_timestamp_seconds", "When the ledger was last checked");
    describe_gauge!("zbor_postgres_up", "1 when PostgreSQL answers");
    describe_gauge!("zbor_redis_up", "1 when Redis answers");
    describe_gauge!(
        "zbor_reconciliation_differences",
        "Differences in the latest reconciliation with Stripe"
    );
    describe_gauge!(
        "zbor_reconciliation_last_run_timestamp_seconds",
        "When the latest reconciliation with Stripe ran"
    );
    // Every counter and label value exists from the start at 0: a series that first appears at 1
    // shows no `increase()`, and the first failed payout after a restart would not alert.
    for result in ["ok", "duplicate", "rejected", "error", "unconfigured"] {
        metrics::counter!("zbor_webhook_deliveries_total", "result" => result).increment(0);
    }
    // per route, a series appears with the route's first answer; `unmatched` exists from the start
    for class in ["2xx", "3xx", "4xx", "5xx"] {
        metrics::counter!("zbor_http_requests_total", "route" => crate::http::observe::UNMATCHED, "status_class" => class)
            .increment(0);
    }
    for status in ["2xx", "4xx", "429", "5xx", "network"] {
        metrics::counter!("zbor_stripe_requests_total", "status" => status).increment(0);
    }
    for counter in [
        "zbor_ledger_transactions_total",
        "zbor_donations_booked_total",
        "zbor_donations_refunded_total",
        "zbor_payout_reclaims_total",
        "zbor_payouts_failed_total",
        "zbor_holds_expired_total",
        "zbor_campaigns_funded_total",
        zbor_stripe::events::GROUPS_UNDONE,
    ] {
        metrics::counter!(counter).increment(0);
    }
}

/// A count as a gauge's value: counts here are far below 2^32; a larger one shows as 2^32 - 1.
fn count(n: i64) -> f64 {
    f64::from(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
}

/// `/metrics` (Prometheus' text format) and `/health/live` (for a worker process, which has no
/// other HTTP port) until `shutdown` turns true.
pub async fn serve(listener: TcpListener, shutdown: watch::Receiver<bool>) {
    let handle = handle();
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || async move {
                ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render())
            }),
        )
        .route("/health/live", get(|| async { (StatusCode::OK, "live\n").into_response() }));
    let mut shutdown = shutdown;
    let served =
        axum::serve(listener, app).with_graceful_shutdown(async move { stopped(&mut shutdown).await });
    if let Err(e) = served.await {
        tracing::warn!(error = %e, "the metrics listener stopped");
    }
}

/// Binds `ZBOR_METRICS_LISTEN` and serves it in the background.
pub async fn spawn_listener(
    address: SocketAddr,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<SocketAddr> {
    use anyhow::Context;
    let listener =
        TcpListener::bind(address).await.with_context(|| format!("binding ZBOR_METRICS_LISTEN {address}"))?;
    let bound = listener.local_addr()?;
    tokio::spawn(serve(listener, shutdown));
    tracing::info!(address = %bound, "metrics listening");
    Ok(bound)
}

/// What a process samples: its pool, Redis, and for `serve` its live streams.
pub struct Sampler {
    pub pool: PgPool,
    pub streams: Streams,
    pub sse_permits: Option<Arc<StreamPermits>>,
}

impl Sampler {
    /// Samples until `shutdown` turns true. Also runs the exporter's upkeep (histograms' windows).
    pub fn spawn(self, shutdown: watch::Receiver<bool>) {
        let handle = handle();
        crate::tasks::spawn_named("metrics_sampler", async move {
            let mut shutdown = shutdown;
            let mut tick = tokio::time::interval(SAMPLE_EVERY);
            let mut tables_tick = tokio::time::interval(SAMPLE_TABLES_EVERY);
            loop {
                tokio::select! {
                    () = stopped(&mut shutdown) => return,
                    _ = tick.tick() => {
                        handle.run_upkeep();
                        self.sample_connections().await;
                    }
                    _ = tables_tick.tick() => self.sample_tables().await,
                }
            }
        });
    }

    async fn sample_connections(&self) {
        let size = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX).min(size);
        metrics::gauge!("zbor_db_connections", "state" => "in_use").set(f64::from(size - idle));
        metrics::gauge!("zbor_db_connections", "state" => "idle").set(f64::from(idle));
        metrics::gauge!("zbor_db_connections_max").set(f64::from(self.pool.options().get_max_connections()));
        if let Some(permits) = &self.sse_permits {
            metrics::gauge!("zbor_sse_clients").set(count(i64::try_from(permits.open()).unwrap_or(i64::MAX)));
        }
        let postgres = tokio::time::timeout(PROBE_TIMEOUT, sqlx::query("select 1").execute(&self.pool)).await;
        metrics::gauge!("zbor_postgres_up").set(if matches!(postgres, Ok(Ok(_))) { 1.0 } else { 0.0 });
        let stats =
            tokio::time::timeout(PROBE_TIMEOUT, self.streams.stats(PAYOUT_STREAM, WORKER_GROUP)).await;
        match stats {
            Ok(Ok(stats)) => {
                metrics::gauge!("zbor_redis_up").set(1.0);
                let stream = [("stream", PAYOUT_STREAM)];
                metrics::gauge!("zbor_stream_length", &stream)
                    .set(count(i64::try_from(stats.length).unwrap_or(i64::MAX)));
                metrics::gauge!("zbor_stream_pending", &stream)
                    .set(count(i64::try_from(stats.pending).unwrap_or(i64::MAX)));
                metrics::gauge!("zbor_stream_lag", &stream)
                    .set(count(i64::try_from(stats.lag).unwrap_or(i64::MAX)));
                metrics::gauge!("zbor_stream_oldest_pending_seconds", &stream).set(stats.oldest_pending_idle);
            }
            _ => metrics::gauge!("zbor_redis_up").set(0.0),
        }
    }

    async fn sample_tables(&self) {
        if let Err(e) = self.try_sample_tables().await {
            tracing::debug!(error = %e, "sampling gauges from PostgreSQL failed; will retry");
        }
    }

    async fn try_sample_tables(&self) -> Result<(), sqlx::Error> {
        // every state, so one that empties shows 0 instead of keeping its last value
        let by_state: Vec<(String, i64)> = sqlx::query_as(
            "select s.state::text, count(p.id)
             from unnest(enum_range(null::payout_status)) as s (state)
             left join payouts p on p.status = s.state
             group by s.state",
        )
        .fetch_all(&self.pool)
        .await?;
        for (state, n) in by_state {
            metrics::gauge!("zbor_payouts", "state" => state).set(count(n));
        }
        // released (approved) and not finished: waiting for a worker or a treasurer, or at the
        // rail. By method: SEPA and manual payouts wait for people, Stripe Connect for nobody.
        let oldest: Vec<(String, String, i64)> = sqlx::query_as(
            "select p.status::text, b.method, extract(epoch from now() - min(pb.approved_at))::bigint
             from payouts p
             join payout_batches pb on pb.id = p.batch_id
             join beneficiaries b on b.id = p.beneficiary_id
             where p.status in ('approved', 'sending')
             group by 1, 2",
        )
        .fetch_all(&self.pool)
        .await?;
        for state in ["approved", "sending"] {
            for method in ["stripe_connect", "sepa", "manual"] {
                let age = oldest.iter().find(|(s, m, _)| s == state && m == method).map_or(0, |o| o.2);
                metrics::gauge!("zbor_payouts_oldest_open_seconds", "state" => state, "method" => method)
                    .set(count(age));
            }
        }
        let (unsealed, lag): (i64, Option<i64>) = sqlx::query_as(
            "select (select count(*) from ledger_unsealed),
                    (select extract(epoch from now() - t.created_at)::bigint
                     from ledger_unsealed u join ledger_transactions t on t.id = u.transaction_id
                     order by u.queued_seq limit 1)",
        )
        .fetch_one(&self.pool)
        .await?;
        metrics::gauge!("zbor_ledger_unsealed_transactions").set(count(unsealed));
        metrics::gauge!("zbor_ledger_seal_lag_seconds").set(count(lag.unwrap_or(0)));
        let latest: Option<(i32, i64)> = sqlx::query_as(
            "select differences, extract(epoch from ran_at)::bigint from reconciliation_runs
             where source = 'stripe' and trigger in ('daily', 'api', 'cli') order by ran_at desc limit 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        if let Some((differences, ran_at)) = latest {
            metrics::gauge!("zbor_reconciliation_differences").set(f64::from(differences));
            metrics::gauge!("zbor_reconciliation_last_run_timestamp_seconds").set(count(ran_at));
        }
        Ok(())
    }
}

/// Checks the whole ledger once an hour across all instances and publishes the result
/// (`zbor_ledger_verify_ok`) on every one, so an alert fires when something wrote around
/// zbor-ledger. The check reads every transaction: one instance an hour takes the turn (a Redis
/// key set if absent, expiring after the hour), so neither more instances nor a rolling restart
/// repeat it; each instance republishes the latest result from Redis.
pub fn spawn_ledger_verify(
    pool: PgPool,
    redis: redis::aio::ConnectionManager,
    prefix: &str,
    shutdown: watch::Receiver<bool>,
) {
    let turn_key = format!("{prefix}ledger-verify:turn");
    let result_key = format!("{prefix}ledger-verify:result");
    crate::tasks::spawn_named("ledger_verify", async move {
        let mut shutdown = shutdown;
        let mut tick = tokio::time::interval(VERIFY_LOOK_EVERY);
        loop {
            tokio::select! {
                () = stopped(&mut shutdown) => return,
                _ = tick.tick() => {
                    let mut redis = redis.clone();
                    let turn: redis::RedisResult<Option<String>> = redis::cmd("SET")
                        .arg(&turn_key).arg(1).arg("NX").arg("EX").arg(VERIFY_EVERY.as_secs())
                        .query_async(&mut redis)
                        .await;
                    if matches!(turn, Ok(Some(_))) {
                        if let Some(result) = verify_ledger(&pool).await {
                            let stored: redis::RedisResult<()> = redis::cmd("SET")
                                .arg(&result_key).arg(result).arg("EX").arg(3 * VERIFY_EVERY.as_secs())
                                .query_async(&mut redis)
                                .await;
                            if let Err(e) = stored {
                                tracing::warn!(error = %e, "the ledger check's result not stored in Redis");
                            }
                        }
                    }
                    let latest: redis::RedisResult<Option<String>> =
                        redis::cmd("GET").arg(&result_key).query_async(&mut redis).await;
                    if let Ok(Some(latest)) = latest {
                        publish_verify(&latest);
                    }
                }
            }
        }
    });
}

/// Runs the check: `"{1|0} {unix seconds}"`, or none when it could not run.
async fn verify_ledger(pool: &PgPool) -> Option<String> {
    let started = Instant::now();
    match zbor_ledger::verify(pool).await {
        Ok(report) => {
            match &report.first_problem {
                Some(problem) => tracing::error!(problem, "the ledger does not verify"),
                None => tracing::info!(
                    transactions = report.transactions,
                    seconds = started.elapsed().as_secs(),
                    "ledger verified"
                ),
            }
            Some(format!("{} {}", u8::from(report.is_ok()), chrono::Utc::now().timestamp()))
        }
        Err(e) => {
            tracing::warn!(error = %e, "checking the ledger failed; the next hour's turn retries");
            None
        }
    }
}

fn publish_verify(latest: &str) {
    let Some((ok, at)) = latest.split_once(' ') else { return };
    let Ok(at) = at.parse::<i64>() else { return };
    metrics::gauge!("zbor_ledger_verify_ok").set(if ok == "1" { 1.0 } else { 0.0 });
    metrics::gauge!("zbor_ledger_verify_last_run_timestamp_seconds").set(count(at));
}
