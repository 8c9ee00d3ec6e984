//! The treasurers' console, `GET /console`: one static page, one script, one stylesheet. The page
//! holds no data of its own; everything arrives through the JSON API with the session cookie and
//! the CSRF token, and it shows no personal data (beneficiaries are ids; it never reveals).

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// This area's routes; `http::router` merges every area's.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(page)).routes(routes!(js)).routes(routes!(css))
}

const CONSOLE_HTML: &str = include_str!("console/console.html");
const CONSOLE_JS: &str = include_str!("console/console.js");
const CONSOLE_CSS: &str = include_str!("console/console.css");

/// Only this origin's script and styles, no inline anything, no frames, forms post here only.
/// Images may also be `data:`: the authenticator app's QR code, drawn by the server as an SVG
/// (an SVG shown as an image runs no script).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                       img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Headers every console response carries: nothing is cached, nothing frames it.
fn strict(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

/// `GET /console`
#[utoipa::path(get, path = "/console", tag = "payouts", responses((status = OK, description = "the treasurers' console", content_type = "text/html", body = String)))]
pub async fn page() -> Response {
    strict("text/html; charset=utf-8", CONSOLE_HTML)
}

/// `GET /assets/console.js`
#[utoipa::path(get, path = "/assets/console.js", tag = "payouts", responses((status = OK, description = "the console's script", content_type = "text/javascript", body = String)))]
pub async fn js() -> Response {
    strict("text/javascript; charset=utf-8", CONSOLE_JS)
}

/// `GET /assets/console.css`
#[utoipa::path(get, path = "/assets/console.css", tag = "payouts", responses((status = OK, description = "the console's styles", content_type = "text/css", body = String)))]
pub async fn css() -> Response {
    strict("text/css; charset=utf-8", CONSOLE_CSS)
}
