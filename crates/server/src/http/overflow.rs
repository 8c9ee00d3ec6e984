//! A campaign that fills, then overflows: where it stands against its cap, and surplus
//! transfers to its overflow campaign (README "A cohort that fills, then overflows").

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zbor_auth::Role;
use zbor_intake::overflow::surplus::{self, SurplusTransfer};
use zbor_intake::overflow::CapStatus;

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath};
use super::openapi::ErrorBody;
use super::payouts::{second_factor, TREASURY};
use super::{ApiError, AppState};

/// Who may see a campaign's cap and its surplus transfers.
pub const CAP_READ: &[Role] = &[Role::Admin, Role::Coordinator, Role::Treasurer];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(cap))
        .routes(routes!(request, list))
        .routes(routes!(approve))
        .routes(routes!(cancel))
}

/// Where the campaign stands against its cap: kept, over the cap, the surplus that may move.
#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{slug}/cap",
    tag = "campaigns",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = OK, description = "the campaign against its cap", body = CapStatus),
        (status = UNAUTHORIZED, description = "not signed in", body = ErrorBody),
        (status = FORBIDDEN, description = "not a coordinator, treasurer or admin", body = ErrorBody),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
    )
)]
pub async fn cap(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<CapStatus>, ApiError> {
    caller.require(CAP_READ)?;
    let mut conn = state.pool.acquire().await?;
    let campaign = zbor_campaigns::by_slug(&mut conn, &slug).await?;
    Ok(Json(zbor_intake::overflow::cap_status(&mut conn, &campaign).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurplusRequest {
    /// How much to move, at the campaign's currency's scale.
    #[schema(example = "480.00")]
    pub amount: String,
    /// A fresh code from the treasurer's authenticator app.
    #[schema(example = "123456")]
    pub totp: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurplusApproval {
    /// A fresh code from the approving treasurer's authenticator app.
    #[schema(example = "123456")]
    pub totp: String,
}

/// A treasurer asks to move surplus to the overflow campaign. Up to `ZBOR_SURPLUS_SOLO_MAX` it
/// moves at once (`done`); above, it waits for a second treasurer (`awaiting_approval`).
#[utoipa::path(
    post,
    path = "/api/v1/campaigns/{slug}/surplus-transfers",
    tag = "campaigns",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    request_body = SurplusRequest,
    security(("session" = [], "csrf" = [])),
    responses(
        (status = CREATED, description = "done, or awaiting a second treasurer", body = SurplusTransfer),
        (status = UNAUTHORIZED, description = "not signed in", body = ErrorBody),
        (status = FORBIDDEN, description = "not a treasurer, or the second factor was not passed", body = ErrorBody),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
        (status = CONFLICT, description = "not funded, no overflow campaign, or more than the surplus that may move", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "the amount is invalid, or a wrong code", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "too many wrong codes: the account is locked for 15 minutes", body = ErrorBody),
        (status = SERVICE_UNAVAILABLE, description = "people are not configured (no ZBOR_DATA_KEY)", body = ErrorBody),
    )
)]
pub async fn request(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    ApiJson(asked): ApiJson<SurplusRequest>,
) -> Result<(StatusCode, Json<SurplusTransfer>), ApiError> {
    caller.require(TREASURY)?;
    second_factor(&state, caller.user_id()?, &asked.totp).await?;
    let mut db = state.pool.begin().await?;
    let transfer =
        surplus::request_in(&mut db, &slug, &asked.amount, &caller.actor(), state.surplus_solo_max).await?;
    db.commit().await?;
    state.live.mark_dirty(&transfer.from);
    state.live.mark_dirty(&transfer.to);
    Ok((StatusCode::CREATED, Json(transfer)))
}

/// The campaign's surplus transfers, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{slug}/surplus-transfers",
    tag = "campaigns",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = OK, description = "the campaign's surplus transfers", body = Vec<SurplusTransfer>),
        (status = UNAUTHORIZED, description = "not signed in", body = ErrorBody),
        (status = FORBIDDEN, description = "not a coordinator, treasurer or admin", body = ErrorBody),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
    )
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<Vec<SurplusTransfer>>, ApiError> {
    caller.require(CAP_READ)?;
    let mut conn = state.pool.acquire().await?;
    let campaign = zbor_campaigns::by_slug(&mut conn, &slug).await?;
    Ok(Json(surplus::list(&mut conn, &campaign).await?))
}

/// A second treasurer (never the requester) approves: the money moves now, exactly as asked,
/// if the campaign still has that much surplus.
#[utoipa::path(
    post,
    path = "/api/v1/surplus-transfers/{id}/approvals",
    tag = "campaigns",
    params(("id" = i64, Path, description = "the surplus transfer's id")),
    request_body = SurplusApproval,
    security(("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "done: the money moved", body = SurplusTransfer),
        (status = UNAUTHORIZED, description = "not signed in", body = ErrorBody),
        (status = FORBIDDEN, description = "not a treasurer, the requester (`four_eyes`), or the second factor was not passed", body = ErrorBody),
        (status = NOT_FOUND, description = "no such surplus transfer", body = ErrorBody),
        (status = CONFLICT, description = "not awaiting approval, or the surplus is no longer there", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "wrong code, or the campaign's funds would be overdrawn", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "too many wrong codes: the account is locked for 15 minutes", body = ErrorBody),
        (status = SERVICE_UNAVAILABLE, description = "people are not configured (no ZBOR_DATA_KEY)", body = ErrorBody),
    )
)]
pub async fn approve(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(approval): ApiJson<SurplusApproval>,
) -> Result<Json<SurplusTransfer>, ApiError> {
    caller.require(TREASURY)?;
    let user = caller.user_id()?;
    // Told before any code is asked for (no code spent on an approval that cannot be): the
    // rules themselves are enforced again under the row lock in `approve_in`.
    let transfer = {
        let mut conn = state.pool.acquire().await?;
        surplus::by_id(&mut conn, id).await?
    };
    if transfer.requested_by == Some(user) {
        return Err(zbor_intake::Error::SurplusSamePerson.into());
    }
    if transfer.state != surplus::SurplusState::AwaitingApproval {
        return Err(zbor_intake::Error::SurplusRefused(format!(
            "surplus transfer {id} is {:?}, not awaiting approval",
            transfer.state
        ))
        .into());
    }
    second_factor(&state, user, &approval.totp).await?;
    let mut db = state.pool.begin().await?;
    let transfer = surplus::approve_in(&mut db, id, &caller.actor()).await?;
    db.commit().await?;
    state.live.mark_dirty(&transfer.from);
    state.live.mark_dirty(&transfer.to);
    Ok(Json(transfer))
}

/// Withdraws a transfer still awaiting approval; nothing moves.
#[utoipa::path(
    post,
    path = "/api/v1/surplus-transfers/{id}/cancel",
    tag = "campaigns",
    params(("id" = i64, Path, description = "the surplus transfer's id")),
    security(("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "cancelled", body = SurplusTransfer),
        (status = UNAUTHORIZED, description = "not signed in", body = ErrorBody),
        (status = FORBIDDEN, description = "not a treasurer", body = ErrorBody),
        (status = NOT_FOUND, description = "no such surplus transfer", body = ErrorBody),
        (status = CONFLICT, description = "not awaiting approval", body = ErrorBody),
    )
)]
pub async fn cancel(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SurplusTransfer>, ApiError> {
    caller.require(TREASURY)?;
    let mut db = state.pool.begin().await?;
    let transfer = surplus::cancel_in(&mut db, id, &caller.actor()).await?;
    db.commit().await?;
    Ok(Json(transfer))
}
