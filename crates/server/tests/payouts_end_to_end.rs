#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The case zbor is built for, end to end: 123 released people, EUR 1,000 each, approved by two
//! treasurers, paid by `zbor worker` processes through the simulated Stripe. Mid-batch one worker
//! process is killed (SIGKILL) and later Redis loses the payout stream; still every person is
//! paid exactly once and the ledger shows EUR 123,000 moved.

mod common;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{confirm_all, eur, funded_campaign, treasurers};
use serde_json::json;
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_stripe_sim::{Config as SimConfig, Simulator};
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

const KEY: &str = "sk_test_end_to_end";
const PEOPLE: usize = 123;
const PEOPLE_I64: i64 = 123;

fn worker_process(db: &TestDb, prefix: &str, key_hex: &str, stripe: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_zbor"))
        .arg("worker")
        .env("DATABASE_URL", &db.url)
        .env("REDIS_URL", std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()))
        .env("ZBOR_REDIS_PREFIX", prefix)
        .env("ZBOR_DATA_KEY", key_hex)
        .env("STRIPE_SECRET_KEY", KEY)
        .env("STRIPE_API_BASE", stripe)
        .env("ZBOR_WORKERS", "2")
        // slow enough that the batch is still running when the worker is killed
        .env("ZBOR_PAYOUT_TRANSFERS_PER_SECOND", "8")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the zbor binary")
}

async fn paid(db: &TestDb) -> i64 {
    sqlx::query_scalar("select count(*) from payouts where status = 'paid'")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

async fn wait_until_paid(db: &TestDb, at_least: i64, within: Duration) -> i64 {
    let start = Instant::now();
    loop {
        let now = paid(db).await;
        if now >= at_least || start.elapsed() > within {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_prisoners_are_each_paid_once_through_a_killed_worker_and_a_lost_stream() {
    let sim = Simulator::start(
        SimConfig { api_key: KEY.into(), ..SimConfig::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let db = TestDb::new(8).await;
    let key_hex = DataKey::generate_hex();
    let key = DataKey::parse(&key_hex).unwrap();
    let campaign = funded_campaign(&db, "release-123", "123000").await;

    let mut items = Vec::new();
    for n in 0..PEOPLE {
        let new =
            serde_json::from_value(json!({"name": format!("Released person {n}"), "contact": "", "note": "",
            "method": {"kind": "stripe_connect", "account": format!("acct_1Pgaf{n:03}B7WZ01zgkW")}}))
            .unwrap();
        let id = zbor_payouts::beneficiaries::create(&db.pool, &key, campaign.id, &new).await.unwrap().id;
        items.push(NewItem { beneficiary: id, amount: "1000".into() });
    }
    let users = treasurers(&db, &key, &["a@example.org", "b@example.org", "c@example.org"]).await;
    // a second treasurer confirmed each destination
    confirm_all(&db.pool, campaign.id, users[1]).await;
    let batch = batches::create(&db.pool, campaign.id, users[0], &items).await.unwrap();
    assert_eq!(batch.total, eur("123000"));
    batches::approve(&db.pool, batch.id, users[1], &batch.content_hash).await.unwrap().unwrap();
    assert_eq!(
        batches::approve(&db.pool, batch.id, users[2], &batch.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );

    let prefix = format!("zbor-test:{}:", db.name);
    let mut doomed = worker_process(&db, &prefix, &key_hex, sim.base_url.as_str());
    let mut survivor = worker_process(&db, &prefix, &key_hex, sim.base_url.as_str());

    // mid-batch: one worker process dies without warning, holding unacknowledged jobs
    let before_kill = wait_until_paid(&db, 15, Duration::from_secs(60)).await;
    assert!(before_kill >= 15, "workers started paying: {before_kill}");
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let after_kill = paid(&db).await;
    assert!(after_kill < PEOPLE_I64, "killed mid-batch ({after_kill} paid)");

    // later: Redis loses the payout stream (and with it every pending entry)
    wait_until_paid(&db, after_kill + 15, Duration::from_secs(60)).await;
    let redis_client =
        redis::Client::open(std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()))
            .unwrap();
    let mut redis = redis::aio::ConnectionManager::new(redis_client).await.unwrap();
    let stream = format!("{prefix}stream:payouts");
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut redis).await.unwrap();
    assert!(keys.contains(&stream), "the stream is where expected: {keys:?}");
    let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut redis).await.unwrap();
    let at_flush = paid(&db).await;
    assert!(at_flush < PEOPLE_I64, "flushed mid-batch ({at_flush} paid)");

    // the survivor, its sweeper republishing from PostgreSQL, finishes the batch
    let done = wait_until_paid(&db, PEOPLE_I64, Duration::from_secs(120)).await;
    survivor.kill().unwrap();
    survivor.wait().unwrap();
    assert_eq!(done, PEOPLE_I64, "every released person is paid");

    let transfers = sim.transfers();
    let mut per_payout: HashMap<String, usize> = HashMap::new();
    for transfer in &transfers {
        assert_eq!(
            (transfer["amount"].as_i64(), transfer["currency"].as_str()),
            (Some(100_000), Some("eur"))
        );
        *per_payout.entry(transfer["metadata"]["zbor_payout"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    assert_eq!(transfers.len(), PEOPLE, "one transfer per person, none doubled");
    assert!(per_payout.values().all(|n| *n == 1));
    assert_eq!(per_payout.len(), PEOPLE);
    let recorded: Vec<String> = sqlx::query_scalar("select rail_reference from payouts where batch_id = $1")
        .bind(batch.id)
        .fetch_all(&db.pool)
        .await
        .unwrap();
    let made: std::collections::HashSet<&str> = transfers.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert!(recorded.iter().all(|r| made.contains(r.as_str())), "each payout records its own transfer");

    let posted: i64 = sqlx::query_scalar("select count(*) from ledger_holds where status = 'posted'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(posted, PEOPLE_I64);
    let mut conn = db.pool.acquire().await.unwrap();
    let left = zbor_ledger::balance(&mut conn, campaign.ledger_account).await.unwrap();
    assert_eq!((left.posted, left.available), (eur("0"), eur("0")), "EUR 123,000 moved");
    drop(conn);
    assert!(zbor_ledger::verify(&db.pool).await.unwrap().is_ok());
    db.drop_database().await;
}
