//! Live totals: PostgreSQL computes them, Redis keeps the hot copy and fans changes out to every
//! server instance, each instance streams them to its SSE clients.
//!
//! - A booking marks its campaign dirty in this process. Every 100 ms the dirty campaigns'
//!   totals are recomputed from PostgreSQL, stored in Redis (`{prefix}totals:{slug}`, 60 s TTL)
//!   and published on the channel of the same name: at most 10 updates per second per campaign
//!   from each instance, however many donations arrive.
//! - Each instance subscribes to `{prefix}totals:*` and hands messages to the SSE clients of that
//!   campaign, so a donation booked by one instance reaches coordinators connected to another.
//! - Reads take the hot copy; when it is missing (Redis flushed or restarted, TTL passed) they
//!   recompute from PostgreSQL and store it again. If Redis is down, reads still work.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use sqlx::PgPool;
use tokio::sync::{broadcast, watch};

/// How long a hot copy lives without a refresh: bounds staleness if a publish was lost.
const HOT_COPY_TTL_MS: u64 = 60_000;
/// Updates per campaign are coalesced to one per tick.
const COALESCE_INTERVAL: Duration = Duration::from_millis(100);
/// Updates buffered per SSE client; a slower client skips to the newest (each is complete).
const CLIENT_BUFFER: usize = 16;

pub struct Live {
    redis: redis::aio::ConnectionManager,
    prefix: String,
    dirty: Mutex<HashSet<String>>,
    clients: Mutex<HashMap<String, broadcast::Sender<Arc<str>>>>,
}

impl Live {
    /// Refuses a prefix with glob characters: it is also a `PSUBSCRIBE` pattern.
    pub fn valid_prefix(prefix: &str) -> bool {
        !prefix.is_empty()
            && prefix.len() <= 64
            && prefix.bytes().all(|b| b.is_ascii_graphic() && !b"*?[]\\".contains(&b))
    }

    pub fn new(redis: redis::aio::ConnectionManager, prefix: String) -> Live {
        Live { redis, prefix, dirty: Mutex::default(), clients: Mutex::default() }
    }

    fn key(&self, slug: &str) -> String {
        format!("{}totals:{slug}", self.prefix)
    }

    /// The campaign's money changed: publish fresh totals within one coalescing interval.
    pub fn mark_dirty(&self, slug: &str) {
        if let Ok(mut dirty) = self.dirty.lock() {
            dirty.insert(slug.to_owned());
        }
    }

    /// Totals as JSON: the hot copy, or recomputed from PostgreSQL (and stored) when missing.
    pub async fn totals_json(&self, pool: &PgPool, slug: &str) -> Result<String, crate::http::ApiError> {
        let mut redis = self.redis.clone();
        match redis::cmd("GET").arg(self.key(slug)).query_async::<Option<String>>(&mut redis).await {
            Ok(Some(hot)) => return Ok(hot),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "redis unavailable; totals from PostgreSQL"),
        }
        let json = self.compute(pool, slug).await?;
        self.store(&json, slug, false).await;
        Ok(json)
    }

    async fn compute(&self, pool: &PgPool, slug: &str) -> Result<String, crate::http::ApiError> {
        let mut conn = pool.acquire().await?;
        let totals = zbor_intake::totals::totals(&mut conn, slug).await?;
        serde_json::to_string(&totals).map_err(|e| crate::http::ApiError::Internal(e.to_string()))
    }

    async fn store(&self, json: &str, slug: &str, publish: bool) {
        let mut redis = self.redis.clone();
        let key = self.key(slug);
        let mut pipe = redis::pipe();
        pipe.cmd("SET").arg(&key).arg(json).arg("PX").arg(HOT_COPY_TTL_MS).ignore();
        if publish {
            pipe.cmd("PUBLISH").arg(&key).arg(json).ignore();
        }
        if let Err(e) = pipe.query_async::<()>(&mut redis).await {
            tracing::warn!(error = %e, "could not store live totals in redis; will retry");
            if publish {
                // Keep the change pending: it is published once Redis answers again.
                self.mark_dirty(slug);
            }
        }
    }

    /// A stream of totals for one campaign, for an SSE client.
    pub fn subscribe(&self, slug: &str) -> Option<broadcast::Receiver<Arc<str>>> {
        let mut clients = self.clients.lock().ok()?;
        let sender = clients.entry(slug.to_owned()).or_insert_with(|| broadcast::channel(CLIENT_BUFFER).0);
        Some(sender.subscribe())
    }

    fn deliver(&self, slug: &str, json: Arc<str>) {
        if let Ok(mut clients) = self.clients.lock() {
            if let Some(sender) = clients.get(slug) {
                if sender.send(json).is_err() {
                    // nobody listening any more
                    clients.remove(slug);
                }
            }
        }
    }

    async fn publish_dirty(&self, pool: &PgPool) {
        let slugs: Vec<String> = match self.dirty.lock() {
            Ok(mut dirty) => dirty.drain().collect(),
            Err(_) => return,
        };
        // Campaigns whose SSE clients have all gone take no memory.
        if let Ok(mut clients) = self.clients.lock() {
            clients.retain(|_, sender| sender.receiver_count() > 0);
        }
        for slug in slugs {
            match self.compute(pool, &slug).await {
                Ok(json) => self.store(&json, &slug, true).await,
                Err(e) => tracing::warn!(campaign = %slug, error = %e, "live totals not computed"),
            }
        }
    }

    /// The publisher tick and the Redis subscriber, until shutdown.
    pub fn spawn(self: Arc<Self>, client: redis::Client, pool: PgPool, shutdown: watch::Receiver<bool>) {
        let publisher = self.clone();
        let mut stop = shutdown.clone();
        let publisher_pool = pool;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(COALESCE_INTERVAL);
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = tick.tick() => publisher.publish_dirty(&publisher_pool).await,
                }
            }
        });
        let mut stop = shutdown;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    result = self.listen(&client) => {
                        if let Err(e) = result {
                            tracing::warn!(error = %e, "live totals subscription lost; reconnecting");
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
    }

    async fn listen(&self, client: &redis::Client) -> redis::RedisResult<()> {
        let mut pubsub = client.get_async_pubsub().await?;
        let pattern = format!("{}totals:*", self.prefix);
        pubsub.psubscribe(&pattern).await?;
        // Changes published while this instance was not subscribed were missed: republish the
        // current totals of every campaign somebody here is watching.
        if let Ok(clients) = self.clients.lock() {
            for slug in clients.keys() {
                self.mark_dirty(slug);
            }
        }
        let channel_prefix = format!("{}totals:", self.prefix);
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let channel = message.get_channel_name().to_owned();
            let Some(slug) = channel.strip_prefix(&channel_prefix) else { continue };
            if let Ok(json) = message.get_payload::<String>() {
                self.deliver(slug, Arc::from(json));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Live;

    #[test]
    fn prefixes_cannot_carry_glob_characters() {
        for ok in ["zbor:", "zbor-test:zbor_test_1f2e:", "a"] {
            assert!(Live::valid_prefix(ok), "{ok}");
        }
        for bad in ["", "zbor*", "zb?r:", "z[b]:", "z\\b", "with space", &"x".repeat(65)] {
            assert!(!Live::valid_prefix(bad), "{bad}");
        }
    }
}
