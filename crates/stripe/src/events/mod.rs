//! Stripe's events, each acted on exactly once: one event store and one table of handlers.
//!
//! A delivery has passed [`crate::signature::verify`] before it reaches [`Dispatcher::receive`].
//! Then, in one database transaction: the event id is looked up (a delivery of an event already
//! stored changes nothing and answers what became of it), the handler registered for the event's
//! type acts on it, and the event is stored, redacted ([`redact`]), with its outcome. A 2xx goes
//! back only after that commit, so a 2xx means all of it is durable, and a failure anywhere
//! leaves nothing behind for Stripe's retry to trip over.
//!
//! Each domain registers its handlers (`zbor_intake::webhook::register`,
//! `zbor_payouts::reconcile::register`); a type nobody registered is stored as `ignored`. Adding
//! an event type is one handler function and one `.on(type, handler)` line in its domain's
//! `register`.
//!
//! What the webhook missed (a server down longer than Stripe's 3 days of retries, a wrong
//! webhook secret) is read back from Stripe's Events API by [`sync`], through the same
//! [`Dispatcher::receive`].

mod group;
mod redact;
pub mod sync;

pub use group::{GroupCommit, GROUP_MAX, GROUP_SIZE};

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use zbor_vault::DataKey;

use crate::Error;

/// Largest webhook body accepted; Stripe's events are a few kilobytes.
pub const BODY_BYTES_MAX: usize = 256 * 1024;

/// A Stripe event as delivered; `object` is `data.object`, the resource the event is about.
#[derive(Debug)]
pub struct Event {
    pub id: String,
    pub kind: String,
    /// Unix seconds, as Stripe sends it.
    pub created: i64,
    pub object: Value,
}

impl Event {
    /// Reads a delivery's body. A malformed id or type is refused here, with a reason, so it is
    /// a 400 and not a database constraint failing into a 500 that Stripe retries forever.
    pub fn parse(body: &[u8]) -> Result<Event, Error> {
        #[derive(Deserialize)]
        struct Wire {
            id: String,
            #[serde(rename = "type")]
            kind: String,
            created: i64,
            data: Data,
        }
        #[derive(Deserialize)]
        struct Data {
            object: Value,
        }
        let wire: Wire = serde_json::from_slice(body).map_err(|e| Error::MalformedEvent(json_problem(&e)))?;
        if !is_stripe_id(&wire.id, "evt_") || wire.kind.is_empty() || wire.kind.len() > 100 {
            return Err(Error::MalformedEvent("bad event id or type".into()));
        }
        if chrono::DateTime::from_timestamp(wire.created, 0).is_none() {
            return Err(Error::MalformedEvent("bad created timestamp".into()));
        }
        Ok(Event { id: wire.id, kind: wire.kind, created: wire.created, object: wire.data.object })
    }

    /// The event's object as `T` (the fields a handler needs; Stripe sends many more).
    pub fn object_as<T: DeserializeOwned>(&self, what: &str) -> Result<T, Error> {
        T::deserialize(&self.object)
            .map_err(|e| Error::MalformedEvent(format!("{what}: {}", json_problem(&e))))
    }
}

/// What is wrong with a body that is not an event, without quoting it. serde_json's message for
/// a value of the wrong type quotes the value, whole (`invalid type: string "Jane Donor",
/// expected i64`: found by tests/fuzz.rs), and a body carries donors' names and emails; this
/// message goes back to Stripe and into logs. Syntax errors and missing or duplicate fields name
/// no value and are kept as they are.
pub fn json_problem(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let quotes_nothing = error.classify() != serde_json::error::Category::Data
        || message.starts_with("missing field")
        || message.starts_with("duplicate field");
    if quotes_nothing {
        message
    } else if error.line() == 0 {
        // read from a parsed value, which has no lines
        "a field has the wrong type or value".to_owned()
    } else {
        format!("a field has the wrong type or value at line {} column {}", error.line(), error.column())
    }
}

