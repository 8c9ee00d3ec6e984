//! The treasurers' console, `GET /console`: one page, one script, one stylesheet. The page holds
//! no data of its own; everything arrives through the JSON API with the session cookie and the
//! CSRF token, and it shows no personal data (beneficiaries are ids; it never reveals).
//!
//! The page is in the visitor's language, chosen as the donors' pages choose it (`?lang=`, the
//! `zbor_lang` cookie, `Accept-Language`, English), with their switcher. Its words are the
//! catalogues' `console.ftl`: the page's `{{console-…}}` placeholders are filled with them, and
//! the script gets them all in the page's data block (with the money styles), read through the
//! pages' `/assets/i18n.js`.

use axum::extract::RawQuery;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zbor_i18n::{Catalogue, Lang};

use super::pages::{escape, fill, language, language_headers, page_query, switcher};
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
fn strict(content_type: &'static str, body: impl IntoResponse) -> Response {
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
#[utoipa::path(
    get,
    path = "/console",
    tag = "payouts",
    params(("lang" = Option<String>, Query, description = "a language from the switcher (be, ru, uk, pl, lt, de, en); remembered in the `zbor_lang` cookie")),
    responses((status = OK, description = "the treasurers' console, in the visitor's language", content_type = "text/html", body = String))
)]
pub async fn page(headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let (lang, chosen) = language(&headers, &page_query(raw.as_deref()));
    let mut response = strict("text/html; charset=utf-8", render(lang));
    language_headers(response.headers_mut(), lang, chosen);
    response
}

/// The page in `lang`: each `{{console-…}}` is that message, the data block holds every message
/// of the console's for the script (as templates) and the money style of every currency.
fn render(lang: Lang) -> String {
    let messages = zbor_i18n::templates(lang, Catalogue::Console);
    let styles: serde_json::Map<String, serde_json::Value> = zbor_ledger::Currency::all()
        .map(|c| (c.code().to_owned(), serde_json::json!(zbor_i18n::money_style(lang, c.code()))))
        .collect();
    let data = serde_json::json!({
        "lang": lang.code(),
        "moneyStyles": styles,
        "messages": messages.iter().map(|(id, m)| (id.clone(), m.as_str().into())).collect::<serde_json::Map<_, _>>(),
    });
    let mut values: Vec<(&str, String)> = vec![
        ("LANG", lang.code().into()),
        ("LANGUAGES", switcher(lang, None)),
        // `<` escaped: no text in the block can close the script element
        ("DATA", data.to_string().replace('<', "\\u003c")),
    ];
    values.extend(messages.iter().map(|(id, message)| (id.as_str(), escape(message))));
    fill(CONSOLE_HTML, &values)
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
