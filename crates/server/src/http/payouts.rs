//! Payout batches: treasurers create them and approve them with four eyes. An approval carries
//! the content hash the treasurer reviewed and a fresh one-time code: the second factor is asked
//! again for every approval, not only at login.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use zbor_auth::Role;
use zbor_payouts::batches::{self, Approved, Batch, NewItem, Refusal};

use super::auth::Caller;
use super::json::ApiJson;
use super::{ApiError, AppState};

/// Who works with payout batches.
pub const TREASURY: &[Role] = &[Role::Treasurer];
/// Who may look at them.
pub const TREASURY_READ: &[Role] = &[Role::Treasurer, Role::Admin];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBatch {
    items: Vec<NewItem>,
}

fn user_of(caller: &Caller) -> Result<i64, ApiError> {
    caller
        .0
        .user
        .map(|u| u.as_i64())
        .ok_or_else(|| ApiError::Forbidden("payouts need a treasurer, not the bootstrap token".into()))
}

/// `POST /api/v1/campaigns/{slug}/payout-batches {items: [{beneficiary, amount}]}`
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(slug): Path<String>,
    ApiJson(new): ApiJson<NewBatch>,
) -> Result<(StatusCode, Json<Batch>), ApiError> {
    caller.require(TREASURY)?;
    let user = user_of(&caller)?;
    let campaign = {
        let mut conn = state.pool.acquire().await?;
        zbor_intake::campaigns::by_slug(&mut conn, &slug).await?
    };
    let batch = batches::create(&state.pool, campaign.id.as_i64(), user, &new.items).await?;
    let subject = format!("payout_batch:{}", batch.id);
    let details = json!({ "items": batch.items.len(), "total": batch.total.amount().to_string(), "content_hash": batch.content_hash });
    super::people::audit(&state, &caller.0.actor(), "payout_batch.create", Some(&subject), details).await?;
    Ok((StatusCode::CREATED, Json(batch)))
}

/// `GET /api/v1/payout-batches/{id}`: the batch, its approvals and every item's state.
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Batch>, ApiError> {
    caller.require(TREASURY_READ)?;
    Ok(Json(batches::batch(&state.pool, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The content hash shown with the batch: what this approval signs.
    content_hash: String,
    /// A fresh code from the approver's authenticator app.
    totp: String,
}

/// `POST /api/v1/payout-batches/{id}/approvals {content_hash, totp}`
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(approval): ApiJson<Approval>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(TREASURY)?;
    let user = user_of(&caller)?;
    let key = state.data_key.as_ref().ok_or(ApiError::PeopleNotConfigured)?;
    zbor_auth::verify_totp(
        &state.pool,
        key,
        zbor_auth::UserId::from_i64(user),
        &approval.totp,
        chrono::Utc::now(),
    )
    .await?;
    let outcome = batches::approve(&state.pool, id, user, &approval.content_hash).await?;
    let subject = format!("payout_batch:{id}");
    let (status, details) = match &outcome {
        Ok(Approved::Waiting { more }) => ("approved", json!({ "more_needed": more })),
        Ok(Approved::Released) => ("released", json!({ "more_needed": 0 })),
        Err(refusal) => ("refused", json!({ "reason": refusal.to_string() })),
    };
    let mut audit_details = details.clone();
    audit_details["content_hash"] = json!(approval.content_hash.chars().take(64).collect::<String>());
    super::people::audit(
        &state,
        &caller.0.actor(),
        &format!("payout_batch.approve_{status}"),
        Some(&subject),
        audit_details,
    )
    .await?;
    match outcome {
        Ok(_) => Ok(Json(
            json!({ "outcome": status, "details": details, "batch": batches::batch(&state.pool, id).await? }),
        )),
        Err(Refusal::Creator) => Err(ApiError::Forbidden(Refusal::Creator.to_string())),
        Err(refusal @ Refusal::InsufficientFunds { .. }) => {
            Err(ApiError::InsufficientFunds(refusal.to_string()))
        }
        Err(refusal) => Err(ApiError::Conflict(refusal.to_string())),
    }
}
