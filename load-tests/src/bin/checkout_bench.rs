//! Checkout under a donor burst, against a running `zbor serve` (spawned from
//! `target/release/zbor`) whose Stripe is the simulator, at Stripe's live limit of 100
//! requests/s (`ZBOR_STRIPE_REQUESTS_PER_SECOND`).
//!
//! 1. Paced within the limit: every donor gets a Checkout Session; latency p50/p99.
//! 2. A burst far above it (as after one social-media post): how many get a session at once,
//!    how many are told 503 quickly (the give page then sends them to the campaign's Payment
//!    Link, which needs no call of ours), and that no session was created twice.
//! 3. The paid sessions' fees, read from Stripe on the background budget: time until all are booked.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark that cannot set up should stop
// Floats and casts here measure time and rates, never money.
#![allow(clippy::float_arithmetic, clippy::as_conversions, clippy::cast_precision_loss)]

use std::time::{Duration, Instant};

use anyhow::ensure;
use serde_json::{json, Value};
use zbor_load_tests::{campaign_totals, fresh_database, p50_p99_ms, wait_until_ready, zbor_serve, Server};

const SECRET: &str = "whsec_bench_checkout";
const TOKEN: &str = "bench-admin-token";
const STRIPE_KEY: &str = "sk_test_bench";
const LISTEN: &str = "127.0.0.1:18182";
const STRIPE_RATE: u32 = 100;
const PACED_PER_SECOND: u32 = 60;
const PACED_SECONDS: u32 = 10;
const BURST: usize = 3_000;

