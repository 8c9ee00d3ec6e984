//! The one place where failures become HTTP responses. 5xx never carry internals to the client;
//! they are logged once here, with no request data.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use zbor_errors::{BoxedError, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Any crate's error: answered by its kind ([`zbor_errors::ErrorKind`]) and code.
    #[error("{0}")]
    Domain(BoxedError),
    #[error("missing or invalid credentials")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InsufficientFunds(String),
    #[error("users need ZBOR_DATA_KEY (their emails and second factors are sealed with it)")]
    PeopleNotConfigured,
    #[error("{0} not found")]
    NotFound(String),
    #[error("invalid request body: {0}")]
    BadRequest(String),
    #[error("invalid path: {0}")]
    BadPath(String),
    #[error("invalid query: {0}")]
    BadQuery(String),
    #[error("webhooks are not configured (STRIPE_WEBHOOK_SECRET)")]
    WebhookNotConfigured,
    #[error("checkout is not configured (STRIPE_SECRET_KEY)")]
    CheckoutNotConfigured,
    #[error("SEPA files are not configured (ZBOR_SEPA_DEBTOR_NAME and ZBOR_SEPA_DEBTOR_IBAN)")]
    SepaNotConfigured,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal: {0}")]
    Internal(String),
    #[error("too many requests from this address: try again in {retry_after_seconds} s")]
    TooManyRequests { retry_after_seconds: u64 },
    /// A body over the route's limit: 413, the only status no [`ErrorKind`] gives.
    #[error("the body is larger than {0}")]
    TooLarge(&'static str),
    /// A body of a type the route does not read: 415, which no [`ErrorKind`] gives either.
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
}

/// Every crate's error enum becomes an [`ApiError::Domain`], keeping its kind and code.
macro_rules! domain_errors {
    ($($error:ty),* $(,)?) => {$(
        impl From<$error> for ApiError {
            fn from(e: $error) -> ApiError {
                ApiError::Domain(Box::new(e))
            }
        }
    )*};
}

domain_errors!(
    zbor_auth::Error,
    zbor_campaigns::Error,
    zbor_intake::Error,
    zbor_ledger::Error,
    zbor_payouts::Error,
    zbor_reconcile::Error,
    zbor_stripe::Error,
);

impl ApiError {
    fn kind_and_code(&self) -> (ErrorKind, &'static str) {
        match self {
            ApiError::Domain(e) => (e.kind(), e.code()),
            ApiError::Unauthorized => (ErrorKind::Unauthenticated, "unauthorized"),
            ApiError::TooManyRequests { .. } => (ErrorKind::RateLimited, "rate_limited"),
            ApiError::Forbidden(_) => (ErrorKind::Forbidden, "forbidden"),
            ApiError::Conflict(_) => (ErrorKind::Conflict, "conflict"),
            ApiError::InsufficientFunds(_) => (ErrorKind::Conflict, "insufficient_funds"),
            ApiError::PeopleNotConfigured => (ErrorKind::Unavailable, "people_not_configured"),
            ApiError::NotFound(_) => (ErrorKind::NotFound, "not_found"),
            ApiError::BadRequest(_) => (ErrorKind::Malformed, "invalid_json"),
            ApiError::BadPath(_) => (ErrorKind::Malformed, "invalid_path"),
            ApiError::BadQuery(_) => (ErrorKind::Malformed, "invalid_query"),
            // 503: Stripe keeps retrying until the secret is configured; nothing is lost.
            ApiError::WebhookNotConfigured => (ErrorKind::Unavailable, "webhook_not_configured"),
            ApiError::CheckoutNotConfigured => (ErrorKind::Unavailable, "checkout_not_configured"),
            ApiError::SepaNotConfigured => (ErrorKind::Unavailable, "sepa_not_configured"),
            ApiError::Database(_) | ApiError::Internal(_) => (ErrorKind::Internal, "internal"),
            ApiError::TooLarge(_) => (ErrorKind::Malformed, "payload_too_large"),
            ApiError::UnsupportedMediaType(_) => (ErrorKind::Malformed, "unsupported_media_type"),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::TooLarge(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UnsupportedMediaType(_) => {
                return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            _ => {}
        }
        let (kind, code) = self.kind_and_code();
        (status(kind), code)
    }
}

/// The one mapping of kinds to HTTP statuses.
fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Malformed => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Upstream => StatusCode::BAD_GATEWAY,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let gateway = matches!(status, StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE);
        let message = if status.is_server_error() && !gateway {
            tracing::error!(error = %self, "request failed");
            "internal error; it has been logged".to_owned()
        } else {
            self.to_string()
        };
        if gateway {
            tracing::warn!(error = %self, "dependency unavailable");
        }
        let body = super::openapi::ErrorBody::new(code, message);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // counted apart by `observe::count_webhook`: a setting to fix, not a failure
            let unconfigured = matches!(self, ApiError::WebhookNotConfigured)
                .then_some(axum::Extension(super::observe::WebhookResult("unconfigured")));
            return (status, [(axum::http::header::RETRY_AFTER, "2")], unconfigured, Json(body))
                .into_response();
        }
        if let ApiError::TooManyRequests { retry_after_seconds } = self {
            let retry_after = retry_after_seconds.to_string();
            return (status, [(axum::http::header::RETRY_AFTER, retry_after)], Json(body)).into_response();
        }
        (status, Json(body)).into_response()
    }
}
