//! The people who run zbor and how they prove it.
//!
//! - **Roles**: admin (people, campaigns), treasurer (payouts, beneficiaries), coordinator
//!   (campaigns). Every privileged endpoint names the roles it admits.
//! - **Passwords**: argon2id with per-user salt (OWASP's parameters); five failures lock the
//!   account for 15 minutes; a wrong email and a wrong password look the same to the caller.
//! - **Second factor**: TOTP (RFC 6238). Required for treasurers and admins: until one has
//!   enrolled and entered a code in this session, their session may do nothing but enrol.
//! - **Four eyes on staff** ([`staff`]): granting a role, resetting a password or a second
//!   factor need a second admin or treasurer; disabling someone, revoking a token need one.
//! - **Sessions** for the console: a random cookie token (only its SHA-256 stored) with a CSRF
//!   token the console sends back on every change. **API tokens** for automation: `zbor_…`,
//!   shown once, only the SHA-256 stored.
//! - Emails are sealed and found through a keyed blind index, so a copy of the database does not
//!   list the organisation's staff.

mod login_failures;
mod password;
pub mod sessions;
pub mod staff;
pub mod totp;
mod users;

use serde::{Deserialize, Serialize};

/// Users are named by the id the audit log names them by; every change to an account appends
/// its entry as this `Actor`, in the change's own transaction.
pub use zbor_audit::{Actor, UserId};

pub use login_failures::note_login_failure;
pub use sessions::{ApiToken, NewSession, Principal, Via};
pub use users::{
    add_user, add_user_in, authenticate, begin_totp_enrolment, check_password_change, confirm_totp,
    confirm_totp_in, set_password_in, set_role, user, user_id_for_email, verify_totp, Login, TotpEnrolment,
    User,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "user_role", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Treasurer,
    Coordinator,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Treasurer, Role::Coordinator];

    pub fn parse(text: &str) -> Result<Role, Error> {
        match text.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "treasurer" => Ok(Role::Treasurer),
            "coordinator" => Ok(Role::Coordinator),
            other => Err(Error::InvalidField {
                field: "role",
                reason: format!("{other:?} is not admin, treasurer or coordinator"),
            }),
        }
    }

    /// Treasurers move money and admins grant power: both must pass a second factor.
    pub fn needs_second_factor(self) -> bool {
        match self {
            Role::Admin | Role::Treasurer => true,
            Role::Coordinator => false,
        }
    }

    /// Roles whose grant needs a second person's confirmation.
    pub fn is_privileged(self) -> bool {
        self.needs_second_factor()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field} is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error("user not found")]
    UserNotFound,
    /// Wrong email, wrong password, disabled or locked: the caller is not told which.
    #[error("email or password is wrong, or the account is locked")]
    BadCredentials,
    #[error("a one-time code from the authenticator app is required")]
    SecondFactorRequired,
    #[error("the one-time code is wrong or was already used")]
    BadSecondFactor,
    /// Five failed attempts in a row (passwords or codes): no factor is checked for 15 minutes.
    #[error("too many failed attempts: the account is locked for 15 minutes")]
    Locked,
    /// Four eyes: the same person on both sides of a control.
    #[error("{0}")]
    FourEyes(String),
    #[error("{0}")]
    Conflict(String),
    #[error("staff request {0} not found")]
    RequestNotFound(i64),
    #[error("the second factor is already enrolled")]
    AlreadyEnrolled,
    #[error("no second-factor enrolment is pending")]
    NoEnrolment,
    /// Something only a person may do (confirm a request), done by the bootstrap token or the
    /// command line.
    #[error("{0} needs a staff user's account, not the bootstrap token or the command line")]
    NeedsUser(&'static str),
    #[error("personal data: {0}")]
    Vault(#[from] zbor_vault::Error),
    #[error("audit: {0}")]
    Audit(#[from] zbor_audit::Error),
    #[error("password hashing failed")]
    Hashing,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl zbor_errors::Classified for Error {
    fn kind(&self) -> zbor_errors::ErrorKind {
        use zbor_errors::ErrorKind as K;
        match self {
            Error::InvalidField { .. } => K::Invalid,
            Error::UserNotFound | Error::RequestNotFound(_) => K::NotFound,
            Error::BadCredentials | Error::SecondFactorRequired | Error::BadSecondFactor => {
                K::Unauthenticated
            }
            Error::Locked => K::RateLimited,
            Error::FourEyes(_) | Error::NeedsUser(_) => K::Forbidden,
            Error::EmailTaken | Error::Conflict(_) | Error::AlreadyEnrolled | Error::NoEnrolment => {
                K::Conflict
            }
            Error::Vault(_) | Error::Audit(_) | Error::Hashing | Error::Database(_) => K::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Error::BadCredentials => "bad_credentials",
            Error::SecondFactorRequired => "second_factor_required",
            Error::BadSecondFactor => "bad_second_factor",
            Error::Locked => "account_locked",
            Error::FourEyes(_) => "four_eyes",
            other => zbor_errors::default_code(other.kind()),
        }
    }
}

/// Appends what `actor` did to `user`'s account to the audit log, in the action's transaction:
/// the change and its evidence commit together or not at all. The log line names ids and the
/// action only, never the email.
pub(crate) async fn record(
    db: &mut sqlx::PgConnection,
    actor: &Actor,
    action: &str,
    user: UserId,
    details: serde_json::Value,
) -> Result<(), Error> {
    zbor_audit::record_in(db, actor, action, Some(&user.to_string()), details).await?;
    tracing::info!(user = %user, actor = %actor.name(), action, "staff account changed");
    Ok(())
}

/// 32 random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|_| Error::Hashing)?;
    Ok(bytes)
}

pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}
