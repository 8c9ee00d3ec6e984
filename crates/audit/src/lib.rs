//! The audit log: every privileged action (login, approval, reveal of personal data, pause,
//! beneficiary change, role change) appended with its actor and time to an append-only hash chain
//! in PostgreSQL (`audit_log`, see `migrations/20261122000005_audit.sql`).
//!
//! [`append_in`] writes inside the caller's transaction, so an action and its entry commit
//! together or not at all. [`verify`] recomputes the whole chain. Entries never carry personal
//! data: actor and subject are ids (`user:42`, `payout_batch:12`), details are ids and counts.

mod content;
mod verify;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

pub use content::{entry_hash, Hash, ACTION_MAX, ACTOR_MAX, DETAILS_BYTES_MAX, GENESIS, SUBJECT_MAX};
pub use verify::{verify, Problem, ProblemKind, Report};
/// The canonical JSON that entry hashes cover: zbor-ledger's, one implementation for both hash
/// chains (why there: this crate's Cargo.toml).
pub use zbor_ledger::canonical_json;

/// Arbitrary but fixed: the transaction-scoped advisory lock that makes appends one at a time.
const AUDIT_LOCK: i64 = 0x7a62_6f72_4155_4454; // "zborAUDT"

/// The most [`recent`] returns at once.
pub const RECENT_MAX: i64 = 1_000;

/// One privileged action, as the caller describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    /// Who: `user:42`, `token:7`, `cli`, `system` (`^[a-z_]+(:[A-Za-z0-9._-]+)?$`, ≤ 64 bytes).
    pub actor: &'a str,
    /// What: `login`, `payout_batch.approve`, `user.role_change` (`^[a-z_]+(\.[a-z_]+)*$`, ≤ 64).
    pub action: &'a str,
    /// On what: `payout_batch:12` (same form as the actor, ≤ 128 bytes).
    pub subject: Option<&'a str>,
    /// A JSON object of ids, counts and codes, never personal data; integers only (no floats),
    /// at most `DETAILS_BYTES_MAX` bytes.
    pub details: Value,
}

impl<'a> Entry<'a> {
    /// An entry without subject and with empty details.
    pub fn new(actor: &'a str, action: &'a str) -> Entry<'a> {
        Entry { actor, action, subject: None, details: Value::Object(Default::default()) }
    }

    pub fn subject(mut self, subject: &'a str) -> Entry<'a> {
        self.subject = Some(subject);
        self
    }

    pub fn details(mut self, details: Value) -> Entry<'a> {
        self.details = details;
        self
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct Record {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub details: Value,
    #[serde(serialize_with = "as_hex")]
    pub prev_hash: Vec<u8>,
    #[serde(serialize_with = "as_hex")]
    pub hash: Vec<u8>,
}

impl Record {
    pub fn entry(&self) -> Entry<'_> {
        Entry {
            actor: &self.actor,
            action: &self.action,
            subject: self.subject.as_deref(),
            details: self.details.clone(),
        }
    }
}

fn as_hex<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

/// Everything the audit log can refuse. Variants other than `Database` describe an entry that is
/// wrong (see [`Error::is_client_error`]); nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("audit actor {0:?} is invalid: use `kind` or `kind:id` (kind a-z _, id A-Z a-z 0-9 . _ -), at most {ACTOR_MAX} bytes")]
    InvalidActor(String),
    #[error("audit action {0:?} is invalid: use dot-separated words of a-z _, at most {ACTION_MAX} bytes")]
    InvalidAction(String),
    #[error("audit subject {0:?} is invalid: use `kind` or `kind:id` (kind a-z _, id A-Z a-z 0-9 . _ -), at most {SUBJECT_MAX} bytes")]
    InvalidSubject(String),
    #[error("audit details must be a JSON object of at most {max_bytes} bytes, with integer numbers only")]
    InvalidDetails { max_bytes: usize },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl Error {
    /// True when the entry itself is wrong (a 4xx), false when the system failed (a 5xx).
    pub fn is_client_error(&self) -> bool {
        !matches!(self, Error::Database(_))
    }
}

impl zbor_errors::Classified for Error {
    /// An entry the log refuses is zbor's bug, never the client's: the action is not done.
    fn kind(&self) -> zbor_errors::ErrorKind {
        zbor_errors::ErrorKind::Internal
    }
}

/// A staff user's id: what the audit log names people by (`user:42`), and what every crate that
/// records who approved, set or changed something carries. `zbor_auth` owns the accounts and
/// re-exports it.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    sqlx::Type,
    utoipa::ToSchema,
)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct UserId(i64);

impl UserId {
    pub fn as_i64(self) -> i64 {
        self.0
    }

    pub const fn from_i64(id: i64) -> UserId {
        UserId(id)
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "user:{}", self.0)
    }
}

/// Who acts, as the audit log names them: a staff user (by id), the bootstrap token, the host's
/// command line (`zbor …`, break-glass commands), or nobody known (a failed login); and, for a
/// user, how they came in (`session`, `api_token`), which the entry's details record as `via`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    who: Who,
    via: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    User(UserId),
    Bootstrap,
    Cli,
    Anonymous,
}

impl Actor {
    /// The bootstrap token (`ZBOR_ADMIN_TOKEN`): no one in particular.
    pub const BOOTSTRAP: Actor = Actor { who: Who::Bootstrap, via: None };
    /// The host's command line.
    pub const CLI: Actor = Actor { who: Who::Cli, via: None };
    /// Someone not (yet) known: a failed login.
    pub const ANONYMOUS: Actor = Actor { who: Who::Anonymous, via: None };

