//! The pause switch: one treasurer stops every payout at once; two treasurers start them again.
//!
//! Pausing takes effect for every payout not yet handed to its rail: a worker claims a payout
//! only in a transaction that reads the switch with `for share`, and pausing updates the switch's
//! row, so once `pause` returns no worker claims anything more. A transfer already on its way to
//! Stripe finishes (it cannot be called back); SEPA files are not made while paused.
//!
//! Resuming needs two distinct treasurers: the first one's resume is recorded as a vote, the
//! second one's resumes. Pausing again clears the votes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::Error;

pub const REASON_LEN_MAX: usize = 500;
/// Distinct treasurers needed to resume.
pub const RESUME_VOTES_REQUIRED: i64 = 2;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SwitchState {
    pub paused: bool,
    pub changed_by: Option<i64>,
    pub changed_at: DateTime<Utc>,
    pub reason: Option<String>,
    /// Treasurers who asked to resume so far.
    pub resume_votes: Vec<i64>,
}

/// What a call to [`resume`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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

pub async fn state(pool: &PgPool) -> Result<SwitchState, Error> {
    let (paused, changed_by, changed_at, reason): (bool, Option<i64>, DateTime<Utc>, Option<String>) =
        sqlx::query_as("select paused, changed_by, changed_at, reason from payout_switch")
            .fetch_one(pool)
            .await?;
    let resume_votes = sqlx::query_scalar("select user_id from payout_resume_votes order by voted_at")
        .fetch_all(pool)
        .await?;
    Ok(SwitchState { paused, changed_by, changed_at, reason, resume_votes })
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
pub async fn pause(pool: &PgPool, user: Option<i64>, reason: &str) -> Result<bool, Error> {
    let reason = reason.trim();
    if reason.chars().count() > REASON_LEN_MAX {
        return Err(Error::invalid("reason", format!("at most {REASON_LEN_MAX} characters")));
    }
    let mut db = pool.begin().await?;
    let was_paused: bool =
        sqlx::query_scalar("select paused from payout_switch for update").fetch_one(&mut *db).await?;
    if !was_paused {
        sqlx::query(
            "update payout_switch set paused = true, changed_by = $1, changed_at = now(), reason = $2",
        )
        .bind(user)
        .bind((!reason.is_empty()).then_some(reason))
        .execute(&mut *db)
        .await?;
    }
    sqlx::query("delete from payout_resume_votes").execute(&mut *db).await?;
    db.commit().await?;
    if !was_paused {
        tracing::warn!(?user, "payouts paused");
    }
    Ok(!was_paused)
}

/// `user`'s vote to resume; the second distinct treasurer's vote resumes.
pub async fn resume(pool: &PgPool, user: i64) -> Result<Resumed, Error> {
    let mut db = pool.begin().await?;
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
        db.commit().await?;
        return Ok(Resumed::WaitingForAnother);
    }
    sqlx::query(
        "update payout_switch set paused = false, changed_by = $1, changed_at = now(), reason = null",
    )
    .bind(user)
    .execute(&mut *db)
    .await?;
    sqlx::query("delete from payout_resume_votes").execute(&mut *db).await?;
    db.commit().await?;
    tracing::warn!(user, "payouts resumed");
    Ok(Resumed::Resumed)
}
