/// Every error of this crate.
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
            Error::InvalidSlug(_) | Error::InvalidField { .. } => K::Invalid,
            Error::SlugTaken(_) => K::Conflict,
            Error::CampaignNotFound(_) => K::NotFound,
            // A refusal of the ledger's is the request's fault here: an amount, a currency.
            Error::Ledger(e) if e.is_client_error() => K::Invalid,
            Error::Ledger(_) | Error::Audit(_) | Error::Database(_) => K::Internal,
        }
    }
}

impl Error {
    pub(crate) fn invalid(field: &'static str, reason: impl std::fmt::Display) -> Error {
        Error::InvalidField { field, reason: reason.to_string() }
    }
}
