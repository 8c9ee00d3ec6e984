#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Refunds and disputes, called and parsed as zbor does: the API through async-stripe's typed
//! requests, the events through zbor's own event parser and the fields its handlers read
//! (`zbor_intake`'s `reversals.rs`), and everything with async-stripe's types too. Each moves
//! the balance by exactly Stripe's amounts.

mod common;

use std::collections::HashMap;

use common::{get, post_form, sim_post, types, Receiver, KEY};
use serde::Deserialize;
use serde_json::{json, Value};
use stripe::{Client, ClientBuilder, StripeError};
use stripe_core::balance_transaction::RetrieveBalanceTransaction;
use stripe_core::dispute::RetrieveDispute;
use stripe_core::refund::{CreateRefund, RetrieveRefund};
use stripe_shared::{
    ApiErrorsCode, ApiErrorsType, BalanceTransactionType, Charge, Dispute, DisputeStatus, Refund,
};
use stripe_types::Currency;
use zbor_stripe::events::Event;
use zbor_stripe_sim::Simulator;

fn client(sim: &Simulator) -> Client {
    ClientBuilder::new(KEY).url(sim.base_url.clone()).build().unwrap()
}

/// A donor pays `amount` cents (EUR) by card; returns the PaymentIntent and the charge's id.
async fn card_payment(sim: &Simulator, amount: &str) -> (String, String) {
    let session = common::session(sim, amount).await;
    let (status, paid) =
        sim_post(sim, &format!("checkout/sessions/{session}/pay"), json!({"method": "card"})).await;
    assert_eq!(status, 200, "{paid}");
    let payment_intent = paid["payment_intent"].as_str().unwrap().to_owned();
    let charge = sim.charge(&payment_intent).unwrap();
    (payment_intent, charge["id"].as_str().unwrap().to_owned())
}

/// The fields of a charge `charge.refunded` carries that zbor's refund handler reads.
#[derive(Debug, Deserialize, PartialEq)]
struct ZborCharge {
    id: String,
    amount_refunded: i64,
    currency: String,
    payment_intent: Option<String>,
}

/// The fields of a dispute zbor's dispute handler reads.
#[derive(Debug, Deserialize, PartialEq)]
struct ZborDispute {
    id: String,
    amount: i64,
    currency: String,
    payment_intent: Option<String>,
    status: String,
}

/// `event` read by zbor's event parser, and its object as zbor's handler reads it.
fn as_zbor<T: serde::de::DeserializeOwned>(event: &Value, what: &str) -> T {
    let parsed = Event::parse(event.to_string().as_bytes()).unwrap();
    assert_eq!(Some(parsed.kind.as_str()), event["type"].as_str());
    parsed.object_as(what).unwrap()
}

/// An event's `data.object` parsed with async-stripe's type.
fn typed<T: miniserde::Deserialize>(object: &Value) -> T {
    miniserde::json::from_str(&object.to_string()).unwrap()
}

