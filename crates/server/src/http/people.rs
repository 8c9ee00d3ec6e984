//! Logging in and out, the second factor, API tokens, and managing users.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zbor_auth::staff::{Confirmed, RequestKind, SessionView, StaffRequest, TokenView};
use zbor_auth::{sessions, Login, Role, User, UserId, Via};
use zbor_errors::Classified;
use zbor_vault::DataKey;

use super::auth::{session_token, Caller, PEOPLE_ADMIN, SECURE_SESSION_COOKIE, SESSION_COOKIE};
use super::extract::{ApiJson, ApiPath};
use super::openapi::ErrorBody;
use super::{ApiError, AppState};

/// This area's routes; `http::router` merges every area's.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login, logout))
        .routes(routes!(me))
        .routes(routes!(totp_begin))
        .routes(routes!(totp_confirm))
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_own_token))
        .routes(routes!(list_sessions))
        .routes(routes!(end_own_session))
        .routes(routes!(change_password))
        .routes(routes!(create_user))
        .routes(routes!(update_user))
        .routes(routes!(disable_user))
        .routes(routes!(request_password_reset))
        .routes(routes!(request_second_factor_reset))
        .routes(routes!(revoke_token))
        .routes(routes!(list_requests))
        .routes(routes!(confirm_request))
        .routes(routes!(cancel_request))
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

/// The signed-in user, as login shows it (the email stays out of it).
#[derive(Serialize, ToSchema)]
pub struct SignedIn {
    pub id: UserId,
    pub role: Role,
    pub second_factor_enrolled: bool,
    /// False while the role awaits a second person's confirmation.
    pub role_confirmed: bool,
}

/// A new console session; its token is in the `Set-Cookie` header, never in the body.
#[derive(Serialize, ToSchema)]
pub struct LoggedIn {
    pub user: SignedIn,
    /// Whether this session passed the second factor (the code was given and right).
    pub second_factor: bool,
    /// Sent back in `X-CSRF-Token` with every change made with this session.
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A console session as an HttpOnly cookie, and the CSRF token the console sends back on every
/// change. Five failures lock the account for 15 minutes; attempts are limited per address.
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "people",
    request_body = Login,
    responses(
        (status = OK, description = "signed in; the session cookie is set", body = LoggedIn,
         headers(("Set-Cookie" = String, description = "the session cookie (HttpOnly, SameSite=Strict)"))),
        (status = UNAUTHORIZED, description = "wrong email, password or code, or the account is locked", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "a field is invalid", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "too many attempts from this address; try again after `Retry-After`", body = ErrorBody),
    )
)]
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
    let body = LoggedIn {
        user: SignedIn {
            id: user.id,
            role: user.role,
            second_factor_enrolled: user.second_factor_enrolled,
            role_confirmed: user.role_confirmed,
        },
        second_factor,
        csrf_token: session.csrf_token,
        expires_at: session.expires_at,
    };
    Ok(([(header::SET_COOKIE, session_cookie(&state, &session.token, max_age))], NO_STORE, Json(body))
        .into_response())
}

/// Responses that carry a credential or a secret are never stored by a browser or a proxy.
pub(super) const NO_STORE: [(header::HeaderName, &str); 1] = [(header::CACHE_CONTROL, "no-store")];

/// Ends the session (and clears the cookie).
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "people",
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses((status = NO_CONTENT, description = "signed out; the cookie is cleared")),
)]
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

/// Who is calling, as the server sees it.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// None for the bootstrap token, which is nobody.
    pub user: Option<User>,
    pub role: Role,
    /// Whether this session passed the second factor (never for an API token).
    pub second_factor: bool,
    /// The session's CSRF token (sessions only).
    pub csrf_token: Option<String>,
}

/// Who is calling: the user, their role, whether the second factor was passed.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "people",
    security(("bearer" = []), ("session" = [])),
    responses((status = OK, description = "the caller", body = Me)),
)]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>, ApiError> {
    let principal = caller.0;
    let csrf_token = match &principal.via {
        Via::Session { csrf_token, .. } => Some(csrf_token.clone()),
        Via::ApiToken | Via::Bootstrap => None,
    };
    let user = match principal.user {
        Some(id) => Some(zbor_auth::user(&state.pool, data_key(&state)?, id).await?),
        None => None,
    };
    Ok(Json(Me { user, role: principal.role, second_factor: principal.second_factor(), csrf_token }))
}

