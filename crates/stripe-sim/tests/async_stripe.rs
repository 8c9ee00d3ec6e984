#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! zbor calls Stripe through async-stripe, whose typed parser rejects an object missing a
//! required field. These tests call the simulator through async-stripe itself, pointed at
//! `Simulator::base_url` exactly as it is, and parse the webhook objects with its types.

mod common;

use std::collections::HashMap;

use common::{sim_post, types, Receiver, KEY};
use serde_json::json;
use stripe::{
    ApiErrorsType, Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest,
};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, ProductData, RetrieveCheckoutSession,
};
use stripe_core::balance_transaction::RetrieveBalanceTransaction;
use stripe_payment::payment_link::{
    CreatePaymentLink, CreatePaymentLinkLineItems, CreatePaymentLinkPaymentIntentData, RetrievePaymentLink,
};
use stripe_product::price::{CreatePrice, CreatePriceProductData, CustomUnitAmount, RetrievePrice};
use stripe_shared::{
    BalanceTransactionType, Charge, CheckoutSession, CheckoutSessionMode, CheckoutSessionPaymentStatus,
    CheckoutSessionStatus, CheckoutSessionSubmitType, PaymentLinkSubmitType, PriceType,
};
use stripe_types::Currency;
use zbor_stripe_sim::{Config, Simulator};

fn client(sim: &Simulator) -> Client {
    ClientBuilder::new(KEY).url(sim.base_url.clone()).build().unwrap()
}

fn campaign() -> HashMap<String, String> {
    HashMap::from([("zbor_campaign".to_owned(), "release-123".to_owned())])
}

