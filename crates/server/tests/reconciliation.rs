#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! A day at the simulated Stripe — donations with their fees, a partial refund, a dispute with its
//! fee, a Connect transfer paying a beneficiary, Stripe's payout of the balance to the bank — is
//! reconciled with the ledger to the cent, through the API and the command line. Then a webhook
//! is missed, a booked amount changed and a transfer made that zbor never asked for: each is
//! reported, and `zbor reconcile stripe` exits 1.

mod common;

use std::process::Command;
use std::time::Duration;
use zbor_stripe_sim::donor::pay_checkout;

use chrono::Utc;
use common::*;
use serde_json::{json, Value};
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_stripe::{Stripe, StripeConfig};
use zbor_stripe_sim::{Config as SimConfig, Simulator};
use zbor_vault::DataKey;

const KEY: &str = "sk_test_reconcile";

async fn pay(sim: &Simulator, amount_cents: i64) -> String {
    let client = reqwest::Client::new();
    let paid = pay_checkout(&client, &sim.base_url, KEY, "release-123", amount_cents, "card").await.unwrap();
    paid["payment_intent"].as_str().unwrap().to_owned()
}

/// Waits until `sql` counts `want`.
async fn until(app: &Running, sql: &str, want: i64) {
    let mut got = -1;
    for _ in 0..200 {
        got = app.count(sql).await;
        if got == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{sql}: {got}, expected {want}");
}

async fn reconcile(app: &Running, from: chrono::DateTime<Utc>, to: chrono::DateTime<Utc>) -> Value {
    let (status, run) =
        app.post_json("/api/v1/reconciliation/stripe", Some(TOKEN), &json!({ "from": from, "to": to })).await;
    assert_eq!(status, 200, "{run}");
    run
}

fn total<'a>(report: &'a Value, kind: &str) -> (&'a Value, &'a Value) {
    let t = report["totals"].as_array().unwrap().iter().find(|t| t["kind"] == kind).unwrap_or_else(|| {
        panic!("no {kind} in {report}");
    });
    (&t["stripe"], &t["ledger"])
}

