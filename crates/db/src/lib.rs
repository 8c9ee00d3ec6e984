//! The one place that knows how to reach PostgreSQL and which migrations exist.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, PgConnection, PgPool};

/// Every migration of the workspace, embedded in the binary so `zbor migrate` needs no files.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    InvalidUrl(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Parsed connection options. Statement logging is off: SQL parameters can carry personal data.
///
/// A URL that names no `sslmode` gets libpq's default (`prefer`: TLS if the server offers it,
/// without checking its certificate), except on loopback or a Unix socket, where TLS protects
/// nothing and costs every query: there it is `disable`. Production names `sslmode=verify-full`
/// (docs/PRODUCTION.md), which is kept as given.
pub fn options(database_url: &str) -> Result<PgConnectOptions, Error> {
    let mut options = PgConnectOptions::from_str(database_url)
        .map_err(|e| Error::InvalidUrl(e.to_string()))?
        .disable_statement_logging();
    let host = options.get_host();
    let loopback = host.starts_with('/')
        || host == "localhost"
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback && !database_url.contains("sslmode=") {
        options = options.ssl_mode(sqlx::postgres::PgSslMode::Disable);
    }
    Ok(options)
}

/// A pool with bounded size and timeouts, so an overloaded database slows callers down instead of
/// piling up unbounded waiting work.
pub async fn connect(database_url: &str, max_connections: u32) -> Result<PgPool, Error> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // A transaction left open would hold locks on hot accounts; cap it.
                conn.execute("set idle_in_transaction_session_timeout = '30s'").await?;
                Ok(())
            })
        })
        .connect_with(options(database_url)?)
        .await?;
    Ok(pool)
}

/// Creates the database named in `database_url` when it does not exist yet (through the server's
/// `postgres` maintenance database), so a fresh machine needs no manual `createdb`.
pub async fn create_database_if_missing(database_url: &str) -> Result<(), Error> {
    let target = options(database_url)?;
    let name = target.get_database().unwrap_or("postgres").to_owned();
    let mut admin = PgConnection::connect_with(&target.clone().database("postgres")).await?;
    let exists: bool = sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
        .bind(&name)
        .fetch_one(&mut admin)
        .await?;
    if !exists {
        // Identifiers cannot be bound as parameters; quote it the way PostgreSQL does.
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        admin.execute(format!("create database {quoted}").as_str()).await?;
        tracing::info!(database = %name, "created database");
    }
    Ok(())
}

pub async fn migrate(pool: &PgPool) -> Result<(), Error> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use sqlx::postgres::PgSslMode;

    use super::*;

    #[test]
    fn tls_is_left_out_only_on_loopback_when_no_mode_is_named() {
        let mode = |url: &str| format!("{:?}", options(url).unwrap().get_ssl_mode());
        assert_eq!(mode("postgres://postgres@127.0.0.1:5432/zbor"), format!("{:?}", PgSslMode::Disable));
        assert_eq!(mode("postgres://postgres@localhost/zbor"), format!("{:?}", PgSslMode::Disable));
        assert_eq!(mode("postgres://postgres@db.internal/zbor"), format!("{:?}", PgSslMode::Prefer));
        assert_eq!(
            mode("postgres://postgres@127.0.0.1/zbor?sslmode=require"),
            format!("{:?}", PgSslMode::Require)
        );
        assert_eq!(
            mode("postgres://zbor@db.internal/zbor?sslmode=verify-full"),
            format!("{:?}", PgSslMode::VerifyFull)
        );
    }
}
