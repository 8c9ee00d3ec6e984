#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! A worker's payouts change hands only when the worker is gone: a slow but live worker keeps
//! them however long Stripe takes (it refreshes its claim), and the payouts of a worker killed
//! after Stripe made their transfers, before it recorded them, are paid by the next worker
//! without a second transfer or a second posting.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{confirm_all, eur, funded_campaign, treasurers};
use serde_json::json;
use tokio::sync::watch;
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_payouts::jobs::{RECLAIM_AFTER, TAKEOVER_AFTER};
use zbor_stripe::{Stripe, StripeConfig};
use zbor_stripe_sim::{Config as SimConfig, Simulator};
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

const KEY: &str = "sk_test_handover";
const PEOPLE: usize = 5;
const PEOPLE_I64: i64 = 5;

struct Setup {
    db: TestDb,
    key_hex: String,
    campaign: zbor_campaigns::Campaign,
    prefix: String,
    redis_client: redis::Client,
    streams: zbor_queue::Streams,
}

/// A funded campaign, five Stripe Connect beneficiaries, and their batch released by two
/// treasurers: five payouts published on the stream.
async fn released() -> Setup {
    let db = TestDb::new(12).await;
    let key_hex = DataKey::generate_hex();
    let key = DataKey::parse(&key_hex).unwrap();
    let campaign = funded_campaign(&db, "release-123", "5000").await;
    let mut items = Vec::new();
    for n in 0..PEOPLE {
        let new = serde_json::from_value(json!({"name": format!("Person {n}"), "contact": "", "note": "",
            "method": {"kind": "stripe_connect", "account": format!("acct_1Pgaf{n}B7WZ01zgkW")}}))
        .unwrap();
        let id = zbor_payouts::beneficiaries::create(&db.pool, &key, campaign.id, &new).await.unwrap().id;
        items.push(NewItem { beneficiary: id, amount: "1000".into() });
    }
    let users = treasurers(&db, &key, &["a@example.org", "b@example.org", "c@example.org"]).await;
    confirm_all(&db.pool, campaign.id, users[1]).await;
    let batch = batches::create(&db.pool, campaign.id, users[0], &items).await.unwrap();
    batches::approve(&db.pool, batch.id, users[1], &batch.content_hash).await.unwrap().unwrap();
    assert_eq!(
        batches::approve(&db.pool, batch.id, users[2], &batch.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );
    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let redis_client = redis::Client::open(redis_url).unwrap();
    let redis = redis::aio::ConnectionManager::new(redis_client.clone()).await.unwrap();
    let prefix = format!("zbor-test:{}:", db.name);
    let streams = zbor_queue::Streams::new(redis, &prefix);
    // published before any worker reads: the first read takes all five
    assert_eq!(zbor_queue::relay(&db.pool, &streams, 100).await.unwrap(), PEOPLE);
    Setup { db, key_hex, campaign, prefix, redis_client, streams }
}

fn stripe(sim: &Simulator) -> Stripe {
    let mut config = StripeConfig::new(KEY, sim.base_url.as_str());
    config.requests_per_second = 100;
    Stripe::new(config).unwrap()
}

/// `count` workers (with the relay and the sweeper) in this process until `stop` is sent.
fn workers_in_process(
    s: &Setup,
    sim: &Simulator,
    count: usize,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let workers = zbor_server::workers::Workers {
        pool: s.db.pool.clone(),
        streams: s.streams.clone(),
        redis: s.redis_client.clone(),
        data_key: DataKey::parse(&s.key_hex).unwrap(),
        stripe: Some(stripe(sim)),
        count,
    };
    let (stop, stopped) = watch::channel(false);
    (stop, tokio::spawn(zbor_server::workers::run(workers, stopped)))
}

async fn count(s: &Setup, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&s.db.pool).await.unwrap()
}

