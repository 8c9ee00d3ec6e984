//! The cap watcher: every server marks capped campaigns funded once they reach their goal and
//! switches their Payment Links at Stripe, and opens them again (switching the links back) when
//! a coordinator raised the goal or removed the overflow (zbor_intake::overflow). Both steps are safe on every
//! node at once; a node that dies between them leaves the switch to the next pass of any node.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;
use zbor_intake::checkout::CheckoutLinks;

use crate::live::Live;

/// How often capped campaigns are checked. Bookings never wait for the cap: a burst that crosses
/// it overshoots by what lands within this time (and what was already in flight), booked where
/// it was given and shown as over the cap.
const CAP_WATCH_INTERVAL: Duration = Duration::from_secs(1);

pub async fn watch_caps(
    pool: PgPool,
    checkout: Option<CheckoutLinks>,
    live: Arc<Live>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(CAP_WATCH_INTERVAL);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {
                match zbor_intake::overflow::mark_funded(&pool).await {
                    Ok(funded) if !funded.is_empty() => {
                        metrics::counter!("zbor_campaigns_funded_total").increment(u64::try_from(funded.len()).unwrap_or(u64::MAX));
                        if let Ok(campaigns) = zbor_campaigns::by_ids(&pool, &funded).await {
                            for campaign in campaigns {
                                live.mark_dirty(campaign.slug.as_str());
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "checking campaign caps failed; will retry"),
                }
                match zbor_intake::overflow::reopen(&pool).await {
                    Ok(reopened) if !reopened.is_empty() => {
                        if let Ok(campaigns) = zbor_campaigns::by_ids(&pool, &reopened).await {
                            for campaign in campaigns {
                                live.mark_dirty(campaign.slug.as_str());
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "checking funded campaigns failed; will retry"),
                }
                if let Some(checkout) = &checkout {
                    // back first: a campaign reopened and funded again ends switched
                    if let Err(e) = zbor_intake::overflow::restore_payment_links(&pool, checkout).await {
                        tracing::warn!(error = %e, "switching a reopened campaign's payment link back failed; will retry");
                    }
                    if let Err(e) = zbor_intake::overflow::switch_payment_links(&pool, checkout).await {
                        tracing::warn!(error = %e, "switching a funded campaign's payment link failed; will retry");
                    }
                }
            }
        }
    }
}
