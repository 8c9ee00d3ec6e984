//! Read-only ledger endpoints for operators: accounts with balances, and the verify report.

use axum::extract::State;
use axum::routing::get;
use axum::Json;
use axum::Router;
use serde_json::{json, Value};

use super::auth::{Caller, LEDGER_READ};
use super::extract::ApiPath;
use super::{ApiError, AppState};

/// This area's routes; `http::router` merges every area's.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/ledger/accounts", get(list_accounts))
        .route("/api/v1/ledger/accounts/{code}", get(show_account))
        .route("/api/v1/ledger/verify", get(verify))
}

/// Page cap: the ledger has few accounts today; a bound keeps it so.
const ACCOUNTS_PAGE_MAX: i64 = 1_000;

pub async fn list_accounts(caller: Caller, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    caller.require(LEDGER_READ)?;
    let mut conn = state.pool.acquire().await?;
    let accounts = zbor_ledger::list_accounts(&mut *conn, ACCOUNTS_PAGE_MAX).await?;
    let mut items = Vec::with_capacity(accounts.len());
    for account in accounts {
        let balance = zbor_ledger::balance(&mut conn, account.id).await?;
        items.push(json!({ "account": account, "balance": balance }));
    }
    Ok(Json(json!({ "accounts": items })))
}

pub async fn show_account(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(LEDGER_READ)?;
    let mut conn = state.pool.acquire().await?;
    let account = zbor_ledger::account_by_code(&mut *conn, &code).await?;
    let balance = zbor_ledger::balance(&mut conn, account.id).await?;
    Ok(Json(json!({ "account": account, "balance": balance })))
}

pub async fn verify(caller: Caller, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    caller.require(LEDGER_READ)?;
    let report = zbor_ledger::verify(&state.pool).await?;
    Ok(Json(json!({ "ok": report.is_ok(), "report": report })))
}
