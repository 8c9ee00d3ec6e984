//! A monthly donor's own way out, with the cancel token they got at checkout (no account, no
//! login: the token is the capability). Public, rate limited like checkout; a wrong token is a
//! 404 and changes nothing.
//!
//! - `POST /api/v1/subscriptions/cancel`: cancels at Stripe and here, at once; again: the same.
//! - `POST /api/v1/subscriptions/portal`: Stripe's customer portal on cancelling it.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zbor_intake::subscriptions::SubscriptionState;

use super::extract::ApiJson;
use super::openapi::ErrorBody;
use super::{ApiError, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(cancel)).routes(routes!(portal))
}

/// The cancel token from the checkout answer.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionToken {
    #[schema(example = "zc_5f0c…")]
    pub token: String,
}

/// Where to send the donor: Stripe's customer portal.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PortalLink {
    pub url: String,
}

/// Cancels the monthly gift the token is for, at Stripe and in zbor (idempotent).
#[utoipa::path(
    post,
    path = "/api/v1/subscriptions/cancel",
    tag = "donors",
    request_body = SubscriptionToken,
    responses(
        (status = OK, description = "canceled (now or before)", body = SubscriptionState),
        (status = BAD_REQUEST, description = "not a JSON body with a token", body = ErrorBody),
        (status = NOT_FOUND, description = "no subscription has this token", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "beyond ZBOR_CHECKOUTS_PER_MINUTE from this address; see `Retry-After`", body = ErrorBody),
        (status = BAD_GATEWAY, description = "Stripe failed", body = ErrorBody),
        (status = SERVICE_UNAVAILABLE, description = "Stripe is not configured, or too many calls to it are queued", body = ErrorBody),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    client: super::limits::ClientAddress,
    ApiJson(request): ApiJson<SubscriptionToken>,
) -> Result<Json<SubscriptionState>, ApiError> {
    super::limits::check(&state, state.limits.checkout, client).await?;
    let checkout = state.checkout.as_ref().ok_or(ApiError::CheckoutNotConfigured)?;
    let canceled = zbor_intake::subscriptions::cancel(&state.pool, checkout.stripe(), &request.token).await?;
    // its monthly commitment no longer counts
    state.live.mark_dirty(&canceled.campaign);
    Ok(Json(canceled))
}

/// Opens Stripe's customer portal on cancelling the monthly gift the token is for.
#[utoipa::path(
    post,
    path = "/api/v1/subscriptions/portal",
    tag = "donors",
    request_body = SubscriptionToken,
    responses(
        (status = OK, description = "where to send the donor", body = PortalLink),
        (status = BAD_REQUEST, description = "not a JSON body with a token", body = ErrorBody),
        (status = NOT_FOUND, description = "no subscription has this token", body = ErrorBody),
        (status = CONFLICT, description = "the subscription is canceled already", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "beyond ZBOR_CHECKOUTS_PER_MINUTE from this address; see `Retry-After`", body = ErrorBody),
        (status = BAD_GATEWAY, description = "Stripe failed", body = ErrorBody),
        (status = SERVICE_UNAVAILABLE, description = "Stripe is not configured, or too many calls to it are queued", body = ErrorBody),
    )
)]
pub async fn portal(
    State(state): State<AppState>,
    client: super::limits::ClientAddress,
    ApiJson(request): ApiJson<SubscriptionToken>,
) -> Result<Json<PortalLink>, ApiError> {
    super::limits::check(&state, state.limits.checkout, client).await?;
    let checkout = state.checkout.as_ref().ok_or(ApiError::CheckoutNotConfigured)?;
    let url = zbor_intake::subscriptions::portal(
        &state.pool,
        checkout.stripe(),
        &request.token,
        checkout.public_url(),
    )
    .await?;
    Ok(Json(PortalLink { url }))
}
