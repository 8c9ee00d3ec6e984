#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test support
//! Treasurers as the console makes them: enrolled second factor, logged in with a code, calling
//! the API with the session cookie and CSRF token.

use chrono::Utc;
use serde_json::{json, Value};
use zbor_auth::{totp, Role};
use zbor_vault::DataKey;

use super::Running;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Treasurer {
    pub id: i64,
    pub cookie: String,
    pub csrf: String,
    pub secret: Vec<u8>,
}

impl Treasurer {
    /// The id as the domain crates take it.
    pub fn user(&self) -> zbor_auth::UserId {
        zbor_auth::UserId::from_i64(self.id)
    }
}

pub async fn post(app: &Running, path: &str, body: Value, who: &Treasurer) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// Adds a treasurer, enrols their second factor (the way the app does it) and logs in with a code.
pub async fn treasurer(app: &Running, key: &DataKey, email: &str) -> Treasurer {
    let user =
        zbor_auth::add_user(&app.db.pool, key, email, Role::Treasurer, PASSWORD, &zbor_auth::Actor::CLI)
            .await
            .unwrap();
    let enrolment = zbor_auth::begin_totp_enrolment(&app.db.pool, key, user.id).await.unwrap();
    let secret = totp::base32_decode(&enrolment.secret).unwrap();
    let earlier = Utc::now() - chrono::Duration::seconds(30);
    zbor_auth::confirm_totp(
        &app.db.pool,
        key,
        user.id,
        &totp::code(&secret, totp::step_at(earlier.timestamp())),
        earlier,
    )
    .await
    .unwrap();
    let now_code = totp::code(&secret, totp::step_at(Utc::now().timestamp()));
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({ "email": email, "password": PASSWORD, "totp": now_code }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    Treasurer { id: user.id.as_i64(), cookie, csrf: body["csrf_token"].as_str().unwrap().to_owned(), secret }
}

/// The next code of the app: one step ahead, as codes are single-use per step.
pub fn next_code(who: &Treasurer) -> String {
    totp::code(&who.secret, totp::step_at(Utc::now().timestamp()) + 1)
}
