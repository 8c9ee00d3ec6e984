//! The pause switch: one treasurer stops every payout at once; two treasurers start them again.
//!
//! Pausing takes effect for every payout not yet handed to its rail: a worker claims a payout
//! only in a transaction that reads the switch with `for share`, and pausing updates the switch's
//! row, so once `pause` returns no worker claims anything more. A transfer already on its way to
//! Stripe finishes (it cannot be called back); SEPA files are not made while paused.
//!
//! Resuming needs two distinct treasurers: the first one's resume is recorded as a vote, the
//! second one's resumes. Pausing again clears the votes.
//!
//! The reason a treasurer gives is free text (it may name a bank, a person, a suspicion): it is
//! sealed at rest ([`pause_sealed`]), shown opened ([`SwitchState::opened`]), never logged.

use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use zbor_audit::{Actor, UserId};
use zbor_vault::{DataKey, Progress, Rotated};

use crate::Error;

/// What the sealed reason is bound to: the switch is one row.
const REASON_RECORD: &str = "payout-switch:reason";

pub const REASON_LEN_MAX: usize = 500;
/// Distinct treasurers needed to resume.
pub const RESUME_VOTES_REQUIRED: i64 = 2;

/// The switch. `Debug` leaves the reason out.
#[derive(Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SwitchState {
    pub paused: bool,
    pub changed_by: Option<UserId>,
    pub changed_at: DateTime<Utc>,
    /// Why payouts were paused, as the treasurer wrote it: once [`SwitchState::opened`] (it is
    /// sealed at rest), or a reason from before reasons were sealed.
    pub reason: Option<String>,
    /// A reason was given and is sealed: not in `reason` until [`SwitchState::opened`].
    pub reason_sealed: bool,
    /// Treasurers who asked to resume so far.
    pub resume_votes: Vec<UserId>,
    #[serde(skip)]
    sealed: Option<Vec<u8>>,
}

impl std::fmt::Debug for SwitchState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchState")
            .field("paused", &self.paused)
            .field("changed_by", &self.changed_by)
            .field("changed_at", &self.changed_at)
            .field("resume_votes", &self.resume_votes)
            .finish_non_exhaustive()
    }
}

impl SwitchState {
    /// The state with its sealed reason opened into `reason`; unchanged without a key. Never log
    /// the result's `reason`.
    pub fn opened(mut self, key: Option<&DataKey>) -> Result<SwitchState, Error> {
        if let (Some(key), Some(sealed)) = (key, self.sealed.as_deref()) {
            let plain = key.open(sealed, REASON_RECORD)?;
            self.reason = Some(String::from_utf8_lossy(&plain).into_owned());
            self.reason_sealed = false;
        }
        Ok(self)
    }
}

/// What a call to [`resume`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resumed {
    /// Payouts run again.
    Resumed,
    /// Recorded; another treasurer must also resume.
    WaitingForAnother,
    /// This treasurer had already asked; another one must.
    AlreadyVoted,
    /// Payouts were not paused.
    NotPaused,
}

/// The switch, its reason sealed (see [`SwitchState::opened`]).
pub async fn state(pool: &PgPool) -> Result<SwitchState, Error> {
    #[allow(clippy::type_complexity)] // the row, as it is read
    let (paused, changed_by, changed_at, legacy, sealed): (
        bool,
        Option<UserId>,
        DateTime<Utc>,
        Option<String>,
        Option<Vec<u8>>,
    ) = sqlx::query_as(
        "select paused, changed_by, changed_at, reason_legacy, reason_sealed from payout_switch",
    )
    .fetch_one(pool)
    .await?;
    let resume_votes = sqlx::query_scalar("select user_id from payout_resume_votes order by voted_at")
        .fetch_all(pool)
        .await?;
    Ok(SwitchState {
        paused,
        changed_by,
        changed_at,
        reason_sealed: legacy.is_none() && sealed.is_some(),
        // a reason from before reasons were sealed is shown as it was, until the rotation seals it
        reason: legacy,
        resume_votes,
        sealed,
    })
}

