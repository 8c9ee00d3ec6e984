//! Server-rendered pages. The HTML names only the campaign's slug, checked against the slug
//! rules before it is placed in the page; everything else arrives through the JSON API.

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zbor_campaigns::{Campaign, CampaignStatus, Slug};

use super::extract::{ApiPath, ApiQuery};
use super::openapi::ErrorBody;
use super::{ApiError, AppState};

/// This area's routes; `http::router` merges every area's.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(timeline))
        .routes(routes!(give))
        .routes(routes!(thanks))
        .routes(routes!(give_js))
        .routes(routes!(dashboard))
        .routes(routes!(dashboard_js))
        .routes(routes!(dashboard_css))
}

const DASHBOARD_HTML: &str = include_str!("../../assets/dashboard.html");
const DASHBOARD_JS: &str = include_str!("../../assets/dashboard.js");
const DASHBOARD_CSS: &str = include_str!("../../assets/dashboard.css");
const GIVE_HTML: &str = include_str!("../../assets/give.html");
const GIVE_JS: &str = include_str!("../../assets/give.js");

/// No inline script, no third-party anything: the page talks only to this origin.
const CSP: &str =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The campaign a page's path names; a 404 when the slug breaks the slug rules (before any
/// query) or names no campaign. Pages place `campaign.slug` unescaped: a checked slug is
/// [a-z0-9-] only, so it needs no escaping in HTML or attributes.
async fn campaign_for_page(state: &AppState, slug: &str) -> Result<Campaign, ApiError> {
    let slug = Slug::parse(slug).map_err(|_| ApiError::NotFound("campaign".into()))?;
    let mut conn = state.pool.acquire().await?;
    Ok(zbor_campaigns::by_slug(&mut conn, slug.as_str()).await?)
}

/// The coordinators' page: the total climbing live, the chart, the latest donations.
#[utoipa::path(
    get,
    path = "/dashboard/{slug}",
    tag = "donors",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    responses(
        (status = OK, description = "the coordinators' page, live", content_type = "text/html", body = String),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
    )
)]
pub async fn dashboard(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response, ApiError> {
    let campaign = campaign_for_page(&state, &slug).await?;
    Ok(page(DASHBOARD_HTML.replace("{{SLUG}}", campaign.slug.as_str())))
}

/// Text for HTML content and double-quoted attributes: campaign titles and descriptions come
/// from people, so they are escaped, never trusted.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Every page goes out with the same headers: the CSP above, and no referrer.
fn page(html: String) -> Response {
    ([(header::CONTENT_SECURITY_POLICY, CSP), (header::REFERRER_POLICY, "no-referrer")], Html(html))
        .into_response()
}

/// The donors' page: suggested amounts, any amount, anonymous by default, then Stripe Checkout.
#[utoipa::path(
    get,
    path = "/give/{slug}",
    tag = "donors",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    responses(
        (status = OK, description = "the donors' page", content_type = "text/html", body = String),
        (status = SEE_OTHER, description = "the campaign is fully funded: to its overflow campaign's page"),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
    )
)]
pub async fn give(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response, ApiError> {
    let campaign = campaign_for_page(&state, &slug).await?;
    if let (Some(_), Some(overflow)) = (campaign.funded_at, &campaign.overflow) {
        // funded: new gifts go where they are still needed (both slugs are checked slugs)
        let to = format!("/give/{}?from={}", overflow.as_str(), campaign.slug.as_str());
        return Ok(axum::response::Redirect::to(&to).into_response());
    }
    let open = campaign.status == CampaignStatus::Open;
    let suggested: String = campaign
        .suggested_amounts
        .iter()
        .map(|a| {
            let amount = escape(&a.amount().to_string());
            format!(r#"<button type="button" class="amount" data-amount="{amount}">{amount}</button>"#)
        })
        .collect();
    let link = match (&campaign.payment_link_url, open) {
        (Some(url), true) => {
            format!(
                r#"<p class="small">Or <a id="payment-link" href="{}">give any amount on Stripe's page</a>.</p>"#,
                escape(url)
            )
        }
        _ => String::new(),
    };
    let html = GIVE_HTML
        .replace("{{SLUG}}", campaign.slug.as_str())
        .replace("{{CURRENCY}}", campaign.currency.code())
        .replace(
            "{{PAYMENT_LINK}}",
            &campaign.payment_link_url.as_deref().filter(|_| open).map(escape).unwrap_or_default(),
        )
        .replace("{{SUGGESTED}}", &suggested)
        .replace("{{LINK}}", &link)
        .replace(
            "{{CLOSED}}",
            if open {
                ""
            } else {
                r#"<p class="closed">This campaign is closed and takes no new donations. Thank you.</p>"#
            },
        )
        .replace("{{FORM_HIDDEN}}", if open { "" } else { "hidden" })
        // last: these are the free text, so nothing they contain is taken for a placeholder
        .replace("{{DESCRIPTION}}", &escape(&campaign.description))
        .replace("{{TITLE}}", &escape(&campaign.title));
    Ok(page(html))
}

/// Where Stripe sends the donor back after paying.
#[utoipa::path(
    get,
    path = "/give/{slug}/thanks",
    tag = "donors",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    responses(
        (status = OK, description = "where Stripe sends the donor back", content_type = "text/html", body = String),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
    )
)]
pub async fn thanks(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> Result<Response, ApiError> {
    let campaign = campaign_for_page(&state, &slug).await?;
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Thank you</title><link rel="stylesheet" href="/assets/dashboard.css"></head><body><main class="give"><h1>Thank you</h1><p>Your gift to <strong>{}</strong> counts in the total as soon as Stripe confirms it (bank debits take a few days).</p><p><a href="/dashboard/{}">See the total</a></p></main></body></html>"#,
        escape(&campaign.title),
        campaign.slug.as_str()
    );
    Ok(page(html))
}