/// Stripe ids are a prefix and then letters, digits and underscores.
pub fn is_stripe_id(id: &str, prefix: &str) -> bool {
    id.len() <= 255
        && id.strip_prefix(prefix).is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

/// What became of an event. Stored with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "stripe_event_outcome", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Money moved in the ledger (a donation, a reversal), or a payout was recorded paid.
    Booked,
    /// Nothing for zbor to do (a type nobody handles, or what it says is already known).
    Ignored,
    /// The payment is not settled yet (SEPA debit): a later event books it.
    Waiting,
    /// The payment failed: nothing is booked.
    Failed,
    /// Stored but not acted on: a person must look (unknown campaign, amounts that differ).
    NeedsReview,
}

impl Outcome {
    /// As stored (the database enum's label).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Booked => "booked",
            Outcome::Ignored => "ignored",
            Outcome::Waiting => "waiting",
            Outcome::Failed => "failed",
            Outcome::NeedsReview => "needs_review",
        }
    }
}

/// What a handler did with an event.
#[derive(Debug, PartialEq, Eq)]
pub struct Handled {
    pub outcome: Outcome,
    pub review_reason: Option<String>,
    /// The campaign (slug) whose money the event changed: its live totals need a refresh.
    pub campaign: Option<String>,
    /// A Prometheus counter to add one to once the event's transaction has committed (e.g.
    /// `zbor_donations_booked_total`): counted after the commit, so a rolled-back event is not.
    pub counter: Option<&'static str>,
    /// The campaign's totals changed though no money moved (a monthly gift started, fell
    /// behind or was canceled): refresh them as after a booking.
    pub totals_changed: bool,
}

impl Handled {
    pub fn new(outcome: Outcome) -> Handled {
        Handled { outcome, review_reason: None, campaign: None, counter: None, totals_changed: false }
    }

    /// The campaign's totals changed without a booking (see [`Handled::totals_changed`]).
    pub fn changing_totals_of(mut self, campaign: impl Into<String>) -> Handled {
        self.campaign = Some(campaign.into());
        self.totals_changed = true;
        self
    }

    pub fn ignored() -> Handled {
        Handled::new(Outcome::Ignored)
    }

    pub fn review(reason: impl Into<String>) -> Handled {
        Handled { review_reason: Some(reason.into()), ..Handled::new(Outcome::NeedsReview) }
    }

    /// Counts the event in `counter` once it has committed.
    pub fn counted_as(mut self, counter: &'static str) -> Handled {
        self.counter = Some(counter);
        self
    }

    pub fn for_campaign(mut self, campaign: impl Into<String>) -> Handled {
        self.campaign = Some(campaign.into());
        self
    }
}

/// What receiving a delivery did.
#[derive(Debug, PartialEq, Eq)]
pub struct Receipt {
    pub event_id: String,
    pub outcome: Outcome,
    pub review_reason: Option<String>,
    /// The campaign whose totals changed (only when something was booked).
    pub campaign: Option<String>,
    /// The event id was stored before: this delivery changed nothing.
    pub duplicate: bool,
}

/// What handlers may need besides the database connection.
#[derive(Clone, Default)]
pub struct Context {
    /// Seals the names and emails of donors who chose to be named; without it none are kept.
    pub data_key: Option<DataKey>,
}

/// A handler's future: it borrows the transaction's connection and the event.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<Handled, Error>> + Send + 'a>>;

/// Acts on one event inside the store's transaction. Its database work commits with the event
/// row, or not at all.
pub type Handler = for<'a> fn(&'a mut PgConnection, &'a Event, &'a Context) -> HandlerFuture<'a>;

/// A handler for several events of one type at once (a group commit's share of that type):
/// one [`Handled`] per event, in the order given. It does what the single handler would do for
/// each, with fewer statements; the events are distinct and none is stored yet.
pub type BatchHandler = for<'a> fn(&'a mut PgConnection, &'a [&'a Event], &'a Context) -> BatchFuture<'a>;
pub type BatchFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<Handled>, Error>> + Send + 'a>>;

/// The table of handlers by event type, and the store they run in.
pub struct Dispatcher {
    handlers: HashMap<&'static str, Handler>,
    batch_handlers: HashMap<&'static str, BatchHandler>,
    context: Context,
}

