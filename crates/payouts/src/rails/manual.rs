//! Manual payouts: cash or a trusted courier. zbor only records that a treasurer handed over
//! what was approved.

use uuid::Uuid;
use zbor_campaigns::AccountCode;
use zbor_ledger::{Currency, NewAccount};

use super::{Delivery, Rail};
use crate::beneficiaries::{MethodKind, PayoutMethod};
use crate::treasury::{Payout, PayoutStatus};

pub struct Manual;

impl Rail for Manual {
    fn kind(&self) -> MethodKind {
        MethodKind::Manual
    }

    fn delivery(&self) -> Delivery {
        Delivery::ByHand
    }

    /// The cash comes from the organisation's bank account.
    fn ledger_account(&self, currency: Currency) -> NewAccount {
        AccountCode::bank(currency).new_account(currency)
    }

    /// Once approved: the treasurer hands it over and records it.
    fn paid_by_treasurer(&self, payout: &Payout) -> Option<String> {
        (payout.status == PayoutStatus::Approved).then(|| format!("manual:{}", payout.id))
    }

    fn can_be_returned(&self) -> bool {
        false
    }

    /// No account to compare: the beneficiary's own record (its random key) is the destination,
    /// so a manual payout's approval is bound to that person.
    fn payee_destination(&self, method: &PayoutMethod, record_key: Uuid) -> Option<String> {
        match method {
            PayoutMethod::Manual => Some(format!("manual:{record_key}")),
            PayoutMethod::Sepa { .. } | PayoutMethod::StripeConnect { .. } => None,
        }
    }
}
