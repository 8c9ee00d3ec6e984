//! Payout destinations: the Stripe account and method checks, and the payee fingerprint.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zbor_vault::DataKey;

use super::STRIPE_ACCOUNT_LEN_MAX;
use crate::iban::{Bic, Iban};
use crate::Error;

/// Blind index domains (see [`DataKey::blind_index`]).
const IBAN_DOMAIN: &str = "iban";
const PAYEE_DOMAIN: &str = "payee";

/// A Stripe connected account id, `acct_` and letters or digits. Prints masked.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StripeAccount(String);

impl StripeAccount {
    pub fn parse(text: &str) -> Result<StripeAccount, Error> {
        let text = text.trim();
        let valid = text.len() <= STRIPE_ACCOUNT_LEN_MAX
            && text
                .strip_prefix("acct_")
                .is_some_and(|rest| rest.len() >= 4 && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
        if valid {
            Ok(StripeAccount(text.to_owned()))
        } else {
            Err(Error::invalid(
                "stripe_account",
                format!(
                    "must be a Stripe account id: acct_ and 4 to {} letters or digits",
                    STRIPE_ACCOUNT_LEN_MAX - 5
                ),
            ))
        }
    }

    /// The full id, for sealing and for paying. Never log it: log [`StripeAccount::masked`].
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `acct_****2C3D`: the last four characters only.
    pub fn masked(&self) -> String {
        format!("acct_****{}", &self.0[self.0.len() - 4..])
    }
}

impl fmt::Debug for StripeAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StripeAccount({})", self.masked())
    }
}

impl<'de> Deserialize<'de> for StripeAccount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StripeAccount, D::Error> {
        let text = String::deserialize(d)?;
        StripeAccount::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Where a beneficiary's money goes. In JSON: `{"kind": "sepa", "iban": "…", "bic": "…"}`,
/// `{"kind": "stripe_connect", "account": "acct_…"}` or `{"kind": "manual"}`. `Debug` is masked;
/// there is deliberately no `Serialize` (see [`RevealedBeneficiary`](super::RevealedBeneficiary)).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "MethodFields")]
pub enum PayoutMethod {
    /// A SEPA credit transfer to this account.
    Sepa { iban: Iban, bic: Option<Bic> },
    /// A transfer to the beneficiary's Stripe connected account.
    StripeConnect { account: StripeAccount },
    /// Paid by hand (cash, a trusted courier); zbor only records it.
    Manual,
}

/// A payout method as JSON has it, before the fields are matched with the kind: `sepa` takes an
/// `iban` and optionally a `bic`, `stripe_connect` an `account` (`acct_…`), `manual` neither.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = PayoutMethod)]
#[serde(deny_unknown_fields)]
pub(crate) struct MethodFields {
    kind: MethodKind,
    #[schema(value_type = Option<String>, example = "DE89370400440532013000")]
    iban: Option<Iban>,
    #[schema(value_type = Option<String>, example = "COBADEFFXXX")]
    bic: Option<Bic>,
    #[schema(value_type = Option<String>)]
    account: Option<StripeAccount>,
}

impl TryFrom<MethodFields> for PayoutMethod {
    type Error = &'static str;

    fn try_from(m: MethodFields) -> Result<PayoutMethod, &'static str> {
        match (m.kind, m.iban, m.bic, m.account) {
            (MethodKind::Sepa, Some(iban), bic, None) => Ok(PayoutMethod::Sepa { iban, bic }),
            (MethodKind::Sepa, ..) => Err("method sepa takes an iban and optionally a bic"),
            (MethodKind::StripeConnect, None, None, Some(account)) => {
                Ok(PayoutMethod::StripeConnect { account })
            }
            (MethodKind::StripeConnect, ..) => Err("method stripe_connect takes an account only"),
            (MethodKind::Manual, None, None, None) => Ok(PayoutMethod::Manual),
            (MethodKind::Manual, ..) => Err("method manual takes no account"),
        }
    }
}

