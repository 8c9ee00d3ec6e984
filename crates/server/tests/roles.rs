#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Every role × every privileged endpoint: who may, who may not, and how each credential is
//! checked (console session with CSRF token and second factor, API token, bootstrap token).

mod common;

use chrono::Utc;
use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use zbor_auth::{totp, Role};
use zbor_vault::DataKey;

const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const PASSWORD: &str = "correct horse battery staple";

#[derive(Clone, Debug)]
enum Credential {
    None,
    Bearer(String),
    Session { cookie: String, csrf: Option<String> },
}

async fn call(
    app: &Running,
    method: Method,
    path: &str,
    body: Option<Value>,
    credential: &Credential,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.request(method, format!("{}{path}", app.base));
    if let Some(body) = body {
        request = request.json(&body);
    }
    match credential {
        Credential::None => {}
        Credential::Bearer(token) => request = request.bearer_auth(token),
        Credential::Session { cookie, csrf } => {
            request = request.header("cookie", cookie);
            if let Some(csrf) = csrf {
                request = request.header("x-csrf-token", csrf);
            }
        }
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// Logs in over HTTP; returns the session credential.
async fn log_in(app: &Running, email: &str, totp_code: Option<String>) -> Credential {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({ "email": email, "password": PASSWORD, "totp": totp_code }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "login {email}");
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    Credential::Session { cookie, csrf: Some(body["csrf_token"].as_str().unwrap().to_owned()) }
}

fn code_now(secret: &str, offset_steps: i64) -> String {
    let secret = totp::base32_decode(secret).unwrap();
    totp::code(&secret, totp::step_at(Utc::now().timestamp()) + offset_steps)
}

#[tokio::test]
async fn every_role_on_every_privileged_endpoint() {
    let app = start_with(Some(WEBHOOK_SECRET), |c| c.data_key = Some(DATA_KEY.into())).await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    let pool = &app.db.pool;
    let campaign = json!({"slug": "release-123", "title": "Release", "currency": "EUR", "goal": "123000"});
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);

    for (email, role) in [
        ("admin@example.org", Role::Admin),
        ("new-admin@example.org", Role::Admin),
        ("coordinator@example.org", Role::Coordinator),
        ("treasurer@example.org", Role::Treasurer),
        ("new-treasurer@example.org", Role::Treasurer),
        ("target@example.org", Role::Coordinator),
    ] {
        zbor_auth::add_user(pool, &key, email, role, PASSWORD, &zbor_auth::Actor::CLI).await.unwrap();
    }
    // the treasurer enrols a second factor (in an earlier session), then logs in with a code
    let first = log_in(&app, "treasurer@example.org", None).await;
    let (status, enrolment) = call(&app, Method::POST, "/api/v1/me/totp", None, &first).await;
    assert_eq!(status, 200, "{enrolment}");
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/me/totp/confirm",
        Some(json!({"code": code_now(&secret, -1)})),
        &first,
    )
    .await;
    assert_eq!(status, 204);
    let treasurer = log_in(&app, "treasurer@example.org", Some(code_now(&secret, 0))).await;

    // the admin enrols too: admins need the second factor like treasurers
    let first_admin = log_in(&app, "admin@example.org", None).await;
    let (_, admin_enrolment) = call(&app, Method::POST, "/api/v1/me/totp", None, &first_admin).await;
    let admin_secret = admin_enrolment["secret"].as_str().unwrap().to_owned();
    let confirm = Some(json!({"code": code_now(&admin_secret, -1)}));
    assert_eq!(call(&app, Method::POST, "/api/v1/me/totp/confirm", confirm, &first_admin).await.0, 204);
    let admin = log_in(&app, "admin@example.org", Some(code_now(&admin_secret, 0))).await;
    let new_admin = log_in(&app, "new-admin@example.org", None).await; // no second factor yet
    let coordinator = log_in(&app, "coordinator@example.org", None).await;
    let new_treasurer = log_in(&app, "new-treasurer@example.org", None).await; // no second factor yet
    let admin_id: i64 = sqlx::query_scalar("select min(id) from users").fetch_one(pool).await.unwrap();
    let target_id: i64 = sqlx::query_scalar("select max(id) from users").fetch_one(pool).await.unwrap();
    let treasurer_id = zbor_auth::UserId::from_i64(admin_id + 3);
    let admin_token =
        zbor_auth::sessions::create_api_token(pool, zbor_auth::UserId::from_i64(admin_id), "ci")
            .await
            .unwrap();
    let treasurer_token = zbor_auth::sessions::create_api_token(pool, treasurer_id, "bot").await.unwrap();

    let callers: Vec<(&str, Credential, Option<Role>, bool)> = vec![
        ("nobody", Credential::None, None, false),
        ("forged bearer", Credential::Bearer("zbor_forged".into()), None, false),
        // retired: an admin with a second factor exists now
        ("bootstrap", Credential::Bearer(TOKEN.into()), Some(Role::Admin), false),
        ("admin session, second factor", admin.clone(), Some(Role::Admin), true),
        ("admin session, no second factor", new_admin.clone(), Some(Role::Admin), false),
        // tokens never pass a second factor, which admins need
        ("admin token", Credential::Bearer(admin_token.token.clone()), Some(Role::Admin), false),
        ("coordinator session", coordinator.clone(), Some(Role::Coordinator), true),
        ("treasurer session, second factor", treasurer.clone(), Some(Role::Treasurer), true),
        ("treasurer session, no second factor", new_treasurer.clone(), Some(Role::Treasurer), false),
        ("treasurer token", Credential::Bearer(treasurer_token.token.clone()), Some(Role::Treasurer), false),
    ];
    let endpoints: Vec<(Method, String, Option<Value>, &[Role])> = vec![
        (Method::GET, "/api/v1/ledger/accounts".into(), None, &[Role::Admin, Role::Treasurer]),
        (
            Method::GET,
            "/api/v1/ledger/accounts/stripe:balance:EUR".into(),
            None,
            &[Role::Admin, Role::Treasurer],
        ),
        (Method::GET, "/api/v1/ledger/verify".into(), None, &[Role::Admin, Role::Treasurer]),
        // reconciliation: a period backwards is a 422, a JSON body where a statement belongs a 415
        (
            Method::POST,
            "/api/v1/reconciliation/stripe".into(),
            Some(json!({"from": "2026-12-01T00:00:00Z", "to": "2026-11-30T00:00:00Z"})),
            &[Role::Treasurer, Role::Admin],
        ),
        (Method::GET, "/api/v1/reconciliation/stripe/latest".into(), None, &[Role::Treasurer, Role::Admin]),
        (Method::POST, "/api/v1/bank/statements".into(), Some(json!({})), &[Role::Treasurer]),
        (Method::GET, "/api/v1/bank/statements/1".into(), None, &[Role::Treasurer, Role::Admin]),
        (
            Method::POST,
            "/api/v1/campaigns".into(),
            Some(json!({"slug": "x", "title": "t", "currency": "EUR", "goal": "1"})),
            &[Role::Admin, Role::Coordinator],
        ),
        (
            Method::PATCH,
            "/api/v1/campaigns/release-123".into(),
            Some(json!({"title": "Release"})),
            &[Role::Admin, Role::Coordinator],
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(json!({"email": "not valid", "role": "admin", "password": PASSWORD})),
            &[Role::Admin],
        ),
        (
            Method::PATCH,
            format!("/api/v1/users/{target_id}"),
            Some(json!({"role": "coordinator"})),
            &[Role::Admin],
        ),
        // an empty batch: refused as invalid (422) for whoever may create one
        (
            Method::POST,
            "/api/v1/campaigns/release-123/payout-batches".into(),
            Some(json!({"items": []})),
            &[Role::Treasurer],
        ),
        // no such batch: 404 for whoever may look
        (Method::GET, "/api/v1/payout-batches/1".into(), None, &[Role::Treasurer, Role::Admin]),
        // a wrong code: refused as a bad second factor (401) for whoever may approve
        (
            Method::POST,
            "/api/v1/payout-batches/1/approvals".into(),
            Some(json!({"content_hash": "00", "totp": "000000"})),
            &[Role::Treasurer],
        ),
        // after approval: no such batch, payout or file (404), a wrong code (401), or paused (409)
        (Method::GET, "/api/v1/payout-batches".into(), None, &[Role::Treasurer, Role::Admin]),
        (Method::POST, "/api/v1/payout-batches/1/cancel".into(), None, &[Role::Treasurer]),
        (Method::GET, "/api/v1/payouts/1".into(), None, &[Role::Treasurer, Role::Admin]),
        (Method::POST, "/api/v1/payouts/1/retry".into(), None, &[Role::Treasurer]),
        (Method::POST, "/api/v1/payouts/1/cancel".into(), None, &[Role::Treasurer]),
        (Method::POST, "/api/v1/payouts/1/paid".into(), Some(json!({"note": ""})), &[Role::Treasurer]),
        (
            Method::POST,
            "/api/v1/payouts/1/returned".into(),
            Some(json!({"reason": "AC04"})),
            &[Role::Treasurer],
        ),
        (Method::GET, "/api/v1/payouts/switch".into(), None, &[Role::Treasurer, Role::Admin]),
        (
            Method::POST,
            "/api/v1/payouts/pause".into(),
            Some(json!({"reason": ""})),
            &[Role::Treasurer, Role::Admin],
        ),
        (Method::POST, "/api/v1/payouts/resume".into(), Some(json!({"totp": "000000"})), &[Role::Treasurer]),
        (Method::POST, "/api/v1/payout-batches/1/sepa-files".into(), Some(json!({})), &[Role::Treasurer]),
        (Method::GET, "/api/v1/sepa-files/1".into(), None, &[Role::Treasurer, Role::Admin]),
        (
            Method::POST,
            "/api/v1/sepa-files/1/pain.001.xml".into(),
            Some(json!({"totp": "000000"})),
            &[Role::Treasurer],
        ),
        (Method::POST, "/api/v1/sepa-files/1/confirm".into(), None, &[Role::Treasurer]),
        // beneficiaries: a nameless one is refused as invalid (422), no such one is a 404, and
        // a JSON body where a CSV file belongs is a 415, for whoever may
        (
            Method::POST,
            "/api/v1/campaigns/release-123/beneficiaries".into(),
            Some(json!({"name": "", "method": {"kind": "manual"}})),
            &[Role::Treasurer],
        ),
        (
            Method::GET,
            "/api/v1/campaigns/release-123/beneficiaries".into(),
            None,
            &[Role::Treasurer, Role::Admin],
        ),
        (
            Method::GET,
            "/api/v1/campaigns/release-123/beneficiaries/duplicates".into(),
            None,
            &[Role::Treasurer],
        ),
        (
            Method::POST,
            "/api/v1/campaigns/release-123/beneficiaries/import".into(),
            Some(json!({})),
            &[Role::Treasurer],
        ),
        (
            Method::PATCH,
            "/api/v1/beneficiaries/999999".into(),
            Some(json!({"name": "X"})),
            &[Role::Treasurer],
        ),
        (
            Method::POST,
            "/api/v1/beneficiaries/999999/reveal".into(),
            Some(json!({"totp": "000000"})),
            &[Role::Treasurer],
        ),
        // a wrong code: refused as a bad second factor (401) for whoever may confirm
        (
            Method::POST,
            "/api/v1/beneficiaries/confirmations".into(),
            Some(json!({"beneficiaries": [], "totp": "000000"})),
            &[Role::Treasurer],
        ),
        (Method::GET, "/api/v1/beneficiaries/unconfirmed".into(), None, &[Role::Treasurer]),
        // staff: no such user or request (404), a wrong code (401)
        (Method::POST, "/api/v1/users/999999/disable".into(), None, &[Role::Admin, Role::Treasurer]),
        (Method::POST, "/api/v1/users/999999/password-reset".into(), None, &[Role::Admin]),
        (Method::POST, "/api/v1/users/999999/second-factor-reset".into(), None, &[Role::Admin]),
        (Method::DELETE, "/api/v1/users/999999/tokens/1".into(), None, &[Role::Admin, Role::Treasurer]),
        (Method::GET, "/api/v1/staff-requests".into(), None, &[Role::Admin, Role::Treasurer]),
        (
            Method::POST,
            "/api/v1/staff-requests/999999/confirm".into(),
            Some(json!({"code": "000000"})),
            &[Role::Admin, Role::Treasurer],
        ),
        (Method::POST, "/api/v1/staff-requests/999999/cancel".into(), None, &[Role::Admin, Role::Treasurer]),
        // a cohort that fills: not funded (409), a wrong code (401), no such transfer (404)
        (
            Method::GET,
            "/api/v1/campaigns/release-123/cap".into(),
            None,
            &[Role::Admin, Role::Coordinator, Role::Treasurer],
        ),
        (
            Method::GET,
            "/api/v1/campaigns/release-123/surplus-transfers".into(),
            None,
            &[Role::Admin, Role::Coordinator, Role::Treasurer],
        ),
        (
            Method::POST,
            "/api/v1/campaigns/release-123/surplus-transfers".into(),
            Some(json!({"amount": "1.00", "totp": "000000"})),
            &[Role::Treasurer],
        ),
        (
            Method::POST,
            "/api/v1/surplus-transfers/999999/approvals".into(),
            Some(json!({"totp": "000000"})),
            &[Role::Treasurer],
        ),
        (Method::POST, "/api/v1/surplus-transfers/999999/cancel".into(), None, &[Role::Treasurer]),
        // reports: every staff role reads the overview and the exports; only a treasurer may
        // reveal donors (without the one-time code header: a 400 for the treasurer)
        (Method::GET, "/api/v1/overview".into(), None, &[Role::Admin, Role::Treasurer, Role::Coordinator]),
        (
            Method::GET,
            "/api/v1/exports/donations.csv?from=2026-12-01&to=2027-01-01".into(),
            None,
            &[Role::Admin, Role::Treasurer, Role::Coordinator],
        ),
        (
            Method::GET,
            "/api/v1/exports/donations.csv?from=2026-12-01&to=2027-01-01&reveal_donors=true".into(),
            None,
            &[Role::Treasurer],
        ),
        (
            Method::GET,
            "/api/v1/exports/refunds.csv?from=2026-12-01&to=2027-01-01".into(),
            None,
            &[Role::Admin, Role::Treasurer, Role::Coordinator],
        ),
        (
            Method::GET,
            "/api/v1/exports/disputes.csv?from=2026-12-01&to=2027-01-01&campaign=release-123".into(),
            None,
            &[Role::Admin, Role::Treasurer, Role::Coordinator],
        ),
        (
            Method::GET,
            "/api/v1/exports/payouts.csv?from=2026-12-01&to=2027-01-01".into(),
            None,
            &[Role::Admin, Role::Treasurer, Role::Coordinator],
        ),
    ];
    let mut checked = 0;
    for (method, path, body, admitted) in &endpoints {
        for (name, credential, role, complete) in &callers {
            let (status, answer) = call(&app, method.clone(), path, body.clone(), credential).await;
            let allowed = *complete && role.is_some_and(|r| admitted.contains(&r));
            if allowed {
                let code = answer["error"]["code"].as_str().unwrap_or("");
                assert!(
                    !["unauthorized", "forbidden"].contains(&code),
                    "{name} {method} {path}: {status} {answer}"
                );
            } else {
                let expected = if role.is_none() { 401 } else { 403 };
                assert_eq!(status, expected, "{name} {method} {path}: {answer}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, endpoints.len() * callers.len());
    assert!(checked >= 380, "every privileged endpoint is in the matrix: {checked}");
    // no caller, allowed or not, created or revealed a beneficiary
    assert_eq!(app.count("select count(*) from beneficiaries").await, 0);
    assert_eq!(app.count("select count(*) from audit_log where action like 'beneficiary.%'").await, 0);

    // a console change without the CSRF token is refused, even for an admin
    let Credential::Session { cookie, .. } = admin.clone() else { unreachable!() };
    let no_csrf = Credential::Session { cookie, csrf: None };
    let (status, _) =
        call(&app, Method::PATCH, "/api/v1/campaigns/release-123", Some(json!({"title": "x"})), &no_csrf)
            .await;
    assert_eq!(status, 403);
    // reads need none
    assert_eq!(call(&app, Method::GET, "/api/v1/ledger/verify", None, &no_csrf).await.0, 200);
    app.finish().await;
}

#[tokio::test]
async fn login_refuses_wrong_passwords_and_codes_and_logout_ends_the_session() {
    let app = start_with(Some(WEBHOOK_SECRET), |c| c.data_key = Some(DATA_KEY.into())).await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    zbor_auth::add_user(
        &app.db.pool,
        &key,
        "t@example.org",
        Role::Treasurer,
        PASSWORD,
        &zbor_auth::Actor::CLI,
    )
    .await
    .unwrap();
    let (status, error) = app
        .post_json("/api/v1/session", None, &json!({"email": "t@example.org", "password": "wrong password!"}))
        .await;
    assert_eq!((status, error["error"]["code"].as_str().unwrap()), (401, "bad_credentials"));
    let (status, error) = app
        .post_json("/api/v1/session", None, &json!({"email": "nobody@example.org", "password": PASSWORD}))
        .await;
    assert_eq!((status, error["error"]["code"].as_str().unwrap()), (401, "bad_credentials"));
    let (status, _) = app.post_json("/api/v1/session", None, &json!({"email": "t@example.org"})).await;
    assert_eq!(status, 400);

    let session = log_in(&app, "t@example.org", None).await;
    let (_, enrolment) = call(&app, Method::POST, "/api/v1/me/totp", None, &session).await;
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    let (status, _) =
        call(&app, Method::POST, "/api/v1/me/totp/confirm", Some(json!({"code": "12345x"})), &session).await;
    assert_eq!(status, 401);
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/v1/me/totp/confirm",
        Some(json!({"code": code_now(&secret, -1)})),
        &session,
    )
    .await;
    assert_eq!(status, 204);
    // this session passed it by enrolling; a new login needs a code, and a used code fails
    let (_, me) = call(&app, Method::GET, "/api/v1/me", None, &session).await;
    assert_eq!(me["second_factor"], true, "{me}");
    assert_eq!(me["user"]["email"], "t@example.org");
    let (status, error) = app
        .post_json("/api/v1/session", None, &json!({"email": "t@example.org", "password": PASSWORD}))
        .await;
    assert_eq!((status, error["error"]["code"].as_str().unwrap()), (401, "second_factor_required"));
    let (status, _) = app
        .post_json(
            "/api/v1/session",
            None,
            &json!({"email": "t@example.org", "password": PASSWORD, "totp": code_now(&secret, -1)}),
        )
        .await;
    assert_eq!(status, 401, "a code already used is refused");

    let (status, _) = call(&app, Method::DELETE, "/api/v1/session", None, &session).await;
    assert_eq!(status, 204);
    assert_eq!(call(&app, Method::GET, "/api/v1/me", None, &session).await.0, 401);

    // every step is in the audit log, chained, and none of it names the person
    let actions: Vec<String> =
        zbor_audit::recent(&app.db.pool, 100).await.unwrap().into_iter().rev().map(|r| r.action).collect();
    assert_eq!(
        actions,
        ["user.add", "login_failed", "login_failed", "login", "user.second_factor_enrolled", "logout"],
        "one entry per account and window, not one per failure: {actions:?}"
    );
    // the failures are still counted: three for the account, one for an unknown email
    let counted: Vec<(String, i32)> =
        sqlx::query_as("select subject, failures from login_failure_windows order by subject")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let user_id: i64 = sqlx::query_scalar("select id from users").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(counted, vec![("unknown".to_owned(), 1), (format!("user:{user_id}"), 3)]);
    assert!(zbor_audit::verify(&app.db.pool).await.unwrap().is_ok());
    let text: String = sqlx::query_scalar("select string_agg(t::text, ' ') from audit_log t")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(!text.contains("example.org"), "{text}");
    app.finish().await;
}

/// A monthly donor's endpoints take no role: the cancel token from checkout is the capability,
/// and no staff credential stands in for it (tests/monthly.rs cancels with the token).
#[tokio::test]
async fn a_monthly_gift_is_canceled_by_its_token_not_by_a_role() {
    let app = start(Some(WEBHOOK_SECRET)).await;
    for path in ["/api/v1/subscriptions/cancel", "/api/v1/subscriptions/portal"] {
        for credential in [None, Some(TOKEN)] {
            let (status, body) = app.post_json(path, credential, &json!({"token": "zc_guess"})).await;
            assert!(![401, 403].contains(&status), "{path} {credential:?}: {status} {body}");
            // without Stripe configured nothing can be canceled, by anyone
            assert_eq!((status, &body["error"]["code"]), (503, &json!("checkout_not_configured")), "{body}");
        }
    }
    assert_eq!(app.count("select count(*) from audit_log where action like 'subscription.%'").await, 0);
    app.finish().await;
}
