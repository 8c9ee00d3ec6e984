//! The accountant's export of a busy month: 100,000 paid donations (each booked in the ledger)
//! exported as CSV from a running `zbor serve` (spawned from `target/release/zbor`, or
//! `ZBOR_BIN`). Prints rows/s, MB/s, the time to the first byte, and the server's resident
//! memory before, at its highest during the export (sampled every 20 ms) and its peak since
//! start (`VmHWM`): an export streams a page at a time, so the memory must not grow with the
//! file. Checks that the file has every row and that its amounts add up to the ledger's.
//! Env: `BENCH_DONATIONS` (default 100,000).
// Floats and casts here measure time and rates, never money.
#![allow(clippy::float_arithmetic, clippy::as_conversions, clippy::cast_precision_loss)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use futures_util::StreamExt;
use rust_decimal::Decimal;
use serde_json::json;
use zbor_ledger::{Currency, Money, NewTransaction, TransactionId};
use zbor_load_tests::{drop_database, fresh_database, wait_until_ready, zbor_serve, Server};

const LISTEN: &str = "127.0.0.1:18093";
const TOKEN: &str = "bench-admin-token";
const DONATIONS_DEFAULT: usize = 100_000;
const CHUNK: usize = 1_000;

fn peak_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|k| k.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let donations: usize =
        std::env::var("BENCH_DONATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(DONATIONS_DEFAULT);
    let db_name = "zbor_bench_export";
    let (url, pool) = fresh_database(db_name, 4).await?;
    let server = Server::start(
        zbor_serve(&url, LISTEN)
            .env("ZBOR_ADMIN_TOKEN", TOKEN)
            .env("ZBOR_REDIS_PREFIX", "zbor-bench-export:")
            .env("ZBOR_LOG", "warn"),
    )?;
    let pid = server.pid();
    let client = reqwest::Client::new();
    wait_until_ready(&client, LISTEN).await;
    let campaign = json!({"slug": "release-123", "title": "Release", "currency": "EUR", "goal": "123000",
                          "amount_per_beneficiary": "1000"});
    let r = client
        .post(format!("http://{LISTEN}/api/v1/campaigns"))
        .bearer_auth(TOKEN)
        .json(&campaign)
        .send()
        .await?;
    ensure!(r.status().as_u16() == 201, "create campaign: {}", r.text().await?);

    // the donations, booked as the intake books them: a ledger transaction each, then the row
    let started = Instant::now();
    let eur = Currency::parse("EUR")?;
    let mut conn = pool.acquire().await?;
    let stripe = zbor_ledger::account_by_code(&mut *conn, "stripe:balance:eur").await?.id;
    let (campaign_id, account): (i64, i64) =
        sqlx::query_as("select id, ledger_account_id from campaigns where slug = 'release-123'")
            .fetch_one(&mut *conn)
            .await?;
    let account = zbor_ledger::AccountId::from_i64(account);
    let mut expected = Decimal::ZERO;
    for start in (0..donations).step_by(CHUNK) {
        let mut db = pool.begin().await?;
        let end = (start + CHUNK).min(donations);
        let sessions: Vec<String> = (start..end).map(|n| format!("cs_bench_{n:07}")).collect();
        let amounts: Vec<Money> = (start..end)
            .map(|n| Money::from_minor_units(1_000 + i64::try_from(n % 9_000).unwrap_or(0) * 5, eur))
            .collect::<Result<_, _>>()?;
        expected += amounts.iter().map(Money::amount).sum::<Decimal>();
        let transactions: Vec<NewTransaction> = sessions
            .iter()
            .zip(&amounts)
            .map(|(session, amount)| {
                NewTransaction::new(TransactionId::derived_from(session))
                    .debit(stripe, *amount)
                    .credit(account, *amount)
                    .metadata(json!({ "kind": "donation", "stripe_session": session }))
            })
            .collect();
        zbor_ledger::post_many_in(&mut db, &transactions).await?;
        sqlx::query(
            "insert into donations (stripe_session_id, campaign_id, currency, amount, status, stripe_payment_intent,
                                    ledger_transaction_id, paid_at)
             select s, $2, 'EUR', a, 'paid', 'pi_' || substr(s, 4), t, now()
             from unnest($1::text[], $3::numeric[], $4::uuid[]) as d (s, a, t)",
        )
        .bind(&sessions)
        .bind(campaign_id)
        .bind(amounts.iter().map(Money::amount).collect::<Vec<_>>())
        .bind(transactions.iter().map(|t| t.id.as_uuid()).collect::<Vec<_>>())
        .execute(&mut *db)
        .await?;
        db.commit().await?;
    }
    drop(conn);
    println!("booked {donations} donations (ledger and rows) in {:.1} s", started.elapsed().as_secs_f64());

    let rss_before = server.rss_kib()?;
    let highest = Arc::new(AtomicU64::new(rss_before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (highest, done) = (highest.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                highest.fetch_max(peak_kib(pid, "VmRSS:"), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let today = chrono::Utc::now().date_naive();
    let (from, to) = (today - chrono::Duration::days(1), today + chrono::Duration::days(1));
    let started = Instant::now();
    let response = client
        .get(format!("http://{LISTEN}/api/v1/exports/donations.csv?from={from}&to={to}"))
        .bearer_auth(TOKEN)
        .send()
        .await?;
    ensure!(response.status().as_u16() == 200, "export: {}", response.status());
    let mut body = response.bytes_stream();
    let (mut bytes, mut first_byte, mut text) = (0usize, None, Vec::new());
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        first_byte.get_or_insert_with(|| started.elapsed());
        bytes += chunk.len();
        text.extend_from_slice(&chunk);
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.await?;
    let rss_peak_since_start = peak_kib(pid, "VmHWM:");
    let rss_after = server.rss_kib()?;

    // every row, and the amounts add up to the ledger's
    let mut reader = csv_rows(&text)?;
    let total: Decimal = reader.iter().map(|amount| amount.parse::<Decimal>().unwrap_or_default()).sum();
    let rows = reader.len();
    reader.clear();
    ensure!(rows == donations, "{rows} rows exported of {donations}");
    ensure!(total == expected, "the export sums to {total}, the ledger to {expected}");

    let secs = elapsed.as_secs_f64();
    println!(
        "export of {rows} donations: {:.2} s, {:.0} rows/s, {:.1} MB ({:.1} MB/s), first byte after {} ms",
        secs,
        rows as f64 / secs,
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs,
        first_byte.unwrap_or_default().as_millis()
    );
    println!(
        "server RSS: {:.1} MiB before, {:.1} MiB highest during the export (+{:.1} MiB), {:.1} MiB after; VmHWM since start {:.1} MiB",
        rss_before as f64 / 1024.0,
        highest.load(Ordering::Relaxed) as f64 / 1024.0,
        highest.load(Ordering::Relaxed).saturating_sub(rss_before) as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        rss_peak_since_start as f64 / 1024.0,
    );
    println!("sum of amounts {total} EUR = the ledger's {expected} EUR");
    drop(server);
    pool.close().await;
    drop_database(db_name).await
}

/// The `amount` column of the CSV (the third), read without a CSV library: the export's amounts
/// and slugs hold no comma or quote.
fn csv_rows(text: &[u8]) -> anyhow::Result<Vec<String>> {
    let text = std::str::from_utf8(text).context("the export is UTF-8")?;
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let header = lines.next().context("a header")?;
    ensure!(header.starts_with("date,campaign,amount,"), "header {header}");
    lines.map(|l| l.split(',').nth(2).map(str::to_owned).context("an amount")).collect()
}
