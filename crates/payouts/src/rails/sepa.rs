//! SEPA credit transfers: treasurers export approved payouts to a pain.001 file for the bank
//! (`sepa_files`, `sepa`), then confirm each paid or returned from the bank's statement.

use uuid::Uuid;
use zbor_campaigns::AccountCode;
use zbor_ledger::{Currency, NewAccount};

use super::{Delivery, Rail};
use crate::beneficiaries::{MethodKind, PayoutMethod};
use crate::treasury::{end_to_end_id, Payout, PayoutStatus};
use crate::{PayoutId, SepaFileId};

pub struct Sepa;

impl Sepa {
    /// A payout's reference: its file and end-to-end id (what the bank statement shows).
    pub fn reference(&self, file: SepaFileId, payout: PayoutId) -> String {
        format!("sepa:{file}:{}", end_to_end_id(payout))
    }
}

impl Rail for Sepa {
    fn kind(&self) -> MethodKind {
        MethodKind::Sepa
    }

    fn delivery(&self) -> Delivery {
        Delivery::File
    }

    fn ledger_account(&self, currency: Currency) -> NewAccount {
        AccountCode::bank(currency).new_account(currency)
    }

    /// Once the bank has the file (`sent`): confirmed from its statement.
    fn paid_by_treasurer(&self, payout: &Payout) -> Option<String> {
        (payout.status == PayoutStatus::Sent)
            .then(|| self.reference(payout.sepa_file_id.unwrap_or(SepaFileId::from_i64(0)), payout.id))
    }

    fn can_be_returned(&self) -> bool {
        true
    }

    fn payee_destination(&self, method: &PayoutMethod, _: Uuid) -> Option<String> {
        match method {
            PayoutMethod::Sepa { iban, bic } => {
                Some(format!("sepa:{}:{}", iban.as_str(), bic.as_ref().map_or("", |b| b.as_str())))
            }
            PayoutMethod::StripeConnect { .. } | PayoutMethod::Manual => None,
        }
    }
}
