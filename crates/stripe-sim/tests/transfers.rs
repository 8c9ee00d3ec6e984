#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Transfers to connected accounts and their reversals, called through async-stripe as zbor
//! calls them: each sends its signed event (`transfer.created`, `transfer.reversed` with the
//! transfer as it then is), an idempotent replay sends none, and Stripe's errors come back in
//! Stripe's shape.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use common::{get, post_form, types, Receiver, KEY};
use serde_json::{json, Value};
use stripe::{
    ApiErrorsType, Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest,
};
use stripe_connect::transfer::{CreateTransfer, RetrieveTransfer};
use stripe_connect::transfer_reversal::{CreateIdTransferReversal, ListIdTransferReversal};
use stripe_core::balance_transaction::RetrieveBalanceTransaction;
use stripe_shared::{ApiErrorsCode, BalanceTransactionType, Transfer, TransferReversal};
use stripe_types::Currency;
use zbor_stripe_sim::{Config, Simulator};

const ACCOUNT: &str = "acct_1BeneficiaryAna";

fn client(sim: &Simulator) -> Client {
    ClientBuilder::new(KEY).url(sim.base_url.clone()).build().unwrap()
}

fn payout_metadata() -> HashMap<String, String> {
    HashMap::from([("zbor_payout".to_owned(), "payout-7".to_owned())])
}

fn create_transfer(amount: i64) -> CreateTransfer {
    CreateTransfer::new(Currency::EUR, ACCOUNT).amount(amount).metadata(payout_metadata())
}

/// An event's `data.object` parsed with async-stripe's type, as zbor's webhook handler would.
fn object<T: miniserde::Deserialize>(event: &Value) -> T {
    miniserde::json::from_str(&event["data"]["object"].to_string()).unwrap()
}

/// A transfer of `amount` cents made over plain HTTP; returns it.
async fn http_transfer(sim: &Simulator, amount: &str) -> Value {
    let form = [("amount", amount), ("currency", "eur"), ("destination", ACCOUNT)];
    let (status, _, transfer) = post_form(sim, "transfers", &form, None).await;
    assert_eq!(status, 200, "{transfer}");
    transfer
}

#[tokio::test]
async fn a_new_transfer_sends_one_signed_transfer_created_and_its_replay_none() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let stripe = client(&sim);
    let key = RequestStrategy::Idempotent(IdempotencyKey::new("payout-7-attempt").unwrap());

    let transfer =
        create_transfer(2500).customize().request_strategy(key.clone()).send(&stripe).await.unwrap();
    assert!(transfer.id.as_str().starts_with("tr_"), "{}", transfer.id);
    assert_eq!((transfer.amount, transfer.amount_reversed, transfer.reversed), (2500, 0, false));
    assert_eq!(transfer.currency, Currency::EUR);
    assert_eq!(transfer.destination.as_ref().map(|d| d.id().to_string()).as_deref(), Some(ACCOUNT));
    assert_eq!(transfer.metadata, payout_metadata());
    assert!(transfer.reversals.data.is_empty());

    // The Receiver answers 400 to a bad signature: an event it kept was signed with the secret.
    let events = receiver.wait_for(1).await;
    assert_eq!(types(&events), ["transfer.created"]);
    let created: Transfer = object(&events[0]);
    assert_eq!((created.id.clone(), created.amount, created.amount_reversed), (transfer.id.clone(), 2500, 0));
    assert_eq!(created.metadata, payout_metadata());
    // the object is the transfer exactly as the API shows it
    let (status, _, retrieved) = get(&sim, &format!("transfers/{}", transfer.id)).await;
    assert_eq!(status, 200);
    assert_eq!(events[0]["data"]["object"], retrieved);
    assert_eq!(events[0]["object"], "event");
    assert_eq!(events[0]["request"]["idempotency_key"], "payout-7-attempt");
    assert!(events[0]["request"]["id"].as_str().unwrap().starts_with("req_"));

    // The same request under the same key: the first transfer, and no second event.
    let replayed = create_transfer(2500).customize().request_strategy(key).send(&stripe).await.unwrap();
    assert_eq!(replayed.id, transfer.id);
    let events = receiver.wait_for(1).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(sim.transfers().len(), 1);
    let deliveries = sim.deliveries();
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(
        (deliveries[0].event_id.as_str(), deliveries[0].event_type.as_str()),
        (events[0]["id"].as_str().unwrap(), "transfer.created")
    );
    assert_eq!((deliveries[0].attempt, deliveries[0].status), (1, Some(200)));

    // The transfer's balance transaction exists: the platform's balance paid it.
    let txn_id = transfer.balance_transaction.as_ref().unwrap().id().clone();
    let txn = RetrieveBalanceTransaction::new(txn_id).send(&stripe).await.unwrap();
    assert_eq!((txn.amount, txn.fee, txn.net, txn.currency), (-2500, 0, -2500, Currency::EUR));
    assert_eq!(txn.type_, BalanceTransactionType::Transfer);
    assert_eq!(txn.source.as_ref().map(|s| s.id().to_string()), Some(transfer.id.to_string()));
}

