//! The HTTP surface: routes, shared state, error envelope.

mod auth;
mod beneficiaries;
mod campaigns;
mod checkout;
mod console;
mod error;
mod health;
mod json;
mod ledger;
pub mod limits;
mod pages;
mod payouts;
mod people;
mod webhooks;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post};
use axum::Router;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

pub use error::ApiError;

/// Every request finishes or fails within this time.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub redis: redis::aio::ConnectionManager,
    /// Only the hash is kept in memory, so the token never appears in a debug print.
    pub admin_token_sha256: Option<[u8; 32]>,
    pub webhook_secrets: Option<zbor_intake::webhook::signature::WebhookSecrets>,
    pub live: std::sync::Arc<crate::live::Live>,
    /// Stripe Checkout; none when no STRIPE_SECRET_KEY is configured.
    pub checkout: Option<zbor_intake::checkout::CheckoutLinks>,
    /// Seals named donors' identities and users' emails and second factors; none: donors'
    /// identities are not kept and only the bootstrap token works.
    pub data_key: Option<zbor_vault::DataKey>,
    /// Session cookies are `Secure` when the public address is https.
    pub public_url_https: bool,
    /// The organisation's account SEPA files pay from; none: no SEPA files.
    pub sepa_debtor: Option<zbor_payouts::sepa::Debtor>,
    /// Rate limits per client address (logins, checkouts), counted in Redis.
    pub limits: limits::Limits,
    /// `ZBOR_REDIS_PREFIX`, for the rate limits' keys.
    pub redis_prefix: String,
    /// A console session unused for this long ends.
    pub session_idle_minutes: i64,
    /// Open live totals streams (SSE), counted in all and per client address.
    pub sse_permits: std::sync::Arc<crate::live::StreamPermits>,
}

