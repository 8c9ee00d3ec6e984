#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Checkout through zbor's own Stripe calls (async-stripe against the simulator): a Payment Link
//! per campaign, a Checkout Session per donor, Stripe's fees, the amount rules, Stripe's faults.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use zbor_stripe_sim::{Config as SimConfig, Simulator};

const STRIPE_KEY: &str = "sk_test_checkout";
const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

async fn simulator(change: impl FnOnce(&mut SimConfig)) -> Simulator {
    let mut config = SimConfig {
        api_key: STRIPE_KEY.into(),
        webhook_secret: WEBHOOK_SECRET.into(),
        retry_first: Duration::from_millis(50),
        retries_max: 5,
        ..SimConfig::default()
    };
    change(&mut config);
    Simulator::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// The server calling the simulator as its Stripe, and the simulator delivering to the server.
async fn start_against(sim: &Simulator) -> Running {
    let api_base = format!("{}/", sim.base_url);
    let app = start_with(Some(WEBHOOK_SECRET), |config| {
        config.stripe_secret_key = Some(STRIPE_KEY.into());
        config.stripe_api_base = api_base;
        config.stripe_requests_per_second = 200;
        config.public_url = "https://give.example.org".into();
        config.data_key = Some(DATA_KEY.into());
    })
    .await;
    sim.set_webhook_url(Some(format!("{}/webhooks/stripe", app.base)));
    app
}

fn release_123() -> Value {
    json!({
        "slug": "release-123", "title": "123 released", "currency": "EUR", "goal": "123000",
        "amount_per_beneficiary": "1000", "suggested_amounts": ["10", "25", "50"]
    })
}

async fn sim_post(url: String, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

async fn wait_for_totals(app: &Running, done: impl Fn(&Value) -> bool) -> Value {
    let mut totals = Value::Null;
    for _ in 0..200 {
        totals = app.get("/api/v1/campaigns/release-123/totals", Some(TOKEN)).await.1;
        if done(&totals) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    totals
}

#[tokio::test]
async fn link_and_session_donations_book_gross_fees_and_net() {
    let sim = simulator(|_| {}).await;
    let app = start_against(&sim).await;

    // the campaign opens with its Payment Link already made at Stripe
    let (status, campaign) = app.post_json("/api/v1/campaigns", Some(TOKEN), &release_123()).await;
    assert_eq!(status, 201, "{campaign}");
    let link_id = campaign["stripe_payment_link_id"].as_str().unwrap().to_owned();
    assert!(link_id.starts_with("plink_"), "{campaign}");
    assert!(campaign["payment_link_url"].as_str().unwrap().starts_with(&sim.base_url));

    // a named donor through the give page's checkout
    let (status, checkout) = app
        .post_json(
            "/api/v1/campaigns/release-123/checkout",
            None,
            &json!({"amount": "25.00", "anonymous": false}),
        )
        .await;
    assert_eq!(status, 200, "{checkout}");
    let session_id = checkout["session_id"].as_str().unwrap().to_owned();
    assert!(checkout["url"].as_str().unwrap().starts_with(&sim.base_url));
    let session = sim.checkout_sessions().into_iter().find(|s| s["id"] == session_id.as_str()).unwrap();
    assert_eq!(session["amount_total"], 2500);
    assert_eq!(session["metadata"]["zbor_campaign"], "release-123");
    assert_eq!(session["metadata"]["zbor_anonymous"], "false");
    assert_eq!(session["submit_type"], "donate");
    assert_eq!(
        session["success_url"],
        "https://give.example.org/give/release-123/thanks?session_id={CHECKOUT_SESSION_ID}"
    );
    let (status, paid) = sim_post(
        format!("{}/sim/checkout/sessions/{session_id}/pay", sim.base_url),
        json!({"method": "card", "customer": {"name": "Jane Donor", "email": "jane@example.org"}}),
    )
    .await;
    assert_eq!(status, 200, "{paid}");

    // an anonymous donor through the Payment Link: no API call of ours
    let (status, paid) = sim_post(
        format!("{}/sim/payment_links/{link_id}/pay", sim.base_url),
        json!({"method": "card", "amount": 100000, "customer": {"name": "Ivan", "email": "ivan@example.org"}}),
    )
    .await;
    assert_eq!(status, 200, "{paid}");

    // fees: 1.5% + 0.25 each, read from the balance transactions: 0.63 + 15.25
    let totals = wait_for_totals(&app, |t| t["donations"] == 2 && t["fees"] == "15.88").await;
    assert_eq!(totals["raised"], "1025.00", "{totals}");
    assert_eq!(totals["fees"], "15.88", "{totals}");
    assert_eq!(totals["net"], "1009.12", "{totals}");
    assert_eq!(totals["beneficiaries_funded"], 1, "{totals}");

    // the ledger agrees: the campaign holds the net, each fee booked once
    let (_, account) = app.get("/api/v1/ledger/accounts/campaign:release-123", Some(TOKEN)).await;
    assert_eq!(account["balance"]["posted"]["amount"], "1009.12", "{account}");
    assert_eq!(app.count("select count(*) from donations where fee_transaction_id is not null").await, 2);

    // only the named donor is kept, sealed
    let key = zbor_vault::DataKey::parse(DATA_KEY).unwrap();
    let mut conn = app.db.pool.acquire().await.unwrap();
    let donor = zbor_intake::webhook::donor(&mut conn, &key, &session_id).await.unwrap();
    assert_eq!(donor, Some((Some("Jane Donor".into()), Some("jane@example.org".into()))));
    drop(conn);
    assert_eq!(app.count("select count(*) from donations where donor_sealed is not null").await, 1);
    assert_eq!(
        app.count("select count(*) from stripe_events where payload::text like '%Ivan%' or payload::text like '%jane@%'").await,
        0
    );
    app.finish().await;
}

#[tokio::test]
async fn bad_amounts_closed_campaigns_and_missing_stripe_get_clear_errors_and_create_nothing() {
    let sim = simulator(|_| {}).await;
    let app = start_against(&sim).await;
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &release_123()).await.0, 201);
    let path = "/api/v1/campaigns/release-123/checkout";
    for (body, status, code) in [
        (json!({"amount": "0.49"}), 422, "invalid_request"),
        (json!({"amount": "1000000.00"}), 422, "invalid_request"),
        (json!({"amount": "25.001"}), 422, "invalid_request"),
        (json!({"amount": "abc"}), 422, "invalid_request"),
        (json!({"amount": 25}), 400, "invalid_json"),
        (json!({"anonymous": true}), 400, "invalid_json"),
        (json!({"amount": "25.00", "email": "x@example.org"}), 400, "invalid_json"),
    ] {
        let (got, error) = app.post_json(path, None, &body).await;
        assert_eq!((got, error["error"]["code"].as_str().unwrap()), (status, code), "{body} → {error}");
    }
    let (got, error) =
        app.post_json("/api/v1/campaigns/nope/checkout", None, &json!({"amount": "25.00"})).await;
    assert_eq!((got, error["error"]["code"].as_str().unwrap()), (404, "not_found"));
    assert!(sim.checkout_sessions().is_empty(), "no session for a refused request");

    assert_eq!(
        app.patch_json("/api/v1/campaigns/release-123", Some(TOKEN), &json!({"status": "closed"})).await.0,
        200
    );
    let (got, error) = app.post_json(path, None, &json!({"amount": "25.00"})).await;
    assert_eq!((got, error["error"]["code"].as_str().unwrap()), (409, "campaign_closed"), "{error}");
    assert!(sim.checkout_sessions().is_empty());
    app.finish().await;

    // without a Stripe key: a clear 503, not a crash
    let bare = start(Some(WEBHOOK_SECRET)).await;
    assert_eq!(bare.post_json("/api/v1/campaigns", Some(TOKEN), &release_123()).await.0, 201);
    let (got, error) = bare.post_json(path, None, &json!({"amount": "25.00"})).await;
    assert_eq!((got, error["error"]["code"].as_str().unwrap()), (503, "checkout_not_configured"));
    bare.finish().await;
}

#[tokio::test]
async fn stripe_429s_and_500s_are_retried_without_duplicates() {
    // every 3rd request is rate limited and every 5th fails: zbor retries each under its key
    let sim = simulator(|c| {
        c.rate_limit_every = 3;
        c.server_error_every = 5;
    })
    .await;
    let app = start_against(&sim).await;
    let (status, campaign) = app.post_json("/api/v1/campaigns", Some(TOKEN), &release_123()).await;
    assert_eq!(status, 201);
    assert!(campaign["stripe_payment_link_id"].as_str().is_some(), "{campaign}");
    let mut ids = Vec::new();
    for n in 0..10 {
        let amount = format!("{}.00", 10 + n);
        let (status, checkout) =
            app.post_json("/api/v1/campaigns/release-123/checkout", None, &json!({"amount": amount})).await;
        assert_eq!(status, 200, "{checkout}");
        ids.push(checkout["session_id"].as_str().unwrap().to_owned());
    }
    let sessions = sim.checkout_sessions();
    assert_eq!(sessions.len(), 10, "one session per donor, none doubled by retries");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10);
    app.finish().await;
}