#[tokio::test]
async fn a_partial_then_a_full_reversal_send_transfer_reversed_with_the_running_total() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let stripe = client(&sim);
    let transfer = create_transfer(2500).send(&stripe).await.unwrap();

    let refund = HashMap::from([("zbor_reason".to_owned(), "refund".to_owned())]);
    let partial: TransferReversal = CreateIdTransferReversal::new(transfer.id.clone())
        .amount(1000)
        .metadata(refund.clone())
        .send(&stripe)
        .await
        .unwrap();
    assert!(partial.id.as_str().starts_with("trr_"), "{}", partial.id);
    assert_eq!((partial.amount, partial.currency), (1000, Currency::EUR));
    assert_eq!(partial.transfer.id(), &transfer.id);
    assert_eq!(partial.metadata, Some(refund));
    assert!(partial.destination_payment_refund.as_ref().unwrap().id().as_str().starts_with("pyr_"));
    assert!(partial.source_refund.is_none());
    let after_partial = RetrieveTransfer::new(transfer.id.clone()).send(&stripe).await.unwrap();
    assert_eq!(
        (after_partial.amount, after_partial.amount_reversed, after_partial.reversed),
        (2500, 1000, false)
    );
    let ids = |list: &[TransferReversal]| list.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&after_partial.reversals.data), vec![partial.id.clone()]);

    // No amount: the rest.
    let rest = CreateIdTransferReversal::new(transfer.id.clone()).send(&stripe).await.unwrap();
    assert_eq!(rest.amount, 1500);
    assert_eq!(rest.metadata, Some(HashMap::new()));
    let after_full = RetrieveTransfer::new(transfer.id.clone()).send(&stripe).await.unwrap();
    assert_eq!((after_full.amount_reversed, after_full.reversed), (2500, true));
    // Stripe lists the most recent first
    assert_eq!(ids(&after_full.reversals.data), [rest.id.clone(), partial.id.clone()]);
    assert!(!after_full.reversals.has_more);

    let events = receiver.wait_for(3).await;
    assert_eq!(types(&events), ["transfer.created", "transfer.reversed", "transfer.reversed"]);
    let first: Transfer = object(&events[1]);
    let second: Transfer = object(&events[2]);
    assert_eq!((first.id.clone(), first.amount_reversed, first.reversed), (transfer.id.clone(), 1000, false));
    assert_eq!(
        (second.id.clone(), second.amount_reversed, second.reversed),
        (transfer.id.clone(), 2500, true)
    );
    assert_eq!(ids(&second.reversals.data), [rest.id.clone(), partial.id.clone()]);
    let (_, _, retrieved) = get(&sim, &format!("transfers/{}", transfer.id)).await;
    assert_eq!(events[2]["data"]["object"], retrieved);
    assert_eq!(sim.deliveries().iter().map(|d| d.status).collect::<Vec<_>>(), [Some(200); 3]);

    // The list endpoint, paged as async-stripe pages it.
    let all = ListIdTransferReversal::new(transfer.id.clone()).send(&stripe).await.unwrap();
    assert_eq!((ids(&all.data), all.has_more), (vec![rest.id.clone(), partial.id.clone()], false));
    assert_eq!(all.url, format!("/v1/transfers/{}/reversals", transfer.id));
    let newest = ListIdTransferReversal::new(transfer.id.clone()).limit(1).send(&stripe).await.unwrap();
    assert_eq!((ids(&newest.data), newest.has_more), (vec![rest.id.clone()], true));
    let older = ListIdTransferReversal::new(transfer.id.clone())
        .limit(1)
        .starting_after(rest.id.as_str())
        .send(&stripe)
        .await
        .unwrap();
    assert_eq!((ids(&older.data), older.has_more), (vec![partial.id.clone()], false));
    let newer = ListIdTransferReversal::new(transfer.id.clone())
        .ending_before(partial.id.as_str())
        .send(&stripe)
        .await
        .unwrap();
    assert_eq!((ids(&newer.data), newer.has_more), (vec![rest.id.clone()], false));
    let (status, _, one) = get(&sim, &format!("transfers/{}/reversals/{}", transfer.id, partial.id)).await;
    assert_eq!(
        (status, one["amount"].as_i64(), one["object"].as_str()),
        (200, Some(1000), Some("transfer_reversal"))
    );

    // The reversal's balance transaction gives the money back to the platform.
    let txn_id = partial.balance_transaction.as_ref().unwrap().id().clone();
    let txn = RetrieveBalanceTransaction::new(txn_id).send(&stripe).await.unwrap();
    assert_eq!((txn.amount, txn.net, txn.type_), (1000, 1000, BalanceTransactionType::TransferRefund));
    assert_eq!(txn.source.as_ref().map(|s| s.id().to_string()), Some(partial.id.to_string()));
}

