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

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;
use zbor_vault::DataKey;

use crate::iban::{Bic, Iban};
use crate::Error;

pub const NAME_LEN_MAX: usize = 200;
pub const CONTACT_LEN_MAX: usize = 500;
pub const NOTE_LEN_MAX: usize = 2_000;
/// Stripe's ids are `acct_` and 16 characters today; room for growth, not for abuse.
pub const STRIPE_ACCOUNT_LEN_MAX: usize = 64;

/// Blind index domains (see [`DataKey::blind_index`]).
const IBAN_DOMAIN: &str = "iban";
const PAYEE_DOMAIN: &str = "payee";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, sqlx::Type)]
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
/// there is deliberately no `Serialize` (see [`RevealedBeneficiary`]).
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

/// A payout method as JSON has it, before the fields are matched with the kind.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MethodFields {
    kind: MethodKind,
    iban: Option<Iban>,
    bic: Option<Bic>,
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

    fn masked(&self) -> Option<String> {
        match self {
            PayoutMethod::Sepa { iban, .. } => Some(iban.masked()),
            PayoutMethod::StripeConnect { account } => Some(account.masked()),
            PayoutMethod::Manual => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodKind {
    Sepa,
    StripeConnect,
    Manual,
}

impl MethodKind {
    /// As stored in `beneficiaries.method`.
    pub fn as_str(self) -> &'static str {
        match self {
            MethodKind::Sepa => "sepa",
            MethodKind::StripeConnect => "stripe_connect",
            MethodKind::Manual => "manual",
        }
    }

    fn from_column(value: &str) -> Option<MethodKind> {
        match value {
            "sepa" => Some(MethodKind::Sepa),
            "stripe_connect" => Some(MethodKind::StripeConnect),
            "manual" => Some(MethodKind::Manual),
            _ => None,
        }
    }
}

/// A keyed fingerprint of a payout destination: HMAC-SHA256 (zbor-vault's blind index, domain
/// `payee`) of `sepa:{IBAN}:{BIC or empty}`, `stripe:{acct_…}` or `manual:{record_key}`. Equal
/// destinations have equal fingerprints; any change of IBAN, BIC, account or method changes it,
/// while a change of name, contact or note does not. Approvals of payout batches sign it.
/// Without `ZBOR_DATA_KEY` it reveals nothing, so it may be shown and logged. JSON: hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PayeeFingerprint([u8; 32]);

impl PayeeFingerprint {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn from_column(bytes: &[u8]) -> Option<PayeeFingerprint> {
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

/// A beneficiary to create, as it arrives (JSON or a CSV row). Checked by [`create`]: a name of
/// 1 to 200 characters, a contact of at most 500 and a note of at most 2,000. `Debug` shows
/// only the masked payout method.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBeneficiary {
    pub name: String,
    /// How coordinators reach the beneficiary or their family (phone, Signal, e-mail); optional.
    #[serde(default)]
    pub contact: String,
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
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeneficiaryUpdate {
    pub name: Option<String>,
    pub contact: Option<String>,
    pub method: Option<PayoutMethod>,
    pub note: Option<String>,
}

impl fmt::Debug for BeneficiaryUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BeneficiaryUpdate").field("method", &self.method).finish_non_exhaustive()
    }
}

/// A beneficiary as zbor shows it without revealing anything: no name, contact, note or full
/// account, only the method and the masked account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Beneficiary {
    pub id: BeneficiaryId,
    pub campaign_id: i64,
    pub method: MethodKind,
    /// `**** 3000` or `acct_****2C3D`; none for manual payouts.
    pub masked: Option<String>,
    /// Other beneficiaries (in any campaign) with the same IBAN: flagged for the treasurers, not
    /// refused, since a family may share one account.
    pub duplicate_of: Vec<BeneficiaryId>,
    pub payee_fingerprint: PayeeFingerprint,
    /// Who set the current destination (none: the host's command line).
    pub destination_set_by: Option<i64>,
    pub destination_set_at: DateTime<Utc>,
    /// The second treasurer who confirmed this destination; none: not confirmed yet, so not
    /// payable (a batch with this beneficiary is refused).
    pub destination_confirmed_by: Option<i64>,
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
#[derive(Clone, Serialize)]
pub struct RevealedBeneficiary {
    pub id: BeneficiaryId,
    pub campaign_id: i64,
    pub name: String,
    pub contact: String,
    #[serde(serialize_with = "serialize_revealed_method")]
    pub method: PayoutMethod,
    pub note: String,
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

/// The personal data, checked. Private: it leaves this crate only as a [`RevealedBeneficiary`].
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Personal {
    name: String,
    contact: String,
    method: PayoutMethod,
    note: String,
}

impl Personal {
    pub(crate) fn new(
        name: &str,
        contact: &str,
        method: PayoutMethod,
        note: &str,
    ) -> Result<Personal, Error> {
        Ok(Personal {
            name: name_field(name)?,
            contact: contact_field(contact)?,
            method,
            note: note_field(note)?,
        })
    }

    fn merged(mut self, change: &BeneficiaryUpdate) -> Result<Personal, Error> {
        if let Some(name) = &change.name {
            self.name = name_field(name)?;
        }
        if let Some(contact) = &change.contact {
            self.contact = contact_field(contact)?;
        }
        if let Some(method) = &change.method {
            self.method = method.clone();
        }
        if let Some(note) = &change.note {
            self.note = note_field(note)?;
        }
        Ok(self)
    }
}

pub(crate) fn name_field(value: &str) -> Result<String, Error> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > NAME_LEN_MAX {
        return Err(Error::invalid("name", format!("required, at most {NAME_LEN_MAX} characters")));
    }
    Ok(value.to_owned())
}

pub(crate) fn contact_field(value: &str) -> Result<String, Error> {
    let value = value.trim();
    if value.chars().count() > CONTACT_LEN_MAX {
        return Err(Error::invalid("contact", format!("at most {CONTACT_LEN_MAX} characters")));
    }
    Ok(value.to_owned())
}

pub(crate) fn note_field(value: &str) -> Result<String, Error> {
    let value = value.trim();
    if value.chars().count() > NOTE_LEN_MAX {
        return Err(Error::invalid("note", format!("at most {NOTE_LEN_MAX} characters")));
    }
    Ok(value.to_owned())
}

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

/// The canonical payout destination that [`PayeeFingerprint`] hashes.
fn payee_destination(method: &PayoutMethod, record_key: Uuid) -> String {
    match method {
        PayoutMethod::Sepa { iban, bic } => {
            format!("sepa:{}:{}", iban.as_str(), bic.as_ref().map_or("", |b| b.as_str()))
        }
        PayoutMethod::StripeConnect { account } => format!("stripe:{}", account.as_str()),
        PayoutMethod::Manual => format!("manual:{record_key}"),
    }
}

/// The columns derived from the personal data.
struct Derived {
    sealed: Vec<u8>,
    iban_index: Option<[u8; 32]>,
    masked: Option<String>,
    payee_fingerprint: [u8; 32],
}

fn derive(key: &DataKey, record_key: Uuid, p: &Personal) -> Result<Derived, Error> {
    let json = serde_json::to_vec(&SealedData::of(p)).map_err(|_| zbor_vault::Error::CannotSeal)?;
    let (iban_index, payee_fingerprint) = indexes(key, record_key, &p.method);
    Ok(Derived {
        sealed: key.seal(&json, &record(record_key))?,
        iban_index,
        masked: p.method.masked(),
        payee_fingerprint,
    })
}

fn indexes(key: &DataKey, record_key: Uuid, method: &PayoutMethod) -> (Option<[u8; 32]>, [u8; 32]) {
    let iban_index = match method {
        PayoutMethod::Sepa { iban, .. } => Some(key.blind_index(IBAN_DOMAIN, iban.as_str())),
        _ => None,
    };
    (iban_index, key.blind_index(PAYEE_DOMAIN, &payee_destination(method, record_key)))
}

/// Everything needed to open a row, read `for update` by [`update`].
#[derive(sqlx::FromRow)]
struct SealedRow {
    id: BeneficiaryId,
    campaign_id: i64,
    method: String,
    record_key: Uuid,
    sealed: Vec<u8>,
    iban_index: Option<Vec<u8>>,
    payee_fingerprint: Vec<u8>,
}

/// The key ring pinned at the version that sealed `row`: its indexes were computed under that
/// version, so they are checked (and, until a rotation reaches the row, kept) under it.
fn row_key(key: &DataKey, row: &SealedRow) -> Result<DataKey, Error> {
    key.at_version_of(&row.sealed).map_err(|_| Error::CannotDecrypt(row.id))
}

/// Decrypts a row and checks that what it holds agrees with the row's method, IBAN index and
/// payee fingerprint, so sealed data moved between rows, or indexes edited, are noticed.
fn open(key: &DataKey, row: &SealedRow) -> Result<Personal, Error> {
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

#[derive(sqlx::FromRow)]
struct ViewRow {
    id: BeneficiaryId,
    campaign_id: i64,
    method: String,
    masked: Option<String>,
    duplicate_of: Vec<i64>,
    payee_fingerprint: Vec<u8>,
    destination_set_by: Option<i64>,
    destination_set_at: DateTime<Utc>,
    destination_confirmed_by: Option<i64>,
    destination_confirmed_at: Option<DateTime<Utc>>,
    changed_since_last_payout: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl ViewRow {
    fn into_beneficiary(self) -> Result<Beneficiary, Error> {
        let inconsistent = Error::Inconsistent(self.id);
        Ok(Beneficiary {
            id: self.id,
            campaign_id: self.campaign_id,
            method: MethodKind::from_column(&self.method).ok_or(inconsistent)?,
            masked: self.masked,
            duplicate_of: self.duplicate_of.into_iter().map(BeneficiaryId).collect(),
            payee_fingerprint: PayeeFingerprint::from_column(&self.payee_fingerprint)
                .ok_or(Error::Inconsistent(self.id))?,
            destination_set_by: self.destination_set_by,
            destination_set_at: self.destination_set_at,
            destination_confirmed_by: self.destination_confirmed_by,
            destination_confirmed_at: self.destination_confirmed_at,
            changed_since_last_payout: self.changed_since_last_payout,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// For `beneficiaries b`: whether its destination differs from the one its latest paid payout's
/// approvals signed (false when never paid). What approvers are warned of, here and in batches.
pub(crate) const CHANGED_SINCE_LAST_PAYOUT: &str =
    "coalesce((select last.payee_fingerprint <> b.payee_fingerprint from payouts last
               where last.beneficiary_id = b.id and last.status = 'paid'
               order by last.paid_at desc nulls last, last.id desc limit 1), false)";

/// The public view's columns, for `beneficiaries b`: duplicates are found through the IBAN index.
fn view_columns() -> String {
    format!(
        "b.id, b.campaign_id, b.method, b.masked, b.payee_fingerprint, b.created_at, b.updated_at,
         b.destination_set_by, b.destination_set_at, b.destination_confirmed_by, b.destination_confirmed_at,
         {CHANGED_SINCE_LAST_PAYOUT} as changed_since_last_payout, {DUPLICATE_OF}"
    )
}

/// Other beneficiaries with the same IBAN (by its blind index).
const DUPLICATE_OF: &str = "array(select o.id from beneficiaries o
           where o.iban_index = b.iban_index and o.id <> b.id order by o.id) as duplicate_of";

pub(crate) async fn ensure_campaign(db: &mut PgConnection, campaign_id: i64) -> Result<(), Error> {
    let exists: bool = sqlx::query_scalar("select exists (select 1 from campaigns where id = $1)")
        .bind(campaign_id)
        .fetch_one(&mut *db)
        .await?;
    if exists {
        Ok(())
    } else {
        Err(Error::CampaignNotFound(campaign_id))
    }
}

/// Inserts a checked beneficiary (its campaign known to exist) with a fresh record key.
/// `set_by` is the treasurer adding it (none: the host's command line); a second treasurer must
/// confirm its destination before it is paid.
pub(crate) async fn insert(
    db: &mut PgConnection,
    key: &DataKey,
    campaign_id: i64,
    personal: &Personal,
    set_by: Option<i64>,
) -> Result<BeneficiaryId, Error> {
    let record_key = Uuid::new_v4();
    let derived = derive(key, record_key, personal)?;
    let id: BeneficiaryId = sqlx::query_scalar(
        "insert into beneficiaries (campaign_id, method, record_key, sealed, iban_index, masked, payee_fingerprint,
                                    destination_set_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         returning id",
    )
    .bind(campaign_id)
    .bind(personal.method.kind().as_str())
    .bind(record_key)
    .bind(&derived.sealed)
    .bind(derived.iban_index.as_ref().map(|i| i.as_slice()))
    .bind(&derived.masked)
    .bind(derived.payee_fingerprint.as_slice())
    .bind(set_by)
    .fetch_one(&mut *db)
    .await?;
    Ok(id)
}

async fn fetch(db: &mut PgConnection, id: BeneficiaryId) -> Result<Beneficiary, Error> {
    let row: Option<ViewRow> =
        sqlx::query_as(&format!("select {} from beneficiaries b where b.id = $1", view_columns()))
            .bind(id)
            .fetch_optional(&mut *db)
            .await?;
    row.ok_or(Error::BeneficiaryNotFound(id))?.into_beneficiary()
}

/// Creates a beneficiary of `campaign_id`, its personal data sealed. The same IBAN on another
/// beneficiary is not refused: it is listed in `duplicate_of`. Its destination is unconfirmed
/// until a treasurer other than `set_by` confirms it ([`confirm_in`]).
pub async fn create_in(
    db: &mut PgConnection,
    key: &DataKey,
    campaign_id: i64,
    new: &NewBeneficiary,
    set_by: Option<i64>,
) -> Result<Beneficiary, Error> {
    let personal = Personal::new(&new.name, &new.contact, new.method.clone(), &new.note)?;
    ensure_campaign(&mut *db, campaign_id).await?;
    let id = insert(&mut *db, key, campaign_id, &personal, set_by).await?;
    let beneficiary = fetch(&mut *db, id).await?;
    tracing::info!(beneficiary = %id, campaign = campaign_id, method = beneficiary.method.as_str(),
                   duplicates = beneficiary.duplicate_of.len(), "beneficiary created");
    Ok(beneficiary)
}

/// [`create_in`] in a transaction of its own, on the host's behalf (no treasurer set it).
pub async fn create(
    pool: &PgPool,
    key: &DataKey,
    campaign_id: i64,
    new: &NewBeneficiary,
) -> Result<Beneficiary, Error> {
    let mut db = pool.begin().await?;
    let beneficiary = create_in(&mut db, key, campaign_id, new, None).await?;
    db.commit().await?;
    Ok(beneficiary)
}

/// Payouts of a beneficiary on their way (approved, sending, sent at the bank, or failed and
/// waiting for a treasurer): while there are any, its destination cannot change.
async fn payouts_on_their_way(db: &mut PgConnection, id: BeneficiaryId) -> Result<Vec<i64>, Error> {
    Ok(sqlx::query_scalar(
        "select id from payouts where beneficiary_id = $1
           and status in ('approved', 'sending', 'sent', 'failed') order by id",
    )
    .bind(id)
    .fetch_all(&mut *db)
    .await?)
}

/// Changes a beneficiary: decrypts the current data inside the application (nothing of it is
/// returned), applies the change, and re-seals it with fresh indexes and fingerprint. Tells
/// whether the payout destination changed (IBAN, BIC, Stripe account or method). A changed
/// destination is refused while payouts are on their way to the old one
/// ([`Error::DestinationLocked`]); otherwise it is unconfirmed again until a treasurer other than
/// `by` confirms it, and approvals that signed the old fingerprint no longer hold.
pub async fn update_in(
    db: &mut PgConnection,
    key: &DataKey,
    id: BeneficiaryId,
    change: &BeneficiaryUpdate,
    by: Option<i64>,
) -> Result<Updated, Error> {
    let row: Option<SealedRow> = sqlx::query_as(
        "select id, campaign_id, method, record_key, sealed, iban_index, payee_fingerprint
         from beneficiaries where id = $1 for update",
    )
    .bind(id)
    .fetch_optional(&mut *db)
    .await?;
    let row = row.ok_or(Error::BeneficiaryNotFound(id))?;
    let next = open(key, &row)?.merged(change)?;
    // under the row's own key version, so "did the destination change" compares like with like;
    // `zbor vault rotate` moves the row to the current key
    let derived = derive(&row_key(key, &row)?, row.record_key, &next)?;
    let payee_changed = derived.payee_fingerprint.as_slice() != row.payee_fingerprint.as_slice();
    if payee_changed {
        let payouts = payouts_on_their_way(&mut *db, id).await?;
        if !payouts.is_empty() {
            return Err(Error::DestinationLocked { beneficiary: id, payouts });
        }
    }
    // the trigger beneficiaries_destination_guard clears the confirmation of a new destination
    sqlx::query(
        "update beneficiaries
         set method = $2, sealed = $3, iban_index = $4, masked = $5, payee_fingerprint = $6, updated_at = now(),
             destination_set_by = case when $7 then $8 else destination_set_by end
         where id = $1",
    )
    .bind(id)
    .bind(next.method.kind().as_str())
    .bind(&derived.sealed)
    .bind(derived.iban_index.as_ref().map(|i| i.as_slice()))
    .bind(&derived.masked)
    .bind(derived.payee_fingerprint.as_slice())
    .bind(payee_changed)
    .bind(by)
    .execute(&mut *db)
    .await
    .map_err(|e| locked_by_the_database(e, id))?;
    let beneficiary = fetch(&mut *db, id).await?;
    tracing::info!(beneficiary = %id, campaign = row.campaign_id, payee_changed, "beneficiary updated");
    Ok(Updated { beneficiary, payee_changed })
}

/// A payout approved between our check and the update: the database's guard says so.
fn locked_by_the_database(e: sqlx::Error, id: BeneficiaryId) -> Error {
    let locked = e.as_database_error().and_then(|d| d.constraint()) == Some("beneficiary_destination_locked");
    if locked {
        Error::DestinationLocked { beneficiary: id, payouts: Vec::new() }
    } else {
        e.into()
    }
}

/// [`update_in`] in a transaction of its own, on the host's behalf (no treasurer set it).
pub async fn update(
    pool: &PgPool,
    key: &DataKey,
    id: BeneficiaryId,
    change: &BeneficiaryUpdate,
) -> Result<Updated, Error> {
    let mut db = pool.begin().await?;
    let updated = update_in(&mut db, key, id, change, None).await?;
    db.commit().await?;
    Ok(updated)
}

/// One destination a treasurer confirms: the beneficiary and the fingerprint they were shown.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    pub beneficiary: i64,
    /// `payee_fingerprint` as listed: a destination changed since is not confirmed.
    pub payee_fingerprint: String,
}

/// Most destinations confirmed in one call (a whole release's import fits).
pub const CONFIRMATIONS_MAX: usize = 5_000;

/// `confirmer` confirms each beneficiary's current destination: the second pair of eyes on a
/// new or changed payee. All or nothing: refused when the confirmer set a destination themself
/// ([`Error::SamePerson`]), or when a destination is no longer the fingerprint they were shown.
/// Destinations already confirmed stay as they are. Returns the beneficiaries confirmed now.
pub async fn confirm_in(
    db: &mut PgConnection,
    confirmations: &[Confirmation],
    confirmer: i64,
) -> Result<Vec<BeneficiaryId>, Error> {
    if confirmations.is_empty() || confirmations.len() > CONFIRMATIONS_MAX {
        return Err(Error::invalid("beneficiaries", format!("1 to {CONFIRMATIONS_MAX} confirmations")));
    }
    let mut confirmed = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in confirmations {
        let id = BeneficiaryId(c.beneficiary);
        if !seen.insert(id) {
            return Err(Error::invalid("beneficiaries", format!("beneficiary {id} appears twice")));
        }
        let row: Option<(Vec<u8>, Option<i64>, Option<i64>)> = sqlx::query_as(
            "select payee_fingerprint, destination_set_by, destination_confirmed_by
             from beneficiaries where id = $1 for update",
        )
        .bind(id)
        .fetch_optional(&mut *db)
        .await?;
        let (fingerprint, set_by, confirmed_by) = row.ok_or(Error::BeneficiaryNotFound(id))?;
        if !hex::decode(c.payee_fingerprint.trim()).is_ok_and(|shown| shown == fingerprint) {
            return Err(Error::WrongState(format!(
                "beneficiary {id}: its destination changed since you looked; review it again"
            )));
        }
        if set_by == Some(confirmer) {
            return Err(Error::SamePerson(format!(
                "beneficiary {id}: you set this destination; another treasurer must confirm it"
            )));
        }
        if confirmed_by.is_some() {
            continue;
        }
        sqlx::query(
            "update beneficiaries set destination_confirmed_by = $2, destination_confirmed_at = now() where id = $1",
        )
        .bind(id)
        .bind(confirmer)
        .execute(&mut *db)
        .await?;
        confirmed.push(id);
    }
    tracing::info!(confirmer, confirmed = confirmed.len(), "beneficiary destinations confirmed");
    Ok(confirmed)
}

/// [`confirm_in`] in a transaction of its own.
pub async fn confirm(
    pool: &PgPool,
    confirmations: &[Confirmation],
    confirmer: i64,
) -> Result<Vec<BeneficiaryId>, Error> {
    let mut db = pool.begin().await?;
    let confirmed = confirm_in(&mut db, confirmations, confirmer).await?;
    db.commit().await?;
    Ok(confirmed)
}

/// What a treasurer confirms of `beneficiary`: its destination as it is now.
impl From<&Beneficiary> for Confirmation {
    fn from(beneficiary: &Beneficiary) -> Confirmation {
        Confirmation {
            beneficiary: beneficiary.id.as_i64(),
            payee_fingerprint: beneficiary.payee_fingerprint.to_hex(),
        }
    }
}

/// The destination a rail may pay for `payout`: its beneficiary's sealed data, decrypted, with
/// the payee fingerprint recomputed from it and compared with the fingerprint the approvals
/// signed. **Every rail goes through here** (the Stripe worker before its transfer, the SEPA file
/// when it is made and downloaded, a manual payout when it is marked paid): a destination
/// changed after approval, or a row whose sealed data and fingerprint disagree, gives
/// [`Error::DestinationNotApproved`] and nothing is paid. Call it in the transaction that moves
/// the payout towards its rail, after locking the payout.
pub async fn approved_destination(
    db: &mut PgConnection,
    key: &DataKey,
    payout: i64,
) -> Result<RevealedBeneficiary, Error> {
    #[derive(sqlx::FromRow)]
    struct Approved {
        approved_fingerprint: Vec<u8>,
        #[sqlx(flatten)]
        row: SealedRow,
    }
    let found: Option<Approved> = sqlx::query_as(
        "select p.payee_fingerprint as approved_fingerprint, b.id, b.campaign_id, b.method, b.record_key,
                b.sealed, b.iban_index, b.payee_fingerprint
         from payouts p join beneficiaries b on b.id = p.beneficiary_id where p.id = $1",
    )
    .bind(payout)
    .fetch_optional(&mut *db)
    .await?;
    let Approved { approved_fingerprint, row } = found.ok_or(Error::PayoutNotFound(payout))?;
    let personal = match open(key, &row) {
        Ok(personal) => personal,
        Err(Error::Inconsistent(_)) => return Err(Error::DestinationNotApproved(payout)),
        Err(e) => return Err(e),
    };
    // recomputed from what would be paid, not read from the row, under the key version the
    // approvals' fingerprint was made with (a rotation moves the row and its payouts together)
    let (_, paying) = indexes(&row_key(key, &row)?, row.record_key, &personal.method);
    if paying.as_slice() != approved_fingerprint.as_slice() {
        tracing::warn!(payout, beneficiary = %row.id, "destination differs from the approved one; not paid");
        return Err(Error::DestinationNotApproved(payout));
    }
    Ok(RevealedBeneficiary {
        id: row.id,
        campaign_id: row.campaign_id,
        name: personal.name,
        contact: personal.contact,
        method: personal.method,
        note: personal.note,
        payee_fingerprint: PayeeFingerprint(paying),
    })
}

/// The beneficiaries of a campaign, oldest first, without personal data.
pub async fn list(pool: &PgPool, campaign_id: i64) -> Result<Vec<Beneficiary>, Error> {
    let rows: Vec<ViewRow> = sqlx::query_as(&format!(
        "select {} from beneficiaries b where b.campaign_id = $1 order by b.id",
        view_columns()
    ))
    .bind(campaign_id)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(ViewRow::into_beneficiary).collect()
}

/// Beneficiaries of every campaign whose destination awaits a second treasurer, oldest change
/// first, at most `limit` (capped at 5,000): what the console asks treasurers to confirm.
pub async fn unconfirmed(pool: &PgPool, limit: i64) -> Result<Vec<Beneficiary>, Error> {
    let rows: Vec<ViewRow> = sqlx::query_as(&format!(
        "select {} from beneficiaries b
         where b.destination_confirmed_at is null order by b.destination_set_at, b.id limit $1",
        view_columns()
    ))
    .bind(limit.clamp(1, i64::try_from(CONFIRMATIONS_MAX).unwrap_or(i64::MAX)))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(ViewRow::into_beneficiary).collect()
}

/// One beneficiary, without personal data.
pub async fn get(pool: &PgPool, id: BeneficiaryId) -> Result<Beneficiary, Error> {
    let mut db = pool.acquire().await?;
    fetch(&mut db, id).await
}

/// Decrypts a beneficiary's personal data.
///
/// **Every call must be audited by the caller** (zbor-audit, action `beneficiary.reveal`, with
/// who asked and the beneficiary's id, never the revealed values), in the same request and
/// before the data is shown: this is the only way personal data leaves zbor. Fails with
/// [`Error::CannotDecrypt`] under another `ZBOR_DATA_KEY`, and with [`Error::Inconsistent`]
/// when the sealed data does not match the row's indexes and fingerprint.
pub async fn reveal(pool: &PgPool, key: &DataKey, id: BeneficiaryId) -> Result<RevealedBeneficiary, Error> {
    let row: Option<SealedRow> = sqlx::query_as(
        "select id, campaign_id, method, record_key, sealed, iban_index, payee_fingerprint
         from beneficiaries where id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let row = row.ok_or(Error::BeneficiaryNotFound(id))?;
    let personal = open(key, &row)?;
    let payee_fingerprint =
        PayeeFingerprint::from_column(&row.payee_fingerprint).ok_or(Error::Inconsistent(id))?;
    Ok(RevealedBeneficiary {
        id,
        campaign_id: row.campaign_id,
        name: personal.name,
        contact: personal.contact,
        method: personal.method,
        note: personal.note,
        payee_fingerprint,
    })
}

/// Groups of beneficiaries sharing one IBAN (by its blind index), across all campaigns; with
/// `campaign_id`, only the groups that include a beneficiary of that campaign (with all their
/// members, wherever they are). Groups are ordered by their first beneficiary.
pub async fn duplicates(pool: &PgPool, campaign_id: Option<i64>) -> Result<Vec<DuplicateGroup>, Error> {
    #[derive(sqlx::FromRow)]
    struct GroupedRow {
        iban_index: Vec<u8>,
        #[sqlx(flatten)]
        view: ViewRow,
    }
    let rows: Vec<GroupedRow> = sqlx::query_as(&format!(
        "with shared as (
             select iban_index from beneficiaries
             where iban_index is not null
             group by iban_index
             having count(*) > 1 and ($1::bigint is null or bool_or(campaign_id = $1))
         )
         select b.iban_index, {}
         from beneficiaries b join shared s on s.iban_index = b.iban_index
         order by b.iban_index, b.id",
        view_columns()
    ))
    .bind(campaign_id)
    .fetch_all(pool)
    .await?;
    let mut groups: Vec<(Vec<u8>, DuplicateGroup)> = Vec::new();
    for row in rows {
        let beneficiary = row.view.into_beneficiary()?;
        match groups.last_mut() {
            Some((index, group)) if *index == row.iban_index => group.beneficiaries.push(beneficiary),
            _ => {
                let masked_iban = beneficiary.masked.clone().unwrap_or_default();
                groups
                    .push((row.iban_index, DuplicateGroup { masked_iban, beneficiaries: vec![beneficiary] }));
            }
        }
    }
    let mut groups: Vec<DuplicateGroup> = groups.into_iter().map(|(_, g)| g).collect();
    groups.sort_by_key(|g| g.beneficiaries.first().map(|b| b.id));
    Ok(groups)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

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
            campaign_id: 2,
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
