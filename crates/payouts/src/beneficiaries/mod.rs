//! Beneficiaries: the people a campaign pays, and where their money goes.
//!
//! Everything personal (name, contact, IBAN, BIC, Stripe account, note) is sealed together with
//! AES-256-GCM under `ZBOR_DATA_KEY` (zbor-vault) as one JSON value, bound to the row's random
//! `record_key`. The row keeps in clear only what zbor needs without decrypting: the payout
//! method, a masked account (`**** 3000`), a keyed blind index of the IBAN (to flag
//! the same account on two beneficiaries) and the payee fingerprint (what approvals sign).
//!
//! [`Beneficiary`], what every function but [`reveal`] returns, holds nothing personal.
//! [`reveal`] decrypts, and its callers must audit each call. No type here prints personal data
//! through `Debug` or `Display`, and nothing here logs it.

mod destination;
mod personal;
mod sealed;
mod store;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zbor_audit::UserId;
use zbor_campaigns::CampaignId;

pub(crate) use destination::payee_destination;
use destination::MethodFields;
pub use destination::{MethodKind, PayeeFingerprint, PayoutMethod, StripeAccount};
pub(crate) use personal::{contact_field, name_field, note_field, Personal};
pub use store::{
    approved_destination, approved_destinations, confirm, confirm_in, create, create_in, duplicates, get,
    list, reveal, unconfirmed, update, update_in,
};
pub(crate) use store::{ensure_campaign, insert, CHANGED_SINCE_LAST_PAYOUT};

use crate::iban::Bic;

pub const NAME_LEN_MAX: usize = 200;
pub const CONTACT_LEN_MAX: usize = 500;
pub const NOTE_LEN_MAX: usize = 2_000;
/// Stripe's ids are `acct_` and 16 characters today; room for growth, not for abuse.
pub const STRIPE_ACCOUNT_LEN_MAX: usize = 64;

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    sqlx::Type,
    utoipa::ToSchema,
)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct BeneficiaryId(i64);

impl BeneficiaryId {
    pub fn from_i64(id: i64) -> BeneficiaryId {
        BeneficiaryId(id)
    }

    pub fn as_i64(self) -> i64 {
        self.0
    }
}

impl fmt::Display for BeneficiaryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A beneficiary to create, as it arrives (JSON or a CSV row). Checked by [`create`]: a name of
/// 1 to 200 characters, a contact of at most 500 and a note of at most 2,000. `Debug` shows
/// only the masked payout method.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBeneficiary {
    pub name: String,
    /// How coordinators reach the beneficiary or their family (phone, Signal, e-mail); optional.
    #[serde(default)]
    pub contact: String,
    #[schema(value_type = MethodFields)]
    pub method: PayoutMethod,
    #[serde(default)]
    pub note: String,
}

impl fmt::Debug for NewBeneficiary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewBeneficiary").field("method", &self.method).finish_non_exhaustive()
    }
}

/// A change to a beneficiary; absent fields stay as they are.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BeneficiaryUpdate {
    pub name: Option<String>,
    pub contact: Option<String>,
    #[schema(value_type = Option<MethodFields>)]
    pub method: Option<PayoutMethod>,
    pub note: Option<String>,
}

impl BeneficiaryUpdate {
    /// The names of the fields given (what the audit entry records, never their values).
    pub fn fields_given(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("contact", self.contact.is_some()),
            ("method", self.method.is_some()),
            ("note", self.note.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }
}

impl fmt::Debug for BeneficiaryUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BeneficiaryUpdate").field("method", &self.method).finish_non_exhaustive()
    }
}

/// A beneficiary as zbor shows it without revealing anything: no name, contact, note or full
/// account, only the method and the masked account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Beneficiary {
    pub id: BeneficiaryId,
    pub campaign_id: CampaignId,
    pub method: MethodKind,
    /// `**** 3000` or `acct_****2C3D`; none for manual payouts.
    pub masked: Option<String>,
    /// Other beneficiaries (in any campaign) with the same IBAN: flagged for the treasurers, not
    /// refused, since a family may share one account.
    pub duplicate_of: Vec<BeneficiaryId>,
    #[schema(value_type = String)]
    pub payee_fingerprint: PayeeFingerprint,
    /// Who set the current destination (none: the host's command line).
    pub destination_set_by: Option<UserId>,
    pub destination_set_at: DateTime<Utc>,
    /// The second treasurer who confirmed this destination; none: not confirmed yet, so not
    /// payable (a batch with this beneficiary is refused).
    pub destination_confirmed_by: Option<UserId>,
    pub destination_confirmed_at: Option<DateTime<Utc>>,
    /// The destination differs from the one this beneficiary was last paid to: approvers should
    /// look twice (a redirected payout looks exactly like this).
    pub changed_since_last_payout: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Beneficiary {
    pub fn destination_confirmed(&self) -> bool {
        self.destination_confirmed_by.is_some()
    }
}

