#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field} is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
    /// A request that cannot be read as asked (a 400): an unknown interval, a receipt email
    /// with an anonymous gift.
    #[error("{field}: {reason}")]
    BadRequest { field: &'static str, reason: String },
    /// No subscription has this cancel token (or the token is malformed): nothing changed.
    #[error("no subscription has this token")]
    SubscriptionNotFound,
    #[error("the subscription is canceled already")]
    SubscriptionCanceled,
    /// A campaign's own error (invalid slug, not found, ...): kind and code kept.
    #[error(transparent)]
    Campaign(#[from] zbor_campaigns::Error),
    #[error("malformed Stripe event: {0}")]
    MalformedEvent(String),
    #[error("campaign {0:?} is closed: it takes no new donations")]
    CampaignClosed(String),
    /// Reached its goal: donors are sent to its overflow campaign.
    #[error("campaign {campaign:?} is fully funded: give to {overflow:?} instead")]
    CampaignFunded { campaign: String, overflow: String },
    /// A surplus transfer refused: not funded, too much, the same person twice, wrong state.
    #[error("{0}")]
    SurplusRefused(String),
    #[error("surplus transfer {0} not found")]
    SurplusNotFound(i64),
    #[error("the requester of a surplus transfer cannot approve it: a second person must")]
    SurplusSamePerson,
    #[error("Stripe: {0}")]
    Stripe(#[from] zbor_stripe::Error),
    #[error("personal data: {0}")]
    Vault(#[from] zbor_vault::Error),
    #[error(transparent)]
    Ledger(#[from] zbor_ledger::Error),
    #[error("audit: {0}")]
    Audit(#[from] zbor_audit::Error),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl zbor_errors::Classified for Error {
    fn kind(&self) -> zbor_errors::ErrorKind {
        use zbor_errors::ErrorKind as K;
        match self {
            Error::InvalidField { .. } => K::Invalid,
            Error::CampaignClosed(_) | Error::CampaignFunded { .. } | Error::SurplusRefused(_) => K::Conflict,
            Error::SurplusNotFound(_) => K::NotFound,
            Error::SurplusSamePerson => K::Forbidden,
            Error::BadRequest { .. } => K::Malformed,
            Error::SubscriptionNotFound => K::NotFound,
            Error::SubscriptionCanceled => K::Conflict,
            Error::Campaign(e) => e.kind(),
            Error::MalformedEvent(_) => K::Malformed,
            Error::Stripe(e) => e.kind(),
            // A refusal of the ledger's is the request's fault here: an amount, a currency.
            Error::Ledger(e) if e.is_client_error() => K::Invalid,
            Error::Ledger(_) | Error::Vault(_) | Error::Audit(_) | Error::Database(_) => K::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Error::CampaignClosed(_) => "campaign_closed",
            Error::CampaignFunded { .. } => "campaign_funded",
            Error::SurplusRefused(_) => "surplus_refused",
            Error::SurplusSamePerson => "four_eyes",
            Error::SubscriptionNotFound => "subscription_not_found",
            Error::SubscriptionCanceled => "subscription_canceled",
            Error::MalformedEvent(_) => "malformed_event",
            Error::Stripe(e) => e.code(),
            Error::Campaign(e) => e.code(),
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
    pub(crate) fn bad_request(field: &'static str, reason: impl std::fmt::Display) -> Error {
        Error::BadRequest { field, reason: reason.to_string() }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl std::fmt::Display) -> Error {
        Error::InvalidField { field, reason: reason.to_string() }
    }
}
