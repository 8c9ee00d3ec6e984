//! Payouts end to end against BullMQ on the same Redis, in one run: 10,000 approved payouts of
//! EUR 1.00 from the approval (holds, payouts and outbox rows in one transaction per batch)
//! through the outbox relay, the Redis Stream, 4 consumer-group workers, the simulated Stripe
//! Connect rail and the ledger, until every payout is `paid` in PostgreSQL. Every
//! acknowledgement waits for the PostgreSQL commit recording the payout paid.
//!
//! 1. `zbor_server::workers::run` with 4 workers in this process.
//! 2. 4 `zbor worker` processes (target/release/zbor, ZBOR_WORKERS=1), one SIGKILLed every 2 s
//!    and started again: payouts lost, payouts paid twice, and how long the payouts a killed
//!    worker held waited until another worker claimed them again and paid them.
//! 3. The same with the simulated Stripe answering every call 250 ms late: at no latency a kill
//!    seldom catches a worker with payouts in flight; here most kills do.
//!
//! The reference is BullMQ (npm) on the same Redis with 10,000 no-op jobs and 4 workers, run
//! before and after zbor's runs. Needs `npm install --no-save --prefix load-tests/bullmq` and
//! `cargo build --release --bin zbor` (or `ZBOR_BIN`).
#![allow(clippy::unwrap_used, clippy::expect_used)]
// a benchmark that cannot set up should stop
// Floats and casts here measure time, rates and CPU shares, never money.
#![allow(clippy::float_arithmetic, clippy::as_conversions, clippy::cast_precision_loss)]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::watch;
use zbor_campaigns::{AccountCode, NewCampaign};
use zbor_ledger::{AccountId, Currency, Money, NewTransaction, TransactionId};
use zbor_load_tests::{bullmq_jobs_per_second, fresh_database, fresh_streams, percentile, redis_url};
use zbor_payouts::batches::{self, Approved, NewItem, ITEMS_MAX};
use zbor_payouts::jobs::PAYOUT_STREAM;
use zbor_stripe::{Stripe, StripeConfig};
use zbor_stripe_sim::{Config as SimConfig, Simulator};
use zbor_vault::DataKey;

const PAYOUTS: usize = 10_000;
const WORKERS: usize = 4;
const KILL_EVERY: Duration = Duration::from_secs(2);
/// How late the simulated Stripe answers in the third run, a transfer's usual time at Stripe: a
/// worker then spends most of its time waiting for Stripe, and a kill catches payouts in flight.
const SLOW_STRIPE: Duration = Duration::from_millis(250);
/// The Stripe rail's own limit, raised so that it is not what is measured.
const TRANSFERS_PER_SECOND: u32 = 100_000;
const STRIPE_KEY: &str = "sk_test_payouts_bench";
/// Both runs give up after this long (then what is unpaid counts as lost).
const RUN_MAX: Duration = Duration::from_secs(300);
/// After the kills stop (at `RUN_MAX`) with payouts unpaid: the sweeper publishes `sending`
/// payouts again 30 s after their claim, every 5 s; wait for that before counting anything lost.
const SWEEPER_GRACE: Duration = Duration::from_secs(45);
const GROUP: &str = "payout-workers";
const POLL: Duration = Duration::from_millis(50);

fn zbor_bin() -> String {
    std::env::var("ZBOR_BIN")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/zbor").to_owned())
}

fn eur(amount: &str) -> Money {
    Money::parse(amount, Currency::parse("EUR").unwrap()).unwrap()
}

/// A funded campaign with 10,000 Stripe Connect beneficiaries and two batches of 5,000 × 1.00
/// EUR, each approved once: the second approval releases it.
struct Setup {
    pool: PgPool,
    url: String,
    key_hex: String,
    key: DataKey,
    campaign_account: AccountId,
    /// (batch id, content hash) awaiting their last approval
    batches: Vec<(zbor_payouts::BatchId, String)>,
    last_approver: zbor_auth::UserId,
    import_seconds: f64,
}

