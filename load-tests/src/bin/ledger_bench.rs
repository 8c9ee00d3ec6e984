//! Ledger throughput on this machine, `synchronous_commit` on. Prints a Markdown table.
//!
//! Scenarios, each for 1, 16 and 64 concurrent writers:
//! - hot: every transaction debits one processor balance and credits one campaign account, as
//!   a burst of donations does (both accounts are hot);
//! - uniform: every transaction moves money between two of 50 accounts picked at random;
//! - batched (hot): as hot, but each writer books [`BATCH`] transactions per database
//!   transaction with `Ledger::post_many` (one statement), as the webhook's group commit does;
//!   counted in transactions, its latency is a whole batch's;
//! - row-lock baseline (hot): the classic design that keeps a balance column on the account row
//!   and updates it in every transfer, so all writers queue on that row;
//! - pgbench: PostgreSQL's own tool committing a one-row insert per transaction: the ceiling for
//!   a durable commit on this disk.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// a benchmark that cannot set up should stop
// Floats and casts here measure time and rates, never money.
#![allow(clippy::float_arithmetic, clippy::as_conversions, clippy::cast_precision_loss)]

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rust_decimal::Decimal;
use sqlx::{Executor, PgPool};
use zbor_ledger::{
    AccountId, AccountKind, Currency, Ledger, Money, NewAccount, NewTransaction, TransactionId,
};
use zbor_load_tests::{drop_database, fresh_database, percentile};

const WRITERS: [usize; 3] = [1, 16, 64];
const UNIFORM_ACCOUNTS: usize = 50;
/// Transactions per `post_many` in the batched scenario (the webhook's largest group).
const BATCH: usize = 64;

struct Cell {
    scenario: &'static str,
    writers: usize,
    transactions: u64,
    seconds: f64,
    latencies_us: Vec<u64>,
}

impl Cell {
    fn tps(&self) -> f64 {
        self.transactions as f64 / self.seconds
    }
    fn percentile_ms(&self, p: f64) -> f64 {
        let mut ms: Vec<f64> = self.latencies_us.iter().map(|&us| us as f64 / 1000.0).collect();
        percentile(&mut ms, p)
    }
}

