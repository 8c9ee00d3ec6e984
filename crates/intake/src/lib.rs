//! Intake: checkout links, and turning Stripe's signed webhooks into ledger bookings exactly once.
//! Campaigns themselves are zbor-campaigns'.

pub mod checkout;
mod error;
pub mod overflow;
pub mod public_feed;
pub mod receipt;
pub mod subscriptions;
pub mod totals;
pub mod webhook;

pub use error::Error;
