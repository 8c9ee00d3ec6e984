use crate::{AccountId, Currency, HoldId, TransactionId};

/// Everything the ledger can refuse. Variants other than `Database` describe a request that is
/// wrong and can be fixed by the caller (see [`Error::is_client_error`]); nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown currency {0:?}")]
    UnknownCurrency(String),
    #[error("{0:?} is not a decimal amount")]
    InvalidAmount(String),
    #[error("{amount} is finer than {currency} allows ({scale} decimal places)")]
    TooPrecise { amount: String, currency: Currency, scale: u32 },
    #[error("amount out of range")]
    Overflow,
    #[error("currency mismatch: expected {expected}, found {found}")]
    CurrencyMismatch { expected: Currency, found: Currency },
    #[error("amount must be positive, got {0}")]
    NotPositive(String),
    #[error("a posting amount cannot be zero")]
    ZeroPosting,
    #[error("a transaction needs between 2 and {max} postings, got {found}")]
    PostingCount { found: usize, max: usize },
    #[error("account {0} appears twice in one transaction")]
    DuplicateAccount(AccountId),
    #[error("transaction does not balance in {currency}: postings sum to {sum}")]
    Unbalanced { currency: Currency, sum: String },
    #[error("metadata must be a JSON object of at most {max_bytes} bytes")]
    InvalidMetadata { max_bytes: usize },
    #[error("account code {0:?} is invalid: use 1-128 of a-z 0-9 : . _ -, starting with a letter or digit")]
    InvalidAccountCode(String),
    #[error("an account with code {0:?} already exists")]
    AccountCodeTaken(String),
    #[error("account {0} not found")]
    AccountNotFound(AccountId),
    #[error("account code {0:?} not found")]
    AccountCodeNotFound(String),
    #[error("account {account} holds {account_currency}, not {found}")]
    AccountCurrency { account: AccountId, account_currency: Currency, found: Currency },
    #[error("a hold needs two different accounts")]
    SameAccount,
    #[error("transaction {0} already exists with different content")]
    TransactionConflict(TransactionId),
    #[error("hold {0} already exists with different content")]
    HoldConflict(HoldId),
    #[error("insufficient funds in account {account}: available {available}, requested {requested}")]
    InsufficientFunds { account: AccountId, available: String, requested: String },
    #[error("hold {0} not found")]
    HoldNotFound(HoldId),
    #[error("hold {id} is {status}, not pending")]
    HoldNotPending { id: HoldId, status: String },
    #[error("hold {0} has expired")]
    HoldExpired(HoldId),
    #[error("cannot post {requested} of hold {id}, which reserves {reserved}")]
    HoldExceeded { id: HoldId, reserved: String, requested: String },
    #[error("hold expiry must be in the future")]
    ExpiryInPast,
    #[error("at most {max} holds at once, got {found}")]
    HoldCount { found: usize, max: usize },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl zbor_errors::Classified for Error {
    fn kind(&self) -> zbor_errors::ErrorKind {
        use zbor_errors::ErrorKind as K;
        match self {
            Error::AccountNotFound(_) | Error::AccountCodeNotFound(_) | Error::HoldNotFound(_) => K::NotFound,
            Error::InsufficientFunds { .. }
            | Error::TransactionConflict(_)
            | Error::HoldConflict(_)
            | Error::AccountCodeTaken(_)
            | Error::HoldNotPending { .. }
            | Error::HoldExpired(_) => K::Conflict,
            Error::Database(_) | Error::Overflow => K::Internal,
            Error::UnknownCurrency(_)
            | Error::InvalidAmount(_)
            | Error::TooPrecise { .. }
            | Error::CurrencyMismatch { .. }
            | Error::NotPositive(_)
            | Error::ZeroPosting
            | Error::PostingCount { .. }
            | Error::DuplicateAccount(_)
            | Error::Unbalanced { .. }
            | Error::InvalidMetadata { .. }
            | Error::InvalidAccountCode(_)
            | Error::AccountCurrency { .. }
            | Error::SameAccount
            | Error::HoldExceeded { .. }
            | Error::ExpiryInPast
            | Error::HoldCount { .. } => K::Invalid,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Error::InsufficientFunds { .. } => "insufficient_funds",
            other => zbor_errors::default_code(other.kind()),
        }
    }
}