/// A new authenticator secret, shown once: as text to type in, as the `otpauth://` address, and
/// as that address drawn as a QR code for the app's camera.
#[derive(Serialize, ToSchema)]
pub struct TotpSetup {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    /// `otpauth://totp/…`, what the QR code holds.
    pub otpauth_uri: String,
    /// The QR code of `otpauth_uri`, an SVG document (the console shows it as a `data:` image).
    pub qr_svg: String,
}

/// Starts enrolling an authenticator app; the secret is shown once.
#[utoipa::path(
    post,
    path = "/api/v1/me/totp",
    tag = "people",
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "the secret, once, with its QR code", body = TotpSetup),
        (status = CONFLICT, description = "already enrolled", body = ErrorBody),
    )
)]
pub async fn totp_begin(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let user = caller.user_id()?;
    let enrolment = zbor_auth::begin_totp_enrolment(&state.pool, data_key(&state)?, user).await?;
    let setup = TotpSetup {
        qr_svg: crate::qr::svg(&enrolment.otpauth_uri)
            .map_err(|e| ApiError::Internal(format!("QR code: {e}")))?,
        secret: enrolment.secret,
        otpauth_uri: enrolment.otpauth_uri,
    };
    Ok((NO_STORE, Json(setup)).into_response())
}

/// A code from the authenticator app.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Code {
    #[schema(example = "123456")]
    code: String,
}

/// Completes enrolment with the app's first code; this session has now passed the second factor.
#[utoipa::path(
    post,
    path = "/api/v1/me/totp/confirm",
    tag = "people",
    request_body = Code,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = NO_CONTENT, description = "enrolled"),
        (status = CONFLICT, description = "no enrolment begun, or already enrolled", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "wrong code", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "too many wrong codes or passwords: the account is locked for 15 minutes (`account_locked`)", body = ErrorBody),
    )
)]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[schema(example = "totals spreadsheet")]
    name: String,
    /// Days until it expires: 1 to 366, 90 when not given.
    #[schema(minimum = 1, maximum = 366)]
    expires_in_days: Option<i64>,
}

/// A new API token: `token` is shown this once (only its hash is kept).
#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    pub id: i64,
    /// `zbor_…`, for `Authorization: Bearer`.
    pub token: String,
    pub expires_in_days: i64,
}

/// An API token for automation, shown once; it expires (90 days by default). Tokens never pass
/// the second factor, so a treasurer's or admin's token reaches only what needs no second factor.
#[utoipa::path(
    post,
    path = "/api/v1/me/tokens",
    tag = "people",
    request_body = NewToken,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = CREATED, description = "the token, once", body = TokenCreated,
         links(
             ("revoke" = (operation_id = "people_revoke_own_token", parameters(("id" = "$response.body#/id"))))
         )),
        (status = UNPROCESSABLE_ENTITY, description = "a field is invalid", body = ErrorBody),
    )
)]
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
    let body = TokenCreated { id: token.id, token: token.token, expires_in_days: days };
    Ok((StatusCode::CREATED, NO_STORE, Json(body)).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct Tokens {
    pub tokens: Vec<TokenView>,
}

/// One's own API tokens (never the token itself).
#[utoipa::path(
    get,
    path = "/api/v1/me/tokens",
    tag = "people",
    security(("bearer" = []), ("session" = [])),
    responses((status = OK, description = "the caller's tokens", body = Tokens)),
)]
pub async fn list_tokens(State(state): State<AppState>, caller: Caller) -> Result<Json<Tokens>, ApiError> {
    let user = caller.user_id()?;
    Ok(Json(Tokens { tokens: zbor_auth::staff::tokens_of(&state.pool, user).await? }))
}

/// Revokes one's own token at once.
#[utoipa::path(
    delete,
    path = "/api/v1/me/tokens/{id}",
    tag = "people",
    params(("id" = i64, Path, description = "the token's id")),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = NO_CONTENT, description = "revoked"),
        (status = NOT_FOUND, description = "no live token of the caller's with this id", body = ErrorBody),
    )
)]
pub async fn revoke_own_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    revoke(&state, &caller, caller.user_id()?, id).await
}