/// Small deterministic generator: the benchmark needs spread, not security.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// 10.00 .. 59.99
    fn donation_cents(&mut self) -> i64 {
        1000 + (self.next() % 5000) as i64
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5);
    let duration = Duration::from_secs(seconds);
    let db_name = "zbor_bench_ledger";
    // pgbench first, while this process holds a single connection: PostgreSQL's default of 100
    // connections cannot serve pgbench's 64 clients and our 64 writers at once.
    let (url, setup) = fresh_database(db_name, 1).await?;
    setup.execute("create table bench_pgbench_rows (id bigserial primary key, v int not null)").await?;
    setup.close().await;
    let mut pgbench_cells = Vec::new();
    for writers in WRITERS {
        pgbench_cells.push(pgbench(&url, writers, seconds)?);
    }
    let pool = zbor_db::connect(&url, 70).await.context("connect")?;
    let sync: String = sqlx::query_scalar("show synchronous_commit").fetch_one(&pool).await?;
    let fsync: String = sqlx::query_scalar("show fsync").fetch_one(&pool).await?;
    let version: String = sqlx::query_scalar("show server_version").fetch_one(&pool).await?;
    eprintln!("PostgreSQL {version}, synchronous_commit={sync}, fsync={fsync}, {seconds} s per cell");

    let ledger = Arc::new(Ledger::new(pool.clone()));
    let eur = Currency::parse("EUR")?;
    let account = |code: String, kind| NewAccount { code, kind, currency: eur, non_negative: false };
    let bank = ledger.create_account(&account("stripe:balance".into(), AccountKind::Asset)).await?.id;
    let campaign = ledger.create_account(&account("campaign:hot".into(), AccountKind::Liability)).await?.id;
    let mut uniform = Vec::new();
    for i in 0..UNIFORM_ACCOUNTS {
        uniform.push(ledger.create_account(&account(format!("uniform:{i}"), AccountKind::Asset)).await?.id);
    }
    let uniform = Arc::new(uniform);
    pool.execute(
        "create table bench_row_lock_accounts (id int primary key, balance numeric not null);
         insert into bench_row_lock_accounts values (1, 0), (2, 0);
         create table bench_row_lock_postings (id bigserial primary key, transfer uuid not null,
             account int not null references bench_row_lock_accounts (id), amount numeric not null);",
    )
    .await?;

    let mut cells = Vec::new();
    for writers in WRITERS {
        let (b, c) = (bank, campaign);
        cells.push(
            run(
                "ledger, one hot account",
                writers,
                duration,
                ledger.clone(),
                move |ledger, rng| async move {
                    let amount = Money::from_minor_units(rng, eur).unwrap();
                    let tx =
                        NewTransaction::new(TransactionId::new_random()).debit(b, amount).credit(c, amount);
                    ledger.post(&tx).await.map(|_| ()).map_err(anyhow::Error::from)
                },
            )
            .await,
        );
        cells.push(
            run_counted(
                "ledger, one hot account, batches of 64",
                writers,
                duration,
                ledger.clone(),
                move |ledger, rng| async move {
                    let txs: Vec<NewTransaction> = (0..BATCH as i64)
                        .map(|n| {
                            let amount = Money::from_minor_units(1000 + (rng + n) % 5000, eur).unwrap();
                            NewTransaction::new(TransactionId::new_random())
                                .debit(b, amount)
                                .credit(c, amount)
                        })
                        .collect();
                    ledger.post_many(&txs).await.map(|_| ()).map_err(anyhow::Error::from)
                },
                BATCH as u64,
            )
            .await,
        );
        let accounts = uniform.clone();
        cells.push(
            run("ledger, 50 uniform accounts", writers, duration, ledger.clone(), move |ledger, rng| {
                let accounts = accounts.clone();
                async move {
                    let amount = Money::from_minor_units(rng, eur).unwrap();
                    let (from, to) = pick_two(&accounts, rng as u64);
                    let tx = NewTransaction::new(TransactionId::new_random())
                        .debit(from, amount)
                        .credit(to, amount);
                    ledger.post(&tx).await.map(|_| ()).map_err(anyhow::Error::from)
                }
            })
            .await,
        );
        cells.push(
            run(
                "baseline: lock the balance row (hot)",
                writers,
                duration,
                ledger.clone(),
                |ledger, rng| async move { row_lock_transfer(ledger.pool(), Decimal::new(rng, 2)).await },
            )
            .await,
        );
    }
    cells.extend(pgbench_cells);

    // The ledger must still be exact after all that.
    ledger.seal_all().await?;
    let report = ledger.verify().await?;
    anyhow::ensure!(report.is_ok(), "ledger verify failed: {:?}", report.first_problem);
    let hot = ledger.balance(campaign).await?;
    eprintln!(
        "verify ok: {} transactions, {} postings, all sealed; hot campaign posted {}",
        report.transactions, report.postings, hot.posted
    );

    println!("| scenario | writers | transactions/s | postings/s | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    for cell in &cells {
        let postings = if cell.scenario.starts_with("pgbench") { cell.tps() } else { cell.tps() * 2.0 };
        let (p50, p99) = if cell.scenario.starts_with("pgbench") {
            (format!("{:.1} (mean)", cell.percentile_ms(0.50)), "–".to_owned())
        } else {
            (format!("{:.1}", cell.percentile_ms(0.50)), format!("{:.1}", cell.percentile_ms(0.99)))
        };
        println!(
            "| {} | {} | {:.0} | {:.0} | {p50} | {p99} |",
            cell.scenario,
            cell.writers,
            cell.tps(),
            postings
        );
    }
    for writers in WRITERS {
        let find =
            |s: &str| cells.iter().find(|c| c.writers == writers && c.scenario.starts_with(s)).map(Cell::tps);
        if let (Some(hot), Some(uniform), Some(baseline), Some(pg), Some(batched)) = (
            cells
                .iter()
                .find(|c| c.writers == writers && c.scenario == "ledger, one hot account")
                .map(Cell::tps),
            find("ledger, 50"),
            find("baseline"),
            find("pgbench"),
            find("ledger, one hot account, batches"),
        ) {
            println!(
                "\n{writers} writers: hot/uniform {:.2}×, hot/row-lock baseline {:.2}×, hot/pgbench {:.2}×, batched/pgbench {:.2}×",
                hot / uniform,
                hot / baseline,
                hot / pg,
                batched / pg
            );
        }
    }
    pool.close().await;
    drop_database(db_name).await?;
    Ok(())
}

