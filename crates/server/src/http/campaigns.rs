//! Campaign administration (admin token) and the public campaign view.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use tokio::sync::broadcast::error::RecvError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zbor_campaigns::{Campaign, CampaignUpdate, NewCampaign};

use super::auth::{Caller, CAMPAIGN_ADMIN};
use super::extract::{ApiJson, ApiPath};
use super::limits::ClientAddress;
use super::openapi::ErrorBody;
use super::{ApiError, AppState};
use crate::live::{StreamRefused, View};

/// This area's routes; `http::router` merges every area's.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(show, update))
        .routes(routes!(totals))
        .routes(routes!(live))
}

/// How long a refused live client is asked to wait before it tries again.
const LIVE_RETRY_AFTER_SECONDS: u64 = 10;

/// Creates a campaign and its ledger account (and, with Stripe configured, its Payment Link).
#[utoipa::path(
    post,
    path = "/api/v1/campaigns",
    tag = "campaigns",
    request_body = NewCampaign,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = CREATED, description = "the campaign", body = Campaign,
         links(
             ("show" = (operation_id = "campaigns_show", parameters(("slug" = "$response.body#/slug")))),
             ("update" = (operation_id = "campaigns_update", parameters(("slug" = "$response.body#/slug")))),
             ("totals" = (operation_id = "campaigns_totals", parameters(("slug" = "$response.body#/slug")))),
             ("timeline" = (operation_id = "campaigns_timeline", parameters(("slug" = "$response.body#/slug")))),
             ("checkout" = (operation_id = "donors_create", parameters(("slug" = "$response.body#/slug")))),
             ("add_beneficiary" = (operation_id = "beneficiaries_create", parameters(("slug" = "$response.body#/slug")))),
             ("propose_batch" = (operation_id = "payouts_create", parameters(("slug" = "$response.body#/slug"))))
         )),
        (status = CONFLICT, description = "the slug is taken", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "a field is invalid (slug, currency, an amount)", body = ErrorBody),
    )
)]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(new): ApiJson<NewCampaign>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    caller.require(CAMPAIGN_ADMIN)?;
    let mut db = state.pool.begin().await?;
    let campaign = zbor_campaigns::create_in(&mut db, &new, &caller.actor()).await?;
    db.commit().await?;
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

/// Changes any of its fields; `status` opens or closes it (and its Payment Link at Stripe).
#[utoipa::path(
    patch,
    path = "/api/v1/campaigns/{slug}",
    tag = "campaigns",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    request_body = CampaignUpdate,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "the campaign as it is now", body = Campaign),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "a field is invalid", body = ErrorBody),
    )
)]
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    ApiJson(change): ApiJson<CampaignUpdate>,
) -> Result<Json<Campaign>, ApiError> {
    caller.require(CAMPAIGN_ADMIN)?;
    let mut db = state.pool.begin().await?;
    let campaign = zbor_campaigns::update_in(&mut db, &slug, &change, &caller.actor()).await?;
    db.commit().await?;
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

/// The campaign, with its `payment_link_url` to share.
#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{slug}",
    tag = "campaigns",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    responses(
        (status = OK, description = "the campaign", body = Campaign),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<Campaign>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Json(zbor_campaigns::by_slug(&mut conn, &slug).await?))
}

/// Which view a caller gets: staff (a signed-in admin, treasurer or coordinator whose role is
/// confirmed, by session or API token) the exact figures; anyone else, including a caller whose
/// credentials do not hold (forged, expired, retired), the public view, never an error: a
/// public page answers the same with a bad credential as with none.
pub fn view_of(caller: &Result<Caller, ApiError>) -> View {
    match caller {
        Ok(Caller(principal)) if principal.role_confirmed => View::Exact,
        _ => View::Public,
    }
}

/// Headers of a response that differs by caller: staff's exact figures are kept by no cache,
/// and no cache hands one caller's answer to another.
pub fn view_headers(view: View) -> [(header::HeaderName, &'static str); 2] {
    let cache = match view {
        View::Exact => "private, no-store",
        View::Public => "no-cache",
    };
    [(header::CACHE_CONTROL, cache), (header::VARY, "authorization, cookie")]
}

/// The campaign's totals. Staff (a session or API token of a confirmed admin, treasurer or
/// coordinator) get them exact and live (`"exact": true`); anyone else the public snapshot
/// (`"exact": false`): the totals as of the last published step of the public timeline, which
/// moves only when five or more donations are published together, ten to fifteen minutes after
/// they were made at the earliest. No donor data in either.
#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{slug}/totals",
    tag = "campaigns",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    responses(
        (status = OK, description = "the campaign's totals: exact for staff, the public snapshot for anyone else", body = zbor_intake::totals::Totals),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
    )
)]
pub async fn totals(
    caller: Result<Caller, ApiError>,
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response, ApiError> {
    let view = view_of(&caller);
    let figures = state.live.totals(&state.pool, &slug, view).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], view_headers(view), figures.json.to_string())
        .into_response())
}

