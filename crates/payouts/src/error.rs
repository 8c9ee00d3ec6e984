use std::fmt::Display;

use crate::{BatchId, BeneficiaryId, PayoutId, SepaFileId};

/// Every error of this crate. None of the messages contains a personal value (a name, contact,
/// IBAN, account id or note): they name the field and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("campaign {0} not found")]
    CampaignNotFound(zbor_campaigns::CampaignId),
    #[error("beneficiary {0} not found")]
    BeneficiaryNotFound(BeneficiaryId),
    #[error("payout batch {0} not found")]
    BatchNotFound(BatchId),
    #[error("payout {0} not found")]
    PayoutNotFound(PayoutId),
    #[error("SEPA file {0} not found")]
    SepaFileNotFound(SepaFileId),
    /// The action does not fit the payout's (or batch's) state now: a 409.
    #[error("{0}")]
    WrongState(String),
    #[error("payouts are paused: two treasurers must resume them first")]
    Paused,
    /// A destination change while money is on its way to the old one: a 409.
    #[error(
        "beneficiary {beneficiary}: its payout destination cannot change while payouts {} are approved, \
         sending, sent or failed; cancel them first", join(.payouts)
    )]
    DestinationLocked { beneficiary: BeneficiaryId, payouts: Vec<PayoutId> },
    /// A rail was about to pay a destination other than the approved one: nothing is paid.
    #[error(
        "payout {0}: its beneficiary's destination is not the one the treasurers approved; nothing was paid"
    )]
    DestinationNotApproved(PayoutId),
    /// Beneficiaries whose destination no second treasurer has confirmed yet.
    #[error(
        "beneficiaries {} have a payout destination not yet confirmed by a second treasurer", join(.0)
    )]
    DestinationUnconfirmed(Vec<BeneficiaryId>),
    /// Four eyes: the same person on both sides of a control (a 403).
    #[error("{0}")]
    SamePerson(String),
    #[error("the CSV file cannot be read: {0}")]
    InvalidCsv(String),
    #[error(
        "beneficiary {0}: its personal data cannot be decrypted: ZBOR_DATA_KEY is not the key it was \
         sealed with, or the row was altered"
    )]
    CannotDecrypt(BeneficiaryId),
    #[error(
        "beneficiary {0}: its sealed data does not match its indexes or fingerprint; the row was altered"
    )]
    Inconsistent(BeneficiaryId),
    /// A campaign's own error (zbor-campaigns): kind and code kept.
    #[error(transparent)]
    Campaign(#[from] zbor_campaigns::Error),
    #[error("personal data: {0}")]
    Vault(#[from] zbor_vault::Error),
    #[error(transparent)]
    Ledger(#[from] zbor_ledger::Error),
    #[error("queue: {0}")]
    Queue(#[from] zbor_queue::Error),
    /// An action that needs a staff user (it records who), done by the bootstrap token or the
    /// command line.
    #[error("{0} needs a staff user's account, not the bootstrap token or the command line")]
    NeedsUser(&'static str),
    #[error("audit: {0}")]
    Audit(#[from] zbor_audit::Error),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl zbor_errors::Classified for Error {
    fn kind(&self) -> zbor_errors::ErrorKind {
        use zbor_errors::ErrorKind as K;
        match self {
            Error::InvalidField { .. } | Error::InvalidCsv(_) => K::Invalid,
            Error::CampaignNotFound(_)
            | Error::BeneficiaryNotFound(_)
            | Error::BatchNotFound(_)
            | Error::PayoutNotFound(_)
            | Error::SepaFileNotFound(_) => K::NotFound,
            Error::WrongState(_)
            | Error::Paused
            | Error::DestinationLocked { .. }
            | Error::DestinationNotApproved(_)
            | Error::DestinationUnconfirmed(_) => K::Conflict,
            Error::SamePerson(_) | Error::NeedsUser(_) => K::Forbidden,
            Error::Campaign(e) => e.kind(),
            // A refusal of the ledger's is the request's fault here: an amount, a currency.
            Error::Ledger(e) if e.is_client_error() => K::Invalid,
            Error::Ledger(_)
            | Error::CannotDecrypt(_)
            | Error::Inconsistent(_)
            | Error::Vault(_)
            | Error::Queue(_)
            | Error::Audit(_)
            | Error::Database(_) => K::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Error::Paused => "payouts_paused",
            Error::DestinationLocked { .. } => "destination_locked",
            Error::DestinationNotApproved(_) => "destination_not_approved",
            Error::DestinationUnconfirmed(_) => "destination_unconfirmed",
            Error::SamePerson(_) => "four_eyes",
            Error::Campaign(e) => e.code(),
            other => zbor_errors::default_code(other.kind()),
        }
    }
}

/// A transfer handler's failure, as the event store passes it on: kind and code kept.
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

fn join(ids: &[impl Display]) -> String {
    ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}
