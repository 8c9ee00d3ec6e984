#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Staff accounts that survive a stolen password or a seized phone, tried as an attacker inside
//! the organisation would: one admin cannot mint a treasurer or change a role alone, the
//! bootstrap token retires, a disabled person's devices stop at once, tokens expire, idle
//! sessions end, guessing is rate limited; every change is audited with it.

mod common;

use chrono::Utc;
use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use zbor_auth::{totp, Role};
use zbor_vault::DataKey;

const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const PASSWORD: &str = "correct horse battery staple";

/// Someone logged in to the console.
#[derive(Clone)]
struct Person {
    id: i64,
    cookie: String,
    csrf: String,
    secret: Option<Vec<u8>>,
}

impl Person {
    /// A fresh code: `offset` steps from now (codes are single-use per step; -1, 0, +1 work).
    fn code(&self, offset: i64) -> String {
        totp::code(self.secret.as_ref().unwrap(), totp::step_at(Utc::now().timestamp()) + offset)
    }
}

async fn call(
    app: &Running,
    method: Method,
    path: &str,
    body: Option<Value>,
    who: Option<&Person>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", app.base));
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(who) = who {
        request = request.header("cookie", &who.cookie).header("x-csrf-token", &who.csrf);
    }
    let response = request.send().await.unwrap();
    let headers = response.headers().clone();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null), headers)
}

async fn log_in(
    app: &Running,
    email: &str,
    password: &str,
    code: Option<String>,
) -> (u16, Value, Option<String>) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({ "email": email, "password": password, "totp": code }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned());
    (status, response.json().await.unwrap_or(Value::Null), cookie)
}

/// A user of `role` added on the host, enrolled in TOTP (unless coordinator), logged in with a
/// code.
async fn person(app: &Running, key: &DataKey, email: &str, role: Role) -> Person {
    let user =
        zbor_auth::add_user(&app.db.pool, key, email, role, PASSWORD, &zbor_auth::Actor::CLI).await.unwrap();
    enrolled(app, key, email, user.id.as_i64(), role != Role::Coordinator).await
}

async fn enrolled(app: &Running, key: &DataKey, email: &str, id: i64, second_factor: bool) -> Person {
    let mut secret = None;
    if second_factor {
        let enrolment = zbor_auth::begin_totp_enrolment(&app.db.pool, key, zbor_auth::UserId::from_i64(id))
            .await
            .unwrap();
        let bytes = totp::base32_decode(&enrolment.secret).unwrap();
        let earlier = Utc::now() - chrono::Duration::seconds(60);
        let code = totp::code(&bytes, totp::step_at(earlier.timestamp()));
        zbor_auth::confirm_totp(&app.db.pool, key, zbor_auth::UserId::from_i64(id), &code, earlier)
            .await
            .unwrap();
        secret = Some(bytes);
    }
    let code = secret.as_ref().map(|s| totp::code(s, totp::step_at(Utc::now().timestamp()) - 1));
    let (status, body, cookie) = log_in(app, email, PASSWORD, code).await;
    assert_eq!(status, 200, "{body}");
    Person { id, cookie: cookie.unwrap(), csrf: body["csrf_token"].as_str().unwrap().to_owned(), secret }
}

async fn audit_actions(app: &Running) -> Vec<String> {
    zbor_audit::recent(&app.db.pool, 1000).await.unwrap().into_iter().rev().map(|r| r.action).collect()
}

