//! Changes to staff accounts that need two people, and the controls that cut someone off at
//! once.
//!
//! **Staff requests** (four eyes): granting a role (also a new user's money role), resetting
//! someone's password, resetting their second factor. One admin requests (or the bootstrap token,
//! while no admin has a second factor), a second admin or treasurer confirms with a fresh
//! one-time code (the caller checks the code). Nobody requests or confirms a change of their own
//! account, and the confirmer is never the requester; the database refuses both too.
//!
//! **Cutting off** needs one person: disabling a user ends their sessions and tokens at once;
//! a token can be revoked; sessions end after an idle time; people list and end their own
//! sessions. Taking power away must never wait for a second person.
//!
//! Every change takes the caller's transaction and the [`Actor`] doing it, and appends its own
//! audit entry there: the change and its evidence commit together, and no caller can make one
//! without the other.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use crate::{password, record, Actor, Error, Role, UserId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "staff_request_kind", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    Role,
    PasswordReset,
    SecondFactorReset,
}

/// A staff request as listed for confirmers: ids and the role, nothing personal.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StaffRequest {
    pub id: i64,
    pub kind: RequestKind,
    pub user_id: UserId,
    pub role: Option<Role>,
    pub requested_by: Option<UserId>,
    pub requested_at: DateTime<Utc>,
    pub confirmed_by: Option<UserId>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// What confirming did. A password reset gives the confirmer a temporary password, shown once,
/// to hand to the person (who changes it).
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct Confirmed {
    pub request: StaffRequest,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporary_password: Option<String>,
}

impl std::fmt::Debug for Confirmed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Confirmed").field("request", &self.request).finish_non_exhaustive()
    }
}

const REQUEST_COLUMNS: &str =
    "id, kind, user_id, role, requested_by, requested_at, confirmed_by, confirmed_at, cancelled_at";

