//! argon2id password hashes in PHC format (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::Error;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 256;

pub fn check_strength(password: &str) -> Result<(), Error> {
    let chars = password.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&chars) {
        return Err(Error::InvalidField {
            field: "password",
            reason: format!("{MIN_LEN} to {MAX_LEN} characters"),
        });
    }
    Ok(())
}

pub fn hash(password: &str) -> Result<String, Error> {
    let salt_bytes: [u8; 16] = crate::random_bytes()?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|_| Error::Hashing)?;
    // argon2id with OWASP's minimum (m = 19 MiB, t = 2, p = 1): the crate's default
    let hashed = Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|_| Error::Hashing)?;
    Ok(hashed.to_string())
}

pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Most argon2 computations running at once in this process. Each takes ~19 MiB and ~30 ms of
/// a core: a flood of logins queues here instead of filling memory, and never on the async
/// workers that answer every other request.
const VERIFICATIONS_AT_ONCE_MAX: usize = 4;

static VERIFICATIONS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(VERIFICATIONS_AT_ONCE_MAX);

/// [`verify`] on a blocking thread, at most [`VERIFICATIONS_AT_ONCE_MAX`] at a time.
pub async fn verify_off_thread(password: String, phc: String) -> bool {
    let Ok(_permit) = VERIFICATIONS.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || verify(&password, &phc)).await.unwrap_or(false)
}

/// [`hash`] on a blocking thread, sharing [`verify_off_thread`]'s limit.
pub async fn hash_off_thread(password: String) -> Result<String, Error> {
    let Ok(_permit) = VERIFICATIONS.acquire().await else {
        return Err(Error::Hashing);
    };
    tokio::task::spawn_blocking(move || hash(&password)).await.map_err(|_| Error::Hashing)?
}

/// Verifying against this when the email is unknown makes a wrong email cost the same time as a
/// wrong password, so response times do not tell which emails have accounts.
pub fn dummy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$u6Ic8GPFA3l7Ox+OQnAsDFGlmAlq+rgi5g8xHrjZmPU"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_per_salt() {
        let a = hash("correct horse battery").unwrap();
        let b = hash("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse batterY", &a));
        assert!(!verify("anything", "not a hash"));
        assert!(PasswordHash::new(dummy_hash()).is_ok());
        assert!(check_strength("short").is_err());
        assert!(check_strength("twelve chars").is_ok());
    }
}
