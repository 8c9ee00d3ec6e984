#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! A cohort that fills, then overflows: a burst of gifts crosses a capped campaign's goal on two
//! nodes; the campaign is marked funded once, new donors are sent to the overflow campaign (the
//! checkout API, the give page and the Payment Link switched at Stripe), gifts in flight are
//! booked where they were given, over the cap; then surplus moves on by one audited ledger
//! transfer, by two treasurers above the threshold.

mod common;

use std::time::Duration;

use common::treasury::{next_code, post, treasurer, Treasurer};
use common::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use zbor_stripe_sim::{Config as SimConfig, Simulator};
use zbor_vault::DataKey;

const STRIPE_KEY: &str = "sk_test_overflow";
const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

async fn simulator() -> Simulator {
    let config = SimConfig {
        api_key: STRIPE_KEY.into(),
        webhook_secret: WEBHOOK_SECRET.into(),
        retry_first: Duration::from_millis(50),
        retries_max: 8,
        ..SimConfig::default()
    };
    Simulator::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

async fn start_against(sim: &Simulator, solo_max: &str) -> Running {
    let api_base = format!("{}/", sim.base_url);
    let solo_max: Decimal = solo_max.parse().unwrap();
    let app = start_with(Some(WEBHOOK_SECRET), |config| {
        config.stripe_secret_key = Some(STRIPE_KEY.into());
        config.stripe_api_base = api_base;
        config.stripe_requests_per_second = 200;
        config.public_url = "https://give.example.org".into();
        config.data_key = Some(DATA_KEY.into());
        config.surplus_solo_max = solo_max;
    })
    .await;
    sim.set_webhook_url(Some(format!("{}/webhooks/stripe", app.base)));
    app
}

/// The capped campaign (goal `goal`, EUR 100 per person) and its overflow.
async fn capped_campaigns(app: &Running, goal: &str) -> Value {
    let families = json!({"slug": "release-123-families", "title": "Their families", "currency": "EUR", "goal": "50000"});
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &families).await.0, 201);
    let capped = json!({"slug": "release-123", "title": "123 released", "currency": "EUR", "goal": goal,
                        "amount_per_beneficiary": "100", "overflow": "release-123-families"});
    let (status, campaign) = app.post_json("/api/v1/campaigns", Some(TOKEN), &capped).await;
    assert_eq!(status, 201, "{campaign}");
    assert_eq!(campaign["overflow"], "release-123-families");
    assert_eq!(campaign["funded_at"], Value::Null);
    campaign
}

