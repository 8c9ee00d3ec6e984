//! Logging in and out, the second factor, API tokens, and managing users.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::Json;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use zbor_auth::staff::RequestKind;
use zbor_auth::{sessions, Login, Role, UserId, Via};
use zbor_errors::Classified;
use zbor_vault::DataKey;

use super::auth::{session_token, Caller, PEOPLE_ADMIN, SECURE_SESSION_COOKIE, SESSION_COOKIE};
use super::extract::{ApiJson, ApiPath};
use super::{ApiError, AppState};

/// This area's routes; `http::router` merges every area's.
pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::from(
        Router::new()
            .route("/api/v1/session", post(login).delete(logout))
            .route("/api/v1/me", get(me))
            .route("/api/v1/me/totp", post(totp_begin))
            .route("/api/v1/me/totp/confirm", post(totp_confirm))
            .route("/api/v1/me/tokens", post(create_token).get(list_tokens))
            .route("/api/v1/me/tokens/{id}", delete(revoke_own_token))
            .route("/api/v1/me/sessions", get(list_sessions))
            .route("/api/v1/me/sessions/{id}", delete(end_own_session))
            .route("/api/v1/me/password", post(change_password))
            .route("/api/v1/users", post(create_user))
            .route("/api/v1/users/{id}", patch(update_user))
            .route("/api/v1/users/{id}/disable", post(disable_user))
            .route("/api/v1/users/{id}/password-reset", post(request_password_reset))
            .route("/api/v1/users/{id}/second-factor-reset", post(request_second_factor_reset))
            .route("/api/v1/users/{id}/tokens/{token}", delete(revoke_token))
            .route("/api/v1/staff-requests", get(list_requests))
            .route("/api/v1/staff-requests/{id}/confirm", post(confirm_request))
            .route("/api/v1/staff-requests/{id}/cancel", post(cancel_request)),
    )
}

fn data_key(state: &AppState) -> Result<&DataKey, ApiError> {
    state.data_key.as_ref().ok_or(ApiError::PeopleNotConfigured)
}

/// Served over TLS (the public address is https): `__Host-zbor_session`, `Secure`, so only this
/// origin over https ever sets or reads it. Plain http is development on loopback only.
fn session_cookie(state: &AppState, value: &str, max_age_seconds: i64) -> String {
    if state.public_url_https {
        format!("{SECURE_SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}; Secure")
    } else {
        format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}")
    }
}

/// `POST /api/v1/session {email, password, totp?}`: a console session as an HttpOnly cookie,
/// and the CSRF token the console sends back on every change.
pub async fn login(
    State(state): State<AppState>,
    client: super::limits::ClientAddress,
    ApiJson(login): ApiJson<Login>,
) -> Result<Response, ApiError> {
    super::limits::check(&state, state.limits.login, client).await?;
    let key = data_key(&state)?;
    let (user, second_factor) =
        match zbor_auth::authenticate(&state.pool, key, &login, chrono::Utc::now()).await {
            Ok(authenticated) => authenticated,
            Err(e) => {
                // counted against the account tried (by id; the email is personal data)
                if e.is_client_error() {
                    zbor_auth::note_login_failure(&state.pool, key, &login.email, &e.to_string()).await?;
                }
                return Err(e.into());
            }
        };
    let session = sessions::create_session(&state.pool, user.id, second_factor).await?;
    let max_age = session.expires_at.signed_duration_since(chrono::Utc::now()).num_seconds();
    tracing::info!(user = %user.id, second_factor, "logged in");
    let body = json!({
        "user": { "id": user.id, "role": user.role, "second_factor_enrolled": user.second_factor_enrolled,
                  "role_confirmed": user.role_confirmed },
        "second_factor": second_factor,
        "csrf_token": session.csrf_token,
        "expires_at": session.expires_at,
    });
    Ok(([(header::SET_COOKIE, session_cookie(&state, &session.token, max_age))], NO_STORE, Json(body))
        .into_response())
}

/// Responses that carry a credential or a secret are never stored by a browser or a proxy.
pub(super) const NO_STORE: [(header::HeaderName, &str); 1] = [(header::CACHE_CONTROL, "no-store")];

/// `DELETE /api/v1/session`: ends the session (and clears the cookie).
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let (Via::Session { .. }, Some(token)) = (&caller.0.via, session_token(&headers)) {
        sessions::end_session(&state.pool, &token).await?;
    }
    Ok(([(header::SET_COOKIE, session_cookie(&state, "", 0))], StatusCode::NO_CONTENT).into_response())
}

