//! Users: creation, password login with lockout, TOTP enrolment and verification.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use zbor_vault::DataKey;

use crate::{password, record, totp, Actor, Error, Role, UserId};

/// Failed logins before the account locks, and for how long.
const FAILURES_BEFORE_LOCK: i32 = 5;
const LOCK_MINUTES: i64 = 15;
const EMAIL_LEN_MAX: usize = 254;

/// A user as the app sees it. `Debug` leaves the email out: it must not reach a log.
#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub role: Role,
    pub email: String,
    pub second_factor_enrolled: bool,
    /// False while the role awaits a second person's confirmation.
    pub role_confirmed: bool,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User").field("id", &self.id).field("role", &self.role).finish_non_exhaustive()
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    pub password: String,
    /// The authenticator app's code; required once the user has enrolled.
    #[serde(default)]
    pub totp: Option<String>,
}

#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
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

/// The email's index under every key version of the ring: a lookup that also finds the users
/// a rotation has not reached yet (`where email_index = any($1)`).
fn email_indexes(key: &DataKey, email: &str) -> Vec<Vec<u8>> {
    key.blind_indexes("user-email", email).iter().map(|i| i.to_vec()).collect()
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

/// Creates a user holding `role` at once: the host's command line (`zbor user add`, the
/// break-glass path) and tests. The password must be 12–256 characters.
pub async fn add_user(
    pool: &PgPool,
    key: &DataKey,
    email: &str,
    role: Role,
    password: &str,
    actor: &Actor,
) -> Result<User, Error> {
    let mut db = pool.begin().await?;
    let user = add_user_in(&mut db, key, email, role, password, true, actor).await?;
    db.commit().await?;
    Ok(user)
}

/// Creates a user inside the caller's transaction, audited as `actor`'s `user.add`. With
/// `role_confirmed` false the user holds the role only once a second person confirms a role
/// request ([`crate::staff`]); until then they may log in and enrol a second factor, nothing
/// more.
pub async fn add_user_in(
    db: &mut PgConnection,
    key: &DataKey,
    email: &str,
    role: Role,
    password: &str,
    role_confirmed: bool,
    actor: &Actor,
) -> Result<User, Error> {
    let email = normalise_email(email)?;
    password::check_strength(password)?;
    let hash = password::hash_off_thread(password.to_owned()).await?;
    let index = email_index(key, &email);
    let sealed = key.seal(email.as_bytes(), &email_record(&index))?;
    // the unique index catches the same email under this key; an older key's index is looked up
    let id: Option<UserId> = sqlx::query_scalar(
        "insert into users (email_index, email_sealed, role, password_hash, role_confirmed_at)
         select $1, $2, $3, $4, case when $5 then now() end
         where not exists (select 1 from users where email_index = any($6))
         on conflict (email_index) do nothing returning id",
    )
    .bind(&index)
    .bind(&sealed)
    .bind(role)
    .bind(&hash)
    .bind(role_confirmed)
    .bind(email_indexes(key, &email))
    .fetch_optional(&mut *db)
    .await?;
    let id = id.ok_or(Error::EmailTaken)?;
    record(db, actor, "user.add", id, json!({ "role": role, "role_confirmed": role_confirmed })).await?;
    Ok(User { id, role, email, second_factor_enrolled: false, role_confirmed })
}

/// The account an email belongs to, if any (to count a failed login against it).
pub async fn user_id_for_email(pool: &PgPool, key: &DataKey, email: &str) -> Result<Option<UserId>, Error> {
    let Ok(email) = normalise_email(email) else {
        return Ok(None);
    };
    Ok(sqlx::query_scalar("select id from users where email_index = any($1)")
        .bind(email_indexes(key, &email))
        .fetch_optional(pool)
        .await?)
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: UserId,
    role: Role,
    email_index: Vec<u8>,
    email_sealed: Vec<u8>,
    password_hash: String,
    totp_enrolled_at: Option<DateTime<Utc>>,
    role_confirmed_at: Option<DateTime<Utc>>,
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
            role_confirmed: self.role_confirmed_at.is_some(),
        })
    }
}

const COLUMNS: &str =
    "id, role, email_index, email_sealed, password_hash, totp_enrolled_at, role_confirmed_at, disabled_at";