async fn sim_post(url: String, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..300 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn totals(app: &Running, slug: &str) -> Value {
    app.get(&format!("/api/v1/campaigns/{slug}/totals"), Some(TOKEN)).await.1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_across_the_cap_sends_new_donors_to_the_overflow_once() {
    let sim = simulator().await;
    let app = start_against(&sim, "0").await;
    // a second node: both watch the cap, only one may mark it and the link is switched once
    let _other = app
        .another_node_with(|config| {
            config.stripe_secret_key = Some(STRIPE_KEY.into());
            config.stripe_api_base = format!("{}/", sim.base_url);
            config.public_url = "https://give.example.org".into();
        })
        .await;
    let campaign = capped_campaigns(&app, "1000").await;
    let link_id = campaign["stripe_payment_link_id"].as_str().unwrap().to_owned();

    // bad settings change nothing
    for (overflow, reason) in [("release-123", "itself"), ("nope", "no campaign")] {
        let (status, body) = app
            .patch_json("/api/v1/campaigns/release-123", Some(TOKEN), &json!({"overflow": overflow}))
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(reason), "{body}");
    }
    let (status, body) = app
        .patch_json(
            "/api/v1/campaigns/release-123-families",
            Some(TOKEN),
            &json!({"overflow": "release-123"}),
        )
        .await;
    assert_eq!(status, 422, "a cycle sends donors in circles: {body}");
    let usd = json!({"slug": "usd-fund", "title": "USD", "currency": "USD", "goal": "10"});
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &usd).await.0, 201);
    let (status, body) =
        app.patch_json("/api/v1/campaigns/release-123", Some(TOKEN), &json!({"overflow": "usd-fund"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(app.get("/api/v1/campaigns/release-123", None).await.1["overflow"], "release-123-families");

    // three donors open Checkout before the cap and pay only after it: gifts in flight
    let mut in_flight = Vec::new();
    for _ in 0..3 {
        let (status, checkout) = app
            .post_json(
                "/api/v1/campaigns/release-123/checkout",
                None,
                &json!({"amount": "50.00", "anonymous": true}),
            )
            .await;
        assert_eq!(status, 200, "{checkout}");
        in_flight.push(checkout["session_id"].as_str().unwrap().to_owned());
    }

    // the burst: 40 gifts of EUR 30 at once (1,200 against a goal of 1,000)
    let client = reqwest::Client::new();
    let burst = (0..40).map(|_| {
        let client = client.clone();
        let base = sim.base_url.clone();
        async move {
            zbor_stripe_sim::donor::pay_checkout(&client, &base, STRIPE_KEY, "release-123", 3000, "card")
                .await
        }
    });
    for paid in futures_util::future::join_all(burst).await {
        paid.unwrap();
    }
    wait_until("the burst booked", async || totals(&app, "release-123").await["donations"] == 40).await;
    assert_eq!(
        totals(&app, "release-123").await["raised"],
        "1200.00",
        "every gift of the burst is booked where given"
    );
    wait_until("the cap noticed", async || {
        app.get("/api/v1/campaigns/release-123", None).await.1["funded_at"] != Value::Null
    })
    .await;
    let (status, cap) = app.get("/api/v1/campaigns/release-123/cap", Some(TOKEN)).await;
    assert_eq!(status, 200, "{cap}");
    assert_eq!((&cap["kept"], &cap["over_cap"]), (&json!("1200.00"), &json!("200.00")), "{cap}");
    wait_until("the link switched", async || {
        app.get("/api/v1/campaigns/release-123/cap", Some(TOKEN)).await.1["payment_link_switched"] == true
    })
    .await;

    // the Payment Link as Stripe has it now: it names the overflow campaign
    let link_now = async || -> Value {
        reqwest::Client::new()
            .get(format!("{}/v1/payment_links/{link_id}", sim.base_url))
            .bearer_auth(STRIPE_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    let link = link_now().await;
    assert_eq!(link["metadata"]["zbor_campaign"], "release-123-families", "{link}");
    assert_eq!(link["payment_intent_data"]["metadata"]["zbor_campaign"], "release-123-families", "{link}");
    assert_eq!(
        link["after_completion"]["redirect"]["url"],
        "https://give.example.org/give/release-123-families/thanks",
        "{link}"
    );
    // one switch, however many nodes watched: every update of the link carries the same key
    let switches: Vec<_> = sim
        .api_requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == format!("/v1/payment_links/{link_id}"))
        .collect();
    assert!(!switches.is_empty() && switches.len() <= 2, "{switches:?}");
    assert_eq!(app.count("select count(*) from campaigns where funded_at is not null").await, 1);

    // new donors are sent on: the API says where, the give page redirects
    let (status, refused) = app
        .post_json(
            "/api/v1/campaigns/release-123/checkout",
            None,
            &json!({"amount": "25.00", "anonymous": true}),
        )
        .await;
    assert_eq!((status, refused["error"]["code"].as_str()), (409, Some("campaign_funded")), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("release-123-families"), "{refused}");
    let page = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/give/release-123", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/give/release-123-families?from=release-123");
    // where they land, the page says why, in their language; a made-up `from` says nothing
    let landing = |path: &str, language: &'static str| {
        let url = format!("{}{path}", app.base);
        async move {
            reqwest::Client::new()
                .get(url)
                .header("accept-language", language)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let html = landing("/give/release-123-families?from=release-123", "en").await;
    assert!(html.contains("“123 released” has reached its goal"), "{html}");
    let html = landing("/give/release-123-families?from=release-123", "be").await;
    assert!(html.contains("Збор «123 released» дасягнуў сваёй мэты"), "{html}");
    for forged in ["usd-fund", "nope", "release-123-families", "%3Cscript%3E"] {
        let html = landing(&format!("/give/release-123-families?from={forged}"), "en").await;
        assert!(!html.contains("overflow-notice"), "{forged}: {html}");
    }

    // the gifts in flight land after the cap: booked where they were given, over the cap
    for session in &in_flight {
        let (status, paid) = sim_post(
            format!("{}/sim/checkout/sessions/{session}/pay", sim.base_url),
            json!({"method": "card"}),
        )
        .await;
        assert_eq!(status, 200, "{paid}");
    }
    // a gift through the shared link now goes to the overflow campaign
    let (status, paid) = sim_post(
        format!("{}/sim/payment_links/{link_id}/pay", sim.base_url),
        json!({"method": "card", "amount": 7000}),
    )
    .await;
    assert_eq!(status, 200, "{paid}");
    wait_until("the late gifts booked", async || totals(&app, "release-123").await["donations"] == 43).await;
    wait_until("the link's gift booked", async || {
        totals(&app, "release-123-families").await["donations"] == 1
    })
    .await;
    assert_eq!(totals(&app, "release-123").await["raised"], "1350.00");
    assert_eq!(totals(&app, "release-123-families").await["raised"], "70.00");
    let cap = app.get("/api/v1/campaigns/release-123/cap", Some(TOKEN)).await.1;
    assert_eq!(cap["over_cap"], "350.00", "{cap}");

    // funded is not forever: the coordinator raises the goal above what it kept, and it opens
    // again; its link is switched back at Stripe
    let (status, raised) =
        app.patch_json("/api/v1/campaigns/release-123", Some(TOKEN), &json!({"goal": "2000"})).await;
    assert_eq!(status, 200, "{raised}");
    wait_until("open again", async || {
        app.get("/api/v1/campaigns/release-123", None).await.1["funded_at"] == Value::Null
    })
    .await;
    wait_until("the link switched back", async || {
        link_now().await["metadata"]["zbor_campaign"] == "release-123"
    })
    .await;
    let link = link_now().await;
    assert_eq!(link["payment_intent_data"]["metadata"]["zbor_campaign"], "release-123", "{link}");
    assert_eq!(link["after_completion"]["type"], "hosted_confirmation", "{link}");
    let (status, session) = app
        .post_json(
            "/api/v1/campaigns/release-123/checkout",
            None,
            &json!({"amount": "25.00", "anonymous": true}),
        )
        .await;
    assert_eq!(status, 200, "donors may give again: {session}");
    let page = reqwest::get(format!("{}/give/release-123", app.base)).await.unwrap();
    assert_eq!(page.status(), 200, "the give page is its own again");
    // the link's gifts are its own again, until it reaches the new goal: then funded once
    // more, and the link switched to the overflow again (a new switch, with its own key)
    let (status, paid) = sim_post(
        format!("{}/sim/payment_links/{link_id}/pay", sim.base_url),
        json!({"method": "card", "amount": 70000}),
    )
    .await;
    assert_eq!(status, 200, "{paid}");
    wait_until("funded again", async || {
        app.get("/api/v1/campaigns/release-123", None).await.1["funded_at"] != Value::Null
    })
    .await;
    assert_eq!(totals(&app, "release-123").await["raised"], "2050.00");
    wait_until("switched again", async || {
        link_now().await["metadata"]["zbor_campaign"] == "release-123-families"
    })
    .await;
    // lowering the goal never reopens; removing the overflow does (no cap any more)
    let (status, _) =
        app.patch_json("/api/v1/campaigns/release-123", Some(TOKEN), &json!({"goal": "1000"})).await;
    assert_eq!(status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_ne!(app.get("/api/v1/campaigns/release-123", None).await.1["funded_at"], Value::Null);
    let (status, _) =
        app.patch_json("/api/v1/campaigns/release-123", Some(TOKEN), &json!({"overflow": null})).await;
    assert_eq!(status, 200);
    wait_until("uncapped", async || link_now().await["metadata"]["zbor_campaign"] == "release-123").await;
    assert_eq!(app.get("/api/v1/campaigns/release-123", None).await.1["funded_at"], Value::Null);

    let (status, verify) = app.get("/api/v1/ledger/verify", Some(TOKEN)).await;
    assert_eq!((status, &verify["ok"]), (200, &json!(true)), "{verify}");
    app.finish().await;
}

async fn ask(app: &Running, amount: &str, who: &Treasurer) -> (u16, Value) {
    let body = json!({"amount": amount, "totp": next_code(who)});
    post(app, "/api/v1/campaigns/release-123/surplus-transfers", body, who).await
}

async fn approve(app: &Running, id: i64, who: &Treasurer) -> (u16, Value) {
    post(app, &format!("/api/v1/surplus-transfers/{id}/approvals"), json!({"totp": next_code(who)}), who)
        .await
}

async fn balance(app: &Running, code: &str) -> String {
    let (_, account) = app.get(&format!("/api/v1/ledger/accounts/{code}"), Some(TOKEN)).await;
    account["balance"]["posted"]["amount"].as_str().unwrap().to_owned()
}

/// A one-time code is good once per person and 30-second step, so each action that needs one
/// is done by someone who has not used theirs yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn surplus_moves_on_by_one_person_below_the_threshold_and_two_above() {
    let sim = simulator().await;
    let app = start_against(&sim, "10").await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    capped_campaigns(&app, "1000").await;
    let mut people = Vec::new();
    for name in ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"] {
        people.push(treasurer(&app, &key, &format!("{name}@example.org")).await);
    }
    let [alice, bob, carol, dave, erin, frank, grace, heidi, ivan, judy] = &people[..] else {
        unreachable!()
    };

    // nothing to move before the campaign is funded
    let (status, body) = ask(&app, "5.00", judy).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("surplus_refused")), "{body}");

    // three gifts of EUR 500: kept 1,500, fees 3 × 7.75, so 476.75 may move
    let client = reqwest::Client::new();
    for _ in 0..3 {
        zbor_stripe_sim::donor::pay_checkout(
            &client,
            &sim.base_url,
            STRIPE_KEY,
            "release-123",
            50_000,
            "card",
        )
        .await
        .unwrap();
    }
    wait_until("funded, fees known", async || {
        let cap = app.get("/api/v1/campaigns/release-123/cap", Some(TOKEN)).await.1;
        cap["funded_at"] != Value::Null
            && cap["fees_pending"] == 0
            && totals(&app, "release-123").await["fees"] == "23.25"
    })
    .await;
    let cap = app.get("/api/v1/campaigns/release-123/cap", Some(TOKEN)).await.1;
    assert_eq!((&cap["over_cap"], &cap["movable_surplus"]), (&json!("500.00"), &json!("476.75")), "{cap}");

    // the admin token is no treasurer; a wrong code moves nothing
    let (status, _) = app
        .post_json(
            "/api/v1/campaigns/release-123/surplus-transfers",
            Some(TOKEN),
            &json!({"amount": "5", "totp": "1"}),
        )
        .await;
    assert_eq!(status, 403);
    let wrong = json!({"amount": "5.00", "totp": "000000"});
    let (status, _) = post(&app, "/api/v1/campaigns/release-123/surplus-transfers", wrong, alice).await;
    assert!(status == 401 || status == 422, "a wrong code: {status}");
    assert_eq!(balance(&app, "campaign:release-123-families").await, "0.00");

    // at most the threshold: one person, at once
    let (status, small) = ask(&app, "5.00", alice).await;
    assert_eq!((status, small["state"].as_str()), (201, Some("done")), "{small}");
    assert_eq!(small["approved_by"], Value::Null);
    assert_eq!(balance(&app, "campaign:release-123-families").await, "5.00");

    // above it: waits for a second person; the requester cannot approve it
    let (status, large) = ask(&app, "400.00", bob).await;
    assert_eq!((status, large["state"].as_str()), (201, Some("awaiting_approval")), "{large}");
    assert_eq!(balance(&app, "campaign:release-123-families").await, "5.00", "nothing moves before approval");
    let id = large["id"].as_i64().unwrap();
    let (status, body) = approve(&app, id, bob).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("four_eyes")), "{body}");
    // what is waiting counts: 476.75 - 5 - 400 leaves 71.75 to ask for
    let (status, body) = ask(&app, "100.00", carol).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("surplus_refused")), "{body}");

    let (status, done) = approve(&app, id, dave).await;
    assert_eq!((status, done["state"].as_str()), (200, Some("done")), "{done}");
    assert_eq!((done["amount"].as_str(), done["approved_by"].as_i64()), (Some("400.00"), Some(dave.id)));
    assert_eq!(balance(&app, "campaign:release-123-families").await, "405.00");
    assert_eq!(balance(&app, "campaign:release-123").await, "1071.75");
    // a replayed approval moves nothing more
    let (status, _) = approve(&app, id, erin).await;
    assert_eq!(status, 409);
    assert_eq!(balance(&app, "campaign:release-123-families").await, "405.00");

    // two treasurers approving the same transfer at once: it moves once
    let (status, race) = ask(&app, "20.00", frank).await;
    assert_eq!((status, race["state"].as_str()), (201, Some("awaiting_approval")), "{race}");
    let race_id = race["id"].as_i64().unwrap();
    let (first, second) = tokio::join!(approve(&app, race_id, grace), approve(&app, race_id, heidi));
    let mut statuses = [first.0, second.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{first:?} {second:?}");
    assert_eq!(balance(&app, "campaign:release-123-families").await, "425.00");

    // a waiting one can be withdrawn; then it cannot be approved
    let (_, withdrawn) = ask(&app, "10.50", ivan).await;
    let withdrawn_id = withdrawn["id"].as_i64().unwrap();
    let (status, body) =
        post(&app, &format!("/api/v1/surplus-transfers/{withdrawn_id}/cancel"), json!({}), alice).await;
    assert_eq!((status, body["state"].as_str()), (200, Some("cancelled")), "{body}");
    assert_eq!(approve(&app, withdrawn_id, carol).await.0, 409);
    assert_eq!(approve(&app, 999_999, carol).await.0, 404);

    // each move is one ledger transaction and audited with who did it
    let moved = app
        .count("select count(*) from ledger_transactions where metadata->>'kind' = 'surplus_transfer'")
        .await;
    assert_eq!(moved, 3);
    let audited: Vec<(String, String)> =
        sqlx::query_as("select action, actor from audit_log where action like 'surplus.%' order by seq")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    let transfers: Vec<_> = audited.iter().filter(|(action, _)| action == "surplus.transfer").collect();
    assert_eq!(transfers.len(), 3, "{audited:?}");
    assert_eq!(transfers[1].1, format!("user:{}", dave.id), "{audited:?}");
    assert!(audited.iter().any(|(action, _)| action == "surplus.cancel"), "{audited:?}");
    let (_, list) = app.get("/api/v1/campaigns/release-123/surplus-transfers", Some(TOKEN)).await;
    assert_eq!(list.as_array().unwrap().len(), 4, "{list}");

    let (status, verify) = app.get("/api/v1/ledger/verify", Some(TOKEN)).await;
    assert_eq!((status, &verify["ok"]), (200, &json!(true)), "{verify}");
    app.finish().await;
}
