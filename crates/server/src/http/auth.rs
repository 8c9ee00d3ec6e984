//! Who is calling, and may they. Every privileged handler takes a [`Caller`] and names the roles
//! it admits with [`Caller::require`]; the role × endpoint matrix is tested in `tests/roles.rs`.
//!
//! Accepted credentials, in order:
//! - `Authorization: Bearer <ZBOR_ADMIN_TOKEN>`: the bootstrap admin (no user), compared in
//!   constant time over hashes;
//! - `Authorization: Bearer zbor_…`: an API token;
//! - the `zbor_session` cookie: a console session. A change (any method but GET/HEAD) must carry
//!   the session's CSRF token in `X-CSRF-Token`; the cookie is also `SameSite=Strict`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use sha2::{Digest, Sha256};
use zbor_auth::{Principal, Role, Via};

use super::{ApiError, AppState};

pub const SESSION_COOKIE: &str = "zbor_session";
/// The cookie's name over https: a `__Host-` cookie is only accepted when `Secure`, for this
/// host, path `/`, so no subdomain or plain-http page can plant or read it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-zbor_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Roles admitted by each kind of privileged endpoint.
pub const CAMPAIGN_ADMIN: &[Role] = &[Role::Admin, Role::Coordinator];
pub const LEDGER_READ: &[Role] = &[Role::Admin, Role::Treasurer];
pub const PEOPLE_ADMIN: &[Role] = &[Role::Admin];

/// An authenticated caller.
pub struct Caller(pub Principal);

impl Caller {
    /// Who acts, for the audit entries the domains append: the user (or the bootstrap token) and
    /// how they came in (session, API token).
    pub fn actor(&self) -> zbor_audit::Actor {
        self.0.actor()
    }

    /// The signed-in user's id; the bootstrap token is nobody, and may not act as a person.
    pub fn user_id(&self) -> Result<zbor_auth::UserId, ApiError> {
        self.0.user.ok_or_else(|| {
            ApiError::Forbidden("this needs a signed-in person, not the bootstrap token".into())
        })
    }

    /// Admits the caller if their role is one of `roles`. A treasurer must also have passed the
    /// second factor in this session (API tokens and password-only sessions have not).
    pub fn require(&self, roles: &[Role]) -> Result<&Principal, ApiError> {
        let principal = &self.0;
        if !roles.contains(&principal.role) {
            return Err(ApiError::Forbidden(format!("this needs one of the roles {roles:?}")));
        }
        if !principal.role_confirmed {
            return Err(ApiError::Forbidden(
                "your role awaits a second admin's or treasurer's confirmation".into(),
            ));
        }
        if principal.role.needs_second_factor()
            && !principal.second_factor()
            && principal.via != Via::Bootstrap
        {
            return Err(ApiError::Forbidden(
                "treasurers and admins must pass the second factor (TOTP) in a console session first".into(),
            ));
        }
        Ok(principal)
    }
}

/// The session cookie's value, if the request has one.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|cookies| {
        cookies.split(';').find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            ((name == SESSION_COOKIE || name == SECURE_SESSION_COOKIE) && !value.is_empty())
                .then(|| value.to_owned())
        })
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        if let Some(bearer) = bearer {
            if let Some(expected) = state.admin_token_sha256 {
                // hashing first makes the comparison independent of the token's length
                let presented: [u8; 32] = Sha256::digest(bearer.as_bytes()).into();
                if constant_time_eq(&presented, &expected) {
                    // the bootstrap token sets up the first admin; once one with a second factor
                    // exists, a static token that never expires would beat four eyes
                    if zbor_auth::staff::secured_admin_exists(&state.pool).await? {
                        return Err(ApiError::Forbidden(
                            "the bootstrap token is retired: an admin with a second factor exists".into(),
                        ));
                    }
                    return Ok(Caller(Principal {
                        user: None,
                        role: Role::Admin,
                        role_confirmed: true,
                        via: Via::Bootstrap,
                    }));
                }
            }
            return match zbor_auth::sessions::from_api_token(&state.pool, &bearer).await? {
                Some(principal) => Ok(Caller(principal)),
                None => Err(ApiError::Unauthorized),
            };
        }
        let token = session_token(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let principal = zbor_auth::sessions::from_session(&state.pool, &token, state.session_idle_minutes)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        if let Via::Session { csrf_token, .. } = &principal.via {
            let safe = parts.method == Method::GET || parts.method == Method::HEAD;
            let presented = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !safe && !constant_time_eq(presented.as_bytes(), csrf_token.as_bytes()) {
                return Err(ApiError::Forbidden("missing or wrong X-CSRF-Token".into()));
            }
        }
        Ok(Caller(principal))
    }
}
