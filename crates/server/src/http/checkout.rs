//! `POST /api/v1/campaigns/{slug}/checkout`: public; a donor's amount becomes a Stripe Checkout
//! Session to redirect to. Nothing is stored here: the donation exists once Stripe reports it.

use axum::extract::State;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zbor_intake::checkout::{CheckoutRequest, CheckoutSession};

use super::extract::{ApiJson, ApiPath};
use super::openapi::ErrorBody;
use super::{ApiError, AppState};

/// This area's routes; `http::router` merges every area's.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create))
}

/// A Stripe Checkout Session for a donation: one gift (mode payment, submit type donate) or,
/// with `"interval": "month"`, a monthly one (mode subscription; the answer carries the donor's
/// cancel token). `receipt_email` goes to Stripe only, which sends the receipt.
#[utoipa::path(
    post,
    path = "/api/v1/campaigns/{slug}/checkout",
    tag = "donors",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    request_body = CheckoutRequest,
    responses(
        (status = OK, description = "where to send the donor", body = CheckoutSession),
        (status = BAD_REQUEST, description = "an unknown interval, a receipt email with an anonymous gift, or a malformed body", body = ErrorBody),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
        (status = CONFLICT, description = "the campaign is closed", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "below Stripe's minimum, above 999,999.99, or finer than the currency's scale", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "beyond ZBOR_CHECKOUTS_PER_MINUTE from this address; see `Retry-After`", body = ErrorBody),
        (status = BAD_GATEWAY, description = "Stripe failed", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    client: super::limits::ClientAddress,
    ApiPath(slug): ApiPath<String>,
    ApiJson(request): ApiJson<CheckoutRequest>,
) -> Result<Json<CheckoutSession>, ApiError> {
    super::limits::check(&state, state.limits.checkout, client).await?;
    let checkout = state.checkout.as_ref().ok_or(ApiError::CheckoutNotConfigured)?;
    Ok(Json(checkout.create_session(&state.pool, &slug, &request).await?))
}
