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

pub fn spawn_all(
    pool: PgPool,
    checkout: Option<CheckoutLinks>,
    live: Arc<Live>,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    if let Some(checkout) = checkout {
        tokio::spawn(daily_reconciliation(pool.clone(), checkout.background().clone(), shutdown.clone()));
        tokio::spawn(stripe_tasks(pool.clone(), checkout, live, shutdown.clone()));
    }
    tokio::spawn(async move {
        let mut shutdown = shutdown;
        let mut seal_tick = tokio::time::interval(SEAL_INTERVAL);
        let mut expire_tick = tokio::time::interval(EXPIRE_INTERVAL);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = seal_tick.tick() => {
                    match zbor_ledger::seal_all(&pool).await {
                        Ok(0) => {}
                        Ok(sealed) => tracing::debug!(sealed, "sealed ledger transactions"),
                        Err(e) => tracing::warn!(error = %e, "sealing the ledger chain failed; will retry"),
                    }
                }
                _ = expire_tick.tick() => {
                    match zbor_ledger::expire_holds(&pool).await {
                        Ok(0) => {}
                        Ok(expired) => tracing::info!(expired, "expired ledger holds"),
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
