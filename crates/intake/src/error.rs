/// Why a webhook's `Stripe-Signature` was not accepted. Each is a 400 to Stripe, nothing stored.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing Stripe-Signature header")]
    Missing,
    #[error("malformed Stripe-Signature header")]
    Malformed,
    #[error("timestamp outside the {tolerance_s} s tolerance (age {age_s} s)")]
    Stale { age_s: i64, tolerance_s: i64 },
    #[error("no v1 signature matches the configured secret(s)")]
    NoMatch,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("campaign slug {0:?} is invalid: 2-63 of a-z 0-9 -, starting with a letter or digit")]
    InvalidSlug(String),
    #[error("{field} is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("a campaign with slug {0:?} already exists")]
    SlugTaken(String),
    #[error("campaign {0:?} not found")]
    CampaignNotFound(String),
    #[error("webhook signature: {0}")]
    Signature(#[from] SignatureError),
    #[error("malformed Stripe event: {0}")]
    MalformedEvent(String),
    #[error("campaign {0:?} is closed: it takes no new donations")]
    CampaignClosed(String),
    #[error("Stripe: {0}")]
    Stripe(#[from] zbor_stripe::Error),
    #[error("personal data: {0}")]
    Vault(#[from] zbor_vault::Error),
    #[error(transparent)]
    Ledger(#[from] zbor_ledger::Error),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl Error {
    /// True when the request itself is wrong (a 4xx), false when the system failed (a 5xx).
    pub fn is_client_error(&self) -> bool {
        match self {
            Error::Ledger(e) => e.is_client_error(),
            Error::Database(_) | Error::Stripe(_) | Error::Vault(_) => false,
            Error::InvalidSlug(_)
            | Error::InvalidField { .. }
            | Error::SlugTaken(_)
            | Error::CampaignNotFound(_)
            | Error::CampaignClosed(_)
            | Error::Signature(_)
            | Error::MalformedEvent(_) => true,
        }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl std::fmt::Display) -> Error {
        Error::InvalidField { field, reason: reason.to_string() }
    }
}