#[tokio::test]
async fn reversing_more_than_remains_or_a_reversed_transfer_is_refused_as_stripe_does() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let stripe = client(&sim);
    let transfer = http_transfer(&sim, "1000").await;
    let id = transfer["id"].as_str().unwrap();
    let reversals = format!("transfers/{id}/reversals");

    let (status, _, reversal) = post_form(&sim, &reversals, &[("amount", "600")], None).await;
    assert_eq!((status, reversal["amount"].as_i64()), (200, Some(600)));

    // 500 of the 400 left
    let (status, _, error) = post_form(&sim, &reversals, &[("amount", "500")], None).await;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["param"], "amount");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("(500)") && message.contains("(400)"), "{message}");
    let over = CreateIdTransferReversal::new(id).amount(500).send(&stripe).await.unwrap_err();
    assert!(
        matches!(over, StripeError::Stripe(ref e, 400)
            if e.type_ == ApiErrorsType::InvalidRequestError && e.param.as_deref() == Some("amount")),
        "{over:?}"
    );
    let (status, _, error) = post_form(&sim, &reversals, &[("amount", "-5")], None).await;
    assert_eq!((status, error["error"]["param"].as_str()), (400, Some("amount")));
    let (_, _, unchanged) = get(&sim, &format!("transfers/{id}")).await;
    assert_eq!(
        (unchanged["amount_reversed"].as_i64(), unchanged["reversed"].as_bool()),
        (Some(600), Some(false))
    );

    let (status, _, rest) = post_form(&sim, &reversals, &[], None).await;
    assert_eq!((status, rest["amount"].as_i64()), (200, Some(400)));
    let (status, _, error) = post_form(&sim, &reversals, &[], None).await;
    assert_eq!(status, 400);
    assert_eq!(
        error,
        json!({"error": {
            "type": "invalid_request_error",
            "code": null,
            "param": null,
            "message": format!("The transfer {id} is already fully reversed."),
        }})
    );
    let (_, _, reversed) = get(&sim, &format!("transfers/{id}")).await;
    assert_eq!(
        (reversed["amount_reversed"].as_i64(), reversed["reversed"].as_bool()),
        (Some(1000), Some(true))
    );
    assert_eq!(reversed["reversals"]["data"].as_array().map(Vec::len), Some(2));

    // Only what happened sent events.
    let events = receiver.wait_for(3).await;
    assert_eq!(types(&events), ["transfer.created", "transfer.reversed", "transfer.reversed"]);
    assert_eq!(events[2]["data"]["object"]["amount_reversed"], 1000);
}

