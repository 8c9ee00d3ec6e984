//! Admin bearer token, until users and roles arrive. Compared in constant time over hashes.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::{ApiError, AppState};

/// Present in a handler's arguments: the request carried the admin token.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(expected) = state.admin_token_sha256 else {
            return Err(ApiError::Unauthorized);
        };
        let presented = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        // Hashing first makes the comparison length-independent; fold keeps it branch-free.
        let difference = presented.iter().zip(expected.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if difference == 0 {
            Ok(Admin)
        } else {
            Err(ApiError::Unauthorized)
        }
    }
}
