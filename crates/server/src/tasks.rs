//! Background work every server process runs. Each task is safe to run in many processes at once
//! (the sealer takes an advisory lock), so N stateless servers need no coordinator.

use std::time::Duration;

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::watch;
use zbor_intake::checkout::CheckoutLinks;

use crate::live::Live;

/// How often committed transactions are appended to the hash chain.
const SEAL_INTERVAL: Duration = Duration::from_millis(500);
/// How often holds past their expiry are marked expired.
const EXPIRE_INTERVAL: Duration = Duration::from_secs(10);
/// How often Stripe's fees not yet known are looked up, and how many per pass (a full pass is
/// followed by another at once: a backlog drains at the background rate limit).
const FEES_INTERVAL: Duration = Duration::from_secs(1);
const FEES_PER_PASS: i64 = 100;
/// How often open campaigns without a Payment Link (Stripe was down when they opened) get one.
const PAYMENT_LINKS_INTERVAL: Duration = Duration::from_secs(10);
/// How often a server checks whether yesterday's reconciliation with Stripe has run, and
/// reconciles the contents of Stripe's payouts paid since.
const DAILY_RECONCILIATION_INTERVAL: Duration = Duration::from_secs(600);
/// How often the events Stripe has not delivered are read back and applied, and how far back:
/// Stripe's own retry period, so a server that was down up to 3 days picks up what it missed by
/// itself (longer: `zbor stripe sync --since`). Only undelivered events are listed: normally
/// none, one request a pass.
const EVENT_SYNC_INTERVAL: Duration = Duration::from_secs(600);
const EVENT_SYNC_WINDOW: chrono::Duration = chrono::Duration::hours(72);
/// One instance at a time reads the events back: the others would find everything stored.
const EVENT_SYNC_LOCK: i64 = 0x7a62_6f72_5359_4e43; // "zborSYNC"

/// Spawns a background task under a span naming it, so each of its log lines says which task
/// wrote it: `task{task="payout_sweeper"}: …` in text, `"span":{"task":"payout_sweeper",…}` in
/// JSON (`ZBOR_LOG_FORMAT=json`).
pub fn spawn_named<F>(name: &'static str, task: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    use tracing::Instrument;
    tokio::spawn(task.instrument(tracing::info_span!("task", task = name)))
}

pub fn spawn_all(
    pool: PgPool,
    checkout: Option<CheckoutLinks>,
    live: Arc<Live>,
    events: Arc<zbor_stripe::events::Dispatcher>,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(crate::overflow::watch_caps(pool.clone(), checkout.clone(), live.clone(), shutdown.clone()));
    if let Some(checkout) = checkout {
        spawn_named(
            "daily_reconciliation",
            daily_reconciliation(pool.clone(), checkout.background().clone(), shutdown.clone()),
        );
        spawn_named(
            "stripe_event_sync",
            event_sync(pool.clone(), checkout.background().clone(), events, live.clone(), shutdown.clone()),
        );
        spawn_named("stripe_fees_and_links", stripe_tasks(pool.clone(), checkout, live, shutdown.clone()));
    }
    spawn_named("ledger_sealer", async move {
        let mut shutdown = shutdown;
        let mut seal_tick = tokio::time::interval(SEAL_INTERVAL);
        let mut expire_tick = tokio::time::interval(EXPIRE_INTERVAL);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = seal_tick.tick() => {
                    match zbor_ledger::seal_all(&pool).await {
                        Ok(0) => {}
                        Ok(sealed) => {
                            // sealing takes each committed transaction once, in one process at a
                            // time: the sum over processes counts the bookings
                            metrics::counter!("zbor_ledger_transactions_total").increment(sealed);
                            tracing::debug!(sealed, "sealed ledger transactions")
                        }
                        Err(e) => tracing::warn!(error = %e, "sealing the ledger chain failed; will retry"),
                    }
                }
                _ = expire_tick.tick() => {
                    match zbor_ledger::expire_holds(&pool).await {
                        Ok(0) => {}
                        Ok(expired) => {
                            metrics::counter!("zbor_holds_expired_total").increment(expired);
                            tracing::info!(expired, "expired ledger holds")
                        }
                        Err(e) => tracing::warn!(error = %e, "expiring holds failed; will retry"),
                    }
                }
            }
        }
    })
}