/// True when payouts are paused. Inside a claim, `for share` makes a concurrent `pause` wait
/// for the claim to commit, and a claim after it see `paused`.
pub(crate) async fn is_paused_in(db: &mut PgConnection) -> Result<bool, Error> {
    Ok(sqlx::query_scalar("select paused from payout_switch for share").fetch_one(&mut *db).await?)
}

pub async fn is_paused(pool: &PgPool) -> Result<bool, Error> {
    Ok(sqlx::query_scalar("select paused from payout_switch").fetch_one(pool).await?)
}

/// Stops every payout not yet handed to its rail. Pausing when paused keeps the first reason
/// and clears any resume votes. Returns true when this call paused them. `user` is none for the
/// bootstrap admin token (an alarm pulling the brake, say).
///
/// Without the data key the reason is not kept at all: [`pause_sealed`] seals it.
pub async fn pause(pool: &PgPool, user: Option<UserId>, reason: &str) -> Result<bool, Error> {
    let mut db = pool.begin().await?;
    let paused_now = pause_in(&mut db, None, &actor(user), reason).await?;
    db.commit().await?;
    Ok(paused_now)
}

/// [`pause`], the reason sealed at rest.
pub async fn pause_sealed(
    pool: &PgPool,
    key: &DataKey,
    user: Option<UserId>,
    reason: &str,
) -> Result<bool, Error> {
    let mut db = pool.begin().await?;
    let paused_now = pause_in(&mut db, Some(key), &actor(user), reason).await?;
    db.commit().await?;
    Ok(paused_now)
}

/// A staff user, or the bootstrap token when there is none.
fn actor(user: Option<UserId>) -> Actor {
    user.map_or(Actor::BOOTSTRAP, Actor::user)
}

/// [`pause`] (`key` none) or [`pause_sealed`] in the caller's transaction, with its audit entry
/// (`payouts.pause`; the reason is free text a person typed: sealed here, not copied into the log).
pub async fn pause_in(
    db: &mut PgConnection,
    key: Option<&DataKey>,
    actor: &Actor,
    reason: &str,
) -> Result<bool, Error> {
    let paused_now = pause_as(&mut *db, key, actor.user_id(), reason).await?;
    let details = serde_json::json!({ "paused_now": paused_now });
    zbor_audit::record_in(db, actor, "payouts.pause", None, details).await?;
    Ok(paused_now)
}

async fn pause_as(
    db: &mut PgConnection,
    key: Option<&DataKey>,
    user: Option<UserId>,
    reason: &str,
) -> Result<bool, Error> {
    let reason = reason.trim();
    if reason.chars().count() > REASON_LEN_MAX {
        return Err(Error::invalid("reason", format!("at most {REASON_LEN_MAX} characters")));
    }
    let sealed = match key {
        Some(key) if !reason.is_empty() => Some(key.seal(reason.as_bytes(), REASON_RECORD)?),
        _ => None,
    };
    let was_paused: bool =
        sqlx::query_scalar("select paused from payout_switch for update").fetch_one(&mut *db).await?;
    if !was_paused {
        sqlx::query(
            "update payout_switch
             set paused = true, changed_by = $1, changed_at = now(), reason_sealed = $2, reason_legacy = null",
        )
        .bind(user)
        .bind(sealed)
        .execute(&mut *db)
        .await?;
    }
    sqlx::query("delete from payout_resume_votes").execute(&mut *db).await?;
    if !was_paused {
        tracing::warn!(?user, "payouts paused");
    }
    Ok(!was_paused)
}

/// `user`'s vote to resume; the second distinct treasurer's vote resumes.
pub async fn resume(pool: &PgPool, user: UserId) -> Result<Resumed, Error> {
    let mut db = pool.begin().await?;
    let outcome = resume_in(&mut db, &Actor::user(user)).await?;
    db.commit().await?;
    Ok(outcome)
}

