#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Users against the real PostgreSQL: passwords, lockout, TOTP enrolment and replay, sessions and
//! API tokens; nothing about a user in clear in the database.

use chrono::{Duration, Utc};
use zbor_auth::sessions::{self, Via};
use zbor_auth::{
    add_user, authenticate, begin_totp_enrolment, confirm_totp, totp, verify_totp, Error, Login, Role,
};
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

const PASSWORD: &str = "correct horse battery staple";

fn login(email: &str, password: &str, totp: Option<String>) -> Login {
    Login { email: email.into(), password: password.into(), totp }
}

/// The code the app would show for `secret` (base32) at `at`.
fn code_for(enrolment_secret: &str, at: chrono::DateTime<Utc>) -> String {
    let secret = totp::base32_decode(enrolment_secret).unwrap();
    totp::code(&secret, totp::step_at(at.timestamp()))
}

#[tokio::test]
async fn passwords_lockout_and_no_clear_email() {
    let db = TestDb::new(4).await;
    let key = DataKey::generate();
    let user = add_user(&db.pool, &key, " Olga@Example.org ", Role::Coordinator, PASSWORD).await.unwrap();
    assert_eq!(user.email, "olga@example.org");
    assert!(matches!(
        add_user(&db.pool, &key, "olga@example.org", Role::Admin, PASSWORD).await,
        Err(Error::EmailTaken)
    ));
    assert!(matches!(
        add_user(&db.pool, &key, "x@example.org", Role::Admin, "short").await,
        Err(Error::InvalidField { field: "password", .. })
    ));
    assert!(matches!(
        add_user(&db.pool, &key, "not-an-email", Role::Admin, PASSWORD).await,
        Err(Error::InvalidField { field: "email", .. })
    ));
    assert!(!format!("{user:?}").contains("olga"), "Debug must not print the email");

    let dump: String =
        sqlx::query_scalar("select string_agg(t::text, ' ') from users t").fetch_one(&db.pool).await.unwrap();
    assert!(!dump.to_lowercase().contains("olga") && !dump.contains("example.org"), "{dump}");

    let now = Utc::now();
    let (found, second) =
        authenticate(&db.pool, &key, &login("OLGA@example.org", PASSWORD, None), now).await.unwrap();
    assert_eq!((found.id, second), (user.id, false));
    assert!(matches!(
        authenticate(&db.pool, &key, &login("nobody@example.org", PASSWORD, None), now).await,
        Err(Error::BadCredentials)
    ));
    // five wrong passwords lock the account, even against the right one, for 15 minutes
    for _ in 0..5 {
        assert!(matches!(
            authenticate(&db.pool, &key, &login("olga@example.org", "wrong password!", None), now).await,
            Err(Error::BadCredentials)
        ));
    }
    assert!(matches!(
        authenticate(&db.pool, &key, &login("olga@example.org", PASSWORD, None), now).await,
        Err(Error::BadCredentials)
    ));
    let later = now + Duration::minutes(16);
    assert!(authenticate(&db.pool, &key, &login("olga@example.org", PASSWORD, None), later).await.is_ok());
    db.drop_database().await;
}

#[tokio::test]
async fn totp_enrolment_login_and_no_replay() {
    let db = TestDb::new(4).await;
    let key = DataKey::generate();
    let treasurer = add_user(&db.pool, &key, "t@example.org", Role::Treasurer, PASSWORD).await.unwrap();
    let enrolment = begin_totp_enrolment(&db.pool, &key, treasurer.id).await.unwrap();
    assert!(enrolment.otpauth_uri.starts_with("otpauth://totp/zbor:t@example.org?secret="));
    let now = Utc::now();
    let wrong = if code_for(&enrolment.secret, now) == "000000" { "111111" } else { "000000" };
    assert!(matches!(
        confirm_totp(&db.pool, &key, treasurer.id, wrong, now).await,
        Err(Error::BadSecondFactor)
    ));
    confirm_totp(&db.pool, &key, treasurer.id, &code_for(&enrolment.secret, now), now).await.unwrap();
    assert!(matches!(begin_totp_enrolment(&db.pool, &key, treasurer.id).await, Err(Error::AlreadyEnrolled)));

    // once enrolled, login needs a code, and a code is good once
    assert!(matches!(
        authenticate(&db.pool, &key, &login("t@example.org", PASSWORD, None), now).await,
        Err(Error::SecondFactorRequired)
    ));
    let next = now + Duration::seconds(30);
    let code = code_for(&enrolment.secret, next);
    let (_, second) =
        authenticate(&db.pool, &key, &login("t@example.org", PASSWORD, Some(code.clone())), next)
            .await
            .unwrap();
    assert!(second);
    assert!(
        matches!(verify_totp(&db.pool, &key, treasurer.id, &code, next).await, Err(Error::BadSecondFactor)),
        "replayed"
    );
    let after = next + Duration::seconds(30);
    verify_totp(&db.pool, &key, treasurer.id, &code_for(&enrolment.secret, after), after).await.unwrap();
    assert!(matches!(
        verify_totp(&db.pool, &key, treasurer.id, "12345x", after).await,
        Err(Error::BadSecondFactor)
    ));
    db.drop_database().await;
}

#[tokio::test]
async fn sessions_and_api_tokens_are_stored_hashed_and_can_end() {
    let db = TestDb::new(4).await;
    let key = DataKey::generate();
    let admin = add_user(&db.pool, &key, "a@example.org", Role::Admin, PASSWORD).await.unwrap();
    let session = sessions::create_session(&db.pool, admin.id, false).await.unwrap();
    let principal = sessions::from_session(&db.pool, &session.token).await.unwrap().unwrap();
    assert_eq!((principal.user, principal.role), (Some(admin.id), Role::Admin));
    assert_eq!(principal.via, Via::Session { csrf_token: session.csrf_token.clone(), second_factor: false });
    assert!(sessions::from_session(&db.pool, "forged").await.unwrap().is_none());

    let token = sessions::create_api_token(&db.pool, admin.id, "ci").await.unwrap();
    assert!(token.token.starts_with("zbor_"));
    let principal = sessions::from_api_token(&db.pool, &token.token).await.unwrap().unwrap();
    assert_eq!(principal.via, Via::ApiToken);
    assert!(!principal.second_factor());

    let stored: i64 = sqlx::query_scalar(
        "select count(*) from user_sessions s, api_tokens t
         where position(convert_to($1, 'utf8') in s.token_hash) > 0 or position(convert_to($2, 'utf8') in t.token_hash) > 0",
    )
    .bind(&session.token)
    .bind(&token.token)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(stored, 0, "tokens are stored as hashes only");

    assert!(sessions::revoke_api_token(&db.pool, admin.id, token.id).await.unwrap());
    assert!(sessions::from_api_token(&db.pool, &token.token).await.unwrap().is_none());
    sessions::end_session(&db.pool, &session.token).await.unwrap();
    assert!(sessions::from_session(&db.pool, &session.token).await.unwrap().is_none());

    // a role change ends the user's sessions: the new role applies at once
    let again = sessions::create_session(&db.pool, admin.id, false).await.unwrap();
    zbor_auth::set_role(&db.pool, &key, admin.id, Role::Coordinator).await.unwrap();
    assert!(sessions::from_session(&db.pool, &again.token).await.unwrap().is_none());
    db.drop_database().await;
}