pub async fn user(pool: &PgPool, key: &DataKey, id: UserId) -> Result<User, Error> {
    let row: Option<UserRow> = sqlx::query_as(&format!("select {COLUMNS} from users where id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.ok_or(Error::UserNotFound)?.into_user(key)
}

/// Sets a user's role at once, on the host (`zbor user role`): the break-glass path for an
/// organisation that lost its admins. Over HTTP a role changes only through a confirmed staff
/// request ([`crate::staff`]); the database refuses anything else (`user_role_four_eyes`).
pub async fn set_role(
    pool: &PgPool,
    key: &DataKey,
    id: UserId,
    role: Role,
    actor: &Actor,
) -> Result<User, Error> {
    let mut db = pool.begin().await?;
    sqlx::query("select set_config('zbor.break_glass', 'on', true)").execute(&mut *db).await?;
    let updated = sqlx::query("update users set role = $2, role_confirmed_at = now() where id = $1")
        .bind(id)
        .bind(role)
        .execute(&mut *db)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(Error::UserNotFound);
    }
    // a changed role takes effect now: existing sessions and tokens carry the old one no further
    sqlx::query("delete from user_sessions where user_id = $1").bind(id).execute(&mut *db).await?;
    record(&mut db, actor, "user.role_change", id, json!({ "role": role })).await?;
    db.commit().await?;
    user(pool, key, id).await
}

/// Checks a change of the caller's own password: the current one is verified (and counted like
/// a login), the new one checked and hashed. Store it with [`set_password_in`].
pub async fn check_password_change(
    pool: &PgPool,
    id: UserId,
    current: &str,
    new: &str,
    now: DateTime<Utc>,
) -> Result<String, Error> {
    password::check_strength(new)?;
    let hash: Option<String> = sqlx::query_scalar("select password_hash from users where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    let hash = hash.ok_or(Error::UserNotFound)?;
    if !take_attempt(pool, id, now).await? {
        return Err(Error::Locked);
    }
    if !password::verify_off_thread(current.to_owned(), hash).await {
        return Err(Error::BadCredentials);
    }
    passed(pool, id).await?;
    password::hash_off_thread(new.to_owned()).await
}

/// Stores a new password hash (from [`check_password_change`]) and ends every other session of
/// the user (all but `keep_session`), in the caller's transaction; audited as the user's own
/// `user.password_change`.
pub async fn set_password_in(
    db: &mut PgConnection,
    id: UserId,
    new_hash: &str,
    keep_session: Option<&str>,
) -> Result<(), Error> {
    sqlx::query("update users set password_hash = $2 where id = $1")
        .bind(id)
        .bind(new_hash)
        .execute(&mut *db)
        .await?;
    let keep = keep_session.map(|token| crate::sha256(token.as_bytes()).to_vec());
    sqlx::query("delete from user_sessions where user_id = $1 and ($2::bytea is null or token_hash <> $2)")
        .bind(id)
        .bind(keep)
        .execute(&mut *db)
        .await?;
    record(db, &Actor::user(id), "user.password_change", id, json!({})).await?;
    Ok(())
}

/// Checks email, password and (once enrolled) the one-time code. Returns the user and whether
/// the second factor was passed.
///
/// Every attempt is taken from the account's budget *before* anything is checked
/// ([`take_attempt`]), in one atomic update: five attempts in a row that do not pass both factors
/// lock the account for 15 minutes, however many arrive at once, and whether the password, the
/// code or a missing code was wrong. Only an attempt that passes every factor the account has
/// resets the count.
pub async fn authenticate(
    pool: &PgPool,
    key: &DataKey,
    login: &Login,
    now: DateTime<Utc>,
) -> Result<(User, bool), Error> {
    let Ok(email) = normalise_email(&login.email) else {
        password::verify_off_thread(login.password.clone(), password::dummy_hash().to_owned()).await;
        return Err(Error::BadCredentials);
    };
    let row: Option<UserRow> =
        sqlx::query_as(&format!("select {COLUMNS} from users where email_index = any($1)"))
            .bind(email_indexes(key, &email))
            .fetch_optional(pool)
            .await?;
    let Some(row) = row else {
        password::verify_off_thread(login.password.clone(), password::dummy_hash().to_owned()).await;
        return Err(Error::BadCredentials);
    };
    let allowed = row.disabled_at.is_none() && take_attempt(pool, row.id, now).await?;
    if !allowed {
        // the same work and the same answer as a wrong password: a lock tells nobody anything
        password::verify_off_thread(login.password.clone(), password::dummy_hash().to_owned()).await;
        tracing::warn!(user = %row.id, "login refused: locked or disabled");
        return Err(Error::BadCredentials);
    }
    if !password::verify_off_thread(login.password.clone(), row.password_hash.clone()).await {
        tracing::warn!(user = %row.id, "login refused: wrong password");
        return Err(Error::BadCredentials);
    }
    let enrolled = row.totp_enrolled_at.is_some();
    let user = row.into_user(key)?;
    if !enrolled {
        passed(pool, user.id).await?;
        return Ok((user, false));
    }
    // a missing code counts too: otherwise the answer would confirm a guessed password for free
    let code = login.totp.as_deref().ok_or(Error::SecondFactorRequired)?;
    check_totp(pool, key, user.id, code, now).await?;
    passed(pool, user.id).await?;
    Ok((user, true))
}

/// Takes one attempt from `id`'s budget, atomically: false when the account is locked. The
/// fifth attempt in a row locks the account at once (for 15 minutes) and is still checked; if
/// it passes, [`passed`] lifts the lock. Parallel guesses therefore get five checks in all,
/// never more.
async fn take_attempt(pool: &PgPool, id: UserId, now: DateTime<Utc>) -> Result<bool, Error> {
    let taken: Option<i32> = sqlx::query_scalar(
        "with counted as (
             select id, case when locked_until is not null and locked_until <= $2 then 1
                             else failed_logins + 1 end as attempts
             from users where id = $1 for update
         )
         update users u
         set failed_logins = c.attempts,
             locked_until = case when c.attempts >= $3 then $2 + $4 * interval '1 minute' else null end
         from counted c
         where u.id = c.id and (u.locked_until is null or u.locked_until <= $2)
         returning u.failed_logins",
    )
    .bind(id)
    .bind(now)
    .bind(FAILURES_BEFORE_LOCK)
    .bind(LOCK_MINUTES)
    .fetch_optional(pool)
    .await?;
    Ok(taken.is_some())
}

/// Every factor passed: the count of failures starts again.
async fn passed(pool: &PgPool, id: UserId) -> Result<(), Error> {
    sqlx::query("update users set failed_logins = 0, locked_until = null where id = $1")
        .bind(id)
        .execute(pool)
        .await?;
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

async fn totp_state<'e>(db: impl sqlx::PgExecutor<'e>, id: UserId) -> Result<TotpState, Error> {
    let (sealed, enrolled, last_step): (Option<Vec<u8>>, bool, Option<i64>) = sqlx::query_as(
        "select totp_sealed, totp_enrolled_at is not null, totp_last_step from users where id = $1",
    )
    .bind(id)
    .fetch_optional(db)
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
    let mut db = pool.begin().await?;
    confirm_totp_in(&mut db, key, id, code, now).await?;
    db.commit().await?;
    Ok(())
}

/// [`confirm_totp`] in the caller's transaction, audited as the user's own
/// `user.second_factor_enrolled`.
pub async fn confirm_totp_in(
    db: &mut PgConnection,
    key: &DataKey,
    id: UserId,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let totp = totp_state(&mut *db, id).await?;
    if totp.enrolled {
        return Err(Error::AlreadyEnrolled);
    }
    let sealed = totp.sealed.as_deref().ok_or(Error::NoEnrolment)?;
    let step = totp.matching_step(key, id, sealed, code, now)?;
    sqlx::query("update users set totp_enrolled_at = $2, totp_last_step = $3 where id = $1 and totp_enrolled_at is null")
        .bind(id)
        .bind(now)
        .bind(step)
        .execute(&mut *db)
        .await?;
    record(db, &Actor::user(id), "user.second_factor_enrolled", id, json!({})).await?;
    Ok(())
}

/// Checks a one-time code of an enrolled user (an approval, resuming payouts, a reveal) and
/// consumes its step, so it is never accepted again (the update only succeeds for a step newer
/// than the last, also under concurrency). Counted like a login: the attempt is taken before
/// the check ([`take_attempt`]); five wrong codes in a row lock the account for 15 minutes
/// ([`Error::Locked`]); a right one resets the count.
pub async fn verify_totp(
    pool: &PgPool,
    key: &DataKey,
    id: UserId,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if !take_attempt(pool, id, now).await? {
        tracing::warn!(user = %id, "second factor refused: account locked");
        return Err(Error::Locked);
    }
    check_totp(pool, key, id, code, now).await?;
    passed(pool, id).await
}

/// The code check itself, with no counting: callers count.
async fn check_totp(
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

/// Key rotation (`zbor vault rotate`, docs/KEYS.md): users' emails, the blind index logins find
/// them by, and their TOTP secrets move to the current key. Associated with [`User`], so the
/// rotation reaches them through what the crate exports already.
impl User {
    /// Re-keys every user whose email or TOTP secret is sealed under another key version than
    /// `key`'s: the email index is computed again under the current index key and the email
    /// sealed again for it (its record names the index), the TOTP secret sealed again. One short
    /// transaction per user, done once the sealed email carries the current version: a killed
    /// run continues where it stopped. A user whose email index is not what their sealed email
    /// gives under the old key (an altered row) is reported and left as it is.
    pub async fn rekey_all(
        pool: &PgPool,
        key: &DataKey,
        progress: &mut zbor_vault::Progress<'_>,
    ) -> Result<zbor_vault::Rotated, Error> {
        let mut rotated = zbor_vault::Rotated::default();
        let mut after = 0_i64;
        loop {
            let ids: Vec<UserId> = sqlx::query_scalar(
                "select id from users
                 where id > $1
                   and (zbor_key_version(email_sealed) is distinct from $2
                        or (totp_sealed is not null and zbor_key_version(totp_sealed) is distinct from $2))
                 order by id limit 100",
            )
            .bind(after)
            .bind(i32::from(key.version()))
            .fetch_all(pool)
            .await?;
            let Some(last) = ids.last() else { return Ok(rotated) };
            after = last.as_i64();
            for id in ids {
                match rekey_user(pool, key, id).await? {
                    Ok(true) => rotated.rekeyed += 1,
                    Ok(false) => {}
                    Err(reason) => rotated.failed.push(reason),
                }
                if progress(rotated.rekeyed) == std::ops::ControlFlow::Break(()) {
                    rotated.interrupted = true;
                    return Ok(rotated);
                }
            }
        }
    }

    /// Key rotation: users whose email or TOTP secret is not yet sealed under `key`'s version.
    pub async fn count_outdated(pool: &PgPool, key: &DataKey) -> Result<i64, Error> {
        Ok(sqlx::query_scalar(
            "select count(*) from users
             where zbor_key_version(email_sealed) is distinct from $1
                or (totp_sealed is not null and zbor_key_version(totp_sealed) is distinct from $1)",
        )
        .bind(i32::from(key.version()))
        .fetch_one(pool)
        .await?)
    }
}

/// One user of [`User::rekey_all`]: `Ok(true)` re-keyed, `Ok(false)` already current, `Err` why
/// not (ids only).
async fn rekey_user(pool: &PgPool, key: &DataKey, id: UserId) -> Result<Result<bool, String>, Error> {
    let mut db = pool.begin().await?;
    #[allow(clippy::type_complexity)] // the row, as it is read
    let row: Option<(Vec<u8>, Vec<u8>, Option<Vec<u8>>)> =
        sqlx::query_as("select email_index, email_sealed, totp_sealed from users where id = $1 for update")
            .bind(id)
            .fetch_optional(&mut *db)
            .await?;
    let Some((index, sealed, totp)) = row else { return Ok(Ok(false)) };
    let mut changed = false;
    let (mut new_index, mut new_sealed) = (index.clone(), sealed.clone());
    if key.is_outdated(&sealed) {
        let opened =
            key.at_version_of(&sealed).and_then(|old| Ok((old, key.open(&sealed, &email_record(&index))?)));
        let (old, email) = match opened {
            Ok((old, email)) => (old, String::from_utf8(email).unwrap_or_default()),
            Err(e) => return Ok(Err(format!("{id}: its email: {e}"))),
        };
        if email_index(&old, &email) != index {
            return Ok(Err(format!(
                "{id}: its email index is not what its sealed email gives under key version {}; the row \
                 was altered",
                old.version()
            )));
        }
        new_index = email_index(key, &email);
        new_sealed = key.seal(email.as_bytes(), &email_record(&new_index))?;
        changed = true;
    }
    let new_totp = match totp {
        Some(totp) if key.is_outdated(&totp) => match key.reseal(&totp, &totp_record(id)) {
            Ok(resealed) => {
                changed = true;
                Some(resealed)
            }
            Err(e) => return Ok(Err(format!("{id}: its second factor: {e}"))),
        },
        other => other,
    };
    if !changed {
        return Ok(Ok(false));
    }
    let updated =
        sqlx::query("update users set email_index = $2, email_sealed = $3, totp_sealed = $4 where id = $1")
            .bind(id)
            .bind(&new_index)
            .bind(&new_sealed)
            .bind(&new_totp)
            .execute(&mut *db)
            .await;
    if let Err(e) = updated {
        if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("23505") {
            return Ok(Err(format!(
                "{id}: another account has the same email under the current key (added while the rotation \
                 ran); disable one of them, then rotate again"
            )));
        }
        return Err(e.into());
    }
    db.commit().await?;
    Ok(Ok(true))
}
