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

impl zbor_errors::Classified for Error {
    fn kind(&self) -> zbor_errors::ErrorKind {
        use zbor_errors::ErrorKind as K;
        match self {
            Error::InvalidSlug(_) | Error::InvalidField { .. } => K::Invalid,
            Error::SlugTaken(_) | Error::CampaignClosed(_) => K::Conflict,
            Error::CampaignNotFound(_) => K::NotFound,
            Error::MalformedEvent(_) => K::Malformed,
            Error::Stripe(e) => e.kind(),
            // A refusal of the ledger's is the request's fault here: an amount, a currency.
            Error::Ledger(e) if e.is_client_error() => K::Invalid,
            Error::Ledger(_) | Error::Vault(_) | Error::Database(_) => K::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Error::CampaignClosed(_) => "campaign_closed",
            Error::MalformedEvent(_) => "malformed_event",
            Error::Stripe(e) => e.code(),
            other => zbor_errors::default_code(other.kind()),
        }
    }
}

/// A donation handler's failure, as the event store passes it on: kind and code kept.
impl From<Error> for zbor_stripe::Error {
    fn from(e: Error) -> zbor_stripe::Error {
        zbor_stripe::Error::Handler(Box::new(e))
    }
}

impl Error {
    /// True when the request itself is wrong (a 4xx), false when the system failed (a 5xx).
    pub fn is_client_error(&self) -> bool {
        zbor_errors::Classified::kind(self).is_client_error()
    }

    pub(crate) fn invalid(field: &'static str, reason: impl std::fmt::Display) -> Error {
        Error::InvalidField { field, reason: reason.to_string() }
    }
}