#[tokio::test]
async fn reversing_an_unknown_transfer_is_404_resource_missing() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let stripe = client(&sim);

    let (status, _, error) =
        post_form(&sim, "transfers/tr_missing/reversals", &[("amount", "100")], None).await;
    assert_eq!(status, 404);
    assert_eq!(
        error,
        json!({"error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "id",
            "message": "No such transfer: 'tr_missing'",
        }})
    );
    let missing = CreateIdTransferReversal::new("tr_missing").send(&stripe).await.unwrap_err();
    assert!(
        matches!(missing, StripeError::Stripe(ref e, 404) if e.code == Some(ApiErrorsCode::ResourceMissing)),
        "{missing:?}"
    );
    let (status, _, error) = get(&sim, "transfers/tr_missing/reversals").await;
    assert_eq!((status, error["error"]["code"].as_str()), (404, Some("resource_missing")));
    let error = sim.reverse_transfer("tr_missing", None).unwrap_err();
    assert_eq!(
        (error.status(), error.code(), error.message()),
        (404, Some("resource_missing"), "No such transfer: 'tr_missing'")
    );

    // A known transfer, an unknown reversal of it.
    let transfer = http_transfer(&sim, "300").await;
    let path = format!("transfers/{}/reversals/trr_missing", transfer["id"].as_str().unwrap());
    let (status, _, error) = get(&sim, &path).await;
    assert_eq!(
        (status, error["error"]["message"].as_str()),
        (404, Some("No such transfer_reversal: 'trr_missing'"))
    );
    assert_eq!(types(&receiver.wait_for(1).await), ["transfer.created"]);
}

#[tokio::test]
async fn a_reversal_replayed_under_its_idempotency_key_reverses_once() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let transfer = http_transfer(&sim, "1000").await;
    let reversals = format!("transfers/{}/reversals", transfer["id"].as_str().unwrap());

    let (status, headers, first) = post_form(&sim, &reversals, &[("amount", "300")], Some("rev-1")).await;
    assert_eq!(status, 200);
    assert!(headers.get("idempotent-replayed").is_none());
    let (status, headers, replay) = post_form(&sim, &reversals, &[("amount", "300")], Some("rev-1")).await;
    assert_eq!((status, &replay), (200, &first));
    assert_eq!(headers["idempotent-replayed"], "true");
    let (status, _, conflict) = post_form(&sim, &reversals, &[("amount", "301")], Some("rev-1")).await;
    assert_eq!((status, conflict["error"]["type"].as_str()), (400, Some("idempotency_error")));

    let (_, _, after) = get(&sim, &format!("transfers/{}", transfer["id"].as_str().unwrap())).await;
    assert_eq!((after["amount_reversed"].as_i64(), after["reversed"].as_bool()), (Some(300), Some(false)));
    let events = receiver.wait_for(2).await;
    assert_eq!(types(&events), ["transfer.created", "transfer.reversed"]);
    assert_eq!(events[1]["request"]["idempotency_key"], "rev-1");
}

#[tokio::test]
async fn the_simulator_reverses_a_transfer_as_the_endpoint_does() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let transfer = http_transfer(&sim, "1000").await;
    let id = transfer["id"].as_str().unwrap();

    let partial = sim.reverse_transfer(id, Some(250)).unwrap();
    let parsed: TransferReversal = miniserde::json::from_str(&partial.to_string()).unwrap();
    assert_eq!((parsed.amount, parsed.currency), (250, Currency::EUR));
    assert_eq!(parsed.transfer.id().as_str(), id);
    let rest = sim.reverse_transfer(id, None).unwrap();
    assert_eq!(rest["amount"], 750);
    let error = sim.reverse_transfer(id, Some(1)).unwrap_err();
    assert_eq!((error.status(), error.error_type()), (400, "invalid_request_error"));
    assert_eq!(error.to_json()["error"]["message"], format!("The transfer {id} is already fully reversed."));
    let error = sim.reverse_transfer(id, Some(0)).unwrap_err();
    assert_eq!((error.status(), error.param()), (400, Some("amount")));

    let (_, _, reversed) = get(&sim, &format!("transfers/{id}")).await;
    assert_eq!(
        (reversed["amount_reversed"].as_i64(), reversed["reversed"].as_bool()),
        (Some(1000), Some(true))
    );
    let listed: Vec<&Value> = reversed["reversals"]["data"].as_array().unwrap().iter().collect();
    assert_eq!(listed, [&rest, &partial]);

    let events = receiver.wait_for(3).await;
    assert_eq!(types(&events), ["transfer.created", "transfer.reversed", "transfer.reversed"]);
    let last: Transfer = object(&events[2]);
    assert_eq!((last.amount_reversed, last.reversed), (1000, true));
    // no API request caused them
    assert_eq!(events[1]["request"], json!({"id": null, "idempotency_key": null}));
}

