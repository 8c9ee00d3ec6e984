//! Sealing personal data under the vault key, and opening it again with its indexes checked.

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zbor_vault::DataKey;

use super::destination::indexes;
use super::{BeneficiaryId, MethodKind, PayoutMethod, Personal, StripeAccount};
use crate::iban::{Bic, Iban};
use crate::Error;
use zbor_campaigns::CampaignId;

/// What is sealed, as JSON: `{"name", "contact", "iban", "bic", "account", "note"}`, the
/// account fields null where the method has none.
#[derive(Serialize, Deserialize)]
struct SealedData {
    name: String,
    contact: String,
    iban: Option<String>,
    bic: Option<String>,
    account: Option<String>,
    note: String,
}

impl SealedData {
    fn of(p: &Personal) -> SealedData {
        let (iban, bic, account) = match &p.method {
            PayoutMethod::Sepa { iban, bic } => {
                (Some(iban.as_str().to_owned()), bic.as_ref().map(|b| b.as_str().to_owned()), None)
            }
            PayoutMethod::StripeConnect { account } => (None, None, Some(account.as_str().to_owned())),
            PayoutMethod::Manual => (None, None, None),
        };
        SealedData {
            name: p.name.clone(),
            contact: p.contact.clone(),
            iban,
            bic,
            account,
            note: p.note.clone(),
        }
    }

    fn into_personal(self) -> Option<Personal> {
        let method = match (self.iban, self.bic, self.account) {
            (Some(iban), bic, None) => PayoutMethod::Sepa {
                iban: Iban::parse(&iban).ok()?,
                bic: bic.map(|b| Bic::parse(&b)).transpose().ok()?,
            },
            (None, None, Some(account)) => {
                PayoutMethod::StripeConnect { account: StripeAccount::parse(&account).ok()? }
            }
            (None, None, None) => PayoutMethod::Manual,
            _ => return None,
        };
        Some(Personal { name: self.name, contact: self.contact, method, note: self.note })
    }
}

/// What a beneficiary's sealed value is bound to: it opens only on its own row.
fn record(record_key: Uuid) -> String {
    format!("beneficiary:{record_key}")
}

/// The columns derived from the personal data.
pub(super) struct Derived {
    pub(super) sealed: Vec<u8>,
    pub(super) iban_index: Option<[u8; 32]>,
    pub(super) masked: Option<String>,
    pub(super) payee_fingerprint: [u8; 32],
}

pub(super) fn derive(key: &DataKey, record_key: Uuid, p: &Personal) -> Result<Derived, Error> {
    let json = serde_json::to_vec(&SealedData::of(p)).map_err(|_| zbor_vault::Error::CannotSeal)?;
    let (iban_index, payee_fingerprint) = indexes(key, record_key, &p.method);
    Ok(Derived {
        sealed: key.seal(&json, &record(record_key))?,
        iban_index,
        masked: p.method.masked(),
        payee_fingerprint,
    })
}

/// Everything needed to open a row, read `for update` by [`update`](super::update).
#[derive(sqlx::FromRow)]
pub(super) struct SealedRow {
    pub(super) id: BeneficiaryId,
    pub(super) campaign_id: CampaignId,
    pub(super) method: String,
    pub(super) record_key: Uuid,
    pub(super) sealed: Vec<u8>,
    pub(super) iban_index: Option<Vec<u8>>,
    pub(super) payee_fingerprint: Vec<u8>,
}

/// The key ring pinned at the version that sealed `row`: its indexes were computed under that
/// version, so they are checked (and, until a rotation reaches the row, kept) under it.
pub(super) fn row_key(key: &DataKey, row: &SealedRow) -> Result<DataKey, Error> {
    key.at_version_of(&row.sealed).map_err(|_| Error::CannotDecrypt(row.id))
}

/// Decrypts a row and checks that what it holds agrees with the row's method, IBAN index and
/// payee fingerprint, so sealed data moved between rows, or indexes edited, are noticed.
pub(super) fn open(key: &DataKey, row: &SealedRow) -> Result<Personal, Error> {
    let plain = key.open(&row.sealed, &record(row.record_key)).map_err(|_| Error::CannotDecrypt(row.id))?;
    let personal = serde_json::from_slice::<SealedData>(&plain)
        .ok()
        .and_then(SealedData::into_personal)
        .ok_or(Error::Inconsistent(row.id))?;
    let (iban_index, fingerprint) = indexes(&row_key(key, row)?, row.record_key, &personal.method);
    let consistent = MethodKind::from_column(&row.method) == Some(personal.method.kind())
        && iban_index.as_ref().map(|i| i.as_slice()) == row.iban_index.as_deref()
        && fingerprint.as_slice() == row.payee_fingerprint.as_slice();
    if !consistent {
        return Err(Error::Inconsistent(row.id));
    }
    Ok(personal)
}