/// The donors' page's script.
#[utoipa::path(
    get,
    path = "/assets/give.js",
    tag = "donors",
    responses(
        (status = OK, description = "the donors' page's script", content_type = "text/javascript", body = String),
    )
)]
pub async fn give_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], GIVE_JS).into_response()
}

/// The coordinators' page's script.
#[utoipa::path(
    get,
    path = "/assets/dashboard.js",
    tag = "campaigns",
    responses(
        (status = OK, description = "the coordinators' page's script", content_type = "text/javascript", body = String),
    )
)]
pub async fn dashboard_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], DASHBOARD_JS).into_response()
}

/// The pages' styles.
#[utoipa::path(
    get,
    path = "/assets/dashboard.css",
    tag = "campaigns",
    responses(
        (status = OK, description = "the pages' styles", content_type = "text/css", body = String),
    )
)]
pub async fn dashboard_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], DASHBOARD_CSS).into_response()
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// The window, in minutes up to now (taken as 1 to 1,440).
    #[serde(default = "three_hours")]
    #[param(default = 180)]
    minutes: i64,
}

fn three_hours() -> i64 {
    180
}

/// The chart's buckets (raised, count) and the latest donations, never who gave. Staff (a
/// session or API token of a confirmed admin, treasurer or coordinator) get them exact: per
/// minute, and the 20 latest donations each with its amount and time (`"exact": true`). Anyone
/// else gets the public view (`"exact": false`): 5-minute buckets published 10 minutes after
/// they close, amounts in bands, and no bucket or (bucket, band) group of fewer than 5
/// donations: those are held back until they have 5.
#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{slug}/timeline",
    tag = "campaigns",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123"), TimelineQuery),
    responses(
        (status = OK, description = "the timeline: exact for staff, the public view for anyone else", body = zbor_intake::totals::Timeline),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
    )
)]
pub async fn timeline(
    caller: Result<super::auth::Caller, ApiError>,
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    ApiQuery(query): ApiQuery<TimelineQuery>,
) -> Result<Response, ApiError> {
    let view = super::campaigns::view_of(&caller);
    let mut conn = state.pool.acquire().await?;
    let timeline = match view {
        crate::live::View::Exact => zbor_intake::totals::timeline(&mut conn, &slug, query.minutes).await?,
        crate::live::View::Public => {
            zbor_intake::public_feed::timeline(&mut conn, &slug, query.minutes, chrono::Utc::now()).await?
        }
    };
    Ok((super::campaigns::view_headers(view), Json(timeline)).into_response())
}