fn pick_two(accounts: &[AccountId], r: u64) -> (AccountId, AccountId) {
    let n = accounts.len() as u64;
    let a = (r % n) as usize;
    let b = ((a as u64 + 1 + (r / n) % (n - 1)) % n) as usize;
    (accounts[a], accounts[b])
}

async fn row_lock_transfer(pool: &PgPool, amount: Decimal) -> anyhow::Result<()> {
    let id = uuid_v4();
    let mut tx = pool.begin().await?;
    sqlx::query("update bench_row_lock_accounts set balance = balance + $1 where id = 1")
        .bind(amount)
        .execute(&mut *tx)
        .await?;
    sqlx::query("update bench_row_lock_accounts set balance = balance - $1 where id = 2")
        .bind(amount)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "insert into bench_row_lock_postings (transfer, account, amount) values ($1, 1, $2), ($1, 2, -$2)",
    )
    .bind(id)
    .bind(amount)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

fn uuid_v4() -> sqlx::types::Uuid {
    TransactionId::new_random().as_uuid()
}

async fn run<F, Fut>(
    scenario: &'static str,
    writers: usize,
    duration: Duration,
    ledger: Arc<Ledger>,
    op: F,
) -> Cell
where
    F: Fn(Arc<Ledger>, i64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    run_counted(scenario, writers, duration, ledger, op, 1).await
}

/// [`run`] for an operation that books `transactions_per_op` transactions (a batch).
async fn run_counted<F, Fut>(
    scenario: &'static str,
    writers: usize,
    duration: Duration,
    ledger: Arc<Ledger>,
    op: F,
    transactions_per_op: u64,
) -> Cell
where
    F: Fn(Arc<Ledger>, i64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (ledger, op) = (ledger.clone(), op.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ ((w as u64 + 1) * 0x2545_f491_4f6c_dd1d));
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let began = Instant::now();
                op(ledger.clone(), rng.donation_cents()).await.expect("benchmark operation failed");
                latencies.push(began.elapsed().as_micros() as u64);
            }
            latencies
        }));
    }
    let mut latencies_us = Vec::new();
    for task in tasks {
        latencies_us.extend(task.await.unwrap());
    }
    let seconds = start.elapsed().as_secs_f64();
    let transactions = latencies_us.len() as u64 * transactions_per_op;
    let cell = Cell { scenario, writers, transactions, seconds, latencies_us };
    eprintln!("{scenario:>40} · {writers:>2} writers · {:>8.0} tx/s", cell.tps());
    cell
}

fn pgbench(url: &str, writers: usize, seconds: u64) -> anyhow::Result<Cell> {
    let script = std::env::temp_dir().join("zbor-pgbench-insert.sql");
    std::fs::write(&script, "insert into bench_pgbench_rows (v) values (1);\n")?;
    let out = Command::new("pgbench")
        .args([
            "-n",
            "-c",
            &writers.to_string(),
            "-j",
            &writers.min(2).to_string(),
            "-T",
            &seconds.to_string(),
        ])
        .arg("-f")
        .arg(&script)
        .arg(url)
        .output()
        .context("running pgbench (Debian package postgresql-client)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    anyhow::ensure!(out.status.success(), "pgbench failed: {}", String::from_utf8_lossy(&out.stderr));
    let tps: f64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .context("no tps in pgbench output")?;
    let latency_ms: f64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("latency average = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(f64::NAN);
    let transactions = (tps * seconds as f64).round() as u64;
    eprintln!("{:>40} · {writers:>2} writers · {tps:>8.0} tx/s", "pgbench one-row insert");
    // pgbench reports only an average latency: stand it in for p50 and leave p99 empty.
    Ok(Cell {
        scenario: "pgbench: one-row insert per transaction",
        writers,
        transactions,
        seconds: seconds as f64,
        latencies_us: if latency_ms.is_nan() { vec![] } else { vec![(latency_ms * 1000.0) as u64] },
    })
}