#[tokio::test]
async fn prices_links_sessions_and_balance_transactions_parse_with_async_stripe() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let stripe = client(&sim);

    let price = CreatePrice::new(Currency::EUR)
        .custom_unit_amount(CustomUnitAmount {
            minimum: Some(500),
            maximum: Some(100_000),
            ..CustomUnitAmount::new(true)
        })
        .product_data(CreatePriceProductData::new("Donation to release-123"))
        .metadata(campaign())
        .send(&stripe)
        .await
        .unwrap();
    assert!(price.id.as_str().starts_with("price_"));
    assert_eq!(
        (price.currency, price.type_.clone(), price.unit_amount),
        (Currency::EUR, PriceType::OneTime, None)
    );
    let custom = price.custom_unit_amount.unwrap();
    assert_eq!((custom.minimum, custom.maximum, custom.preset), (Some(500), Some(100_000), None));
    assert!(price.product.id().as_str().starts_with("prod_"));
    assert_eq!(price.metadata, campaign());
    let retrieved = RetrievePrice::new(price.id.clone()).send(&stripe).await.unwrap();
    assert_eq!(retrieved.id, price.id);

    let link = CreatePaymentLink::new(vec![CreatePaymentLinkLineItems {
        price: Some(price.id.to_string()),
        ..CreatePaymentLinkLineItems::new(1u64)
    }])
    .submit_type(PaymentLinkSubmitType::Donate)
    .metadata(campaign())
    .payment_intent_data(CreatePaymentLinkPaymentIntentData {
        metadata: Some(campaign()),
        ..CreatePaymentLinkPaymentIntentData::new()
    })
    .send(&stripe)
    .await
    .unwrap();
    assert_eq!(link.url, format!("{}/pay/link/{}", sim.base_url, link.id));
    assert!(link.active);
    assert_eq!(
        (link.metadata.clone(), link.submit_type.clone()),
        (campaign(), PaymentLinkSubmitType::Donate)
    );
    assert_eq!(link.currency, Currency::EUR);
    let retrieved = RetrievePaymentLink::new(link.id.clone()).send(&stripe).await.unwrap();
    assert_eq!(retrieved.url, link.url);

    // A donor pays through the link; the session, as the API and the webhook show it, parses.
    let (status, paid) =
        sim_post(&sim, &format!("payment_links/{}/pay", link.id), json!({"method": "card", "amount": 2500}))
            .await;
    assert_eq!(status, 200, "{paid}");
    let session = RetrieveCheckoutSession::new(paid["id"].as_str().unwrap()).send(&stripe).await.unwrap();
    assert_eq!(session.payment_link.as_ref().map(|l| l.id().clone()), Some(link.id.clone()));
    assert_eq!(session.metadata, Some(campaign()));
    assert_eq!((session.amount_total, session.currency), (Some(2500), Some(Currency::EUR)));
    assert_eq!(
        (session.status, session.payment_status),
        (Some(CheckoutSessionStatus::Complete), CheckoutSessionPaymentStatus::Paid)
    );
    assert_eq!(
        (session.mode, session.submit_type),
        (CheckoutSessionMode::Payment, Some(CheckoutSessionSubmitType::Donate))
    );

    let events = receiver.wait_for(2).await;
    assert_eq!(types(&events), ["checkout.session.completed", "charge.succeeded"]);
    let completed: CheckoutSession =
        miniserde::json::from_str(&events[0]["data"]["object"].to_string()).unwrap();
    assert_eq!(completed.id, session.id);
    let charge: Charge = miniserde::json::from_str(&events[1]["data"]["object"].to_string()).unwrap();
    assert_eq!(
        (charge.amount, charge.currency, charge.paid, charge.captured),
        (2500, Currency::EUR, true, true)
    );
    assert_eq!(
        charge.payment_intent.as_ref().map(|p| p.id().to_string()),
        session.payment_intent.as_ref().map(|p| p.id().to_string())
    );
    assert_eq!(charge.metadata, campaign());
    assert_eq!((charge.billing_details.name, charge.billing_details.email), (None, None));

    let txn_id = charge.balance_transaction.as_ref().unwrap().id().clone();
    let txn = RetrieveBalanceTransaction::new(txn_id).send(&stripe).await.unwrap();
    assert_eq!((txn.amount, txn.fee, txn.net, txn.currency), (2500, 63, 2437, Currency::EUR));
    assert_eq!(txn.type_, BalanceTransactionType::Charge);
    assert_eq!(txn.source.as_ref().map(|s| s.id().to_string()), Some(charge.id.to_string()));
    assert_eq!(txn.fee_details.len(), 1);
    assert_eq!((txn.fee_details[0].amount, txn.fee_details[0].type_.as_str()), (63, "stripe_fee"));

    // Stripe's error shape parses into async-stripe's error, param included.
    let missing = RetrieveBalanceTransaction::new("txn_missing").send(&stripe).await.unwrap_err();
    assert!(
        matches!(missing, StripeError::Stripe(ref e, 404) if e.type_ == ApiErrorsType::InvalidRequestError),
        "{missing:?}"
    );
    let invalid = CreatePrice::new(Currency::EUR).product("prod_1").send(&stripe).await.unwrap_err();
    assert!(
        matches!(invalid, StripeError::Stripe(ref e, 400) if e.param.as_deref() == Some("unit_amount")),
        "{invalid:?}"
    );
}

