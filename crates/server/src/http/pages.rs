//! Server-rendered pages, in the visitor's language (zbor-i18n: the catalogues hold every word;
//! this file and the templates in `assets/` hold none). The HTML names the campaign's slug,
//! checked against the slug rules before it is placed in the page; campaign and organisation
//! text is escaped; figures arrive through the JSON API.
//!
//! The language: the switcher's `?lang=` (remembered in the `zbor_lang` cookie), else the
//! cookie, else `Accept-Language`, else English. Every page carries the switcher.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use rust_decimal::Decimal;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zbor_campaigns::{Campaign, CampaignStatus, Slug};
use zbor_i18n::{money, text, Lang};

use super::extract::{ApiPath, ApiQuery};
use super::openapi::ErrorBody;
use super::{ApiError, AppState};

/// This area's routes; `http::router` merges every area's.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(timeline))
        .routes(routes!(root))
        .routes(routes!(give))
        .routes(routes!(thanks))
        .routes(routes!(monthly_cancel))
        .routes(routes!(give_js))
        .routes(routes!(thanks_js))
        .routes(routes!(cancel_js))
        .routes(routes!(i18n_js))
        .routes(routes!(dashboard))
        .routes(routes!(dashboard_js))
        .routes(routes!(dashboard_css))
}

const DASHBOARD_HTML: &str = include_str!("../../assets/dashboard.html");
const DASHBOARD_JS: &str = include_str!("../../assets/dashboard.js");
const DASHBOARD_CSS: &str = include_str!("../../assets/dashboard.css");
const GIVE_HTML: &str = include_str!("../../assets/give.html");
const GIVE_JS: &str = include_str!("../../assets/give.js");
const I18N_JS: &str = include_str!("../../assets/i18n.js");
const THANKS_HTML: &str = include_str!("../../assets/thanks.html");
const THANKS_JS: &str = include_str!("../../assets/thanks.js");
const CANCEL_HTML: &str = include_str!("../../assets/cancel.html");
const CANCEL_JS: &str = include_str!("../../assets/cancel.js");
const NOT_FOUND_HTML: &str = include_str!("../../assets/not_found.html");

/// No inline script, no third-party anything: the page talks only to this origin. (The pages'
/// `<script type="application/json">` data blocks are not scripts to the browser: never run.)
const CSP: &str =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// A year: the language choice outlives a campaign's few weeks.
const LANGUAGE_COOKIE_SECONDS: u32 = 365 * 24 * 3600;

/// What a page's query string may say. Anything else (a share's `utm_source`, `fbclid`) is
/// ignored, never refused: a donor following a shared link must get the page.
#[derive(Default)]
pub(super) struct PageQuery {
    lang: Option<String>,
    session_id: Option<String>,
    /// The funded campaign a donor was sent on from (`/give/{overflow}?from={funded}`).
    from: Option<String>,
}

/// Values are taken only when plain (`[A-Za-z0-9_-]`, at most 255): a language code and a
/// Checkout Session id need no decoding, and nothing else is wanted.
pub(super) fn page_query(raw: Option<&str>) -> PageQuery {
    let mut query = PageQuery::default();
    for pair in raw.unwrap_or_default().split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let plain = !value.is_empty()
            && value.len() <= 255
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !plain {
            continue;
        }
        match key {
            "lang" => query.lang = Some(value.to_owned()),
            "session_id" => query.session_id = Some(value.to_owned()),
            "from" => query.from = Some(value.to_owned()),
            _ => {}
        }
    }
    query
}

/// The visitor's language, and whether they chose it just now (then the cookie remembers it).
pub(super) fn language(headers: &HeaderMap, query: &PageQuery) -> (Lang, bool) {
    let header_text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let cookie = header_text(header::COOKIE).and_then(|cookies| {
        cookies.split(';').find_map(|c| c.trim().strip_prefix(zbor_i18n::COOKIE)?.strip_prefix('='))
    });
    let chosen = query.lang.as_deref().and_then(Lang::parse);
    let lang = zbor_i18n::negotiate(query.lang.as_deref(), cookie, header_text(header::ACCEPT_LANGUAGE));
    (lang, chosen.is_some())
}

