#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The accountant's exports and the coordinators' overview, against the ledger. Donations are
//! paid at the Stripe simulator (one by a named donor), their fees fetched from it, one is
//! partly refunded, two are disputed (one won back), and two manual payouts are approved (one
//! paid, one pending), all through the real paths. Then the exports of the period, parsed with
//! another CSV reader, add up to exactly the ledger's movements on the campaign's account in the
//! same period, and to the overview's figures. Bad input is a 400 with a reason; only a treasurer
//! with a fresh code sees a named donor; every export is audited.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{Duration as Days, Utc};
use common::treasury::{next_code, treasurer, PASSWORD};
use common::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_payouts::PayoutId;
use zbor_stripe_sim::{Config as SimConfig, Simulator};
use zbor_vault::DataKey;

const STRIPE_KEY: &str = "sk_test_exports";
const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

struct Csv {
    status: u16,
    content_type: String,
    disposition: String,
    rows: Vec<HashMap<String, String>>,
    body: String,
}

async fn get_csv(app: &Running, path: &str, auth: &[(&str, String)]) -> Csv {
    let mut request = reqwest::Client::new().get(format!("{}{path}", app.base));
    for (name, value) in auth {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let header =
        |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let (status, content_type, disposition) =
        (response.status().as_u16(), header("content-type"), header("content-disposition"));
    let body = response.text().await.unwrap();
    let mut rows = Vec::new();
    if status == 200 {
        let mut reader = csv::Reader::from_reader(body.as_bytes());
        let columns: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        for record in reader.records() {
            let record = record.unwrap();
            rows.push(columns.iter().cloned().zip(record.iter().map(str::to_owned)).collect());
        }
    }
    Csv { status, content_type, disposition, rows, body }
}

fn bearer() -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {TOKEN}"))]
}

fn sum(
    rows: &[HashMap<String, String>],
    column: &str,
    keep: impl Fn(&HashMap<String, String>) -> bool,
) -> Decimal {
    rows.iter().filter(|r| keep(r)).map(|r| dec(&r[column])).sum()
}

/// The ledger's movements on `account` in `[from, to)`, per kind of booking, in the campaign's
/// favour (a credit to the liability positive).
async fn ledger_movements(app: &Running, account: &str, from: &str, to: &str) -> HashMap<String, Decimal> {
    sqlx::query_as::<_, (String, Decimal)>(
        "select t.metadata->>'kind', -sum(p.amount)
         from ledger_postings p
         join ledger_transactions t on t.id = p.transaction_id
         join ledger_accounts a on a.id = p.account_id
         where a.code = $1 and t.created_at >= $2::date and t.created_at < $3::date
         group by 1",
    )
    .bind(account)
    .bind(from)
    .bind(to)
    .fetch_all(&app.db.pool)
    .await
    .unwrap()
    .into_iter()
    .collect()
}

