//! Key rotation (`zbor vault rotate`, docs/KEYS.md) for what payouts keep sealed or keyed.
//!
//! - [`rekey_beneficiaries`]: each beneficiary's sealed data is sealed again under the current
//!   key, its IBAN index and payee fingerprint computed again under the current index key, and the
//!   fingerprints its payouts snapshotted are re-keyed with it, in one short transaction per
//!   beneficiary: a payout whose fingerprint is the beneficiary's (old) fingerprint gets the new
//!   one; any other (a destination no longer stored) gets HMAC(new index key, `rekeyed:` || old),
//!   so fingerprints that were equal stay equal and those that differed still differ. Four-eyes
//!   confirmations stay: it is the same destination.
//! - [`rekey_payouts`]: notes and the sealed words of errors are sealed again; error texts from
//!   before they were sealed are sealed and their clear copy emptied; fingerprints copied while a
//!   rotation was under way are re-keyed.
//!
//! Each row is done in its own transaction, marked done by the data itself (the key version in a
//! sealed value's header, `payouts.payee_fingerprint_key_version`): a killed run continues where
//! it stopped, and the server keeps running meanwhile. Every step locks what it rewrites, the
//! beneficiary before its payouts, as the workers' and treasurers' steps do. The database lets a
//! fingerprint change only inside these transactions (`zbor.rekeying`, migration
//! `20261122000014_key_rotation.sql`), and only towards a newer key.
//!
//! Before a row is rewritten its stored indexes are recomputed from its sealed data under the key
//! that made them; a row where they differ was altered and is reported, not rewritten.

use std::future::Future;
use std::ops::ControlFlow;

use serde::Deserialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;
use zbor_vault::{DataKey, Progress, Rotated};

use crate::beneficiaries::{payee_destination, MethodKind, PayoutMethod, StripeAccount};
use crate::iban::{Bic, Iban};
use crate::treasury::{last_error_record, note_record};
use crate::{BatchId, Error, PayoutId};

/// Rows read per query; each is rewritten in a transaction of its own.
pub const ROWS_PER_STEP: i64 = 100;
/// Attempts of one row that meets a deadlock or a serialization failure (a concurrent writer).
const ATTEMPTS_PER_ROW: u32 = 3;

/// The blind index domains of zbor-payouts' beneficiaries.
const IBAN_DOMAIN: &str = "iban";
const PAYEE_DOMAIN: &str = "payee";

/// What is not yet sealed or keyed under the current key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outdated {
    pub beneficiaries: i64,
    /// Payouts whose fingerprint is under an older key (or an unknown one).
    pub payout_fingerprints: i64,
    /// Payouts whose note or error words are sealed under an older key, or still in clear.
    pub payout_texts: i64,
    /// The pause reason.
    pub pause_reason: i64,
}

impl Outdated {
    pub fn total(&self) -> i64 {
        self.beneficiaries + self.payout_fingerprints + self.payout_texts + self.pause_reason
    }
}

/// Counts what a rotation to `key`'s version has still to do.
pub async fn outdated(pool: &PgPool, key: &DataKey) -> Result<Outdated, Error> {
    let version = i32::from(key.version());
    let (beneficiaries, payout_fingerprints, payout_texts): (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from beneficiaries where zbor_key_version(sealed) is distinct from $1),
                (select count(*) from payouts where payee_fingerprint_key_version is distinct from $1),
                (select count(*) from payouts where last_error_legacy is not null
                    or (note_sealed is not null and zbor_key_version(note_sealed) is distinct from $1)
                    or (last_error_sealed is not null and zbor_key_version(last_error_sealed) is distinct from $1))",
    )
    .bind(version)
    .fetch_one(pool)
    .await?;
    let pause_reason = crate::switch::outdated_reason(pool, key).await?;
    Ok(Outdated { beneficiaries, payout_fingerprints, payout_texts, pause_reason })
}

/// Payout batches awaiting approval: re-keyed fingerprints change their content hash, so the
/// approvals given so far are voided at the next approval and the batch is reviewed again
/// (nothing is paid on an approval that did not see the re-keyed content).
pub async fn batches_awaiting_approval(pool: &PgPool) -> Result<Vec<BatchId>, Error> {
    Ok(sqlx::query_scalar("select id from payout_batches where status = 'awaiting_approval' order by id")
        .fetch_all(pool)
        .await?)
}