/// `GET /api/v1/me`
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let principal = caller.0;
    let csrf_token = match &principal.via {
        Via::Session { csrf_token, .. } => Some(csrf_token.clone()),
        Via::ApiToken | Via::Bootstrap => None,
    };
    let user = match principal.user {
        Some(id) => Some(zbor_auth::user(&state.pool, data_key(&state)?, id).await?),
        None => None,
    };
    Ok(Json(json!({
        "user": user,
        "role": principal.role,
        "second_factor": principal.second_factor(),
        "csrf_token": csrf_token,
    })))
}

/// `POST /api/v1/me/totp`: starts enrolment; the secret is shown once.
pub async fn totp_begin(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let user = caller.user_id()?;
    let enrolment = zbor_auth::begin_totp_enrolment(&state.pool, data_key(&state)?, user).await?;
    Ok((NO_STORE, Json(enrolment)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    code: String,
}

/// `POST /api/v1/me/totp/confirm {code}`: completes enrolment; this session has now passed it.
pub async fn totp_confirm(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(code): ApiJson<Code>,
) -> Result<StatusCode, ApiError> {
    let user = caller.user_id()?;
    let mut db = state.pool.begin().await?;
    zbor_auth::confirm_totp_in(&mut db, data_key(&state)?, user, &code.code, chrono::Utc::now()).await?;
    if let Some(token) = session_token(&headers) {
        sessions::mark_second_factor_in(&mut db, &token).await?;
    }
    db.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    /// Days until it expires: 1 to 366, 90 when not given.
    expires_in_days: Option<i64>,
}

/// `POST /api/v1/me/tokens {name, expires_in_days?}`: an API token for automation, shown once;
/// it expires (90 days by default). Tokens never pass the second factor, so a treasurer's or
/// admin's token reaches only what needs no second factor.
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewToken>,
) -> Result<Response, ApiError> {
    caller.require(&Role::ALL)?;
    let user = caller.user_id()?;
    let days = new.expires_in_days.unwrap_or(sessions::API_TOKEN_DAYS_DEFAULT);
    let mut db = state.pool.begin().await?;
    let token = sessions::create_api_token_in(&mut db, user, &new.name, days).await?;
    db.commit().await?;
    let body = json!({ "id": token.id, "token": token.token, "expires_in_days": days });
    Ok((StatusCode::CREATED, NO_STORE, Json(body)).into_response())
}

/// `GET /api/v1/me/tokens`: one's own API tokens (never the token itself).
pub async fn list_tokens(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let user = caller.user_id()?;
    Ok(Json(json!({ "tokens": zbor_auth::staff::tokens_of(&state.pool, user).await? })))
}

/// `DELETE /api/v1/me/tokens/{id}`: revokes one's own token at once.
pub async fn revoke_own_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    revoke(&state, &caller, caller.user_id()?, id).await
}

/// `DELETE /api/v1/users/{id}/tokens/{token}` (admin, or a treasurer: cutting off needs one
/// person): revokes anyone's token at once.
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((user, token)): ApiPath<(UserId, i64)>,
) -> Result<StatusCode, ApiError> {
    caller.require(CUT_OFF)?;
    revoke(&state, &caller, user, token).await
}

