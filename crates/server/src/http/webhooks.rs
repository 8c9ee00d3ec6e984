//! `POST /webhooks/stripe`: verify the signature, store the event, book it; 2xx only after commit.
//! Transfer events reconcile payouts (`zbor_payouts::reconcile`); the rest are donations'.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};
use zbor_intake::webhook::{receive_with, signature};

use super::{ApiError, AppState};

pub async fn stripe(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let secrets = state.webhook_secrets.as_ref().ok_or(ApiError::WebhookNotConfigured)?;
    let header = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    signature::verify(header, &body, secrets, chrono::Utc::now().timestamp())
        .map_err(zbor_intake::Error::from)?;
    // transfers are payouts' business; everything else is a donation's
    #[derive(serde::Deserialize)]
    struct Kind {
        #[serde(rename = "type")]
        kind: String,
    }
    let kind = serde_json::from_slice::<Kind>(&body).map(|k| k.kind).unwrap_or_default();
    if zbor_payouts::reconcile::handles(&kind) {
        let receipt = zbor_payouts::reconcile::receive(&state.pool, &body).await?;
        return Ok(Json(json!({
            "received": true,
            "event": receipt.event_id,
            "outcome": receipt.outcome,
            "duplicate": receipt.duplicate,
        })));
    }
    let receipt = receive_with(&state.pool, &body, state.data_key.as_ref()).await?;
    if let Some(campaign) = &receipt.campaign {
        state.live.mark_dirty(campaign);
    }
    Ok(Json(json!({
        "received": true,
        "event": receipt.event_id,
        "outcome": receipt.outcome,
        "duplicate": receipt.duplicate,
    })))
}