impl Dispatcher {
    pub fn new(context: Context) -> Dispatcher {
        Dispatcher { handlers: HashMap::new(), batch_handlers: HashMap::new(), context }
    }

    /// Registers `handler` for events of type `kind`. One handler per type: registering a type
    /// twice is a bug in the table, caught by the tests that build it.
    pub fn on(mut self, kind: &'static str, handler: Handler) -> Dispatcher {
        let previous = self.handlers.insert(kind, handler);
        debug_assert!(previous.is_none(), "two handlers for {kind}");
        self
    }

    /// Registers a handler for many events of type `kind` at once, used by group commits
    /// ([`Dispatcher::receive_batch`]). The type's single handler stays the reference (and is
    /// used for a group with one event of the type); this one must give the same result.
    pub fn on_many(mut self, kind: &'static str, handler: BatchHandler) -> Dispatcher {
        debug_assert!(self.handlers.contains_key(kind), "{kind}: register its single handler first");
        let previous = self.batch_handlers.insert(kind, handler);
        debug_assert!(previous.is_none(), "two batch handlers for {kind}");
        self
    }

    /// The registered types, sorted (what the webhook endpoint at Stripe should send).
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = self.handlers.keys().copied().collect();
        kinds.sort_unstable();
        kinds
    }

    /// Stores a verified delivery once and acts on it. `body` must already have passed
    /// [`crate::signature::verify`].
    pub async fn receive(&self, pool: &PgPool, body: &[u8]) -> Result<Receipt, Error> {
        self.receive_event(pool, Event::parse(body)?).await
    }

    /// One event in its own database transaction.
    pub async fn receive_event(&self, pool: &PgPool, event: Event) -> Result<Receipt, Error> {
        let mut db = pool.begin().await?;
        // Serializes deliveries of the same stored event; the loser finds it and changes nothing.
        let stored: Option<Outcome> =
            sqlx::query_scalar("select outcome from stripe_events where id = $1 for update")
                .bind(&event.id)
                .fetch_optional(&mut *db)
                .await?;
        if let Some(outcome) = stored {
            return Ok(Receipt::duplicate(event.id, outcome));
        }
        let handled = match self.handlers.get(event.kind.as_str()) {
            Some(handler) => handler(&mut db, &event, &self.context).await?,
            None => Handled::ignored(),
        };
        let created = chrono::DateTime::from_timestamp(event.created, 0);
        let inserted = sqlx::query(
            "insert into stripe_events (id, type, created, payload, outcome, review_reason)
             values ($1, $2, $3, $4, $5, $6) on conflict (id) do nothing",
        )
        .bind(&event.id)
        .bind(&event.kind)
        .bind(created)
        .bind(redact::event(&event))
        .bind(handled.outcome)
        .bind(handled.review_reason.as_deref())
        .execute(&mut *db)
        .await?;
        if inserted.rows_affected() == 0 {
            // A concurrent delivery of the same event committed first: drop our work, keep theirs.
            db.rollback().await?;
            let outcome: Outcome = sqlx::query_scalar("select outcome from stripe_events where id = $1")
                .bind(&event.id)
                .fetch_one(pool)
                .await?;
            return Ok(Receipt::duplicate(event.id, outcome));
        }
        db.commit().await?;
        Ok(stored_receipt(event, handled))
    }

    /// Several deliveries in ONE database transaction (a group commit): one lookup of their ids,
    /// the handlers (a type's batch handler for several events of it), one insert of the events,
    /// one commit. Receipts come back in `events`' order, each only after the commit, so a 2xx
    /// still means durable. An event delivered twice within the group is acted on once; the
    /// second is answered as a duplicate.
    ///
    /// Validate first, fall back second: if anything fails (an event a handler refuses, a
    /// conflict with another node's concurrent delivery, a deadlock, the commit), nothing of the
    /// group is kept and each event is received again on its own ([`Dispatcher::receive_event`]),
    /// so one bad event gets its own error and does not fail the others.
    pub async fn receive_batch(&self, pool: &PgPool, events: Vec<Event>) -> Vec<Result<Receipt, Error>> {
        if events.len() > 1 {
            match self.try_batch(pool, &events).await {
                Ok(Ok(handled)) => {
                    return events
                        .into_iter()
                        .zip(handled)
                        .map(|(event, done)| {
                            Ok(match done {
                                Done::Stored(handled) => stored_receipt(event, handled),
                                Done::Duplicate(outcome) => Receipt::duplicate(event.id, outcome),
                            })
                        })
                        .collect();
                }
                Ok(Err(reason)) => {
                    tracing::info!(
                        reason,
                        events = events.len(),
                        "group commit undone; its events are received one by one"
                    );
                    metrics::counter!(GROUPS_UNDONE).increment(1);
                }
                Err(e) => {
                    tracing::info!(error = %e, events = events.len(), "group commit undone; its events are received one by one");
                    metrics::counter!(GROUPS_UNDONE).increment(1);
                }
            }
        }
        let mut receipts = Vec::with_capacity(events.len());
        for event in events {
            receipts.push(self.receive_event(pool, event).await);
        }
        receipts
    }

    /// `Ok(Err(reason))`: the group cannot commit as one, though nothing failed.
    async fn try_batch(
        &self,
        pool: &PgPool,
        events: &[Event],
    ) -> Result<Result<Vec<Done>, &'static str>, Error> {
        let mut db = pool.begin().await?;
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        let stored: HashMap<String, Outcome> =
            sqlx::query_as("select id, outcome from stripe_events where id = any($1) for update")
                .bind(&ids)
                .fetch_all(&mut *db)
                .await?
                .into_iter()
                .collect();
        // Each event is stored already, a repeat of an earlier one in this group, or new.
        let mut first_of: HashMap<&str, usize> = HashMap::new();
        let mut repeats: Vec<(usize, usize)> = Vec::new();
        let mut done: Vec<Option<Done>> = Vec::with_capacity(events.len());
        // the new events by type, types in order of first appearance
        let mut by_kind: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, event) in events.iter().enumerate() {
            if let Some(outcome) = stored.get(&event.id) {
                done.push(Some(Done::Duplicate(*outcome)));
            } else if let Some(&first) = first_of.get(event.id.as_str()) {
                repeats.push((i, first));
                done.push(None);
            } else {
                first_of.insert(&event.id, i);
                match by_kind.iter_mut().find(|(kind, _)| *kind == event.kind) {
                    Some((_, indices)) => indices.push(i),
                    None => by_kind.push((&event.kind, vec![i])),
                }
                done.push(None);
            }
        }
        for (kind, indices) in &by_kind {
            match (self.batch_handlers.get(kind), self.handlers.get(kind)) {
                (Some(many), _) if indices.len() > 1 => {
                    let group: Vec<&Event> = indices.iter().map(|&i| &events[i]).collect();
                    let handled = many(&mut db, &group, &self.context).await?;
                    if handled.len() != indices.len() {
                        return Ok(Err(
                            "a batch handler answered for fewer or more events than it was given",
                        ));
                    }
                    for (&i, handled) in indices.iter().zip(handled) {
                        done[i] = Some(Done::Stored(handled));
                    }
                }
                (_, Some(one)) => {
                    for &i in indices {
                        done[i] = Some(Done::Stored(one(&mut db, &events[i], &self.context).await?));
                    }
                }
                (_, None) => {
                    for &i in indices {
                        done[i] = Some(Done::Stored(Handled::ignored()));
                    }
                }
            }
        }
        let new: Vec<(&Event, &Handled)> = events
            .iter()
            .zip(&done)
            .filter_map(|(event, done)| match done {
                Some(Done::Stored(handled)) => Some((event, handled)),
                _ => None,
            })
            .collect();
        let inserted: u64 = if new.is_empty() {
            0
        } else {
            let kinds: Vec<&str> = new.iter().map(|(e, _)| e.kind.as_str()).collect();
            let created: Vec<Option<chrono::DateTime<chrono::Utc>>> =
                new.iter().map(|(e, _)| chrono::DateTime::from_timestamp(e.created, 0)).collect();
            let payloads: Vec<Value> = new.iter().map(|(e, _)| redact::event(e)).collect();
            let outcomes: Vec<&str> = new.iter().map(|(_, h)| h.outcome.as_str()).collect();
            let reasons: Vec<Option<&str>> = new.iter().map(|(_, h)| h.review_reason.as_deref()).collect();
            let ids: Vec<&str> = new.iter().map(|(e, _)| e.id.as_str()).collect();
            sqlx::query(
                "insert into stripe_events (id, type, created, payload, outcome, review_reason)
                 select id, type, created, payload, outcome::stripe_event_outcome, review_reason
                 from unnest($1::text[], $2::text[], $3::timestamptz[], $4::jsonb[], $5::text[], $6::text[])
                      as e (id, type, created, payload, outcome, review_reason)
                 on conflict (id) do nothing",
            )
            .bind(&ids)
            .bind(&kinds)
            .bind(&created)
            .bind(&payloads)
            .bind(&outcomes)
            .bind(&reasons)
            .execute(&mut *db)
            .await?
            .rows_affected()
        };
        if usize::try_from(inserted).ok() != Some(new.len()) {
            // another node's delivery of one of them committed first: each on its own
            return Ok(Err("an event was stored concurrently"));
        }
        db.commit().await?;
        for (i, first) in repeats {
            let outcome = match &done[first] {
                Some(Done::Stored(handled)) => handled.outcome,
                Some(Done::Duplicate(outcome)) => *outcome,
                None => Outcome::Ignored,
            };
            done[i] = Some(Done::Duplicate(outcome));
        }
        Ok(Ok(done.into_iter().map(|d| d.unwrap_or(Done::Duplicate(Outcome::Ignored))).collect()))
    }
}

