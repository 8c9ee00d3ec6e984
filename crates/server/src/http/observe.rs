//! What every request leaves for the operator: a request id on every log line it causes (and in
//! the `X-Request-Id` response header, so a support question can name it), and counts of
//! answers by route and status class. Nothing about who asked.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id a request is logged under: the load balancer's `X-Request-Id` when it looks like one
/// (so its log and zbor's join up), otherwise a new one. A client cannot put arbitrary text into
/// the logs through it.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn usable(id: &HeaderValue) -> Option<String> {
    let text = id.to_str().ok()?;
    let fits = (8..=64).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    fits.then(|| text.to_owned())
}

/// Gives the request its id (read by the trace span, see `http::router`), returns it in
/// `X-Request-Id`, and counts the answer in `zbor_http_requests_total` by [`route`] and status
/// class.
pub async fn request_id_and_count(mut request: Request, next: Next) -> Response {
    let route = route(&request);
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(usable)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    if let Ok(value) = HeaderValue::from_str(&id) {
        request.headers_mut().insert(REQUEST_ID, value);
    }
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    metrics::counter!(
        "zbor_http_requests_total",
        "route" => route,
        "status_class" => status_class(response.status())
    )
    .increment(1);
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// The label a request is counted under: the route's template as registered
/// (`/api/v1/campaigns/{slug}`), never the path itself, whose ids and slugs would make a series
/// per campaign, payout or guess; every path no route matches (scanners, typos) is `unmatched`.
/// So there are at most as many series as routes, and a scrape names no campaign.
pub const UNMATCHED: &str = "unmatched";

fn route(request: &Request) -> String {
    request.extensions().get::<MatchedPath>().map_or_else(|| UNMATCHED.to_owned(), |m| m.as_str().to_owned())
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// A webhook delivery's result beyond its status: `duplicate` when the event was stored before.
#[derive(Clone, Copy, Debug)]
pub struct WebhookResult(pub &'static str);

/// Counts Stripe's deliveries by result and times them (`zbor_webhook_*`).
pub async fn count_webhook(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status();
    let told = response.extensions().get::<WebhookResult>().map(|r| r.0);
    let result = if status.is_success() {
        told.unwrap_or("ok")
    } else if let Some(told) = told {
        told
    } else if status.is_client_error() {
        // forged, stale, malformed or too large: Stripe (or someone posing as it) sent it wrong
        "rejected"
    } else {
        "error"
    };
    metrics::counter!("zbor_webhook_deliveries_total", "result" => result).increment(1);
    metrics::histogram!("zbor_webhook_duration_seconds", "result" => result).record(started.elapsed());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_from_outside_are_kept() {
        let kept = |text: &str| usable(&HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("")));
        assert_eq!(kept("3f2a9c1e-lb-01").as_deref(), Some("3f2a9c1e-lb-01"));
        assert_eq!(kept("short"), None);
        assert_eq!(kept("has space in it"), None);
        assert_eq!(kept("line\u{0}break"), None);
        assert_eq!(kept(&"a".repeat(65)), None);
        assert_eq!(kept("{\"json\":\"injection\"}"), None);
    }
}
