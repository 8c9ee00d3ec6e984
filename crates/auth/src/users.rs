//! Users: creation, password login with lockout, TOTP enrolment and verification.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use sqlx::PgPool;
use zbor_vault::DataKey;

use crate::{password, totp, Error, Role, UserId};

/// Failed logins before the account locks, and for how long.
const FAILURES_BEFORE_LOCK: i32 = 5;
const LOCK_MINUTES: i64 = 15;
const EMAIL_LEN_MAX: usize = 254;

/// A user as the app sees it. `Debug` leaves the email out: it must not reach a log.
#[derive(Clone, serde::Serialize)]
pub struct User {
    pub id: UserId,
    pub role: Role,
    pub email: String,
    pub second_factor_enrolled: bool,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User").field("id", &self.id).field("role", &self.role).finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    pub password: String,
    /// The authenticator app's code; required once the user has enrolled.
    #[serde(default)]
    pub totp: Option<String>,
}

#[derive(Clone, serde::Serialize)]
pub struct TotpEnrolment {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    /// `otpauth://…`, for a QR code.
    pub otpauth_uri: String,
}

fn normalise_email(email: &str) -> Result<String, Error> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= EMAIL_LEN_MAX
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(Error::InvalidField { field: "email", reason: "not an email address".into() })
    }
}

fn email_index(key: &DataKey, email: &str) -> Vec<u8> {
    key.blind_index("user-email", email).to_vec()
}

fn email_record(index: &[u8]) -> String {
    format!("user-email:{}", hex_string(index))
}