impl PayoutMethod {
    pub fn kind(&self) -> MethodKind {
        match self {
            PayoutMethod::Sepa { .. } => MethodKind::Sepa,
            PayoutMethod::StripeConnect { .. } => MethodKind::StripeConnect,
            PayoutMethod::Manual => MethodKind::Manual,
        }
    }

    pub(super) fn masked(&self) -> Option<String> {
        match self {
            PayoutMethod::Sepa { iban, .. } => Some(iban.masked()),
            PayoutMethod::StripeConnect { account } => Some(account.masked()),
            PayoutMethod::Manual => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MethodKind {
    Sepa,
    StripeConnect,
    Manual,
}

impl MethodKind {
    pub const ALL: [MethodKind; 3] = [MethodKind::Sepa, MethodKind::StripeConnect, MethodKind::Manual];

    /// As stored in `beneficiaries.method`.
    pub fn as_str(self) -> &'static str {
        match self {
            MethodKind::Sepa => "sepa",
            MethodKind::StripeConnect => "stripe_connect",
            MethodKind::Manual => "manual",
        }
    }

    pub(super) fn from_column(value: &str) -> Option<MethodKind> {
        match value {
            "sepa" => Some(MethodKind::Sepa),
            "stripe_connect" => Some(MethodKind::StripeConnect),
            "manual" => Some(MethodKind::Manual),
            _ => None,
        }
    }
}

/// `beneficiaries.method` is text (checked against the three names by the database); read and
/// written as this enum, so no code compares method names.
impl sqlx::Type<sqlx::Postgres> for MethodKind {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <&str as sqlx::Type<sqlx::Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for MethodKind {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&str as sqlx::Encode<sqlx::Postgres>>::encode_by_ref(&self.as_str(), buf)
    }
}

impl sqlx::Decode<'_, sqlx::Postgres> for MethodKind {
    fn decode(value: sqlx::postgres::PgValueRef<'_>) -> Result<MethodKind, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
        MethodKind::from_column(text).ok_or_else(|| format!("unknown payout method {text:?}").into())
    }
}

/// A keyed fingerprint of a payout destination: HMAC-SHA256 (zbor-vault's blind index, domain
/// `payee`) of `sepa:{IBAN}:{BIC or empty}`, `stripe:{acct_…}` or `manual:{record_key}`. Equal
/// destinations have equal fingerprints; any change of IBAN, BIC, account or method changes it,
/// while a change of name, contact or note does not. Approvals of payout batches sign it.
/// Without `ZBOR_DATA_KEY` it reveals nothing, so it may be shown and logged. JSON: hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PayeeFingerprint(pub(super) [u8; 32]);

impl PayeeFingerprint {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub(super) fn from_column(bytes: &[u8]) -> Option<PayeeFingerprint> {
        bytes.try_into().ok().map(PayeeFingerprint)
    }
}

impl fmt::Display for PayeeFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PayeeFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PayeeFingerprint({})", self.to_hex())
    }
}

impl Serialize for PayeeFingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

/// The canonical payout destination that [`PayeeFingerprint`] hashes: each rail says what of
/// its destinations counts ([`crate::rails::Rail::payee_destination`]).
pub(crate) fn payee_destination(method: &PayoutMethod, record_key: Uuid) -> String {
    crate::rails::of(method.kind())
        .payee_destination(method, record_key)
        .unwrap_or_else(|| unreachable!("BUG: a rail does not fingerprint its own method"))
}

pub(super) fn indexes(
    key: &DataKey,
    record_key: Uuid,
    method: &PayoutMethod,
) -> (Option<[u8; 32]>, [u8; 32]) {
    let iban_index = match method {
        PayoutMethod::Sepa { iban, .. } => Some(key.blind_index(IBAN_DOMAIN, iban.as_str())),
        _ => None,
    };
    (iban_index, key.blind_index(PAYEE_DOMAIN, &payee_destination(method, record_key)))
}
