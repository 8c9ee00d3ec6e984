//! Every test gets its own database on the real PostgreSQL server, created and migrated on the
//! spot, so tests run in parallel without seeing each other's rows.
#![allow(clippy::expect_used)] // test support: a failure to set up is a failed test

pub mod fuzz;

use sqlx::{Connection, Executor, PgConnection, PgPool};

/// The server tests run against; `DATABASE_URL` overrides (its database part is ignored).
pub fn server_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub struct TestDb {
    pub pool: PgPool,
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A new migrated database with a pool of `max_connections`.
    pub async fn new(max_connections: u32) -> TestDb {
        let base = zbor_db::options(&server_url()).expect("DATABASE_URL");
        let name = format!("zbor_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect_with(&base.clone().database("postgres"))
            .await
            .expect("connect to PostgreSQL at DATABASE_URL (is it running? deploy/services.sh starts it)");
        admin.execute(format!("create database {name}").as_str()).await.expect("create test database");
        admin.close().await.ok();
        let url = with_database(&server_url(), &name);
        let pool = zbor_db::connect(&url, max_connections).await.expect("connect to test database");
        zbor_db::migrate(&pool).await.expect("migrate test database");
        TestDb { pool, name, url }
    }

    /// Drops the database; tests call it at the end so the server does not fill up. Leftovers
    /// of failed runs are dropped by `deploy/test.sh` before the next run.
    pub async fn drop_database(self) {
        // A test still holding a connection would make close() wait forever; don't hang the run.
        if tokio::time::timeout(std::time::Duration::from_secs(10), self.pool.close()).await.is_err() {
            eprintln!(
                "testkit: a connection of {} was still in use; dropping the database anyway",
                self.name
            );
        }
        let base = zbor_db::options(&server_url()).expect("DATABASE_URL");
        if let Ok(mut admin) = PgConnection::connect_with(&base.database("postgres")).await {
            let _ =
                admin.execute(format!("drop database if exists {} with (force)", self.name).as_str()).await;
        }
    }
}

/// Replaces the database part of a PostgreSQL URL.
pub fn with_database(url: &str, database: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = before_query.find("://").map_or(0, |i| i + 3);
    let host_end = before_query[scheme_end..].find('/').map_or(before_query.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &before_query[..host_end], database);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}