impl AppState {
    pub fn new(
        pool: PgPool,
        redis: redis::aio::ConnectionManager,
        admin_token: Option<&str>,
        webhook_secret: Option<&str>,
        live: std::sync::Arc<crate::live::Live>,
    ) -> AppState {
        let admin_token_sha256 =
            admin_token.filter(|t| !t.is_empty()).map(|t| Sha256::digest(t.as_bytes()).into());
        let webhook_secrets = webhook_secret.and_then(zbor_intake::webhook::signature::WebhookSecrets::parse);
        AppState {
            pool,
            redis,
            admin_token_sha256,
            webhook_secrets,
            live,
            checkout: None,
            data_key: None,
            public_url_https: false,
            sepa_debtor: None,
            limits: limits::Limits::default(),
            redis_prefix: "zbor:".into(),
            session_idle_minutes: zbor_auth::sessions::SESSION_IDLE_MINUTES_DEFAULT,
            sse_permits: std::sync::Arc::new(crate::live::StreamPermits::new(
                crate::live::SSE_CONNECTIONS_MAX_DEFAULT,
                crate::live::SSE_CONNECTIONS_PER_ADDRESS_MAX_DEFAULT,
            )),
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/api/v1/session", post(people::login).delete(people::logout))
        .route("/api/v1/me", get(people::me))
        .route("/api/v1/me/totp", post(people::totp_begin))
        .route("/api/v1/me/totp/confirm", post(people::totp_confirm))
        .route("/api/v1/me/tokens", post(people::create_token).get(people::list_tokens))
        .route("/api/v1/me/tokens/{id}", delete(people::revoke_own_token))
        .route("/api/v1/me/sessions", get(people::list_sessions))
        .route("/api/v1/me/sessions/{id}", delete(people::end_own_session))
        .route("/api/v1/me/password", post(people::change_password))
        .route("/api/v1/users", post(people::create_user))
        .route("/api/v1/users/{id}", patch(people::update_user))
        .route("/api/v1/users/{id}/disable", post(people::disable_user))
        .route("/api/v1/users/{id}/password-reset", post(people::request_password_reset))
        .route("/api/v1/users/{id}/second-factor-reset", post(people::request_second_factor_reset))
        .route("/api/v1/users/{id}/tokens/{token}", delete(people::revoke_token))
        .route("/api/v1/staff-requests", get(people::list_requests))
        .route("/api/v1/staff-requests/{id}/confirm", post(people::confirm_request))
        .route("/api/v1/staff-requests/{id}/cancel", post(people::cancel_request))
        .route("/api/v1/campaigns/{slug}/payout-batches", post(payouts::create))
        .route("/api/v1/payout-batches/{id}", get(payouts::show))
        .route("/api/v1/payout-batches/{id}/approvals", post(payouts::approve))
        .route("/api/v1/payout-batches", get(payouts::list))
        .route("/api/v1/payout-batches/{id}/cancel", post(payouts::cancel_batch))
        .route("/api/v1/payouts/switch", get(payouts::switch_state))
        .route("/api/v1/payouts/pause", post(payouts::pause))
        .route("/api/v1/payouts/resume", post(payouts::resume))
        .route("/api/v1/payouts/{id}", get(payouts::show_payout))
        .route("/api/v1/payouts/{id}/paid", post(payouts::mark_paid))
        .route("/api/v1/payouts/{id}/returned", post(payouts::mark_returned))
        .route("/api/v1/payouts/{id}/retry", post(payouts::retry))
        .route("/api/v1/payouts/{id}/cancel", post(payouts::cancel))
        .route("/api/v1/payout-batches/{id}/sepa-files", post(payouts::create_sepa_file))
        .route("/api/v1/sepa-files/{id}", get(payouts::show_sepa_file))
        .route("/api/v1/sepa-files/{id}/pain.001.xml", post(payouts::download_sepa_file))
        .route("/api/v1/sepa-files/{id}/confirm", post(payouts::confirm_sepa_file))
        .route(
            "/api/v1/campaigns/{slug}/beneficiaries",
            post(beneficiaries::create).get(beneficiaries::list),
        )
        .route("/api/v1/campaigns/{slug}/beneficiaries/duplicates", get(beneficiaries::duplicates))
        .route(
            "/api/v1/campaigns/{slug}/beneficiaries/import",
            post(beneficiaries::import).layer(DefaultBodyLimit::max(beneficiaries::IMPORT_BODY_BYTES_MAX)),
        )
        .route("/api/v1/beneficiaries/confirmations", post(beneficiaries::confirm))
        .route("/api/v1/beneficiaries/unconfirmed", get(beneficiaries::unconfirmed))
        .route("/api/v1/beneficiaries/{id}", patch(beneficiaries::update))
        .route("/api/v1/beneficiaries/{id}/reveal", post(beneficiaries::reveal))
        .route("/api/v1/ledger/accounts", get(ledger::list_accounts))
        .route("/api/v1/ledger/accounts/{code}", get(ledger::show_account))
        .route("/api/v1/ledger/verify", get(ledger::verify))
        .route("/api/v1/campaigns", post(campaigns::create))
        .route("/api/v1/campaigns/{slug}", get(campaigns::show).patch(campaigns::update))
        .route("/api/v1/campaigns/{slug}/totals", get(campaigns::totals))
        .route("/api/v1/campaigns/{slug}/live", get(campaigns::live))
        .route("/api/v1/campaigns/{slug}/timeline", get(pages::timeline))
        .route("/api/v1/campaigns/{slug}/checkout", post(checkout::create))
        .route("/give/{slug}", get(pages::give))
        .route("/give/{slug}/thanks", get(pages::thanks))
        .route("/assets/give.js", get(pages::give_js))
        .route("/dashboard/{slug}", get(pages::dashboard))
        .route("/assets/dashboard.js", get(pages::dashboard_js))
        .route("/assets/dashboard.css", get(pages::dashboard_css))
        .route("/console", get(console::page))
        .route("/assets/console.js", get(console::js))
        .route("/assets/console.css", get(console::css))
        .route(
            "/webhooks/stripe",
            post(webhooks::stripe).layer(DefaultBodyLimit::max(zbor_intake::webhook::BODY_BYTES_MAX)),
        )
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers))
        // Logs method, path and status; never bodies, query strings or headers.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    tracing::info_span!("http", method = %req.method(), path = %req.uri().path())
                })
                // 5xx are already logged once with their cause (error.rs); a 503 "busy" is expected
                .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
        .with_state(state)
}

/// On every response: `X-Content-Type-Options: nosniff` (a browser never guesses a type, so an
/// uploaded CSV or an error body cannot run as a script) and, when zbor is served over https,
/// HSTS (the browser never tries plain http again, where a network could strip TLS).
async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if state.public_url_https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}
