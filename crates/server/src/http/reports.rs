//! What coordinators and the accountant read: every campaign's overview, and CSV exports of a
//! period (donations, refunds, disputes, payouts). Every staff role may read them; only a
//! treasurer, with a fresh one-time code, may add named donors' identities to the donations
//! export, as only a treasurer may reveal a beneficiary. Every export is audited before its
//! first row leaves (`zbor_reports::exports`).
//!
//! The paths are under `/api/v1/overview` and `/api/v1/exports/`, never under
//! `/api/v1/campaigns/`, where a name could collide with a campaign's slug.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zbor_auth::Role;
use zbor_reports::{CampaignOverview, Export, ExportKind, Exporter, Period};

use super::auth::Caller;
use super::extract::ApiQuery;
use super::openapi::ErrorBody;
use super::payouts::TREASURY;
use super::{ApiError, AppState};

/// This area's routes; `http::router` merges every area's.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(overview))
        .routes(routes!(export_donations))
        .routes(routes!(export_refunds))
        .routes(routes!(export_disputes))
        .routes(routes!(export_payouts))
}

/// Every staff role reads the overview and the exports: coordinators decide when a campaign is
/// funded, treasurers and admins answer to the accountant. None of it names anyone.
pub const STAFF: &[Role] = &[Role::Admin, Role::Treasurer, Role::Coordinator];

/// The header a treasurer's fresh one-time code comes in when an export reveals donors (a GET
/// has no body; a header never appears in the access log, a query string might).
pub const TOTP_HEADER: &str = "x-totp-code";

/// Exports running at once in one server process: each holds a database connection for its
/// whole download, and the pool is shared with donations' webhooks. A third asks again later
/// (503 `exports_busy` with `Retry-After`).
pub const EXPORTS_AT_ONCE_MAX: usize = 2;

static EXPORT_SLOTS: std::sync::LazyLock<zbor_reports::ExportSlots> =
    std::sync::LazyLock::new(|| zbor_reports::ExportSlots::new(EXPORTS_AT_ONCE_MAX));

fn domain(e: zbor_reports::Error) -> ApiError {
    ApiError::Domain(Box::new(e))
}

#[derive(Serialize, ToSchema)]
pub struct Overview {
    /// Newest first. Each campaign's amounts are in its own currency; campaigns in different
    /// currencies are never added up.
    pub campaigns: Vec<CampaignOverview>,
}

/// Every campaign at a glance: raised, refunded, disputed, fees, net, goal, people funded, and
/// payouts paid, pending and awaiting approval, in the campaign's currency.
#[utoipa::path(
    get,
    path = "/api/v1/overview",
    tag = "reports",
    security(("bearer" = []), ("session" = [])),
    responses((status = OK, description = "every campaign's figures", body = Overview))
)]
pub async fn overview(caller: Caller, State(state): State<AppState>) -> Result<Json<Overview>, ApiError> {
    caller.require(STAFF)?;
    // one snapshot: a donation booked meanwhile cannot make one campaign's figures disagree
    let mut snapshot = state.pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only").execute(&mut *snapshot).await?;
    let campaigns = zbor_reports::overview(&mut snapshot).await.map_err(domain)?;
    snapshot.commit().await?;
    Ok(Json(Overview { campaigns }))
}

/// A period, `[from, to)` in whole UTC days, and an optional campaign.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// The first day, included: `YYYY-MM-DD`, from 00:00 UTC.
    #[param(example = "2026-12-01")]
    from: String,
    /// The day after the last, excluded: `YYYY-MM-DD`, 00:00 UTC (`to=2027-01-01` ends with
    /// December 31st).
    #[param(example = "2027-01-01")]
    to: String,
    /// Only this campaign (its slug); every campaign when absent.
    #[param(example = "release-123")]
    campaign: Option<String>,
}

/// [`ExportQuery`], and whether named donors' identities are added.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DonationsQuery {
    /// The first day, included: `YYYY-MM-DD`, from 00:00 UTC.
    #[param(example = "2026-12-01")]
    from: String,
    /// The day after the last, excluded: `YYYY-MM-DD`, 00:00 UTC.
    #[param(example = "2027-01-01")]
    to: String,
    /// Only this campaign (its slug); every campaign when absent.
    #[param(example = "release-123")]
    campaign: Option<String>,
    /// Adds `donor_name` and `donor_email` for donors who chose to be named: treasurers only,
    /// with a fresh one-time code in `X-TOTP-Code`; audited.
    reveal_donors: Option<bool>,
}

