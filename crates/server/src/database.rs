//! Reaching PostgreSQL with a message a person can act on, and noticing on start that the
//! database was restored from a backup.

use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};
use zbor_audit::Actor;
use zbor_vault::DataKey;

/// How long the first connection may take before zbor says PostgreSQL does not answer.
const REACH_TIMEOUT: Duration = Duration::from_secs(10);

/// [`zbor_db::connect`], after one plain connection: a pool retries a refused connection until
/// its acquire timeout and then reports only "pool timed out", so the cause (refused, no such
/// host, wrong password, no such database) and the address are read from a single attempt.
pub async fn connect(database_url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    reachable(&zbor_db::options(database_url)?).await?;
    zbor_db::connect(database_url, max_connections).await.context("connecting to PostgreSQL (DATABASE_URL)")
}

/// Where `options` point, as a person would write it: `127.0.0.1:5432` or a socket's path.
fn address(options: &PgConnectOptions) -> String {
    let host = options.get_host();
    if host.starts_with('/') {
        format!("{host}/.s.PGSQL.{}", options.get_port())
    } else {
        format!("{host}:{}", options.get_port())
    }
}

/// One connection to `options`, closed again; the error names the address and the cause, once.
pub async fn reachable(options: &PgConnectOptions) -> anyhow::Result<()> {
    let address = address(options);
    match tokio::time::timeout(REACH_TIMEOUT, PgConnection::connect_with(options)).await {
        Ok(Ok(connection)) => {
            connection.close().await.ok();
            Ok(())
        }
        Ok(Err(sqlx::Error::Io(e))) => {
            let cause = match e.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    "connection refused (is PostgreSQL running?)".to_owned()
                }
                _ => e.to_string(),
            };
            anyhow::bail!("PostgreSQL (DATABASE_URL): {cause} at {address}")
        }
        Ok(Err(sqlx::Error::Database(e))) => {
            anyhow::bail!("PostgreSQL (DATABASE_URL) at {address} refused: {}", e.message())
        }
        Ok(Err(e)) => anyhow::bail!("PostgreSQL (DATABASE_URL) at {address}: {e}"),
        Err(_) => anyhow::bail!(
            "PostgreSQL (DATABASE_URL) at {address} did not answer within {} s",
            REACH_TIMEOUT.as_secs()
        ),
    }
}

/// The cluster and the WAL timeline a database lives on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub system_identifier: String,
    pub timeline: i64,
}

/// What this connection's cluster says now: its system identifier (a physical copy keeps it, a
/// dump restored elsewhere does not) and the timeline WAL is written on (every point-in-time
/// recovery and every promoted replica starts a new one).
async fn current(db: &mut PgConnection) -> Result<Identity, sqlx::Error> {
    let (system_identifier, timeline): (String, i64) = sqlx::query_as(
        "select (select system_identifier::text from pg_control_system()),
                ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint",
    )
    .fetch_one(&mut *db)
    .await?;
    Ok(Identity { system_identifier, timeline })
}

/// The reason the payout switch shows after a restore (kept sealed when there is a data key).
pub const RESTORED_REASON: &str = "The database was restored from a backup or failed over (its \
     PostgreSQL timeline or cluster changed): payouts made after the restored moment are missing \
     here and would be paid again. Reconcile with Stripe and the bank and settle them \
     (docs/BACKUPS.md, step 7) before two treasurers resume.";

/// Run by `zbor serve` and `zbor worker` before anything pays: compares the cluster and timeline
/// with those recorded at the previous start and, when they changed, pauses payouts (the reason
/// above, audited as `payouts.pause` and `database.restored` by `cli`, the host) and records the
/// new ones. Resuming is then the treasurers' usual two-person resume. Returns the previous
/// identity when it paused. Several processes starting at once: the row lock makes one of them
/// see the change and pause, the others find it recorded.
pub async fn pause_payouts_if_restored(
    pool: &PgPool,
    key: Option<&DataKey>,
) -> anyhow::Result<Option<Identity>> {
    let mut db = pool.begin().await?;
    let now = current(&mut db).await.context("reading the PostgreSQL cluster's identity")?;
    sqlx::query(
        "insert into database_identity (system_identifier, timeline) values ($1, $2) on conflict do nothing",
    )
    .bind(&now.system_identifier)
    .bind(now.timeline)
    .execute(&mut *db)
    .await?;
    let (system_identifier, timeline): (String, i64) =
        sqlx::query_as("select system_identifier, timeline from database_identity for update")
            .fetch_one(&mut *db)
            .await?;
    let before = Identity { system_identifier, timeline };
    if before == now {
        db.commit().await?;
        return Ok(None);
    }
    zbor_payouts::switch::pause_in(&mut db, key, &Actor::CLI, RESTORED_REASON).await?;
    let details = serde_json::json!({
        "before": { "system_identifier": before.system_identifier, "timeline": before.timeline },
        "now": { "system_identifier": now.system_identifier, "timeline": now.timeline },
    });
    zbor_audit::record_in(&mut db, &Actor::CLI, "database.restored", None, details).await?;
    sqlx::query("update database_identity set system_identifier = $1, timeline = $2, seen_at = now()")
        .bind(&now.system_identifier)
        .bind(now.timeline)
        .execute(&mut *db)
        .await?;
    db.commit().await?;
    tracing::warn!(
        before_timeline = before.timeline,
        timeline = now.timeline,
        "the database was restored or failed over: payouts are paused until two treasurers resume"
    );
    Ok(Some(before))
}