#[tokio::test]
async fn one_admin_cannot_mint_a_treasurer_or_change_a_role_alone() {
    let app = start_with(None, |c| c.data_key = Some(DATA_KEY.into())).await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    // before any admin has a second factor, the bootstrap token sets up the first people
    let (status, body) = app
        .post_json(
            "/api/v1/users",
            Some(TOKEN),
            &json!({"email": "first@example.org", "role": "admin", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["role_confirmed"], true);
    let first = enrolled(&app, &key, "first@example.org", body["user"]["id"].as_i64().unwrap(), true).await;
    // from now on the bootstrap token is refused: it never expires and is nobody
    let (status, body) = app.get("/api/v1/staff-requests", Some(TOKEN)).await;
    assert_eq!(status, 403, "{body}");
    let treasurer = person(&app, &key, "treasurer@example.org", Role::Treasurer).await;

    // the admin adds a treasurer: the role waits for a second person
    let new = json!({"email": "mallory@example.org", "role": "treasurer", "password": PASSWORD});
    let (status, body, _) = call(&app, Method::POST, "/api/v1/users", Some(new), Some(&first)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["role_confirmed"], false);
    let mallory_id = body["user"]["id"].as_i64().unwrap();
    let request = body["role_request"]["id"].as_i64().unwrap();
    // the new treasurer can log in and enrol, nothing more
    let mallory = enrolled(&app, &key, "mallory@example.org", mallory_id, true).await;
    let (status, body, _) = call(&app, Method::GET, "/api/v1/payout-batches", None, Some(&mallory)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("awaits"), "{body}");
    // nobody confirms their own request or their own account
    let confirm = format!("/api/v1/staff-requests/{request}/confirm");
    let (status, body, _) =
        call(&app, Method::POST, &confirm, Some(json!({"code": first.code(0)})), Some(&first)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("four_eyes")), "{body}");
    let (status, _, _) =
        call(&app, Method::POST, &confirm, Some(json!({"code": mallory.code(0)})), Some(&mallory)).await;
    assert_eq!(status, 403, "an unconfirmed role confirms nothing");
    // a second person, with a fresh code, does
    let (status, body, _) =
        call(&app, Method::POST, &confirm, Some(json!({"code": treasurer.code(0)})), Some(&treasurer)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["confirmed_by"], treasurer.id);
    // the role applies at once: sessions ended, a new login has it
    let (status, _, _) = call(&app, Method::GET, "/api/v1/payout-batches", None, Some(&mallory)).await;
    assert_eq!(status, 401, "the old session ended with the change");
    let (status, _, cookie) = log_in(&app, "mallory@example.org", PASSWORD, Some(mallory.code(1))).await;
    assert_eq!(status, 200);
    let mallory = Person { cookie: cookie.unwrap(), ..mallory };
    let (_, me, _) = call(&app, Method::GET, "/api/v1/me", None, Some(&mallory)).await;
    assert_eq!(me["user"]["role_confirmed"], true, "{me}");

    // nobody changes their own role; a change of someone else's is a request too
    let (status, body, _) = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/users/{}", first.id),
        Some(json!({"role": "treasurer"})),
        Some(&first),
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("four_eyes")), "{body}");
    let (status, body, _) = call(
        &app,
        Method::PATCH,
        &format!("/api/v1/users/{mallory_id}"),
        Some(json!({"role": "admin"})),
        Some(&first),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let role: String = sqlx::query_scalar("select role::text from users where id = $1")
        .bind(mallory_id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(role, "treasurer", "not changed until confirmed");
    // the requester is not a second person
    let request = body["request"]["id"].as_i64().unwrap();
    let (status, _, _) =
        call(&app, Method::POST, &format!("/api/v1/staff-requests/{request}/cancel"), None, Some(&treasurer))
            .await;
    assert_eq!(status, 200);

    // and the database refuses a role change that skips the request
    let err = sqlx::query("update users set role = 'admin' where id = $1")
        .bind(mallory_id)
        .execute(&app.db.pool)
        .await
        .unwrap_err();
    assert_eq!(err.as_database_error().unwrap().constraint(), Some("user_role_four_eyes"));

    // every step is audited, in the same transaction as the change
    let actions = audit_actions(&app).await;
    for action in ["user.add", "staff_request.open", "staff_request.confirm", "staff_request.cancel"] {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
    assert!(zbor_audit::verify(&app.db.pool).await.unwrap().is_ok());
    app.finish().await;
}

#[tokio::test]
async fn resets_need_two_and_cutting_off_needs_one() {
    let app = start_with(None, |c| c.data_key = Some(DATA_KEY.into())).await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    let admin = person(&app, &key, "admin@example.org", Role::Admin).await;
    let other_admin = person(&app, &key, "admin2@example.org", Role::Admin).await;
    let lost = person(&app, &key, "lost@example.org", Role::Treasurer).await;

    // the treasurer's phone was seized: reset their second factor (two admins)
    let (status, body, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/users/{}/second-factor-reset", lost.id),
        None,
        Some(&admin),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let request = body["request"]["id"].as_i64().unwrap();
    let (status, body, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/staff-requests/{request}/confirm"),
        Some(json!({"code": other_admin.code(0)})),
        Some(&other_admin),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(call(&app, Method::GET, "/api/v1/me", None, Some(&lost)).await.0, 401, "sessions ended");
    let (status, body, _) = log_in(&app, "lost@example.org", PASSWORD, None).await;
    assert_eq!(
        (status, body["user"]["second_factor_enrolled"].as_bool()),
        (200, Some(false)),
        "enrols again"
    );

    // a forgotten password: the confirmer gets a temporary one, shown once
    let (_, body, _) =
        call(&app, Method::POST, &format!("/api/v1/users/{}/password-reset", lost.id), None, Some(&admin))
            .await;
    let request = body["request"]["id"].as_i64().unwrap();
    let (status, body, headers) = call(
        &app,
        Method::POST,
        &format!("/api/v1/staff-requests/{request}/confirm"),
        Some(json!({"code": other_admin.code(1)})),
        Some(&other_admin),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let temporary = body["temporary_password"].as_str().unwrap().to_owned();
    assert_eq!(log_in(&app, "lost@example.org", PASSWORD, None).await.0, 401, "the old password is gone");
    let (status, _, cookie) = log_in(&app, "lost@example.org", &temporary, None).await;
    assert_eq!(status, 200);
    let lost = Person { cookie: cookie.unwrap(), ..lost };

    // a detained staff member: one admin disables them; session and token stop at once
    let token =
        zbor_auth::sessions::create_api_token(&app.db.pool, zbor_auth::UserId::from_i64(lost.id), "bot")
            .await
            .unwrap();
    assert_eq!(app.get("/api/v1/me", Some(&token.token)).await.0, 200);
    let (status, _, _) =
        call(&app, Method::POST, &format!("/api/v1/users/{}/disable", lost.id), None, Some(&admin)).await;
    assert_eq!(status, 204);
    assert_eq!(call(&app, Method::GET, "/api/v1/me", None, Some(&lost)).await.0, 401);
    assert_eq!(app.get("/api/v1/me", Some(&token.token)).await.0, 401);
    assert_eq!(log_in(&app, "lost@example.org", &temporary, None).await.0, 401);
    let actions = audit_actions(&app).await;
    assert!(actions.iter().any(|a| a == "user.disable"), "{actions:?}");
    app.finish().await;
}

#[tokio::test]
async fn tokens_expire_and_are_revoked_sessions_idle_out_and_end() {
    let app = start_with(None, |c| {
        c.data_key = Some(DATA_KEY.into());
        c.session_idle_minutes = 5;
    })
    .await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    let admin = person(&app, &key, "admin@example.org", Role::Admin).await;
    let coordinator = person(&app, &key, "c@example.org", Role::Coordinator).await;

    // tokens: 90 days unless asked, at most a year, shown once and never stored by a cache
    let (status, body, headers) =
        call(&app, Method::POST, "/api/v1/me/tokens", Some(json!({"name": "sheet"})), Some(&coordinator))
            .await;
    assert_eq!((status, body["expires_in_days"].as_i64()), (201, Some(90)), "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let token = body["token"].as_str().unwrap().to_owned();
    let token_id = body["id"].as_i64().unwrap();
    let (status, _, _) = call(
        &app,
        Method::POST,
        "/api/v1/me/tokens",
        Some(json!({"name": "forever", "expires_in_days": 10000})),
        Some(&coordinator),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, 200);
    sqlx::query("update api_tokens set expires_at = now() - interval '1 second', created_at = now() - interval '91 days' where id = $1")
        .bind(token_id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.0, 401, "expired");

    // revoked by the owner, or by an admin
    let (_, body, _) =
        call(&app, Method::POST, "/api/v1/me/tokens", Some(json!({"name": "a"})), Some(&coordinator)).await;
    let (own, own_id) = (body["token"].as_str().unwrap().to_owned(), body["id"].as_i64().unwrap());
    let (_, body, _) =
        call(&app, Method::POST, "/api/v1/me/tokens", Some(json!({"name": "b"})), Some(&coordinator)).await;
    let (other, other_id) = (body["token"].as_str().unwrap().to_owned(), body["id"].as_i64().unwrap());
    let (_, listed, _) = call(&app, Method::GET, "/api/v1/me/tokens", None, Some(&coordinator)).await;
    assert_eq!(listed["tokens"].as_array().unwrap().len(), 3);
    assert!(!listed.to_string().contains("zbor_"), "never the token itself");
    assert_eq!(
        call(&app, Method::DELETE, &format!("/api/v1/me/tokens/{own_id}"), None, Some(&coordinator)).await.0,
        204
    );
    assert_eq!(app.get("/api/v1/me", Some(&own)).await.0, 401);
    assert_eq!(
        call(&app, Method::DELETE, &format!("/api/v1/me/tokens/{other_id}"), None, Some(&admin)).await.0,
        404,
        "not the admin's own"
    );
    let path = format!("/api/v1/users/{}/tokens/{other_id}", coordinator.id);
    assert_eq!(call(&app, Method::DELETE, &path, None, Some(&admin)).await.0, 204);
    assert_eq!(app.get("/api/v1/me", Some(&other)).await.0, 401);

    // sessions: listed (never the token), ended one by one, and ended after 30 idle minutes
    let (_, _, cookie) = log_in(&app, "c@example.org", PASSWORD, None).await;
    let laptop = Person { cookie: cookie.unwrap(), ..coordinator.clone() };
    let (_, listed, _) = call(&app, Method::GET, "/api/v1/me/sessions", None, Some(&coordinator)).await;
    let sessions = listed["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{listed}");
    let laptop_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"].as_i64().unwrap();
    let path = format!("/api/v1/me/sessions/{laptop_id}");
    assert_eq!(call(&app, Method::DELETE, &path, None, Some(&coordinator)).await.0, 204);
    assert_eq!(
        call(&app, Method::GET, "/api/v1/me", None, Some(&laptop)).await.0,
        401,
        "the lost laptop is out"
    );
    // ZBOR_SESSION_IDLE_MINUTES is 5 here: four idle minutes are fine, six are not
    sqlx::query("update user_sessions set last_seen_at = now() - interval '4 minutes' where user_id = $1")
        .bind(coordinator.id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        call(&app, Method::GET, "/api/v1/me", None, Some(&coordinator)).await.0,
        200,
        "idle 4 minutes"
    );
    sqlx::query("update user_sessions set last_seen_at = now() - interval '6 minutes' where user_id = $1")
        .bind(coordinator.id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(call(&app, Method::GET, "/api/v1/me", None, Some(&coordinator)).await.0, 401, "idle too long");

    // one's own password: the current one is needed, other sessions end
    let (_, _, a) = log_in(&app, "c@example.org", PASSWORD, None).await;
    let (_, _, b) = log_in(&app, "c@example.org", PASSWORD, None).await;
    let (a, b) = (
        Person { cookie: a.unwrap(), ..coordinator.clone() },
        Person { cookie: b.unwrap(), ..coordinator.clone() },
    );
    let a = Person {
        csrf: call(&app, Method::GET, "/api/v1/me", None, Some(&a)).await.1["csrf_token"]
            .as_str()
            .unwrap()
            .to_owned(),
        ..a
    };
    let change =
        json!({"current_password": "not my password", "new_password": "a much longer new passphrase"});
    assert_eq!(call(&app, Method::POST, "/api/v1/me/password", Some(change), Some(&a)).await.0, 401);
    let change = json!({"current_password": PASSWORD, "new_password": "a much longer new passphrase"});
    assert_eq!(call(&app, Method::POST, "/api/v1/me/password", Some(change), Some(&a)).await.0, 204);
    assert_eq!(call(&app, Method::GET, "/api/v1/me", None, Some(&a)).await.0, 200, "this session stays");
    assert_eq!(call(&app, Method::GET, "/api/v1/me", None, Some(&b)).await.0, 401, "the others end");
    let actions = audit_actions(&app).await;
    for action in
        ["user.api_token_create", "user.api_token_revoke", "user.session_end", "user.password_change"]
    {
        assert!(actions.iter().any(|x| x == action), "{action} in {actions:?}");
    }
    app.finish().await;
}

#[tokio::test]
async fn logins_and_checkouts_are_rate_limited_per_address() {
    let app = start_with(None, |c| {
        c.data_key = Some(DATA_KEY.into());
        c.login_attempts_per_minute = 3;
        c.checkouts_per_minute = 2;
    })
    .await;
    // checkouts: counted before anything else (here Stripe is not even configured: 503 until then)
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let (status, _) = app
            .post_json(
                "/api/v1/campaigns/release-123/checkout",
                None,
                &json!({"amount": "25.00", "anonymous": true}),
            )
            .await;
        statuses.push(status);
        if status == 429 {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert!(statuses[..statuses.len() - 1].iter().all(|s| *s == 503), "{statuses:?}");
    let mut limited = None;
    // a window may turn over mid-way: at most twice the limit gets through
    for _ in 0..7 {
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/session", app.base))
            .json(&json!({"email": "nobody@example.org", "password": "wrong password!"}))
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status(), 401);
    }
    let limited = limited.expect("the fourth attempt of a minute is refused");
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // counted in Redis under this deployment's prefix, so every instance shares it
    let mut redis =
        redis::Client::open(std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()))
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}rate:login:*", app.redis_prefix))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let app = start_with(None, |c| {
        c.data_key = Some(DATA_KEY.into());
        c.public_url = "https://give.example.org".into();
    })
    .await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    zbor_auth::add_user(
        &app.db.pool,
        &key,
        "c@example.org",
        Role::Coordinator,
        PASSWORD,
        &zbor_auth::Actor::CLI,
    )
    .await
    .unwrap();
    for path in ["/health/live", "/api/v1/campaigns/none", "/give/none"] {
        let response = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
        assert_eq!(response.headers()["x-content-type-options"], "nosniff", "{path}");
        assert!(
            response.headers()["strict-transport-security"].to_str().unwrap().contains("max-age="),
            "{path}"
        );
    }
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({"email": "c@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("__Host-zbor_session=")
            && cookie.contains("; Secure")
            && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain"), "{cookie}");
    // the __Host- cookie is what the server reads back
    let value = cookie.split(';').next().unwrap().to_owned();
    let me = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.base))
        .header("cookie", value)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    app.finish().await;
}
