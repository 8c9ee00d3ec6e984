//! Reconciliation, measured: a day of N donations (default 10,000) at the Stripe simulator, each
//! booked through zbor's event store with its fee, a partial refund every 100th, Stripe's payout
//! of the balance; then `zbor reconcile stripe`'s work (paging Stripe's balance transactions
//! with their sources, reading the ledger's postings, matching) timed, once with Stripe's calls
//! unthrottled (zbor's own cost) and once at 100 calls/s (Stripe's live limit). Then a bank
//! statement confirming M SEPA payouts (default 1,000) is imported, and imported again.
//!
//! `cargo run --release -p zbor-load-tests --bin reconcile-bench`; env `BENCH_DONATIONS`,
//! `BENCH_SEPA_PAYOUTS`. Needs PostgreSQL on `DATABASE_URL`.
// Floats here measure time and rates, never money.
#![allow(clippy::float_arithmetic, clippy::as_conversions, clippy::cast_precision_loss)]

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use chrono::Utc;
use futures_util::stream::{self, StreamExt};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::PgPool;
use zbor_audit::Actor;
use zbor_load_tests::{drop_database, fresh_database};
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_reconcile::against_stripe::{self, Period};
use zbor_reconcile::camt::testing::{camt053, TestEntry, TestTransaction};
use zbor_reconcile::camt::Direction;
use zbor_stripe::events::{Context as EventContext, Dispatcher};
use zbor_stripe::{Stripe, StripeConfig};
use zbor_stripe_sim::{Config as SimConfig, Simulator};
use zbor_vault::DataKey;

