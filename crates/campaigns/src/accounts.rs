//! zbor's chart of accounts: every ledger account zbor books into, its code and its fixed
//! properties. The codes are stored in `ledger_accounts` (and named in the API), so they never
//! change once written: a new spelling would be a new, empty account.

use std::fmt;

use zbor_ledger::{AccountKind, Currency, NewAccount};

use crate::Slug;

/// A ledger account of zbor's chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountCode {
    code: String,
    kind: AccountKind,
    non_negative: bool,
}

impl AccountCode {
    /// A campaign's funds, `campaign:{slug}`: what zbor owes its beneficiaries, so a liability
    /// that may never be overdrawn (payouts cannot take more than was given).
    pub fn campaign(slug: &Slug) -> AccountCode {
        AccountCode {
            code: format!("campaign:{}", slug.as_str()),
            kind: AccountKind::Liability,
            non_negative: true,
        }
    }

    /// What Stripe holds for zbor in `currency`, `stripe:balance:{eur}`: donations arrive here,
    /// Connect transfers leave from here.
    pub fn stripe_balance(currency: Currency) -> AccountCode {
        AccountCode::per_currency("stripe:balance", currency, AccountKind::Asset)
    }

    /// Stripe's fees in `currency`, `stripe:fees:{eur}`.
    pub fn stripe_fees(currency: Currency) -> AccountCode {
        AccountCode::per_currency("stripe:fees", currency, AccountKind::Expense)
    }

    /// The organisation's bank account in `currency`, `bank:{eur}`: SEPA and manual payouts
    /// leave from here.
    pub fn bank(currency: Currency) -> AccountCode {
        AccountCode::per_currency("bank", currency, AccountKind::Asset)
    }

    /// Accounts outside zbor (Stripe's balance, the bank) have no floor in the ledger; only a
    /// campaign's funds do.
    fn per_currency(prefix: &str, currency: Currency, kind: AccountKind) -> AccountCode {
        AccountCode { code: format!("{prefix}:{}", currency.stripe_code()), kind, non_negative: false }
    }

    pub fn as_str(&self) -> &str {
        &self.code
    }

    /// The account to create (`zbor_ledger::ensure_account`), in `currency`: the campaign's for
    /// its funds, the one in the code for the others.
    pub fn new_account(&self, currency: Currency) -> NewAccount {
        NewAccount { code: self.code.clone(), kind: self.kind, currency, non_negative: self.non_negative }
    }
}

impl fmt::Display for AccountCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Existing databases hold these codes: they must stay byte for byte.
    #[test]
    fn codes_and_properties() -> Result<(), Box<dyn std::error::Error>> {
        let eur = Currency::parse("EUR")?;
        let cases = [
            (
                AccountCode::campaign(&Slug::parse("release-123")?),
                "campaign:release-123",
                AccountKind::Liability,
                true,
            ),
            (AccountCode::stripe_balance(eur), "stripe:balance:eur", AccountKind::Asset, false),
            (AccountCode::stripe_fees(eur), "stripe:fees:eur", AccountKind::Expense, false),
            (AccountCode::bank(eur), "bank:eur", AccountKind::Asset, false),
        ];
        for (code, text, kind, non_negative) in cases {
            assert_eq!(code.as_str(), text);
            assert_eq!(code.to_string(), text);
            let new = code.new_account(eur);
            assert_eq!(
                (new.code.as_str(), new.kind, new.currency, new.non_negative),
                (text, kind, eur, non_negative)
            );
        }
        Ok(())
    }
}
