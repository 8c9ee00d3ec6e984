//! `POST /api/v1/campaigns/{slug}/checkout`: public; a donor's amount becomes a Stripe Checkout
//! Session to redirect to. Nothing is stored here: the donation exists once Stripe reports it.

use axum::extract::{Path, State};
use axum::Json;
use zbor_intake::checkout::{CheckoutRequest, CheckoutSession};

use super::json::ApiJson;
use super::{ApiError, AppState};

pub async fn create(
    State(state): State<AppState>,
    client: super::limits::ClientAddress,
    Path(slug): Path<String>,
    ApiJson(request): ApiJson<CheckoutRequest>,
) -> Result<Json<CheckoutSession>, ApiError> {
    super::limits::check(&state, state.limits.checkout, client).await?;
    let checkout = state.checkout.as_ref().ok_or(ApiError::CheckoutNotConfigured)?;
    Ok(Json(checkout.create_session(&state.pool, &slug, &request).await?))
}
