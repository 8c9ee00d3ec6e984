//! Replays the December 2025 campaign against a running `zbor serve` (spawned from
//! `target/release/zbor`): about 4,000 signed Stripe webhooks for donations that sum to exactly
//! EUR 123,000, 5% delivered twice, 2% refunded, with 1,000 SSE clients watching the total
//! (`BENCH_SSE_CLIENTS`).
//!
//! Reports: webhook deliveries per second sustained (as fast as the server takes them), webhook
//! latency p50/p99 at that rate and at a paced 500/s (`BENCH_PACED_RUNS` consecutive runs, each
//! on a campaign of its own), the lag from a booking's webhook response (sent after its commit)
//! to its SSE receipt, p50/p99 over all clients, and the server's resident memory (before and
//! with the SSE clients, after the burst; per connection). Checks the totals exactly at the end
//! and exits non-zero if they are wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark that cannot set up should stop
// Floats and casts here measure time and rates, never money.
#![allow(clippy::float_arithmetic, clippy::as_conversions, clippy::cast_precision_loss)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::ensure;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::Mutex;
use zbor_campaigns::{AccountCode, Slug};
use zbor_load_tests::{
    campaign_totals, drop_database, fresh_database, p50_p99_ms, wait_until_ready, zbor_serve, Server,
};
use zbor_stripe::signature::sign;

const SECRET: &str = "whsec_bench";
const TOKEN: &str = "bench-admin-token";
const LISTEN: &str = "127.0.0.1:18181";
const DONATIONS: usize = 4_000;
const BIG_GIFTS: usize = 20; // EUR 1,000 each
const GOAL_CENTS: i64 = 12_300_000;
/// SSE clients by default; `BENCH_SSE_CLIENTS` changes it (the 10,000).
const SSE_CLIENTS_DEFAULT: usize = 1_000;
const SENDERS: usize = 64;

/// Donation amounts in cents: many EUR 10.00–41.49, twenty of EUR 1,000, and one last gift that makes
/// the sum exactly EUR 123,000.00.
fn amounts() -> Vec<i64> {
    let mut cents: Vec<i64> =
        (0..DONATIONS - BIG_GIFTS - 1).map(|i| 1_000 + (i as i64 * 7_919) % 3_150).collect();
    cents.extend(std::iter::repeat_n(100_000, BIG_GIFTS));
    let last = GOAL_CENTS - cents.iter().sum::<i64>();
    assert!(last >= 50, "amount plan leaves {last} cents for the last gift");
    cents.push(last);
    cents
}

/// Stripe ids carry no dashes; campaign slugs may.
fn id_part(campaign: &str) -> String {
    campaign.replace('-', "_")
}

fn checkout_event(campaign: &str, n: usize, cents: i64) -> Vec<u8> {
    let c = id_part(campaign);
    serde_json::to_vec(&json!({
        "id": format!("evt_{c}_{n}"), "object": "event", "type": "checkout.session.completed",
        "created": chrono::Utc::now().timestamp(),
        "data": { "object": {
            "id": format!("cs_{c}_{n}"), "object": "checkout.session", "mode": "payment",
            "amount_total": cents, "currency": "eur", "payment_status": "paid", "status": "complete",
            "payment_intent": format!("pi_{c}_{n}"), "metadata": { "zbor_campaign": campaign }
        }}
    }))
    .unwrap()
}

fn refund_event(campaign: &str, n: usize, cents: i64) -> Vec<u8> {
    let c = id_part(campaign);
    serde_json::to_vec(&json!({
        "id": format!("evt_{c}_refund_{n}"), "object": "event", "type": "charge.refunded",
        "created": chrono::Utc::now().timestamp(),
        "data": { "object": {
            "id": format!("ch_{c}_{n}"), "object": "charge", "amount": cents,
            "amount_refunded": cents, "currency": "eur", "payment_intent": format!("pi_{c}_{n}")
        }}
    }))
    .unwrap()
}

async fn deliver(client: &reqwest::Client, body: Vec<u8>) -> anyhow::Result<Duration> {
    let header = sign(&body, SECRET, chrono::Utc::now().timestamp());
    let started = Instant::now();
    let response = client
        .post(format!("http://{LISTEN}/webhooks/stripe"))
        .header("stripe-signature", header)
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    ensure!(status.is_success(), "webhook answered {status}: {text}");
    Ok(started.elapsed())
}

