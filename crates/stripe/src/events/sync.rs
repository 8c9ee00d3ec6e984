//! Stripe's events read back: what the webhook missed, through the same exactly-once path.
//!
//! Stripe retries a webhook for 3 days. A server down longer, or a wrong webhook secret, would
//! lose donations unless zbor reads the events back. [`sync`] lists, through Stripe's Events API,
//! every event created since a time, of the types the [`Dispatcher`] acts on, and gives each one
//! the event store does not hold yet to [`Dispatcher::receive`], as a delivery would: the store
//! decides, in the same transaction as the handler, whether the event is new, so an event the
//! webhook delivers at the same moment (or that an earlier sync stored) is acted on once. Run it
//! as often as wanted.
//!
//! - **Cheap when nothing was missed.** One list request per 100 events, one query per page for
//!   the ids the store holds; an event already stored is never read further.
//! - **Oldest first.** Stripe lists newest first. The first pass walks back to `since` and keeps
//!   only the ids of the events not stored (and the oldest one itself); the second walks forward
//!   from that oldest one with `ending_before` and applies the missing ones in the order they
//!   were created. Memory is one page and the missing ids, at most [`MISSING_MAX`] of them:
//!   past that the run is cut short (the newest ones applied, `truncated`), and the next run
//!   takes the rest.
//! - **Only what zbor acts on.** `types[]` carries [`Dispatcher::kinds`] (Stripe takes up to 20
//!   a request; with more, every type is listed and the others are passed over here).
//! - **30 days.** Stripe keeps events that long; a `since` further back is refused
//!   ([`SyncError::TooOld`]) rather than silently covering less.
//! - **No personal data.** The events carry donors' names and emails; only counts are logged,
//!   and the report holds event ids and reasons, never a body.
//!
//! Every request goes through [`Stripe::read`]: rate-limited, retried on 429 and 5xx.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use miniserde::json::{Number, Value as Json};
use sqlx::PgPool;
use stripe::StripeRequest;
use stripe_client_core::RequestBuilder;
use stripe_core::event::ListEvent;
use stripe_types::RangeQueryTs;
use zbor_errors::{Classified, ErrorKind};

use super::{Dispatcher, Outcome};
use crate::{Error, Stripe};

/// How far back Stripe keeps events ("List events, going back up to 30 days").
pub const RETENTION_DAYS: i64 = 30;

/// Accepted beyond [`RETENTION_DAYS`]: a caller's "30 days ago", computed a moment before.
const RETENTION_SLACK_SECONDS: i64 = 60;

/// Events per list request: Stripe's largest page.
pub const PAGE_SIZE: i64 = 100;

/// Stripe's limit on `types[]` in one request.
pub const TYPES_PER_REQUEST_MAX: usize = 20;

/// Missing events one run applies at most; it reports `truncated` past that.
pub const MISSING_MAX: usize = 100_000;

/// What a sync found and did. Unless `truncated`, `listed = already_stored + applied + failed`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// Events Stripe listed: created since `since`, of the types zbor acts on.
    pub listed: usize,
    /// Of those, in the event store already: delivered by webhook (also while this sync ran), or
    /// read back by an earlier sync. Nothing was done with them.
    pub already_stored: usize,
    /// Stored and acted on now ([`Dispatcher::receive`]).
    pub applied: usize,
    /// Of those applied, the ones a person must look at (an unknown campaign, amounts that
    /// differ): event ids.
    pub needs_review: Vec<String>,
    /// Not stored: the handler or the event failed. Stripe still has them; the next sync (or a
    /// webhook retry) tries again.
    pub failed: Vec<SyncFailure>,
    /// The campaigns (slugs) whose money changed: their live totals need a refresh.
    pub campaigns: BTreeSet<String>,
    /// More than [`MISSING_MAX`] events were missing: the newest of them were applied; run again
    /// for the older ones.
    pub truncated: bool,
    /// List requests sent to Stripe.
    pub requests: usize,
}

/// An event the sync could not apply, and why (an error code and message, never the event).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SyncFailure {
    pub event_id: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Stripe no longer has the events before `oldest`: they can only be found by reconciling
    /// the ledger against Stripe's balance transactions.
    #[error(
        "Stripe keeps events for {RETENTION_DAYS} days: a sync since {since} cannot see what happened before \
         {oldest}; choose a later start, and reconcile the days before against Stripe's balance transactions"
    )]
    TooOld { since: DateTime<Utc>, oldest: DateTime<Utc> },
    /// Stripe could not be read, or the event store failed: nothing after the failure was
    /// applied, and what was applied stays (a new run skips it).
    #[error(transparent)]
    Failed(#[from] Error),
}