async fn setup(name: &str) -> anyhow::Result<Setup> {
    let (url, pool) = fresh_database(name, 8).await?;

    let key_hex = DataKey::generate_hex();
    let key = DataKey::parse(&key_hex)?;
    let campaign = zbor_campaigns::create(
        &pool,
        &NewCampaign {
            slug: format!("bench-{}", name.replace('_', "-")),
            title: "10,000 released".into(),
            description: String::new(),
            currency: "EUR".into(),
            goal: "20000".into(),
            amount_per_beneficiary: Some("1".into()),
            suggested_amounts: vec![],
            overflow: None,
            translations: Default::default(),
        },
    )
    .await?;
    let mut conn = pool.acquire().await?;
    let stripe_balance =
        zbor_ledger::account_by_code(&mut *conn, AccountCode::stripe_balance(campaign.currency).as_str())
            .await?;
    let funds = NewTransaction::new(TransactionId::derived_from("bench funds"))
        .debit(stripe_balance.id, eur("12000"))
        .credit(campaign.ledger_account, eur("12000"));
    zbor_ledger::post_in(&mut conn, &funds).await?;
    drop(conn);

    let mut csv = String::from("name,contact,iban,bic,stripe_account,note\n");
    for n in 0..PAYOUTS {
        csv.push_str(&format!("Person {n},,,,acct_1Bench{n:07},\n"));
    }
    let imported_at = Instant::now();
    let report =
        zbor_payouts::import::import_csv(&pool, &key, campaign.id, csv.as_bytes(), |_, _| {}).await?;
    let import_seconds = imported_at.elapsed().as_secs_f64();
    ensure!(report.created == PAYOUTS && report.errors.is_empty(), "import: {:?}", report.errors.first());
    let beneficiaries: Vec<zbor_payouts::BeneficiaryId> =
        sqlx::query_scalar("select id from beneficiaries where campaign_id = $1 order by id")
            .bind(campaign.id)
            .fetch_all(&pool)
            .await?;

    let mut users = Vec::new();
    for email in ["maker@example.org", "first@example.org", "second@example.org"] {
        let user = zbor_auth::add_user(
            &pool,
            &key,
            email,
            zbor_auth::Role::Treasurer,
            "correct horse battery",
            &zbor_auth::Actor::CLI,
        )
        .await?;
        users.push(user.id);
    }
    // a second treasurer confirms the imported destinations (not timed: a person does this)
    let listed = zbor_payouts::beneficiaries::list(&pool, campaign.id).await?;
    let confirmations: Vec<zbor_payouts::beneficiaries::Confirmation> =
        listed.iter().map(Into::into).collect();
    for chunk in confirmations.chunks(zbor_payouts::beneficiaries::CONFIRMATIONS_MAX) {
        zbor_payouts::beneficiaries::confirm(&pool, chunk, users[1]).await?;
    }
    let mut pending = Vec::new();
    for chunk in beneficiaries.chunks(ITEMS_MAX) {
        let items: Vec<NewItem> =
            chunk.iter().map(|&beneficiary| NewItem { beneficiary, amount: "1.00".into() }).collect();
        let batch = batches::create(&pool, campaign.id, users[0], &items).await?;
        let first = batches::approve(&pool, batch.id, users[1], &batch.content_hash).await?;
        ensure!(matches!(first, Ok(Approved::Waiting { more: 1 })), "first approval: {first:?}");
        pending.push((batch.id, batch.content_hash));
    }
    Ok(Setup {
        pool,
        url,
        key_hex,
        key,
        campaign_account: campaign.ledger_account,
        batches: pending,
        last_approver: users[2],
        import_seconds,
    })
}

/// The last approvals, one batch after the other.
struct Released {
    /// per batch: how long its last approval took, and how many payouts became visibly paid
    /// meanwhile
    batches: Vec<(f64, i64)>,
    first: Instant,
    last: Instant,
    /// paid when the last approval returned
    paid_at_last: i64,
}

