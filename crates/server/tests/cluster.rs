#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Several nodes, as production runs them: `deploy/cluster.sh` starts 3 `zbor serve` behind
//! HAProxy, 2 `zbor worker` and the Stripe simulator (its own process) delivering webhooks
//! through the load balancer. Donors pay in bursts while live-totals clients listen on every
//! node; one node is SIGKILLed mid-burst, then every node is restarted in turn (SIGTERM, drain,
//! start); then a payout batch is paid while a worker process is killed and started again.
//! Nothing is lost, nothing doubled, every client ends on the exact total.
//!
//! `ZBOR_CLUSTER_DONATIONS` (default 240) sets the first burst; the README names a longer run.

mod common;

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zbor_stripe_sim::donor::pay_checkout;

use common::{confirm_all, eur, funded_campaign, start_with, treasurers, Running, TOKEN, WEBHOOK_SECRET};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::watch;
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_vault::DataKey;

const SLUG: &str = "release-123";
const STRIPE_KEY: &str = "sk_test_cluster";

/// The cluster started by `deploy/cluster.sh` in a directory of its own; stopped when dropped.
struct Cluster {
    dir: std::path::PathBuf,
    env: HashMap<String, String>,
}

impl Cluster {
    fn script(&self, args: &[&str]) -> String {
        let output = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/cluster.sh"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "deploy/cluster.sh {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    fn at(&self, name: &str) -> String {
        format!("http://{}", self.env[name])
    }

    /// Stops `name` with `signal` and says how long it took to exit.
    fn stop(&self, name: &str, signal: &str) -> Duration {
        let dir = self.dir.display().to_string();
        Duration::from_millis(self.script(&["stop", &dir, name, signal]).parse().unwrap())
    }

    fn start(&self, name: &str) {
        let dir = self.dir.display().to_string();
        self.script(&["start", &dir, name]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let dir = self.dir.display().to_string();
        let _ = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/cluster.sh"))
            .args(["down", &dir])
            .output();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("cluster logs kept in {}", self.dir.display());
        }
    }
}

/// Ten consecutive free ports on loopback, below the ephemeral range (32768 up): a node's port
/// must still be free when it starts again, not taken meanwhile as the source port of some
/// outgoing connection.
fn free_ports() -> u16 {
    for _ in 0..50 {
        let base = 20_000 + u16::try_from(uuid::Uuid::new_v4().as_u128() % 12_000).unwrap();
        let free = (0..10).all(|n| std::net::TcpListener::bind(("127.0.0.1", base + n)).is_ok());
        if free {
            return base;
        }
    }
    panic!("no ten free ports");
}

fn up(app: &Running, key_hex: &str) -> Cluster {
    let dir = std::env::temp_dir().join(format!("zbor-cluster-{}", uuid::Uuid::new_v4().simple()));
    let output = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/cluster.sh"))
        .args(["up", &dir.display().to_string()])
        .env("ZBOR_BIN", env!("CARGO_BIN_EXE_zbor"))
        .env("DATABASE_URL", &app.db.url)
        .env("ZBOR_REDIS_PREFIX", &app.redis_prefix)
        .env("ZBOR_CLUSTER_PORT", free_ports().to_string())
        .env("ZBOR_ADMIN_TOKEN", TOKEN)
        .env("ZBOR_DATA_KEY", key_hex)
        .env("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .output()
        .unwrap();
    let cluster_env = std::fs::read_to_string(dir.join("cluster.env")).unwrap_or_default();
    let env = cluster_env
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let cluster = Cluster { dir, env };
    assert!(
        output.status.success(),
        "deploy/cluster.sh up failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    cluster
}

/// A donor paying `cents` by card at the simulator (Stripe Checkout), which then delivers the
/// events through the load balancer.
async fn donate(client: &reqwest::Client, simulator: &str, cents: i64) {
    pay_checkout(client, simulator, STRIPE_KEY, SLUG, cents, "card").await.unwrap();
}

/// What every live-totals client saw last, and how often it had to reconnect.
#[derive(Default, Debug, Clone)]
struct Seen {
    totals: Value,
    reconnects: usize,
}

/// An SSE client as a browser's EventSource is: on any end of the stream it reconnects (after
/// the stream's `retry`, here 200 ms) sending the last `id` it saw as `Last-Event-ID`. It holds a
/// coordinator's API `token`: the exact, live totals (anyone else gets the public snapshot).
fn listen(
    base: String,
    token: String,
    seen: Arc<Mutex<Seen>>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut last_id: Option<String> = None;
        let mut first = true;
        while !*stop.borrow() {
            if !first {
                seen.lock().unwrap().reconnects += 1;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            first = false;
            let mut request = client.get(format!("{base}/api/v1/campaigns/{SLUG}/live")).bearer_auth(&token);
            if let Some(id) = &last_id {
                request = request.header("last-event-id", id);
            }
            let Ok(response) = request.send().await else { continue };
            if response.status() != 200 {
                continue;
            }
            let mut body = response.bytes_stream();
            let mut buffer = String::new();
            loop {
                let chunk = tokio::select! {
                    chunk = body.next() => chunk,
                    _ = stop.changed() => return,
                };
                let Some(Ok(chunk)) = chunk else { break };
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let frame: String = buffer.drain(..end + 2).collect();
                    let field =
                        |name: &str| frame.lines().find_map(|l| l.strip_prefix(name)).map(str::to_owned);
                    if let (Some(data), Some(id)) = (field("data: "), field("id: ")) {
                        seen.lock().unwrap().totals = serde_json::from_str(&data).unwrap();
                        last_id = Some(id);
                    }
                }
            }
        }
    })
}

async fn count(app: &Running, sql: &str) -> i64 {
    app.count(sql).await
}

/// Waits until `sql` counts `expected`, or fails after `limit` naming what it saw.
async fn wait_for_count(app: &Running, sql: &str, expected: i64, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let now = count(app, sql).await;
        if now == expected {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: {now}, expected {expected}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Pays `n` donations, `concurrency` at a time; `midway` runs once half are paid.
async fn burst(simulator: &str, amounts: &[i64], midway: impl FnOnce()) {
    let client = reqwest::Client::new();
    let (first, second) = amounts.split_at(amounts.len() / 2);
    futures_util::stream::iter(first)
        .for_each_concurrent(16, |cents| donate(&client, simulator, *cents))
        .await;
    midway();
    futures_util::stream::iter(second)
        .for_each_concurrent(16, |cents| donate(&client, simulator, *cents))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_lose_nothing_through_a_kill_a_rolling_restart_and_a_worker_restart() {
    let key_hex = DataKey::generate_hex();
    let key = DataKey::parse(&key_hex).unwrap();
    // An in-process node of the same deployment (database, Redis prefix, data key) for the
    // test's own set-up; every request under test goes through the load balancer.
    let app = start_with(Some(WEBHOOK_SECRET), |config| config.data_key = Some(key_hex.clone())).await;
    let cluster = up(&app, &key_hex);
    let lb = cluster.at("CLUSTER_LB");
    let simulator = cluster.at("CLUSTER_SIMULATOR");
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{lb}/api/v1/campaigns"))
        .bearer_auth(TOKEN)
        .json(&json!({"slug": SLUG, "title": "Release", "currency": "EUR", "goal": "123000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // live-totals clients on every node, and some through the load balancer, as a coordinator
    let watcher = zbor_auth::add_user(
        &app.db.pool,
        &key,
        "watcher@example.org",
        zbor_auth::Role::Coordinator,
        "correct horse battery staple",
        &zbor_auth::Actor::CLI,
    )
    .await
    .unwrap();
    let watcher =
        zbor_auth::sessions::create_api_token(&app.db.pool, watcher.id, "watch").await.unwrap().token;
    let (stop_listening, listening) = watch::channel(false);
    let mut clients = Vec::new();
    for base in ["CLUSTER_SERVE_1", "CLUSTER_SERVE_2", "CLUSTER_SERVE_3", "CLUSTER_LB"] {
        for _ in 0..4 {
            let seen = Arc::new(Mutex::new(Seen::default()));
            clients.push((
                base,
                seen.clone(),
                listen(cluster.at(base), watcher.clone(), seen, listening.clone()),
            ));
        }
    }

    // 1. A burst, and serve-2 killed without warning half-way
    let donations: usize =
        std::env::var("ZBOR_CLUSTER_DONATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(240);
    let amounts: Vec<i64> = (0..donations).map(|n| 500 + i64::try_from(n % 7).unwrap() * 1000).collect();
    let started = Instant::now();
    burst(&simulator, &amounts, || {
        cluster.stop("serve-2", "KILL");
    })
    .await;
    let paid_in = started.elapsed();
    let booked = "select count(*) from donations where status = 'paid'";
    wait_for_count(&app, booked, i64::try_from(donations).unwrap(), Duration::from_secs(180)).await;
    let first_burst = started.elapsed();
    // the load balancer spread the burst: the killed node had booked its share before it died
    let killed_log = std::fs::read_to_string(cluster.dir.join("serve-2.log")).unwrap();
    let booked_by_killed = killed_log.lines().filter(|l| l.contains("stripe event stored")).count();
    assert!(booked_by_killed > 0, "serve-2 received no webhook before it was killed");
    cluster.start("serve-2");

    // 2. A second burst during a rolling restart: each node drains (SIGTERM) and comes back
    let second: Vec<i64> = (0..donations / 2).map(|n| 1000 + i64::try_from(n % 5).unwrap() * 100).collect();
    let drains = Arc::new(Mutex::new(Vec::new()));
    let restarting = {
        let (dir, drains) = (cluster.dir.clone(), drains.clone());
        std::thread::spawn(move || {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/cluster.sh");
            for name in ["serve-1", "serve-2", "serve-3"] {
                let stop = Command::new(script)
                    .args(["stop", &dir.display().to_string(), name, "TERM"])
                    .output()
                    .unwrap();
                assert!(stop.status.success());
                let millis: u64 = String::from_utf8_lossy(&stop.stdout).trim().parse().unwrap();
                drains.lock().unwrap().push((name, millis));
                let start =
                    Command::new(script).args(["start", &dir.display().to_string(), name]).output().unwrap();
                assert!(start.status.success(), "{}", String::from_utf8_lossy(&start.stderr));
            }
        })
    };
    let restart_started = Instant::now();
    burst(&simulator, &second, || {}).await;
    restarting.join().unwrap();
    let total = donations + second.len();
    wait_for_count(&app, booked, i64::try_from(total).unwrap(), Duration::from_secs(180)).await;
    let restart_burst = restart_started.elapsed();
    let events = count(&app, "select count(*) from stripe_events").await;

    // nothing lost, nothing doubled: one donation and one ledger booking per payment
    let expected_cents: i64 = amounts.iter().chain(&second).sum();
    let raised: i64 =
        sqlx::query_scalar("select (sum(amount) * 100)::bigint from donations where status = 'paid'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(raised, expected_cents);
    let bookings =
        count(&app, "select count(*) from ledger_transactions where metadata->>'kind' = 'donation'").await;
    assert_eq!(bookings, i64::try_from(total).unwrap(), "one booking per donation");
    let expected_raised = format!("{}.{:02}", expected_cents / 100, expected_cents % 100);

    // every client, on every node, ends on the exact final total
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let behind: Vec<(&str, Seen)> = clients
            .iter()
            .map(|(base, seen, _)| (*base, seen.lock().unwrap().clone()))
            .filter(|(_, seen)| {
                seen.totals["raised"] != json!(expected_raised) || seen.totals["donations"] != json!(total)
            })
            .collect();
        if behind.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "clients not on {expected_raised} / {total}: {behind:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let reconnects: usize = clients.iter().map(|(_, seen, _)| seen.lock().unwrap().reconnects).sum();
    let listeners = clients.len();
    // every node was restarted: each of its clients came back, resuming with Last-Event-ID
    for (base, seen, _) in &clients {
        if base.starts_with("CLUSTER_SERVE") {
            assert!(seen.lock().unwrap().reconnects >= 1, "a client of {base} never reconnected");
        }
    }
    stop_listening.send(true).unwrap();
    for (_, _, task) in clients {
        task.await.unwrap();
    }
    let drains = drains.lock().unwrap().clone();
    assert_eq!(drains.len(), 3);
    for (name, millis) in &drains {
        // streams end at once and requests finish within 30 s: well inside the 40 s drain
        assert!(*millis < 40_000, "{name} took {millis} ms to drain");
    }

    // 3. Payouts: a batch released by two treasurers, paid by the cluster's two workers while
    //    one worker process is killed and started again
    const PEOPLE: usize = 40;
    let campaign = funded_campaign(&app.db, "payout-cohort", "40000").await;
    let mut items = Vec::new();
    for n in 0..PEOPLE {
        let new =
            serde_json::from_value(json!({"name": format!("Released person {n}"), "contact": "", "note": "",
            "method": {"kind": "stripe_connect", "account": format!("acct_1Pgaf{n:03}B7WZ01zgkW")}}))
            .unwrap();
        let id = zbor_payouts::beneficiaries::create(&app.db.pool, &key, campaign.id, &new).await.unwrap().id;
        items.push(NewItem { beneficiary: id, amount: "1000".into() });
    }
    let users = treasurers(&app.db, &key, &["a@example.org", "b@example.org", "c@example.org"]).await;
    confirm_all(&app.db.pool, campaign.id, users[1]).await;
    let batch = batches::create(&app.db.pool, campaign.id, users[0], &items).await.unwrap();
    assert_eq!(batch.total, eur("40000"));
    batches::approve(&app.db.pool, batch.id, users[1], &batch.content_hash).await.unwrap().unwrap();
    assert_eq!(
        batches::approve(&app.db.pool, batch.id, users[2], &batch.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );
    let paid_payouts = "select count(*) from payouts where status = 'paid'";
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&app, paid_payouts).await < 5 {
        assert!(Instant::now() < deadline, "the workers did not start paying");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cluster.stop("worker-1", "KILL");
    cluster.start("worker-1");
    wait_for_count(&app, paid_payouts, i64::try_from(PEOPLE).unwrap(), Duration::from_secs(120)).await;

    // at the rail: exactly one transfer per payout (Stripe's balance transactions of type transfer)
    let mut per_payout: HashMap<String, usize> = HashMap::new();
    let mut after: Option<String> = None;
    loop {
        let mut request = client
            .get(format!("{simulator}/v1/balance_transactions"))
            .bearer_auth(STRIPE_KEY)
            .query(&[("type", "transfer"), ("limit", "100"), ("expand[]", "data.source")]);
        if let Some(after) = &after {
            request = request.query(&[("starting_after", after.as_str())]);
        }
        let page: Value = request.send().await.unwrap().json().await.unwrap();
        for transaction in page["data"].as_array().unwrap() {
            let payout = transaction["source"]["metadata"]["zbor_payout"].as_str().unwrap().to_owned();
            *per_payout.entry(payout).or_default() += 1;
            after = transaction["id"].as_str().map(str::to_owned);
        }
        if page["has_more"] != json!(true) {
            break;
        }
    }
    assert_eq!(per_payout.len(), PEOPLE, "every payout reached Stripe");
    assert!(per_payout.values().all(|n| *n == 1), "a payout was transferred twice: {per_payout:?}");
    let references: HashSet<String> =
        sqlx::query_scalar("select rail_reference from payouts where batch_id = $1")
            .bind(batch.id)
            .fetch_all(&app.db.pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(references.len(), PEOPLE);

    eprintln!(
        "cluster: {donations} donations paid in {:.1} s (all booked after {:.1} s, serve-2 killed midway), \
         {} more during a rolling restart (all booked after {:.1} s); {total} booked once each from {events} \
         Stripe events, 0 lost; {} SSE clients on the exact total ({reconnects} reconnects); drains {drains:?} ms; \
         {PEOPLE} payouts paid once each through a killed worker",
        paid_in.as_secs_f64(),
        first_burst.as_secs_f64(),
        second.len(),
        restart_burst.as_secs_f64(),
        listeners
    );
    drop(cluster);
    app.finish().await;
}