impl From<sqlx::Error> for SyncError {
    fn from(error: sqlx::Error) -> SyncError {
        SyncError::Failed(Error::Database(error))
    }
}

impl Classified for SyncError {
    fn kind(&self) -> ErrorKind {
        match self {
            SyncError::TooOld { .. } => ErrorKind::Invalid,
            SyncError::Failed(e) => e.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            SyncError::TooOld { .. } => "since_too_old",
            SyncError::Failed(e) => e.code(),
        }
    }
}

/// Reads back every event Stripe created since `since` (at most [`RETENTION_DAYS`] ago) of the
/// types `events` acts on, and applies each one the event store does not hold yet through
/// [`Dispatcher::receive`], oldest first. `stripe` should be the background budget's handle, not
/// the donors'.
pub async fn sync(
    pool: &PgPool,
    stripe: &Stripe,
    events: &Dispatcher,
    since: DateTime<Utc>,
) -> Result<SyncReport, SyncError> {
    sync_listed(pool, stripe, events, since, false).await
}

/// [`sync`], of the events whose webhook Stripe has not delivered (`delivery_success=false`:
/// failed so far, or still being retried). What `serve` runs every few minutes: in the normal
/// case Stripe lists nothing, so reading back days costs one request, not one per 100 events
/// (which would take the background budget from fee lookups for as long as a burst's events
/// take to page through).
pub async fn sync_undelivered(
    pool: &PgPool,
    stripe: &Stripe,
    events: &Dispatcher,
    since: DateTime<Utc>,
) -> Result<SyncReport, SyncError> {
    sync_listed(pool, stripe, events, since, true).await
}

async fn sync_listed(
    pool: &PgPool,
    stripe: &Stripe,
    events: &Dispatcher,
    since: DateTime<Utc>,
    undelivered_only: bool,
) -> Result<SyncReport, SyncError> {
    check_since(since, Utc::now())?;
    let mut report = SyncReport::default();
    let kinds = events.kinds();
    if kinds.is_empty() {
        return Ok(report);
    }
    let list = List { since: since.timestamp(), kinds, undelivered_only };

    // 1. Newest to oldest: what is missing, and the oldest missing event.
    let mut missing: HashSet<String> = HashSet::new();
    let mut oldest_missing: Option<Listed> = None;
    let mut after: Option<String> = None;
    loop {
        let page = list.page(stripe, after.as_deref().map(Cursor::After), &mut report).await?;
        after = page.events.last().map(|e| e.id.clone());
        let ours: Vec<Listed> = page.events.into_iter().filter(|e| list.acts_on(&e.kind)).collect();
        let stored = stored(pool, &ours).await?;
        for event in ours {
            if missing.contains(&event.id) {
                continue; // listed twice: counted once
            }
            report.listed += 1;
            if stored.contains(&event.id) {
                report.already_stored += 1;
            } else {
                missing.insert(event.id.clone());
                oldest_missing = Some(event);
            }
        }
        if !page.has_more || after.is_none() {
            break;
        }
        if missing.len() >= MISSING_MAX {
            report.truncated = true;
            break;
        }
    }

    // 2. Oldest to newest, from the oldest missing event: apply the missing ones.
    if let Some(oldest) = oldest_missing {
        missing.remove(&oldest.id);
        apply(pool, events, &oldest, &mut report).await?;
        let mut before = oldest.id;
        while !missing.is_empty() {
            let page = list.page(stripe, Some(Cursor::Before(&before)), &mut report).await?;
            let Some(newest) = page.events.first() else { break };
            before = newest.id.clone();
            // Stripe's order is newest first; equal `created` keep it, reversed
            let mut oldest_first = page.events;
            oldest_first.reverse();
            oldest_first.sort_by_key(|e| e.created);
            for event in &oldest_first {
                if missing.remove(&event.id) {
                    apply(pool, events, event, &mut report).await?;
                }
            }
            if !page.has_more {
                break;
            }
        }
    }
    // Listed in the first pass, not in the second. Delivered meanwhile (a webhook retry landed,
    // so an undelivered-only listing drops it): stored, nothing to do. Otherwise Stripe no longer
    // lists it (it should not happen within 30 days); the next run sees it again if it is back.
    let mut gone: Vec<String> = missing.into_iter().collect();
    gone.sort_unstable();
    let delivered_meanwhile = stored_ids(pool, &gone).await?;
    for event_id in gone {
        if delivered_meanwhile.contains(&event_id) {
            report.already_stored += 1;
        } else {
            report.failed.push(SyncFailure { event_id, reason: "listed by Stripe, then no longer".into() });
        }
    }

    // counts only: events carry donors' data
    let failed = report.failed.len();
    let needs_review = report.needs_review.len();
    let campaigns = report.campaigns.len();
    let (listed, already_stored, applied) = (report.listed, report.already_stored, report.applied);
    let (truncated, requests) = (report.truncated, report.requests);
    if failed > 0 || truncated {
        tracing::warn!(
            listed,
            already_stored,
            applied,
            needs_review,
            failed,
            campaigns,
            truncated,
            requests,
            "Stripe events synced, not all applied"
        );
    } else {
        tracing::info!(
            listed,
            already_stored,
            applied,
            needs_review,
            campaigns,
            requests,
            "Stripe events synced"
        );
    }
    Ok(report)
}