/// The last approval of every batch: holds, payouts approved and outbox rows, one transaction
/// per batch.
async fn release(setup: &Setup) -> anyhow::Result<Released> {
    let mut batches = Vec::new();
    let mut commits = Vec::new();
    let mut paid = 0;
    for (batch, hash) in &setup.batches {
        let before = paid_count(&setup.pool).await;
        let at = Instant::now();
        let released = batches::approve(&setup.pool, *batch, setup.last_approver, hash).await?;
        let took = at.elapsed().as_secs_f64();
        commits.push(Instant::now());
        ensure!(released == Ok(Approved::Released), "last approval: {released:?}");
        paid = paid_count(&setup.pool).await;
        batches.push((took, paid - before));
    }
    Ok(Released { batches, first: commits[0], last: commits[commits.len() - 1], paid_at_last: paid })
}

async fn paid_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from payouts where status = 'paid'")
        .fetch_one(pool)
        .await
        .unwrap_or(0)
}

/// Waits until every payout is paid or `deadline`; the number paid.
async fn wait_paid(pool: &PgPool, deadline: Instant) -> i64 {
    loop {
        let paid = paid_count(pool).await;
        if paid >= PAYOUTS as i64 || Instant::now() >= deadline {
            return paid;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// CPU time in clock ticks (USER_HZ, 100 per second): the whole machine, this process (with the
/// children it reaped: the killed `zbor worker` processes), PostgreSQL, Redis.
#[derive(Clone, Copy, Default)]
struct Cpu {
    machine_busy: u64,
    machine_all: u64,
    this: u64,
    postgres: u64,
    redis: u64,
}

fn proc_ticks(stat: &str) -> u64 {
    // fields after the `(comm)`: state is the 3rd field; utime stime cutime cstime are 14–17
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    rest.split_whitespace()
        .skip(11)
        .take(4)
        .filter_map(|f| f.parse::<i64>().ok())
        .map(|t| t.max(0) as u64)
        .sum()
}

fn cpu() -> Cpu {
    let mut sample = Cpu::default();
    if let Ok(stat) = std::fs::read_to_string("/proc/stat") {
        let fields: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        sample.machine_all = fields.iter().take(8).sum();
        let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
        sample.machine_busy = sample.machine_all.saturating_sub(idle);
    }
    sample.this = std::fs::read_to_string("/proc/self/stat").map(|s| proc_ticks(&s)).unwrap_or(0);
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let path = entry.path();
            let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
            let ticks = || std::fs::read_to_string(path.join("stat")).map(|s| proc_ticks(&s)).unwrap_or(0);
            match comm.trim() {
                "postgres" => sample.postgres += ticks(),
                "redis-server" => sample.redis += ticks(),
                _ => {}
            }
        }
    }
    sample
}

/// CPU seconds per second of wall time, of each part.
fn cpu_row(before: Cpu, after: Cpu, seconds: f64) -> String {
    let per_second = |a: u64, b: u64| b.saturating_sub(a) as f64 / 100.0 / seconds;
    let cores = (after.machine_all.saturating_sub(before.machine_all)) as f64 / 100.0 / seconds;
    format!(
        "{:.2} of {:.0} / {:.2} / {:.2} / {:.2}",
        per_second(before.machine_busy, after.machine_busy),
        cores,
        per_second(before.this, after.this),
        per_second(before.postgres, after.postgres),
        per_second(before.redis, after.redis),
    )
}

/// What both runs report.
struct Outcome {
    /// setup, not timed in the rate: 10,000 beneficiaries sealed and written in one transaction
    import_seconds: f64,
    release: Vec<(f64, i64)>,
    /// approval started → every payout paid
    seconds: f64,
    /// first release committed → every payout paid
    seconds_after_release: f64,
    /// last release committed → every payout paid, and how many were paid before
    seconds_after_last_release: f64,
    paid_at_last_release: i64,
    paid: i64,
    transfers: usize,
    paid_twice: usize,
    ledger: String,
    /// claim (the `sending` transaction) → paid, ms
    claim_to_paid_ms: Vec<f64>,
    attempts_over_one: i64,
    stream_entries: i64,
    cpu: String,
}

/// Counts, checks the ledger and the simulator: after the run, whatever it was.
async fn check(
    setup: &Setup,
    sim: &Simulator,
    funded: &Money,
    redis: &mut redis::aio::ConnectionManager,
    stream_key: &str,
) -> anyhow::Result<Outcome> {
    let transfers = sim.transfers();
    let mut per_payout: HashMap<String, usize> = HashMap::new();
    for transfer in &transfers {
        let payout = transfer["metadata"]["zbor_payout"].as_str().unwrap_or("?").to_owned();
        *per_payout.entry(payout).or_default() += 1;
    }
    let paid_twice = per_payout.values().filter(|&&n| n > 1).count();
    let mut conn = setup.pool.acquire().await?;
    let posted = zbor_ledger::balance(&mut conn, setup.campaign_account).await?.posted;
    drop(conn);
    let dropped = funded.checked_sub(&posted)?;
    zbor_ledger::seal_all(&setup.pool).await?;
    let report = zbor_ledger::verify(&setup.pool).await?;
    let ledger = format!(
        "campaign posted {} → {} (−{}{}); verify {}",
        funded.amount(),
        posted.amount(),
        dropped.amount(),
        if dropped == eur("10000") { ", exactly 10,000.00" } else { ", NOT 10,000.00" },
        match &report.first_problem {
            None => format!("ok ({} transactions sealed)", report.sealed),
            Some(problem) => format!("FAILED: {problem}"),
        }
    );
    let claim_to_paid_ms: Vec<f64> = sqlx::query_scalar(
        "select (extract(epoch from paid_at - next_attempt_at) * 1000)::float8 from payouts where status = 'paid'",
    )
    .fetch_all(&setup.pool)
    .await?;
    let attempts_over_one: i64 =
        sqlx::query_scalar("select count(*) from payouts where attempts > 1").fetch_one(&setup.pool).await?;
    let stream_entries: i64 = redis::cmd("XLEN").arg(stream_key).query_async(redis).await?;
    Ok(Outcome {
        import_seconds: setup.import_seconds,
        release: Vec::new(),
        seconds: 0.0,
        seconds_after_release: 0.0,
        seconds_after_last_release: 0.0,
        paid_at_last_release: 0,
        paid: paid_count(&setup.pool).await,
        transfers: transfers.len(),
        paid_twice,
        ledger,
        claim_to_paid_ms,
        attempts_over_one,
        stream_entries,
        cpu: String::new(),
    })
}

async fn simulator() -> anyhow::Result<Simulator> {
    Ok(Simulator::start(
        SimConfig { api_key: STRIPE_KEY.into(), ..SimConfig::default() },
        "127.0.0.1:0".parse()?,
    )
    .await?)
}

/// Run 1: `zbor_server::workers::run` with 4 workers in this process.
async fn in_process() -> anyhow::Result<Outcome> {
    let sim = simulator().await?;
    let setup = setup("zbor_bench_payouts_steady").await?;
    let (client, streams) = fresh_streams("zbor-bench-payouts-steady:").await?;
    let mut redis = redis::aio::ConnectionManager::new(client.clone()).await?;
    let stream_key = streams.key(PAYOUT_STREAM);
    let mut stripe_config = StripeConfig::new(STRIPE_KEY, sim.base_url.as_str());
    stripe_config.requests_per_second = TRANSFERS_PER_SECOND;
    // as `zbor worker` sizes its pool
    let work_pool =
        zbor_db::connect(&setup.url, (WORKERS * zbor_server::workers::CONNECTIONS_PER_WORKER + 2) as u32)
            .await?;
    let workers = zbor_server::workers::Workers {
        pool: work_pool.clone(),
        streams: streams.clone(),
        redis: client,
        data_key: setup.key.clone(),
        stripe: Some(Stripe::new(stripe_config)?),
        count: WORKERS,
    };
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(zbor_server::workers::run(workers, stopped));
    tokio::time::sleep(Duration::from_millis(500)).await; // joined and idle

    let funded = posted(&setup).await?;
    let before = cpu();
    let started = Instant::now();
    let released = release(&setup).await?;
    let paid = wait_paid(&setup.pool, started + RUN_MAX).await;
    let done = Instant::now();
    let after = cpu();
    stop.send(true).ok();
    running.await.ok();
    work_pool.close().await;

    let mut outcome = check(&setup, &sim, &funded, &mut redis, &stream_key).await?;
    outcome.paid = paid.max(outcome.paid);
    outcome.seconds = done.duration_since(started).as_secs_f64();
    outcome.seconds_after_release = done.duration_since(released.first).as_secs_f64();
    outcome.seconds_after_last_release = done.duration_since(released.last).as_secs_f64();
    outcome.paid_at_last_release = released.paid_at_last;
    outcome.release = released.batches;
    outcome.cpu = cpu_row(before, after, outcome.seconds);
    Ok(outcome)
}

async fn posted(setup: &Setup) -> anyhow::Result<Money> {
    let mut conn = setup.pool.acquire().await?;
    Ok(zbor_ledger::balance(&mut conn, setup.campaign_account).await?.posted)
}

/// One `zbor worker` process with one worker (and its own relay and sweeper).
fn spawn_worker(setup: &Setup, sim: &Simulator, prefix: &str, log: &std::fs::File) -> anyhow::Result<Child> {
    Command::new(zbor_bin())
        .arg("worker")
        .env("DATABASE_URL", &setup.url)
        .env("REDIS_URL", redis_url())
        .env("ZBOR_REDIS_PREFIX", prefix)
        .env("ZBOR_DATA_KEY", &setup.key_hex)
        .env("STRIPE_SECRET_KEY", STRIPE_KEY)
        .env("STRIPE_API_BASE", format!("{}/", sim.base_url))
        .env("ZBOR_WORKERS", "1")
        .env("ZBOR_PAYOUT_TRANSFERS_PER_SECOND", TRANSFERS_PER_SECOND.to_string())
        .env("ZBOR_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log.try_clone()?)
        .spawn()
        .with_context(|| format!("{} worker (cargo build --release --bin zbor, or set ZBOR_BIN)", zbor_bin()))
}

/// The payouts whose stream entries a consumer of process `pid` held unacknowledged.
async fn held_by(
    redis: &mut redis::aio::ConnectionManager,
    stream_key: &str,
    pid: u32,
) -> anyhow::Result<Vec<i64>> {
    let pending: redis::streams::StreamPendingCountReply = redis::cmd("XPENDING")
        .arg(stream_key)
        .arg(GROUP)
        .arg("-")
        .arg("+")
        .arg(100_000)
        .query_async(redis)
        .await?;
    let owner = format!("{pid}-");
    let mut payouts = Vec::new();
    for entry in pending.ids.iter().filter(|p| p.consumer.starts_with(&owner)) {
        let range: redis::streams::StreamRangeReply =
            redis::cmd("XRANGE").arg(stream_key).arg(&entry.id).arg(&entry.id).query_async(redis).await?;
        for id in &range.ids {
            let payload = id.map.get("payload").and_then(|v| redis::from_redis_value_ref::<String>(v).ok());
            if let Some(payout) = payload
                .and_then(|p| serde_json::from_str::<Value>(&p).ok())
                .and_then(|v| v["payout"].as_i64())
            {
                payouts.push(payout);
            }
        }
    }
    Ok(payouts)
}

struct Killed {
    outcome: Outcome,
    kills: usize,
    /// payouts a killed worker held unacknowledged
    held: usize,
    /// of those, paid before the kill (only the acknowledgement was lost)
    held_done: usize,
    /// kill → first seen paid, ms, for the others (the first kill that caught each payout): all,
    /// kills after the last release committed, kills while an approval ran
    reclaim_ms: [Vec<f64>; 3],
    /// kill → first seen claimed again by another worker (its attempts counted up), ms: the
    /// reclaim itself, without the Stripe call and the recording after it
    taken_over_ms: Vec<f64>,
    /// how late the simulated Stripe answered each call
    stripe_latency: Duration,
    /// held payouts still unpaid at the end
    held_unpaid: usize,
}

/// Run 2: 4 `zbor worker` processes, one SIGKILLed every 2 s and started again; Stripe answers
/// each call `stripe_latency` late (run 3: so that a kill catches a worker with payouts in
/// flight, which at no latency it rarely does: a read of 64 is paid in some 50 ms).
async fn with_kills(name: &str, stripe_latency: Duration) -> anyhow::Result<Killed> {
    let sim = simulator().await?;
    sim.set_api_latency(stripe_latency);
    let setup = setup(&format!("zbor_bench_payouts_{name}")).await?;
    let prefix = &format!("zbor-bench-payouts-{name}:");
    let (client, streams) = fresh_streams(prefix).await?;
    let mut redis = redis::aio::ConnectionManager::new(client).await?;
    let stream_key = streams.key(PAYOUT_STREAM);
    let log_path = std::env::temp_dir().join("zbor-payouts-bench-workers.log");
    let log = std::fs::File::create(&log_path)?;
    let mut children: Vec<Child> =
        (0..WORKERS).map(|_| spawn_worker(&setup, &sim, prefix, &log)).collect::<anyhow::Result<_>>()?;
    tokio::time::sleep(Duration::from_secs(1)).await; // joined and idle
    for child in &mut children {
        ensure!(child.try_wait()?.is_none(), "zbor worker exited at start; see {}", log_path.display());
    }

    let funded = posted(&setup).await?;
    let before = cpu();
    let started = Instant::now();
    // the approvals run while the kills go on
    let killing = async {
        let mut kills = 0;
        // payouts a killed worker held, not yet paid: since which kill
        let mut watched: HashMap<i64, Instant> = HashMap::new();
        // of those, not yet claimed again by another worker: since which kill, attempts then
        let mut unclaimed: HashMap<i64, (Instant, i32)> = HashMap::new();
        let mut taken_over_ms = Vec::new();
        let (mut held, mut held_done) = (0, 0);
        let mut reclaim_ms = Vec::new();
        let mut next_kill = started + KILL_EVERY;
        let mut paid = 0;
        let mut done_at = None;
        let kills_until = started + RUN_MAX;
        while Instant::now() < kills_until + SWEEPER_GRACE {
            paid = paid_count(&setup.pool).await;
            if !unclaimed.is_empty() {
                let ids: Vec<i64> = unclaimed.keys().copied().collect();
                let attempts: Vec<(i64, i32)> =
                    sqlx::query_as("select id, attempts from payouts where id = any($1)")
                        .bind(&ids)
                        .fetch_all(&setup.pool)
                        .await?;
                let seen = Instant::now();
                for (id, now) in attempts {
                    if unclaimed.get(&id).is_some_and(|&(_, then)| now > then) {
                        if let Some((killed, _)) = unclaimed.remove(&id) {
                            taken_over_ms.push(seen.duration_since(killed).as_secs_f64() * 1000.0);
                        }
                    }
                }
            }
            if !watched.is_empty() {
                let ids: Vec<i64> = watched.keys().copied().collect();
                let now_paid: Vec<i64> =
                    sqlx::query_scalar("select id from payouts where id = any($1) and status = 'paid'")
                        .bind(&ids)
                        .fetch_all(&setup.pool)
                        .await?;
                let seen = Instant::now();
                for id in now_paid {
                    if let Some(killed) = watched.remove(&id) {
                        reclaim_ms.push((killed, seen.duration_since(killed).as_secs_f64() * 1000.0));
                    }
                }
            }
            if paid >= PAYOUTS as i64 {
                done_at = Some(Instant::now());
                break;
            }
            // after `kills_until` no more kills: the sweeper's time before counting anything lost
            let now = Instant::now();
            if now < kills_until && now >= next_kill {
                let victim = kills % WORKERS;
                let pid = children[victim].id();
                let killed = Instant::now();
                children[victim].kill()?; // SIGKILL
                children[victim].wait()?;
                kills += 1;
                let payouts = held_by(&mut redis, &stream_key, pid).await?;
                let states: Vec<(i64, bool, i32)> =
                    sqlx::query_as("select id, status = 'paid', attempts from payouts where id = any($1)")
                        .bind(&payouts)
                        .fetch_all(&setup.pool)
                        .await?;
                for (payout, paid, attempts) in states {
                    held += 1;
                    if paid {
                        held_done += 1;
                    } else {
                        // a payout caught by two kills counts from the first
                        watched.entry(payout).or_insert(killed);
                        unclaimed.entry(payout).or_insert((killed, attempts));
                    }
                }
                children[victim] = spawn_worker(&setup, &sim, prefix, &log)?;
                next_kill = (next_kill + KILL_EVERY).max(Instant::now());
            }
            tokio::time::sleep(POLL).await;
        }
        anyhow::Ok((kills, paid, done_at, held, held_done, reclaim_ms, watched.len(), taken_over_ms))
    };
    let (released, killing) = tokio::join!(release(&setup), killing);
    let released = released?;
    let (kills, paid, done_at, held, held_done, reclaims, held_unpaid, taken_over_ms) = killing?;
    let mut reclaim_ms: [Vec<f64>; 3] = Default::default();
    for (killed, ms) in reclaims {
        reclaim_ms[0].push(ms);
        reclaim_ms[if killed >= released.last { 1 } else { 2 }].push(ms);
    }
    let done = done_at.unwrap_or_else(Instant::now);
    let seconds = done.duration_since(started).as_secs_f64();
    for child in &mut children {
        child.kill().ok();
        child.wait().ok();
    }
    let after = cpu();

    let mut outcome = check(&setup, &sim, &funded, &mut redis, &stream_key).await?;
    outcome.paid = paid.max(outcome.paid);
    outcome.seconds = seconds;
    outcome.seconds_after_release = done.duration_since(released.first).as_secs_f64();
    outcome.seconds_after_last_release = done.duration_since(released.last).as_secs_f64();
    outcome.paid_at_last_release = released.paid_at_last;
    outcome.release = released.batches;
    outcome.cpu = cpu_row(before, after, seconds);
    Ok(Killed { outcome, kills, held, held_done, reclaim_ms, held_unpaid, taken_over_ms, stripe_latency })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    ensure!(
        std::path::Path::new(&zbor_bin()).exists(),
        "{} missing: cargo build --release --bin zbor",
        zbor_bin()
    );
    let bullmq_before = bullmq_jobs_per_second(PAYOUTS, WORKERS)?;
    let steady = in_process().await?;
    let mut killed = with_kills("kills", Duration::ZERO).await?;
    let mut slow = with_kills("kills_slow", SLOW_STRIPE).await?;
    let bullmq_after = bullmq_jobs_per_second(PAYOUTS, WORKERS)?;
    let bullmq_best = bullmq_before.max(bullmq_after);

    let rate = |o: &Outcome| PAYOUTS as f64 / o.seconds;
    let mut rows = Vec::new();
    rows.push(format!(
        "| payouts / workers × payouts at once per worker | {PAYOUTS} × 1.00 EUR / {WORKERS} × {} |",
        zbor_server::workers::JOBS_AT_ONCE
    ));
    rows.push(format!(
        "| simulated Stripe rail limit (requests_per_second, ZBOR_PAYOUT_TRANSFERS_PER_SECOND) | {TRANSFERS_PER_SECOND}/s |"
    ));
    let slow_name = format!("with kills, Stripe {} ms", SLOW_STRIPE.as_millis());
    for (name, o) in
        [("in-process", &steady), ("with kills", &killed.outcome), (slow_name.as_str(), &slow.outcome)]
    {
        let mut claim = o.claim_to_paid_ms.clone();
        rows.push(format!(
            "| {name}: setup, not timed: {PAYOUTS} beneficiaries sealed and imported (`import_csv`, one transaction), s | {:.2} |",
            o.import_seconds
        ));
        rows.push(format!(
            "| {name}: last approvals of 2 × {ITEMS_MAX} (holds + payouts + outbox, one transaction each), s (payouts paid meanwhile) | {} |",
            o.release.iter().map(|(s, paid)| format!("{s:.2} ({paid})")).collect::<Vec<_>>().join(" + ")
        ));
        rows.push(format!(
            "| {name}: from the first release's commit to all paid, s / payouts/s | {:.2} / {:.0} |",
            o.seconds_after_release,
            PAYOUTS as f64 / o.seconds_after_release
        ));
        rows.push(format!(
            "| {name}: from the last release's commit to all paid, s / payouts/s (of the {} then unpaid) | {:.2} / {:.0} |",
            PAYOUTS as i64 - o.paid_at_last_release,
            o.seconds_after_last_release,
            (PAYOUTS as i64 - o.paid_at_last_release) as f64 / o.seconds_after_last_release
        ));
        rows.push(format!(
            "| {name}: paid / transfers at the simulator / payouts with two transfers | {} / {} / {} |",
            o.paid, o.transfers, o.paid_twice
        ));
        rows.push(format!("| {name}: ledger | {} |", o.ledger));
        rows.push(format!(
            "| {name}: claim (`sending`) → the transaction recording it paid begins, p50 / p99 / max ms; payouts with attempts > 1 | {:.0} / {:.0} / {:.0}; {} |",
            percentile(&mut claim, 0.5),
            percentile(&mut claim, 0.99),
            percentile(&mut claim, 1.0),
            o.attempts_over_one
        ));
        rows.push(format!(
            "| {name}: stream entries published (10,000 by the relay, the rest again by the sweeper) | {} |",
            o.stream_entries
        ));
        rows.push(format!(
            "| {name}: CPU cores busy: machine (of cores) / this process (+ reaped workers) / PostgreSQL / Redis | {} |",
            o.cpu
        ));
    }
    for (name, run) in [("with kills", &mut killed), (slow_name.as_str(), &mut slow)] {
        rows.push(format!(
            "| {name}: kills / lost (unpaid at the end) / paid twice | {} / {} / {} |",
            run.kills,
            PAYOUTS as i64 - run.outcome.paid,
            run.outcome.paid_twice
        ));
        rows.push(format!(
            "| {name}: payouts held by a killed worker / of them paid before the kill (ack lost) / still unpaid | {} / {} / {} |",
            run.held, run.held_done, run.held_unpaid
        ));
        rows.push(format!(
            "| {name}: kill → claimed again by another worker (the reclaim), p50 / p99 / max ms ({} payouts) | {:.0} / {:.0} / {:.0} |",
            run.taken_over_ms.len(),
            percentile(&mut run.taken_over_ms, 0.5),
            percentile(&mut run.taken_over_ms, 0.99),
            percentile(&mut run.taken_over_ms, 1.0)
        ));
        for (which, samples) in [
            "all kills",
            "kills after the last release committed",
            "kills while an approval ran (its lock on the campaign account holds the payouts up too)",
        ]
        .iter()
        .zip(run.reclaim_ms.iter_mut())
        {
            rows.push(format!(
                "| {name}: reclaim, kill → seen paid, p50 / p99 / max ms, {which} ({} payouts; Stripe answers {} ms late) | {:.0} / {:.0} / {:.0} |",
                samples.len(),
                run.stripe_latency.as_millis(),
                percentile(samples, 0.5),
                percentile(samples, 0.99),
                percentile(samples, 1.0)
            ));
        }
    }

    println!("| measure | value |");
    println!("|---|---:|");
    for row in rows {
        println!("{row}");
    }
    println!();
    println!("| approval → all 10,000 paid in PostgreSQL | payouts/s (jobs/s) | × BullMQ |");
    println!("|---|---:|---:|");
    println!(
        "| zbor, 4 workers in-process, acknowledged after the commit | {:.0} | {:.2} |",
        rate(&steady),
        rate(&steady) / bullmq_best
    );
    println!(
        "| zbor, 4 `zbor worker` processes, one SIGKILLed every 2 s | {:.0} | {:.2} |",
        rate(&killed.outcome),
        rate(&killed.outcome) / bullmq_best
    );
    println!(
        "| BullMQ 5.81.5, 10,000 no-op jobs, 4 workers × concurrency 1 (best of before {bullmq_before:.0} / after {bullmq_after:.0}) | {bullmq_best:.0} | 1.00 |"
    );
    println!();
    println!(
        "Reclaim: right after each SIGKILL the entries its consumer ({{pid}}-…) still had pending \
         (XPENDING, then XRANGE for their payloads) name the payouts the killed worker held; those \
         already paid had only lost their acknowledgement; each other one is timed from the kill \
         until the benchmark's 50 ms poll first sees it claimed again by another worker (its \
         attempts counted up) and paid in PostgreSQL (committed). A payout caught by two kills \
         counts from the first. Kills go on during the approvals too. At no Stripe latency a read \
         of 64 is paid in some 50 ms and few kills catch one in flight; the third run has Stripe \
         answer {} ms late, so that most do (its kill → paid includes that call).",
        SLOW_STRIPE.as_millis()
    );
    Ok(())
}
