#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The server is down while 100 donations are paid: every webhook fails, Stripe gives up. Reading
//! the events back (`zbor_stripe::events::sync`, with the server's own table of handlers) books
//! each donation once, to the cent, fees included; a second sync applies nothing; and when the
//! late webhooks arrive after all, each is answered 2xx as a duplicate and the ledger does not
//! move.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;
use zbor_stripe_sim::donor::pay_checkout;

use chrono::Utc;
use common::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use zbor_stripe::events::sync::sync;
use zbor_stripe::{Stripe, StripeConfig};
use zbor_stripe_sim::{Config as SimConfig, Simulator};

const KEY: &str = "sk_test_sync";
const DONATIONS: i64 = 100;

/// A donor pays `amount_cents` by card to release-123; returns the completed session.
async fn pay(sim: &Simulator, amount_cents: i64) -> Value {
    let client = reqwest::Client::new();
    pay_checkout(&client, &sim.base_url, KEY, "release-123", amount_cents, "card").await.unwrap()
}

/// Stripe while zbor is down: its webhook address refuses connections, and Stripe gives up
/// after one try.
async fn stripe_while_zbor_is_down() -> Simulator {
    let down = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/webhooks/stripe", listener.local_addr().unwrap())
    };
    Simulator::start(
        SimConfig {
            api_key: KEY.into(),
            webhook_url: Some(down),
            webhook_secret: WEBHOOK_SECRET.into(),
            retries_max: 1,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

/// Waits until `sql` counts `want`.
async fn until(app: &Running, sql: &str, want: i64) {
    let mut got = -1;
    for _ in 0..400 {
        got = app.count(sql).await;
        if got == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{sql}: {got}, expected {want}");
}

/// Euros from cents.
fn euros(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// What the books say about release-123: its totals (from PostgreSQL, the truth the live copy is
/// made from), its ledger account's balance, and every ledger transaction.
#[derive(Debug, PartialEq)]
struct Books {
    totals: zbor_intake::totals::Totals,
    account_balance: Decimal,
    ledger_transactions: i64,
    stripe_events: i64,
}

async fn books(app: &Running) -> Books {
    let mut conn = app.db.pool.acquire().await.unwrap();
    let totals = zbor_intake::totals::totals(&mut conn, "release-123").await.unwrap();
    let campaign = zbor_campaigns::by_slug(&mut conn, "release-123").await.unwrap();
    let account_balance =
        zbor_ledger::balance(&mut conn, campaign.ledger_account).await.unwrap().posted.amount();
    drop(conn);
    Books {
        totals,
        account_balance,
        ledger_transactions: app.count("select count(*) from ledger_transactions").await,
        stripe_events: app.count("select count(*) from stripe_events").await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_is_down_while_100_donations_are_paid_and_reading_the_events_back_books_each_once() {
    let sim = stripe_while_zbor_is_down().await;
    let app = start_with(Some(WEBHOOK_SECRET), |c| {
        c.stripe_secret_key = Some(KEY.into());
        c.stripe_api_base = sim.base_url.clone();
        c.stripe_requests_per_second = 500;
    })
    .await;
    let campaign = json!({"slug": "release-123", "title": "Release", "currency": "EUR", "goal": "123000"});
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    let since = Utc::now() - chrono::Duration::minutes(5);

    // 100 donors pay, EUR 5.00 to EUR 140.63; Stripe's fee on each is on its charge's balance
    // transaction.
    let amounts: Vec<i64> = (0..DONATIONS).map(|i| 500 + i * 137).collect();
    let mut sessions = BTreeSet::new();
    let mut fees = 0;
    for &amount in &amounts {
        let session = pay(&sim, amount).await;
        sessions.insert(session["id"].as_str().unwrap().to_owned());
        let charge = sim.charge(session["payment_intent"].as_str().unwrap()).unwrap();
        let txn = sim.balance_transaction(charge["balance_transaction"].as_str().unwrap()).unwrap();
        assert_eq!(txn["amount"].as_i64(), Some(amount));
        fees += txn["fee"].as_i64().unwrap();
    }
    let (raised, fees) = (euros(amounts.iter().sum()), euros(fees));
    // Every delivery failed and none is retried: Stripe has the events, zbor has nothing.
    for _ in 0..200 {
        if sim.deliveries().len() >= 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deliveries = sim.deliveries();
    assert_eq!(deliveries.len(), 200);
    assert!(deliveries.iter().all(|d| d.status.is_none()), "{deliveries:?}");
    assert_eq!(sim.events().len(), 200);
    assert_eq!(app.count("select count(*) from stripe_events").await, 0);
    assert_eq!(app.count("select count(*) from donations").await, 0);

    // Read back with the server's own table of handlers, through the background budget.
    let events = zbor_server::http::webhooks::table(None);
    let stripe = Stripe::new(StripeConfig::new(KEY, sim.base_url.clone())).unwrap();
    let started = std::time::Instant::now();
    let report = sync(&app.db.pool, &stripe, &events, since).await.unwrap();
    println!("sync of 100 donations (200 events): {report:?} in {:?}", started.elapsed());
    assert_eq!((report.listed, report.already_stored, report.applied), (200, 0, 200), "{report:?}");
    assert!(report.failed.is_empty() && report.needs_review.is_empty() && !report.truncated, "{report:?}");
    assert_eq!(report.campaigns, BTreeSet::from(["release-123".to_owned()]));
    // 2 pages back to `since`, 2 forward from the oldest missing event
    assert_eq!(report.requests, 4);

    // Every donation booked once; the fees follow (the server's fee task reads each from Stripe).
    until(&app, "select count(*) from donations where status = 'paid' and fee > 0", DONATIONS).await;
    let booked: BTreeSet<String> = sqlx::query_scalar("select stripe_session_id from donations")
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(booked, sessions, "one donation per paid session");
    let per_session: Vec<(String, i64)> = sqlx::query_as(
        "select metadata->>'kind', count(*) from ledger_transactions
         group by 1 having count(*) <> count(distinct metadata->>'stripe_session') order by 1",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert!(per_session.is_empty(), "a session booked twice: {per_session:?}");
    assert_eq!(
        app.count("select count(*) from ledger_transactions where metadata->>'kind' = 'donation'").await,
        DONATIONS
    );
    assert_eq!(
        app.count("select count(*) from ledger_transactions where metadata->>'kind' = 'stripe_fee'").await,
        DONATIONS
    );
    let synced = books(&app).await;
    let totals = &synced.totals;
    assert_eq!(totals.donations, DONATIONS);
    assert_eq!(totals.raised.amount(), raised, "the sum of what was paid");
    assert_eq!(totals.fees.amount(), fees, "the sum of Stripe's fees");
    assert_eq!(totals.refunded.amount(), Decimal::ZERO);
    assert_eq!(totals.net.amount(), raised - fees);
    assert_eq!(synced.account_balance, raised - fees, "the ledger says what was paid, net of fees");
    assert_eq!(synced.stripe_events, 200);
    println!(
        "booked: raised {raised}, fees {fees}, net {}, {} ledger transactions",
        raised - fees,
        synced.ledger_transactions
    );

    // Again: nothing missing, nothing applied.
    let again = sync(&app.db.pool, &stripe, &events, since).await.unwrap();
    assert_eq!((again.listed, again.already_stored, again.applied), (200, 200, 0), "{again:?}");
    assert!(again.failed.is_empty() && again.campaigns.is_empty());
    assert_eq!(again.requests, 2, "one request a page of 100, nothing read further");
    assert_eq!(books(&app).await, synced);

    // The server is back and Stripe's late webhooks arrive after all: each one a duplicate.
    sim.set_webhook_url(Some(format!("{}/webhooks/stripe", app.base)));
    let late = sim.redeliver_all().await;
    assert_eq!(late.len(), 200);
    for delivery in &late {
        assert_eq!(delivery.status, Some(200), "{delivery:?}");
        let answer: Value = serde_json::from_str(delivery.response_body.as_deref().unwrap()).unwrap();
        assert_eq!(
            (&answer["duplicate"], &answer["event"]),
            (&json!(true), &json!(delivery.event_id)),
            "{answer}"
        );
    }
    tokio::time::sleep(Duration::from_millis(1500)).await; // a fee pass, were anything left to fetch
    assert_eq!(books(&app).await, synced, "totals, ledger and event store unchanged");
    app.finish().await;
}

/// Without anyone running a command: a server that starts after an outage reads back, at once,
/// what Stripe could not deliver (`serve`'s periodic task: the undelivered events of 72 h); and the operator's
/// `zbor stripe sync --since 72h` does the same for a longer outage, and finds nothing twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_and_a_restarted_server_read_missed_events_back() {
    let sim = stripe_while_zbor_is_down().await;
    // a node without Stripe: it neither reads events back nor looks fees up
    let app = start(Some(WEBHOOK_SECRET)).await;
    let campaign = json!({"slug": "release-123", "title": "Release", "currency": "EUR", "goal": "123000"});
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    for n in 0..20 {
        pay(&sim, 1000 + n).await;
    }
    let sync_command = || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_zbor"))
            .args(["stripe", "sync", "--since", "72h"])
            .env("DATABASE_URL", &app.db.url)
            .env("ZBOR_REDIS_PREFIX", &app.redis_prefix)
            .env("STRIPE_SECRET_KEY", KEY)
            .env("STRIPE_API_BASE", &sim.base_url)
            .env_remove("ZBOR_DATA_KEY")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let text = sync_command();
    assert!(text.contains("40 listed · 0 already stored · 40 applied · 0 need review · 0 failed"), "{text}");
    assert_eq!(app.count("select count(*) from donations where status = 'paid'").await, 20);
    // the running server's live totals were refreshed through Redis
    let (_, totals) = app.get("/api/v1/campaigns/release-123/totals", Some(TOKEN)).await;
    assert_eq!(totals["donations"], json!(20), "{totals}");

    // ten more while zbor cannot be reached; then a server with Stripe configured starts
    for n in 0..10 {
        pay(&sim, 2000 + n).await;
    }
    let _restarted = app
        .another_node_with(|c| {
            c.stripe_secret_key = Some(KEY.into());
            c.stripe_api_base = sim.base_url.clone();
        })
        .await;
    until(&app, "select count(*) from donations where status = 'paid'", 30).await;
    // the server asked only for what Stripe had not delivered
    let asked: Vec<_> = sim.api_requests().into_iter().filter(|r| r.path == "/v1/events").collect();
    assert!(
        asked.iter().any(|r| r.query.contains(&("delivery_success".to_owned(), "false".to_owned()))),
        "{asked:?}"
    );
    let text = sync_command();
    assert!(text.contains("60 listed · 60 already stored · 0 applied"), "{text}");
    assert_eq!(
        app.count("select count(*) from ledger_transactions where metadata->>'kind' = 'donation'").await,
        30
    );
    app.finish().await;
}
