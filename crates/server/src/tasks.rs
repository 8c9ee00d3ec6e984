//! Background work every server process runs. Each task is safe to run in many processes at once
//! (the sealer takes an advisory lock), so N stateless servers need no coordinator.

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

/// How often committed transactions are appended to the hash chain.
const SEAL_INTERVAL: Duration = Duration::from_millis(500);
/// How often holds past their expiry are marked expired.
const EXPIRE_INTERVAL: Duration = Duration::from_secs(10);

pub fn spawn_all(pool: PgPool, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
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
