//! Payout rails: how the money of one payout method leaves, and how zbor learns it arrived.
//!
//! Everything that differs between Stripe Connect, SEPA and manual payouts is answered here, by
//! the method's [`Rail`]; the rest of the crate asks [`of`] instead of comparing method names.
//! What is the same for every rail stays outside: four-eyes approval of the exact content
//! (`batches`), the ledger hold taken at release and posted when the payout is paid
//! (`treasury::settle_in`), and the check at the moment of paying that the destination is the
//! approved one (`beneficiaries::approved_destination`), which every rail's paying path calls.
//!
//! Adding a rail: docs/ARCHITECTURE.md, "How to add a payout rail".

mod manual;
mod sepa;
mod stripe_connect;

use uuid::Uuid;
use zbor_ledger::{Currency, NewAccount};

use crate::beneficiaries::{MethodKind, PayoutMethod};
use crate::treasury::Payout;

pub use manual::Manual;
pub use sepa::Sepa;
pub use stripe_connect::StripeConnect;

/// How released payouts of a rail leave zbor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Queued on the payout stream at release (and at a treasurer's retry); a worker pays it
    /// (`worker::pay`), and the rail's answer or its webhook records it paid.
    Worker,
    /// Treasurers export approved payouts to a file for the bank (`sepa_files`); once the file
    /// is made they are `sent`, and a treasurer confirms each paid or returned from the statement.
    File,
    /// A person hands the money over; a treasurer records the approved payout paid.
    ByHand,
}

/// One payout method's rail.
pub trait Rail: Sync {
    fn kind(&self) -> MethodKind;

    /// How released payouts leave.
    fn delivery(&self) -> Delivery;

    /// The ledger account a released payout's hold credits: where the money is when it leaves
    /// zbor's books (the processor balance for Stripe transfers, the bank account otherwise).
    fn ledger_account(&self, currency: Currency) -> NewAccount;

    /// When a treasurer may record `payout` paid in the state it is in now, the reference it
    /// keeps (what a statement or receipt shows); `None` otherwise, and always for a rail whose
    /// own answer confirms it (Stripe's transfer).
    fn paid_by_treasurer(&self, payout: &Payout) -> Option<String>;

    /// True when the bank can send a payout of this rail back, and a treasurer records it.
    fn can_be_returned(&self) -> bool;

    /// The canonical destination the payee fingerprint hashes (`PayeeFingerprint`): what,
    /// changed, must need a new confirmation and approval. `None` when `method` is another rail's.
    fn payee_destination(&self, method: &PayoutMethod, record_key: Uuid) -> Option<String>;
}

/// The rail of a method.
pub fn of(kind: MethodKind) -> &'static dyn Rail {
    match kind {
        MethodKind::StripeConnect => &StripeConnect,
        MethodKind::Sepa => &Sepa,
        MethodKind::Manual => &Manual,
    }
}

/// The methods whose payouts workers pay (`Delivery::Worker`): what the sweeper looks for.
pub fn delivered_by_workers() -> impl Iterator<Item = MethodKind> {
    MethodKind::ALL.into_iter().filter(|&kind| of(kind).delivery() == Delivery::Worker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_has_its_own_rail() {
        for kind in [MethodKind::StripeConnect, MethodKind::Sepa, MethodKind::Manual] {
            assert_eq!(of(kind).kind(), kind);
        }
        assert_eq!(of(MethodKind::StripeConnect).delivery(), Delivery::Worker);
        assert_eq!(of(MethodKind::Sepa).delivery(), Delivery::File);
        assert_eq!(of(MethodKind::Manual).delivery(), Delivery::ByHand);
        let eur = Currency::parse("EUR").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(of(MethodKind::StripeConnect).ledger_account(eur).code, "stripe:balance:eur");
        assert_eq!(of(MethodKind::Sepa).ledger_account(eur).code, "bank:eur");
        assert_eq!(of(MethodKind::Manual).ledger_account(eur).code, "bank:eur");
    }

    #[test]
    fn a_rail_fingerprints_only_its_own_destinations() {
        let key = Uuid::nil();
        assert_eq!(
            of(MethodKind::Manual).payee_destination(&PayoutMethod::Manual, key).as_deref(),
            Some("manual:00000000-0000-0000-0000-000000000000")
        );
        assert_eq!(of(MethodKind::Sepa).payee_destination(&PayoutMethod::Manual, key), None);
        assert_eq!(of(MethodKind::StripeConnect).payee_destination(&PayoutMethod::Manual, key), None);
    }
}
