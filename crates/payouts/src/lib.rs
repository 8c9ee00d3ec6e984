//! Payouts: who a campaign pays, who approves, and how the money gets there.
//!
//! - [`beneficiaries`], [`import`], [`iban`]: payout destinations sealed at rest, IBAN checks,
//!   duplicate IBANs flagged through a blind index, CSV import.
//! - [`batches`]: four-eyes approval of a batch's exact content; the last approval holds the
//!   funds and queues the payouts in one transaction.
//! - [`rails`]: what differs between payout methods (Stripe Connect, SEPA, manual) behind one
//!   trait; [`worker`] pays Stripe transfers from the queue ([`jobs`]: the job and the sweep
//!   policy), [`sepa`] and [`sepa_files`] make pain.001 files for the bank, [`treasury`] records
//!   what treasurers confirm (manual payouts, SEPA paid or returned, retry, cancel).
//! - [`switch`]: the pause switch; [`reconcile`]: Stripe's transfer webhooks; [`bank`]: the
//!   bank's statement lines on SEPA payouts (executed, returned).
//! - [`key_rotation`]: `zbor vault rotate` for beneficiaries and payouts.

pub mod bank;
pub mod batches;
pub mod beneficiaries;
mod error;
pub mod iban;
mod ids;
pub mod import;
pub mod jobs;
pub mod key_rotation;
pub mod rails;
pub mod reconcile;
pub mod sepa;
pub mod sepa_files;
pub mod switch;
pub mod treasury;
pub mod worker;

pub use beneficiaries::BeneficiaryId;
pub use error::Error;
pub use ids::{BatchId, PayoutId, SepaFileId};
