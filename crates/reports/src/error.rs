/// Every error of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A period, date or option the caller can fix: the message says what and why.
    #[error("{0}")]
    InvalidRequest(String),
    /// An export filtered by a campaign that does not exist: the caller's mistake, so a 400.
    #[error("no campaign {0:?}")]
    UnknownCampaign(String),
    /// As many exports as this process allows are running: try again shortly.
    #[error("{0} export(s) are running on this server already: try again in a few seconds")]
    Busy(usize),
    /// Revealing donors needs the data key their identities are sealed with.
    #[error("revealing donors needs ZBOR_DATA_KEY (their identities are sealed with it)")]
    NoDataKey,
    #[error(transparent)]
    Ledger(#[from] zbor_ledger::Error),
    #[error(transparent)]
    Campaigns(#[from] zbor_campaigns::Error),
    #[error("opening a donor's identity: {0}")]
    Vault(#[from] zbor_vault::Error),
    /// What the database holds does not fit what zbor wrote (a bug or tampering), never the
    /// caller's fault.
    #[error("inconsistent data: {0}")]
    Inconsistent(String),
    #[error("audit: {0}")]
    Audit(#[from] zbor_audit::Error),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl zbor_errors::Classified for Error {
    fn kind(&self) -> zbor_errors::ErrorKind {
        use zbor_errors::ErrorKind as K;
        match self {
            Error::InvalidRequest(_) | Error::UnknownCampaign(_) => K::Malformed,
            Error::NoDataKey | Error::Busy(_) => K::Unavailable,
            Error::Ledger(_)
            | Error::Campaigns(_)
            | Error::Vault(_)
            | Error::Inconsistent(_)
            | Error::Audit(_)
            | Error::Database(_) => K::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Error::InvalidRequest(_) => "invalid_query",
            Error::UnknownCampaign(_) => "unknown_campaign",
            Error::NoDataKey => "people_not_configured",
            Error::Busy(_) => "exports_busy",
            Error::Ledger(_)
            | Error::Campaigns(_)
            | Error::Vault(_)
            | Error::Inconsistent(_)
            | Error::Audit(_)
            | Error::Database(_) => "internal",
        }
    }
}