fn totp_record(id: UserId) -> String {
    format!("{id}:totp")
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a user. The password must be 12–256 characters.
pub async fn add_user(
    pool: &PgPool,
    key: &DataKey,
    email: &str,
    role: Role,
    password: &str,
) -> Result<User, Error> {
    let email = normalise_email(email)?;
    password::check_strength(password)?;
    let hash = password::hash(password)?;
    let index = email_index(key, &email);
    let sealed = key.seal(email.as_bytes(), &email_record(&index))?;
    let id: Option<UserId> = sqlx::query_scalar(
        "insert into users (email_index, email_sealed, role, password_hash) values ($1, $2, $3, $4)
         on conflict (email_index) do nothing returning id",
    )
    .bind(&index)
    .bind(&sealed)
    .bind(role)
    .bind(&hash)
    .fetch_optional(pool)
    .await?;
    let id = id.ok_or(Error::EmailTaken)?;
    tracing::info!(user = %id, ?role, "user added");
    Ok(User { id, role, email, second_factor_enrolled: false })
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: UserId,
    role: Role,
    email_index: Vec<u8>,
    email_sealed: Vec<u8>,
    password_hash: String,
    totp_enrolled_at: Option<DateTime<Utc>>,
    failed_logins: i32,
    locked_until: Option<DateTime<Utc>>,
    disabled_at: Option<DateTime<Utc>>,
}

impl UserRow {
    fn into_user(self, key: &DataKey) -> Result<User, Error> {
        let email = key.open(&self.email_sealed, &email_record(&self.email_index))?;
        Ok(User {
            id: self.id,
            role: self.role,
            email: String::from_utf8_lossy(&email).into_owned(),
            second_factor_enrolled: self.totp_enrolled_at.is_some(),
        })
    }
}

const COLUMNS: &str = "id, role, email_index, email_sealed, password_hash, totp_enrolled_at, failed_logins, \
                       locked_until, disabled_at";

pub async fn user(pool: &PgPool, key: &DataKey, id: UserId) -> Result<User, Error> {
    let row: Option<UserRow> = sqlx::query_as(&format!("select {COLUMNS} from users where id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.ok_or(Error::UserNotFound)?.into_user(key)
}

pub async fn set_role(pool: &PgPool, key: &DataKey, id: UserId, role: Role) -> Result<User, Error> {
    let updated =
        sqlx::query("update users set role = $2 where id = $1").bind(id).bind(role).execute(pool).await?;
    if updated.rows_affected() == 0 {
        return Err(Error::UserNotFound);
    }
    // a changed role takes effect now: existing sessions and tokens carry the old one no further
    sqlx::query("delete from user_sessions where user_id = $1").bind(id).execute(pool).await?;
    user(pool, key, id).await
}

/// Checks email, password and (once enrolled) the one-time code. Returns the user and whether
/// the second factor was passed. Five failures lock the account for 15 minutes.
pub async fn authenticate(
    pool: &PgPool,
    key: &DataKey,
    login: &Login,
    now: DateTime<Utc>,
) -> Result<(User, bool), Error> {
    let Ok(email) = normalise_email(&login.email) else {
        password::verify(&login.password, password::dummy_hash());
        return Err(Error::BadCredentials);
    };
    let row: Option<UserRow> = sqlx::query_as(&format!("select {COLUMNS} from users where email_index = $1"))
        .bind(email_index(key, &email))
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else {
        password::verify(&login.password, password::dummy_hash());
        return Err(Error::BadCredentials);
    };
    let locked = row.locked_until.is_some_and(|until| until > now);
    let password_ok = password::verify(&login.password, &row.password_hash);
    if locked || row.disabled_at.is_some() || !password_ok {
        if !locked && !password_ok {
            note_failure(pool, row.id, row.failed_logins, now).await?;
        }
        tracing::warn!(user = %row.id, locked, "login refused");
        return Err(Error::BadCredentials);
    }
    sqlx::query("update users set failed_logins = 0, locked_until = null where id = $1")
        .bind(row.id)
        .execute(pool)
        .await?;
    let enrolled = row.totp_enrolled_at.is_some();
    let user = row.into_user(key)?;
    if !enrolled {
        return Ok((user, false));
    }
    let code = login.totp.as_deref().ok_or(Error::SecondFactorRequired)?;
    verify_totp(pool, key, user.id, code, now).await?;
    Ok((user, true))
}

async fn note_failure(
    pool: &PgPool,
    id: UserId,
    failed_before: i32,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if failed_before + 1 >= FAILURES_BEFORE_LOCK {
        sqlx::query("update users set failed_logins = 0, locked_until = $2 where id = $1")
            .bind(id)
            .bind(now + Duration::minutes(LOCK_MINUTES))
            .execute(pool)
            .await?;
    } else {
        sqlx::query("update users set failed_logins = failed_logins + 1 where id = $1")
            .bind(id)
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Starts (or restarts) TOTP enrolment: a new secret, shown once, effective after a first code.
pub async fn begin_totp_enrolment(pool: &PgPool, key: &DataKey, id: UserId) -> Result<TotpEnrolment, Error> {
    let user = user(pool, key, id).await?;
    if user.second_factor_enrolled {
        return Err(Error::AlreadyEnrolled);
    }
    let secret: [u8; totp::SECRET_BYTES] = crate::random_bytes()?;
    let sealed = key.seal(&secret, &totp_record(id))?;
    sqlx::query(
        "update users set totp_sealed = $2, totp_last_step = null where id = $1 and totp_enrolled_at is null",
    )
    .bind(id)
    .bind(&sealed)
    .execute(pool)
    .await?;
    Ok(TotpEnrolment { secret: totp::base32(&secret), otpauth_uri: totp::otpauth_uri(&secret, &user.email) })
}

/// A user's TOTP secret (sealed), whether it is confirmed, and the last step accepted.
struct TotpState {
    sealed: Option<Vec<u8>>,
    enrolled: bool,
    last_step: Option<i64>,
}

impl TotpState {
    /// The step `code` matches, newer than the last accepted one.
    fn matching_step(
        &self,
        key: &DataKey,
        id: UserId,
        sealed: &[u8],
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, Error> {
        let secret = key.open(sealed, &totp_record(id))?;
        totp::matching_step(&secret, code, now.timestamp(), self.last_step).ok_or(Error::BadSecondFactor)
    }
}

async fn totp_state(pool: &PgPool, id: UserId) -> Result<TotpState, Error> {
    let (sealed, enrolled, last_step): (Option<Vec<u8>>, bool, Option<i64>) = sqlx::query_as(
        "select totp_sealed, totp_enrolled_at is not null, totp_last_step from users where id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(Error::UserNotFound)?;
    Ok(TotpState { sealed, enrolled, last_step })
}

/// Completes enrolment with a first code from the app.
pub async fn confirm_totp(
    pool: &PgPool,
    key: &DataKey,
    id: UserId,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let totp = totp_state(pool, id).await?;
    if totp.enrolled {
        return Err(Error::AlreadyEnrolled);
    }
    let sealed = totp.sealed.as_deref().ok_or(Error::NoEnrolment)?;
    let step = totp.matching_step(key, id, sealed, code, now)?;
    sqlx::query("update users set totp_enrolled_at = $2, totp_last_step = $3 where id = $1 and totp_enrolled_at is null")
        .bind(id)
        .bind(now)
        .bind(step)
        .execute(pool)
        .await?;
    tracing::info!(user = %id, "second factor enrolled");
    Ok(())
}

/// Checks a one-time code of an enrolled user and consumes its step, so it is never accepted
/// again (the update only succeeds for a step newer than the last, also under concurrency).
pub async fn verify_totp(
    pool: &PgPool,
    key: &DataKey,
    id: UserId,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let totp = totp_state(pool, id).await?;
    let (Some(sealed), true) = (totp.sealed.as_deref(), totp.enrolled) else {
        return Err(Error::SecondFactorRequired);
    };
    let step = totp.matching_step(key, id, sealed, code, now)?;
    let consumed = sqlx::query(
        "update users set totp_last_step = $2 where id = $1 and (totp_last_step is null or totp_last_step < $2)",
    )
    .bind(id)
    .bind(step)
    .execute(pool)
    .await?;
    if consumed.rows_affected() == 0 {
        return Err(Error::BadSecondFactor);
    }
    Ok(())
}