/// Revokes anyone's token at once (an admin or a treasurer: cutting off needs one person).
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/tokens/{token}",
    tag = "people",
    params(
        ("id" = i64, Path, description = "the user's id"),
        ("token" = i64, Path, description = "the token's id"),
    ),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = NO_CONTENT, description = "revoked"),
        (status = NOT_FOUND, description = "no live token of this user's with this id", body = ErrorBody),
    )
)]
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

#[derive(Serialize, ToSchema)]
pub struct Sessions {
    pub sessions: Vec<SessionView>,
}

/// One's own live sessions, the current one marked.
#[utoipa::path(
    get,
    path = "/api/v1/me/sessions",
    tag = "people",
    security(("bearer" = []), ("session" = [])),
    responses((status = OK, description = "the caller's live sessions", body = Sessions)),
)]
pub async fn list_sessions(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Json<Sessions>, ApiError> {
    let user = caller.user_id()?;
    let current = session_token(&headers);
    let sessions = zbor_auth::staff::sessions_of(&state.pool, user, current.as_deref()).await?;
    Ok(Json(Sessions { sessions }))
}

/// Ends one of one's own sessions (a lost laptop).
#[utoipa::path(
    delete,
    path = "/api/v1/me/sessions/{id}",
    tag = "people",
    params(("id" = i64, Path, description = "the session's id")),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = NO_CONTENT, description = "ended"),
        (status = NOT_FOUND, description = "no live session of the caller's with this id", body = ErrorBody),
    )
)]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Changes one's password: the current one is checked (and counted like a login); every other
/// session of the caller ends.
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    tag = "people",
    request_body = PasswordChange,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = NO_CONTENT, description = "changed"),
        (status = UNPROCESSABLE_ENTITY, description = "the current password is wrong or the new one too weak", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "too many wrong codes or passwords: the account is locked for 15 minutes (`account_locked`)", body = ErrorBody),
    )
)]
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(example = "treasurer@example.org")]
    email: String,
    role: Role,
    password: String,
}

/// A user added, and the role request a second person must confirm (treasurers and admins).
#[derive(Serialize, ToSchema)]
pub struct UserCreated {
    pub user: User,
    pub role_request: Option<StaffRequest>,
}

/// Adds a user (admin). A coordinator holds the role at once; a treasurer or admin only after a
/// second admin or treasurer confirms the role request opened here (`role_request`). The
/// bootstrap token, before any admin has a second factor, sets up the first people directly.
/// Audited in the same transaction.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "people",
    request_body = NewUser,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = CREATED, description = "the user", body = UserCreated,
         links(
             ("change_role" = (operation_id = "people_update_user", parameters(("id" = "$response.body#/user/id")))),
             ("disable" = (operation_id = "people_disable_user", parameters(("id" = "$response.body#/user/id"))))
         )),
        (status = CONFLICT, description = "the email is taken", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "a field is invalid (email, a weak password)", body = ErrorBody),
    )
)]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<UserCreated>), ApiError> {
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
    Ok((StatusCode::CREATED, Json(UserCreated { user, role_request: request })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    role: Role,
}

/// A staff request, opened or cancelled.
#[derive(Serialize, ToSchema)]
pub struct RequestAnswer {
    pub request: StaffRequest,
}

/// Opens a role request (admin); the role changes when a second admin or treasurer confirms it.
/// Nobody changes their own role.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    tag = "people",
    params(("id" = i64, Path, description = "the user's id")),
    request_body = RoleChange,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = ACCEPTED, description = "the request, awaiting a second person", body = RequestAnswer),
        (status = NOT_FOUND, description = "no such user", body = ErrorBody),
        (status = CONFLICT, description = "one's own role, or a request of this kind is already open", body = ErrorBody),
    )
)]
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user): ApiPath<UserId>,
    ApiJson(change): ApiJson<RoleChange>,
) -> Result<(StatusCode, Json<RequestAnswer>), ApiError> {
    let principal = caller.require(PEOPLE_ADMIN)?;
    open_request(&state, principal, user, RequestKind::Role, Some(change.role)).await
}

