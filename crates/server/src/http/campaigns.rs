//! Campaign administration (admin token) and the public campaign view.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::header;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use zbor_intake::campaigns::{self, Campaign, CampaignUpdate, NewCampaign};

use super::auth::{Caller, CAMPAIGN_ADMIN};
use super::json::ApiJson;
use super::{ApiError, AppState};

pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(new): ApiJson<NewCampaign>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    caller.require(CAMPAIGN_ADMIN)?;
    let campaign = campaigns::create(&state.pool, &new).await?;
    let campaign = with_payment_link(&state, campaign).await;
    Ok((StatusCode::CREATED, Json(campaign)))
}

/// Creates the open campaign's Payment Link now, so it can be shared at once. If Stripe is
/// unreachable the campaign is still created; a background task creates the link later.
async fn with_payment_link(state: &AppState, campaign: Campaign) -> Campaign {
    let Some(checkout) = &state.checkout else { return campaign };
    match checkout.ensure_payment_link(&state.pool, &campaign).await {
        Ok(linked) => linked,
        Err(e) => {
            tracing::warn!(campaign = %campaign.slug.as_str(), error = %e, "payment link not created yet; will retry");
            campaign
        }
    }
}

pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(change): ApiJson<CampaignUpdate>,
) -> Result<Json<Campaign>, ApiError> {
    caller.require(CAMPAIGN_ADMIN)?;
    let campaign = campaigns::update(&state.pool, &slug, &change).await?;
    let campaign = with_payment_link(&state, campaign).await;
    if let (Some(checkout), Some(_)) = (&state.checkout, change.status) {
        // A closed campaign's link stops taking payments. Should Stripe be unreachable the
        // campaign is closed anyway; a payment that still arrives is booked (the donor paid).
        if let Err(e) = checkout.sync_payment_link_state(&campaign).await {
            tracing::warn!(campaign = %campaign.slug.as_str(), error = %e, "payment link state not updated");
        }
    }
    state.live.mark_dirty(campaign.slug.as_str());
    Ok(Json(campaign))
}

pub async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Campaign>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Json(campaigns::by_slug(&mut conn, &slug).await?))
}

/// Public: what coordinators and the give page show. No donor data in it.
pub async fn totals(State(state): State<AppState>, Path(slug): Path<String>) -> Result<Response, ApiError> {
    let json = state.live.totals_json(&state.pool, &slug).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

/// Server-Sent Events: the totals now, then again on every change (at most 10 per second).
pub async fn live(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Only known campaigns get a stream (and an entry in the live map): this answers 404 first.
    state.live.totals_json(&state.pool, &slug).await?;
    // Subscribe before the read that is sent first, so no change between the two is missed.
    let updates =
        state.live.subscribe(&slug).ok_or_else(|| ApiError::Internal("live clients lock".into()))?;
    let now = state.live.totals_json(&state.pool, &slug).await?;
    let first = futures_util::stream::once(async move { Ok(Event::default().event("totals").data(now)) });
    let rest = futures_util::stream::unfold(updates, |mut updates| async move {
        loop {
            match updates.recv().await {
                Ok(json) => return Some((Ok(Event::default().event("totals").data(&*json)), updates)),
                // A slow client skipped some; the next one is complete anyway.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(first.chain(rest)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
