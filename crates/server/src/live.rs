//! Live totals: PostgreSQL computes them, Redis keeps the hot copy and fans changes out to every
//! server instance, each instance streams them to its SSE clients.
//!
//! - A booking marks its campaign dirty in this process and wakes the publisher: the dirty
//!   campaigns' totals are recomputed from PostgreSQL at once, stored in Redis
//!   (`{prefix}live:{slug}`, a hash of `version` and `json`, 60 s TTL) and published on the
//!   channel of the same name. Then the publisher rests 100 ms, and what was booked meanwhile
//!   goes out together: a lone donation is seen within milliseconds, and a burst makes at most
//!   10 updates per second per campaign from each instance, however many donations arrive.
//! - Every figure carries its [`Version`]: where the database snapshot it was computed from
//!   stands in commit order. Instances race (A computes, B computes later, B's store lands
//!   first); the hot copy is replaced only by a figure at least as new (a compare-and-set in
//!   Redis, [`STORE`]), and each SSE stream sends only figures newer than the last it sent, so
//!   no total a coordinator sees ever goes backwards.
//! - Each instance subscribes to `{prefix}live:*` and hands messages to the SSE clients of that
//!   campaign, so a donation booked by one instance reaches coordinators connected to another.
//! - Reads take the hot copy; when it is missing (Redis flushed or restarted, TTL passed) they
//!   recompute from PostgreSQL and store it again. If Redis is down, reads still work.
//! - Streams are counted ([`StreamPermits`]): so many per process and per client address, so
//!   that nobody can take every file descriptor of the process with open streams.
//! - On shutdown every stream ends, so the server's drain does not wait for clients that would
//!   listen forever.
//! - Two views of each campaign: staff get the exact figures (`{prefix}live:{slug}`), everyone
//!   else the delayed public snapshot of [`zbor_intake::public_feed`]
//!   (`{prefix}live:{slug}:public`). Each publish computes both from the same database snapshot,
//!   once, however many clients listen. The public one is published only when it differs from
//!   the stored one (it moves in steps of at least K donations, a few times an hour), its hot
//!   copy expires at the next bucket boundary, and at each boundary the publisher recomputes the
//!   campaigns it has clients for: a step can become public by time alone. Between boundaries
//!   the public view cannot change, so each instance computes it once per campaign and
//!   boundary ([`zbor_intake::public_feed::PublicCache`]) and each publish recomputes only the
//!   exact one.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use sqlx::PgPool;
use tokio::sync::{broadcast, watch};

use crate::http::ApiError;

/// How long a hot copy lives without a refresh: bounds staleness if a publish was lost.
const HOT_COPY_TTL_MS: u64 = 60_000;
/// After a publish, the publisher rests this long: updates within it are coalesced into one.
const COALESCE_INTERVAL: Duration = Duration::from_millis(100);
/// Updates buffered per SSE client; a slower client skips to the newest (each is complete).
const CLIENT_BUFFER: usize = 16;
/// After a public bucket boundary the publisher waits this long before it recomputes, so that
/// every instance's clock has passed the boundary too.
const BOUNDARY_GRACE: Duration = Duration::from_secs(1);

/// Who figures are for: staff see the exact, live totals; everyone else the public snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum View {
    Exact,
    Public,
}

/// Where a figure's database snapshot stands in commit order: a later snapshot sees everything an
/// earlier one saw, so a greater version is never an older total.
///
/// It is built from the snapshot itself, not from a counter the bookings increment: such a
/// counter would be one hot row every booking of a burst waits on, which is what the ledger's
/// sharded balances avoid. Of two snapshots, the later has the greater or equal `xmax` (one past
/// the newest finished transaction); with equal `xmax`, the later one has no more transactions
/// still running, and with both equal the two see exactly the same rows. So the version orders
/// by `xmax`, then by fewer running, and equal versions carry equal figures. Written as fixed-width
/// digits, so that Redis's Lua compares them as strings in the same order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(Arc<str>);

/// More transactions than PostgreSQL can run at once: `max_connections` tops out far below.
const RUNNING_MAX: i64 = 9_999_999;