/// Refuses a `since` before Stripe's retention (with a minute's slack).
fn check_since(since: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), SyncError> {
    let oldest = now - chrono::Duration::days(RETENTION_DAYS);
    if since < oldest - chrono::Duration::seconds(RETENTION_SLACK_SECONDS) {
        return Err(SyncError::TooOld { since, oldest });
    }
    Ok(())
}

/// Gives one missing event to the event store, and counts what became of it.
async fn apply(
    pool: &PgPool,
    events: &Dispatcher,
    event: &Listed,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    match events.receive(pool, &event.body).await {
        // stored meanwhile (a webhook delivery, a concurrent sync): nothing done
        Ok(receipt) if receipt.duplicate => report.already_stored += 1,
        Ok(receipt) => {
            report.applied += 1;
            if receipt.outcome == Outcome::NeedsReview {
                report.needs_review.push(receipt.event_id);
            }
            report.campaigns.extend(receipt.campaign);
        }
        // The store itself failed: the next events would too. What is applied stays.
        Err(Error::Database(e)) => return Err(Error::Database(e).into()),
        // The message is the one a webhook delivery answers Stripe with: it quotes no body
        // (`super::json_problem`).
        Err(e) => report
            .failed
            .push(SyncFailure { event_id: event.id.clone(), reason: format!("{}: {e}", e.code()) }),
    }
    Ok(())
}

/// The ids among `events` the event store holds: one query.
async fn stored(pool: &PgPool, events: &[Listed]) -> Result<HashSet<String>, SyncError> {
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    stored_ids(pool, &ids).await
}

/// Which of `ids` the event store holds.
async fn stored_ids(pool: &PgPool, ids: &[impl AsRef<str>]) -> Result<HashSet<String>, SyncError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
    let stored: Vec<String> = sqlx::query_scalar("select id from stripe_events where id = any($1)")
        .bind(&ids)
        .fetch_all(pool)
        .await?;
    Ok(stored.into_iter().collect())
}

/// The list request: its filters, and the types to keep when Stripe cannot filter them all.
struct List {
    since: i64,
    kinds: Vec<&'static str>,
    /// `delivery_success=false`: only events Stripe has not delivered ([`sync_undelivered`]).
    undelivered_only: bool,
}

