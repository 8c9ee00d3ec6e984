//! Jobs from PostgreSQL to workers through Redis Streams, at least once, never lost.
//!
//! ```text
//! decide (db tx) ──▶ outbox row ──relay──▶ XADD {prefix}stream:{name} ──▶ consumer group
//!                                                              XREADGROUP ▼      ▲ XAUTOCLAIM (idle > reclaim_after)
//!                                                              handler ── ok ──▶ XACK
//! ```
//!
//! - **The outbox** is written in the transaction that decides the work ([`enqueue_in`]), so
//!   work exists exactly when its decision committed. [`relay`] publishes unpublished rows and
//!   marks them; a crash between the two publishes a row twice, which is why consumers must be
//!   idempotent by job key (the system of record says whether a job is done).
//! - **Workers** of one consumer group share a stream. A worker that dies holding entries leaves
//!   them pending; any other worker claims entries idle longer than `reclaim_after` before
//!   reading new ones ([`Consumer::next`]), so a crash delays a job by seconds, not forever.
//! - **Redis losing everything** (flush, restart without persistence) loses only copies: the
//!   domain's sweeper finds unfinished work in PostgreSQL and calls [`publish`] again.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimOptions, StreamAutoClaimReply, StreamReadOptions, StreamReadReply};
use redis::AsyncCommands;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

/// Streams keep about this many entries; acknowledged ones are trimmed away over time.
const STREAM_LEN_APPROX: usize = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("stream name {0:?}: use a-z, 0-9, _ and -, starting with a letter")]
    InvalidStream(String),
    #[error("at most {max} jobs at once, got {found}")]
    TooMany { found: usize, max: usize },
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

fn check_stream(stream: &str) -> Result<(), Error> {
    let valid = stream.len() <= 63
        && stream.starts_with(|c: char| c.is_ascii_lowercase())
        && stream.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidStream(stream.chars().take(64).collect()))
    }
}

/// Writes a job into the outbox inside the caller's transaction.
pub async fn enqueue_in(
    conn: &mut PgConnection,
    stream: &str,
    job_key: &str,
    payload: &Value,
) -> Result<i64, Error> {
    check_stream(stream)?;
    Ok(sqlx::query_scalar("insert into outbox (stream, job_key, payload) values ($1, $2, $3) returning id")
        .bind(stream)
        .bind(job_key)
        .bind(payload)
        .fetch_one(&mut *conn)
        .await?)
}

/// The most jobs one call of [`enqueue_all_in`] writes: a bound, not a design limit (a payout
/// batch has at most 5,000).
pub const ENQUEUE_MAX: usize = 10_000;

/// Writes jobs into the outbox inside the caller's transaction with one statement, in the order
/// given (the relay publishes them in that order). Returns how many were written.
pub async fn enqueue_all_in(
    conn: &mut PgConnection,
    stream: &str,
    jobs: &[(String, Value)],
) -> Result<u64, Error> {
    check_stream(stream)?;
    if jobs.len() > ENQUEUE_MAX {
        return Err(Error::TooMany { found: jobs.len(), max: ENQUEUE_MAX });
    }
    if jobs.is_empty() {
        return Ok(0);
    }
    let keys: Vec<&str> = jobs.iter().map(|(key, _)| key.as_str()).collect();
    let payloads: Vec<&Value> = jobs.iter().map(|(_, payload)| payload).collect();
    let written = sqlx::query(
        "insert into outbox (stream, job_key, payload)
         select $1, j.job_key, j.payload
         from unnest($2::text[], $3::jsonb[]) with ordinality as j (job_key, payload, position)
         order by j.position",
    )
    .bind(stream)
    .bind(&keys)
    .bind(&payloads)
    .execute(&mut *conn)
    .await?;
    Ok(written.rows_affected())
}

/// A job as a worker receives it.
#[derive(Clone, Debug)]
pub struct Job {
    /// The stream entry, for [`Consumer::ack`].
    pub entry: String,
    pub key: String,
    pub payload: Value,
    /// Taken over from a worker that did not acknowledge it in time.
    pub reclaimed: bool,
}

/// Redis side: where the streams are.
#[derive(Clone)]
pub struct Streams {
    redis: ConnectionManager,
    prefix: String,
}

impl Streams {
    pub fn new(redis: ConnectionManager, prefix: &str) -> Streams {
        Streams { redis, prefix: prefix.to_owned() }
    }

    /// The same streams over a connection of its own: a worker blocking in `XREADGROUP` holds
    /// its connection, so it must not share one with others.
    pub async fn dedicated(&self, client: &redis::Client) -> Result<Streams, Error> {
        Ok(Streams { redis: ConnectionManager::new(client.clone()).await?, prefix: self.prefix.clone() })
    }

    pub fn key(&self, stream: &str) -> String {
        format!("{}stream:{stream}", self.prefix)
    }

