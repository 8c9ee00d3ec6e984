//! `POST /api/v1/campaigns/{slug}/checkout`: public; a donor's amount becomes a Stripe Checkout
//! Session to redirect to. Nothing is stored here: the donation exists once Stripe reports it.

use axum::extract::State;
use axum::routing::post;
use axum::Json;
use axum::Router;
use zbor_intake::checkout::{CheckoutRequest, CheckoutSession};

use super::extract::{ApiJson, ApiPath};
use super::{ApiError, AppState};

/// This area's routes; `http::router` merges every area's.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/campaigns/{slug}/checkout", post(create))
}

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
