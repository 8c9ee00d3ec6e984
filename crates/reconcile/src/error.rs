use crate::camt::StatementError;

/// Every error of this crate. Messages name ids, amounts and positions, never a person's name,
/// account or the bank's free text.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    /// A statement that cannot be read; nothing was imported.
    #[error("bank statement: {0}")]
    Statement(#[from] StatementError),
    /// Stripe answered something zbor cannot read (an amount, an object it did not expect).
    #[error("Stripe's answer: {0}")]
    StripeAnswer(String),
    #[error(transparent)]
    Stripe(#[from] zbor_stripe::Error),
    #[error(transparent)]
    Payouts(#[from] zbor_payouts::Error),
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
            Error::InvalidField { .. } | Error::Statement(_) => K::Invalid,
            Error::StripeAnswer(_) => K::Upstream,
            Error::Stripe(e) => e.kind(),
            Error::Payouts(e) => e.kind(),
            Error::Ledger(e) if e.is_client_error() => K::Invalid,
            Error::Ledger(_) | Error::Audit(_) | Error::Database(_) => K::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Error::Statement(_) => "invalid_statement",
            Error::Stripe(e) => e.code(),
            Error::Payouts(e) => e.code(),
            other => zbor_errors::default_code(other.kind()),
        }
    }
}

/// A payout handler's failure, as the event store passes it on: kind and code kept.
impl From<Error> for zbor_stripe::Error {
    fn from(e: Error) -> zbor_stripe::Error {
        zbor_stripe::Error::Handler(Box::new(e))
    }
}

impl Error {
    pub(crate) fn invalid(field: &'static str, reason: impl std::fmt::Display) -> Error {
        Error::InvalidField { field, reason: reason.to_string() }
    }
}