/// One attempt a receiver saw: the event's id, type, the transfer's `amount_reversed`, the answer.
type Attempt = (String, String, i64, u16);

/// A receiver answering 500 to the first attempt of every event, 200 to the next; it keeps
/// every attempt.
async fn flaky_receiver() -> (String, Arc<Mutex<Vec<Attempt>>>) {
    let attempts = Arc::new(Mutex::new(Vec::<Attempt>::new()));
    let log = attempts.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let log = log.clone();
            async move {
                let event: Value = serde_json::from_slice(&body).unwrap();
                let id = event["id"].as_str().unwrap().to_owned();
                let mut log = log.lock().unwrap();
                let status = if log.iter().any(|attempt| attempt.0 == id) {
                    StatusCode::OK
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR
                };
                let kind = event["type"].as_str().unwrap().to_owned();
                let reversed = event["data"]["object"]["amount_reversed"].as_i64().unwrap();
                log.push((id, kind, reversed, status.as_u16()));
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, attempts)
}

#[tokio::test]
async fn a_transfers_events_wait_for_the_one_before_through_its_retries() {
    let (url, attempts) = flaky_receiver().await;
    let sim = common::start(common::config(Some(url))).await;
    let transfer = http_transfer(&sim, "1000").await;
    let id = transfer["id"].as_str().unwrap();
    // both reversals happen while `transfer.created` still waits for its retry (20 ms)
    sim.reverse_transfer(id, Some(100)).unwrap();
    sim.reverse_transfer(id, Some(200)).unwrap();
    for _ in 0..250 {
        if sim.deliveries().iter().filter(|d| d.status == Some(200)).count() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let seen: Vec<(String, i64, u16)> = attempts
        .lock()
        .unwrap()
        .iter()
        .map(|(_, kind, reversed, status)| (kind.clone(), *reversed, *status))
        .collect();
    let expected = [
        ("transfer.created", 0, 500),
        ("transfer.created", 0, 200),
        ("transfer.reversed", 100, 500),
        ("transfer.reversed", 100, 200),
        ("transfer.reversed", 300, 500),
        ("transfer.reversed", 300, 200),
    ];
    assert_eq!(seen, expected.map(|(kind, reversed, status)| (kind.to_owned(), reversed, status)));
    let deliveries = sim.deliveries();
    assert_eq!(deliveries.iter().map(|d| d.attempt).collect::<Vec<_>>(), [1, 2, 1, 2, 1, 2]);
    assert_eq!(
        deliveries.iter().map(|d| d.status).collect::<Vec<_>>(),
        [Some(500), Some(200), Some(500), Some(200), Some(500), Some(200)]
    );
}

#[tokio::test]
async fn with_duplicate_deliveries_every_transfer_event_comes_twice() {
    let receiver = Receiver::start().await;
    let sim =
        common::start(Config { duplicate_deliveries: true, ..common::config(Some(receiver.url.clone())) })
            .await;
    let transfer = http_transfer(&sim, "1000").await;
    sim.reverse_transfer(transfer["id"].as_str().unwrap(), None).unwrap();
    let events = receiver.wait_for(4).await;
    assert_eq!(
        types(&events),
        ["transfer.created", "transfer.created", "transfer.reversed", "transfer.reversed"]
    );
    assert_eq!(events[0], events[1], "the same event, id included");
    assert_eq!(events[2], events[3]);
    assert_eq!(events[3]["data"]["object"]["reversed"], true);
}
