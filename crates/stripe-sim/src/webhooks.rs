//! Events and their delivery: signed as Stripe signs them, retried with a doubling delay until
//! the receiver answers 2xx, and, when configured, duplicated or reordered as Stripe may. The
//! events of one payment go out one after the other (`deliver_payment`), as do those of one
//! transfer, one charge's refunds, one dispute or one payout (`deliver_in_turn`); different
//! objects' events are delivered concurrently. Both keep each event for `GET /v1/events`
//! (`events.rs`) when it is made, before and whatever its delivery.

use std::future::Future;
use std::sync::{Arc, PoisonError};

use serde_json::{json, Value};

use crate::{new_id, now, Delivery, Sim, Store};

/// How much of a receiver's answer a [`Delivery`] keeps.
const RESPONSE_BODY_KEPT_BYTES: usize = 4096;

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
    store.events.record(&event);
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
    sim.record(&now);
    // kept when the outcome is known, not when (or whether) it is delivered
    let kept = sim.clone();
    let later = async move {
        let later = later.await;
        kept.record(&later);
        later
    };
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
    /// Keeps `events` for `GET /v1/events`.
    fn record(&self, events: &[Value]) {
        let mut store = self.store();
        for event in events {
            store.events.record(event);
        }
    }

    /// Delivers one event, and a second time with `duplicate_deliveries`.
    async fn deliver(&self, event: Value) {
        self.deliver_once(&event).await;
        if self.config.duplicate_deliveries {
            self.deliver_once(&event).await;
        }
    }

    /// Retries with doubling delays until a 2xx or `retries_max` attempts. Returns the last
    /// attempt; none when there was no webhook URL to try.
    pub(crate) async fn deliver_once(&self, event: &Value) -> Option<Delivery> {
        let body = event.to_string();
        let event_id = event["id"].as_str().unwrap_or_default().to_owned();
        let event_type = event["type"].as_str().unwrap_or_default().to_owned();
        let mut delay = self.config.retry_first;
        let mut last = None;
        for attempt in 1..=self.config.retries_max.max(1) {
            let Some(url) = self.webhook_url.lock().unwrap_or_else(PoisonError::into_inner).clone() else {
                return last;
            };
            // signed at each attempt: the receiver refuses old timestamps
            let signature = zbor_stripe::signature::sign(body.as_bytes(), &self.config.webhook_secret, now());
            let response = self
                .http
                .post(&url)
                .header("stripe-signature", signature)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .ok();
            let status = response.as_ref().map(|r| r.status().as_u16());
            let response_body = match response {
                Some(response) => response.bytes().await.ok().map(|bytes| {
                    String::from_utf8_lossy(bytes.get(..RESPONSE_BODY_KEPT_BYTES).unwrap_or(&bytes))
                        .into_owned()
                }),
                None => None,
            };
            let delivery = Delivery {
                event_id: event_id.clone(),
                event_type: event_type.clone(),
                attempt,
                status,
                response_body,
            };
            if let Ok(mut deliveries) = self.deliveries.lock() {
                deliveries.push(delivery.clone());
            }
            last = Some(delivery);
            let acknowledged = status.is_some_and(|s| (200..300).contains(&s));
            if acknowledged {
                self.store().events.delivered(&event_id);
            }
            if acknowledged || attempt >= self.config.retries_max {
                return last;
            }
            tokio::time::sleep(delay).await;
            delay = delay.saturating_mul(2);
        }
        last
    }
}