/// Sends every body with `SENDERS` in flight; returns per-delivery latencies.
async fn blast(client: &reqwest::Client, bodies: Vec<Vec<u8>>) -> anyhow::Result<Vec<Duration>> {
    let queue = Arc::new(Mutex::new(bodies));
    let mut tasks = Vec::new();
    for _ in 0..SENDERS {
        let (queue, client) = (queue.clone(), client.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some(body) = queue.lock().await.pop() else { return Ok::<_, anyhow::Error>(latencies) };
                latencies.push(deliver(&client, body).await?);
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    Ok(all)
}

/// Open loop at `per_second`: each delivery starts at its scheduled time, however slow others are.
async fn paced(
    client: &reqwest::Client,
    bodies: Vec<Vec<u8>>,
    per_second: u32,
) -> anyhow::Result<Vec<Duration>> {
    let start = tokio::time::Instant::now();
    let gap = Duration::from_secs(1) / per_second;
    let mut tasks = Vec::new();
    for (i, body) in bodies.into_iter().enumerate() {
        tokio::time::sleep_until(start + gap * i as u32).await;
        let client = client.clone();
        tasks.push(tokio::spawn(async move { deliver(&client, body).await }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.push(task.await??);
    }
    Ok(all)
}

/// One SSE client: records when it saw each `donations` count first.
async fn watch(campaign: String, seen: Arc<Mutex<Vec<(i64, Instant)>>>, ready: Arc<tokio::sync::Barrier>) {
    // as staff: the exact, live totals (anyone else gets the public snapshot)
    let response = reqwest::Client::new()
        .get(format!("http://{LISTEN}/api/v1/campaigns/{campaign}/live"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    let mut announced = false;
    while let Some(Ok(chunk)) = stream.next().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) else { continue };
            let totals: Value = serde_json::from_str(data).unwrap();
            seen.lock().await.push((totals["donations"].as_i64().unwrap_or(-1), Instant::now()));
            if !announced {
                announced = true;
                ready.wait().await;
            }
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sse_clients: usize =
        std::env::var("BENCH_SSE_CLIENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(SSE_CLIENTS_DEFAULT);
    // consecutive paced runs, each on its own campaign (the aim is a p99 in every one)
    let paced_runs: usize = std::env::var("BENCH_PACED_RUNS").ok().and_then(|n| n.parse().ok()).unwrap_or(1);
    let open_files = zbor_load_tests::raise_open_files_limit()?;
    ensure!(
        open_files as usize > sse_clients + 1_000,
        "open files limit {open_files}: too low for {sse_clients} SSE clients"
    );
    let db_name = "zbor_bench_intake";
    let (url, pool) = fresh_database(db_name, 2).await?;

    let server = Server::start(
        zbor_serve(&url, LISTEN)
            .env("STRIPE_WEBHOOK_SECRET", SECRET)
            .env("ZBOR_ADMIN_TOKEN", TOKEN)
            .env("ZBOR_REDIS_PREFIX", "zbor-bench:")
            .env("ZBOR_DATABASE_CONNECTIONS_MAX", "48")
            .env("ZBOR_LOG", "warn")
            // all 1,000 watchers come from 127.0.0.1 here; in production one address holds 20
            .env("ZBOR_SSE_CONNECTIONS_PER_ADDRESS_MAX", (sse_clients + 10).to_string())
            .env("ZBOR_SSE_CONNECTIONS_MAX", (sse_clients + 10).to_string()),
    )?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(SENDERS).build()?;
    wait_until_ready(&client, LISTEN).await;
    let paced_slugs: Vec<String> = (0..paced_runs).map(|k| format!("release-paced-{k}")).collect();
    for slug in std::iter::once("release-123").chain(paced_slugs.iter().map(String::as_str)) {
        let campaign = json!({"slug": slug, "title": "Release", "currency": "EUR", "goal": "123000",
                              "amount_per_beneficiary": "1000"});
        let r = client
            .post(format!("http://{LISTEN}/api/v1/campaigns"))
            .bearer_auth(TOKEN)
            .json(&campaign)
            .send()
            .await?;
        ensure!(r.status().as_u16() == 201, "create campaign: {}", r.text().await?);
    }

    // Coordinators watching (1,000 by default).
    let rss_before_clients = server.rss_kib()?;
    let ready = Arc::new(tokio::sync::Barrier::new(sse_clients + 1));
    let mut watchers = Vec::new();
    for _ in 0..sse_clients {
        let seen = Arc::new(Mutex::new(Vec::new()));
        tokio::spawn(watch("release-123".into(), seen.clone(), ready.clone()));
        watchers.push(seen);
    }
    ready.wait().await;
    eprintln!("{sse_clients} SSE clients connected");
    let rss_with_clients = server.rss_kib()?;

    // Phase 1: the burst, as fast as the server takes it.
    let cents = amounts();
    let mut bodies: Vec<Vec<u8>> =
        cents.iter().enumerate().map(|(n, c)| checkout_event("release-123", n, *c)).collect();
    let refunded: Vec<usize> = (0..DONATIONS).filter(|n| n % 50 == 7).collect(); // 2%
    let refunded_cents: i64 = refunded.iter().map(|n| cents[*n]).sum();
    bodies.extend(refunded.iter().map(|n| refund_event("release-123", *n, cents[*n])));
    let duplicates: Vec<Vec<u8>> = bodies.iter().step_by(20).cloned().collect(); // 5%
    bodies.extend(duplicates);
    // Deterministic shuffle: refunds and duplicates arrive in any order, as Stripe's may.
    let mut seed = 0x2025_1213u64;
    for i in (1..bodies.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        bodies.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    let deliveries = bodies.len();
    let started = Instant::now();
    let burst = blast(&client, bodies).await?;
    let burst_seconds = started.elapsed().as_secs_f64();
    let last_response = Instant::now();
    let rss_after_burst = server.rss_kib()?;

    // Every SSE client must reach the final count; lag from the last webhook response.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut final_lags = Vec::new();
    for seen in &watchers {
        let seen = seen.lock().await;
        if let Some((_, at)) = seen.iter().find(|(count, _)| *count == DONATIONS as i64) {
            final_lags.push(at.saturating_duration_since(last_response));
        }
    }
    ensure!(
        final_lags.len() == sse_clients,
        "{} of {sse_clients} clients saw the final total",
        final_lags.len()
    );

    // Exact totals (the hot copy trails the last commit by at most one coalescing tick).
    let totals = campaign_totals(&client, LISTEN, "release-123", TOKEN).await?;
    let net_cents = GOAL_CENTS - refunded_cents;
    let money = |c: i64| format!("{}.{:02}", c / 100, c % 100);
    ensure!(totals["raised"] == "123000.00", "raised {}", totals["raised"]);
    ensure!(totals["refunded"] == money(refunded_cents).as_str(), "refunded {}", totals["refunded"]);
    ensure!(totals["net"] == money(net_cents).as_str(), "net {}", totals["net"]);
    ensure!(totals["donations"] == DONATIONS as i64, "donations {}", totals["donations"]);
    let account = AccountCode::campaign(&Slug::parse("release-123")?);
    let ledger: Value = client
        .get(format!("http://{LISTEN}/api/v1/ledger/accounts/{account}"))
        .bearer_auth(TOKEN)
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        ledger["balance"]["posted"]["amount"] == money(net_cents).as_str(),
        "ledger {}",
        ledger["balance"]
    );
    eprintln!("totals exact: raised 123000.00, refunded {}, net {}", money(refunded_cents), money(net_cents));

    // Phase 3 (same clients): isolated donations, lag from webhook response to SSE receipt.
    let mut lags = Vec::new();
    for k in 0..30 {
        let n = DONATIONS + 1 + k;
        deliver(&client, checkout_event("release-123", n, 100)).await?;
        let committed = Instant::now(); // the response came after the commit
        tokio::time::sleep(Duration::from_millis(400)).await;
        let count = (DONATIONS + 1 + k) as i64;
        for seen in &watchers {
            if let Some((_, at)) = seen.lock().await.iter().find(|(c, _)| *c == count) {
                lags.push(at.saturating_duration_since(committed));
            }
        }
    }

    // Phase 2: paced at 500/s, each run on a campaign of its own.
    let mut paced_runs_latencies = Vec::new();
    for slug in &paced_slugs {
        let paced_bodies: Vec<Vec<u8>> =
            cents.iter().enumerate().map(|(n, c)| checkout_event(slug, n, *c)).collect();
        let latencies = paced(&client, paced_bodies, 500).await?;
        tokio::time::sleep(Duration::from_secs(1)).await; // one coalescing tick and then some
        let paced_totals = campaign_totals(&client, LISTEN, slug, TOKEN).await?;
        ensure!(paced_totals["raised"] == "123000.00", "{slug} raised {}", paced_totals["raised"]);
        eprintln!("paced run {slug}: p50 / p99 ms {}", p50_p99_ms(&latencies));
        paced_runs_latencies.push(latencies);
    }
    let paced_count = cents.len();
    drop(server);

    println!("| measure | value |");
    println!("|---|---:|");
    println!("| burst: deliveries (4,000 donations + 2% refunds + 5% duplicates) | {deliveries} |");
    println!(
        "| burst: deliveries/s sustained, {SENDERS} senders | {:.0} |",
        deliveries as f64 / burst_seconds
    );
    println!("| burst: webhook latency p50 / p99 ms | {} |", p50_p99_ms(&burst));
    for (k, latencies) in paced_runs_latencies.iter().enumerate() {
        println!(
            "| paced 500/s ({paced_count} deliveries), run {} of {paced_runs}: webhook latency p50 / p99 ms | {} |",
            k + 1,
            p50_p99_ms(latencies)
        );
    }
    println!(
        "| SSE lag, webhook response → receipt, {} samples ({sse_clients} clients × 30 donations) p50 / p99 ms | {} |",
        lags.len(),
        p50_p99_ms(&lags)
    );
    println!(
        "| SSE: after the burst's last response, all {sse_clients} clients had the final total within p50 / p99 ms | {} |",
        p50_p99_ms(&final_lags)
    );
    println!(
        "| server RSS: before the SSE clients / with them / after the burst, MiB | {:.1} / {:.1} / {:.1} |",
        rss_before_clients as f64 / 1024.0,
        rss_with_clients as f64 / 1024.0,
        rss_after_burst as f64 / 1024.0
    );
    println!(
        "| server RSS per SSE connection, KiB | {:.1} |",
        rss_with_clients.saturating_sub(rss_before_clients) as f64 / sse_clients as f64
    );
    println!(
        "| totals checked exactly | raised 123000.00, refunded {}, net {} |",
        money(refunded_cents),
        money(net_cents)
    );
    pool.close().await;
    drop_database(db_name).await?;
    Ok(())
}
