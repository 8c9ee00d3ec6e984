//! Server-rendered pages. The HTML names only the campaign's slug, checked against the slug
//! rules before it is placed in the page; everything else arrives through the JSON API.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use zbor_intake::campaigns::Slug;

use super::{ApiError, AppState};

const DASHBOARD_HTML: &str = include_str!("../../assets/dashboard.html");
const DASHBOARD_JS: &str = include_str!("../../assets/dashboard.js");
const DASHBOARD_CSS: &str = include_str!("../../assets/dashboard.css");

/// No inline script, no third-party anything: the page talks only to this origin.
const CSP: &str =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

pub async fn dashboard(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let slug = Slug::parse(&slug).map_err(|_| ApiError::NotFound("campaign".into()))?;
    let mut conn = state.pool.acquire().await?;
    zbor_intake::campaigns::by_slug(&mut conn, slug.as_str()).await?;
    // The slug is [a-z0-9-] only, so it needs no escaping in HTML or attributes.
    let page = DASHBOARD_HTML.replace("{{SLUG}}", slug.as_str());
    Ok(([(header::CONTENT_SECURITY_POLICY, CSP), (header::REFERRER_POLICY, "no-referrer")], Html(page))
        .into_response())
}

pub async fn dashboard_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], DASHBOARD_JS).into_response()
}

pub async fn dashboard_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], DASHBOARD_CSS).into_response()
}

#[derive(serde::Deserialize)]
pub struct TimelineQuery {
    #[serde(default = "three_hours")]
    minutes: i64,
}

fn three_hours() -> i64 {
    180
}

pub async fn timeline(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<TimelineQuery>,
) -> Result<Json<zbor_intake::totals::Timeline>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Json(zbor_intake::totals::timeline(&mut conn, &slug, query.minutes).await?))
}