/// Opens a password reset (admin); the confirmer receives a temporary password to hand over,
/// and the user's sessions and tokens end.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/password-reset",
    tag = "people",
    params(("id" = i64, Path, description = "the user's id")),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = ACCEPTED, description = "the request, awaiting a second person", body = RequestAnswer),
        (status = NOT_FOUND, description = "no such user", body = ErrorBody),
        (status = CONFLICT, description = "one's own, or a request of this kind is already open", body = ErrorBody),
    )
)]
pub async fn request_password_reset(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user): ApiPath<UserId>,
) -> Result<(StatusCode, Json<RequestAnswer>), ApiError> {
    let principal = caller.require(PEOPLE_ADMIN)?;
    open_request(&state, principal, user, RequestKind::PasswordReset, None).await
}

/// Opens a second-factor reset (admin); once confirmed the user enrols a new authenticator, and
/// their sessions and tokens end.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/second-factor-reset",
    tag = "people",
    params(("id" = i64, Path, description = "the user's id")),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = ACCEPTED, description = "the request, awaiting a second person", body = RequestAnswer),
        (status = NOT_FOUND, description = "no such user", body = ErrorBody),
        (status = CONFLICT, description = "one's own, or a request of this kind is already open", body = ErrorBody),
    )
)]
pub async fn request_second_factor_reset(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user): ApiPath<UserId>,
) -> Result<(StatusCode, Json<RequestAnswer>), ApiError> {
    let principal = caller.require(PEOPLE_ADMIN)?;
    open_request(&state, principal, user, RequestKind::SecondFactorReset, None).await
}

async fn open_request(
    state: &AppState,
    principal: &zbor_auth::Principal,
    user: UserId,
    kind: RequestKind,
    role: Option<Role>,
) -> Result<(StatusCode, Json<RequestAnswer>), ApiError> {
    let mut db = state.pool.begin().await?;
    let request = zbor_auth::staff::request(&mut db, user, kind, role, &principal.actor()).await?;
    db.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(RequestAnswer { request })))
}

#[derive(Serialize, ToSchema)]
pub struct Requests {
    pub requests: Vec<StaffRequest>,
}

/// Open staff requests, for confirmers (admins and treasurers).
#[utoipa::path(
    get,
    path = "/api/v1/staff-requests",
    tag = "people",
    security(("bearer" = []), ("session" = [])),
    responses((status = OK, description = "the open requests", body = Requests)),
)]
pub async fn list_requests(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Requests>, ApiError> {
    caller.require(CONFIRMERS)?;
    Ok(Json(Requests { requests: zbor_auth::staff::open_requests(&state.pool).await? }))
}

/// A second admin or treasurer confirms with a fresh one-time code; the change applies and is
/// audited in one transaction. Never the requester, never the person it concerns.
#[utoipa::path(
    post,
    path = "/api/v1/staff-requests/{id}/confirm",
    tag = "people",
    params(("id" = i64, Path, description = "the request's id")),
    request_body = Code,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "applied; a password reset carries the temporary password, once", body = Confirmed),
        (status = NOT_FOUND, description = "no such open request", body = ErrorBody),
        (status = CONFLICT, description = "the requester or the person concerned may not confirm", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "wrong code", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "too many wrong codes or passwords: the account is locked for 15 minutes (`account_locked`)", body = ErrorBody),
    )
)]
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

/// Cancels an open request (an admin or treasurer).
#[utoipa::path(
    post,
    path = "/api/v1/staff-requests/{id}/cancel",
    tag = "people",
    params(("id" = i64, Path, description = "the request's id")),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "cancelled", body = RequestAnswer),
        (status = NOT_FOUND, description = "no such open request", body = ErrorBody),
    )
)]
pub async fn cancel_request(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RequestAnswer>, ApiError> {
    caller.require(CONFIRMERS)?;
    let mut db = state.pool.begin().await?;
    let request = zbor_auth::staff::cancel(&mut db, id, &caller.actor()).await?;
    db.commit().await?;
    Ok(Json(RequestAnswer { request }))
}

/// Disables a user (an admin or treasurer alone): their sessions and tokens stop working when
/// this returns.
#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/disable",
    tag = "people",
    params(("id" = i64, Path, description = "the user's id")),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = NO_CONTENT, description = "disabled"),
        (status = NOT_FOUND, description = "no such user", body = ErrorBody),
    )
)]
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
