//! Stripe Connect: a transfer from the platform's Stripe balance to the beneficiary's connected
//! account, made by a worker (`worker::pay`) and confirmed by Stripe's answer or its
//! `transfer.created` webhook (`reconcile`).

use uuid::Uuid;
use zbor_campaigns::AccountCode;
use zbor_ledger::{Currency, NewAccount};

use super::{Delivery, Rail};
use crate::beneficiaries::{MethodKind, PayoutMethod};
use crate::treasury::Payout;

pub struct StripeConnect;

impl Rail for StripeConnect {
    fn kind(&self) -> MethodKind {
        MethodKind::StripeConnect
    }

    fn delivery(&self) -> Delivery {
        Delivery::Worker
    }

    fn ledger_account(&self, currency: Currency) -> NewAccount {
        AccountCode::stripe_balance(currency).new_account(currency)
    }

    /// Stripe's answer, or its `transfer.created`, records it paid with the transfer's id.
    fn paid_by_treasurer(&self, _: &Payout) -> Option<String> {
        None
    }

    fn can_be_returned(&self) -> bool {
        false // a transfer comes back as `transfer.reversed`, booked by `reconcile`
    }

    fn payee_destination(&self, method: &PayoutMethod, _: Uuid) -> Option<String> {
        match method {
            PayoutMethod::StripeConnect { account } => Some(format!("stripe:{}", account.as_str())),
            PayoutMethod::Sepa { .. } | PayoutMethod::Manual => None,
        }
    }
}