    /// Entries of `stream` the consumer group `group` has not finished: not yet delivered (its
    /// lag) plus delivered and unacknowledged. None when Redis has no such stream or group (it
    /// lost them): then whatever PostgreSQL says is unfinished must be published again.
    pub async fn backlog(&self, stream: &str, group: &str) -> Result<Option<u64>, Error> {
        check_stream(stream)?;
        let mut redis = self.redis.clone();
        let reply: Result<redis::streams::StreamInfoGroupsReply, redis::RedisError> =
            redis.xinfo_groups(self.key(stream)).await;
        let groups = match reply {
            Ok(reply) => reply.groups,
            Err(e) if e.to_string().contains("no such key") => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(groups.iter().find(|g| g.name == group).map(|g| {
            let unfinished = g.pending.saturating_add(g.lag.unwrap_or(0));
            u64::try_from(unfinished).unwrap_or(u64::MAX)
        }))
    }
}

/// A stream's state for monitoring: its length, the entries a group holds delivered and not
/// acknowledged, and how long the oldest of those has been idle (a dead worker's, until reclaimed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamStats {
    pub length: u64,
    pub pending: u64,
    /// Entries no consumer of the group has read yet: the backlog (the length also counts
    /// entries already acknowledged, until the stream is trimmed).
    pub lag: u64,
    pub oldest_pending_idle: std::time::Duration,
}

impl Streams {
    /// `stream`'s [`StreamStats`] for `group`; zero when Redis has no such stream or group yet.
    pub async fn stats(&self, stream: &str, group: &str) -> Result<StreamStats, Error> {
        check_stream(stream)?;
        let key = self.key(stream);
        let mut redis = self.redis.clone();
        let length: u64 = redis.xlen(&key).await?;
        let oldest: Result<redis::streams::StreamPendingCountReply, redis::RedisError> =
            redis.xpending_count(&key, group, "-", "+", 1).await;
        let oldest = match oldest {
            Ok(reply) => reply.ids.into_iter().next(),
            Err(e) if e.to_string().contains("NOGROUP") => None,
            Err(e) => return Err(e.into()),
        };
        let pending = match &oldest {
            None => 0,
            Some(_) => match redis.xpending(&key, group).await? {
                redis::streams::StreamPendingReply::Data(data) => u64::try_from(data.count).unwrap_or(0),
                _ => 0,
            },
        };
        let idle_ms = oldest.map_or(0, |entry| u64::try_from(entry.last_delivered_ms).unwrap_or(0));
        let lag = self.backlog(stream, group).await?.unwrap_or(0).saturating_sub(pending);
        Ok(StreamStats {
            length,
            pending,
            lag,
            oldest_pending_idle: std::time::Duration::from_millis(idle_ms),
        })
    }
}

/// Adds jobs to a stream (relay and sweepers). Returns the entry ids.
pub async fn publish(
    streams: &Streams,
    stream: &str,
    jobs: &[(String, Value)],
) -> Result<Vec<String>, Error> {
    check_stream(stream)?;
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let key = streams.key(stream);
    let mut pipe = redis::pipe();
    for (job_key, payload) in jobs {
        pipe.cmd("XADD")
            .arg(&key)
            .arg("MAXLEN")
            .arg("~")
            .arg(STREAM_LEN_APPROX)
            .arg("*")
            .arg("key")
            .arg(job_key)
            .arg("payload")
            .arg(payload.to_string());
    }
    let mut redis = streams.redis.clone();
    Ok(pipe.query_async(&mut redis).await?)
}

/// Publishes up to `limit` unpublished outbox rows, oldest first, and marks them published.
/// Several relays may run at once (rows are locked with SKIP LOCKED).
pub async fn relay(pool: &PgPool, streams: &Streams, limit: i64) -> Result<usize, Error> {
    let mut db = pool.begin().await?;
    let rows: Vec<(i64, String, String, Value)> = sqlx::query_as(
        "select id, stream, job_key, payload from outbox where published_at is null
         order by id limit $1 for update skip locked",
    )
    .bind(limit)
    .fetch_all(&mut *db)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut by_stream: std::collections::BTreeMap<&str, Vec<(String, Value)>> =
        std::collections::BTreeMap::new();
    for (_, stream, job_key, payload) in &rows {
        by_stream.entry(stream.as_str()).or_default().push((job_key.clone(), payload.clone()));
    }
    for (stream, jobs) in &by_stream {
        publish(streams, stream, jobs).await?;
    }
    let ids: Vec<i64> = rows.iter().map(|(id, ..)| *id).collect();
    sqlx::query("update outbox set published_at = now() where id = any($1)")
        .bind(&ids)
        .execute(&mut *db)
        .await?;
    db.commit().await?;
    Ok(rows.len())
}

/// One worker's membership in a stream's consumer group.
pub struct Consumer {
    streams: Streams,
    key: String,
    group: String,
    name: String,
    reclaim_after: Duration,
}

impl Consumer {
    /// Joins (creating if needed) the consumer group `group` of `stream` as `name`.
    pub async fn join(
        streams: &Streams,
        stream: &str,
        group: &str,
        name: &str,
        reclaim_after: Duration,
    ) -> Result<Consumer, Error> {
        check_stream(stream)?;
        let consumer = Consumer {
            streams: streams.clone(),
            key: streams.key(stream),
            group: group.to_owned(),
            name: name.to_owned(),
            reclaim_after,
        };
        consumer.create_group().await?;
        Ok(consumer)
    }