/// Revokes `owner`'s live token `token` as the caller (the entry is zbor-auth's).
async fn revoke(
    state: &AppState,
    caller: &Caller,
    owner: UserId,
    token: i64,
) -> Result<StatusCode, ApiError> {
    let mut db = state.pool.begin().await?;
    if !zbor_auth::staff::revoke_token(&mut db, token, Some(owner), &caller.actor()).await? {
        return Err(ApiError::NotFound(format!("live API token {token} of {owner}")));
    }
    db.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me/sessions`: one's own live sessions, the current one marked.
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let user = caller.user_id()?;
    let current = session_token(&headers);
    let sessions = zbor_auth::staff::sessions_of(&state.pool, user, current.as_deref()).await?;
    Ok(Json(json!({ "sessions": sessions })))
}

/// `DELETE /api/v1/me/sessions/{id}`: ends one of one's own sessions (a lost laptop).
pub async fn end_own_session(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    let user = caller.user_id()?;
    let mut db = state.pool.begin().await?;
    if !zbor_auth::staff::end_session_of(&mut db, user, id).await? {
        return Err(ApiError::NotFound(format!("session {id} of yours")));
    }
    db.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `POST /api/v1/me/password {current_password, new_password}`: the current password is checked
/// (and counted like a login); every other session of the caller ends.
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let user = caller.user_id()?;
    let current = session_token(&headers);
    let new_hash = zbor_auth::check_password_change(
        &state.pool,
        user,
        &change.current_password,
        &change.new_password,
        chrono::Utc::now(),
    )
    .await?;
    let mut db = state.pool.begin().await?;
    zbor_auth::set_password_in(&mut db, user, &new_hash, current.as_deref()).await?;
    db.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who may cut someone off (disable, revoke a token): one admin or treasurer, like the pause
/// switch. Taking power away never waits for a second person.
pub const CUT_OFF: &[Role] = &[Role::Admin, Role::Treasurer];
/// Who confirms staff requests: a second admin or treasurer.
pub const CONFIRMERS: &[Role] = &[Role::Admin, Role::Treasurer];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    email: String,
    role: Role,
    password: String,
}

/// `POST /api/v1/users {email, role, password}` (admin). A coordinator holds the role at once;
/// a treasurer or admin only after a second admin or treasurer confirms the role request opened
/// here (201 with `role_request`). The bootstrap token, before any admin has a second factor,
/// sets up the first people directly. Audited in the same transaction.
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let principal = caller.require(PEOPLE_ADMIN)?;
    let key = data_key(&state)?;
    let bootstrap = principal.via == Via::Bootstrap;
    let needs_confirmation = new.role.is_privileged() && !bootstrap;
    let actor = principal.actor();
    let mut db = state.pool.begin().await?;
    let user = zbor_auth::add_user_in(
        &mut db,
        key,
        &new.email,
        new.role,
        &new.password,
        !needs_confirmation,
        &actor,
    )
    .await?;
    let request = if needs_confirmation {
        Some(zbor_auth::staff::request(&mut db, user.id, RequestKind::Role, Some(new.role), &actor).await?)
    } else {
        None
    };
    db.commit().await?;
    Ok((StatusCode::CREATED, Json(json!({ "user": user, "role_request": request }))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    role: Role,
}

/// `PATCH /api/v1/users/{id} {role}` (admin): opens a role request (202); the role changes when
/// a second admin or treasurer confirms it. Nobody changes their own role.
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user): ApiPath<UserId>,
    ApiJson(change): ApiJson<RoleChange>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let principal = caller.require(PEOPLE_ADMIN)?;
    open_request(&state, principal, user, RequestKind::Role, Some(change.role)).await
}

/// `POST /api/v1/users/{id}/password-reset` (admin): opens a request; the confirmer receives a
/// temporary password to hand over, and the user's sessions and tokens end.
pub async fn request_password_reset(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user): ApiPath<UserId>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let principal = caller.require(PEOPLE_ADMIN)?;
    open_request(&state, principal, user, RequestKind::PasswordReset, None).await
}

/// `POST /api/v1/users/{id}/second-factor-reset` (admin): opens a request; once confirmed the
/// user enrols a new authenticator, and their sessions and tokens end.
pub async fn request_second_factor_reset(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user): ApiPath<UserId>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let principal = caller.require(PEOPLE_ADMIN)?;
    open_request(&state, principal, user, RequestKind::SecondFactorReset, None).await
}

async fn open_request(
    state: &AppState,
    principal: &zbor_auth::Principal,
    user: UserId,
    kind: RequestKind,
    role: Option<Role>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut db = state.pool.begin().await?;
    let request = zbor_auth::staff::request(&mut db, user, kind, role, &principal.actor()).await?;
    db.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "request": request }))))
}

/// `GET /api/v1/staff-requests`: open requests, for confirmers.
pub async fn list_requests(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(CONFIRMERS)?;
    Ok(Json(json!({ "requests": zbor_auth::staff::open_requests(&state.pool).await? })))
}

/// `POST /api/v1/staff-requests/{id}/confirm {code}`: a second admin or treasurer confirms
/// with a fresh one-time code; the change applies and is audited in one transaction.
pub async fn confirm_request(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(code): ApiJson<Code>,
) -> Result<Response, ApiError> {
    caller.require(CONFIRMERS)?;
    let confirmer = caller.user_id()?;
    let key = data_key(&state)?;
    zbor_auth::verify_totp(&state.pool, key, confirmer, &code.code, chrono::Utc::now()).await?;
    let mut db = state.pool.begin().await?;
    let confirmed = zbor_auth::staff::confirm(&mut db, id, &caller.actor()).await?;
    db.commit().await?;
    Ok((NO_STORE, Json(confirmed)).into_response())
}

/// `POST /api/v1/staff-requests/{id}/cancel`
pub async fn cancel_request(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    caller.require(CONFIRMERS)?;
    let mut db = state.pool.begin().await?;
    let request = zbor_auth::staff::cancel(&mut db, id, &caller.actor()).await?;
    db.commit().await?;
    Ok(Json(json!({ "request": request })))
}

/// `POST /api/v1/users/{id}/disable` (an admin or treasurer alone): the user's sessions and
/// tokens stop working when this returns.
pub async fn disable_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user): ApiPath<UserId>,
) -> Result<StatusCode, ApiError> {
    caller.require(CUT_OFF)?;
    let mut db = state.pool.begin().await?;
    zbor_auth::staff::disable(&mut db, user, &caller.actor()).await?;
    db.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
