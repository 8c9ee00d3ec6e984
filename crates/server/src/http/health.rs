use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Json;
use axum::Router;
use serde_json::{json, Value};

use super::AppState;

/// This area's routes; `http::router` merges every area's.
pub fn router() -> Router<AppState> {
    Router::new().route("/health/live", get(live)).route("/health/ready", get(ready))
}

/// The process is up.
pub async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// PostgreSQL and Redis answer; a load balancer sends traffic only when this says ok.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let postgres = sqlx::query_scalar::<_, i32>("select 1").fetch_one(&state.pool).await.is_ok();
    let mut redis = state.redis.clone();
    let redis_ok = redis::cmd("PING").query_async::<String>(&mut redis).await.is_ok();
    let status = if postgres && redis_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let word = |ok: bool| if ok { "ok" } else { "down" };
    (status, Json(json!({ "postgres": word(postgres), "redis": word(redis_ok) })))
}