    async fn create_group(&self) -> Result<(), Error> {
        let mut redis = self.streams.redis.clone();
        let created: Result<(), redis::RedisError> =
            redis.xgroup_create_mkstream(&self.key, &self.group, "0").await;
        match created {
            Ok(()) => Ok(()),
            // another worker created it first
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Up to `count` jobs: first entries other workers left idle longer than `reclaim_after`,
    /// then new ones, waiting up to `block` for them. When Redis lost the stream (flushed,
    /// restarted without persistence), the group is made again and reading goes on: what was
    /// lost is the publisher's to publish again (PostgreSQL is the system of record).
    pub async fn next(&self, count: usize, block: Duration) -> Result<Vec<Job>, Error> {
        match self.read(count, block).await {
            Err(Error::Redis(e)) if e.code() == Some("NOGROUP") => {
                tracing::warn!(stream = %self.key, "the stream or its group is gone; making it again");
                self.create_group().await?;
                self.read(count, block).await
            }
            other => other,
        }
    }

    async fn read(&self, count: usize, block: Duration) -> Result<Vec<Job>, Error> {
        let mut redis = self.streams.redis.clone();
        let idle_ms = u64::try_from(self.reclaim_after.as_millis()).unwrap_or(u64::MAX);
        let claimed: StreamAutoClaimReply = redis
            .xautoclaim_options(
                &self.key,
                &self.group,
                &self.name,
                idle_ms,
                "0-0",
                StreamAutoClaimOptions::default().count(count),
            )
            .await?;
        if !claimed.claimed.is_empty() {
            let jobs: Vec<Job> = claimed.claimed.iter().filter_map(|entry| job(entry, true)).collect();
            tracing::info!(reclaimed = jobs.len(), stream = %self.key, "reclaimed jobs of a worker that stopped");
            return Ok(jobs);
        }
        let block_ms = usize::try_from(block.as_millis()).unwrap_or(usize::MAX);
        let options =
            StreamReadOptions::default().group(&self.group, &self.name).count(count).block(block_ms);
        let read: Option<StreamReadReply> = redis.xread_options(&[&self.key], &[">"], &options).await?;
        Ok(read
            .map(|reply| {
                reply.keys.iter().flat_map(|k| k.ids.iter().filter_map(|entry| job(entry, false))).collect()
            })
            .unwrap_or_default())
    }

    /// Tells the group that this consumer is still working on `entries`: their idle time starts
    /// again from zero (`XCLAIM … JUSTID`, which does not count a delivery), so no other worker
    /// reclaims them while this one is alive, however long its work takes. Only entries this
    /// consumer still holds are touched: one another worker reclaimed meanwhile stays with it.
    /// Returns how many entries this consumer still held.
    pub async fn refresh(&self, entries: &[String]) -> Result<usize, Error> {
        if entries.is_empty() {
            return Ok(0);
        }
        let mut redis = self.streams.redis.clone();
        let held: usize = redis::cmd("EVAL")
            .arg(REFRESH_SCRIPT)
            .arg(1)
            .arg(&self.key)
            .arg(&self.group)
            .arg(&self.name)
            .arg(entries)
            .query_async(&mut redis)
            .await?;
        Ok(held)
    }

    /// Acknowledges finished jobs: they are not delivered again.
    pub async fn ack(&self, entries: &[String]) -> Result<(), Error> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut redis = self.streams.redis.clone();
        let _: i64 = redis.xack(&self.key, &self.group, entries).await?;
        Ok(())
    }
}

/// [`Consumer::refresh`] as one atomic step: of the entries given, those still pending for this
/// consumer (`XPENDING` names the owner) are claimed again by it with a minimum idle time of 0,
/// which resets their idle time. A check and a claim in two round trips could take back an entry
/// another worker reclaimed in between.
const REFRESH_SCRIPT: &str = r"
local group, consumer = ARGV[1], ARGV[2]
local claim = {'XCLAIM', KEYS[1], group, consumer, 0}
local held = 0
for i = 3, #ARGV do
    local pending = redis.call('XPENDING', KEYS[1], group, ARGV[i], ARGV[i], 1)
    if pending[1] and pending[1][2] == consumer then
        claim[#claim + 1] = ARGV[i]
        held = held + 1
    end
end
if held > 0 then
    claim[#claim + 1] = 'JUSTID'
    redis.call(unpack(claim))
end
return held
";

fn job(entry: &redis::streams::StreamId, reclaimed: bool) -> Option<Job> {
    let text = |field: &str| entry.map.get(field).and_then(|v| redis::from_redis_value_ref::<String>(v).ok());
    let key = text("key")?;
    let payload = text("payload").and_then(|p| serde_json::from_str(&p).ok()).unwrap_or(Value::Null);
    Some(Job { entry: entry.id.clone(), key, payload, reclaimed })
}