/// What became of one row.
enum Row {
    Rekeyed,
    /// Already under the current key (a concurrent writer or an earlier run).
    Current,
    /// Left as it is; why, without a personal value.
    Failed(String),
}

/// Re-keys every beneficiary not sealed under `key`'s version, with its payouts' fingerprints.
pub async fn rekey_beneficiaries(
    pool: &PgPool,
    key: &DataKey,
    progress: &mut Progress<'_>,
) -> Result<Rotated, Error> {
    each_row(
        pool,
        key,
        progress,
        "select id from beneficiaries where id > $1 and zbor_key_version(sealed) is distinct from $2
         order by id limit $3",
        |id| rekey_beneficiary(pool, key, id),
    )
    .await
}

/// Re-seals payouts' notes and error words, seals error texts from before they were sealed, and
/// re-keys the fingerprints of payouts whose beneficiary is already re-keyed. Run it after
/// [`rekey_beneficiaries`]: a payout of a beneficiary not re-keyed yet keeps its fingerprint.
pub async fn rekey_payouts(
    pool: &PgPool,
    key: &DataKey,
    progress: &mut Progress<'_>,
) -> Result<Rotated, Error> {
    each_row(
        pool,
        key,
        progress,
        "select id from payouts
         where id > $1
           and (payee_fingerprint_key_version is distinct from $2
                or last_error_legacy is not null
                or (note_sealed is not null and zbor_key_version(note_sealed) is distinct from $2)
                or (last_error_sealed is not null and zbor_key_version(last_error_sealed) is distinct from $2))
         order by id limit $3",
        |id| rekey_payout(pool, key, PayoutId::from_i64(id)),
    )
    .await
}

/// Runs `rekey` for every id `candidates` lists (after a cursor, `$1`; `key`'s version, `$2`; a
/// limit, `$3`), in id order, each visited once; retries a row that met a concurrent writer.
async fn each_row<F, Fut>(
    pool: &PgPool,
    key: &DataKey,
    progress: &mut Progress<'_>,
    candidates: &str,
    mut rekey: F,
) -> Result<Rotated, Error>
where
    F: FnMut(i64) -> Fut,
    Fut: Future<Output = Result<Row, Error>>,
{
    let version = i32::from(key.version());
    let mut rotated = Rotated::default();
    let mut after = 0_i64;
    loop {
        let ids: Vec<i64> = sqlx::query_scalar(candidates)
            .bind(after)
            .bind(version)
            .bind(ROWS_PER_STEP)
            .fetch_all(pool)
            .await?;
        let Some(&last) = ids.last() else { return Ok(rotated) };
        for id in ids {
            let mut attempt = 1;
            let row = loop {
                match rekey(id).await {
                    Err(e) if attempt < ATTEMPTS_PER_ROW && is_concurrency_failure(&e) => attempt += 1,
                    other => break other?,
                }
            };
            match row {
                Row::Rekeyed => rotated.rekeyed += 1,
                Row::Current => {}
                Row::Failed(reason) => rotated.failed.push(reason),
            }
            if progress(rotated.rekeyed) == ControlFlow::Break(()) {
                rotated.interrupted = true;
                return Ok(rotated);
            }
        }
        after = last;
    }
}

fn is_concurrency_failure(e: &Error) -> bool {
    let Error::Database(e) = e else { return false };
    e.as_database_error().and_then(|d| d.code()).is_some_and(|code| code == "40P01" || code == "40001")
}

/// A refusal of the database's guards (their messages name ids only) as a failed row; any other
/// error as itself.
fn refused(e: sqlx::Error, what: &str) -> Result<Row, Error> {
    match e.as_database_error() {
        Some(d) if d.code().as_deref() == Some("23514") => {
            Ok(Row::Failed(format!("{what}: {}", d.message())))
        }
        _ => Err(e.into()),
    }
}

