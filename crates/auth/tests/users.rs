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
    let user =
        add_user(&db.pool, &key, " Olga@Example.org ", Role::Coordinator, PASSWORD, &zbor_auth::Actor::CLI)
            .await
            .unwrap();
    assert_eq!(user.email, "olga@example.org");
    assert!(matches!(
        add_user(&db.pool, &key, "olga@example.org", Role::Admin, PASSWORD, &zbor_auth::Actor::CLI).await,
        Err(Error::EmailTaken)
    ));
    assert!(matches!(
        add_user(&db.pool, &key, "x@example.org", Role::Admin, "short", &zbor_auth::Actor::CLI).await,
        Err(Error::InvalidField { field: "password", .. })
    ));
    assert!(matches!(
        add_user(&db.pool, &key, "not-an-email", Role::Admin, PASSWORD, &zbor_auth::Actor::CLI).await,
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
    let treasurer =
        add_user(&db.pool, &key, "t@example.org", Role::Treasurer, PASSWORD, &zbor_auth::Actor::CLI)
            .await
            .unwrap();
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
    let admin = add_user(&db.pool, &key, "a@example.org", Role::Admin, PASSWORD, &zbor_auth::Actor::CLI)
        .await
        .unwrap();
    let session = sessions::create_session(&db.pool, admin.id, false).await.unwrap();
    let principal = sessions::from_session(&db.pool, &session.token, 30).await.unwrap().unwrap();
    assert_eq!((principal.user, principal.role), (Some(admin.id), Role::Admin));
    assert_eq!(principal.via, Via::Session { csrf_token: session.csrf_token.clone(), second_factor: false });
    assert!(sessions::from_session(&db.pool, "forged", 30).await.unwrap().is_none());

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

    let mut tx = db.pool.begin().await.unwrap();
    let own = zbor_auth::Actor::user(admin.id);
    assert!(zbor_auth::staff::revoke_token(&mut tx, token.id, Some(admin.id), &own).await.unwrap());
    tx.commit().await.unwrap();
    assert!(sessions::from_api_token(&db.pool, &token.token).await.unwrap().is_none());
    sessions::end_session(&db.pool, &session.token).await.unwrap();
    assert!(sessions::from_session(&db.pool, &session.token, 30).await.unwrap().is_none());

    // a role change ends the user's sessions: the new role applies at once
    let again = sessions::create_session(&db.pool, admin.id, false).await.unwrap();
    zbor_auth::set_role(&db.pool, &key, admin.id, Role::Coordinator, &zbor_auth::Actor::CLI).await.unwrap();
    assert!(sessions::from_session(&db.pool, &again.token, 30).await.unwrap().is_none());

    // every change above left its entry, written by the change itself, naming who did it
    let logged: Vec<(String, String, Option<String>)> =
        sqlx::query_as("select actor, action, subject from audit_log order by seq")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let me = admin.id.to_string();
    let entry = |actor: &str, action: &str, subject: Option<&str>| {
        (actor.to_owned(), action.to_owned(), subject.map(str::to_owned))
    };
    assert_eq!(
        logged,
        vec![
            entry("cli", "user.add", Some(&me)),
            entry(&me, "login", None),
            entry(&me, "user.api_token_create", Some(&me)),
            entry(&me, "user.api_token_revoke", Some(&me)),
            entry(&me, "logout", None),
            entry(&me, "login", None),
            entry("cli", "user.role_change", Some(&me)),
        ]
    );
    db.drop_database().await;
}

/// An enrolled treasurer, their enrolment secret, and a time at which no code was used yet.
async fn enrolled(db: &TestDb, key: &DataKey, email: &str) -> (zbor_auth::User, String) {
    let user =
        add_user(&db.pool, key, email, Role::Treasurer, PASSWORD, &zbor_auth::Actor::CLI).await.unwrap();
    let enrolment = begin_totp_enrolment(&db.pool, key, user.id).await.unwrap();
    let before = Utc::now() - Duration::minutes(5);
    confirm_totp(&db.pool, key, user.id, &code_for(&enrolment.secret, before), before).await.unwrap();
    (user, enrolment.secret)
}

/// A code that is not the right one at `at` (nor in the step either side).
fn wrong_code(secret: &str, at: chrono::DateTime<Utc>, n: u32) -> String {
    let near: Vec<String> = (-1..=1).map(|s| code_for(secret, at + Duration::seconds(30 * s))).collect();
    (n..).map(|k| format!("{:06}", (k * 7919) % 1_000_000)).find(|c| !near.contains(c)).unwrap()
}

#[tokio::test]
async fn wrong_codes_count_and_lock_with_the_right_password() {
    let db = TestDb::new(8).await;
    let key = DataKey::generate();
    let (_, secret) = enrolled(&db, &key, "t@example.org").await;
    let now = Utc::now();
    // the right password with wrong codes: counted, and locked after five
    for n in 0..5 {
        let code = wrong_code(&secret, now, n);
        assert!(matches!(
            authenticate(&db.pool, &key, &login("t@example.org", PASSWORD, Some(code)), now).await,
            Err(Error::BadSecondFactor)
        ));
    }
    // locked: the right password and the right code are refused, and it looks like any failure
    let right = code_for(&secret, now);
    assert!(matches!(
        authenticate(&db.pool, &key, &login("t@example.org", PASSWORD, Some(right.clone())), now).await,
        Err(Error::BadCredentials)
    ));
    // a missing code counts as a failure too (else it would confirm a guessed password freely)
    let later = now + Duration::minutes(16);
    for _ in 0..5 {
        assert!(matches!(
            authenticate(&db.pool, &key, &login("t@example.org", PASSWORD, None), later).await,
            Err(Error::SecondFactorRequired)
        ));
    }
    let right_later = code_for(&secret, later);
    assert!(matches!(
        authenticate(&db.pool, &key, &login("t@example.org", PASSWORD, Some(right_later)), later).await,
        Err(Error::BadCredentials)
    ));
    // after the lock, both factors pass and the count starts again
    let much_later = later + Duration::minutes(16);
    for n in 0..4 {
        let code = wrong_code(&secret, much_later, n);
        assert!(authenticate(&db.pool, &key, &login("t@example.org", PASSWORD, Some(code)), much_later)
            .await
            .is_err());
    }
    let code = code_for(&secret, much_later);
    authenticate(&db.pool, &key, &login("t@example.org", PASSWORD, Some(code)), much_later).await.unwrap();
    let failures: i32 =
        sqlx::query_scalar("select failed_logins from users").fetch_one(&db.pool).await.unwrap();
    assert_eq!(failures, 0);
    db.drop_database().await;
}

#[tokio::test]
async fn parallel_guesses_get_five_checks_in_all() {
    let db = TestDb::new(40).await;
    let key = DataKey::generate();
    let (_, secret) = enrolled(&db, &key, "t@example.org").await;
    let now = Utc::now();
    let right = code_for(&secret, now);
    // 32 guesses at once with the right password, the right code among them at position 16
    let mut guesses = Vec::new();
    for n in 0..32u32 {
        let code = if n == 16 { right.clone() } else { wrong_code(&secret, now, n) };
        let (pool, key) = (db.pool.clone(), key.clone());
        guesses.push(tokio::spawn(async move {
            authenticate(&pool, &key, &login("t@example.org", PASSWORD, Some(code)), now).await
        }));
    }
    let mut checked = 0;
    let mut locked_out = 0;
    let mut passed = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            Ok(_) => passed += 1,
            Err(Error::BadSecondFactor) => checked += 1,
            Err(Error::BadCredentials) => locked_out += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(
        checked + passed <= 5,
        "{checked} wrong codes and {passed} right were checked: the budget is five"
    );
    assert_eq!(checked + passed + locked_out, 32);
    db.drop_database().await;
}

#[tokio::test]
async fn codes_for_approvals_count_too() {
    let db = TestDb::new(4).await;
    let key = DataKey::generate();
    let (user, secret) = enrolled(&db, &key, "t@example.org").await;
    let now = Utc::now();
    for n in 0..5 {
        assert!(matches!(
            verify_totp(&db.pool, &key, user.id, &wrong_code(&secret, now, n), now).await,
            Err(Error::BadSecondFactor)
        ));
    }
    assert!(matches!(
        verify_totp(&db.pool, &key, user.id, &code_for(&secret, now), now).await,
        Err(Error::Locked)
    ));
    // and the lock holds at login as well
    assert!(matches!(
        authenticate(&db.pool, &key, &login("t@example.org", PASSWORD, Some(code_for(&secret, now))), now)
            .await,
        Err(Error::BadCredentials)
    ));
    let later = now + Duration::minutes(16);
    verify_totp(&db.pool, &key, user.id, &code_for(&secret, later), later).await.unwrap();
    db.drop_database().await;
}