/// A beneficiary with their personal data decrypted, from [`reveal`]. Serializes everything
/// (for the one response that shows it); `Debug` shows nothing personal.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct RevealedBeneficiary {
    pub id: BeneficiaryId,
    pub campaign_id: CampaignId,
    pub name: String,
    pub contact: String,
    #[serde(serialize_with = "serialize_revealed_method")]
    #[schema(value_type = MethodFields)]
    pub method: PayoutMethod,
    pub note: String,
    #[schema(value_type = String)]
    pub payee_fingerprint: PayeeFingerprint,
}

impl fmt::Debug for RevealedBeneficiary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevealedBeneficiary")
            .field("id", &self.id)
            .field("campaign_id", &self.campaign_id)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// `{"kind": "sepa", "iban": "DE89…", "bic": "COBADEFFXXX", "account": null}`: in full.
fn serialize_revealed_method<S: serde::Serializer>(method: &PayoutMethod, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Revealed<'a> {
        kind: MethodKind,
        iban: Option<&'a str>,
        bic: Option<&'a str>,
        account: Option<&'a str>,
    }
    let (iban, bic, account) = match method {
        PayoutMethod::Sepa { iban, bic } => (Some(iban.as_str()), bic.as_ref().map(Bic::as_str), None),
        PayoutMethod::StripeConnect { account } => (None, None, Some(account.as_str())),
        PayoutMethod::Manual => (None, None, None),
    };
    Revealed { kind: method.kind(), iban, bic, account }.serialize(s)
}

/// The result of [`update`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Updated {
    pub beneficiary: Beneficiary,
    /// The payout destination changed: approvals that signed the old fingerprint no longer hold.
    pub payee_changed: bool,
}

/// Beneficiaries sharing one IBAN.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DuplicateGroup {
    pub masked_iban: String,
    pub beneficiaries: Vec<Beneficiary>,
}

/// One destination a treasurer confirms: the beneficiary and the fingerprint they were shown.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    pub beneficiary: BeneficiaryId,
    /// `payee_fingerprint` as listed: a destination changed since is not confirmed.
    pub payee_fingerprint: String,
}

/// Most destinations confirmed in one call (a whole release's import fits).
pub const CONFIRMATIONS_MAX: usize = 5_000;