/// Browsers ask for HTML; API clients (and schemathesis) get the JSON error as before.
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The campaign a page's path names; `None` when the slug breaks the slug rules (before any
/// query) or names no campaign. Pages place `campaign.slug` unescaped: a checked slug is
/// [a-z0-9-] only, so it needs no escaping in HTML or attributes.
async fn campaign_for_page(state: &AppState, slug: &str) -> Result<Option<Campaign>, ApiError> {
    let Ok(slug) = Slug::parse(slug) else { return Ok(None) };
    let mut conn = state.pool.acquire().await?;
    match zbor_campaigns::by_slug(&mut conn, slug.as_str()).await {
        Ok(campaign) => Ok(Some(campaign)),
        Err(zbor_campaigns::Error::CampaignNotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A campaign page's answer when there is no such campaign: the not-found page for a browser,
/// the JSON error for anything else.
fn no_campaign(state: &AppState, headers: &HeaderMap, query: &PageQuery) -> Result<Response, ApiError> {
    if !wants_html(headers) {
        return Err(ApiError::NotFound("campaign".into()));
    }
    let (lang, chosen) = language(headers, query);
    let t = |id: &str| text(lang, id, &[]);
    Ok(not_found_page(state, lang, chosen, &t("notfound-title"), &t("notfound-body")))
}

fn not_found_page(state: &AppState, lang: Lang, chosen: bool, title: &str, body: &str) -> Response {
    let org = &state.organisation;
    let way_on = match website(org) {
        Some(url) => format!(
            r#"<p><a href="{}">{}</a></p>"#,
            escape(url),
            escape(&text(lang, "notfound-home", &[("name", &org.name)]))
        ),
        None => String::new(),
    };
    let html = fill(
        NOT_FOUND_HTML,
        &[
            ("LANG", lang.code().into()),
            ("LANGUAGES", switcher(lang, None)),
            ("PAGE_TITLE", escape(title)),
            ("BODY", escape(body)),
            ("WAY_ON", way_on),
            ("ORGANISATION", organisation(state, lang)),
        ],
    );
    let mut response = page(html, lang, chosen);
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

/// The organisation's website when it is an http(s) address (anything else is not linked).
fn website(org: &crate::config::Organisation) -> Option<&str> {
    org.website.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

/// The server's own address: a short page in the visitor's language saying what this server is
/// and whose, with the organisation's website as the way on. It lists no campaigns on purpose:
/// each is reached by the link its organisers share, and which campaigns a group runs is for the
/// group to tell, not for anyone (a regime's watchers included) to enumerate here. A page (200)
/// rather than a 404, since nothing is missing: this is what lives at `/`.
#[utoipa::path(
    get,
    path = "/",
    tag = "donors",
    params(("lang" = Option<String>, Query, description = "a language from the switcher (be, ru, uk, pl, lt, de, en); remembered in the `zbor_lang` cookie")),
    responses(
        (status = OK, description = "what this server is and whose, in the visitor's language", content_type = "text/html", body = String),
    )
)]
pub async fn root(State(state): State<AppState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let query = page_query(raw.as_deref());
    let (lang, chosen) = language(&headers, &query);
    let name = [("name", state.organisation.name.as_str())];
    let title = text(lang, "notfound-root-title", &name);
    let body = text(lang, "notfound-root-body", &name);
    let mut response = not_found_page(&state, lang, chosen, &title, &body);
    *response.status_mut() = StatusCode::OK;
    response
}

/// The coordinators' page: the total climbing live, the chart, the latest donations.
#[utoipa::path(
    get,
    path = "/dashboard/{slug}",
    tag = "donors",
    params(
        ("slug" = String, Path, description = "the campaign's URL name", example = "release-123"),
        ("lang" = Option<String>, Query, description = "a language from the switcher (be, ru, uk, pl, lt, de, en); remembered in the `zbor_lang` cookie"),
    ),
    responses(
        (status = OK, description = "the coordinators' page, live", content_type = "text/html", body = String),
        (status = NOT_FOUND, description = "no such campaign (a browser asking for text/html gets a page saying so)", body = ErrorBody),
    )
)]
pub async fn dashboard(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = page_query(raw.as_deref());
    let Some(campaign) = campaign_for_page(&state, &slug).await? else {
        return no_campaign(&state, &headers, &query);
    };
    let (lang, chosen) = language(&headers, &query);
    let t = |id: &str| escape(&text(lang, id, &[]));
    let title = campaign_text(&campaign, lang).0;
    let data = page_data(
        lang,
        &campaign,
        &[
            ("dashboard-connecting", &[]),
            ("dashboard-live", &[]),
            ("dashboard-reconnecting", &[]),
            ("dashboard-funded-of", &["funded", "total"]),
            ("dashboard-progress", &["percent"]),
            ("dashboard-chart-y", &[]),
            ("dashboard-chart-x", &[]),
            ("dashboard-chart-bar", &["time", "amount", "count"]),
            ("dashboard-recent-band", &["from", "to"]),
            ("dashboard-recent-open-band", &["from"]),
            ("dashboard-recent-count", &["count"]),
            ("dashboard-recent-empty", &[]),
        ],
    );
    let html = fill(
        DASHBOARD_HTML,
        &[
            ("LANG", lang.code().into()),
            ("SLUG", campaign.slug.as_str().into()),
            ("LANGUAGES", switcher(lang, None)),
            ("PAGE_TITLE", escape(&text(lang, "dashboard-title", &[("title", &title)]))),
            ("TITLE", escape(&title)),
            ("CONNECTING", t("dashboard-connecting")),
            ("GIVE_LINK", t("dashboard-give-link")),
            ("RAISED", t("dashboard-raised")),
            ("GOAL", t("dashboard-goal")),
            ("PEOPLE_FUNDED", t("dashboard-people-funded")),
            ("DONATIONS", t("dashboard-donations")),
            ("REFUNDED", t("dashboard-refunded")),
            ("FEES", t("dashboard-fees")),
            ("NET", t("dashboard-net")),
            ("UPDATED", t("dashboard-updated")),
            ("FUNDED_EXPLAINED", t("dashboard-funded-explained")),
            ("CHART_HEADING", t("dashboard-chart-heading")),
            ("CHART_LABEL", t("dashboard-chart-label")),
            ("CHART_EMPTY", t("dashboard-chart-empty")),
            ("RECENT_HEADING", t("dashboard-recent-heading")),
            ("DATA", data),
        ],
    );
    Ok(page(html, lang, chosen))
}

/// A campaign's title and description in `lang`, falling back to its default text.
fn campaign_text(campaign: &Campaign, lang: Lang) -> (String, String) {
    let (title, description) = campaign.text_in(lang.code());
    (title.to_owned(), description.to_owned())
}

/// How many people the goal funds: `floor(goal / amount_per_beneficiary)`, when there is one.
fn people_in_goal(campaign: &Campaign) -> Option<String> {
    let per = campaign.amount_per_beneficiary.as_ref()?.amount();
    let people: Decimal = campaign.goal.amount().checked_div(per)?.floor().normalize();
    Some(people.to_string())
}

/// The JSON block a page's script reads (it holds no text of its own): its messages (as
/// templates with `{name}` for each variable), the language, the currency's money style.
fn page_data(lang: Lang, campaign: &Campaign, messages: &[(&str, &[&str])]) -> String {
    let currency = campaign.currency.code();
    data_block(serde_json::json!({
        "lang": lang.code(),
        "currency": currency,
        "scale": campaign.currency.minor_units(),
        "money": zbor_i18n::money_style(lang, currency),
        "peopleInGoal": people_in_goal(campaign),
        "messages": message_templates(lang, messages),
    }))
}

/// [`page_data`] for a page of no campaign: its messages and language only.
fn messages_data(lang: Lang, messages: &[(&str, &[&str])]) -> String {
    data_block(serde_json::json!({ "lang": lang.code(), "messages": message_templates(lang, messages) }))
}

fn message_templates(lang: Lang, messages: &[(&str, &[&str])]) -> serde_json::Map<String, serde_json::Value> {
    messages.iter().map(|(id, vars)| ((*id).to_owned(), zbor_i18n::template(lang, id, vars).into())).collect()
}

fn data_block(data: serde_json::Value) -> String {
    // `<` escaped: no text in the block can close the script element
    data.to_string().replace('<', "\\u003c")
}

/// Text for HTML content and double-quoted attributes: campaign titles and descriptions come
/// from people, so they are escaped, never trusted.
pub(super) fn escape(text: &str) -> String {
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

/// `{{NAME}}` placeholders replaced in one pass, so nothing a value contains is ever taken for
/// a placeholder. Values are markup: escape text before it goes in. An unknown name stays.
pub(super) fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}").and_then(|end| Some((values.iter().find(|(k, _)| *k == &after[..end])?, end)))
        {
            Some(((_, value), end)) => {
                out.push_str(value);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every page goes out with the same headers: the CSP above, no referrer, its language, and
/// (when the visitor just chose it) the cookie that remembers the choice.
fn page(html: String, lang: Lang, chosen: bool) -> Response {
    let mut response =
        ([(header::CONTENT_SECURITY_POLICY, CSP), (header::REFERRER_POLICY, "no-referrer")], Html(html))
            .into_response();
    language_headers(response.headers_mut(), lang, chosen);
    response
}

/// What a page in the visitor's language says of it: its language, that it varies with the
/// headers the language comes from, and (when the visitor just chose it) the cookie that
/// remembers the choice. The treasurers' console sends the same.
pub(super) fn language_headers(headers: &mut HeaderMap, lang: Lang, chosen: bool) {
    headers.insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.code()));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Language, Cookie"));
    if chosen {
        let cookie = format!(
            "{}={}; Path=/; Max-Age={LANGUAGE_COOKIE_SECONDS}; SameSite=Lax",
            zbor_i18n::COOKIE,
            lang.code()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.insert(header::SET_COOKIE, value);
        }
    }
}

/// The language switcher: each language in its own words, marked with its language (screen
/// readers pronounce it so), the current one `aria-current`. `keep` is a query parameter the
/// page needs to keep (the thank-you page's session id).
pub(super) fn switcher(lang: Lang, keep: Option<(&str, &str)>) -> String {
    let keep = keep.map(|(k, v)| format!("&amp;{k}={}", escape(v))).unwrap_or_default();
    let items: String = Lang::ALL
        .into_iter()
        .map(|l| {
            let current = if l == lang { r#" aria-current="true""# } else { "" };
            format!(
                r#"<li><a href="?lang={code}{keep}" hreflang="{code}" lang="{code}"{current}>{name}</a></li>"#,
                code = l.code(),
                name = escape(&text(l, "language-name", &[])),
            )
        })
        .collect();
    format!(
        r#"<nav class="languages" aria-label="{}"><ul>{items}</ul></nav>"#,
        escape(&text(lang, "language-switcher", &[]))
    )
}

/// The organisation's details, as configured (`ZBOR_ORG_*`); unset parts are left out.
fn organisation(state: &AppState, lang: Lang) -> String {
    let org = &state.organisation;
    let mut out = String::from(r#"<footer class="organisation">"#);
    let name = escape(&text(lang, "org-organised-by", &[("name", &org.name)]));
    match website(org) {
        Some(url) => out.push_str(&format!(r#"<p><a href="{}">{name}</a></p>"#, escape(url))),
        None => out.push_str(&format!("<p>{name}</p>")),
    }
    if let Some(purpose) = &org.purpose {
        out.push_str(&format!("<p>{}</p>", escape(purpose)));
    }
    if let Some(contact) = &org.contact {
        out.push_str(&format!("<p>{}</p>", escape(&text(lang, "org-contact", &[("contact", contact)]))));
    }
    for (id, note) in [("org-legal", &org.legal_notice), ("org-privacy", &org.privacy_note)] {
        if let Some(note) = note {
            out.push_str(&format!(
                r#"<details><summary>{}</summary><p class="note">{}</p></details>"#,
                escape(&text(lang, id, &[])),
                escape(note)
            ));
        }
    }
    out.push_str("</footer>");
    out
}

/// Percent-encoding for a share link's query value: everything but RFC 3986's unreserved.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The donors' page: progress, suggested amounts, any amount, anonymous by default, then Stripe
/// Checkout in the donor's language; share links; who runs the campaign.
#[utoipa::path(
    get,
    path = "/give/{slug}",
    tag = "donors",
    params(
        ("slug" = String, Path, description = "the campaign's URL name", example = "release-123"),
        ("lang" = Option<String>, Query, description = "a language from the switcher (be, ru, uk, pl, lt, de, en); remembered in the `zbor_lang` cookie"),
        ("from" = Option<String>, Query, description = "the funded campaign that sent the donor here: the page says so when it really overflows here"),
    ),
    responses(
        (status = OK, description = "the donors' page", content_type = "text/html", body = String),
        (status = SEE_OTHER, description = "the campaign is fully funded: to its overflow campaign's page"),
        (status = NOT_FOUND, description = "no such campaign (a browser asking for text/html gets a page saying so)", body = ErrorBody),
    )
)]
pub async fn give(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = page_query(raw.as_deref());
    let Some(campaign) = campaign_for_page(&state, &slug).await? else {
        return no_campaign(&state, &headers, &query);
    };
    if let (Some(_), Some(overflow)) = (campaign.funded_at, &campaign.overflow) {
        // funded: new gifts go where they are still needed (both slugs are checked slugs)
        let to = format!("/give/{}?from={}", overflow.as_str(), campaign.slug.as_str());
        return Ok(axum::response::Redirect::to(&to).into_response());
    }
    let (lang, chosen) = language(&headers, &query);
    let notice = match query.from.as_deref() {
        Some(from) => overflow_notice(&state, &campaign, lang, from).await?,
        None => String::new(),
    };
    let t = |id: &str| escape(&text(lang, id, &[]));
    let (title, description) = campaign_text(&campaign, lang);
    let open = campaign.status == CampaignStatus::Open;
    let currency = campaign.currency.code();
    let suggested: String = campaign
        .suggested_amounts
        .iter()
        .map(|a| {
            let amount = a.amount().to_string();
            format!(
                r#"<button type="button" class="amount" data-amount="{}" aria-pressed="false">{}</button>"#,
                escape(&amount),
                escape(&money(lang, currency, &amount, true)),
            )
        })
        .collect();
    let link = match (&campaign.payment_link_url, open) {
        (Some(url), true) => format!(
            r#"<p class="small"><a id="payment-link" href="{}">{}</a></p>"#,
            escape(url),
            t("give-payment-link")
        ),
        _ => String::new(),
    };
    let page_url = format!("{}/give/{}", state.public_url, campaign.slug.as_str());
    let share_text = text(lang, "give-share-text", &[("title", &title)]);
    let share_line = format!("{share_text} {page_url}");
    let data = page_data(
        lang,
        &campaign,
        &[
            ("give-error-missing", &[]),
            ("give-error-format", &[]),
            ("give-error-amount", &[]),
            ("give-error-closed", &[]),
            ("give-error-busy", &[]),
            ("give-busy-redirect", &[]),
            ("give-error-generic", &[]),
            ("give-error-network", &[]),
            ("give-error-email", &[]),
            ("give-monthly-link-copied", &[]),
            ("give-share-copied", &[]),
            ("give-raised-of-goal", &["raised", "goal"]),
            ("give-people-funded", &["funded", "total"]),
        ],
    );
    let html = fill(
        GIVE_HTML,
        &[
            ("LANG", lang.code().into()),
            ("SLUG", campaign.slug.as_str().into()),
            ("LANGUAGES", switcher(lang, None)),
            ("PAGE_TITLE", escape(&text(lang, "give-title", &[("title", &title)]))),
            ("TITLE", escape(&title)),
            ("DESCRIPTION", escape(&description)),
            (
                "PAYMENT_LINK",
                campaign.payment_link_url.as_deref().filter(|_| open).map(escape).unwrap_or_default(),
            ),
            ("OVERFLOW_NOTICE", notice),
            ("PROGRESS_HEADING", t("give-progress-heading")),
            (
                "CLOSED",
                if open { String::new() } else { format!(r#"<p class="closed">{}</p>"#, t("give-closed")) },
            ),
            ("FORM_HIDDEN", if open { String::new() } else { "hidden".into() }),
            ("AMOUNT_LEGEND", t("give-amount")),
            ("SUGGESTED", suggested),
            ("OTHER_AMOUNT", t("give-other-amount")),
            ("AMOUNT_HINT", t("give-amount-hint")),
            ("ANONYMOUS", t("give-anonymous")),
            ("FREQUENCY_LEGEND", t("give-frequency")),
            ("ONCE", t("give-once")),
            ("MONTHLY", t("give-monthly")),
            ("MONTHLY_HINT", t("give-monthly-hint")),
            ("EMAIL_LABEL", t("give-email")),
            ("EMAIL_HINT", escape(&text(lang, "give-email-hint", &[("name", &state.organisation.name)]))),
            ("MONTHLY_HEADING", t("give-monthly-link-heading")),
            ("MONTHLY_BODY", t("give-monthly-link-body")),
            ("MONTHLY_LINK_LABEL", t("give-monthly-link-label")),
            ("MONTHLY_COPY", t("give-monthly-link-copy")),
            ("SUBMIT", t("give-submit")),
            ("LINK", link),
            ("STRIPE_NOTE", escape(&text(lang, "stripe-note", &[("name", &state.organisation.name)]))),
            ("SHARE_HEADING", t("give-share-heading")),
            ("PAGE_URL", escape(&page_url)),
            ("COPY_LINK", t("give-share-copy")),
            (
                "MAILTO",
                escape(&format!(
                    "mailto:?subject={}&body={}",
                    url_encode(&share_text),
                    url_encode(&page_url)
                )),
            ),
            ("EMAIL", t("give-share-email")),
            (
                "TELEGRAM_URL",
                escape(&format!(
                    "https://t.me/share/url?url={}&text={}",
                    url_encode(&page_url),
                    url_encode(&share_text)
                )),
            ),
            ("TELEGRAM", t("give-share-telegram")),
            ("WHATSAPP_URL", escape(&format!("https://wa.me/?text={}", url_encode(&share_line)))),
            ("WHATSAPP", t("give-share-whatsapp")),
            ("ORGANISATION", organisation(&state, lang)),
            ("DATA", data),
        ],
    );
    Ok(page(html, lang, chosen))
}

/// The notice on an overflow campaign's page for a donor sent on from a funded campaign; shown
/// only when `from` is funded and really overflows into this campaign, so a made-up link says
/// nothing.
async fn overflow_notice(
    state: &AppState,
    campaign: &Campaign,
    lang: Lang,
    from: &str,
) -> Result<String, ApiError> {
    let Some(source) = campaign_for_page(state, from).await? else { return Ok(String::new()) };
    let sends_here = source.funded_at.is_some()
        && source.overflow.as_ref().is_some_and(|overflow| overflow.as_str() == campaign.slug.as_str());
    if !sends_here {
        return Ok(String::new());
    }
    let (from_title, _) = campaign_text(&source, lang);
    Ok(format!(
        r#"<p id="overflow-notice" class="notice" role="status">{}</p>"#,
        escape(&text(lang, "give-overflow-notice", &[("from", &from_title)]))
    ))
}

/// Where Stripe sends the donor back after paying; with `?session_id=cs_…` it shows the
/// donation's receipt reference (derived from the session id; nothing is looked up).
#[utoipa::path(
    get,
    path = "/give/{slug}/thanks",
    tag = "donors",
    params(
        ("slug" = String, Path, description = "the campaign's URL name", example = "release-123"),
        ("session_id" = Option<String>, Query, description = "the Checkout Session id Stripe puts in the return address"),
        ("lang" = Option<String>, Query, description = "a language from the switcher (be, ru, uk, pl, lt, de, en); remembered in the `zbor_lang` cookie"),
    ),
    responses(
        (status = OK, description = "where Stripe sends the donor back", content_type = "text/html", body = String),
        (status = NOT_FOUND, description = "no such campaign (a browser asking for text/html gets a page saying so)", body = ErrorBody),
    )
)]
pub async fn thanks(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = page_query(raw.as_deref());
    let Some(campaign) = campaign_for_page(&state, &slug).await? else {
        return no_campaign(&state, &headers, &query);
    };
    let (lang, chosen) = language(&headers, &query);
    let t = |id: &str| escape(&text(lang, id, &[]));
    let title = campaign_text(&campaign, lang).0;
    let session_id = query.session_id.as_deref();
    let receipt = match session_id.and_then(zbor_intake::receipt::reference) {
        Some(reference) => format!(
            r#"<p class="receipt">{}</p><p class="small">{}</p>"#,
            escape(&text(lang, "thanks-receipt", &[("reference", &reference)])),
            t("thanks-receipt-hint")
        ),
        None => String::new(),
    };
    let keep =
        session_id.filter(|id| zbor_intake::receipt::reference(id).is_some()).map(|id| ("session_id", id));
    let html = fill(
        THANKS_HTML,
        &[
            ("LANG", lang.code().into()),
            ("SLUG", campaign.slug.as_str().into()),
            ("LANGUAGES", switcher(lang, keep)),
            ("PAGE_TITLE", t("thanks-title")),
            ("BODY", escape(&text(lang, "thanks-body", &[("title", &title)]))),
            ("RECEIPT", receipt),
            ("MONTHLY_HEADING", t("give-monthly-link-heading")),
            ("MONTHLY_BODY", t("thanks-monthly-link-body")),
            ("MONTHLY_LINK_LABEL", t("give-monthly-link-label")),
            ("MONTHLY_COPY", t("give-monthly-link-copy")),
            ("DATA", page_data(lang, &campaign, &[("give-monthly-link-copied", &[])])),
            ("SEE_TOTAL", t("thanks-see-total")),
            ("BACK", t("thanks-back")),
            ("STRIPE_NOTE", escape(&text(lang, "stripe-note", &[("name", &state.organisation.name)]))),
            ("ORGANISATION", organisation(&state, lang)),
        ],
    );
    Ok(page(html, lang, chosen))
}

/// A monthly donor's own page, at the cancel link the give page showed them
/// (`/monthly/cancel#zc_…`): stop the monthly gift, or manage it in Stripe's customer portal.
/// The token is the link's fragment, which no browser sends to a server: the page's script reads
/// it and posts it to `POST /api/v1/subscriptions/cancel` or `…/portal`. No campaign is named,
/// so the page is the same for every gift.
#[utoipa::path(
    get,
    path = "/monthly/cancel",
    tag = "donors",
    params(("lang" = Option<String>, Query, description = "a language from the switcher (be, ru, uk, pl, lt, de, en); remembered in the `zbor_lang` cookie")),
    responses(
        (status = OK, description = "the monthly donor's page: stop the gift, or manage it in Stripe", content_type = "text/html", body = String),
    )
)]
pub async fn monthly_cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = page_query(raw.as_deref());
    let (lang, chosen) = language(&headers, &query);
    let t = |id: &str| escape(&text(lang, id, &[]));
    let data = messages_data(
        lang,
        &[
            ("monthly-cancel-working", &[]),
            ("monthly-cancel-done", &[]),
            ("monthly-cancel-already", &[]),
            ("monthly-cancel-no-token", &[]),
            ("monthly-cancel-not-found", &[]),
            ("monthly-cancel-busy", &[]),
            ("give-error-generic", &[]),
            ("give-error-network", &[]),
        ],
    );
    let html = fill(
        CANCEL_HTML,
        &[
            ("LANG", lang.code().into()),
            ("LANGUAGES", switcher(lang, None)),
            ("PAGE_TITLE", t("monthly-cancel-title")),
            ("INTRO", t("monthly-cancel-intro")),
            ("STOP", t("monthly-cancel-stop")),
            ("MANAGE", t("monthly-cancel-manage")),
            ("ORGANISATION", organisation(&state, lang)),
            ("DATA", data),
        ],
    );
    page(html, lang, chosen)
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

/// The thank-you page's script: a monthly donor's cancel link once more.
#[utoipa::path(
    get,
    path = "/assets/thanks.js",
    tag = "donors",
    responses(
        (status = OK, description = "the thank-you page's script", content_type = "text/javascript", body = String),
    )
)]
pub async fn thanks_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], THANKS_JS).into_response()
}

