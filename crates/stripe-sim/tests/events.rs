#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Stripe's Events API at the simulator: every event it makes is kept exactly as delivered (or as
//! it would have been, with no receiver), listed newest first through async-stripe's typed
//! requests, paged both ways, filtered by `created`, `type`, `types[]` and `delivery_success`, 30
//! days back; deliveries stopped and late webhooks sent with `redeliver_all`.

mod common;

use common::{get, sim_post, Receiver, KEY};
use serde_json::{json, Value};
use stripe::{ApiErrorsCode, Client, ClientBuilder, StripeError};
use stripe_core::event::{ListEvent, RetrieveEvent};
use stripe_shared::{Event, EventType};
use stripe_types::{RangeBoundsTs, RangeQueryTs};
use zbor_stripe_sim::Simulator;

const DAY: i64 = 24 * 3600;

fn client(sim: &Simulator) -> Client {
    ClientBuilder::new(KEY).url(sim.base_url.clone()).build().unwrap()
}

/// A donor pays `amount` cents (EUR) by card: `checkout.session.completed` and
/// `charge.succeeded`. Returns the payment intent.
async fn card_payment(sim: &Simulator, amount: &str) -> String {
    let session = common::session(sim, amount).await;
    let (status, paid) =
        sim_post(sim, &format!("checkout/sessions/{session}/pay"), json!({"method": "card"})).await;
    assert_eq!(status, 200, "{paid}");
    paid["payment_intent"].as_str().unwrap().to_owned()
}

/// Every page of `request`, following `has_more` with `starting_after`, `limit` a page.
async fn all_pages(stripe: &Client, request: ListEvent, limit: i64) -> Vec<Vec<Event>> {
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut page_request = request.clone().limit(limit);
        if let Some(after) = &after {
            page_request = page_request.starting_after(after.clone());
        }
        let page = page_request.send(stripe).await.unwrap();
        assert_eq!(
            (page.url.as_str(), page.data.len() <= usize::try_from(limit).unwrap()),
            ("/v1/events", true)
        );
        after = page.data.last().map(|e| e.id.to_string());
        let more = page.has_more;
        pages.push(page.data);
        if !more {
            return pages;
        }
        assert!(pages.len() < 50, "paging does not end");
    }
}

fn ids(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.id.to_string()).collect()
}

fn value_ids(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
}

/// `sim.events()` newest first, as the list orders them (the clock only moves forward here).
fn newest_first(sim: &Simulator) -> Vec<Value> {
    let mut events = sim.events();
    events.reverse();
    events
}

#[tokio::test]
async fn events_made_without_a_receiver_are_listed_newest_first_paged_and_filtered() {
    let sim = common::start(common::config(None)).await;
    let stripe = client(&sim);

    // The day before yesterday, yesterday (a payment and a refund), today: 7 events.
    sim.set_clock_offset(-2 * DAY);
    card_payment(&sim, "1000").await;
    sim.set_clock_offset(-DAY);
    let yesterday = sim.now();
    let intent = card_payment(&sim, "2500").await;
    sim.refund(&intent, Some(500)).unwrap();
    sim.set_clock_offset(0);
    card_payment(&sim, "3000").await;
    // A refund's events go out in the background; they are kept at once.
    let kept = sim.events();
    assert_eq!(kept.len(), 8, "{kept:#?}");
    assert!(sim.deliveries().is_empty(), "no webhook URL: nothing delivered, everything kept");
    let expected = newest_first(&sim);
    let expected_types: Vec<&str> = expected.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        expected_types,
        [
            "charge.succeeded",
            "checkout.session.completed",
            "refund.created",
            "charge.refunded",
            "charge.succeeded",
            "checkout.session.completed",
            "charge.succeeded",
            "checkout.session.completed",
        ]
    );

    // Typed, 3 a page, newest first, each once: the objects are the ones kept, exactly.
    let pages = all_pages(&stripe, ListEvent::new(), 3).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 2]);
    let listed: Vec<Event> = pages.into_iter().flatten().collect();
    assert_eq!(ids(&listed), value_ids(&expected));
    for (typed, kept) in listed.iter().zip(&expected) {
        assert_eq!(typed.type_.as_str(), kept["type"].as_str().unwrap());
        assert_eq!(typed.created, kept["created"].as_i64().unwrap());
        assert!(!typed.livemode);
    }
    assert_eq!(listed[0].type_, EventType::ChargeSucceeded);
    let (status, _, raw) = get(&sim, "events?limit=100").await;
    assert_eq!(status, 200, "{raw}");
    assert_eq!(raw["data"].as_array().unwrap(), &expected, "the list carries the kept objects as they are");
    assert_eq!(
        (&raw["object"], &raw["has_more"], &raw["url"]),
        (&json!("list"), &json!(false), &json!("/v1/events"))
    );

    // Backwards from the oldest with `ending_before`: the closest newer ones, newest first.
    let oldest = expected.last().unwrap()["id"].as_str().unwrap();
    let before = ListEvent::new().ending_before(oldest).limit(2).send(&stripe).await.unwrap();
    assert_eq!(ids(&before.data), value_ids(&expected[5..7]));
    assert!(before.has_more);

    // Yesterday's only, by `created`.
    let range = RangeQueryTs::Bounds(RangeBoundsTs {
        gte: Some(yesterday - 60),
        lt: Some(yesterday + 3600),
        ..RangeBoundsTs::default()
    });
    let yesterdays = ListEvent::new().created(range).send(&stripe).await.unwrap();
    assert_eq!(ids(&yesterdays.data), value_ids(&expected[2..6]));
    let since_today =
        ListEvent::new().created(RangeQueryTs::gte(sim.now() - 60)).send(&stripe).await.unwrap();
    assert_eq!(ids(&since_today.data), value_ids(&expected[..2]));

    // By type: `types[]`, and `type` with a wildcard.
    let completed = ListEvent::new()
        .types(vec!["checkout.session.completed".to_owned(), "refund.created".to_owned()])
        .send(&stripe)
        .await
        .unwrap();
    let kinds: Vec<&str> = completed.data.iter().map(|e| e.type_.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "checkout.session.completed",
            "refund.created",
            "checkout.session.completed",
            "checkout.session.completed"
        ]
    );
    let charges = ListEvent::new().type_("charge.*").send(&stripe).await.unwrap();
    assert_eq!(charges.data.len(), 4);
    assert!(charges.data.iter().all(|e| e.type_.as_str().starts_with("charge.")));
    // both at once, or more than 20 types: Stripe's 400
    let both =
        ListEvent::new().type_("charge.*").types(vec!["refund.created".to_owned()]).send(&stripe).await;
    assert!(matches!(both, Err(StripeError::Stripe(_, 400))), "{both:?}");
    let many: Vec<String> = (0..21).map(|i| format!("t.{i}")).collect();
    let too_many = ListEvent::new().types(many).send(&stripe).await;
    assert!(matches!(too_many, Err(StripeError::Stripe(_, 400))), "{too_many:?}");
    // none delivered: all of them are "not delivered successfully"
    let failed = ListEvent::new().delivery_success(false).limit(100).send(&stripe).await.unwrap();
    assert_eq!(failed.data.len(), 8);
    assert!(ListEvent::new().delivery_success(true).send(&stripe).await.unwrap().data.is_empty());

    // One by id; an unknown id is Stripe's 404.
    let one = RetrieveEvent::new(oldest).send(&stripe).await.unwrap();
    assert_eq!((one.id.as_str(), one.type_.clone()), (oldest, EventType::CheckoutSessionCompleted));
    let (status, _, same) = get(&sim, &format!("events/{oldest}")).await;
    assert_eq!((status, &same), (200, expected.last().unwrap()));
    let missing = RetrieveEvent::new("evt_missing").send(&stripe).await;
    let Err(StripeError::Stripe(error, 404)) = missing else { panic!("{missing:?}") };
    assert_eq!(error.code, Some(ApiErrorsCode::ResourceMissing));
    // an unknown cursor, as in every list: 400 resource_missing
    let (status, _, unknown) = get(&sim, "events?starting_after=evt_missing").await;
    assert_eq!((status, unknown["error"]["code"].as_str()), (400, Some("resource_missing")));
}

