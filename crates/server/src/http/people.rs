//! Logging in and out, the second factor, API tokens, and managing users.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use zbor_auth::{sessions, Login, Role, UserId, Via};
use zbor_vault::DataKey;

use super::auth::{session_token, Caller, PEOPLE_ADMIN, SESSION_COOKIE};
use super::json::ApiJson;
use super::{ApiError, AppState};

/// Appends to the audit log. A privileged action that cannot be audited is reported as failed.
pub(super) async fn audit(
    state: &AppState,
    actor: &str,
    action: &str,
    subject: Option<&str>,
    details: Value,
) -> Result<(), ApiError> {
    let mut entry = zbor_audit::Entry::new(actor, action).details(details);
    if let Some(subject) = subject {
        entry = entry.subject(subject);
    }
    zbor_audit::append(&state.pool, &entry).await.map_err(|e| ApiError::Internal(format!("audit: {e}")))?;
    Ok(())
}

/// Appends to the audit log inside the caller's transaction, so the action and its entry commit
/// together or not at all.
pub(super) async fn audit_in(
    db: &mut sqlx::PgConnection,
    actor: &str,
    action: &str,
    subject: Option<&str>,
    details: Value,
) -> Result<(), ApiError> {
    let mut entry = zbor_audit::Entry::new(actor, action).details(details);
    if let Some(subject) = subject {
        entry = entry.subject(subject);
    }
    zbor_audit::append_in(db, &entry).await.map_err(|e| ApiError::Internal(format!("audit: {e}")))?;
    Ok(())
}

fn data_key(state: &AppState) -> Result<&DataKey, ApiError> {
    state.data_key.as_ref().ok_or(ApiError::PeopleNotConfigured)
}

/// `Secure` whenever zbor is served over TLS (its public address is https).
fn session_cookie(state: &AppState, value: &str, max_age_seconds: i64) -> String {
    let secure = if state.public_url_https { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}")
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
    let (user, second_factor) = match zbor_auth::authenticate(&state.pool, key, &login, chrono::Utc::now())
        .await
    {
        Ok(authenticated) => authenticated,
        Err(e) => {
            // who tried is not known (and an email is personal data): the attempt is recorded
            if e.is_client_error() {
                audit(&state, "anonymous", "login_failed", None, json!({ "reason": e.to_string() })).await?;
            }
            return Err(e.into());
        }
    };
    audit(&state, &user.id.to_string(), "login", None, json!({ "second_factor": second_factor })).await?;
    let session = sessions::create_session(&state.pool, user.id, second_factor).await?;
    let max_age = session.expires_at.signed_duration_since(chrono::Utc::now()).num_seconds();
    tracing::info!(user = %user.id, second_factor, "logged in");
    let body = json!({
        "user": { "id": user.id, "role": user.role, "second_factor_enrolled": user.second_factor_enrolled },
        "second_factor": second_factor,
        "csrf_token": session.csrf_token,
        "expires_at": session.expires_at,
    });
    Ok(([(header::SET_COOKIE, session_cookie(&state, &session.token, max_age))], Json(body)).into_response())
}

/// `DELETE /api/v1/session`: ends the session (and clears the cookie).
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let (Via::Session { .. }, Some(token)) = (&caller.0.via, session_token(&headers)) {
        sessions::end_session(&state.pool, &token).await?;
        audit(&state, &caller.0.actor(), "logout", None, json!({})).await?;
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

fn signed_in_user(caller: &Caller) -> Result<UserId, ApiError> {
    caller.0.user.ok_or_else(|| ApiError::Forbidden("the bootstrap token is no user; log in as one".into()))
}

/// `POST /api/v1/me/totp`: starts enrolment; the secret is shown once.
pub async fn totp_begin(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<zbor_auth::TotpEnrolment>, ApiError> {
    let user = signed_in_user(&caller)?;
    Ok(Json(zbor_auth::begin_totp_enrolment(&state.pool, data_key(&state)?, user).await?))
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
    let user = signed_in_user(&caller)?;
    zbor_auth::confirm_totp(&state.pool, data_key(&state)?, user, &code.code, chrono::Utc::now()).await?;
    audit(&state, &user.to_string(), "user.second_factor_enrolled", Some(&user.to_string()), json!({}))
        .await?;
    if let Some(token) = session_token(&headers) {
        sessions::mark_second_factor(&state.pool, &token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
}

/// `POST /api/v1/me/tokens {name}`: an API token for automation, shown once. A treasurer needs
/// the second factor for this too.
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(&Role::ALL)?;
    let user = signed_in_user(&caller)?;
    let token = sessions::create_api_token(&state.pool, user, &new.name).await?;
    audit(
        &state,
        &user.to_string(),
        "user.api_token_create",
        Some(&user.to_string()),
        json!({ "token": token.id }),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": token.id, "token": token.token }))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    email: String,
    role: Role,
    password: String,
}

/// `POST /api/v1/users {email, role, password}` (admin)
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<zbor_auth::User>), ApiError> {
    caller.require(PEOPLE_ADMIN)?;
    let user =
        zbor_auth::add_user(&state.pool, data_key(&state)?, &new.email, new.role, &new.password).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    role: Role,
}

/// `PATCH /api/v1/users/{id} {role}` (admin): ends the user's sessions so the new role applies now.
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(change): ApiJson<RoleChange>,
) -> Result<Json<zbor_auth::User>, ApiError> {
    let principal = caller.require(PEOPLE_ADMIN)?;
    let user = zbor_auth::set_role(&state.pool, data_key(&state)?, UserId::from_i64(id), change.role).await?;
    let details = json!({ "role": user.role, "via": principal.via_name() });
    audit(&state, &principal.actor(), "user.role_change", Some(&user.id.to_string()), details).await?;
    Ok(Json(user))
}
