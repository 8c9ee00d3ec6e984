//! The SQL: beneficiaries created, changed, confirmed, listed, revealed, and paid only as approved.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;
use zbor_audit::{Actor, UserId};
use zbor_campaigns::CampaignId;
use zbor_vault::DataKey;

use super::destination::indexes;
use super::sealed::{derive, open, row_key, SealedRow};
use super::{
    Beneficiary, BeneficiaryId, BeneficiaryUpdate, Confirmation, DuplicateGroup, MethodKind, NewBeneficiary,
    PayeeFingerprint, Personal, RevealedBeneficiary, Updated, CONFIRMATIONS_MAX,
};
use crate::{Error, PayoutId};

#[derive(sqlx::FromRow)]
struct ViewRow {
    id: BeneficiaryId,
    campaign_id: CampaignId,
    method: String,
    masked: Option<String>,
    duplicate_of: Vec<i64>,
    payee_fingerprint: Vec<u8>,
    destination_set_by: Option<UserId>,
    destination_set_at: DateTime<Utc>,
    destination_confirmed_by: Option<UserId>,
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

pub(crate) async fn ensure_campaign(db: &mut PgConnection, campaign_id: CampaignId) -> Result<(), Error> {
    match zbor_campaigns::by_id(db, campaign_id).await? {
        Some(_) => Ok(()),
        None => Err(Error::CampaignNotFound(campaign_id)),
    }
}

/// Inserts a checked beneficiary (its campaign known to exist) with a fresh record key.
/// `set_by` is the treasurer adding it (none: the host's command line); a second treasurer must
/// confirm its destination before it is paid.
pub(crate) async fn insert(
    db: &mut PgConnection,
    key: &DataKey,
    campaign_id: CampaignId,
    personal: &Personal,
    set_by: Option<UserId>,
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
/// until a treasurer other than the one who set it confirms it ([`confirm_in`]). Audited
/// (`beneficiary.create`: the campaign, the method, whether the IBAN is another's too).
pub async fn create_in(
    db: &mut PgConnection,
    key: &DataKey,
    campaign_id: CampaignId,
    new: &NewBeneficiary,
    actor: &Actor,
) -> Result<Beneficiary, Error> {
    let personal = Personal::new(&new.name, &new.contact, new.method.clone(), &new.note)?;
    ensure_campaign(&mut *db, campaign_id).await?;
    let id = insert(&mut *db, key, campaign_id, &personal, actor.user_id()).await?;
    let beneficiary = fetch(&mut *db, id).await?;
    let details = json!({
        "campaign_id": campaign_id,
        "method": beneficiary.method,
        "duplicate": !beneficiary.duplicate_of.is_empty(),
    });
    zbor_audit::record_in(&mut *db, actor, "beneficiary.create", Some(&subject(id)), details).await?;
    tracing::info!(beneficiary = %id, campaign = campaign_id.as_i64(), method = beneficiary.method.as_str(),
                   duplicates = beneficiary.duplicate_of.len(), "beneficiary created");
    Ok(beneficiary)
}

/// The audit log's name for a beneficiary.
pub(crate) fn subject(id: BeneficiaryId) -> String {
    format!("beneficiary:{id}")
}

/// [`create_in`] in a transaction of its own, on the host's behalf (no treasurer set it).
pub async fn create(
    pool: &PgPool,
    key: &DataKey,
    campaign_id: CampaignId,
    new: &NewBeneficiary,
) -> Result<Beneficiary, Error> {
    let mut db = pool.begin().await?;
    let beneficiary = create_in(&mut db, key, campaign_id, new, &Actor::CLI).await?;
    db.commit().await?;
    Ok(beneficiary)
}

/// Payouts of a beneficiary on their way (approved, sending, sent at the bank, or failed and
/// waiting for a treasurer): while there are any, its destination cannot change.
async fn payouts_on_their_way(db: &mut PgConnection, id: BeneficiaryId) -> Result<Vec<PayoutId>, Error> {
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
/// the one who changed it confirms it, and approvals that signed the old fingerprint no longer
/// hold. Audited (`beneficiary.update`: the names of the fields given, whether the destination
/// changed; never their values).
pub async fn update_in(
    db: &mut PgConnection,
    key: &DataKey,
    id: BeneficiaryId,
    change: &BeneficiaryUpdate,
    actor: &Actor,
) -> Result<Updated, Error> {
    let updated = update_as(&mut *db, key, id, change, actor.user_id()).await?;
    let details = json!({
        "campaign_id": updated.beneficiary.campaign_id,
        "fields": change.fields_given(),
        "payee_changed": updated.payee_changed,
    });
    zbor_audit::record_in(db, actor, "beneficiary.update", Some(&subject(id)), details).await?;
    Ok(updated)
}

async fn update_as(
    db: &mut PgConnection,
    key: &DataKey,
    id: BeneficiaryId,
    change: &BeneficiaryUpdate,
    by: Option<UserId>,
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
    tracing::info!(beneficiary = %id, campaign = row.campaign_id.as_i64(), payee_changed, "beneficiary updated");
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
    let updated = update_in(&mut db, key, id, change, &Actor::CLI).await?;
    db.commit().await?;
    Ok(updated)
}

/// `confirmer` confirms each beneficiary's current destination: the second pair of eyes on a
/// new or changed payee. All or nothing: refused when the confirmer set a destination themself
/// ([`Error::SamePerson`]), or when a destination is no longer the fingerprint they were shown.
/// Destinations already confirmed stay as they are. Returns the beneficiaries confirmed now, each
/// with its audit entry (`beneficiary.confirm_destination`).
pub async fn confirm_in(
    db: &mut PgConnection,
    confirmations: &[Confirmation],
    actor: &Actor,
) -> Result<Vec<BeneficiaryId>, Error> {
    let confirmer = actor.user_id().ok_or(Error::NeedsUser("confirming a destination"))?;
    let confirmed = confirm_as(&mut *db, confirmations, confirmer).await?;
    for id in &confirmed {
        zbor_audit::record_in(
            &mut *db,
            actor,
            "beneficiary.confirm_destination",
            Some(&subject(*id)),
            json!({}),
        )
        .await?;
    }
    Ok(confirmed)
}

async fn confirm_as(
    db: &mut PgConnection,
    confirmations: &[Confirmation],
    confirmer: UserId,
) -> Result<Vec<BeneficiaryId>, Error> {
    if confirmations.is_empty() || confirmations.len() > CONFIRMATIONS_MAX {
        return Err(Error::invalid("beneficiaries", format!("1 to {CONFIRMATIONS_MAX} confirmations")));
    }
    let mut confirmed = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in confirmations {
        let id = c.beneficiary;
        if !seen.insert(id) {
            return Err(Error::invalid("beneficiaries", format!("beneficiary {id} appears twice")));
        }
        let row: Option<(Vec<u8>, Option<UserId>, Option<UserId>)> = sqlx::query_as(
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
    tracing::info!(confirmer = %confirmer, confirmed = confirmed.len(), "beneficiary destinations confirmed");
    Ok(confirmed)
}

/// [`confirm_in`] in a transaction of its own.
pub async fn confirm(
    pool: &PgPool,
    confirmations: &[Confirmation],
    confirmer: UserId,
) -> Result<Vec<BeneficiaryId>, Error> {
    let mut db = pool.begin().await?;
    let confirmed = confirm_in(&mut db, confirmations, &Actor::user(confirmer)).await?;
    db.commit().await?;
    Ok(confirmed)
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
    payout: PayoutId,
) -> Result<RevealedBeneficiary, Error> {
    let mut found = approved_destinations(db, key, &[payout]).await?;
    found.pop().map_or(Err(Error::PayoutNotFound(payout)), |(_, approved)| approved)
}

/// [`approved_destination`] for many distinct payouts (a worker's claim), their rows read with one
/// query: for each payout, in the order given, the same answer it would give alone. `Err` as a
/// whole only when the query failed.
pub async fn approved_destinations(
    db: &mut PgConnection,
    key: &DataKey,
    payouts: &[PayoutId],
) -> Result<Vec<(PayoutId, Result<RevealedBeneficiary, Error>)>, Error> {
    #[derive(sqlx::FromRow)]
    struct Approved {
        payout: PayoutId,
        approved_fingerprint: Vec<u8>,
        #[sqlx(flatten)]
        row: SealedRow,
    }
    if payouts.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = payouts.iter().map(|id| id.as_i64()).collect();
    let found: Vec<Approved> = sqlx::query_as(
        "select p.id as payout, p.payee_fingerprint as approved_fingerprint, b.id, b.campaign_id, b.method,
                b.record_key, b.sealed, b.iban_index, b.payee_fingerprint
         from payouts p join beneficiaries b on b.id = p.beneficiary_id where p.id = any($1)",
    )
    .bind(&ids)
    .fetch_all(&mut *db)
    .await?;
    let mut found: std::collections::HashMap<PayoutId, Approved> =
        found.into_iter().map(|approved| (approved.payout, approved)).collect();
    Ok(payouts
        .iter()
        .map(|&payout| {
            let approved = match found.remove(&payout) {
                Some(Approved { approved_fingerprint, row, .. }) => {
                    check_approved(key, payout, &approved_fingerprint, row)
                }
                None => Err(Error::PayoutNotFound(payout)),
            };
            (payout, approved)
        })
        .collect())
}

/// Decrypts `row` and compares the fingerprint of what would be paid with the approved one.
fn check_approved(
    key: &DataKey,
    payout: PayoutId,
    approved_fingerprint: &[u8],
    row: SealedRow,
) -> Result<RevealedBeneficiary, Error> {
    let personal = match open(key, &row) {
        Ok(personal) => personal,
        Err(Error::Inconsistent(_)) => return Err(Error::DestinationNotApproved(payout)),
        Err(e) => return Err(e),
    };
    // recomputed from what would be paid, not read from the row, under the key version the
    // approvals' fingerprint was made with (a rotation moves the row and its payouts together)
    let (_, paying) = indexes(&row_key(key, &row)?, row.record_key, &personal.method);
    if paying.as_slice() != approved_fingerprint {
        tracing::warn!(payout = payout.as_i64(), beneficiary = %row.id, "destination differs from the approved one; not paid");
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
pub async fn list(pool: &PgPool, campaign_id: CampaignId) -> Result<Vec<Beneficiary>, Error> {
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
/// Every call is audited here (`beneficiary.reveal`: who asked and the beneficiary's id, never
/// the revealed values), committed before the data is returned: this is the only way personal
/// data leaves zbor. Fails with
/// [`Error::CannotDecrypt`] under another `ZBOR_DATA_KEY`, and with [`Error::Inconsistent`]
/// when the sealed data does not match the row's indexes and fingerprint.
pub async fn reveal(
    pool: &PgPool,
    key: &DataKey,
    id: BeneficiaryId,
    actor: &Actor,
) -> Result<RevealedBeneficiary, Error> {
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
    // recorded before anyone sees it: if the entry cannot be written, the decrypted data is dropped
    let details = json!({ "campaign_id": row.campaign_id, "method": personal.method.kind() });
    // in a transaction of its own: the audit log's lock holds until its commit
    let mut audit = pool.begin().await?;
    zbor_audit::record_in(&mut audit, actor, "beneficiary.reveal", Some(&subject(id)), details).await?;
    audit.commit().await?;
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
pub async fn duplicates(
    pool: &PgPool,
    campaign_id: Option<CampaignId>,
) -> Result<Vec<DuplicateGroup>, Error> {
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
