//! What coordinators and the accountant read, computed from PostgreSQL (the system of record):
//!
//! - [`overview`]: every campaign's raised, refunded, disputed, fees, net, goal, people funded
//!   and payouts paid / pending, each in the campaign's own currency (never added across
//!   currencies);
//! - [`exports`]: donations, refunds, disputes and payouts of a [`Period`] as CSV
//!   ([`csv`]: RFC 4180, amounts exact at the currency's scale with a dot, text cells guarded
//!   against spreadsheet formulas), read a page at a time from one consistent snapshot, and
//!   audited before the first row leaves.
//!
//! Nothing here names a beneficiary, and a donor only when the donor chose to be named and the
//! caller may reveal them ([`exports::DonorIdentities`]).

pub mod csv;
mod error;
pub mod exports;
pub mod overview;
mod period;

pub use error::Error;
pub use exports::{Export, ExportKind, ExportSlots, Exporter};
pub use overview::{overview, CampaignOverview};
pub use period::Period;
