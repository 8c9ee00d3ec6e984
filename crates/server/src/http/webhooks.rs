//! `POST /webhooks/stripe`: verify the signature, then the event store keeps the event once and
//! the handler its type is registered for acts on it; 2xx only after commit.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use zbor_stripe::events::{Context, Dispatcher, GroupCommit};
use zbor_stripe::signature;
use zbor_vault::DataKey;

use super::observe::WebhookResult;
use super::openapi::ErrorBody;
use super::{ApiError, AppState};
use axum::extract::DefaultBodyLimit;

/// This area's routes; `http::router` merges every area's.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(
        routes!(stripe)
            .layer(DefaultBodyLimit::max(zbor_stripe::events::BODY_BYTES_MAX))
            .layer(axum::middleware::from_fn(super::observe::count_webhook)),
    )
}

/// What a delivery did, for Stripe's dashboard.
#[derive(Serialize, ToSchema)]
pub struct Received {
    pub received: bool,
    /// Stripe's event id, `evt_…`.
    pub event: String,
    pub outcome: zbor_stripe::events::Outcome,
    /// The event was received before: this delivery changed nothing.
    pub duplicate: bool,
}

/// The table of Stripe's events: each domain registers the types it acts on.
pub fn table(data_key: Option<DataKey>) -> Dispatcher {
    let events = Dispatcher::new(Context { data_key });
    let events = zbor_intake::webhook::register(events);
    let events = zbor_payouts::reconcile::register(events);
    zbor_reconcile::stripe_payouts::register(events)
}

/// The event store webhook deliveries go through, by group commit.
pub fn store(data_key: Option<DataKey>, pool: &sqlx::PgPool) -> GroupCommit {
    GroupCommit::new(std::sync::Arc::new(table(data_key)), pool.clone())
}

/// Stripe's events, signed with the endpoint's secret; 2xx only once the event is stored and
/// acted on (one database transaction, shared with the deliveries that arrived meanwhile: a
/// group commit).
#[utoipa::path(
    post,
    path = "/webhooks/stripe",
    tag = "stripe",
    params(("Stripe-Signature" = String, Header, description = "`t=…,v1=…`: Stripe's HMAC-SHA256 of the timestamp and the body")),
    request_body(content = Object, content_type = "application/json", description = "a Stripe Event object"),
    responses(
        (status = OK, description = "stored and acted on (or a duplicate)", body = Received),
        (status = BAD_REQUEST, description = "unsigned, forged, stale (> 300 s) or malformed", body = ErrorBody),
        (status = PAYLOAD_TOO_LARGE, description = "over 256 KiB", body = ErrorBody),
        (status = SERVICE_UNAVAILABLE, description = "no STRIPE_WEBHOOK_SECRET configured: Stripe retries", body = ErrorBody),
    )
)]
pub async fn stripe(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(axum::Extension<WebhookResult>, Json<Received>), ApiError> {
    // answered in the API's error shape, not axum's plain-text rejection
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge("256 KiB"),
        _ => ApiError::BadRequest(rejection.body_text()),
    })?;
    let secrets = state.webhook_secrets.as_ref().ok_or(ApiError::WebhookNotConfigured)?;
    let header = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    signature::verify(header, &body, secrets, chrono::Utc::now().timestamp())
        .map_err(zbor_stripe::Error::from)?;
    let receipt = state.stripe_events.receive(&body).await?;
    if let Some(campaign) = &receipt.campaign {
        state.live.mark_dirty(campaign);
    }
    let result = WebhookResult(if receipt.duplicate { "duplicate" } else { "ok" });
    Ok((
        axum::Extension(result),
        Json(Received {
            received: true,
            event: receipt.event_id,
            outcome: receipt.outcome,
            duplicate: receipt.duplicate,
        }),
    ))
}

#[cfg(test)]
mod tests {
    /// Every type zbor acts on, once: what the webhook endpoint at Stripe must send. Building the
    /// table also trips its check against a type registered twice.
    #[test]
    fn the_table_lists_every_event_type_zbor_acts_on() {
        assert_eq!(
            super::table(None).kinds(),
            [
                "charge.dispute.closed",
                "charge.dispute.created",
                "charge.refunded",
                "charge.succeeded",
                "charge.updated",
                "checkout.session.async_payment_failed",
                "checkout.session.async_payment_succeeded",
                "checkout.session.completed",
                "customer.subscription.created",
                "customer.subscription.deleted",
                "customer.subscription.updated",
                "invoice.paid",
                "invoice.payment_failed",
                "invoice_payment.paid",
                "payout.failed",
                "payout.paid",
                "transfer.created",
                "transfer.reversed",
                "transfer.updated",
            ]
        );
    }
}
