//! Who is calling: a console session (cookie), an API token, or the bootstrap admin token.

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

use serde_json::json;

use crate::{random_bytes, record, sha256, Actor, Error, Role, UserId};

/// A console session lasts a working day at most.
pub const SESSION_HOURS: i64 = 12;
/// A session unused for this long ends (a laptop left open, a phone taken).
pub const SESSION_IDLE_MINUTES_DEFAULT: i64 = 30;
/// API tokens expire after this many days unless asked otherwise (at most a year).
pub const API_TOKEN_DAYS_DEFAULT: i64 = 90;
pub const API_TOKEN_DAYS_MAX: i64 = 366;
pub const API_TOKEN_PREFIX: &str = "zbor_";

/// The caller of a request, once authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// None for the bootstrap token (`ZBOR_ADMIN_TOKEN`), which is no one in particular.
    pub user: Option<UserId>,
    pub role: Role,
    /// False while the user's role awaits a second person's confirmation: they hold no power.
    pub role_confirmed: bool,
    pub via: Via,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    Session { csrf_token: String, second_factor: bool },
    ApiToken,
    Bootstrap,
}

impl Principal {
    /// Passed a second factor in this session. API tokens never have: what needs one (a
    /// treasurer's approval) asks for a code with the request itself.
    pub fn second_factor(&self) -> bool {
        matches!(self.via, Via::Session { second_factor: true, .. })
    }

    /// Who acts, as the audit log names them: the user (or the bootstrap token), and how they
    /// came in.
    pub fn actor(&self) -> Actor {
        let who = match self.user {
            Some(user) => Actor::user(user),
            None => Actor::BOOTSTRAP,
        };
        who.via(self.via_name())
    }

    /// How the actor authenticated, for the audit entry's details.
    pub fn via_name(&self) -> &'static str {
        match self.via {
            Via::Session { .. } => "session",
            Via::ApiToken => "api_token",
            Via::Bootstrap => "bootstrap_token",
        }
    }
}

/// A new console session: the cookie value and the CSRF token, each shown once.
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

fn random_token() -> Result<String, Error> {
    let bytes: [u8; 32] = random_bytes()?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub async fn create_session(pool: &PgPool, user: UserId, second_factor: bool) -> Result<NewSession, Error> {
    let mut db = pool.begin().await?;
    let session = create_session_in(&mut db, user, second_factor).await?;
    db.commit().await?;
    Ok(session)
}

/// [`create_session`] in the caller's transaction, audited as the user's `login`.
pub async fn create_session_in(
    db: &mut sqlx::PgConnection,
    user: UserId,
    second_factor: bool,
) -> Result<NewSession, Error> {
    let token = random_token()?;
    let csrf_token = random_token()?;
    let expires_at = Utc::now() + Duration::hours(SESSION_HOURS);
    sqlx::query(
        "insert into user_sessions (token_hash, user_id, csrf_token, second_factor_at, expires_at)
         values ($1, $2, $3, case when $4 then now() end, $5)",
    )
    .bind(sha256(token.as_bytes()).to_vec())
    .bind(user)
    .bind(&csrf_token)
    .bind(second_factor)
    .bind(expires_at)
    .execute(&mut *db)
    .await?;
    let details = json!({ "second_factor": second_factor });
    zbor_audit::record_in(db, &Actor::user(user), "login", None, details).await?;
    Ok(NewSession { token, csrf_token, expires_at })
}

/// The session's user passed a second factor (enrolment just completed), in the caller's
/// transaction.
pub async fn mark_second_factor_in(db: &mut sqlx::PgConnection, token: &str) -> Result<(), Error> {
    sqlx::query("update user_sessions set second_factor_at = now() where token_hash = $1")
        .bind(sha256(token.as_bytes()).to_vec())
        .execute(&mut *db)
        .await?;
    Ok(())
}

/// Logs out: ends the session of `token`, audited as its user's `logout`.
pub async fn end_session(pool: &PgPool, token: &str) -> Result<(), Error> {
    let mut db = pool.begin().await?;
    end_session_in(&mut db, token).await?;
    db.commit().await?;
    Ok(())
}

/// [`end_session`] in the caller's transaction; a session already ended is no change and no
/// entry.
pub async fn end_session_in(db: &mut sqlx::PgConnection, token: &str) -> Result<(), Error> {
    let ended: Option<UserId> =
        sqlx::query_scalar("delete from user_sessions where token_hash = $1 returning user_id")
            .bind(sha256(token.as_bytes()).to_vec())
            .fetch_optional(&mut *db)
            .await?;
    if let Some(user) = ended {
        let actor = Actor::user(user).via("session");
        zbor_audit::record_in(db, &actor, "logout", None, json!({})).await?;
    }
    Ok(())
}

pub async fn from_session(pool: &PgPool, token: &str, idle_minutes: i64) -> Result<Option<Principal>, Error> {
    let row: Option<(UserId, Role, bool, String, bool)> = sqlx::query_as(
        "update user_sessions s set last_seen_at = now() from users u
         where s.token_hash = $1 and u.id = s.user_id and s.expires_at > now()
           and s.last_seen_at > now() - $2 * interval '1 minute' and u.disabled_at is null
         returning u.id, u.role, u.role_confirmed_at is not null, s.csrf_token, s.second_factor_at is not null",
    )
    .bind(sha256(token.as_bytes()).to_vec())
    .bind(idle_minutes)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(user, role, role_confirmed, csrf_token, second_factor)| Principal {
        user: Some(user),
        role,
        role_confirmed,
        via: Via::Session { csrf_token, second_factor },
    }))
}