#[tokio::test]
async fn a_campaign_opened_while_stripe_is_down_gets_its_link_later_and_only_one() {
    use zbor_campaigns::NewCampaign;
    use zbor_intake::checkout::CheckoutLinks;
    use zbor_stripe::{Stripe, StripeConfig};

    let sim = simulator(|_| {}).await;
    let db = zbor_testkit::TestDb::new(4).await;
    let new: NewCampaign = serde_json::from_value(release_123()).unwrap();
    let campaign = zbor_campaigns::create(&db.pool, &new).await.unwrap();

    // nothing listens on port 9: every attempt fails, and the campaign stays without a link
    let mut down = StripeConfig::new(STRIPE_KEY, "http://127.0.0.1:9/");
    down.attempts_max = 2;
    down.backoff_first = Duration::from_millis(10);
    let unreachable = CheckoutLinks::new(Stripe::new(down).unwrap(), "https://give.example.org");
    let error = unreachable.ensure_payment_link(&db.pool, &campaign).await.unwrap_err();
    assert!(
        matches!(error, zbor_intake::Error::Stripe(zbor_stripe::Error::Unavailable { attempts: 2, .. })),
        "{error}"
    );
    let waiting = zbor_campaigns::open_without_payment_link(&db.pool).await.unwrap();
    assert_eq!(waiting.len(), 1);

    // what the background task does once Stripe answers; twice, as two instances might
    let up = CheckoutLinks::new(
        Stripe::new(StripeConfig::new(STRIPE_KEY, sim.base_url.as_str())).unwrap(),
        "https://give.example.org",
    );
    let first = up.ensure_payment_link(&db.pool, &waiting[0]).await.unwrap();
    let second = up.ensure_payment_link(&db.pool, &waiting[0]).await.unwrap();
    assert!(first.stripe_payment_link_id.is_some());
    assert_eq!(
        first.stripe_payment_link_id, second.stripe_payment_link_id,
        "the same key replays the same link"
    );
    assert!(zbor_campaigns::open_without_payment_link(&db.pool).await.unwrap().is_empty());
    db.drop_database().await;
}
