//! The HTTP surface: routes, shared state, error envelope.

mod auth;
mod beneficiaries;
mod campaigns;
mod checkout;
mod console;
mod error;
mod extract;
mod health;
mod ledger;
pub mod limits;
pub mod observe;
pub mod openapi;
mod overflow;
mod pages;
mod payouts;
mod people;
mod reconciliation;
mod reports;
mod subscriptions;
pub mod webhooks;

use std::time::Duration;

use axum::Router;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ApiError;

/// Every request finishes or fails within this time.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub redis: redis::aio::ConnectionManager,
    /// Only the hash is kept in memory, so the token never appears in a debug print.
    pub admin_token_sha256: Option<[u8; 32]>,
    pub webhook_secrets: Option<zbor_stripe::signature::WebhookSecrets>,
    /// Stripe's events by type, and the store they are kept in once ([`webhooks::table`]);
    /// webhook deliveries are stored by group commit.
    pub stripe_events: zbor_stripe::events::GroupCommit,
    pub live: std::sync::Arc<crate::live::Live>,
    /// Stripe Checkout; none when no STRIPE_SECRET_KEY is configured.
    pub checkout: Option<zbor_intake::checkout::CheckoutLinks>,
    /// Seals named donors' identities and users' emails and second factors; none: donors'
    /// identities are not kept and only the bootstrap token works. Set with
    /// [`AppState::set_data_key`].
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
    /// `ZBOR_SURPLUS_SOLO_MAX`: the largest surplus transfer one person makes alone.
    pub surplus_solo_max: rust_decimal::Decimal,
    /// `/health/ready`'s own PostgreSQL connection.
    pub readiness: std::sync::Arc<health::Readiness>,
    /// Who runs the campaigns, for the donors' pages.
    pub organisation: crate::config::Organisation,
    /// `ZBOR_PUBLIC_URL` without a trailing `/`: the give page's share links.
    pub public_url: String,
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
        let webhook_secrets = webhook_secret.and_then(zbor_stripe::signature::WebhookSecrets::parse);
        let readiness = std::sync::Arc::new(health::Readiness::new(pool.connect_options()));
        let stripe_events = webhooks::store(None, &pool);
        AppState {
            readiness,
            organisation: crate::config::Organisation::default(),
            public_url: String::new(),
            pool,
            redis,
            admin_token_sha256,
            webhook_secrets,
            stripe_events,
            live,
            checkout: None,
            data_key: None,
            public_url_https: false,
            sepa_debtor: None,
            limits: limits::Limits::default(),
            redis_prefix: "zbor:".into(),
            session_idle_minutes: zbor_auth::sessions::SESSION_IDLE_MINUTES_DEFAULT,
            surplus_solo_max: rust_decimal::Decimal::ZERO,
            sse_permits: std::sync::Arc::new(crate::live::StreamPermits::new(
                crate::live::SSE_CONNECTIONS_MAX_DEFAULT,
                crate::live::SSE_CONNECTIONS_PER_ADDRESS_MAX_DEFAULT,
            )),
        }
    }

    /// The data key, for the handlers of Stripe's events too (named donors' identities).
    pub fn set_data_key(&mut self, data_key: Option<zbor_vault::DataKey>) {
        self.stripe_events = webhooks::store(data_key.clone(), &self.pool);
        self.data_key = data_key;
    }
}

/// Every area's routes with their OpenAPI descriptions: one registration gives both
/// ([`openapi`]).
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(openapi::serve))
        .merge(health::router())
        .merge(people::router())
        .merge(payouts::router())
        .merge(beneficiaries::router())
        .merge(ledger::router())
        .merge(reconciliation::router())
        .merge(reports::router())
        .merge(campaigns::router())
        .merge(overflow::router())
        .merge(pages::router())
        .merge(checkout::router())
        .merge(subscriptions::router())
        .merge(console::router())
        .merge(webhooks::router())
}

pub fn router(state: AppState) -> Router {
    let (routes, _document) = api_router().split_for_parts();
    routes
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers))
        // Logs method, path and status; never bodies, query strings or headers.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    // set by `observe::request_id_and_count`, the outer layer
                    let id = req.headers().get(&observe::REQUEST_ID).and_then(|v| v.to_str().ok());
                    tracing::info_span!(
                        "http",
                        method = %req.method(),
                        path = %req.uri().path(),
                        request_id = id.unwrap_or_default()
                    )
                })
                // 5xx are already logged once with their cause (error.rs); a 503 "busy" is expected
                .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
        .layer(axum::middleware::from_fn(observe::request_id_and_count))
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
