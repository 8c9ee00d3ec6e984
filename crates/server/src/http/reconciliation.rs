//! The money truth for treasurers: the ledger reconciled with Stripe (run now, or the latest
//! run), and the bank's statements imported to confirm SEPA payouts.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use zbor_reconcile::against_stripe::{self, Period};
use zbor_reconcile::bank::{self, Imported};
use zbor_reconcile::camt::MAX_STATEMENT_BYTES;
use zbor_reconcile::runs::{self, Run, Trigger};

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath};
use super::openapi::ErrorBody;
use super::payouts::{TREASURY, TREASURY_READ};
use super::{ApiError, AppState};

/// This area's routes; `http::router` merges every area's.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reconcile_stripe))
        .routes(routes!(latest_stripe))
        .routes(routes!(import_statement).layer(DefaultBodyLimit::max(MAX_STATEMENT_BYTES)))
        .routes(routes!(show_statement))
}

/// The period to reconcile, `[from, to)`, at most 31 days.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReconcileRequest {
    #[schema(example = "2026-11-30T00:00:00Z")]
    pub from: DateTime<Utc>,
    #[schema(example = "2026-12-01T00:00:00Z")]
    pub to: DateTime<Utc>,
}

/// Reconciles the ledger with Stripe's balance transactions for a period now, and keeps the run.
/// Reads Stripe (one call per 100 balance transactions, on the background budget).
#[utoipa::path(
    post,
    path = "/api/v1/reconciliation/stripe",
    tag = "reconciliation",
    request_body = ReconcileRequest,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "the run and its report: matched, in transit, every difference, totals per kind", body = Run),
        (status = UNPROCESSABLE_ENTITY, description = "`to` not after `from`, or longer than 31 days", body = ErrorBody),
        (status = BAD_GATEWAY, description = "Stripe did not answer as expected", body = ErrorBody),
    )
)]
pub async fn reconcile_stripe(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ReconcileRequest>,
) -> Result<Json<Run>, ApiError> {
    caller.require(TREASURY_READ)?;
    let period = Period::new(request.from, request.to)?;
    let checkout = state.checkout.as_ref().ok_or(ApiError::CheckoutNotConfigured)?;
    let report = against_stripe::reconcile(&state.pool, checkout.background(), period).await?;
    let id = runs::record(&state.pool, &report, Trigger::Api).await?.unwrap_or_default();
    tracing::info!(run = id, differences = report.differences.len(), "reconciliation with Stripe run");
    let differences = i32::try_from(report.differences.len()).unwrap_or(i32::MAX);
    Ok(Json(Run { id, trigger: "api".into(), ran_at: Utc::now(), differences, report }))
}

/// The latest reconciliation with Stripe: the daily run's (the previous UTC day, an hour after it
/// ended) or a treasurer's, whichever is newer.
#[utoipa::path(
    get,
    path = "/api/v1/reconciliation/stripe/latest",
    tag = "reconciliation",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = OK, description = "the newest run", body = Run),
        (status = NOT_FOUND, description = "no run yet", body = ErrorBody),
    )
)]
pub async fn latest_stripe(caller: Caller, State(state): State<AppState>) -> Result<Json<Run>, ApiError> {
    caller.require(TREASURY_READ)?;
    let run = runs::latest(&state.pool).await?;
    run.map(Json).ok_or_else(|| ApiError::NotFound("no reconciliation has run yet".into()))
}

/// Imports a bank statement (camt.053) or notification (camt.054): SEPA payouts it shows
/// executed are paid, returned ones failed (or their money back on the campaign), Stripe's
/// payouts to the bank matched, the rest listed. All or nothing; the same statement again
/// changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/bank/statements",
    tag = "reconciliation",
    request_body(content = String, content_type = "application/xml", description = "the ISO 20022 camt.053 or camt.054 message, at most 20 MiB"),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "what each line did (`already_imported`: this statement was imported before, nothing changed)", body = Imported),
        (status = PAYLOAD_TOO_LARGE, description = "larger than 20 MiB", body = ErrorBody),
        (status = UNSUPPORTED_MEDIA_TYPE, description = "not sent as application/xml or text/xml", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "not a readable camt.053 or camt.054 message, or not of the organisation's account (`ZBOR_SEPA_DEBTOR_IBAN`); nothing imported", body = ErrorBody),
    )
)]
pub async fn import_statement(
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<Imported>, ApiError> {
    caller.require(TREASURY)?;
    caller.user_id()?; // a person answers for it, not the bootstrap token
    if !is_xml(&headers) {
        return Err(ApiError::UnsupportedMediaType(
            "send the statement as the body with Content-Type: application/xml",
        ));
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(ApiError::TooLarge("20 MiB: import the statement in parts"));
        }
        Err(rejection) => return Err(ApiError::BadRequest(rejection.body_text())),
    };
    let account = state.sepa_debtor.as_ref().map(|debtor| debtor.iban.as_str());
    let imported = bank::import(&state.pool, &body, &caller.actor(), account).await?;
    Ok(Json(imported))
}

/// An imported statement and what each of its lines did; unmatched lines are for treasurers.
#[utoipa::path(
    get,
    path = "/api/v1/bank/statements/{id}",
    tag = "reconciliation",
    params(("id" = i64, Path, description = "the statement's id in zbor", example = 1)),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = OK, description = "the statement's lines", body = Imported),
        (status = NOT_FOUND, description = "no such statement", body = ErrorBody),
    )
)]
pub async fn show_statement(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Imported>, ApiError> {
    caller.require(TREASURY_READ)?;
    let exists: bool = sqlx::query_scalar("select exists (select 1 from bank_statements where id = $1)")
        .bind(id)
        .fetch_one(&state.pool)
        .await?;
    if !exists {
        return Err(ApiError::NotFound(format!("bank statement {id} not found")));
    }
    Ok(Json(bank::imported(&state.pool, id, true).await?))
}

fn is_xml(headers: &HeaderMap) -> bool {
    super::extract::content_type_is(headers, &["application/xml", "text/xml"])
}