/// One donor asking for a session: (HTTP status, latency, session id when 200).
async fn donate(client: &reqwest::Client, cents: u32) -> (u16, Duration, Option<String>) {
    let amount = format!("{}.{:02}", cents / 100, cents % 100);
    let started = Instant::now();
    let response = client
        .post(format!("http://{LISTEN}/api/v1/campaigns/release-123/checkout"))
        .json(&json!({ "amount": amount, "anonymous": true }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, started.elapsed(), body["session_id"].as_str().map(str::to_owned))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (url, pool) = fresh_database("zbor_bench_checkout", 2).await?;

    let sim = zbor_stripe_sim::Simulator::start(
        zbor_stripe_sim::Config {
            api_key: STRIPE_KEY.into(),
            webhook_url: Some(format!("http://{LISTEN}/webhooks/stripe")),
            webhook_secret: SECRET.into(),
            retry_first: Duration::from_millis(200),
            ..zbor_stripe_sim::Config::default()
        },
        "127.0.0.1:0".parse()?,
    )
    .await?;
    let _server = Server::start(
        zbor_serve(&url, LISTEN)
            .env("STRIPE_WEBHOOK_SECRET", SECRET)
            .env("STRIPE_SECRET_KEY", STRIPE_KEY)
            .env("STRIPE_API_BASE", &sim.base_url)
            .env("ZBOR_STRIPE_REQUESTS_PER_SECOND", STRIPE_RATE.to_string())
            .env("ZBOR_ADMIN_TOKEN", TOKEN)
            // every simulated donor comes from 127.0.0.1 here
            .env("ZBOR_CHECKOUTS_PER_MINUTE", "100000000")
            .env("ZBOR_REDIS_PREFIX", "zbor-bench-checkout:")
            .env("ZBOR_LOG", "error"),
    )?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(512).build()?;
    wait_until_ready(&client, LISTEN).await;
    let campaign = json!({"slug": "release-123", "title": "Release", "currency": "EUR", "goal": "123000"});
    let created: Value = client
        .post(format!("http://{LISTEN}/api/v1/campaigns"))
        .bearer_auth(TOKEN)
        .json(&campaign)
        .send()
        .await?
        .json()
        .await?;
    ensure!(created["payment_link_url"].is_string(), "campaign opened without its payment link: {created}");

    // 1. paced within the limit
    let start = tokio::time::Instant::now();
    let gap = Duration::from_secs(1) / PACED_PER_SECOND;
    let mut tasks = Vec::new();
    for i in 0..PACED_PER_SECOND * PACED_SECONDS {
        tokio::time::sleep_until(start + gap * i).await;
        let client = client.clone();
        tasks.push(tokio::spawn(async move { donate(&client, 1_000 + i % 4_000).await }));
    }
    let mut paced = Vec::new();
    let mut paced_ids = Vec::new();
    for task in tasks {
        let (status, latency, id) = task.await?;
        ensure!(status == 200, "a paced checkout answered {status}");
        paced.push(latency);
        paced_ids.extend(id);
    }

    // 2. a burst: every donor at once
    let burst_started = Instant::now();
    let tasks: Vec<_> = (0..BURST)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { donate(&client, 1_000 + (i as u32 * 7) % 4_000).await })
        })
        .collect();
    let (mut ok, mut busy, mut ok_ids) = (Vec::new(), Vec::new(), Vec::new());
    for task in tasks {
        match task.await? {
            (200, latency, id) => {
                ok.push(latency);
                ok_ids.extend(id);
            }
            (503, latency, _) => busy.push(latency),
            (status, _, _) => anyhow::bail!("a burst checkout answered {status}"),
        }
    }
    let burst_seconds = burst_started.elapsed().as_secs_f64();
    let sessions = sim.checkout_sessions().len();
    ensure!(
        sessions == paced_ids.len() + ok_ids.len(),
        "sessions at Stripe {sessions} != answered {}",
        paced_ids.len() + ok_ids.len()
    );

    // 3. donors pay 1,000 of the sessions; time until every fee is booked
    let paying: Vec<String> = paced_ids.iter().chain(ok_ids.iter()).take(1_000).cloned().collect();
    let paid_started = Instant::now();
    for chunk in paying.chunks(50) {
        let mut tasks = Vec::new();
        for id in chunk {
            let (client, url) = (client.clone(), format!("{}/sim/checkout/sessions/{id}/pay", sim.base_url));
            tasks.push(tokio::spawn(async move {
                client.post(url).json(&json!({"method": "card"})).send().await.map(|r| r.status().as_u16())
            }));
        }
        for task in tasks {
            ensure!(task.await?? == 200, "paying a session failed");
        }
    }
    let mut fees_booked_after = None;
    for _ in 0..1_200 {
        let booked: i64 =
            sqlx::query_scalar("select count(*) from donations where fee_transaction_id is not null")
                .fetch_one(&pool)
                .await?;
        if booked == paying.len() as i64 {
            fees_booked_after = Some(paid_started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let totals = campaign_totals(&client, LISTEN, "release-123", TOKEN).await?;

    println!("| measure | value |");
    println!("|---|---:|");
    println!(
        "| Stripe budget (requests/s): donors' checkouts / background | {} / {} |",
        STRIPE_RATE - STRIPE_RATE / 5,
        STRIPE_RATE / 5
    );
    println!(
        "| paced {PACED_PER_SECOND}/s for {PACED_SECONDS} s: sessions / latency p50 / p99 ms | {} / {} |",
        paced.len(),
        p50_p99_ms(&paced)
    );
    println!(
        "| burst of {BURST} at once: sessions / 503 (sent to the Payment Link) | {} / {} |",
        ok.len(),
        busy.len()
    );
    println!("| burst: sessions per second | {:.0} |", ok.len() as f64 / burst_seconds);
    println!("| burst: session latency p50 / p99 ms | {} |", p50_p99_ms(&ok));
    println!("| burst: 503 latency p50 / p99 ms | {} |", p50_p99_ms(&busy));
    println!("| sessions at Stripe = sessions answered (none twice) | {sessions} |");
    match fees_booked_after {
        Some(after) => {
            println!("| 1,000 paid: all fees read and booked after s | {:.1} |", after.as_secs_f64())
        }
        None => println!("| 1,000 paid: fees booked | not all within 120 s |"),
    }
    println!(
        "| totals after paying: raised / fees / net | {} / {} / {} |",
        totals["raised"], totals["fees"], totals["net"]
    );
    Ok(())
}