/// Work that calls Stripe: fees of new payments, and Payment Links still missing. Both are
/// idempotent, so several server processes may run them at once.
async fn stripe_tasks(
    pool: PgPool,
    checkout: CheckoutLinks,
    live: Arc<Live>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut fees_tick = tokio::time::interval(FEES_INTERVAL);
    let mut links_tick = tokio::time::interval(PAYMENT_LINKS_INTERVAL);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = fees_tick.tick() => {
                loop {
                    match zbor_intake::webhook::fees::fetch_due(&pool, checkout.background(), FEES_PER_PASS).await {
                        Ok(done) => {
                            for campaign in &done.campaigns {
                                live.mark_dirty(campaign);
                            }
                            if done.fetched + done.failed > 0 {
                                tracing::debug!(fetched = done.fetched, failed = done.failed, "Stripe fees");
                            }
                            let full = i64::try_from(done.fetched + done.failed).unwrap_or(i64::MAX) >= FEES_PER_PASS;
                            if !full || *shutdown.borrow() {
                                break;
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "fetching Stripe fees failed; will retry");
                            break;
                        }
                    }
                }
            }
            _ = links_tick.tick() => ensure_payment_links(&pool, &checkout).await,
        }
    }
}

/// Reconciles the previous UTC day with Stripe once it is an hour over; every instance checks,
/// the first records it (`zbor_reconcile::runs`). Its own task: paging through a day of Stripe's
/// balance transactions must not delay fee lookups.
async fn daily_reconciliation(
    pool: PgPool,
    stripe: zbor_stripe::Stripe,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(DAILY_RECONCILIATION_INTERVAL);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                if let Err(e) = zbor_reconcile::runs::run_daily(&pool, &stripe, chrono::Utc::now()).await {
                    tracing::warn!(error = %e, "daily reconciliation with Stripe failed; will retry");
                }
                if let Err(e) = zbor_reconcile::runs::reconcile_paid_payouts(&pool, &stripe, 10).await {
                    tracing::warn!(error = %e, "reconciling Stripe's payouts failed; will retry");
                }
            }
        }
    }
}

/// Reads Stripe's recent events back and applies the ones the webhook missed (a wrong webhook
/// secret, an outage of the endpoint), through the same exactly-once path.
async fn event_sync(
    pool: PgPool,
    stripe: zbor_stripe::Stripe,
    events: Arc<zbor_stripe::events::Dispatcher>,
    live: Arc<Live>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(EVENT_SYNC_INTERVAL);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                match sync_once(&pool, &stripe, &events).await {
                    Ok(Some(report)) => {
                        for campaign in &report.campaigns {
                            live.mark_dirty(campaign);
                        }
                        if report.applied > 0 || !report.failed.is_empty() {
                            tracing::warn!(
                                applied = report.applied,
                                failed = report.failed.len(),
                                "Stripe events the webhook missed were read back"
                            );
                        }
                    }
                    // another instance is on it
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "reading Stripe's events back failed; will retry"),
                }
            }
        }
    }
}

async fn sync_once(
    pool: &PgPool,
    stripe: &zbor_stripe::Stripe,
    events: &zbor_stripe::events::Dispatcher,
) -> anyhow::Result<Option<zbor_stripe::events::sync::SyncReport>> {
    // a session-level lock on a connection of its own, held for the pass
    let mut lock = pool.acquire().await?;
    let locked: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
        .bind(EVENT_SYNC_LOCK)
        .fetch_one(&mut *lock)
        .await?;
    if !locked {
        return Ok(None);
    }
    let since = chrono::Utc::now() - EVENT_SYNC_WINDOW;
    let report = zbor_stripe::events::sync::sync_undelivered(pool, stripe, events, since).await;
    sqlx::query("select pg_advisory_unlock($1)").bind(EVENT_SYNC_LOCK).execute(&mut *lock).await?;
    Ok(Some(report?))
}

async fn ensure_payment_links(pool: &PgPool, checkout: &CheckoutLinks) {
    let campaigns = match zbor_campaigns::open_without_payment_link(pool).await {
        Ok(campaigns) => campaigns,
        Err(e) => {
            tracing::warn!(error = %e, "listing campaigns without a payment link failed");
            return;
        }
    };
    for campaign in campaigns {
        if let Err(e) = checkout.ensure_payment_link(pool, &campaign).await {
            tracing::warn!(campaign = %campaign.slug.as_str(), error = %e, "creating the payment link failed; will retry");
        }
    }
}
