//! Payouts: who a campaign pays and where the money goes. Today: beneficiaries, their payout
//! destinations sealed at rest (zbor-vault), IBAN and BIC checks, duplicate IBANs flagged through
//! a blind index, payee fingerprints for approvals to sign, and CSV import. Payout batches,
//! approvals and rails come later and refer to beneficiaries by [`beneficiaries::BeneficiaryId`].

pub mod batches;
pub mod beneficiaries;
mod error;
pub mod iban;
pub mod import;
pub mod reconcile;
pub mod switch;
pub mod treasury;
pub mod worker;

pub use error::Error;