impl Version {
    fn of_snapshot(xmax: i64, running: i64) -> Version {
        let fewer_running = RUNNING_MAX - running.clamp(0, RUNNING_MAX);
        Version(Arc::from(format!("{xmax:020}.{fewer_running:07}")))
    }

    /// A public figure's version: `p`, where its published steps end (Unix seconds), then the
    /// snapshot's version. Ordered by the steps first, so that an instance whose clock lags by a
    /// moment at a bucket boundary cannot replace a newer step with an older one.
    fn of_public(published_until: Option<chrono::DateTime<chrono::Utc>>, snapshot: &Version) -> Version {
        let until = published_until.map_or(0, |at| at.timestamp()).max(0);
        Version(Arc::from(format!("p{until:020}.{}", snapshot.as_str())))
    }

    /// A version as a client sent it back (`Last-Event-ID`); none when it is not one of ours.
    pub fn parse(text: &str) -> Option<Version> {
        let digits = |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
        let snapshot = |text: &str| {
            text.split_once('.').is_some_and(|(xmax, running)| digits(xmax, 20) && digits(running, 7))
        };
        let valid = match text.strip_prefix('p') {
            Some(public) => {
                public.split_once('.').is_some_and(|(until, rest)| digits(until, 20) && snapshot(rest))
            }
            None => snapshot(text),
        };
        valid.then(|| Version(Arc::from(text)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A campaign's totals as of one snapshot: what is stored, published and streamed.
#[derive(Clone, Debug)]
pub struct Figures {
    pub version: Version,
    pub json: Arc<str>,
}

/// Both views of a campaign's totals, computed from one database snapshot.
#[derive(Clone, Debug)]
pub struct Computed {
    pub exact: Figures,
    pub public: Figures,
    /// When the public figures may change by time alone (the next bucket boundary): their hot
    /// copy expires then.
    pub public_until: chrono::DateTime<chrono::Utc>,
}

impl Computed {
    pub fn view(&self, view: View) -> &Figures {
        match view {
            View::Exact => &self.exact,
            View::Public => &self.public,
        }
    }
}

/// Stores the hot copy only when no newer one is there, and publishes it in the same step
/// (`version`, a newline, the JSON) whenever it is newer than the stored one, whoever stored it
/// (an instance's tick, or a read that found the hot copy missing): the order of the stores
/// across instances decides nothing, and no newer figure is stored without reaching the
/// streams. With ARGV[4] = 1 (the public view) figures equal to the stored ones are stored (a
/// newer version, a new TTL) but not published again: the public view changes a few times an
/// hour, and its clients need no copy of it ten times a second during a burst.
/// KEYS[1] the hash; ARGV: version, json, TTL in ms, only-changes.
const STORE: &str = r"
local stored = redis.call('HGET', KEYS[1], 'version')
if stored and stored > ARGV[1] then return 0 end
local same = ARGV[4] == '1' and redis.call('HGET', KEYS[1], 'json') == ARGV[2]
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'json', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if (not stored or stored < ARGV[1]) and not same then
  redis.call('PUBLISH', KEYS[1], ARGV[1] .. '\n' .. ARGV[2])
end
return 1
";

/// One campaign's SSE clients, by view.
struct Channels {
    exact: broadcast::Sender<Figures>,
    public: broadcast::Sender<Figures>,
}

impl Channels {
    fn new() -> Channels {
        Channels { exact: broadcast::channel(CLIENT_BUFFER).0, public: broadcast::channel(CLIENT_BUFFER).0 }
    }

    fn of(&self, view: View) -> &broadcast::Sender<Figures> {
        match view {
            View::Exact => &self.exact,
            View::Public => &self.public,
        }
    }

    fn listened(&self) -> bool {
        self.exact.receiver_count() > 0 || self.public.receiver_count() > 0
    }
}

pub struct Live {
    redis: redis::aio::ConnectionManager,
    prefix: String,
    dirty: Mutex<HashSet<String>>,
    /// Wakes the publisher when a campaign turns dirty.
    wake: tokio::sync::Notify,
    clients: Mutex<HashMap<String, Channels>>,
    /// Shutting down: no new streams (read and written under the `clients` lock).
    closed: std::sync::atomic::AtomicBool,
    /// The public view's sums per campaign at the current cut-off: a burst's ten publishes a
    /// second recompute only the exact view.
    public_cache: zbor_intake::public_feed::PublicCache,
}

impl Live {
    /// Refuses a prefix with glob characters: it is also a `PSUBSCRIBE` pattern.
    pub fn valid_prefix(prefix: &str) -> bool {
        !prefix.is_empty()
            && prefix.len() <= 64
            && prefix.bytes().all(|b| b.is_ascii_graphic() && !b"*?[]\\".contains(&b))
    }

    pub fn new(redis: redis::aio::ConnectionManager, prefix: String) -> Live {
        Live {
            redis,
            prefix,
            dirty: Mutex::default(),
            wake: tokio::sync::Notify::new(),
            clients: Mutex::default(),
            closed: Default::default(),
            public_cache: zbor_intake::public_feed::PublicCache::new(),
        }
    }

    /// The public view's sums and groups, per campaign at the current cut-off (the public
    /// timeline reads them too).
    pub fn public_cache(&self) -> &zbor_intake::public_feed::PublicCache {
        &self.public_cache
    }

    /// The hot copy's key and channel: `{prefix}live:{slug}`, and `…:public` for the public
    /// view (a slug has no `:`, so the two never meet).
    fn key(&self, slug: &str, view: View) -> String {
        match view {
            View::Exact => format!("{}live:{slug}", self.prefix),
            View::Public => format!("{}live:{slug}:public", self.prefix),
        }
    }

    /// The campaign's money changed: publish fresh totals now, or when the publisher's rest
    /// after its last publish ends.
    pub fn mark_dirty(&self, slug: &str) {
        if let Ok(mut dirty) = self.dirty.lock() {
            dirty.insert(slug.to_owned());
        }
        // a permit is kept if the publisher is busy: it publishes again right after its rest
        self.wake.notify_one();
    }

    /// The totals in `view`: the hot copy, or recomputed from PostgreSQL (and stored) when
    /// missing.
    pub async fn totals(&self, pool: &PgPool, slug: &str, view: View) -> Result<Figures, ApiError> {
        let mut redis = self.redis.clone();
        let hot = redis::cmd("HMGET")
            .arg(self.key(slug, view))
            .arg("version")
            .arg("json")
            .query_async::<(Option<String>, Option<String>)>(&mut redis)
            .await;
        match hot {
            Ok((Some(version), Some(json))) => {
                if let Some(version) = Version::parse(&version) {
                    return Ok(Figures { version, json: Arc::from(json) });
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "redis unavailable; totals from PostgreSQL"),
        }
        self.fresh(pool, slug, view).await
    }

    /// Totals recomputed from PostgreSQL now, and stored (both views): newer than anything any
    /// instance has computed before this call.
    pub async fn fresh(&self, pool: &PgPool, slug: &str, view: View) -> Result<Figures, ApiError> {
        let computed = self.compute(pool, slug).await?;
        self.store(&computed, slug).await;
        Ok(computed.view(view).clone())
    }

    /// Both views' totals and their versions, read in one snapshot (repeatable read, read only).
    pub async fn compute(&self, pool: &PgPool, slug: &str) -> Result<Computed, ApiError> {
        let now = chrono::Utc::now();
        let mut tx = pool.begin().await?;
        sqlx::query("set transaction isolation level repeatable read, read only").execute(&mut *tx).await?;
        let (xmax, running): (i64, i64) = sqlx::query_as(
            "select pg_snapshot_xmax(s)::text::bigint, (select count(*) from pg_snapshot_xip(s))
             from pg_current_snapshot() s",
        )
        .fetch_one(&mut *tx)
        .await?;
        let totals = zbor_intake::totals::totals(&mut tx, slug).await?;
        let public = zbor_intake::public_feed::snapshot(&mut tx, slug, now, Some(&self.public_cache)).await?;
        tx.commit().await?;
        let to_json = |totals| serde_json::to_string(totals).map_err(|e| ApiError::Internal(e.to_string()));
        let version = Version::of_snapshot(xmax, running);
        Ok(Computed {
            public: Figures {
                version: Version::of_public(public.published_until, &version),
                json: Arc::from(to_json(&public.totals)?),
            },
            exact: Figures { version, json: Arc::from(to_json(&totals)?) },
            public_until: zbor_intake::public_feed::next_change(now),
        })
    }

    /// Stores both views as the hot copies unless newer ones are there, and publishes them when
    /// they are newer than the stored ones ([`STORE`]). Public figures computed before the
    /// bucket boundary that has passed since are stale: they are neither stored nor published.
    pub async fn store(&self, computed: &Computed, slug: &str) {
        self.store_one(&computed.exact, slug, View::Exact, HOT_COPY_TTL_MS).await;
        let left = (computed.public_until - chrono::Utc::now()).num_milliseconds();
        if let Ok(left @ 1..) = u64::try_from(left) {
            self.store_one(&computed.public, slug, View::Public, left.min(HOT_COPY_TTL_MS)).await;
        }
    }

    async fn store_one(&self, figures: &Figures, slug: &str, view: View, ttl_ms: u64) {
        let mut redis = self.redis.clone();
        // EVAL, not EVALSHA: a few hundred bytes ten times a second at most, and no script cache
        // to lose when Redis restarts.
        let stored = redis::cmd("EVAL")
            .arg(STORE)
            .arg(1)
            .arg(self.key(slug, view))
            .arg(figures.version.as_str())
            .arg(&*figures.json)
            .arg(ttl_ms)
            .arg(u8::from(view == View::Public))
            .query_async::<i64>(&mut redis)
            .await;
        match stored {
            Ok(1) => {}
            Ok(_) => tracing::debug!(campaign = %slug, "newer live totals already stored; these dropped"),
            Err(e) => {
                tracing::warn!(error = %e, "could not store live totals in redis; will retry");
                // Keep the change pending: it is published once Redis answers again.
                self.mark_dirty(slug);
            }
        }
    }

    /// A stream of totals for one campaign in `view`, for an SSE client; none once shutting
    /// down.
    pub fn subscribe(&self, slug: &str, view: View) -> Result<broadcast::Receiver<Figures>, StreamRefused> {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if self.closed.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(StreamRefused::ShuttingDown);
        }
        let channels = clients.entry(slug.to_owned()).or_insert_with(Channels::new);
        Ok(channels.of(view).subscribe())
    }

    fn deliver(&self, slug: &str, view: View, figures: Figures) {
        if let Ok(mut clients) = self.clients.lock() {
            if let Some(channels) = clients.get(slug) {
                // nobody of this view listening is no error: the other view may be
                let _ = channels.of(view).send(figures);
                if !channels.listened() {
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
            clients.retain(|_, channels| channels.listened());
        }
        for slug in slugs {
            match self.compute(pool, &slug).await {
                Ok(computed) => self.store(&computed, &slug).await,
                Err(e) => tracing::warn!(campaign = %slug, error = %e, "live totals not computed"),
            }
        }
    }

    /// Marks dirty every campaign this instance has SSE clients for: at a public bucket
    /// boundary their public view may have moved by time alone.
    fn mark_watched_dirty(&self) {
        let watched: Vec<String> = match self.clients.lock() {
            Ok(clients) => clients.keys().cloned().collect(),
            Err(_) => return,
        };
        for slug in watched {
            self.mark_dirty(&slug);
        }
    }

    /// Ends every SSE stream (their senders go, so each client's stream sees the end) and
    /// opens no more.
    fn close_streams(&self) {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        self.closed.store(true, std::sync::atomic::Ordering::Relaxed);
        clients.clear();
    }

    /// The publisher tick and the Redis subscriber, until shutdown; then the streams end.
    pub fn spawn(self: Arc<Self>, client: redis::Client, pool: PgPool, shutdown: watch::Receiver<bool>) {
        let publisher = self.clone();
        let mut stop = shutdown.clone();
        let publisher_pool = pool;
        crate::tasks::spawn_named("live_totals_publisher", async move {
            loop {
                let boundary = next_boundary_in(chrono::Utc::now());
                tokio::select! {
                    () = crate::app::stopped(&mut stop) => break,
                    () = publisher.wake.notified() => publisher.publish_dirty(&publisher_pool).await,
                    () = tokio::time::sleep(boundary) => {
                        publisher.mark_watched_dirty();
                        publisher.publish_dirty(&publisher_pool).await;
                    }
                }
                // the rest: bookings meanwhile are published together after it
                tokio::select! {
                    () = crate::app::stopped(&mut stop) => break,
                    () = tokio::time::sleep(COALESCE_INTERVAL) => {}
                }
            }
            publisher.close_streams();
        });
        let mut stop = shutdown;
        crate::tasks::spawn_named("live_totals_subscriber", async move {
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
        let pattern = format!("{}live:*", self.prefix);
        pubsub.psubscribe(&pattern).await?;
        // Changes published while this instance was not subscribed were missed: republish the
        // current totals of every campaign somebody here is watching.
        if let Ok(clients) = self.clients.lock() {
            for slug in clients.keys() {
                self.mark_dirty(slug);
            }
        }
        let channel_prefix = format!("{}live:", self.prefix);
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let channel = message.get_channel_name().to_owned();
            let Some(name) = channel.strip_prefix(&channel_prefix) else { continue };
            let (slug, view) = match name.strip_suffix(":public") {
                Some(slug) => (slug, View::Public),
                None => (name, View::Exact),
            };
            let Ok(payload) = message.get_payload::<String>() else { continue };
            let Some((version, json)) = payload.split_once('\n') else { continue };
            if let Some(version) = Version::parse(version) {
                self.deliver(slug, view, Figures { version, json: Arc::from(json) });
            }
        }
        Ok(())
    }
}

/// How long from `now` until just after the next public bucket boundary.
fn next_boundary_in(now: chrono::DateTime<chrono::Utc>) -> Duration {
    let next = zbor_intake::public_feed::next_change(now);
    (next - now).to_std().unwrap_or_default() + BOUNDARY_GRACE
}

/// Streams one process serves at once, by default (`ZBOR_SSE_CONNECTIONS_MAX`).
pub const SSE_CONNECTIONS_MAX_DEFAULT: usize = 5000;
/// Streams one client address holds at once, by default (`ZBOR_SSE_CONNECTIONS_PER_ADDRESS_MAX`).
pub const SSE_CONNECTIONS_PER_ADDRESS_MAX_DEFAULT: usize = 20;

/// Counts open SSE streams, in all and per client address. A stream holds a [`StreamPermit`]
/// for as long as its response body lives: hyper drops the body when the client goes, and the
/// permit is given back.
pub struct StreamPermits {
    total_max: usize,
    per_address_max: usize,
    open: Mutex<OpenStreams>,
}

#[derive(Default)]
struct OpenStreams {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

/// Why a stream was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamRefused {
    /// This process serves as many streams as it may.
    ProcessFull,
    /// This client address holds as many streams as it may.
    AddressFull,
    /// The server is stopping.
    ShuttingDown,
}

impl StreamPermits {
    pub fn new(total_max: usize, per_address_max: usize) -> StreamPermits {
        StreamPermits { total_max, per_address_max, open: Mutex::default() }
    }

    /// A permit for one more stream of `address` (none: an in-process call, counted in the
    /// total only), or why not. IPv6 addresses count per /64: whoever has one address has the
    /// whole /64.
    pub fn try_acquire(self: &Arc<Self>, address: Option<IpAddr>) -> Result<StreamPermit, StreamRefused> {
        // No await while locked, and every path below is a few arithmetic steps: a std mutex.
        // A panic while it is held cannot leave the counts half-changed, so poisoning is ignored.
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.total >= self.total_max {
            return Err(StreamRefused::ProcessFull);
        }
        let address = address.map(counted_as);
        if let Some(address) = address {
            let count = open.per_address.get(&address).copied().unwrap_or(0);
            if count >= self.per_address_max {
                return Err(StreamRefused::AddressFull);
            }
            open.per_address.insert(address, count + 1);
        }
        open.total += 1;
        Ok(StreamPermit { permits: Arc::clone(self), address })
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).total
    }
}

/// The unit a client address is counted in: an IPv4 address, or an IPv6 /64 (a subscriber's
/// network: one machine can use all 2^64 addresses in it).
fn counted_as(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(Ipv6Addr::from(segments))
            }
        },
    }
}

/// One open stream; dropping it gives the place back.
pub struct StreamPermit {
    permits: Arc<StreamPermits>,
    address: Option<IpAddr>,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.permits.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(address) = self.address {
            if let Some(count) = open.per_address.get_mut(&address) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    // addresses without streams take no memory
                    open.per_address.remove(&address);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use super::{Live, StreamPermits, StreamRefused, Version};

    #[test]
    fn public_versions_order_by_their_published_steps_first() {
        let early = Version::of_snapshot(900, 0);
        let late = Version::of_snapshot(1000, 0);
        let step = |secs| chrono::DateTime::from_timestamp(secs, 0);
        // a later step wins over a later snapshot: a lagging clock cannot take a step back
        let newer_step = Version::of_public(step(1_800_000_300), &early);
        let older_step = Version::of_public(step(1_800_000_000), &late);
        assert!(newer_step > older_step);
        // within one step, the later snapshot wins (a refund booked meanwhile)
        assert!(older_step > Version::of_public(step(1_800_000_000), &early));
        assert!(Version::of_public(None, &late) < older_step);
        // what a client sends back is accepted in both forms, and nothing else
        for version in [&early, &newer_step] {
            assert_eq!(Version::parse(version.as_str()).as_ref(), Some(version));
        }
        for bad in
            ["p1.00000000000000000900.9999999", "q00000000001800000000.00000000000000000900.9999999", "p", ""]
        {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn prefixes_cannot_carry_glob_characters() {
        for ok in ["zbor:", "zbor-test:zbor_test_1f2e:", "a"] {
            assert!(Live::valid_prefix(ok), "{ok}");
        }
        for bad in ["", "zbor*", "zb?r:", "z[b]:", "z\\b", "with space", &"x".repeat(65)] {
            assert!(!Live::valid_prefix(bad), "{bad}");
        }
    }

    #[test]
    fn streams_are_counted_in_all_and_per_address_and_given_back() {
        let permits = Arc::new(StreamPermits::new(3, 2));
        let one = Some("203.0.113.1".parse().unwrap());
        let two = Some("203.0.113.2".parse().unwrap());
        let a = permits.try_acquire(one).unwrap();
        let b = permits.try_acquire(one).unwrap();
        assert_eq!(permits.try_acquire(one).err(), Some(StreamRefused::AddressFull));
        let c = permits.try_acquire(two).unwrap();
        assert_eq!(permits.try_acquire(None).err(), Some(StreamRefused::ProcessFull));
        assert_eq!(permits.open(), 3);
        drop(a);
        assert_eq!(permits.open(), 2);
        let d = permits.try_acquire(one).unwrap();
        drop((b, c, d));
        assert_eq!(permits.open(), 0);
        assert!(permits.open.lock().unwrap().per_address.is_empty());
    }

    #[test]
    fn an_ipv6_network_counts_as_one_address() {
        let permits = Arc::new(StreamPermits::new(10, 2));
        let _a = permits.try_acquire(Some("2001:db8:1:2::1".parse().unwrap())).unwrap();
        let _b = permits.try_acquire(Some("2001:db8:1:2:ffff::9".parse().unwrap())).unwrap();
        let refused = permits.try_acquire(Some("2001:db8:1:2:1:2:3:4".parse().unwrap())).err();
        assert_eq!(refused, Some(StreamRefused::AddressFull));
        // the next /64 is someone else
        assert!(permits.try_acquire(Some("2001:db8:1:3::1".parse().unwrap())).is_ok());
        // an IPv4 client seen through an IPv6 socket is that IPv4 address
        let _c = permits.try_acquire(Some("203.0.113.5".parse().unwrap())).unwrap();
        let _d = permits.try_acquire(Some("::ffff:203.0.113.5".parse().unwrap())).unwrap();
        let refused = permits.try_acquire(Some("203.0.113.5".parse().unwrap())).err();
        assert_eq!(refused, Some(StreamRefused::AddressFull));
    }
}
