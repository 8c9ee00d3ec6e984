//! The audit trail of failed logins, kept small on purpose.

use serde_json::json;
use sqlx::PgPool;
use zbor_vault::DataKey;

use crate::{Actor, Error};

/// Counts a failed login against the account tried (by id; the email is personal data and
/// never reaches the log), in 15-minute windows: the first failure of a window and the fifth
/// (the lock) are audited as `anonymous`'s `login_failed`, the rest only counted. One audit row
/// per guess would let a login flood fill the log and queue every privileged action behind the
/// audit chain's lock.
pub async fn note_login_failure(
    pool: &PgPool,
    key: &DataKey,
    email: &str,
    reason: &str,
) -> Result<(), Error> {
    let subject = match crate::user_id_for_email(pool, key, email).await? {
        Some(user) => user.to_string(),
        None => "unknown".to_owned(),
    };
    let mut db = pool.begin().await?;
    let failures: i32 = sqlx::query_scalar(
        "insert into login_failure_windows (subject, window_start, failures)
         values ($1, date_bin('15 minutes', now(), timestamptz '2000-01-01'), 1)
         on conflict (subject, window_start) do update set failures = login_failure_windows.failures + 1
         returning failures",
    )
    .bind(&subject)
    .fetch_one(&mut *db)
    .await?;
    if failures == 1 || failures == 5 {
        let details = json!({ "reason": reason, "failures_in_window": failures });
        zbor_audit::record_in(&mut db, &Actor::ANONYMOUS, "login_failed", Some(&subject), details).await?;
    }
    db.commit().await?;
    Ok(())
}