/// A new API token, shown once.
pub struct ApiToken {
    pub id: i64,
    pub token: String,
}

/// A token valid for [`API_TOKEN_DAYS_DEFAULT`] days.
pub async fn create_api_token(pool: &PgPool, user: UserId, name: &str) -> Result<ApiToken, Error> {
    let mut db = pool.begin().await?;
    let token = create_api_token_in(&mut db, user, name, API_TOKEN_DAYS_DEFAULT).await?;
    db.commit().await?;
    Ok(token)
}

/// A token valid for `days` (1 to [`API_TOKEN_DAYS_MAX`]), in the caller's transaction; audited
/// as the user's own `user.api_token_create` (a token is only ever made by its owner).
pub async fn create_api_token_in(
    db: &mut sqlx::PgConnection,
    user: UserId,
    name: &str,
    days: i64,
) -> Result<ApiToken, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::InvalidField { field: "name", reason: "1 to 100 characters".into() });
    }
    if !(1..=API_TOKEN_DAYS_MAX).contains(&days) {
        return Err(Error::InvalidField {
            field: "expires_in_days",
            reason: format!("1 to {API_TOKEN_DAYS_MAX}"),
        });
    }
    let token = format!("{API_TOKEN_PREFIX}{}", random_token()?);
    let id: i64 = sqlx::query_scalar(
        "insert into api_tokens (user_id, name, token_hash, expires_at)
         values ($1, $2, $3, now() + $4 * interval '1 day') returning id",
    )
    .bind(user)
    .bind(name)
    .bind(sha256(token.as_bytes()).to_vec())
    .bind(days)
    .fetch_one(&mut *db)
    .await?;
    let details = json!({ "token": id, "expires_in_days": days });
    record(db, &Actor::user(user), "user.api_token_create", user, details).await?;
    Ok(ApiToken { id, token })
}

pub async fn from_api_token(pool: &PgPool, token: &str) -> Result<Option<Principal>, Error> {
    if !token.starts_with(API_TOKEN_PREFIX) {
        return Ok(None);
    }
    let row: Option<(UserId, Role, bool)> = sqlx::query_as(
        "update api_tokens t set last_used_at = now() from users u
         where t.token_hash = $1 and t.revoked_at is null and t.expires_at > now()
           and u.id = t.user_id and u.disabled_at is null
         returning u.id, u.role, u.role_confirmed_at is not null",
    )
    .bind(sha256(token.as_bytes()).to_vec())
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(user, role, role_confirmed)| Principal {
        user: Some(user),
        role,
        role_confirmed,
        via: Via::ApiToken,
    }))
}
