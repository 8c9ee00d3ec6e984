//! Every event the simulator makes, kept exactly as it was delivered (or would have been: with
//! no webhook URL, or a receiver that never answered 2xx), and Stripe's Events API over them:
//! `GET /v1/events`, newest first, filtered by `created`, `type` (`*` as a wildcard), `types[]`
//! (up to 20) and `delivery_success`, paged with `limit` / `starting_after` / `ending_before`;
//! `GET /v1/events/{id}`. As at Stripe, only the last 30 days (of the simulator's clock) are
//! there.
//!
//! An event is kept when its delivery is scheduled (`webhooks::deliver_in_turn`,
//! `webhooks::deliver_payment`), which is when Stripe makes it: a receiver that is down, or slow,
//! changes nothing about what the list shows.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde_json::Value;

use crate::lists::{self, TimeRange};
use crate::{form_value, ApiError, Sim};

/// How long Stripe keeps events: "List events, going back up to 30 days."
pub(crate) const RETENTION_SECONDS: i64 = 30 * 24 * 3600;

/// Stripe's limit on `types[]`.
const TYPES_MAX: usize = 20;

/// Every event, in the order they were made, and which of them a receiver acknowledged.
#[derive(Default)]
pub(crate) struct Events {
    all: Vec<Value>,
    /// id → position in `all`
    index: HashMap<String, usize>,
    /// ids of the events one delivery attempt got a 2xx for
    delivered: HashSet<String>,
}

impl Events {
    /// Keeps `event` as it is; an id kept before is not kept twice.
    pub(crate) fn record(&mut self, event: &Value) {
        let id = event["id"].as_str().unwrap_or_default();
        if self.index.contains_key(id) {
            return;
        }
        self.index.insert(id.to_owned(), self.all.len());
        self.all.push(event.clone());
    }

    /// A delivery of event `id` was answered 2xx.
    pub(crate) fn delivered(&mut self, id: &str) {
        self.delivered.insert(id.to_owned());
    }

    fn get(&self, id: &str) -> Option<&Value> {
        self.index.get(id).and_then(|&i| self.all.get(i))
    }

    /// As Stripe lists them: the most recent `created` first, the later made first among equals.
    fn newest_first(&self) -> Vec<&Value> {
        let mut newest_first: Vec<&Value> = self.all.iter().rev().collect();
        // stable: equal `created` keep the reversed order they were made in
        newest_first.sort_by_key(|event| Reverse(created(event)));
        newest_first
    }

    /// Every event, the oldest `created` first, the earlier made first among equals.
    pub(crate) fn oldest_first(&self) -> Vec<Value> {
        let mut oldest_first = self.all.clone();
        oldest_first.sort_by_key(created);
        oldest_first
    }
}

fn created(event: &Value) -> i64 {
    event["created"].as_i64().unwrap_or_default()
}

/// Whether `kind` matches `pattern`, in which `*` stands for any run of characters
/// (`charge.*`, `*.succeeded`, `charge.dispute.*`, `*`).
fn type_matches(pattern: &str, kind: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = kind.strip_prefix(first) else { return false };
    let middle_and_last: Vec<&str> = parts.collect();
    let Some((last, middle)) = middle_and_last.split_last() else {
        // no `*`: the whole type
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = rest.get(at + part.len()..).unwrap_or_default(),
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// `GET /v1/events/{id}`: an event of the last 30 days.
pub(crate) async fn retrieve(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = lists::parse_query(query.as_deref())?;
    lists::only_known(&query, &[])?;
    let oldest = sim.now().saturating_sub(RETENTION_SECONDS);
    let store = sim.store();
    let event = store.events.get(&id).filter(|event| created(event) >= oldest);
    event.cloned().map(Json).ok_or_else(|| ApiError::no_such("event", &id))
}

/// `GET /v1/events`: the last 30 days, newest first; `created` (exactly or `[gt|gte|lt|lte]`),
/// `type` (with `*`) or `types[]` (up to 20), `delivery_success`; `limit`, `starting_after`,
/// `ending_before`.
pub(crate) async fn list(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = lists::parse_query(query.as_deref())?;
    lists::only_known(
        &query,
        &["created", "delivery_success", "ending_before", "limit", "starting_after", "type", "types"],
    )?;
    let created_range = TimeRange::parse(&query, "created")?;
    let kind = form_value(&query, "type");
    let kinds = lists::array(&query, "types");
    if kind.is_some() && !kinds.is_empty() {
        return Err(ApiError::bad_request("You may pass either `type` or `types`, but not both."));
    }
    if kinds.len() > TYPES_MAX {
        return Err(ApiError::invalid("types", format!("You may pass at most {TYPES_MAX} types.")));
    }
    let delivery_success = match form_value(&query, "delivery_success") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(ApiError::invalid("delivery_success", format!("Invalid boolean: {other}")));
        }
    };
    let oldest = sim.now().saturating_sub(RETENTION_SECONDS);
    let store = sim.store();
    let events = &store.events;
    let keep = |event: &Value| {
        let event_kind = event["type"].as_str().unwrap_or_default();
        let id = event["id"].as_str().unwrap_or_default();
        created(event) >= oldest
            && created_range.holds(event, "created")
            && kind.is_none_or(|pattern| type_matches(pattern, event_kind))
            && (kinds.is_empty() || kinds.contains(&event_kind))
            && delivery_success.is_none_or(|wanted| events.delivered.contains(id) == wanted)
    };
    let (page, has_more) = lists::page(&events.newest_first(), keep, &query, "event")?;
    let data = page.into_iter().cloned().collect();
    Ok(Json(lists::list(data, has_more, "/v1/events")))
}

#[cfg(test)]
mod tests {
    use super::type_matches;

    #[test]
    fn a_star_in_a_type_stands_for_any_run_of_characters() {
        for (pattern, kind, matches) in [
            ("charge.succeeded", "charge.succeeded", true),
            ("charge.succeeded", "charge.succeeded.x", false),
            ("charge", "charge.succeeded", false),
            ("charge.*", "charge.succeeded", true),
            ("charge.*", "charge.dispute.created", true),
            ("charge.*", "checkout.session.completed", false),
            ("*.succeeded", "charge.succeeded", true),
            ("*.succeeded", "checkout.session.async_payment_succeeded", false),
            ("checkout.*.completed", "checkout.session.completed", true),
            ("checkout.*.completed", "checkout.session.expired", false),
            ("*", "payout.paid", true),
        ] {
            assert_eq!(type_matches(pattern, kind), matches, "{pattern} {kind}");
        }
    }
}