    /// Staff user `id`.
    pub const fn user(id: UserId) -> Actor {
        Actor { who: Who::User(id), via: None }
    }

    /// The same actor, having come in `via` a session, a token, ...
    pub const fn via(self, via: &'static str) -> Actor {
        Actor { via: Some(via), ..self }
    }

    /// The entry's `actor`: `user:42`, `bootstrap`, `cli` or `anonymous`.
    pub fn name(&self) -> String {
        match self.who {
            Who::User(id) => id.to_string(),
            Who::Bootstrap => "bootstrap".to_owned(),
            Who::Cli => "cli".to_owned(),
            Who::Anonymous => "anonymous".to_owned(),
        }
    }

    /// The staff user behind the action, if it is one.
    pub fn user_id(&self) -> Option<UserId> {
        match self.who {
            Who::User(id) => Some(id),
            Who::Bootstrap | Who::Cli | Who::Anonymous => None,
        }
    }
}

/// Appends what `actor` did (`action` on `subject`, with `details`) in the caller's transaction:
/// what domain actions call last, so the action and its entry commit together or not at all.
pub async fn record_in(
    conn: &mut PgConnection,
    actor: &Actor,
    action: &str,
    subject: Option<&str>,
    details: Value,
) -> Result<i64, Error> {
    let name = actor.name();
    let mut details = details;
    if let (Some(via), Value::Object(fields)) = (actor.via, &mut details) {
        fields.entry("via").or_insert_with(|| Value::from(via));
    }
    let mut entry = Entry::new(&name, action).details(details);
    entry.subject = subject;
    append_in(conn, &entry).await
}

/// Appends `entry` inside the caller's open transaction and returns its `seq`; the entry becomes
/// visible when, and only if, that transaction commits.
///
/// Takes a transaction-scoped advisory lock held until the caller's commit or rollback, so call it
/// late in the transaction. The transaction must be READ COMMITTED (PostgreSQL's default): under
/// REPEATABLE READ the head read here may predate the lock and the insert then fails on the
/// unique `prev_hash` (an error, never a fork). Outside a transaction the lock ends with the
/// statement, with the same consequence under concurrency.
pub async fn append_in(conn: &mut PgConnection, entry: &Entry<'_>) -> Result<i64, Error> {
    content::validate(entry)?;
    sqlx::query("select pg_advisory_xact_lock($1)").bind(AUDIT_LOCK).execute(&mut *conn).await?;
    // clock_timestamp(), not now(): the time of this append, after the lock, in microseconds.
    let (at, head): (DateTime<Utc>, Option<Vec<u8>>) =
        sqlx::query_as("select clock_timestamp(), (select hash from audit_log order by seq desc limit 1)")
            .fetch_one(&mut *conn)
            .await?;
    let prev: Hash = match head {
        // The column is checked to 32 bytes; anything else is left for verify to report.
        Some(bytes) => bytes.as_slice().try_into().unwrap_or(GENESIS),
        None => GENESIS,
    };
    let hash = entry_hash(&prev, at, entry);
    let seq: i64 = sqlx::query_scalar(
        "insert into audit_log (at, actor, action, subject, details, prev_hash, hash)
         values ($1, $2, $3, $4, $5, $6, $7) returning seq",
    )
    .bind(at)
    .bind(entry.actor)
    .bind(entry.action)
    .bind(entry.subject)
    .bind(&entry.details)
    .bind(prev.as_slice())
    .bind(hash.as_slice())
    .fetch_one(&mut *conn)
    .await?;
    tracing::debug!(seq, actor = entry.actor, action = entry.action, "audit entry appended");
    Ok(seq)
}

/// Appends `entry` in a transaction of its own (for actions that write nothing else, such as a
/// failed login).
pub async fn append(pool: &PgPool, entry: &Entry<'_>) -> Result<i64, Error> {
    let mut tx = pool.begin().await?;
    let seq = append_in(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(seq)
}

/// The latest entries, newest first; `limit` is clamped to 1..=`RECENT_MAX`.
pub async fn recent(pool: &PgPool, limit: i64) -> Result<Vec<Record>, Error> {
    let records = sqlx::query_as::<_, Record>(
        "select seq, at, actor, action, subject, details, prev_hash, hash
         from audit_log order by seq desc limit $1",
    )
    .bind(limit.clamp(1, RECENT_MAX))
    .fetch_all(pool)
    .await?;
    Ok(records)
}

#[cfg(test)]
mod actor_tests {
    use super::*;

    #[test]
    fn actors_are_named_as_the_log_accepts_them() {
        for (actor, name) in [
            (Actor::user(UserId::from_i64(42)), "user:42"),
            (Actor::BOOTSTRAP, "bootstrap"),
            (Actor::CLI, "cli"),
            (Actor::ANONYMOUS, "anonymous"),
        ] {
            let named = actor.name();
            assert_eq!(named, name);
            let entry = Entry::new(&named, "payout.retry");
            assert!(content::validate(&entry).is_ok(), "{name}");
        }
        let seven = UserId::from_i64(7);
        assert_eq!(Actor::user(seven).via("session").user_id(), Some(seven));
        assert_eq!(Actor::CLI.user_id(), None);
    }
}
