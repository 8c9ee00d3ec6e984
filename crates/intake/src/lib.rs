//! Intake: campaigns, and turning Stripe's signed webhooks into ledger bookings exactly once.

pub mod campaigns;
pub mod checkout;
mod error;
pub mod totals;
pub mod webhook;

pub use error::Error;