#[tokio::test]
async fn events_older_than_30_days_are_gone_as_at_stripe() {
    let sim = common::start(common::config(None)).await;
    let stripe = client(&sim);
    sim.set_clock_offset(-31 * DAY);
    card_payment(&sim, "1000").await;
    sim.set_clock_offset(-29 * DAY);
    card_payment(&sim, "2000").await;
    sim.set_clock_offset(0);
    let kept = sim.events();
    assert_eq!(kept.len(), 4);
    let listed = ListEvent::new().send(&stripe).await.unwrap();
    assert_eq!(ids(&listed.data), value_ids(&newest_first(&sim)[..2]));
    let too_old = kept[0]["id"].as_str().unwrap();
    let gone = RetrieveEvent::new(too_old).send(&stripe).await;
    assert!(matches!(gone, Err(StripeError::Stripe(_, 404))), "{gone:?}");
}

#[tokio::test]
async fn with_deliveries_stopped_events_still_accrue_and_redeliver_all_sends_them_late() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let stripe = client(&sim);
    card_payment(&sim, "1000").await;
    assert_eq!(receiver.wait_for(2).await.len(), 2);

    // The receiver "goes down": events are made and kept, none delivered.
    sim.set_webhook_url(None);
    card_payment(&sim, "2000").await;
    card_payment(&sim, "3000").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(sim.events().len(), 6);
    assert_eq!(sim.deliveries().len(), 2);
    let undelivered = ListEvent::new().delivery_success(false).send(&stripe).await.unwrap();
    assert_eq!(ids(&undelivered.data), value_ids(&newest_first(&sim)[..4]));
    let delivered = ListEvent::new().delivery_success(true).send(&stripe).await.unwrap();
    assert_eq!(ids(&delivered.data), value_ids(&newest_first(&sim)[4..]));

    // Back up: every event again, oldest first, each acknowledged.
    sim.set_webhook_url(Some(receiver.url.clone()));
    let late = sim.redeliver_all().await;
    assert_eq!(late.iter().map(|d| d.event_id.clone()).collect::<Vec<_>>(), value_ids(&sim.events()));
    assert!(late.iter().all(|d| d.status == Some(200) && d.attempt == 1), "{late:?}");
    let received = receiver.wait_for(8).await;
    assert_eq!(received.len(), 8);
    assert_eq!(&received[2..], &sim.events()[..], "late webhooks carry the kept objects, exactly");
    assert!(ListEvent::new().delivery_success(false).send(&stripe).await.unwrap().data.is_empty());

    // Without a URL there is nothing to redeliver to.
    sim.set_webhook_url(None);
    assert!(sim.redeliver_all().await.is_empty());
}