/// Prometheus counter: group commits undone and received one by one (a refused event, a
/// conflict, a deadlock).
pub const GROUPS_UNDONE: &str = "zbor_stripe_event_groups_undone_total";

/// What a group commit did with one of its events.
enum Done {
    Stored(Handled),
    Duplicate(Outcome),
}

/// After the commit: the counter, the log line, the receipt.
fn stored_receipt(event: Event, handled: Handled) -> Receipt {
    let Handled { outcome, review_reason, campaign, counter, totals_changed } = handled;
    if let Some(counter) = counter {
        metrics::counter!(counter).increment(1);
    }
    match &review_reason {
        Some(reason) => {
            tracing::warn!(event = %event.id, kind = %event.kind, reason, "stripe event needs review")
        }
        None => tracing::info!(event = %event.id, kind = %event.kind, ?outcome, "stripe event stored"),
    }
    // Only a booking changes a campaign's totals, or a handler that says so.
    let campaign = campaign.filter(|_| outcome == Outcome::Booked || totals_changed);
    Receipt { event_id: event.id, outcome, review_reason, campaign, duplicate: false }
}

impl Receipt {
    fn duplicate(event_id: String, outcome: Outcome) -> Receipt {
        Receipt { event_id, outcome, review_reason: None, campaign: None, duplicate: true }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_deliveries_are_refused_with_a_reason() {
        let ok = br#"{"id":"evt_1","type":"charge.refunded","created":1,"data":{"object":{}}}"#;
        assert_eq!(Event::parse(ok).map(|e| e.kind).ok().as_deref(), Some("charge.refunded"));
        for bad in [
            &br#"{"id":"evt_1"}"#[..],
            br#"{"id":"ch_1","type":"x","created":1,"data":{"object":{}}}"#,
            br#"{"id":"evt_1;drop","type":"x","created":1,"data":{"object":{}}}"#,
            br#"{"id":"evt_1","type":"","created":1,"data":{"object":{}}}"#,
            br#"{"id":"evt_1","type":"x","created":99999999999999,"data":{"object":{}}}"#,
            b"not json",
        ] {
            assert!(
                matches!(Event::parse(bad), Err(Error::MalformedEvent(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    fn ignore<'a>(_: &'a mut PgConnection, _: &'a Event, _: &'a Context) -> HandlerFuture<'a> {
        Box::pin(async { Ok(Handled::ignored()) })
    }

    #[test]
    fn the_table_lists_what_it_handles() {
        let table = Dispatcher::new(Context::default()).on("b.x", ignore).on("a.x", ignore);
        assert_eq!(table.kinds(), ["a.x", "b.x"]);
    }
}