/// One event of the `/live` stream, field by field (the stream writes them as SSE text).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // describes the wire format; nothing builds one
pub struct TotalsEvent {
    /// `totals`.
    #[schema(example = "totals")]
    event: String,
    /// The figures' version: compared as text, it only grows.
    id: String,
    /// The totals' JSON, as `GET /api/v1/campaigns/{slug}/totals` answers it.
    data: String,
    /// Milliseconds before reconnecting; on the first event only.
    retry: Option<u64>,
}

/// How long an SSE client waits before reconnecting (the `retry:` field).
const SSE_RETRY: Duration = Duration::from_secs(2);

/// Server-Sent Events: the totals now, then again on every change. Staff (as for `totals`) get
/// the exact totals on every change (at most 10 per second); anyone else the public snapshot,
/// which changes only when a step of five or more donations is published.
/// Each event carries its version as the event's `id`, and only ever newer than the last one sent: a
/// total never goes backwards, whichever instance computed it. A client reconnecting with
/// `Last-Event-ID` (the browser does) gets the current totals at once, never older than the ones
/// it had. Streams are counted in all and per client address (`ZBOR_SSE_CONNECTIONS_MAX`,
/// `ZBOR_SSE_CONNECTIONS_PER_ADDRESS_MAX`); beyond either: 503 with `Retry-After`.
#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{slug}/live",
    tag = "campaigns",
    params(
        ("slug" = String, Path, description = "the campaign's URL name", example = "release-123"),
        ("Last-Event-ID" = Option<String>, Header, description = "the last event's id, when reconnecting"),
    ),
    responses(
        (status = OK, description = "Server-Sent Events `totals`, each `data` the totals' JSON and `id` their version", content_type = "text/event-stream", body = TotalsEvent),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
        (status = SERVICE_UNAVAILABLE, description = "as many streams open as allowed (`streams_full`, `too_many_streams`) or stopping (`shutting_down`); try again after `Retry-After`", body = ErrorBody),
    )
)]
pub async fn live(
    caller: Result<Caller, ApiError>,
    State(state): State<AppState>,
    client: ClientAddress,
    headers: axum::http::HeaderMap,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response, ApiError> {
    // Counted before any work: a refusal costs no database or Redis round trip.
    let permit = match state.sse_permits.try_acquire(client.0) {
        Ok(permit) => permit,
        Err(refused) => return Ok(stream_refused(refused)),
    };
    let view = view_of(&caller);
    // Only known campaigns get a stream (and an entry in the live map): this answers 404 first.
    state.live.totals(&state.pool, &slug, view).await?;
    // Subscribe before the read that is sent first, so no change between the two is missed.
    let updates = match state.live.subscribe(&slug, view) {
        Ok(updates) => updates,
        Err(refused) => return Ok(stream_refused(refused)),
    };
    let seen =
        headers.get("last-event-id").and_then(|id| id.to_str().ok()).and_then(crate::live::Version::parse);
    let mut now = state.live.totals(&state.pool, &slug, view).await?;
    if seen.as_ref().is_some_and(|seen| *seen > now.version) {
        // The client saw newer totals (on another instance) than this one's hot copy: a fresh
        // computation is at least as new as anything anyone has seen. Only then: after a
        // restart thousands of clients reconnect at once, and the hot copy serves them all.
        now = state.live.fresh(&state.pool, &slug, view).await?;
    }
    let last = now.version.clone();
    let first =
        futures_util::stream::once(async move { Ok::<Event, Infallible>(sse_event(&now).retry(SSE_RETRY)) });
    // The permit lives in the stream: hyper drops the body when the client goes, and with it
    // the permit.
    let rest =
        futures_util::stream::unfold((updates, permit, last), |(mut updates, permit, last)| async move {
            loop {
                match updates.recv().await {
                    // older than (or the same as) what this client has: instances race, totals do not
                    Ok(figures) if figures.version <= last => continue,
                    Ok(figures) => {
                        let event = sse_event(&figures);
                        return Some((Ok(event), (updates, permit, figures.version)));
                    }
                    // A slow client skipped some; the next one is complete anyway.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                }
            }
        });
    Ok((
        view_headers(view),
        Sse::new(first.chain(rest)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))),
    )
        .into_response())
}

fn sse_event(figures: &crate::live::Figures) -> Event {
    Event::default().event("totals").id(figures.version.as_str()).data(&*figures.json)
}

/// 503 with `Retry-After`, in the API's error envelope, and the connection closed after it: a
/// refused client keeps no file descriptor of ours while it waits. (The access log has the
/// status; no second line per refusal, which under a flood would only fill the disk.)
fn stream_refused(refused: StreamRefused) -> Response {
    let (code, message) = match refused {
        StreamRefused::ProcessFull => ("streams_full", "this server has as many live streams open as it may"),
        StreamRefused::AddressFull => ("too_many_streams", "too many live streams open from this address"),
        StreamRefused::ShuttingDown => ("shutting_down", "this server is stopping"),
    };
    let body = serde_json::json!({ "error": {
        "code": code,
        "message": format!("{message}: try again in {LIVE_RETRY_AFTER_SECONDS} s"),
    }});
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::RETRY_AFTER, LIVE_RETRY_AFTER_SECONDS.to_string()),
            (header::CONNECTION, "close".to_owned()),
        ],
        Json(body),
    )
        .into_response()
}