/// A transaction in which the database lets fingerprints be re-keyed.
async fn rekeying(pool: &PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, Error> {
    let mut db = pool.begin().await?;
    sqlx::query("select set_config('zbor.rekeying', 'on', true)").execute(&mut *db).await?;
    Ok(db)
}

/// What a beneficiary's sealed JSON says about the destination (the rest stays sealed as it is).
#[derive(Deserialize)]
struct SealedDestination {
    iban: Option<String>,
    bic: Option<String>,
    account: Option<String>,
}

/// The IBAN (for the IBAN index) and the canonical destination the payee fingerprint hashes,
/// computed by beneficiaries' own code from what the row has sealed; checked against the stored
/// indexes before use.
fn destination(method: MethodKind, plain: &[u8], record_key: Uuid) -> Option<(Option<String>, String)> {
    let sealed: SealedDestination = serde_json::from_slice(plain).ok()?;
    let method = match (method, sealed.iban, sealed.bic, sealed.account) {
        (MethodKind::Sepa, Some(iban), bic, None) => PayoutMethod::Sepa {
            iban: Iban::parse(&iban).ok()?,
            bic: match bic {
                Some(bic) => Some(Bic::parse(&bic).ok()?),
                None => None,
            },
        },
        (MethodKind::StripeConnect, None, None, Some(account)) => {
            PayoutMethod::StripeConnect { account: StripeAccount::parse(&account).ok()? }
        }
        (MethodKind::Manual, None, None, None) => PayoutMethod::Manual,
        _ => return None,
    };
    let iban = match &method {
        PayoutMethod::Sepa { iban, .. } => Some(iban.as_str().to_owned()),
        PayoutMethod::StripeConnect { .. } | PayoutMethod::Manual => None,
    };
    Some((iban, payee_destination(&method, record_key)))
}

async fn rekey_beneficiary(pool: &PgPool, key: &DataKey, id: i64) -> Result<Row, Error> {
    let what = format!("beneficiary {id}");
    let mut db = rekeying(pool).await?;
    #[allow(clippy::type_complexity)] // the row, as it is read
    let row: Option<(MethodKind, Uuid, Vec<u8>, Option<Vec<u8>>, Vec<u8>)> = sqlx::query_as(
        "select method, record_key, sealed, iban_index, payee_fingerprint from beneficiaries where id = $1
         for update",
    )
    .bind(id)
    .fetch_optional(&mut *db)
    .await?;
    let Some((method, record_key, sealed, iban_index, fingerprint)) = row else { return Ok(Row::Current) };
    if !key.is_outdated(&sealed) {
        return Ok(Row::Current);
    }
    let record = format!("beneficiary:{record_key}");
    let (old, plain) = match key.at_version_of(&sealed).and_then(|old| Ok((old, key.open(&sealed, &record)?)))
    {
        Ok(opened) => opened,
        Err(e) => return Ok(Row::Failed(format!("{what}: {e}"))),
    };
    let Some((iban, payee)) = destination(method, &plain, record_key) else {
        return Ok(Row::Failed(format!("{what}: its sealed data does not fit its payout method")));
    };
    let index_of = |k: &DataKey| iban.as_deref().map(|iban| k.blind_index(IBAN_DOMAIN, iban).to_vec());
    if old.blind_index(PAYEE_DOMAIN, &payee).as_slice() != fingerprint.as_slice()
        || index_of(&old) != iban_index
    {
        return Ok(Row::Failed(format!(
            "{what}: its fingerprint or IBAN index is not what its sealed data gives under key version {}; \
             the row was altered",
            old.version()
        )));
    }
    let new_fingerprint = key.blind_index(PAYEE_DOMAIN, &payee);
    let updated = sqlx::query(
        "update beneficiaries set sealed = $2, iban_index = $3, payee_fingerprint = $4 where id = $1",
    )
    .bind(id)
    .bind(key.seal(&plain, &record)?)
    .bind(index_of(key))
    .bind(new_fingerprint.as_slice())
    .execute(&mut *db)
    .await;
    if let Err(e) = updated {
        return refused(e, &what);
    }
    let payouts: Vec<(i64, Vec<u8>)> = sqlx::query_as(
        "select id, payee_fingerprint from payouts
         where beneficiary_id = $1 and payee_fingerprint_key_version is distinct from $2
         order by id for update",
    )
    .bind(id)
    .bind(i32::from(key.version()))
    .fetch_all(&mut *db)
    .await?;
    for (payout, old_fingerprint) in payouts {
        let new = if old_fingerprint == fingerprint {
            new_fingerprint
        } else {
            key.rekeyed_fingerprint(&old_fingerprint)
        };
        let updated = set_fingerprint(&mut db, key, payout, &new).await;
        if let Err(e) = updated {
            return refused(e, &format!("{what}, payout {payout}"));
        }
    }
    db.commit().await?;
    Ok(Row::Rekeyed)
}

async fn set_fingerprint(
    db: &mut PgConnection,
    key: &DataKey,
    payout: i64,
    fingerprint: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update payouts set payee_fingerprint = $2, payee_fingerprint_key_version = $3 where id = $1",
    )
    .bind(payout)
    .bind(fingerprint)
    .bind(i32::from(key.version()))
    .execute(&mut *db)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct PayoutTexts {
    payee_fingerprint: Vec<u8>,
    payee_fingerprint_key_version: Option<i32>,
    note_sealed: Option<Vec<u8>>,
    last_error_sealed: Option<Vec<u8>>,
    last_error_legacy: Option<String>,
}

async fn rekey_payout(pool: &PgPool, key: &DataKey, id: PayoutId) -> Result<Row, Error> {
    let what = format!("payout {id}");
    let version = i32::from(key.version());
    let mut db = rekeying(pool).await?;
    // the beneficiary first, as everywhere: its fingerprint must not change under us
    let beneficiary: Option<(Vec<u8>, Option<i32>)> = sqlx::query_as(
        "select payee_fingerprint, zbor_key_version(sealed) from beneficiaries
         where id = (select beneficiary_id from payouts where id = $1) for share",
    )
    .bind(id)
    .fetch_optional(&mut *db)
    .await?;
    let Some((beneficiary_fingerprint, beneficiary_version)) = beneficiary else { return Ok(Row::Current) };
    let row: Option<PayoutTexts> = sqlx::query_as(
        "select payee_fingerprint, payee_fingerprint_key_version, note_sealed, last_error_sealed, last_error_legacy
         from payouts where id = $1 for update",
    )
    .bind(id)
    .fetch_optional(&mut *db)
    .await?;
    let Some(row) = row else { return Ok(Row::Current) };
    let mut changed = false;

    let mut fingerprint = (row.payee_fingerprint.clone(), row.payee_fingerprint_key_version);
    // a beneficiary not re-keyed yet re-keys its payouts itself (rekey_beneficiaries)
    if row.payee_fingerprint_key_version != Some(version) && beneficiary_version == Some(version) {
        if row.payee_fingerprint != beneficiary_fingerprint {
            fingerprint.0 = key.rekeyed_fingerprint(&row.payee_fingerprint).to_vec();
        }
        fingerprint.1 = Some(version);
        changed = true;
    }
    let note = match row.note_sealed {
        Some(sealed) if key.is_outdated(&sealed) => match key.reseal(&sealed, &note_record(id)) {
            Ok(resealed) => {
                changed = true;
                Some(resealed)
            }
            Err(e) => return Ok(Row::Failed(format!("{what}: its note: {e}"))),
        },
        other => other,
    };
    let error = match (row.last_error_sealed, row.last_error_legacy.as_deref()) {
        (Some(sealed), _) if key.is_outdated(&sealed) => match key.reseal(&sealed, &last_error_record(id)) {
            Ok(resealed) => {
                changed = true;
                Some(resealed)
            }
            Err(e) => return Ok(Row::Failed(format!("{what}: its error: {e}"))),
        },
        // clear text from before errors were sealed: sealed now, its clear copy emptied below
        (None, Some(legacy)) => {
            changed = true;
            Some(key.seal(legacy.as_bytes(), &last_error_record(id))?)
        }
        (sealed, legacy) => {
            changed |= legacy.is_some();
            sealed
        }
    };
    if !changed {
        return Ok(Row::Current);
    }
    let updated = sqlx::query(
        "update payouts set payee_fingerprint = $2, payee_fingerprint_key_version = $3, note_sealed = $4,
                last_error_sealed = $5, last_error_legacy = null
         where id = $1",
    )
    .bind(id)
    .bind(&fingerprint.0)
    .bind(fingerprint.1)
    .bind(note)
    .bind(error)
    .execute(&mut *db)
    .await;
    if let Err(e) = updated {
        return refused(e, &what);
    }
    db.commit().await?;
    Ok(Row::Rekeyed)
}
