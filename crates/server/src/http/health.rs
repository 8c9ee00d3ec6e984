//! Liveness and readiness, for load balancers and orchestrators.
//!
//! - `/health/live`: the process answers; it touches neither PostgreSQL nor Redis, so a
//!   database outage never gets a healthy process restarted.
//! - `/health/ready`: PostgreSQL and Redis each answer within [`PROBE_TIMEOUT`], or 503 naming
//!   what is down. PostgreSQL is asked over a connection of the probe's own, not the request
//!   pool: a pool whose connections hang in an outage (or are all busy) would make the probe
//!   wait for the pool's 10 s acquire timeout, and a short outage would never be reported.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// How long readiness waits for each dependency; both are asked at once, so the probe answers
/// within this (a load balancer's own timeout is usually 1–2 s).
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// This area's routes; `http::router` merges every area's.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(live)).routes(routes!(ready))
}

/// `/health/live`'s answer.
#[derive(Serialize, ToSchema)]
pub struct Alive {
    #[schema(example = "ok")]
    status: &'static str,
}

/// `/health/ready`'s answer: each dependency `ok` or `down`.
#[derive(Serialize, ToSchema)]
pub struct ReadinessAnswer {
    #[schema(example = "ok")]
    postgres: &'static str,
    #[schema(example = "ok")]
    redis: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = OK, description = "the process answers", body = Alive)))]
pub async fn live() -> Json<Alive> {
    Json(Alive { status: "ok" })
}

/// PostgreSQL and Redis answer; a load balancer sends traffic only when this says ok.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    responses(
        (status = OK, description = "both answer", body = ReadinessAnswer),
        (status = SERVICE_UNAVAILABLE, description = "one or both are `down`", body = ReadinessAnswer),
    )
)]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<ReadinessAnswer>) {
    let mut redis = state.redis.clone();
    let redis_ping = async { redis::cmd("PING").query_async::<String>(&mut redis).await.is_ok() };
    let (postgres, redis_ok) = tokio::join!(
        state.readiness.postgres_answers(&state.pool),
        tokio::time::timeout(PROBE_TIMEOUT, redis_ping)
    );
    let redis_ok = redis_ok.unwrap_or(false);
    let status = if postgres && redis_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let word = |ok: bool| if ok { "ok" } else { "down" };
    (status, Json(ReadinessAnswer { postgres: word(postgres), redis: word(redis_ok) }))
}

/// The readiness probe's own PostgreSQL connection, opened on first use and again after any
/// failure.
pub struct Readiness {
    options: Arc<PgConnectOptions>,
    connection: tokio::sync::Mutex<Option<PgConnection>>,
}

impl Readiness {
    /// Connects as the request pool does (`options` are the pool's).
    pub fn new(options: Arc<PgConnectOptions>) -> Readiness {
        Readiness { options, connection: tokio::sync::Mutex::new(None) }
    }

    /// `select 1` answered within [`PROBE_TIMEOUT`]. The connection is taken out of its slot
    /// while in use and put back only after an answer: a probe cut off by the timeout drops a
    /// connection in an unknown state instead of leaving it for the next probe. A kept
    /// connection that fails (the server ended it) is replaced at once, within the same probe.
    /// When no new connection can be opened although PostgreSQL answers (it is at
    /// `max_connections`, which every instance's probe would hit at once), an idle connection of
    /// the request pool answers for it, if one is free now: the probe never waits for the pool.
    pub async fn postgres_answers(&self, pool: &sqlx::PgPool) -> bool {
        let probe = async {
            let mut slot = self.connection.lock().await;
            if let Some(mut kept) = slot.take() {
                if answers(&mut kept).await {
                    *slot = Some(kept);
                    return true;
                }
            }
            match PgConnection::connect_with(&self.options).await {
                Ok(mut new) => {
                    let ok = answers(&mut new).await;
                    if ok {
                        *slot = Some(new);
                    }
                    ok
                }
                Err(_) => match pool.try_acquire() {
                    Some(mut pooled) => answers(&mut pooled).await,
                    None => false,
                },
            }
        };
        tokio::time::timeout(PROBE_TIMEOUT, probe).await.unwrap_or(false)
    }
}

async fn answers(connection: &mut PgConnection) -> bool {
    sqlx::query("select 1").execute(connection).await.is_ok()
}