#[tokio::test]
async fn refunds_move_the_charges_running_total_and_the_balance() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let stripe = client(&sim);
    let (payment_intent, charge_id) = card_payment(&sim, "2500").await;
    assert_eq!(types(&receiver.wait_for(2).await), ["checkout.session.completed", "charge.succeeded"]);

    // A partial refund by PaymentIntent, through async-stripe.
    let metadata = HashMap::from([("zbor_reason".to_owned(), "donor asked".to_owned())]);
    let partial = CreateRefund::new()
        .payment_intent(payment_intent.clone())
        .amount(1000)
        .metadata(metadata.clone())
        .send(&stripe)
        .await
        .unwrap();
    assert!(partial.id.as_str().starts_with("re_"), "{}", partial.id);
    assert_eq!((partial.amount, partial.currency), (1000, Currency::EUR));
    assert_eq!(partial.status.as_deref(), Some("succeeded"));
    assert_eq!(partial.charge.as_ref().map(|c| c.id().to_string()), Some(charge_id.clone()));
    assert_eq!(partial.payment_intent.as_ref().map(|p| p.id().to_string()), Some(payment_intent.clone()));
    assert_eq!(partial.metadata, Some(metadata));
    let retrieved = RetrieveRefund::new(partial.id.clone()).send(&stripe).await.unwrap();
    assert_eq!((retrieved.id.clone(), retrieved.amount), (partial.id.clone(), 1000));

    // Its balance transaction takes the amount back; Stripe keeps its fee.
    let txn_id = partial.balance_transaction.as_ref().unwrap().id().clone();
    assert!(txn_id.as_str().starts_with("txn_"));
    let txn = RetrieveBalanceTransaction::new(txn_id).send(&stripe).await.unwrap();
    assert_eq!((txn.amount, txn.fee, txn.net, txn.currency), (-1000, 0, -1000, Currency::EUR));
    assert_eq!((txn.type_, txn.reporting_category.as_str()), (BalanceTransactionType::Refund, "refund"));
    assert!(txn.fee_details.is_empty());
    assert_eq!(txn.source.as_ref().map(|s| s.id().to_string()), Some(partial.id.to_string()));

    let (status, _, charge) = get(&sim, &format!("charges/{charge_id}")).await;
    assert_eq!(status, 200);
    let charge: Charge = typed(&charge);
    assert_eq!((charge.amount, charge.amount_refunded, charge.refunded), (2500, 1000, false));

    // More than the 1500 left: Stripe's error, nothing changes.
    let over = CreateRefund::new().charge(charge_id.clone()).amount(2000).send(&stripe).await.unwrap_err();
    let StripeError::Stripe(error, 400) = over else { panic!("{over:?}") };
    assert_eq!((error.type_, error.param.as_deref()), (ApiErrorsType::InvalidRequestError, Some("amount")));
    assert_eq!(
        error.message.as_deref(),
        Some("Refund amount (2000) is greater than unrefunded amount on charge (1500).")
    );
    assert_eq!(sim.charge(&charge_id).unwrap()["amount_refunded"], 1000);

    // The simulator refunds the rest, by charge id.
    let rest = sim.refund(&charge_id, None).unwrap();
    assert_eq!(
        (rest["amount"].as_i64(), rest["payment_intent"].as_str()),
        (Some(1500), Some(payment_intent.as_str()))
    );
    let rest: Refund = typed(&rest);
    let after: Charge = typed(&sim.charge(&payment_intent).unwrap());
    assert_eq!((after.amount_refunded, after.refunded), (2500, true));
    let error = sim.refund(&payment_intent, Some(1)).unwrap_err();
    assert_eq!((error.status(), error.code()), (400, Some("charge_already_refunded")));
    assert_eq!(error.message(), format!("Charge {charge_id} has already been refunded."));
    let (status, _, error) = post_form(&sim, "refunds", &[("payment_intent", "pi_missing")], None).await;
    assert_eq!(
        (status, error),
        (
            400,
            json!({"error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "param": "payment_intent",
                "message": "No such payment_intent: 'pi_missing'",
            }})
        )
    );
    let missing = RetrieveRefund::new("re_missing").send(&stripe).await.unwrap_err();
    assert!(
        matches!(missing, StripeError::Stripe(ref e, 404) if e.code == Some(ApiErrorsCode::ResourceMissing))
    );

    // charge.refunded carries the running total, refund.created the refund, in that order.
    let events = receiver.wait_for(6).await;
    assert_eq!(
        types(&events)[2..],
        ["charge.refunded", "refund.created", "charge.refunded", "refund.created"]
    );
    let totals: Vec<ZborCharge> = [&events[2], &events[4]].map(|e| as_zbor(e, "charge")).into();
    let expected = |amount_refunded| ZborCharge {
        id: charge_id.clone(),
        amount_refunded,
        currency: "eur".into(),
        payment_intent: Some(payment_intent.clone()),
    };
    assert_eq!(totals, [expected(1000), expected(2500)]);
    let refunds: Vec<Refund> = [&events[3], &events[5]].map(|e| typed(&e["data"]["object"])).into();
    assert_eq!(
        refunds.iter().map(|r| (r.id.clone(), r.amount)).collect::<Vec<_>>(),
        [(partial.id.clone(), 1000), (rest.id.clone(), 1500)]
    );
    let last: Charge = typed(&events[4]["data"]["object"]);
    assert_eq!(last.refunds.as_ref().map(|l| l.data.len()), Some(2));
    // the API request that caused it is named; the simulator's own refund has none
    assert!(events[2]["request"]["id"].as_str().unwrap().starts_with("req_"));
    assert_eq!(events[4]["request"], json!({"id": null, "idempotency_key": null}));
}

