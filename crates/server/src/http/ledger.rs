//! Read-only ledger endpoints for operators: accounts with balances, and the verify report.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zbor_ledger::{Account, Balance};

use super::auth::{Caller, LEDGER_READ};
use super::extract::ApiPath;
use super::openapi::ErrorBody;
use super::{ApiError, AppState};

/// This area's routes; `http::router` merges every area's.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_accounts)).routes(routes!(show_account)).routes(routes!(verify))
}

/// Page cap: the ledger has few accounts today; a bound keeps it so.
const ACCOUNTS_PAGE_MAX: i64 = 1_000;

#[derive(Serialize, ToSchema)]
pub struct AccountBalance {
    pub account: Account,
    pub balance: Balance,
}

#[derive(Serialize, ToSchema)]
pub struct Accounts {
    pub accounts: Vec<AccountBalance>,
}

#[derive(Serialize, ToSchema)]
pub struct Verified {
    /// No problem found.
    pub ok: bool,
    pub report: zbor_ledger::Report,
}

/// Accounts with their balances (posted, pending outflow, available).
#[utoipa::path(
    get,
    path = "/api/v1/ledger/accounts",
    tag = "ledger",
    security(("bearer" = []), ("session" = [])),
    responses((status = OK, description = "every account, with its balance", body = Accounts))
)]
pub async fn list_accounts(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<Accounts>, ApiError> {
    caller.require(LEDGER_READ)?;
    let mut conn = state.pool.acquire().await?;
    let accounts = zbor_ledger::list_accounts(&mut *conn, ACCOUNTS_PAGE_MAX).await?;
    let mut items = Vec::with_capacity(accounts.len());
    for account in accounts {
        let balance = zbor_ledger::balance(&mut conn, account.id).await?;
        items.push(AccountBalance { account, balance });
    }
    Ok(Json(Accounts { accounts: items }))
}

/// One account with its balance.
#[utoipa::path(
    get,
    path = "/api/v1/ledger/accounts/{code}",
    tag = "ledger",
    params(("code" = String, Path, description = "the account's code, e.g. `campaign:release-123`", example = "campaign:release-123")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = OK, description = "the account and its balance", body = AccountBalance),
        (status = NOT_FOUND, description = "no such account", body = ErrorBody),
    )
)]
pub async fn show_account(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<AccountBalance>, ApiError> {
    caller.require(LEDGER_READ)?;
    let mut conn = state.pool.acquire().await?;
    let account = zbor_ledger::account_by_code(&mut *conn, &code).await?;
    let balance = zbor_ledger::balance(&mut conn, account.id).await?;
    Ok(Json(AccountBalance { account, balance }))
}

/// Every balance recomputed from the postings, and the hash chain checked.
#[utoipa::path(
    get,
    path = "/api/v1/ledger/verify",
    tag = "ledger",
    security(("bearer" = []), ("session" = [])),
    responses((status = OK, description = "the report; `ok` false names the first problem", body = Verified))
)]
pub async fn verify(caller: Caller, State(state): State<AppState>) -> Result<Json<Verified>, ApiError> {
    caller.require(LEDGER_READ)?;
    let report = zbor_ledger::verify(&state.pool).await?;
    Ok(Json(Verified { ok: report.is_ok(), report }))
}