/// What a treasurer confirms of `beneficiary`: its destination as it is now.
impl From<&Beneficiary> for Confirmation {
    fn from(beneficiary: &Beneficiary) -> Confirmation {
        Confirmation {
            beneficiary: beneficiary.id,
            payee_fingerprint: beneficiary.payee_fingerprint.to_hex(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use uuid::Uuid;
    use zbor_vault::DataKey;

    use super::destination::{indexes, payee_destination};
    use super::*;
    use crate::iban::Iban;

    fn sepa() -> PayoutMethod {
        PayoutMethod::Sepa {
            iban: Iban::parse("DE89370400440532013000").unwrap(),
            bic: Some(Bic::parse("COBADEFFXXX").unwrap()),
        }
    }

    #[test]
    fn new_beneficiary_from_json() {
        let new: NewBeneficiary = serde_json::from_str(
            r#"{"name": "Ales B.", "contact": "+48 600 000 000",
                "method": {"kind": "sepa", "iban": "de89 3704 0044 0532 0130 00"}}"#,
        )
        .unwrap();
        assert_eq!(new.method.kind(), MethodKind::Sepa);
        assert_eq!(new.note, "");
        let stripe: NewBeneficiary = serde_json::from_str(
            r#"{"name": "X", "method": {"kind": "stripe_connect", "account": "acct_1032D82eZvKYlo2C"}}"#,
        )
        .unwrap();
        assert_eq!(stripe.method.kind(), MethodKind::StripeConnect);
        let manual: NewBeneficiary =
            serde_json::from_str(r#"{"name": "X", "method": {"kind": "manual"}}"#).unwrap();
        assert_eq!(manual.method, PayoutMethod::Manual);

        for bad in [
            r#"{"name": "X", "method": {"kind": "manual"}, "iban": "DE89370400440532013000"}"#,
            r#"{"name": "X", "method": {"kind": "manual", "iban": "DE89370400440532013000"}}"#,
            r#"{"name": "X", "method": {"kind": "sepa", "iban": "DE89370400440532013000", "swift": "x"}}"#,
            r#"{"name": "X", "method": {"kind": "paypal"}}"#,
            r#"{"name": "X", "method": {"kind": "stripe_connect", "account": "cus_123456"}}"#,
        ] {
            assert!(serde_json::from_str::<NewBeneficiary>(bad).is_err(), "{bad}");
        }
        let err = serde_json::from_str::<NewBeneficiary>(
            r#"{"name": "X", "method": {"kind": "sepa", "iban": "DE89370400440532013001"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("checksum") && !err.contains("0532013001"), "{err}");
    }

    #[test]
    fn lengths_are_limited() {
        assert!(Personal::new("Ales", "", PayoutMethod::Manual, "").is_ok());
        assert!(Personal::new("  ", "", PayoutMethod::Manual, "").is_err());
        assert!(Personal::new(&"я".repeat(NAME_LEN_MAX), "", PayoutMethod::Manual, "").is_ok());
        assert!(Personal::new(&"я".repeat(NAME_LEN_MAX + 1), "", PayoutMethod::Manual, "").is_err());
        assert!(Personal::new("A", &"c".repeat(CONTACT_LEN_MAX + 1), PayoutMethod::Manual, "").is_err());
        assert!(Personal::new("A", "", PayoutMethod::Manual, &"n".repeat(NOTE_LEN_MAX + 1)).is_err());
    }

    #[test]
    fn stripe_accounts() {
        let account = StripeAccount::parse(" acct_1032D82eZvKYlo2C ").unwrap();
        assert_eq!(account.as_str(), "acct_1032D82eZvKYlo2C");
        assert_eq!(account.masked(), "acct_****lo2C");
        assert_eq!(format!("{account:?}"), "StripeAccount(acct_****lo2C)");
        for bad in ["", "acct_", "acct_12", "acct_12-456", "cus_1032D82eZvKYlo2C", "acct_ 1234"] {
            assert!(StripeAccount::parse(bad).is_err(), "{bad}");
        }
        assert!(StripeAccount::parse(&format!("acct_{}", "a".repeat(60))).is_err());
    }

    #[test]
    fn debug_prints_nothing_personal() {
        let new = NewBeneficiary {
            name: "Ales Bialiatski".into(),
            contact: "+375 29 000 00 00".into(),
            method: sepa(),
            note: "released 2025".into(),
        };
        let update = BeneficiaryUpdate { name: Some("Ales Bialiatski".into()), ..Default::default() };
        let revealed = RevealedBeneficiary {
            id: BeneficiaryId(1),
            campaign_id: CampaignId::from_i64(2),
            name: "Ales Bialiatski".into(),
            contact: "+375 29 000 00 00".into(),
            method: sepa(),
            note: "released 2025".into(),
            payee_fingerprint: PayeeFingerprint([0; 32]),
        };
        for debug in [format!("{new:?}"), format!("{update:?}"), format!("{revealed:?}")] {
            for secret in ["Bialiatski", "375", "released", "0532013000", "COBADEFF"] {
                assert!(!debug.contains(secret), "{debug}");
            }
            assert!(!debug.contains("370400440532013000"), "{debug}");
        }
        assert!(format!("{new:?}").contains("**** 3000") && !format!("{new:?}").contains("DE89"));
        // the revealed form serializes in full: that is its purpose
        let json = serde_json::to_value(&revealed).unwrap();
        assert_eq!(json["method"]["iban"], "DE89370400440532013000");
        assert_eq!(json["method"]["bic"], "COBADEFFXXX");
        assert_eq!(json["method"]["kind"], "sepa");
        assert_eq!(json["name"], "Ales Bialiatski");
    }

    #[test]
    fn fingerprints_follow_the_destination_only() {
        let key = DataKey::generate();
        let record_key = Uuid::new_v4();
        let fp = |m: &PayoutMethod| indexes(&key, record_key, m).1;
        let with_bic = sepa();
        let without_bic =
            PayoutMethod::Sepa { iban: Iban::parse("DE89370400440532013000").unwrap(), bic: None };
        assert_ne!(fp(&with_bic), fp(&without_bic));
        assert_eq!(
            fp(&with_bic),
            indexes(&key, Uuid::new_v4(), &with_bic).1,
            "a SEPA destination is its account"
        );
        assert_ne!(fp(&PayoutMethod::Manual), indexes(&key, Uuid::new_v4(), &PayoutMethod::Manual).1);
        assert_eq!(payee_destination(&with_bic, record_key), "sepa:DE89370400440532013000:COBADEFFXXX");
        assert_eq!(payee_destination(&without_bic, record_key), "sepa:DE89370400440532013000:");
    }
}