#[tokio::test]
async fn checkout_sessions_created_through_async_stripe_parse() {
    let sim = common::start(common::config(None)).await;
    let stripe = client(&sim);
    let session = CreateCheckoutSession::new()
        .mode(CheckoutSessionMode::Payment)
        .submit_type(CheckoutSessionSubmitType::Donate)
        .success_url("https://example.org/thanks")
        .metadata(campaign())
        .payment_intent_data(CreateCheckoutSessionPaymentIntentData {
            metadata: Some(campaign()),
            ..Default::default()
        })
        .line_items(vec![CreateCheckoutSessionLineItems {
            price_data: Some(CreateCheckoutSessionLineItemsPriceData {
                unit_amount: Some(100_000),
                product_data: Some(ProductData::new("Donation")),
                ..CreateCheckoutSessionLineItemsPriceData::new(Currency::EUR)
            }),
            quantity: Some(1),
            ..Default::default()
        }])
        .send(&stripe)
        .await
        .unwrap();
    assert!(session.id.as_str().starts_with("cs_test_"));
    assert_eq!((session.amount_total, session.currency), (Some(100_000), Some(Currency::EUR)));
    assert_eq!(
        (session.status, session.payment_status),
        (Some(CheckoutSessionStatus::Open), CheckoutSessionPaymentStatus::Unpaid)
    );
    assert_eq!(session.metadata, Some(campaign()));

    // The base URL works with a trailing slash too (async-stripe appends `v1/...` to the path).
    let slash = ClientBuilder::new(KEY).url(format!("{}/", sim.base_url)).build().unwrap();
    let retrieved = RetrieveCheckoutSession::new(session.id.clone()).send(&slash).await.unwrap();
    assert_eq!(retrieved.id, session.id);
}

#[tokio::test]
async fn async_stripe_sees_a_retryable_500_and_its_idempotent_retry_creates_one_object() {
    let sim = common::start(Config { server_error_every: 2, ..common::config(None) }).await;
    let stripe = client(&sim);
    let create = CreatePrice::new(Currency::EUR)
        .unit_amount(1000)
        .product_data(CreatePriceProductData::new("Donation"));
    let key = RequestStrategy::Idempotent(IdempotencyKey::new("price-once").unwrap());
    let first = create.customize().request_strategy(key.clone()).send(&stripe).await.unwrap();
    let again = create.customize().request_strategy(key.clone()).send(&stripe).await;
    assert!(
        matches!(again, Err(StripeError::Stripe(ref e, 500)) if e.type_ == ApiErrorsType::ApiError),
        "{again:?}"
    );
    let replayed = create.customize().request_strategy(key).send(&stripe).await.unwrap();
    assert_eq!(replayed.id, first.id);

    // async-stripe's own retry strategy follows `Stripe-Should-Retry` through the 500 (the 4th).
    let retried = create.customize().request_strategy(RequestStrategy::Retry(3)).send(&stripe).await.unwrap();
    assert_ne!(retried.id, first.id);
}

#[tokio::test]
async fn every_object_a_sepa_payment_sends_parses_with_async_stripe() {
    let receiver = Receiver::start().await;
    let sim = common::start(common::config(Some(receiver.url.clone()))).await;
    let id = common::session(&sim, "1000").await;
    let customer =
        json!({"method": "sepa_debit_success", "customer": {"name": "Ana", "email": "ana@example.org"}});
    let (status, _) = sim_post(&sim, &format!("checkout/sessions/{id}/pay"), customer).await;
    assert_eq!(status, 200);
    let events = receiver.wait_for(3).await;
    assert_eq!(
        types(&events),
        ["checkout.session.completed", "checkout.session.async_payment_succeeded", "charge.succeeded"]
    );
    for (event, payment_status) in
        events[..2].iter().zip([CheckoutSessionPaymentStatus::Unpaid, CheckoutSessionPaymentStatus::Paid])
    {
        let session: CheckoutSession =
            miniserde::json::from_str(&event["data"]["object"].to_string()).unwrap();
        assert_eq!(session.payment_status, payment_status);
        let details = session.customer_details.unwrap();
        assert_eq!(
            (details.name.as_deref(), details.email.as_deref()),
            (Some("Ana"), Some("ana@example.org"))
        );
    }
    let charge: Charge = miniserde::json::from_str(&events[2]["data"]["object"].to_string()).unwrap();
    assert_eq!(charge.payment_method_details.unwrap().type_, "sepa_debit");
    let txn = RetrieveBalanceTransaction::new(charge.balance_transaction.unwrap().id().clone())
        .send(&client(&sim))
        .await
        .unwrap();
    assert_eq!((txn.amount, txn.fee, txn.net), (1000, 40, 960));
}
