//! The one place where failures become HTTP responses. 5xx never carry internals to the client;
//! they are logged once here, with no request data.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or invalid credentials")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InsufficientFunds(String),
    #[error(transparent)]
    Payouts(#[from] zbor_payouts::Error),
    #[error("users need ZBOR_DATA_KEY (their emails and second factors are sealed with it)")]
    PeopleNotConfigured,
    #[error(transparent)]
    Auth(#[from] zbor_auth::Error),
    #[error("{0} not found")]
    NotFound(String),
    #[error("invalid request body: {0}")]
    BadRequest(String),
    #[error("webhooks are not configured (STRIPE_WEBHOOK_SECRET)")]
    WebhookNotConfigured,
    #[error("checkout is not configured (STRIPE_SECRET_KEY)")]
    CheckoutNotConfigured,
    #[error("SEPA files are not configured (ZBOR_SEPA_DEBTOR_NAME and ZBOR_SEPA_DEBTOR_IBAN)")]
    SepaNotConfigured,
    #[error(transparent)]
    Intake(#[from] zbor_intake::Error),
    #[error(transparent)]
    Ledger(#[from] zbor_ledger::Error),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal: {0}")]
    Internal(String),
    #[error("too many requests from this address: try again in {retry_after_seconds} s")]
    TooManyRequests { retry_after_seconds: u64 },
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        use zbor_ledger::Error as L;
        match self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::InsufficientFunds(_) => (StatusCode::CONFLICT, "insufficient_funds"),
            ApiError::Payouts(
                zbor_payouts::Error::CampaignNotFound(_)
                | zbor_payouts::Error::BeneficiaryNotFound(_)
                | zbor_payouts::Error::BatchNotFound(_)
                | zbor_payouts::Error::PayoutNotFound(_)
                | zbor_payouts::Error::SepaFileNotFound(_),
            ) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Payouts(zbor_payouts::Error::WrongState(_)) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Payouts(zbor_payouts::Error::Paused) => (StatusCode::CONFLICT, "payouts_paused"),
            ApiError::Payouts(zbor_payouts::Error::DestinationLocked { .. }) => {
                (StatusCode::CONFLICT, "destination_locked")
            }
            ApiError::Payouts(zbor_payouts::Error::DestinationNotApproved(_)) => {
                (StatusCode::CONFLICT, "destination_not_approved")
            }
            ApiError::Payouts(zbor_payouts::Error::DestinationUnconfirmed(_)) => {
                (StatusCode::CONFLICT, "destination_unconfirmed")
            }
            ApiError::Payouts(zbor_payouts::Error::SamePerson(_)) => (StatusCode::FORBIDDEN, "four_eyes"),
            ApiError::Payouts(e) if e.is_client_error() => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request")
            }
            ApiError::Payouts(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::PeopleNotConfigured => (StatusCode::SERVICE_UNAVAILABLE, "people_not_configured"),
            ApiError::Auth(e) => {
                use zbor_auth::Error as A;
                match e {
                    A::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
                    A::SecondFactorRequired => (StatusCode::UNAUTHORIZED, "second_factor_required"),
                    A::BadSecondFactor => (StatusCode::UNAUTHORIZED, "bad_second_factor"),
                    A::Locked => (StatusCode::TOO_MANY_REQUESTS, "account_locked"),
                    A::FourEyes(_) => (StatusCode::FORBIDDEN, "four_eyes"),
                    A::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
                    A::RequestNotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
                    A::EmailTaken | A::AlreadyEnrolled | A::NoEnrolment => (StatusCode::CONFLICT, "conflict"),
                    A::UserNotFound => (StatusCode::NOT_FOUND, "not_found"),
                    A::InvalidField { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request"),
                    A::Vault(_) | A::Hashing | A::Database(_) => {
                        (StatusCode::INTERNAL_SERVER_ERROR, "internal")
                    }
                }
            }
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            // 503: Stripe keeps retrying until the secret is configured; nothing is lost.
            ApiError::WebhookNotConfigured => (StatusCode::SERVICE_UNAVAILABLE, "webhook_not_configured"),
            ApiError::Intake(zbor_intake::Error::Signature(_)) => {
                (StatusCode::BAD_REQUEST, "invalid_signature")
            }
            ApiError::Intake(zbor_intake::Error::MalformedEvent(_)) => {
                (StatusCode::BAD_REQUEST, "malformed_event")
            }
            ApiError::CheckoutNotConfigured => (StatusCode::SERVICE_UNAVAILABLE, "checkout_not_configured"),
            ApiError::SepaNotConfigured => (StatusCode::SERVICE_UNAVAILABLE, "sepa_not_configured"),
            ApiError::Intake(zbor_intake::Error::CampaignNotFound(_)) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Intake(zbor_intake::Error::CampaignClosed(_)) => {
                (StatusCode::CONFLICT, "campaign_closed")
            }
            // Our own queue for Stripe is full: the donor can retry in a moment (or use the link).
            ApiError::Intake(zbor_intake::Error::Stripe(zbor_stripe::Error::Busy)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "stripe_busy")
            }
            ApiError::Intake(zbor_intake::Error::Stripe(_)) => {
                (StatusCode::BAD_GATEWAY, "stripe_unavailable")
            }
            ApiError::Intake(zbor_intake::Error::SlugTaken(_)) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Intake(zbor_intake::Error::Ledger(e)) if e.is_client_error() => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request")
            }
            ApiError::Intake(e) if e.is_client_error() => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request")
            }
            ApiError::Intake(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::Ledger(L::AccountNotFound(_) | L::AccountCodeNotFound(_) | L::HoldNotFound(_)) => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            ApiError::Ledger(L::InsufficientFunds { .. }) => (StatusCode::CONFLICT, "insufficient_funds"),
            ApiError::Ledger(
                L::TransactionConflict(_)
                | L::HoldConflict(_)
                | L::AccountCodeTaken(_)
                | L::HoldNotPending { .. }
                | L::HoldExpired(_),
            ) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Ledger(e) if e.is_client_error() => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request")
            }
            ApiError::Ledger(_) | ApiError::Database(_) | ApiError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
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
        let body = serde_json::json!({ "error": { "code": code, "message": message } });
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return (status, [(axum::http::header::RETRY_AFTER, "2")], Json(body)).into_response();
        }
        if let ApiError::TooManyRequests { retry_after_seconds } = self {
            let retry_after = retry_after_seconds.to_string();
            return (status, [(axum::http::header::RETRY_AFTER, retry_after)], Json(body)).into_response();
        }
        (status, Json(body)).into_response()
    }
}