enum Cursor<'a> {
    /// Older than this event (the next page, going back).
    After(&'a str),
    /// Newer than this event (the previous page, going forward).
    Before(&'a str),
}

impl List {
    fn acts_on(&self, kind: &str) -> bool {
        self.kinds.contains(&kind)
    }

    async fn page(
        &self,
        stripe: &Stripe,
        cursor: Option<Cursor<'_>>,
        report: &mut SyncReport,
    ) -> Result<Page, Error> {
        let mut list = ListEvent::new().created(RangeQueryTs::gte(self.since)).limit(PAGE_SIZE);
        if self.kinds.len() <= TYPES_PER_REQUEST_MAX {
            list = list.types(self.kinds.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>());
        }
        if self.undelivered_only {
            list = list.delivery_success(false);
        }
        list = match cursor {
            Some(Cursor::After(id)) => list.starting_after(id),
            Some(Cursor::Before(id)) => list.ending_before(id),
            None => list,
        };
        report.requests += 1;
        Page::read(stripe.read(&AsSent(list)).await?)
    }
}

/// [`ListEvent`], with the answer kept as JSON: each event goes to the store with every field
/// Stripe sent, read by the parser webhook deliveries go through ([`super::Event::parse`]).
/// async-stripe's typed `Event` would need writing back to JSON, and refuses a whole page over
/// one event it cannot type.
struct AsSent(ListEvent);

impl StripeRequest for AsSent {
    type Output = Json;

    fn build(&self) -> RequestBuilder {
        self.0.build()
    }
}

struct Page {
    /// Newest first, as Stripe lists them.
    events: Vec<Listed>,
    has_more: bool,
}

/// One listed event: what the sync needs of it, and the event as JSON.
struct Listed {
    id: String,
    kind: String,
    created: i64,
    body: Vec<u8>,
}

impl Page {
    /// Stripe's list object. An event without a readable id, type or time is Stripe's answer
    /// gone wrong, not an event to skip: the paging depends on the ids.
    fn read(list: Json) -> Result<Page, Error> {
        let unreadable = |what: &str| Error::Unavailable {
            attempts: 1,
            last: format!("unreadable list of events: {what}"),
        };
        let Json::Object(mut list) = list else { return Err(unreadable("not an object")) };
        let has_more = matches!(list.get("has_more"), Some(Json::Bool(true)));
        let Some(Json::Array(mut data)) = list.remove("data") else { return Err(unreadable("no data")) };
        let mut events = Vec::with_capacity(data.len());
        for event in std::mem::take(&mut *data) {
            let Json::Object(fields) = &event else { return Err(unreadable("an event is not an object")) };
            let text = |name: &str| match fields.get(name) {
                Some(Json::String(s)) => Some(s.clone()),
                _ => None,
            };
            let created = match fields.get("created") {
                Some(Json::Number(Number::U64(n))) => i64::try_from(*n).ok(),
                Some(Json::Number(Number::I64(n))) => Some(*n),
                _ => None,
            };
            let (Some(id), Some(kind), Some(created)) = (text("id"), text("type"), created) else {
                return Err(unreadable("an event without id, type or created"));
            };
            let body = miniserde::json::to_string(&event).into_bytes();
            events.push(Listed { id, kind, created, body });
        }
        Ok(Page { events, has_more })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_since_beyond_stripes_30_days_is_refused() {
        let now = Utc::now();
        let days = |n: i64| now - chrono::Duration::days(n);
        assert!(check_since(days(3), now).is_ok());
        assert!(check_since(days(30), now).is_ok());
        assert!(check_since(days(30) - chrono::Duration::seconds(30), now).is_ok(), "a moment's slack");
        let Err(error) = check_since(days(31), now) else { panic!("31 days accepted") };
        assert_eq!((error.kind(), error.code()), (ErrorKind::Invalid, "since_too_old"));
        assert!(error.to_string().contains("Stripe keeps events for 30 days"), "{error}");
    }

    #[test]
    fn a_page_keeps_every_field_of_each_event_and_refuses_one_without_an_id() {
        let list = r#"{"object":"list","url":"/v1/events","has_more":true,"data":[
            {"id":"evt_2","type":"charge.succeeded","created":20,"data":{"object":{"id":"ch_1","amount":2500}},"request":{"id":null}},
            {"id":"evt_1","type":"checkout.session.completed","created":10,"data":{"object":{"id":"cs_1"}}}]}"#;
        let page = Page::read(miniserde::json::from_str(list).unwrap()).unwrap();
        assert!(page.has_more);
        let read: Vec<(&str, &str, i64)> =
            page.events.iter().map(|e| (e.id.as_str(), e.kind.as_str(), e.created)).collect();
        assert_eq!(read, [("evt_2", "charge.succeeded", 20), ("evt_1", "checkout.session.completed", 10)]);
        let first: serde_json::Value = serde_json::from_slice(&page.events[0].body).unwrap();
        assert_eq!(
            first,
            serde_json::json!({"id":"evt_2","type":"charge.succeeded","created":20,
                "data":{"object":{"id":"ch_1","amount":2500}},"request":{"id":null}})
        );
        let parsed = super::super::Event::parse(&page.events[0].body).unwrap();
        assert_eq!((parsed.id.as_str(), parsed.object["amount"].as_i64()), ("evt_2", Some(2500)));

        let no_id = r#"{"object":"list","has_more":false,"data":[{"type":"x","created":1}]}"#;
        assert!(matches!(
            Page::read(miniserde::json::from_str(no_id).unwrap()),
            Err(Error::Unavailable { .. })
        ));
    }
}