/// Waits until `sql` counts `expected`, at most `within`; the last count.
async fn wait_for(s: &Setup, sql: &str, expected: i64, within: Duration) -> i64 {
    let deadline = Instant::now() + within;
    loop {
        let found = count(s, sql).await;
        if found == expected || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn transfer_calls(sim: &Simulator) -> usize {
    sim.api_requests().iter().filter(|r| r.method == "POST" && r.path == "/v1/transfers").count()
}

/// Paid once each: one transfer per payout at Stripe, recorded as its reference, one posting of
/// each hold, the campaign's funds down by exactly what was paid, and the ledger verified.
async fn paid_once_each(s: &Setup, sim: &Simulator) {
    let transfers = sim.transfers();
    assert_eq!(transfers.len(), PEOPLE, "one transfer per payout: {transfers:?}");
    let recorded: Vec<(i64, String)> =
        sqlx::query_as("select id, rail_reference from payouts where status = 'paid' order by id")
            .fetch_all(&s.db.pool)
            .await
            .unwrap();
    assert_eq!(recorded.len(), PEOPLE);
    for (payout, reference) in &recorded {
        let made: Vec<&serde_json::Value> = transfers
            .iter()
            .filter(|t| t["metadata"]["zbor_payout"].as_str() == Some(payout.to_string().as_str()))
            .collect();
        assert_eq!(made.len(), 1, "payout {payout}: {made:?}");
        assert_eq!(made[0]["id"].as_str(), Some(reference.as_str()), "the transfer made is the one recorded");
    }
    assert_eq!(count(s, "select count(*) from ledger_holds where status = 'posted'").await, PEOPLE_I64);
    let posts = "select count(*) from ledger_transactions where metadata->>'kind' = 'payout'";
    assert_eq!(count(s, posts).await, PEOPLE_I64, "each hold posted once");
    let mut conn = s.db.pool.acquire().await.unwrap();
    assert_eq!(zbor_ledger::balance(&mut conn, s.campaign.ledger_account).await.unwrap().posted, eur("0"));
    drop(conn);
    zbor_ledger::seal_all(&s.db.pool).await.unwrap();
    assert!(zbor_ledger::verify(&s.db.pool).await.unwrap().is_ok());
}

/// Stripe answers each transfer only after 4 s: longer than a claim may go unrefreshed before
/// another worker takes the payout over, and longer than a job may idle before another worker
/// reclaims it. A second worker looks for jobs to reclaim all the while; the first keeps them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_but_live_worker_keeps_its_payouts() {
    let sim = Simulator::start(
        SimConfig { api_key: KEY.into(), ..SimConfig::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let slow = Duration::from_secs(4);
    assert!(slow > RECLAIM_AFTER * 2 && slow > TAKEOVER_AFTER * 2);
    sim.set_api_latency(slow);
    let s = released().await;
    let (stop, running) = workers_in_process(&s, &sim, 2);

    let sending = "select count(*) from payouts where status = 'sending'";
    assert_eq!(wait_for(&s, sending, PEOPLE_I64, Duration::from_secs(10)).await, PEOPLE_I64);
    let paid = "select count(*) from payouts where status = 'paid'";
    assert_eq!(wait_for(&s, paid, PEOPLE_I64, Duration::from_secs(30)).await, PEOPLE_I64);
    stop.send(true).unwrap();
    running.await.unwrap();

    // nobody took a payout over: a takeover would have counted an attempt and called Stripe again
    assert_eq!(transfer_calls(&sim), PEOPLE, "Stripe was called once per payout");
    assert_eq!(count(&s, "select count(*) from payouts where attempts = 1").await, PEOPLE_I64);
    paid_once_each(&s, &sim).await;
    s.db.drop_database().await;
}

/// `zbor worker`, in a process of its own, as deployed.
fn worker_process(s: &Setup, sim: &Simulator) -> Child {
    Command::new(env!("CARGO_BIN_EXE_zbor"))
        .arg("worker")
        .env("DATABASE_URL", &s.db.url)
        .env("REDIS_URL", std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()))
        .env("ZBOR_REDIS_PREFIX", &s.prefix)
        .env("ZBOR_DATA_KEY", &s.key_hex)
        .env("STRIPE_SECRET_KEY", KEY)
        .env("STRIPE_API_BASE", format!("{}/", sim.base_url))
        .env("ZBOR_WORKERS", "1")
        .env("ZBOR_PAYOUT_TRANSFERS_PER_SECOND", "100")
        .env("ZBOR_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

/// The worker dies after Stripe made every transfer of its read and before its one recording
/// transaction: Stripe has five transfers, the ledger nothing. The next worker reclaims the
/// jobs, takes the payouts over, gets the same five transfers back under the same idempotency
/// keys, and records each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_between_the_rail_and_the_record_pays_nothing_twice() {
    let sim = Simulator::start(
        SimConfig { api_key: KEY.into(), ..SimConfig::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    // the transfers are made at once; the worker hears of them 30 s later, if it lives
    sim.set_api_latency(Duration::from_secs(30));
    let s = released().await;
    let mut worker = worker_process(&s, &sim);
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim.transfers().len() < PEOPLE {
        assert!(Instant::now() < deadline, "the worker made {} transfers", sim.transfers().len());
        assert!(worker.try_wait().unwrap().is_none(), "zbor worker exited");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.kill().unwrap(); // SIGKILL
    worker.wait().unwrap();
    let killed = Instant::now();
    assert_eq!(count(&s, "select count(*) from payouts where status = 'sending'").await, PEOPLE_I64);
    assert_eq!(count(&s, "select count(*) from ledger_holds where status = 'pending'").await, PEOPLE_I64);
    assert_eq!(transfer_calls(&sim), PEOPLE);

    sim.set_api_latency(Duration::ZERO);
    let (stop, running) = workers_in_process(&s, &sim, 1);
    let paid = "select count(*) from payouts where status = 'paid'";
    assert_eq!(wait_for(&s, paid, PEOPLE_I64, Duration::from_secs(20)).await, PEOPLE_I64);
    let handed_over = killed.elapsed();
    stop.send(true).unwrap();
    running.await.unwrap();

    // the next worker asked Stripe again, once per payout, and was given the same transfers
    assert_eq!(transfer_calls(&sim), PEOPLE * 2);
    assert_eq!(count(&s, "select count(*) from payouts where attempts = 2").await, PEOPLE_I64);
    paid_once_each(&s, &sim).await;
    eprintln!("a killed worker's payouts paid by the next {} ms after the kill", handed_over.as_millis());
    s.db.drop_database().await;
}