#[tokio::test]
async fn a_won_dispute_withdraws_the_amount_and_fee_and_gives_back_the_amount() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let stripe = client(&sim);
    let (payment_intent, charge_id) = card_payment(&sim, "2500").await;
    receiver.wait_for(2).await;

    let opened = sim.dispute(&payment_intent).unwrap();
    let dispute: Dispute = typed(&opened);
    assert!(dispute.id.as_str().starts_with("du_"), "{}", dispute.id);
    assert_eq!((dispute.amount, dispute.currency), (2500, Currency::EUR));
    assert_eq!(
        (dispute.status.clone(), dispute.reason.as_str()),
        (DisputeStatus::NeedsResponse, "fraudulent")
    );
    assert_eq!(dispute.charge.id().as_str(), charge_id);
    assert_eq!(dispute.payment_intent.as_ref().map(|p| p.id().to_string()), Some(payment_intent.clone()));
    assert_eq!(dispute.balance_transactions.len(), 1);
    let withdrawal = &dispute.balance_transactions[0];
    assert!(withdrawal.id.as_str().starts_with("txn_"));
    assert_eq!((withdrawal.amount, withdrawal.fee, withdrawal.net), (-2500, 1500, -4000));
    assert_eq!(
        (withdrawal.type_.clone(), withdrawal.reporting_category.as_str(), withdrawal.currency.clone()),
        (BalanceTransactionType::Adjustment, "dispute", Currency::EUR)
    );
    let fee = &withdrawal.fee_details;
    assert_eq!(fee.len(), 1);
    assert_eq!(
        (fee[0].amount, fee[0].currency.clone(), fee[0].type_.as_str(), fee[0].description.as_deref()),
        (1500, Currency::EUR, "stripe_fee", Some("Dispute fee"))
    );
    assert_eq!(withdrawal.source.as_ref().map(|s| s.id().to_string()), Some(dispute.id.to_string()));
    // the same balance transaction as the API shows it
    let txn = RetrieveBalanceTransaction::new(withdrawal.id.clone()).send(&stripe).await.unwrap();
    assert_eq!((txn.amount, txn.fee, txn.net), (-2500, 1500, -4000));
    assert_eq!(sim.charge(&charge_id).unwrap()["disputed"], true);

    // A disputed charge is not refunded, nor disputed twice.
    let refused = sim.refund(&charge_id, None).unwrap_err();
    assert_eq!((refused.status(), refused.code()), (400, Some("charge_disputed")));
    let (status, _, error) = post_form(&sim, "refunds", &[("charge", charge_id.as_str())], None).await;
    assert_eq!((status, error["error"]["code"].as_str()), (400, Some("charge_disputed")));
    assert_eq!(sim.dispute(&charge_id).unwrap_err().status(), 400);

    let won = sim.close_dispute(dispute.id.as_str(), true).unwrap();
    let won: Dispute = typed(&won);
    assert_eq!(won.status, DisputeStatus::Won);
    assert_eq!(won.balance_transactions.len(), 2);
    assert_eq!(won.balance_transactions[0].id, withdrawal.id);
    let back = &won.balance_transactions[1];
    assert_eq!((back.amount, back.fee, back.net), (2500, 0, 2500));
    assert_eq!(
        (back.type_.clone(), back.reporting_category.as_str()),
        (BalanceTransactionType::Adjustment, "dispute_reversal")
    );
    assert_eq!(back.source.as_ref().map(|s| s.id().to_string()), Some(dispute.id.to_string()));
    let retrieved = RetrieveDispute::new(dispute.id.clone()).send(&stripe).await.unwrap();
    assert_eq!((retrieved.status, retrieved.balance_transactions.len()), (DisputeStatus::Won, 2));
    let again = sim.close_dispute(dispute.id.as_str(), false).unwrap_err();
    assert_eq!(again.status(), 400);
    assert_eq!(sim.close_dispute("du_missing", true).unwrap_err().status(), 404);
    let missing = RetrieveDispute::new("du_missing").send(&stripe).await.unwrap_err();
    assert!(matches!(missing, StripeError::Stripe(_, 404)), "{missing:?}");

    let events = receiver.wait_for(6).await;
    assert_eq!(
        types(&events)[2..],
        [
            "charge.dispute.created",
            "charge.dispute.funds_withdrawn",
            "charge.dispute.funds_reinstated",
            "charge.dispute.closed"
        ]
    );
    let seen: Vec<ZborDispute> = events[2..].iter().map(|e| as_zbor(e, "dispute")).collect();
    let expected = |status: &str| ZborDispute {
        id: dispute.id.to_string(),
        amount: 2500,
        currency: "eur".into(),
        payment_intent: Some(payment_intent.clone()),
        status: status.into(),
    };
    assert_eq!(seen, ["needs_response", "needs_response", "won", "won"].map(expected));
    let counts: Vec<usize> = events[2..]
        .iter()
        .map(|e| typed::<Dispute>(&e["data"]["object"]).balance_transactions.len())
        .collect();
    assert_eq!(counts, [1, 1, 2, 2]);
}

