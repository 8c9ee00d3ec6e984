//! The money truth: what zbor's ledger says, checked against what Stripe and the bank say.
//!
//! - [`stripe_payouts`]: Stripe's payouts of its balance to the organisation's bank
//!   (`payout.paid`, `payout.failed`), booked once each.
//! - [`against_stripe`]: the ledger's postings on Stripe's balance against Stripe's balance
//!   transactions for a period: matched, missing on either side, amounts that differ.
//! - [`runs`]: reports kept, and the daily run.
//! - [`camt`]: the bank's ISO 20022 statements (camt.053 end of day, camt.054 notifications), read.
//! - [`bank`]: a statement imported: SEPA payouts confirmed or returned, Stripe's payouts
//!   arriving, everything else listed for treasurers.

pub mod against_stripe;
pub mod bank;
pub mod camt;
mod error;
pub mod runs;
pub mod stripe_payouts;

pub use error::Error;