/// `actor` opens a request to change `user`'s account (`staff_request.open`). An actor who is no
/// user is the bootstrap token.
pub async fn request(
    db: &mut PgConnection,
    user: UserId,
    kind: RequestKind,
    role: Option<Role>,
    actor: &Actor,
) -> Result<StaffRequest, Error> {
    let requested_by = actor.user_id();
    if requested_by == Some(user) {
        return Err(Error::FourEyes("nobody changes their own account's role or credentials".into()));
    }
    if (kind == RequestKind::Role) != role.is_some() {
        return Err(Error::InvalidField {
            field: "role",
            reason: "a role request names a role, others none".into(),
        });
    }
    ensure_user(&mut *db, user).await?;
    let inserted: Result<StaffRequest, sqlx::Error> = sqlx::query_as(&format!(
        "insert into staff_requests (kind, user_id, role, requested_by) values ($1, $2, $3, $4)
         returning {REQUEST_COLUMNS}"
    ))
    .bind(kind)
    .bind(user)
    .bind(role)
    .bind(requested_by)
    .fetch_one(&mut *db)
    .await;
    let request = match inserted {
        Ok(request) => request,
        Err(e) if e.as_database_error().and_then(|d| d.constraint()) == Some("staff_requests_one_open") => {
            return Err(Error::Conflict(
                "an open request of this kind exists for this user: confirm or cancel it".into(),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let details = json!({ "request": request.id, "kind": kind, "role": role });
    record(db, actor, "staff_request.open", user, details).await?;
    Ok(request)
}

async fn ensure_user(db: &mut PgConnection, user: UserId) -> Result<(), Error> {
    let exists: bool = sqlx::query_scalar("select exists (select 1 from users where id = $1)")
        .bind(user)
        .fetch_one(&mut *db)
        .await?;
    if exists {
        Ok(())
    } else {
        Err(Error::UserNotFound)
    }
}

/// The open requests, oldest first.
pub async fn open_requests(pool: &PgPool) -> Result<Vec<StaffRequest>, Error> {
    Ok(sqlx::query_as(&format!(
        "select {REQUEST_COLUMNS} from staff_requests
         where confirmed_at is null and cancelled_at is null order by id"
    ))
    .fetch_all(pool)
    .await?)
}

async fn lock_open(db: &mut PgConnection, id: i64) -> Result<StaffRequest, Error> {
    let request: Option<StaffRequest> =
        sqlx::query_as(&format!("select {REQUEST_COLUMNS} from staff_requests where id = $1 for update"))
            .bind(id)
            .fetch_optional(&mut *db)
            .await?;
    let request = request.ok_or(Error::RequestNotFound(id))?;
    if request.confirmed_at.is_some() || request.cancelled_at.is_some() {
        return Err(Error::Conflict(format!("request {id} is already confirmed or cancelled")));
    }
    Ok(request)
}

/// `actor` (an admin or treasurer who just gave a fresh code) confirms request `id`; the
/// change applies in the same transaction with its `staff_request.confirm` entry, and the user's
/// sessions (and, for resets, API tokens) end so it takes effect at once.
pub async fn confirm(db: &mut PgConnection, id: i64, actor: &Actor) -> Result<Confirmed, Error> {
    let confirmer = actor.user_id().ok_or(Error::NeedsUser("confirming a staff request"))?;
    let request = lock_open(&mut *db, id).await?;
    if request.user_id == confirmer {
        return Err(Error::FourEyes("nobody confirms a change of their own account".into()));
    }
    if request.requested_by == Some(confirmer) {
        return Err(Error::FourEyes("the one who asked cannot also confirm: a second person must".into()));
    }
    let confirmed: StaffRequest = sqlx::query_as(&format!(
        "update staff_requests set confirmed_by = $2, confirmed_at = now() where id = $1 returning {REQUEST_COLUMNS}"
    ))
    .bind(id)
    .bind(confirmer)
    .fetch_one(&mut *db)
    .await?;
    let user = request.user_id;
    let mut temporary_password = None;
    match (request.kind, request.role) {
        (RequestKind::Role, Some(role)) => {
            sqlx::query("update users set role = $2, role_confirmed_at = now() where id = $1")
                .bind(user)
                .bind(role)
                .execute(&mut *db)
                .await?;
            end_sessions(&mut *db, user).await?;
        }
        (RequestKind::Role, None) => return Err(Error::RequestNotFound(id)),
        (RequestKind::PasswordReset, _) => {
            let temporary = temporary_password_text()?;
            reset_password(&mut *db, user, &temporary).await?;
            temporary_password = Some(temporary);
        }
        (RequestKind::SecondFactorReset, _) => reset_second_factor(&mut *db, user).await?,
    }
    let details = json!({ "request": id, "kind": request.kind, "role": request.role, "requested_by": request.requested_by });
    record(db, actor, "staff_request.confirm", user, details).await?;
    Ok(Confirmed { request: confirmed, temporary_password })
}

/// Sets a new password (checked for strength); the user's sessions and tokens end.
async fn reset_password(db: &mut PgConnection, user: UserId, new_password: &str) -> Result<(), Error> {
    password::check_strength(new_password)?;
    let hash = password::hash_off_thread(new_password.to_owned()).await?;
    sqlx::query("update users set password_hash = $2, failed_logins = 0, locked_until = null where id = $1")
        .bind(user)
        .bind(hash)
        .execute(&mut *db)
        .await?;
    cut_off(&mut *db, user).await
}

/// Clears the second factor: the user enrols again at their next login; sessions and tokens end.
async fn reset_second_factor(db: &mut PgConnection, user: UserId) -> Result<(), Error> {
    sqlx::query(
        "update users set totp_sealed = null, totp_enrolled_at = null, totp_last_step = null,
                failed_logins = 0, locked_until = null
         where id = $1",
    )
    .bind(user)
    .execute(&mut *db)
    .await?;
    cut_off(&mut *db, user).await
}

/// On the host (`zbor user reset`, the break-glass path when no second admin is left): a new
/// password and/or a cleared second factor at once, the user's sessions and tokens ended;
/// audited as the command line's `user.reset`.
pub async fn reset_on_host(
    db: &mut PgConnection,
    user: UserId,
    new_password: Option<&str>,
    second_factor: bool,
) -> Result<(), Error> {
    ensure_user(&mut *db, user).await?;
    if let Some(new_password) = new_password {
        reset_password(&mut *db, user, new_password).await?;
    }
    if second_factor {
        reset_second_factor(&mut *db, user).await?;
    }
    let details = json!({ "password": new_password.is_some(), "second_factor": second_factor });
    record(db, &Actor::CLI, "user.reset", user, details).await
}

/// On the host (`zbor user enable`): a disabled user may log in again. Giving access back is a
/// power, so there is no HTTP route for it.
pub async fn enable_on_host(db: &mut PgConnection, user: UserId) -> Result<(), Error> {
    let updated =
        sqlx::query("update users set disabled_at = null where id = $1").bind(user).execute(&mut *db).await?;
    if updated.rows_affected() == 0 {
        return Err(Error::UserNotFound);
    }
    record(db, &Actor::CLI, "user.enable", user, json!({})).await
}

/// `actor` withdraws an open request (the requester, or anyone who may confirm).
pub async fn cancel(db: &mut PgConnection, id: i64, actor: &Actor) -> Result<StaffRequest, Error> {
    lock_open(&mut *db, id).await?;
    let request: StaffRequest = sqlx::query_as(&format!(
        "update staff_requests set cancelled_by = $2, cancelled_at = now() where id = $1 returning {REQUEST_COLUMNS}"
    ))
    .bind(id)
    .bind(actor.user_id())
    .fetch_one(&mut *db)
    .await?;
    record(db, actor, "staff_request.cancel", request.user_id, json!({ "request": id })).await?;
    Ok(request)
}

/// 20 random characters from an alphabet without look-alikes: read out over a phone.
fn temporary_password_text() -> Result<String, Error> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let bytes: [u8; 20] = crate::random_bytes()?;
    Ok(bytes.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect())
}

async fn end_sessions(db: &mut PgConnection, user: UserId) -> Result<u64, Error> {
    Ok(sqlx::query("delete from user_sessions where user_id = $1")
        .bind(user)
        .execute(&mut *db)
        .await?
        .rows_affected())
}

/// Ends every session and revokes every API token of `user`.
async fn cut_off(db: &mut PgConnection, user: UserId) -> Result<(), Error> {
    end_sessions(&mut *db, user).await?;
    sqlx::query("update api_tokens set revoked_at = now() where user_id = $1 and revoked_at is null")
        .bind(user)
        .execute(&mut *db)
        .await?;
    Ok(())
}

/// Disables `user` (one admin suffices: taking power away never waits): their sessions end and
/// their tokens are revoked in the same transaction, so nothing of theirs works after commit.
/// Re-enabling is the host's break-glass command, not an HTTP action.
pub async fn disable(db: &mut PgConnection, user: UserId, actor: &Actor) -> Result<(), Error> {
    if actor.user_id() == Some(user) {
        return Err(Error::FourEyes("disable another account; to leave, ask an admin".into()));
    }
    let updated = sqlx::query("update users set disabled_at = coalesce(disabled_at, now()) where id = $1")
        .bind(user)
        .execute(&mut *db)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(Error::UserNotFound);
    }
    cut_off(&mut *db, user).await?;
    record(db, actor, "user.disable", user, json!({})).await?;
    Ok(())
}

/// A session as its owner sees it (never the token).
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SessionView {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub second_factor: bool,
    /// The session this request came with.
    pub current: bool,
}

pub async fn sessions_of(
    pool: &PgPool,
    user: UserId,
    current_token: Option<&str>,
) -> Result<Vec<SessionView>, Error> {
    let current = current_token.map(|t| crate::sha256(t.as_bytes()).to_vec());
    Ok(sqlx::query_as(
        "select id, created_at, last_seen_at, expires_at, second_factor_at is not null as second_factor,
                coalesce(token_hash = $2, false) as current
         from user_sessions where user_id = $1 and expires_at > now() order by id",
    )
    .bind(user)
    .bind(current)
    .fetch_all(pool)
    .await?)
}

/// Ends one of `user`'s own sessions (their `user.session_end`); false when there is no such
/// session of theirs.
pub async fn end_session_of(db: &mut PgConnection, user: UserId, id: i64) -> Result<bool, Error> {
    let ended = sqlx::query("delete from user_sessions where id = $1 and user_id = $2")
        .bind(id)
        .bind(user)
        .execute(&mut *db)
        .await?;
    if ended.rows_affected() == 0 {
        return Ok(false);
    }
    record(db, &Actor::user(user), "user.session_end", user, json!({ "session": id })).await?;
    Ok(true)
}

/// An API token as its owner sees it (never the token).
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn tokens_of(pool: &PgPool, user: UserId) -> Result<Vec<TokenView>, Error> {
    Ok(sqlx::query_as(
        "select id, name, created_at, last_used_at, expires_at, revoked_at from api_tokens
         where user_id = $1 order by id",
    )
    .bind(user)
    .fetch_all(pool)
    .await?)
}

/// `actor` revokes token `id` (`user.api_token_revoke` on its owner): only if it is `owner`'s
/// when one is given (one's own, or the user an admin named). False when there is no such live
/// token.
pub async fn revoke_token(
    db: &mut PgConnection,
    id: i64,
    owner: Option<UserId>,
    actor: &Actor,
) -> Result<bool, Error> {
    let revoked: Option<UserId> = sqlx::query_scalar(
        "update api_tokens set revoked_at = now()
         where id = $1 and ($2::bigint is null or user_id = $2) and revoked_at is null
         returning user_id",
    )
    .bind(id)
    .bind(owner)
    .fetch_optional(&mut *db)
    .await?;
    let Some(owner) = revoked else { return Ok(false) };
    record(db, actor, "user.api_token_revoke", owner, json!({ "token": id })).await?;
    Ok(true)
}

/// Whether an admin with a confirmed role and a second factor exists: from then on the
/// bootstrap token is refused.
pub async fn secured_admin_exists(pool: &PgPool) -> Result<bool, Error> {
    Ok(sqlx::query_scalar(
        "select exists (select 1 from users where role = 'admin' and totp_enrolled_at is not null
                          and role_confirmed_at is not null and disabled_at is null)",
    )
    .fetch_one(pool)
    .await?)
}