#[tokio::test]
async fn a_lost_dispute_keeps_the_amount_and_fee() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let (payment_intent, charge_id) = card_payment(&sim, "4000").await;
    receiver.wait_for(2).await;
    // a partial refund first: the dispute still takes the charge's whole amount
    sim.refund(&payment_intent, Some(500)).unwrap();
    receiver.wait_for(4).await;

    let dispute = sim.dispute(&charge_id).unwrap();
    let id = dispute["id"].as_str().unwrap();
    assert_eq!(dispute["amount"], 4000);
    let lost = sim.close_dispute(id, false).unwrap();
    let lost: Dispute = typed(&lost);
    assert_eq!((lost.status, lost.balance_transactions.len()), (DisputeStatus::Lost, 1));
    let txn = &lost.balance_transactions[0];
    assert_eq!((txn.amount, txn.fee, txn.net), (-4000, 1500, -5500));
    // still no refund after a lost dispute
    assert_eq!(sim.refund(&charge_id, None).unwrap_err().code(), Some("charge_disputed"));

    let events = receiver.wait_for(7).await;
    assert_eq!(
        types(&events)[4..],
        ["charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.closed"]
    );
    let closed: ZborDispute = as_zbor(&events[6], "dispute");
    assert_eq!((closed.status.as_str(), closed.amount), ("lost", 4000));
}

#[tokio::test]
async fn a_sepa_payment_is_refunded_and_disputed_too() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let session = common::session(&sim, "3000").await;
    let (status, paid) =
        sim_post(&sim, &format!("checkout/sessions/{session}/pay"), json!({"method": "sepa_debit_success"}))
            .await;
    assert_eq!(status, 200, "{paid}");
    let payment_intent = paid["payment_intent"].as_str().unwrap();
    receiver.wait_for(3).await;

    let refund: Refund = typed(&sim.refund(payment_intent, Some(300)).unwrap());
    assert_eq!(refund.destination_details.as_ref().map(|d| d.type_.as_str()), Some("sepa_debit"));
    let dispute: Dispute = typed(&sim.dispute(payment_intent).unwrap());
    assert_eq!(dispute.amount, 3000);
    assert!(dispute.payment_method_details.is_none());
}