/// The monthly donor's cancel page's script.
#[utoipa::path(
    get,
    path = "/assets/cancel.js",
    tag = "donors",
    responses(
        (status = OK, description = "the cancel page's script", content_type = "text/javascript", body = String),
    )
)]
pub async fn cancel_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], CANCEL_JS).into_response()
}

/// The pages' shared script: their messages and money in the page's language.
#[utoipa::path(
    get,
    path = "/assets/i18n.js",
    tag = "donors",
    responses(
        (status = OK, description = "the pages' messages and money formats, from each page's data", content_type = "text/javascript", body = String),
    )
)]
pub async fn i18n_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], I18N_JS).into_response()
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
            let now = chrono::Utc::now();
            let cache = Some(state.live.public_cache());
            zbor_intake::public_feed::timeline(&mut conn, &slug, query.minutes, now, cache).await?
        }
    };
    Ok((super::campaigns::view_headers(view), Json(timeline)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once_and_values_are_never_read_as_placeholders() {
        let out = fill("<h1>{{A}}</h1>{{B}}{{C}}", &[("A", "{{B}}".into()), ("B", "b".into())]);
        assert_eq!(out, "<h1>{{B}}</h1>b{{C}}");
    }

    #[test]
    fn only_plain_query_values_are_taken() {
        let q = page_query(Some("utm_source=x&lang=be&session_id=cs_test_a1&x"));
        assert_eq!((q.lang.as_deref(), q.session_id.as_deref()), (Some("be"), Some("cs_test_a1")));
        let q = page_query(Some("lang=%3Cscript%3E&session_id="));
        assert_eq!((q.lang, q.session_id), (None, None));
    }

    #[test]
    fn share_links_are_percent_encoded() {
        assert_eq!(url_encode("Free them & 123 €"), "Free%20them%20%26%20123%20%E2%82%AC");
    }
}