/// Donations of the period, as CSV: date (paid, or opened when not paid), campaign, amount,
/// fee, refunded, disputed, net, currency, status, Stripe's payment id. Amounts exact at the
/// currency's scale with a dot. Named donors only with `reveal_donors=true` (a wrong one-time
/// code is a 401 `bad_second_factor`).
#[utoipa::path(
    get,
    path = "/api/v1/exports/donations.csv",
    tag = "reports",
    params(DonationsQuery, ("x-totp-code" = Option<String>, Header, description = "a fresh one-time code, with `reveal_donors=true`")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = OK, description = "RFC 4180 CSV, UTF-8, streamed", content_type = "text/csv", body = String),
        (status = TOO_MANY_REQUESTS, description = "too many wrong codes or passwords: the account is locked for 15 minutes (`account_locked`)", body = ErrorBody),
    )
)]
pub async fn export_donations(
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<DonationsQuery>,
) -> Result<Response, ApiError> {
    caller.require(STAFF)?;
    let reveal = query.reveal_donors.unwrap_or(false);
    let export = export(ExportKind::Donations, &query.from, &query.to, query.campaign, reveal)?;
    let donor_key = if reveal {
        // who may reveal a beneficiary may reveal a donor, the same way: a treasurer in
        // person, with a fresh one-time code
        caller.require(TREASURY)?;
        let user = caller.user_id()?;
        let key = state.data_key.as_ref().ok_or(ApiError::PeopleNotConfigured)?;
        let code = headers.get(TOTP_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if code.is_empty() {
            return Err(ApiError::BadQuery(format!(
                "reveal_donors=true needs a fresh one-time code in the {TOTP_HEADER} header"
            )));
        }
        super::payouts::second_factor(&state, user, code).await?;
        Some(key)
    } else {
        None
    };
    stream(&state, &caller, export, donor_key).await
}

/// Refunds booked in the period, as CSV: date, campaign, amount, currency, Stripe's payment id,
/// the refunded donation's date. The ledger's own movements, so they add up to it.
#[utoipa::path(
    get,
    path = "/api/v1/exports/refunds.csv",
    tag = "reports",
    params(ExportQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = OK, description = "RFC 4180 CSV, UTF-8, streamed", content_type = "text/csv", body = String))
)]
pub async fn export_refunds(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    simple(caller, state, query, ExportKind::Refunds).await
}

/// Dispute movements booked in the period, as CSV: date, campaign, `withdrawn` or `reinstated`,
/// amount, currency, Stripe's dispute and payment ids, the donation's date.
#[utoipa::path(
    get,
    path = "/api/v1/exports/disputes.csv",
    tag = "reports",
    params(ExportQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = OK, description = "RFC 4180 CSV, UTF-8, streamed", content_type = "text/csv", body = String))
)]
pub async fn export_disputes(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    simple(caller, state, query, ExportKind::Disputes).await
}

/// Payouts of the period, as CSV: date (paid, else approved, else created), campaign, payout and
/// batch ids, amount, reversed, currency, rail, state, when paid. Never who was paid.
#[utoipa::path(
    get,
    path = "/api/v1/exports/payouts.csv",
    tag = "reports",
    params(ExportQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = OK, description = "RFC 4180 CSV, UTF-8, streamed", content_type = "text/csv", body = String))
)]
pub async fn export_payouts(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    simple(caller, state, query, ExportKind::Payouts).await
}

async fn simple(
    caller: Caller,
    state: AppState,
    query: ExportQuery,
    kind: ExportKind,
) -> Result<Response, ApiError> {
    caller.require(STAFF)?;
    let export = export(kind, &query.from, &query.to, query.campaign, false)?;
    stream(&state, &caller, export, None).await
}

fn export(
    kind: ExportKind,
    from: &str,
    to: &str,
    campaign: Option<String>,
    reveal_donors: bool,
) -> Result<Export, ApiError> {
    let period = Period::parse(from, to).map_err(domain)?;
    Ok(Export { kind, period, campaign, reveal_donors })
}

/// Audits the export, then streams it a page at a time: the response starts as soon as the
/// first page is read, and the server never holds more than a page.
async fn stream(
    state: &AppState,
    caller: &Caller,
    export: Export,
    donor_key: Option<&zbor_vault::DataKey>,
) -> Result<Response, ApiError> {
    let exporter = Exporter::start(&state.pool, &EXPORT_SLOTS, &export, donor_key, &caller.actor())
        .await
        .map_err(domain)?;
    let kind = export.kind.name();
    let body = futures_util::stream::try_unfold(exporter, move |mut exporter| async move {
        match exporter.next_chunk().await {
            Ok(Some(chunk)) => Ok(Some((Bytes::from(chunk), exporter))),
            Ok(None) => Ok(None),
            Err(e) => {
                // the client sees a cut-off transfer (rows missing, the chunked body unfinished); the cause
                // is logged once here, without any row's content
                tracing::error!(export = kind, rows = exporter.rows(), error = %e, "export failed mid-way");
                Err(e)
            }
        }
    });
    let disposition = format!("attachment; filename=\"{}\"", export.filename());
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(body),
    )
        .into_response())
}