/// [`resume`] in the caller's transaction, with its audit entry (`payouts.resume` and the
/// outcome), which the caller commits whatever the outcome.
pub async fn resume_in(db: &mut PgConnection, actor: &Actor) -> Result<Resumed, Error> {
    let user = actor.user_id().ok_or(Error::NeedsUser("resuming payouts"))?;
    let outcome = resume_as(&mut *db, user).await?;
    zbor_audit::record_in(db, actor, "payouts.resume", None, serde_json::json!({ "outcome": outcome }))
        .await?;
    Ok(outcome)
}

async fn resume_as(db: &mut PgConnection, user: UserId) -> Result<Resumed, Error> {
    let paused: bool =
        sqlx::query_scalar("select paused from payout_switch for update").fetch_one(&mut *db).await?;
    if !paused {
        return Ok(Resumed::NotPaused);
    }
    let voted = sqlx::query("insert into payout_resume_votes (user_id) values ($1) on conflict do nothing")
        .bind(user)
        .execute(&mut *db)
        .await?;
    if voted.rows_affected() == 0 {
        return Ok(Resumed::AlreadyVoted);
    }
    let votes: i64 =
        sqlx::query_scalar("select count(*) from payout_resume_votes").fetch_one(&mut *db).await?;
    if votes < RESUME_VOTES_REQUIRED {
        return Ok(Resumed::WaitingForAnother);
    }
    sqlx::query(
        "update payout_switch
         set paused = false, changed_by = $1, changed_at = now(), reason_sealed = null, reason_legacy = null",
    )
    .bind(user)
    .execute(&mut *db)
    .await?;
    sqlx::query("delete from payout_resume_votes").execute(&mut *db).await?;
    tracing::warn!(user = %user, "payouts resumed");
    Ok(Resumed::Resumed)
}

/// Key rotation (`zbor vault rotate`): the pause reason sealed under an older key is sealed again
/// under `key`'s version, and one from before reasons were sealed is sealed and its clear copy
/// emptied. One short transaction.
pub async fn rekey_reason(
    pool: &PgPool,
    key: &DataKey,
    progress: &mut Progress<'_>,
) -> Result<Rotated, Error> {
    let mut rotated = Rotated::default();
    let mut db = pool.begin().await?;
    let (legacy, sealed): (Option<String>, Option<Vec<u8>>) =
        sqlx::query_as("select reason_legacy, reason_sealed from payout_switch for update")
            .fetch_one(&mut *db)
            .await?;
    let resealed = match (&legacy, &sealed) {
        (_, Some(sealed)) if key.is_outdated(sealed) => match key.reseal(sealed, REASON_RECORD) {
            Ok(resealed) => Some(resealed),
            Err(e) => {
                rotated.failed.push(format!("pause switch: its reason: {e}"));
                return Ok(rotated);
            }
        },
        (Some(legacy), None) => Some(key.seal(legacy.as_bytes(), REASON_RECORD)?),
        _ => None,
    };
    if resealed.is_none() && legacy.is_none() {
        return Ok(rotated);
    }
    sqlx::query("update payout_switch set reason_sealed = coalesce($1, reason_sealed), reason_legacy = null")
        .bind(resealed)
        .execute(&mut *db)
        .await?;
    db.commit().await?;
    rotated.rekeyed = 1;
    if progress(rotated.rekeyed) == ControlFlow::Break(()) {
        rotated.interrupted = true;
    }
    Ok(rotated)
}

/// Key rotation: 1 when the pause reason is not yet sealed under `key`'s version, else 0.
pub async fn outdated_reason(pool: &PgPool, key: &DataKey) -> Result<i64, Error> {
    Ok(sqlx::query_scalar(
        "select count(*) from payout_switch
         where reason_legacy is not null
            or (reason_sealed is not null and zbor_key_version(reason_sealed) is distinct from $1)",
    )
    .bind(i32::from(key.version()))
    .fetch_one(pool)
    .await?)
}