/// `zbor reconcile stripe --from --to`: its exit code, and what it printed.
fn zbor_reconcile_stripe(
    app: &Running,
    sim: &Simulator,
    from: chrono::DateTime<Utc>,
    to: chrono::DateTime<Utc>,
) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zbor"))
        .args(["reconcile", "stripe", "--from", &from.to_rfc3339(), "--to", &to.to_rfc3339()])
        .env("DATABASE_URL", &app.db.url)
        .env("STRIPE_SECRET_KEY", KEY)
        .env("STRIPE_API_BASE", &sim.base_url)
        .env("ZBOR_LOG", "warn")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_reconciles_with_stripe_to_the_cent_and_every_injected_difference_is_reported() {
    let sim = Simulator::start(
        SimConfig {
            api_key: KEY.into(),
            webhook_secret: WEBHOOK_SECRET.into(),
            retry_first: Duration::from_millis(50),
            retries_max: 5,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let key_text = DataKey::generate_hex();
    let key = DataKey::parse(&key_text).unwrap();
    let app = start_with(Some(WEBHOOK_SECRET), |c| {
        c.stripe_secret_key = Some(KEY.into());
        c.stripe_api_base = sim.base_url.clone();
        c.data_key = Some(key_text.clone());
    })
    .await;
    sim.set_webhook_url(Some(format!("{}/webhooks/stripe", app.base)));
    let from = Utc::now() - chrono::Duration::minutes(5);
    let campaign = json!({"slug": "release-123", "title": "Release", "currency": "EUR", "goal": "123000"});
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);

    // Donations, each with Stripe's fee (1.5 % + 0.25).
    let mut intents = Vec::new();
    for cents in [10_000, 5_000, 3_000, 200_000] {
        intents.push(pay(&sim, cents).await);
    }
    until(&app, "select count(*) from donations where status = 'paid' and fee > 0", 4).await;
    // A partial refund, a dispute (Stripe's EUR 15.00 fee is the organisation's).
    sim.refund(&intents[1], Some(2_000)).unwrap();
    until(&app, "select count(*) from donations where refunded = 20", 1).await;
    sim.dispute(&intents[2]).unwrap();
    until(&app, "select count(*) from donations where disputed = 30", 1).await;
    until(&app, "select count(*) from ledger_transactions where metadata->>'kind' = 'dispute_fee'", 1).await;

    // A beneficiary paid by a Connect transfer, after four eyes.
    let campaign = {
        let mut conn = app.db.pool.acquire().await.unwrap();
        zbor_campaigns::by_slug(&mut conn, "release-123").await.unwrap()
    };
    let people = treasurers(&app.db, &key, &["a@example.org", "b@example.org", "c@example.org"]).await;
    let new = serde_json::from_value(json!({"name": "Person", "contact": "", "note": "",
        "method": {"kind": "stripe_connect", "account": "acct_1Pgaf0B7WZ01zgkW"}}))
    .unwrap();
    let beneficiary =
        zbor_payouts::beneficiaries::create(&app.db.pool, &key, campaign.id, &new).await.unwrap().id;
    confirm_all(&app.db.pool, campaign.id, people[1]).await;
    let items = [NewItem { beneficiary, amount: "500".into() }];
    let batch = batches::create(&app.db.pool, campaign.id, people[0], &items).await.unwrap();
    batches::approve(&app.db.pool, batch.id, people[1], &batch.content_hash).await.unwrap().unwrap();
    assert_eq!(
        batches::approve(&app.db.pool, batch.id, people[2], &batch.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );
    let stripe = Stripe::new(StripeConfig::new(KEY, sim.base_url.as_str())).unwrap();
    zbor_payouts::worker::pay(&app.db.pool, &key, Some(&stripe), batch.items[0].payout).await.unwrap();
    until(&app, "select count(*) from stripe_events where type = 'transfer.created'", 1).await;

    // Stripe pays what is left of its balance out to the bank.
    let payout = sim.pay_out("eur").unwrap();
    until(&app, "select count(*) from stripe_payouts where status = 'paid'", 1).await;
    let mut conn = app.db.pool.acquire().await.unwrap();
    let balance = zbor_ledger::account_by_code(&mut *conn, "stripe:balance:eur").await.unwrap();
    let bank = zbor_ledger::account_by_code(&mut *conn, "bank:eur").await.unwrap();
    assert_eq!(zbor_ledger::balance(&mut conn, balance.id).await.unwrap().posted, eur("0"), "all paid out");
    let paid_out = zbor_ledger::balance(&mut conn, bank.id).await.unwrap().posted;
    assert_eq!(
        paid_out.to_minor_units().unwrap(),
        payout["amount"].as_i64().unwrap(),
        "the bank account holds exactly Stripe's payout"
    );
    drop(conn);

    // The day reconciles to the cent.
    let to = Utc::now() + chrono::Duration::minutes(5);
    let run = reconcile(&app, from, to).await;
    let report = &run["report"];
    assert_eq!(report["differences"], json!([]), "{report:#}");
    // 4 charges + 4 fees + 1 refund + 1 dispute + 1 dispute fee + 1 transfer + 1 payout
    assert_eq!(report["matched"], 13, "{report:#}");
    assert_eq!(total(report, "charge"), (&json!("2180.00"), &json!("2180.00")));
    // 1.5 % + 0.25 of 100, 50, 30 and 2,000: 1.75 + 1.00 + 0.70 + 30.25
    assert_eq!(total(report, "fee"), (&json!("-33.70"), &json!("-33.70")));
    assert_eq!(total(report, "refund"), (&json!("-20.00"), &json!("-20.00")));
    assert_eq!(total(report, "dispute"), (&json!("-30.00"), &json!("-30.00")));
    assert_eq!(total(report, "dispute_fee"), (&json!("-15.00"), &json!("-15.00")));
    assert_eq!(total(report, "transfer"), (&json!("-500.00"), &json!("-500.00")));
    assert_eq!(total(report, "payout"), (&json!("-1581.30"), &json!("-1581.30")));
    let (status, latest) = app.get("/api/v1/reconciliation/stripe/latest", Some(TOKEN)).await;
    assert_eq!((status, &latest["id"], &latest["differences"]), (200, &run["id"], &json!(0)));

    // The command line agrees and exits 0 (README's sample report is this output).
    let (code, text) = zbor_reconcile_stripe(&app, &sim, from, to);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("matched: 13, in transit: 0, differences: 0"), "{text}");
    println!("{text}");
    // Stripe's payout, every balance transaction it settled against the ledger, as the daily
    // task does it for each paid payout (and `zbor reconcile stripe --payout`).
    let payout_id = payout["id"].as_str().unwrap();
    assert_eq!(zbor_reconcile::runs::reconcile_paid_payouts(&app.db.pool, &stripe, 10).await.unwrap(), 0);
    assert_eq!(
        app.count("select count(*) from stripe_payouts where reconciled_at is not null and reconciliation_differences = 0")
            .await,
        1
    );
    let contents =
        zbor_reconcile::against_stripe::reconcile_payout(&app.db.pool, &stripe, payout_id).await.unwrap();
    assert!(contents.is_clean(), "{contents:#?}");
    assert_eq!(contents.matched, 13, "the payout settled the whole day");

    // Injected: a webhook that never arrives, an amount changed in the ledger, a transfer zbor
    // never made.
    sim.set_webhook_url(None);
    let missed = pay(&sim, 1_000).await;
    let extra: Value = reqwest::Client::new()
        .post(format!("{}/v1/transfers", sim.base_url))
        .bearer_auth(KEY)
        .form(&[("amount", "700"), ("currency", "eur"), ("destination", "acct_1Pgaf0B7WZ01zgkW")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let changed = &intents[0];
    let mut tx = app.db.pool.begin().await.unwrap();
    sqlx::query("set local session_replication_role = replica").execute(&mut *tx).await.unwrap();
    let altered = sqlx::query(
        "update ledger_postings p set amount = case when p.amount > 0 then 101 else -101 end
         from ledger_transactions t, donations d
         where t.id = p.transaction_id and t.metadata->>'kind' = 'donation'
           and d.stripe_session_id = t.metadata->>'stripe_session' and d.stripe_payment_intent = $1",
    )
    .bind(changed)
    .execute(&mut *tx)
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(altered, 2);
    tx.commit().await.unwrap();

    let to = Utc::now() + chrono::Duration::minutes(5);
    let report = reconcile(&app, from, to).await["report"].clone();
    let mut found: Vec<(String, String, String)> = report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["difference"].as_str().unwrap().into(),
                d["kind"].as_str().unwrap().into(),
                d["key"].as_str().unwrap().into(),
            )
        })
        .collect();
    found.sort();
    let mut want = vec![
        ("amount_differs".to_owned(), "charge".to_owned(), changed.clone()),
        ("missing_in_ledger".to_owned(), "charge".to_owned(), missed.clone()),
        ("missing_in_ledger".to_owned(), "fee".to_owned(), missed.clone()),
        ("missing_in_ledger".to_owned(), "transfer".to_owned(), extra["id"].as_str().unwrap().to_owned()),
    ];
    want.sort();
    assert_eq!(found, want, "{report:#}");
    let differs = report["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["difference"] == "amount_differs")
        .unwrap();
    assert_eq!((&differs["stripe"], &differs["ledger"]), (&json!("100.00"), &json!("101.00")));

    // The command line says the same and exits 1.
    let (code, text) = zbor_reconcile_stripe(&app, &sim, from, to);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("differences: 4") && text.contains("amount differs") && text.contains(&missed),
        "{text}"
    );
    println!("{text}");
    // The payout's contents include the changed donation: its report names it.
    let out = Command::new(env!("CARGO_BIN_EXE_zbor"))
        .args(["reconcile", "stripe", "--payout", payout_id, "--json"])
        .env("DATABASE_URL", &app.db.url)
        .env("STRIPE_SECRET_KEY", KEY)
        .env("STRIPE_API_BASE", &sim.base_url)
        .env("ZBOR_LOG", "warn")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let contents: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(contents["payout"], payout_id);
    assert_eq!(contents["differences"].as_array().unwrap().len(), 1, "{contents:#}");
    assert_eq!(contents["differences"][0]["key"], changed.as_str());
    assert_eq!(contents["differences"][0]["difference"], "amount_differs");

    // The daily run reconciles a day once, whichever instance asks first.
    let tomorrow = Utc::now() + chrono::Duration::days(1) + chrono::Duration::hours(1);
    let daily = zbor_reconcile::runs::run_daily(&app.db.pool, &stripe, tomorrow).await.unwrap();
    assert!(daily.is_some_and(|r| r.differences.len() >= 3));
    assert!(zbor_reconcile::runs::run_daily(&app.db.pool, &stripe, tomorrow).await.unwrap().is_none());
    app.finish().await;
}
