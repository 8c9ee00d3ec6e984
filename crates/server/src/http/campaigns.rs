//! Campaign administration (admin token) and the public campaign view.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use zbor_intake::campaigns::{self, Campaign, CampaignUpdate, NewCampaign};

use super::auth::Admin;
use super::json::ApiJson;
use super::{ApiError, AppState};

pub async fn create(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(new): ApiJson<NewCampaign>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    let campaign = campaigns::create(&state.pool, &new).await?;
    Ok((StatusCode::CREATED, Json(campaign)))
}

pub async fn update(
    _: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(change): ApiJson<CampaignUpdate>,
) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(campaigns::update(&state.pool, &slug, &change).await?))
}

pub async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Campaign>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Json(campaigns::by_slug(&mut conn, &slug).await?))
}

/// Public: what coordinators and the give page show. No donor data in it.
pub async fn totals(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<zbor_intake::totals::Totals>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Json(zbor_intake::totals::totals(&mut conn, &slug).await?))
}