const KEY: &str = "sk_test_reconcile_bench";
const DATABASE: &str = "zbor_bench_reconcile";

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Stripe's events go straight into zbor's event store, as `/webhooks/stripe` does after the
/// signature check.
async fn receive(
    State((pool, events)): State<(PgPool, Arc<Dispatcher>)>,
    body: Bytes,
) -> axum::http::StatusCode {
    match events.receive(&pool, &body).await {
        Ok(_) => axum::http::StatusCode::OK,
        Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn stripe(base: &str, per_second: u32) -> anyhow::Result<Stripe> {
    let mut config = StripeConfig::new(KEY, base);
    config.requests_per_second = per_second;
    config.queue_wait_max = Duration::from_secs(600);
    Ok(Stripe::new(config)?)
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap_or(-1)
}

async fn until(pool: &PgPool, sql: &str, want: i64, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        let got = count(pool, sql).await;
        if got == want {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "{sql}: {got}, expected {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let donations = env_number("BENCH_DONATIONS", 10_000);
    let sepa_payouts = env_number("BENCH_SEPA_PAYOUTS", 1_000);
    let (_url, pool) = fresh_database(DATABASE, 16).await?;
    let events = Dispatcher::new(EventContext::default());
    let events = zbor_intake::webhook::register(events);
    let events = zbor_payouts::reconcile::register(events);
    let events = Arc::new(zbor_reconcile::stripe_payouts::register(events));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook = format!("http://{}/hook", listener.local_addr()?);
    let app = axum::Router::new().route("/hook", post(receive)).with_state((pool.clone(), events));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let sim = Simulator::start(
        SimConfig { api_key: KEY.into(), webhook_url: Some(hook), ..SimConfig::default() },
        "127.0.0.1:0".parse()?,
    )
    .await?;
    zbor_campaigns::create(
        &pool,
        &zbor_campaigns::NewCampaign {
            slug: "release-123".into(),
            title: "Release".into(),
            description: String::new(),
            currency: "EUR".into(),
            goal: "10000000".into(),
            amount_per_beneficiary: None,
            suggested_amounts: vec![],
            overflow: None,
            translations: Default::default(),
        },
    )
    .await?;

    // The day: N card donations of EUR 5.00 to 104.99, 32 donors at a time.
    let setup = Instant::now();
    let client = reqwest::Client::new();
    let base = sim.base_url.clone();
    let intents: Vec<String> = stream::iter(0..donations)
        .map(|n| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let cents = 500 + (n * 7919) % 10_000;
                let form = [
                    ("mode", "payment".to_owned()),
                    ("line_items[0][price_data][currency]", "eur".to_owned()),
                    ("line_items[0][price_data][unit_amount]", cents.to_string()),
                    ("line_items[0][price_data][product_data][name]", "Donation".to_owned()),
                    ("line_items[0][quantity]", "1".to_owned()),
                    ("metadata[zbor_campaign]", "release-123".to_owned()),
                ];
                let session: Value = client
                    .post(format!("{base}/v1/checkout/sessions"))
                    .bearer_auth(KEY)
                    .form(&form)
                    .send()
                    .await?
                    .json()
                    .await?;
                let id = session["id"].as_str().context("session id")?.to_owned();
                let paid: Value = client
                    .post(format!("{base}/sim/checkout/sessions/{id}/pay"))
                    .json(&json!({ "method": "card" }))
                    .send()
                    .await?
                    .json()
                    .await?;
                anyhow::Ok(paid["payment_intent"].as_str().unwrap_or_default().to_owned())
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let n = i64::try_from(donations)?;
    until(&pool, "select count(*) from donations where status = 'paid'", n, Duration::from_secs(600)).await?;
    let fees_at = stripe(&sim.base_url, 100_000)?;
    loop {
        let done = zbor_intake::webhook::fees::fetch_due(&pool, &fees_at, 1_000).await?;
        if done.fetched + done.failed == 0 {
            break;
        }
    }
    until(&pool, "select count(*) from donations where fee > 0", n, Duration::from_secs(60)).await?;
    let refunds = intents.iter().step_by(100).filter(|pi| !pi.is_empty()).count();
    for pi in intents.iter().step_by(100).filter(|pi| !pi.is_empty()) {
        sim.refund(pi, Some(100)).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    until(
        &pool,
        "select count(*) from donations where refunded > 0",
        i64::try_from(refunds)?,
        Duration::from_secs(120),
    )
    .await?;
    sim.pay_out("eur").map_err(|e| anyhow::anyhow!("{e}"))?;
    until(&pool, "select count(*) from stripe_payouts", 1, Duration::from_secs(60)).await?;
    let setup_seconds = setup.elapsed().as_secs_f64();
    let period =
        Period::new(Utc::now() - chrono::Duration::hours(1), Utc::now() + chrono::Duration::minutes(1))?;

    println!("reconcile-bench: {donations} donations, {refunds} refunds, 1 payout to the bank (set up in {setup_seconds:.0} s)");
    println!();
    println!("| Stripe calls | balance transactions | Stripe pages | groups matched | differences | seconds | transactions/s |");
    println!("|---|---|---|---|---|---|---|");
    for (label, per_second) in
        [("unthrottled (zbor's own cost)", 100_000), ("100/s (Stripe's live limit)", 100)]
    {
        let at = Instant::now();
        let report = against_stripe::reconcile(&pool, &stripe(&sim.base_url, per_second)?, period).await?;
        let seconds = at.elapsed().as_secs_f64();
        let transactions = donations + refunds + 1;
        ensure!(report.is_clean(), "differences: {:?}", report.differences.first());
        println!(
            "| {label} | {transactions} | {} | {} | {} | {seconds:.2} | {:.0} |",
            transactions.div_ceil(100),
            report.matched,
            report.differences.len(),
            transactions as f64 / seconds
        );
    }

    // A bank statement confirming M SEPA payouts (one batch booking), imported twice.
    let key = DataKey::generate();
    let campaign = zbor_campaigns::create(
        &pool,
        &zbor_campaigns::NewCampaign {
            slug: "sepa-bench".into(),
            title: "SEPA".into(),
            description: String::new(),
            currency: "EUR".into(),
            goal: "10000000".into(),
            amount_per_beneficiary: None,
            suggested_amounts: vec![],
            overflow: None,
            translations: Default::default(),
        },
    )
    .await?;
    fund(&pool, campaign.ledger_account, sepa_payouts).await?;
    let mut users = Vec::new();
    for email in ["a@example.org", "b@example.org", "c@example.org"] {
        let user = zbor_auth::add_user(
            &pool,
            &key,
            email,
            zbor_auth::Role::Treasurer,
            "correct horse battery",
            &Actor::CLI,
        )
        .await?;
        users.push(user.id);
    }
    let mut items = Vec::with_capacity(sepa_payouts);
    for n in 0..sepa_payouts {
        let new = serde_json::from_value(json!({"name": format!("Person {n}"), "contact": "", "note": "",
            "method": {"kind": "sepa", "iban": de_iban(n as u64)}}))?;
        let id = zbor_payouts::beneficiaries::create(&pool, &key, campaign.id, &new).await?.id;
        items.push(NewItem { beneficiary: id, amount: "1".into() });
    }
    let list = zbor_payouts::beneficiaries::list(&pool, campaign.id).await?;
    let pending: Vec<zbor_payouts::beneficiaries::Confirmation> = list.iter().map(Into::into).collect();
    zbor_payouts::beneficiaries::confirm(&pool, &pending, users[1]).await?;
    let batch = batches::create(&pool, campaign.id, users[0], &items).await?;
    batches::approve(&pool, batch.id, users[1], &batch.content_hash)
        .await?
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let released = batches::approve(&pool, batch.id, users[2], &batch.content_hash).await?;
    ensure!(released == Ok(Approved::Released), "{released:?}");
    let debtor = zbor_payouts::sepa::Debtor {
        name: "Civic Fund e.V.".into(),
        iban: zbor_payouts::iban::Iban::parse("DE89370400440532013000")?,
        bic: None,
    };
    let today = Utc::now().date_naive();
    zbor_payouts::sepa_files::create(&pool, &key, &debtor, batch.id, users[0], today).await?;
    let one = Decimal::from_str("1.00")?;
    let entry = TestEntry {
        amount: one * Decimal::from(sepa_payouts),
        currency: "EUR".into(),
        direction: Direction::Debit,
        reversal: false,
        booking_date: today,
        servicer_reference: "BATCH-1".into(),
        transactions: batch
            .items
            .iter()
            .map(|i| TestTransaction {
                end_to_end_id: Some(format!("ZBOR-P{}", i.payout)),
                amount: one,
                return_reason: None,
                remittance: None,
            })
            .collect(),
    };
    let xml = camt053("STMT-BENCH", "DE89370400440532013000", "EUR", Decimal::from(10_000_000), &[entry]);
    println!();
    println!("| bank statement, {sepa_payouts} SEPA payouts | lines | paid | seconds | lines/s |");
    println!("|---|---|---|---|---|");
    for label in [
        "first import (each payout locked, its hold posted, audited)",
        "the same file again (nothing changes)",
    ] {
        let at = Instant::now();
        let imported =
            zbor_reconcile::bank::import(&pool, xml.as_bytes(), &Actor::CLI, Some("DE89370400440532013000"))
                .await?;
        let seconds = at.elapsed().as_secs_f64();
        ensure!(
            imported.paid as usize == sepa_payouts || imported.already_imported,
            "{} paid",
            imported.paid
        );
        println!(
            "| {label} | {} | {} | {seconds:.2} | {:.0} |",
            imported.lines.len(),
            imported.paid,
            imported.lines.len() as f64 / seconds
        );
    }
    let verified = zbor_ledger::verify(&pool).await?;
    ensure!(verified.first_problem.is_none(), "ledger: {:?}", verified.first_problem);
    pool.close().await;
    drop_database(DATABASE).await?;
    Ok(())
}

/// EUR `payouts` on the campaign's account, as if donated.
async fn fund(pool: &PgPool, campaign: zbor_ledger::AccountId, payouts: usize) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    let eur = zbor_ledger::Currency::parse("EUR")?;
    let stripe = zbor_ledger::ensure_account(
        &mut conn,
        &zbor_campaigns::AccountCode::stripe_balance(eur).new_account(eur),
    )
    .await?;
    let amount = zbor_ledger::Money::new(Decimal::from(payouts), eur)?;
    let tx = zbor_ledger::NewTransaction::new(zbor_ledger::TransactionId::derived_from("bench:sepa-funds"))
        .debit(stripe.id, amount)
        .credit(campaign, amount);
    zbor_ledger::post_in(&mut conn, &tx).await?;
    Ok(())
}

/// A valid German IBAN for account number `n` (ISO 13616 check digits).
fn de_iban(n: u64) -> String {
    let bban = format!("37040044{n:010}");
    let remainder = format!("{bban}131400").bytes().fold(0u32, |r, b| (r * 10 + u32::from(b - b'0')) % 97);
    format!("DE{:02}{bban}", 98 - remainder)
}
