//! Events and their delivery: signed as Stripe signs them, retried with a doubling delay until
//! the receiver answers 2xx, and, when configured, duplicated or reordered as Stripe may. The
//! events of one payment go out one after the other (`deliver_payment`), as do those of one
//! transfer, one charge's refunds, one dispute or one payout (`deliver_in_turn`); different
//! objects' events are delivered concurrently.

use std::future::Future;
use std::sync::{Arc, PoisonError};

use serde_json::{json, Value};

use crate::{new_id, now, Delivery, Sim, Store};

/// An event of type `kind` carrying a snapshot of `object`.
pub(crate) fn event(sim: &Sim, kind: &str, object: &Value) -> Value {
    let mut event = sim.fixture("event");
    event["id"] = json!(new_id("evt"));
    event["type"] = json!(kind);
    event["created"] = json!(sim.now());
    event["data"] = json!({ "object": object });
    event["api_version"] = json!("2025-10-29.clover");
    event
}

/// `event` as caused by an API request with these headers: Stripe names the request and its
/// `Idempotency-Key` in the event's `request`.
pub(crate) fn requested(mut event: Value, headers: &axum::http::HeaderMap) -> Value {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    event["request"] = json!({ "id": new_id("req"), "idempotency_key": key });
    event
}

/// Delivers an event about the object `object_id` in the background, once the events about it
/// delivered before (scheduled under the same store lock, so in the order of the changes) are
/// acknowledged or given up.
pub(crate) fn deliver_in_turn(sim: &Arc<Sim>, store: &mut Store, object_id: &str, event: Value) {
    let (done, turn) = tokio::sync::oneshot::channel::<()>();
    let previous = store.delivery_turns.insert(object_id.to_owned(), turn);
    let task_sim = sim.clone();
    sim.runtime.spawn(async move {
        if let Some(previous) = previous {
            // an error: the one before never finished (its task ended with the runtime)
            let _ = previous.await;
        }
        task_sim.deliver(event).await;
        let _ = done.send(());
    });
}

/// Delivers the events of one payment in the background, one after the other: `now` at once,
/// then those `later` yields (a SEPA debit's outcome). With `reorder_deliveries` all of them go
/// out newest first, once `later` is known.
pub(crate) fn deliver_payment<F>(sim: Arc<Sim>, now: Vec<Value>, later: F)
where
    F: Future<Output = Vec<Value>> + Send + 'static,
{
    tokio::spawn(async move {
        if sim.config.reorder_deliveries {
            let later = later.await;
            for event in later.into_iter().rev().chain(now.into_iter().rev()) {
                sim.deliver(event).await;
            }
        } else {
            // the outcome is settled on its own clock, whatever the receiver does meanwhile
            let ((), later) = tokio::join!(
                async {
                    for event in now {
                        sim.deliver(event).await;
                    }
                },
                later
            );
            for event in later {
                sim.deliver(event).await;
            }
        }
    });
}

impl Sim {
    /// Delivers one event, and a second time with `duplicate_deliveries`.
    async fn deliver(&self, event: Value) {
        self.deliver_once(&event).await;
        if self.config.duplicate_deliveries {
            self.deliver_once(&event).await;
        }
    }

    /// Retries with doubling delays until a 2xx or `retries_max` attempts.
    async fn deliver_once(&self, event: &Value) {
        let body = event.to_string();
        let event_id = event["id"].as_str().unwrap_or_default().to_owned();
        let event_type = event["type"].as_str().unwrap_or_default().to_owned();
        let mut delay = self.config.retry_first;
        for attempt in 1..=self.config.retries_max.max(1) {
            let Some(url) = self.webhook_url.lock().unwrap_or_else(PoisonError::into_inner).clone() else {
                return;
            };
            // signed at each attempt: the receiver refuses old timestamps
            let signature = zbor_stripe::signature::sign(body.as_bytes(), &self.config.webhook_secret, now());
            let status = self
                .http
                .post(&url)
                .header("stripe-signature", signature)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .ok()
                .map(|r| r.status().as_u16());
            if let Ok(mut deliveries) = self.deliveries.lock() {
                deliveries.push(Delivery {
                    event_id: event_id.clone(),
                    event_type: event_type.clone(),
                    attempt,
                    status,
                });
            }
            if status.is_some_and(|s| (200..300).contains(&s)) || attempt >= self.config.retries_max {
                return;
            }
            tokio::time::sleep(delay).await;
            delay = delay.saturating_mul(2);
        }
    }
}