async fn wait_for(app: &Running, what: &str, sql: &str, expected: i64) {
    for _ in 0..300 {
        if app.count(sql).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: {sql} never reached {expected} (is {})", app.count(sql).await);
}

#[tokio::test]
async fn exports_add_up_to_the_ledger_and_the_overview() {
    let sim = Simulator::start(
        SimConfig {
            api_key: STRIPE_KEY.into(),
            webhook_secret: WEBHOOK_SECRET.into(),
            retry_first: Duration::from_millis(50),
            retries_max: 5,
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
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
    let key = DataKey::parse(DATA_KEY).unwrap();
    let campaign = json!({"slug": "release-123", "title": "123 released", "currency": "EUR",
                          "goal": "3000", "amount_per_beneficiary": "1000"});
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    let other = json!({"slug": "release-usd", "title": "USD", "currency": "USD", "goal": "500"});
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &other).await.0, 201);

    // a named donor through zbor's checkout, four more through the simulator's
    let (status, checkout) = app
        .post_json(
            "/api/v1/campaigns/release-123/checkout",
            None,
            &json!({"amount": "1000.00", "anonymous": false}),
        )
        .await;
    assert_eq!(status, 200, "{checkout}");
    let session_id = checkout["session_id"].as_str().unwrap();
    let pay = reqwest::Client::new()
        .post(format!("{}/sim/checkout/sessions/{session_id}/pay", sim.base_url))
        .json(&json!({"method": "card", "customer": {"name": "Jane Donor", "email": "jane@example.org"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(pay.status(), 200);
    let client = reqwest::Client::new();
    let mut payments = Vec::new();
    for cents in [50_000, 25_000, 4_000, 150_000] {
        let paid = zbor_stripe_sim::donor::pay_checkout(
            &client,
            &sim.base_url,
            STRIPE_KEY,
            "release-123",
            cents,
            "card",
        )
        .await
        .unwrap();
        payments.push(paid["payment_intent"].as_str().unwrap().to_owned());
    }
    // fees: 1.5% + 0.25 each: 15.25 + 7.75 + 4.00 + 0.85 + 22.75
    wait_for(&app, "fees", "select count(*) from donations where fee > 0", 5).await;

    // a partial refund, a dispute won back, a dispute still open
    sim.refund(&payments[0], Some(10_000)).unwrap();
    let won = sim.dispute(&payments[1]).unwrap();
    sim.dispute(&payments[2]).unwrap();
    wait_for(&app, "reversals", "select count(*) from donations where refunded > 0 or disputed > 0", 3).await;
    sim.close_dispute(won["id"].as_str().unwrap(), true).unwrap();
    wait_for(&app, "dispute won", "select count(*) from donations where disputed > 0", 1).await;

    // two manual payouts of EUR 1,000 approved by two treasurers; one handed over
    let campaign_id = {
        let mut conn = app.db.pool.acquire().await.unwrap();
        zbor_campaigns::by_slug(&mut conn, "release-123").await.unwrap().id
    };
    let users = treasurers(&app.db, &key, &["a@example.org", "b@example.org", "c@example.org"]).await;
    let mut items = Vec::new();
    for n in 0..2 {
        let new = serde_json::from_value(
            json!({"name": format!("Released person {n}"), "method": {"kind": "manual"}}),
        )
        .unwrap();
        let id = zbor_payouts::beneficiaries::create(&app.db.pool, &key, campaign_id, &new).await.unwrap().id;
        items.push(NewItem { beneficiary: id, amount: "1000".into() });
    }
    confirm_all(&app.db.pool, campaign_id, users[1]).await;
    let batch = batches::create(&app.db.pool, campaign_id, users[0], &items).await.unwrap();
    batches::approve(&app.db.pool, batch.id, users[1], &batch.content_hash).await.unwrap().unwrap();
    let released = batches::approve(&app.db.pool, batch.id, users[2], &batch.content_hash).await.unwrap();
    assert_eq!(released, Ok(Approved::Released));
    let first: i64 = sqlx::query_scalar("select min(id) from payouts").fetch_one(&app.db.pool).await.unwrap();
    zbor_payouts::treasury::mark_paid(&app.db.pool, &key, PayoutId::from_i64(first), users[1], "")
        .await
        .unwrap();

    // the period: today, with a day either side so a run at midnight stays inside it
    let today = Utc::now().date_naive();
    let (from, to) = ((today - Days::days(1)).to_string(), (today + Days::days(2)).to_string());
    let period = format!("from={from}&to={to}&campaign=release-123");
    let donations = get_csv(&app, &format!("/api/v1/exports/donations.csv?{period}"), &bearer()).await;
    assert_eq!(donations.status, 200, "{}", donations.body);
    assert_eq!(donations.content_type, "text/csv; charset=utf-8");
    assert_eq!(
        donations.disposition,
        format!("attachment; filename=\"donations-release-123-{from}--{to}.csv\"")
    );
    let refunds = get_csv(&app, &format!("/api/v1/exports/refunds.csv?{period}"), &bearer()).await;
    let disputes = get_csv(&app, &format!("/api/v1/exports/disputes.csv?{period}"), &bearer()).await;
    let payouts = get_csv(&app, &format!("/api/v1/exports/payouts.csv?{period}"), &bearer()).await;
    for export in [&refunds, &disputes, &payouts] {
        assert_eq!(export.status, 200, "{}", export.body);
    }

    // what the files say
    assert_eq!(donations.rows.len(), 5);
    let paid = |r: &HashMap<String, String>| r["status"] == "paid";
    let all = |_: &HashMap<String, String>| true;
    let raised = sum(&donations.rows, "amount", paid);
    let fees = sum(&donations.rows, "fee", paid);
    assert_eq!((raised, fees), (dec("3290.00"), dec("50.60")));
    assert_eq!(sum(&donations.rows, "refunded", all), dec("100.00"));
    assert_eq!(sum(&donations.rows, "disputed", all), dec("40.00"));
    let net = sum(&donations.rows, "net", all);
    assert_eq!(net, dec("3099.40"));
    assert!(donations.rows.iter().all(|r| r["method"] == "card"), "{}", donations.body);
    assert!(donations
        .rows
        .iter()
        .all(|r| r["amount"].split_once('.').is_some_and(|(_, cents)| cents.len() == 2)));
    assert!(
        !donations.body.contains("Jane") && !donations.body.contains("jane@"),
        "no donor unless revealed"
    );
    let refunded = sum(&refunds.rows, "amount", all);
    assert_eq!((refunds.rows.len(), refunded), (1, dec("100.00")));
    let withdrawn = sum(&disputes.rows, "amount", |r| r["movement"] == "withdrawn");
    let reinstated = sum(&disputes.rows, "amount", |r| r["movement"] == "reinstated");
    assert_eq!((disputes.rows.len(), withdrawn, reinstated), (3, dec("290.00"), dec("250.00")));
    let paid_out = sum(&payouts.rows, "amount", |r| r["state"] == "paid");
    let pending = sum(&payouts.rows, "amount", |r| r["state"] == "approved");
    assert_eq!((payouts.rows.len(), paid_out, pending), (2, dec("1000.00"), dec("1000.00")));
    assert!(payouts.rows.iter().all(|r| r["rail"] == "manual"));
    assert!(!payouts.body.contains("Released person"), "never who was paid");

    // ... is exactly what the ledger moved on the campaign's account in the period
    let moved = ledger_movements(&app, "campaign:release-123", &from, &to).await;
    let kind = |k: &str| moved.get(k).copied().unwrap_or_default();
    assert_eq!(kind("donation"), raised);
    assert_eq!(-kind("stripe_fee"), fees);
    assert_eq!(-kind("refund"), refunded);
    assert_eq!(-kind("dispute"), withdrawn - reinstated);
    assert_eq!(-kind("payout"), paid_out);
    assert_eq!(moved.len(), 5, "no other kind of movement: {moved:?}");
    let mut conn = app.db.pool.acquire().await.unwrap();
    let account = zbor_ledger::account_by_code(&mut *conn, "campaign:release-123").await.unwrap();
    let balance = zbor_ledger::balance(&mut conn, account.id).await.unwrap();
    drop(conn);
    assert_eq!(balance.posted.amount(), net - paid_out, "the campaign holds the net less what was paid");

    // ... and what the overview says
    let (status, overview) = app.get("/api/v1/overview", Some(TOKEN)).await;
    assert_eq!(status, 200, "{overview}");
    let campaigns = overview["campaigns"].as_array().unwrap();
    assert_eq!(campaigns.len(), 2);
    let release = campaigns.iter().find(|c| c["campaign"] == "release-123").unwrap();
    let figure = |name: &str| dec(release[name].as_str().unwrap());
    assert_eq!(figure("raised"), raised);
    assert_eq!(figure("fees"), fees);
    assert_eq!(figure("refunded"), refunded);
    assert_eq!(figure("disputed"), withdrawn - reinstated);
    assert_eq!(figure("net"), net);
    assert_eq!(release["net"], "3099.40", "at the currency's scale: {release}");
    assert_eq!((release["donations"].as_i64(), release["people_funded"].as_i64()), (Some(5), Some(3)));
    assert_eq!(release["goal_reached"], true);
    assert_eq!(release["payouts_paid"], json!({"count": 1, "amount": "1000.00"}));
    assert_eq!(release["payouts_pending"], json!({"count": 1, "amount": "1000.00"}));
    assert_eq!(release["payouts_awaiting_approval"], json!({"count": 0, "amount": "0.00"}));
    // each campaign in its own currency; nothing added across them
    let usd = campaigns.iter().find(|c| c["campaign"] == "release-usd").unwrap();
    assert_eq!(
        (&usd["currency"], &usd["raised"], &usd["people_funded"]),
        (&json!("USD"), &json!("0.00"), &Value::Null)
    );
    assert_eq!(usd["goal_reached"], false);

    // the command line writes the same file, and reports the same overview
    let zbor = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_zbor"))
            .args(args)
            .env("DATABASE_URL", &app.db.url)
            .env("ZBOR_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "zbor {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let file = std::env::temp_dir().join(format!("{}-payouts.csv", app.db.name));
    let file_name = file.to_str().unwrap();
    let (_, said) = zbor(&[
        "export",
        "payouts",
        "--from",
        &from,
        "--to",
        &to,
        "--campaign",
        "release-123",
        "--output",
        file_name,
    ]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), payouts.body);
    assert!(said.contains("2 payouts row(s)"), "{said}");
    std::fs::remove_file(&file).unwrap();
    let (stdout, _) = zbor(&["export", "refunds", "--from", &from, "--to", &to]);
    assert_eq!(stdout, refunds.body);
    let (stdout, _) = zbor(&["report", "overview", "--json"]);
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), overview);
    let (table, _) = zbor(&["report", "overview"]);
    assert!(table.contains("release-123") && table.contains("3099.40") && table.contains("3 ✓"), "{table}");
    let actors: Vec<String> = sqlx::query_scalar(
        "select actor from audit_log where action like 'export.%' order by seq desc limit 2",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(actors, ["cli", "cli"]);

    // the next period holds none of it; every campaign at once holds all of it
    let (next_from, next_to) = (to.clone(), (today + Days::days(3)).to_string());
    let later =
        get_csv(&app, &format!("/api/v1/exports/donations.csv?from={next_from}&to={next_to}"), &bearer())
            .await;
    assert_eq!((later.status, later.rows.len()), (200, 0));
    let everything =
        get_csv(&app, &format!("/api/v1/exports/donations.csv?from={from}&to={to}"), &bearer()).await;
    assert_eq!(everything.rows.len(), 5);

    // bad input: a 400 with a reason, and nothing audited
    let audited = app.count("select count(*) from audit_log where action like 'export.%'").await;
    assert_eq!(audited, 8);
    for (query, says) in [
        (format!("from={to}&to={from}"), "must be after"),
        (format!("from={from}&to={from}"), "must be after"),
        ("from=2026-12-01&to=2027-02-30".to_owned(), "`to` must be a date"),
        ("from=01.12.2026&to=2027-01-01".to_owned(), "`from` must be a date"),
        ("to=2027-01-01".to_owned(), "from"),
        (format!("from={from}&to={to}&campaign=no-such-campaign"), "no campaign"),
        (format!("from={from}&to={to}&format=xlsx"), "format"),
    ] {
        for export in ["donations", "payouts"] {
            let (status, answer) =
                app.get(&format!("/api/v1/exports/{export}.csv?{query}"), Some(TOKEN)).await;
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            assert_eq!(status, 400, "{export} {query}: {answer}");
            assert!(message.contains(says), "{export} {query}: {message}");
        }
    }
    assert_eq!(app.count("select count(*) from audit_log where action like 'export.%'").await, audited);

    // donors: a coordinator may export but not reveal; a treasurer reveals with a fresh code
    zbor_auth::add_user(
        &app.db.pool,
        &key,
        "coordinator@example.org",
        zbor_auth::Role::Coordinator,
        PASSWORD,
        &zbor_auth::Actor::CLI,
    )
    .await
    .unwrap();
    let login = reqwest::Client::new()
        .post(format!("{}/api/v1/session", app.base))
        .json(&json!({"email": "coordinator@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let coordinator = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let as_coordinator = vec![("cookie", coordinator)];
    let plain = get_csv(&app, &format!("/api/v1/exports/donations.csv?{period}"), &as_coordinator).await;
    assert_eq!((plain.status, plain.rows.len()), (200, 5));
    let (status, overview) = {
        let r = reqwest::Client::new()
            .get(format!("{}/api/v1/overview", app.base))
            .header("cookie", &as_coordinator[0].1)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 200, "{overview}");
    let reveal = format!("/api/v1/exports/donations.csv?{period}&reveal_donors=true");
    let refused = get_csv(&app, &reveal, &as_coordinator).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(!refused.body.contains("Jane"));

    let treasurer = treasurer(&app, &key, "treasurer@example.org").await;
    let as_treasurer = vec![("cookie", treasurer.cookie.clone())];
    let no_code = get_csv(&app, &reveal, &as_treasurer).await;
    assert_eq!(no_code.status, 400, "{}", no_code.body);
    assert!(no_code.body.contains("x-totp-code"), "{}", no_code.body);
    let wrong =
        get_csv(&app, &reveal, &[("cookie", treasurer.cookie.clone()), ("x-totp-code", "000000".into())])
            .await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(wrong.body.contains("bad_second_factor"), "{}", wrong.body);
    assert!(!wrong.body.contains("Jane"));
    let revealed = get_csv(
        &app,
        &reveal,
        &[("cookie", treasurer.cookie.clone()), ("x-totp-code", next_code(&treasurer))],
    )
    .await;
    assert_eq!(revealed.status, 200, "{}", revealed.body);
    let named: Vec<(&str, &str, &str)> = revealed
        .rows
        .iter()
        .filter(|r| !r["donor_name"].is_empty() || !r["donor_email"].is_empty())
        .map(|r| (r["amount"].as_str(), r["donor_name"].as_str(), r["donor_email"].as_str()))
        .collect();
    assert_eq!(
        named,
        [("1000.00", "Jane Donor", "jane@example.org")],
        "only the donor who chose to be named"
    );
    let reveals: Vec<(String, Value)> = sqlx::query_as(
        "select actor, details from audit_log where action = 'export.donations' and details->>'reveal_donors' = 'true'",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(reveals.len(), 1, "the reveal is audited, the refusals are not");
    assert_eq!(reveals[0].0, format!("user:{}", treasurer.id));
    assert_eq!(app.count("select count(*) from audit_log where details::text like '%Jane%'").await, 0);
    app.finish().await;
}
