#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The treasurers' console, `/console`: a strict page (its own script and styles only, never
//! cached or framed), and in a real headless Chromium a third treasurer logs in with a code, finds
//! the batch awaiting her approval, approves it with a fresh code, and watches the payout workers
//! pay every item through the simulated Stripe. Needs Debian's chromium and `npm ci` in
//! tests/browser (deploy/test.sh).

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use common::treasury::*;
use common::*;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use zbor_auth::{totp, Role};
use zbor_stripe::{Stripe, StripeConfig};
use zbor_stripe_sim::{Config as SimConfig, Simulator};
use zbor_vault::DataKey;

const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const KEY: &str = "sk_test_console";
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn fetch(app: &Running, path: &str) -> reqwest::Response {
    reqwest::Client::new().get(format!("{}{path}", app.base)).send().await.unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).unwrap_or_else(|| panic!("no {name} header")).to_str().unwrap()
}

/// Every `<script` tag of `html` loads a file from this origin's /assets and holds no code, but
/// for the page's data block (JSON, which browsers never run); no element carries an event
/// handler or a style attribute; no inline style element.
fn assert_no_inline_code(html: &str) {
    let lower = html.to_ascii_lowercase();
    let mut sources = Vec::new();
    for (at, _) in lower.match_indices("<script") {
        let tag_end = at + lower[at..].find('>').unwrap();
        let tag = &lower[at..=tag_end];
        if tag == r#"<script type="application/json" id="page-data">"# {
            continue;
        }
        let source = tag.split(r#"src=""#).nth(1).and_then(|rest| rest.split('"').next()).unwrap_or(tag);
        sources.push(source.to_owned());
        assert!(lower[tag_end + 1..].starts_with("</script>"), "the script element has content: {tag}");
    }
    assert_eq!(sources, ["/assets/i18n.js", "/assets/console.js"]);
    for (at, _) in lower.match_indices(" on") {
        let name: String = lower[at + 1..].chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        assert!(!lower[at + 1 + name.len()..].starts_with('='), "an inline event handler: {name}");
    }
    assert!(!lower.contains("<style"), "an inline style element");
    assert!(!lower.contains(" style="), "an inline style attribute");
    assert!(!lower.contains("javascript:"));
    for (at, _) in lower.match_indices(" href=\"").chain(lower.match_indices(" src=\"")) {
        let url = &lower[at..][lower[at..].find('"').unwrap() + 1..];
        assert!(
            url.starts_with("/assets/console.")
                || url.starts_with("/assets/i18n.js")
                || url.starts_with("#/")
                || url.starts_with("?lang="),
            "{}",
            &url[..20.min(url.len())]
        );
    }
}

#[tokio::test]
async fn the_console_is_one_strict_page_and_the_api_wants_a_session() {
    let app = start_with(Some(WEBHOOK_SECRET), |c| c.data_key = Some(DATA_KEY.into())).await;

    let page = fetch(&app, "/console").await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "content-security-policy"), CSP);
    assert_eq!(header(&page, "cache-control"), "no-store");
    assert_eq!(header(&page, "x-frame-options"), "DENY");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert!(header(&page, "content-type").starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert_no_inline_code(&html);
    assert!(html.contains(r#"<link rel="stylesheet" href="/assets/console.css">"#));

    let script = fetch(&app, "/assets/console.js").await;
    assert_eq!(script.status(), 200);
    assert!(header(&script, "content-type").starts_with("text/javascript"));
    assert_eq!(header(&script, "cache-control"), "no-store");
    let script = script.text().await.unwrap();
    for never in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "/reveal"] {
        assert!(!script.contains(never), "the console's script uses {never}");
    }
    assert!(script.contains("X-CSRF-Token"));
    let styles = fetch(&app, "/assets/console.css").await;
    assert_eq!(styles.status(), 200);
    assert!(header(&styles, "content-type").starts_with("text/css"));

    // what the page meets before logging in: 401 with the error envelope
    for path in ["/api/v1/me", "/api/v1/payout-batches", "/api/v1/payout-batches/1", "/api/v1/payouts/switch"]
    {
        let (status, body) = app.get(path, None).await;
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")), "{path}: {body}");
    }
    let (status, body) = app
        .post_json("/api/v1/payout-batches/1/approvals", None, &json!({"content_hash": "x", "totp": "1"}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")), "{body}");
    app.finish().await;
}

/// A treasurer whose second factor is enrolled (a code of the previous step), not yet logged in:
/// the browser logs in with the current step's code.
async fn enrolled_treasurer(app: &Running, key: &DataKey, email: &str) -> (i64, Vec<u8>) {
    let user =
        zbor_auth::add_user(&app.db.pool, key, email, Role::Treasurer, PASSWORD, &zbor_auth::Actor::CLI)
            .await
            .unwrap();
    let enrolment = zbor_auth::begin_totp_enrolment(&app.db.pool, key, user.id).await.unwrap();
    let secret = totp::base32_decode(&enrolment.secret).unwrap();
    let earlier = Utc::now() - chrono::Duration::seconds(30);
    let code = totp::code(&secret, totp::step_at(earlier.timestamp()));
    zbor_auth::confirm_totp(&app.db.pool, key, user.id, &code, earlier).await.unwrap();
    (user.id.as_i64(), secret)
}

async fn line(lines: &mut mpsc::UnboundedReceiver<String>, seconds: u64) -> String {
    tokio::time::timeout(Duration::from_secs(seconds), lines.recv())
        .await
        .expect("the browser script printed nothing in time")
        .expect("the browser script ended early (its stderr is above)")
}

/// The next line, which must start with `prefix`; the rest of it.
async fn expect(lines: &mut mpsc::UnboundedReceiver<String>, prefix: &str) -> String {
    let line = line(lines, 60).await;
    line.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix(' '))
        .unwrap_or_else(|| panic!("expected {prefix}, the script printed: {line}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_treasurer_approves_in_the_browser_and_watches_every_item_get_paid() {
    let sim = Simulator::start(
        SimConfig { api_key: KEY.into(), ..SimConfig::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let app = start_with(Some(WEBHOOK_SECRET), |c| {
        c.data_key = Some(DATA_KEY.into());
        c.stripe_secret_key = Some(KEY.into());
        c.stripe_api_base = format!("{}/", sim.base_url);
    })
    .await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    let campaign =
        json!({"slug": "release-123", "title": "123 released", "currency": "EUR", "goal": "123000"});
    let (status, created) = app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await;
    assert_eq!(status, 201, "{created}");
    let campaign_id = zbor_campaigns::CampaignId::from_i64(created["id"].as_i64().unwrap());

    // EUR 3,000 arrived
    fund(&app.db.pool, "release-123", "3000").await;

    let mut accounts = BTreeSet::new();
    let mut items = Vec::new();
    for n in 0..3 {
        let account = format!("acct_1Pgaf{n}B7WZ01zgkW");
        let new = serde_json::from_value(json!({"name": format!("Person {n}"), "contact": "", "note": "",
            "method": {"kind": "stripe_connect", "account": account}}))
        .unwrap();
        let id = zbor_payouts::beneficiaries::create(&app.db.pool, &key, campaign_id, &new)
            .await
            .unwrap()
            .id
            .as_i64();
        accounts.insert(account);
        items.push(json!({"beneficiary": id, "amount": "1000"}));
    }

    let alice = treasurer(&app, &key, "alice@example.org").await;
    let bob = treasurer(&app, &key, "bob@example.org").await;
    let (carol, carol_secret) = enrolled_treasurer(&app, &key, "carol@example.org").await;

    confirm_all(&app.db.pool, campaign_id, bob.user()).await;
    // A creates the batch, B approves it: one approval more is needed
    let (status, batch) =
        post(&app, "/api/v1/campaigns/release-123/payout-batches", json!({"items": items}), &alice).await;
    assert_eq!(status, 201, "{batch}");
    let batch_id = batch["id"].as_i64().unwrap();
    let hash = batch["content_hash"].as_str().unwrap().to_owned();
    let approvals = format!("/api/v1/payout-batches/{batch_id}/approvals");
    let (status, answer) =
        post(&app, &approvals, json!({"content_hash": hash, "totp": next_code(&bob)}), &bob).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("approved")), "{answer}");
    // the page's cookie alone is not enough for a change: the CSRF token must come with it
    let response = reqwest::Client::new()
        .post(format!("{}{approvals}", app.base))
        .header("cookie", &alice.cookie)
        .json(&json!({"content_hash": hash, "totp": next_code(&alice)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "a change without X-CSRF-Token");

    // C's codes: this step's to log in, the next step's to approve (a code counts once)
    let step = totp::step_at(Utc::now().timestamp());
    let login_code = totp::code(&carol_secret, step);
    let approval_code = totp::code(&carol_secret, step + 1);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/console.mjs");
    let mut browser = Command::new("node")
        .args([
            script,
            &app.base,
            "carol@example.org",
            PASSWORD,
            &login_code,
            &approval_code,
            &batch_id.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node (deploy/test.sh installs the browser test's dependencies)");
    let stdout = browser.stdout.take().unwrap();
    let (sender, mut lines) = mpsc::unbounded_channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("browser: {line}");
            if sender.send(line).is_err() {
                break;
            }
        }
    });

    assert_eq!(expect(&mut lines, "UNAUTHENTICATED").await, "401");
    let error = expect(&mut lines, "LOGIN_ERROR").await;
    // the refusal in words, not as the API's code
    assert_eq!(error, "Log in failed: The email or password is wrong, or the account is locked.");
    assert_eq!(expect(&mut lines, "AWAITING").await, batch_id.to_string(), "the batch awaits C, and only it");
    assert_eq!(expect(&mut lines, "HASH").await, hash, "the page shows the hash A created and B signed");
    assert_eq!(expect(&mut lines, "COUNTS").await, "awaiting approval: 3");
    let refused = expect(&mut lines, "REFUSED").await;
    assert_eq!(refused, "refused The one-time code is wrong or was already used: wait for the next code.");
    let approved = expect(&mut lines, "APPROVED").await;
    assert!(approved.starts_with("released "), "{approved}");
    assert_eq!(expect(&mut lines, "MOVING").await, "3 approved");

    // released, nothing paid yet: the workers start only now
    assert_eq!(
        app.count(&format!(
            "select count(*) from payouts where batch_id = {batch_id} and status = 'approved'"
        ))
        .await,
        3
    );
    assert!(sim.transfers().is_empty());
    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let redis_client = redis::Client::open(redis_url).unwrap();
    let redis = redis::aio::ConnectionManager::new(redis_client.clone()).await.unwrap();
    let mut stripe_config = StripeConfig::new(KEY, sim.base_url.as_str());
    stripe_config.requests_per_second = 50;
    let workers = zbor_server::workers::Workers {
        pool: app.db.pool.clone(),
        streams: zbor_queue::Streams::new(redis, &app.redis_prefix),
        redis: redis_client,
        data_key: key.clone(),
        stripe: Some(Stripe::new(stripe_config).unwrap()),
        count: 2,
    };
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(zbor_server::workers::run(workers, stopped));

    assert_eq!(expect(&mut lines, "PAID").await, "3", "the page shows every item paid");
    let seen = expect(&mut lines, "SEEN").await;
    assert!(seen.split(',').any(|s| s == "approved") && seen.split(',').any(|s| s == "paid"), "{seen}");
    assert_eq!(expect(&mut lines, "POLLING").await, "stopped", "nothing moves: the page stops asking");
    assert_eq!(expect(&mut lines, "AWAITING_AFTER").await, "0");
    assert_eq!(expect(&mut lines, "AFTER_LOGOUT").await, "401", "logged out: the session is over");
    let done: Value = serde_json::from_str(&expect(&mut lines, "DONE").await).unwrap();
    let status = tokio::task::spawn_blocking(move || browser.wait().unwrap()).await.unwrap();
    assert!(status.success(), "the browser script failed");
    reader.join().unwrap();
    stop.send(true).unwrap();
    running.await.unwrap();

    assert_eq!(done["errors"], json!([]), "no script errors, no CSP violations");
    assert_eq!(done["counts"], "paid: 3");
    assert_eq!(done["status"], "approved", "the list shows the batch approved");
    let requests: Vec<&str> =
        done["requests"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(!requests.iter().any(|r| r.contains("/reveal")), "the console never reveals: {requests:?}");
    assert_eq!(requests.iter().filter(|r| **r == format!("POST {approvals}")).count(), 2, "{requests:?}");
    // after the approval: the view reloads, then refreshes each second until every item is paid
    let approved_at = requests.iter().rposition(|r| *r == format!("POST {approvals}")).unwrap();
    let batch_gets = format!("GET /api/v1/payout-batches/{batch_id}");
    let refreshes = requests[approved_at..].iter().filter(|r| **r == batch_gets).count();
    assert!(refreshes >= 2, "the batch view refreshed while items moved: {requests:?}");
    let text = done["text"].as_str().unwrap();
    assert!(text.contains(&hash), "{text}");
    assert!(text.contains(&format!("Signed in as user #{carol} (treasurer)")), "{text}");
    assert!(text.contains(&format!("2 of 2: #{}, #{carol} (you)", bob.id)), "{text}");
    for personal in ["Person", "acct_1Pgaf", "@example.org"] {
        assert!(!text.contains(personal), "the page shows {personal}: {text}");
    }
    // approvers see where the money goes, masked to its last four characters
    assert!(text.contains("Stripe Connect acct_****zgkW"), "{text}");

    // what the page showed is what happened: three transfers, three payouts paid, C's approval
    let transfers = sim.transfers();
    assert_eq!(transfers.len(), 3, "exactly one transfer per item");
    let destinations: BTreeSet<String> =
        transfers.iter().map(|t| t["destination"].as_str().unwrap().to_owned()).collect();
    assert_eq!(destinations, accounts);
    for transfer in &transfers {
        assert_eq!(
            (transfer["amount"].as_i64(), transfer["currency"].as_str()),
            (Some(100_000), Some("eur"))
        );
    }
    assert_eq!(
        app.count(&format!("select count(*) from payouts where batch_id = {batch_id} and status = 'paid'"))
            .await,
        3
    );
    let (status, shown) = app.get(&format!("/api/v1/payout-batches/{batch_id}"), Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!((&shown["status"], &shown["counts"]), (&json!("approved"), &json!({"paid": 3})), "{shown}");
    assert_eq!(shown["approvals"], json!([bob.id, carol]));
    let released = zbor_audit::recent(&app.db.pool, 100)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.action == "payout_batch.approve_released")
        .expect("C's approval is in the audit log");
    assert_eq!(released.actor, format!("user:{carol}"));
    let mut conn = app.db.pool.acquire().await.unwrap();
    let campaign_account = zbor_ledger::account_by_code(&mut *conn, "campaign:release-123").await.unwrap();
    assert_eq!(zbor_ledger::balance(&mut conn, campaign_account.id).await.unwrap().posted, eur("0"));
    drop(conn);
    app.finish().await;
}

/// A treasurer confirms new payees in the browser: the destinations others set, masked, with
/// the warnings approvers need; her own stays for someone else; a wrong code confirms nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_treasurer_confirms_new_payees_in_the_browser() {
    let app = start_with(Some(WEBHOOK_SECRET), |c| c.data_key = Some(DATA_KEY.into())).await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    let campaign = json!({"slug": "release-123", "title": "Release", "currency": "EUR", "goal": "123000"});
    let (_, created) = app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await;
    let campaign_id = zbor_campaigns::CampaignId::from_i64(created["id"].as_i64().unwrap());
    let (alice, alice_secret) = enrolled_treasurer(&app, &key, "alice@example.org").await;
    let (dave, _) = enrolled_treasurer(&app, &key, "dave@example.org").await;
    let mut ids = Vec::new();
    for (by, method) in [
        (dave, json!({"kind": "sepa", "iban": "LT121000011101001000"})),
        (dave, json!({"kind": "stripe_connect", "account": "acct_1Pgaf0B7WZ01zgkW"})),
        (alice, json!({"kind": "manual"})),
    ] {
        let new = serde_json::from_value(json!({"name": "Released person", "method": method})).unwrap();
        let mut db = app.db.pool.begin().await.unwrap();
        let made = zbor_payouts::beneficiaries::create_in(
            &mut db,
            &key,
            campaign_id,
            &new,
            &zbor_audit::Actor::user(zbor_auth::UserId::from_i64(by)),
        )
        .await
        .unwrap();
        db.commit().await.unwrap();
        ids.push(made.id.as_i64());
    }

    let step = totp::step_at(Utc::now().timestamp());
    let (login_code, confirm_code) = (totp::code(&alice_secret, step), totp::code(&alice_secret, step + 1));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/console_payees.mjs");
    let mut browser = Command::new("node")
        .args([script, &app.base, "alice@example.org", PASSWORD, &login_code, &confirm_code])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node (deploy/test.sh installs the browser test's dependencies)");
    let stdout = browser.stdout.take().unwrap();
    let (sender, mut lines) = mpsc::unbounded_channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("browser: {line}");
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let all = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(" ");
    assert_eq!(expect(&mut lines, "PAYEES").await, all);
    assert_eq!(expect(&mut lines, "OWN").await, ids[2].to_string(), "her own payee cannot be ticked");
    let refused = expect(&mut lines, "REFUSED").await;
    assert!(refused.contains("one-time code is wrong"), "{refused}");
    assert!(expect(&mut lines, "CONFIRMED").await.contains("Confirmed 2 destination(s)"));
    assert_eq!(expect(&mut lines, "LEFT").await, ids[2].to_string());
    let done: Value = serde_json::from_str(&expect(&mut lines, "DONE").await).unwrap();
    assert_eq!(done["errors"], json!([]), "no script error, no CSP violation");
    let text = done["text"].as_str().unwrap();
    assert!(text.contains("SEPA **** 1000") && text.contains("Stripe Connect acct_****zgkW"), "{text}");
    for secret in ["LT12", "1000011101", "acct_1Pgaf", "Released person"] {
        assert!(!text.contains(secret), "the page shows {secret}: {text}");
    }
    assert!(browser.wait().unwrap().success());
    reader.join().unwrap();

    let confirmed: Vec<(i64, Option<i64>)> =
        sqlx::query_as("select id, destination_confirmed_by from beneficiaries order by id")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(confirmed, vec![(ids[0], Some(alice)), (ids[1], Some(alice)), (ids[2], None)]);
    assert_eq!(
        app.count("select count(*) from audit_log where action = 'beneficiary.confirm_destination'").await,
        2
    );
    app.finish().await;
}

/// A new treasurer's first log in: no code yet, so the console shows the authenticator's QR code
/// (an SVG drawn by the server, of the `otpauth://` address the API returned, rendered by the
/// browser under the page's CSP) and the secret as text; the app's first code enrols her and
/// she is in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_treasurer_enrols_her_authenticator_app_from_the_qr_code() {
    let app = start_with(Some(WEBHOOK_SECRET), |c| c.data_key = Some(DATA_KEY.into())).await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    let user = zbor_auth::add_user(
        &app.db.pool,
        &key,
        "erin@example.org",
        Role::Treasurer,
        PASSWORD,
        &zbor_auth::Actor::CLI,
    )
    .await
    .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/console_enrol.mjs");
    let mut browser = Command::new("node")
        .args([script, &app.base, "erin@example.org", PASSWORD])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node (deploy/test.sh installs the browser test's dependencies)");
    let stdout = browser.stdout.take().unwrap();
    let (sender, mut lines) = mpsc::unbounded_channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("browser: {}", line.chars().take(300).collect::<String>());
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let api: Value = serde_json::from_str(&expect(&mut lines, "API").await).unwrap();
    let (secret, uri) = (api["secret"].as_str().unwrap(), api["otpauth_uri"].as_str().unwrap());
    assert!(uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")), "{uri}");
    let shown: Value = serde_json::from_str(&expect(&mut lines, "SHOWN").await).unwrap();
    assert_eq!(shown["secret"].as_str(), Some(secret), "the page shows the secret the API made");
    assert_eq!(shown["prefix"].as_str(), Some("data:image/svg+xml;charset=utf-8,"));
    let svg = shown["svg"].as_str().unwrap();
    assert!(svg.contains("<svg") && svg.contains("<path"), "{svg}");
    // the image is the QR code of exactly that address (the rendering is deterministic)
    assert_eq!(svg, zbor_server::qr::svg(uri).unwrap());
    assert_eq!(api["qr_svg"].as_str(), Some(svg));
    assert!(shown["width"].as_u64().unwrap() >= 240, "the browser drew it: {shown}");
    assert!(expect(&mut lines, "ENROLLED").await.contains("Payout batches"));
    let done: Value = serde_json::from_str(&expect(&mut lines, "DONE").await).unwrap();
    assert_eq!(done["errors"], json!([]), "no script error, no CSP violation");
    assert!(browser.wait().unwrap().success());
    reader.join().unwrap();

    let enrolled: bool = sqlx::query_scalar("select totp_enrolled_at is not null from users where id = $1")
        .bind(user.id.as_i64())
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(enrolled, "her second factor is enrolled");
    app.finish().await;
}

// ---- the console in the visitor's language ----

/// Latin-letter words a Belarusian console may show: names of systems, formats and apps, written
/// so in every language. Anything else in Latin letters is English left behind.
const NAMES: &[&str] = &[
    "zbor",
    "SEPA",
    "Stripe",
    "Connect",
    "IBAN",
    "camt",
    "xml",
    "pain",
    "QR",
    "Aegis",
    "FreeOTP",
    "Google",
    "Authenticator",
];

/// The words of `text` in Latin letters (two or more) that are not [`NAMES`].
fn latin_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 2 && !NAMES.contains(w))
        .map(str::to_owned)
        .collect()
}

/// What a reader of `html` is shown: its text and the attributes read out or displayed (alt,
/// title, placeholder, aria-label), without the scripts, the comments, and the language switcher
/// (which names each language in its own words).
fn visible_text(html: &str) -> String {
    let mut rest = html.to_owned();
    for (open, close) in [("<script", "</script>"), ("<!--", "-->"), (r#"<nav class="languages""#, "</nav>")]
    {
        while let Some(start) = rest.find(open) {
            let end = start + rest[start..].find(close).unwrap() + close.len();
            rest.replace_range(start..end, " ");
        }
    }
    let mut shown = String::new();
    let mut tags = rest.split('<');
    shown.push_str(tags.next().unwrap_or_default());
    for piece in tags {
        let (tag, text) = piece.split_once('>').unwrap();
        for attribute in ["alt", "title", "placeholder", "aria-label"] {
            if let Some(value) = tag.split(&format!(" {attribute}=\"")).nth(1) {
                shown.push(' ');
                shown.push_str(value.split('"').next().unwrap());
            }
        }
        shown.push(' ');
        shown.push_str(text);
    }
    for (entity, c) in [("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'")] {
        shown = shown.replace(entity, c);
    }
    shown
}

/// The text of every string literal in a script (for a template literal, its text between the
/// `${…}`), found by a small lexer that knows comments, strings, templates and regular
/// expressions.
fn string_literals(js: &str) -> Vec<String> {
    let chars: Vec<char> = js.chars().collect();
    let mut literals = Vec::new();
    // the braces of code inside templates' `${…}`: at depth 0 a `}` returns to the template
    let mut template_depths: Vec<usize> = Vec::new();
    let mut depth = 0;
    let mut last = '(';
    let mut i = 0;
    let template = |i: &mut usize, literals: &mut Vec<String>, template_depths: &mut Vec<usize>, depth| {
        // in a template from chars[*i]: up to its end or to a `${`
        let mut text = String::new();
        while *i < chars.len() {
            match chars[*i] {
                '\\' => {
                    text.push(chars[*i + 1]);
                    *i += 2;
                }
                '`' => {
                    *i += 1;
                    break;
                }
                '$' if chars.get(*i + 1) == Some(&'{') => {
                    *i += 2;
                    template_depths.push(depth);
                    break;
                }
                c => {
                    text.push(c);
                    *i += 1;
                }
            }
        }
        literals.push(text);
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
                continue;
            }
            '/' if "(,=:[!&|?{};".contains(last) => {
                // a regular expression: to its closing slash, outside a character class
                let mut class = false;
                i += 1;
                while chars[i] != '/' || class {
                    match chars[i] {
                        '\\' => i += 1,
                        '[' => class = true,
                        ']' => class = false,
                        _ => {}
                    }
                    i += 1;
                }
            }
            '"' | '\'' => {
                let mut text = String::new();
                i += 1;
                while chars[i] != c {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    text.push(chars[i]);
                    i += 1;
                }
                literals.push(text);
            }
            '`' => {
                i += 1;
                template(&mut i, &mut literals, &mut template_depths, depth);
                last = '`';
                continue;
            }
            '{' => depth += 1,
            '}' if template_depths.last() == Some(&depth) => {
                template_depths.pop();
                i += 1;
                template(&mut i, &mut literals, &mut template_depths, depth);
                last = '`';
                continue;
            }
            '}' => depth -= 1,
            _ => {}
        }
        if !c.is_whitespace() {
            last = c;
        }
        i += 1;
    }
    literals
}

/// A literal that reads as words for people: a capitalised word, or two lower-case words in a
/// row. The script's other literals are ids, codes, paths, headers and class names
/// (`application/json`, `X-CSRF-Token`, `console-login`, `awaiting_approval`).
fn is_prose(literal: &str) -> bool {
    let words: Vec<&str> =
        literal.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric())).collect();
    let capitalised = |w: &&str| {
        w.len() >= 2
            && w.starts_with(|c: char| c.is_ascii_uppercase())
            && w[1..].chars().all(|c| c.is_ascii_lowercase())
    };
    let lower = |w: &&str| w.len() >= 2 && w.chars().all(|c| c.is_ascii_lowercase());
    words.iter().any(capitalised) || words.windows(2).any(|pair| pair.iter().all(lower))
}

#[test]
fn the_lexer_finds_what_a_person_would_read() {
    let js = r#"say(x, "Log in failed: " + e); // "a comment"
        const r = /"[a-z/]"/g; /* it's */ el("li", `${n} items`, { class: "state state-" });
        t("console-ok", { id }); confirm(`Cancel #${id}?`); b = "Retry"; h = { Accept: "application/json" };
        x = `a${`b${c}`}d`; y = "X-CSRF-Token"; z = ["no-store", "awaiting_approval", "(you)"];"#;
    let literals = string_literals(js);
    assert_eq!(
        literals,
        [
            "Log in failed: ",
            "li",
            "",
            " items",
            "state state-",
            "console-ok",
            "Cancel #",
            "?",
            "Retry",
            "application/json",
            "a",
            "b",
            "",
            "d",
            "X-CSRF-Token",
            "no-store",
            "awaiting_approval",
            "(you)"
        ]
    );
    let prose: Vec<&String> = literals.iter().filter(|l| is_prose(l)).collect();
    assert_eq!(prose, ["Log in failed: ", "state state-", "Cancel #", "Retry"]);
}

/// The page and its script hold no English of their own: in Belarusian the page shows no Latin
/// word but names, its data block neither; the script's literals are no prose, and every message
/// it asks for is in the catalogue. Each language is chosen as on the pages, and said so.
#[tokio::test]
async fn the_console_is_in_the_visitors_language_and_its_files_hold_no_english() {
    use zbor_i18n::{text, Catalogue, Lang};
    let app = start_with(Some(WEBHOOK_SECRET), |_| {}).await;

    let page = fetch(&app, "/console?lang=be").await;
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "content-security-policy"), CSP, "the console keeps its strict policy");
    assert_eq!(header(&page, "cache-control"), "no-store");
    assert_eq!(header(&page, "content-language"), "be");
    let vary = header(&page, "vary");
    assert!(vary.contains("Cookie") && vary.contains("Accept-Language"), "{vary}");
    let cookie = header(&page, "set-cookie");
    assert!(cookie.starts_with("zbor_lang=be;") && cookie.contains("SameSite=Lax"), "{cookie}");
    let html = page.text().await.unwrap();
    assert_no_inline_code(&html);
    assert!(html.starts_with("<!doctype html>\n<html lang=\"be\">"));
    assert!(!html.contains("{{"), "a placeholder is left");
    assert!(html.contains(&format!("<h1>{}</h1>", text(Lang::Be, "console-login", &[]))));
    assert!(html.contains(r#"<a href="?lang=en" hreflang="en" lang="en">English</a>"#), "the switcher");
    let shown = visible_text(&html);
    assert!(shown.contains("Пакеты выплат"), "{shown}");
    assert_eq!(latin_words(&shown), Vec::<String>::new(), "English in the Belarusian page");

    // the data block: every console message, in Belarusian, and the money styles
    let block = html.split(r#"<script type="application/json" id="page-data">"#).nth(1).unwrap();
    let data: Value = serde_json::from_str(block.split("</script>").next().unwrap()).unwrap();
    assert_eq!(data["lang"], "be");
    assert_eq!(data["moneyStyles"]["EUR"], json!(zbor_i18n::money_style(Lang::Be, "EUR")));
    assert_eq!(data["moneyStyles"]["PLN"], json!(zbor_i18n::money_style(Lang::Be, "PLN")));
    let messages = data["messages"].as_object().unwrap();
    assert_eq!(messages.len(), zbor_i18n::templates(Lang::En, Catalogue::Console).len());
    for (id, message) in messages {
        let words: String = message
            .as_str()
            .unwrap()
            .split('{')
            .map(|part| part.split_once('}').map_or(part, |(_, rest)| rest))
            .collect();
        assert_eq!(latin_words(&words), Vec::<String>::new(), "{id} in Belarusian: {message}");
    }
    assert_eq!(messages["console-approvals-of"], "{given} з {required}");

    // the script: no prose, and only messages the catalogue has
    let script = fetch(&app, "/assets/console.js").await.text().await.unwrap();
    let literals = string_literals(&script);
    assert!(literals.len() > 100, "the lexer lost its way: {literals:?}");
    // ("use strict" is a directive to the browser, not text)
    let prose: Vec<&String> = literals.iter().filter(|l| is_prose(l) && *l != "use strict").collect();
    assert_eq!(prose, Vec::<&String>::new(), "English in console.js");
    let english = zbor_i18n::templates(Lang::En, Catalogue::Console);
    let asked: Vec<&String> =
        literals.iter().filter(|l| l.starts_with("console-") && !l.ends_with('-')).collect();
    assert!(asked.len() > 40, "{asked:?}");
    for id in asked {
        assert!(
            english.iter().any(|(known, _)| known == id),
            "console.js asks for {id}, which no catalogue has"
        );
    }

    // chosen as the pages choose: the cookie, then Accept-Language, then English
    for (headers, lang) in [
        (vec![("cookie", "zbor_lang=uk"), ("accept-language", "de")], Lang::Uk),
        (vec![("accept-language", "lt-LT,lt;q=0.9,en;q=0.5")], Lang::Lt),
        (vec![("accept-language", "fr")], Lang::En),
    ] {
        let mut request = reqwest::Client::new().get(format!("{}/console", app.base));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let page = request.send().await.unwrap();
        assert_eq!(header(&page, "content-language"), lang.code());
        assert!(page.headers().get("set-cookie").is_none(), "only a choice in the switcher is remembered");
        let html = page.text().await.unwrap();
        assert!(html.contains(&format!("<html lang=\"{}\">", lang.code())));
        assert!(html.contains(&format!("<title>{}</title>", text(lang, "console-title", &[]))));
        assert!(!html.contains("{{"), "{}: a placeholder is left", lang.code());
    }
    app.finish().await;
}

/// In Chromium set to Belarusian, a third treasurer logs in and approves; in one set to Polish,
/// a fourth finds the batch approved. Each sees the catalogue's words, money in the locale's
/// format, and (in Belarusian) no Latin word but names anywhere on the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn treasurers_log_in_and_approve_in_belarusian_and_polish() {
    use zbor_i18n::{money, text, Lang};
    let app = start_with(Some(WEBHOOK_SECRET), |c| c.data_key = Some(DATA_KEY.into())).await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    let campaign = json!({"slug": "release-123", "title": "Release", "currency": "EUR", "goal": "123000"});
    let (_, created) = app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await;
    let campaign_id = zbor_campaigns::CampaignId::from_i64(created["id"].as_i64().unwrap());
    fund(&app.db.pool, "release-123", "3000").await;
    let new = serde_json::from_value(json!({"name": "Person", "contact": "", "note": "",
        "method": {"kind": "stripe_connect", "account": "acct_1Pgaf0B7WZ01zgkW"}}))
    .unwrap();
    let beneficiary =
        zbor_payouts::beneficiaries::create(&app.db.pool, &key, campaign_id, &new).await.unwrap().id.as_i64();
    let alice = treasurer(&app, &key, "alice@example.org").await;
    let bob = treasurer(&app, &key, "bob@example.org").await;
    let (carol, carol_secret) = enrolled_treasurer(&app, &key, "carol@example.org").await;
    let (dave, dave_secret) = enrolled_treasurer(&app, &key, "dave@example.org").await;
    confirm_all(&app.db.pool, campaign_id, bob.user()).await;
    let items = json!({"items": [{"beneficiary": beneficiary, "amount": "1234.5"}]});
    let (status, batch) = post(&app, "/api/v1/campaigns/release-123/payout-batches", items, &alice).await;
    assert_eq!(status, 201, "{batch}");
    let batch_id = batch["id"].as_i64().unwrap();
    let approvals = format!("/api/v1/payout-batches/{batch_id}/approvals");
    let hash = batch["content_hash"].as_str().unwrap();
    let (status, _) =
        post(&app, &approvals, json!({"content_hash": hash, "totp": next_code(&bob)}), &bob).await;
    assert_eq!(status, 200);

    let step = totp::step_at(Utc::now().timestamp());
    let runs = json!([
        {"lang": "be", "email": "carol@example.org", "password": PASSWORD,
         "loginCode": totp::code(&carol_secret, step), "approvalCode": totp::code(&carol_secret, step + 1)},
        {"lang": "pl", "email": "dave@example.org", "password": PASSWORD,
         "loginCode": totp::code(&dave_secret, step), "approvalCode": null},
    ]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/console_i18n.mjs");
    let runs = runs.to_string();
    let base = app.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node").args([script, &base, &batch_id.to_string(), &runs]).output()
    });
    let output =
        tokio::time::timeout(Duration::from_secs(120), output).await.unwrap().unwrap().expect("node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "browser: {stdout} {}", String::from_utf8_lossy(&output.stderr));
    let seen: Vec<Value> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("RUN "))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(seen.len(), 2, "{stdout}");

    // C finds the batch awaiting her (B has approved it), D finds it approved by then
    for (seen, lang, me, listed, given) in [
        (&seen[0], Lang::Be, carol, "console-status-awaiting_approval", "1"),
        (&seen[1], Lang::Pl, dave, "console-status-approved", "2"),
    ] {
        let t = |id: &str, args: &[(&str, &str)]| text(lang, id, args);
        let code = lang.code();
        assert_eq!(seen["errors"], json!([]), "{code}: no script error, no CSP violation");
        assert_eq!(seen["htmlLang"], code);
        assert_eq!(seen["title"], t("console-title", &[]));
        assert_eq!(seen["loginHeading"], t("console-login", &[]));
        let refused = t("console-error-bad_credentials", &[]);
        assert_eq!(seen["loginError"], t("console-login-failed", &[("reason", &refused)]));
        assert_eq!(seen["batchesHeading"], t("console-batches-heading", &[]));
        let (me, role) = (me.to_string(), t("console-role-treasurer", &[]));
        assert_eq!(seen["who"], t("console-signed-in", &[("id", &me), ("role", &role)]));
        assert_eq!(seen["switchState"], t("console-switch-running", &[]));
        let total = money(lang, "EUR", "1234.50", false);
        assert_eq!(
            seen["listed"],
            json!([
                t("console-batch-link", &[("id", &batch_id.to_string())]),
                "release-123",
                t(listed, &[]),
                total,
                "1",
                "1",
                t("console-approvals-of", &[("given", given), ("required", "2")]),
                format!("#{}", alice.id),
            ]),
            "{code}: the batch in the list"
        );
        assert_eq!(seen["batchHeading"], t("console-batch-heading", &[("id", &batch_id.to_string())]));
        assert_eq!(seen["status"], t("console-status-approved", &[]));
        assert_eq!(seen["total"], t("console-batch-total", &[("total", &total), ("count", "1")]));
        let approved = t("console-state-approved", &[]);
        assert_eq!(seen["counts"], json!([t("console-count", &[("state", &approved), ("count", "1")])]));
        let item = seen["item"].as_array().unwrap();
        assert_eq!(item[2], "Stripe Connect acct_****zgkW", "{code}");
        assert_eq!(item[3], total);
        assert_eq!(item[4], approved);
    }
    // Belarusian: the approval, in its words, and nothing English anywhere on the page
    assert_eq!(seen[0]["outcome"], "released");
    assert_eq!(seen[0]["approveResult"], text(Lang::Be, "console-approved-released", &[]));
    assert_eq!(seen[0]["approvals"], format!("2 з 2: #{}, #{carol} (вы)", bob.id));
    assert_eq!(seen[0]["total"], "1\u{a0}234,50\u{a0}€, пазіцый: 1");
    let shown = seen[0]["text"].as_str().unwrap();
    assert!(shown.contains("Пакет") && shown.contains("скарбнік"), "{shown}");
    // the data shown is no one's words: the campaign's slug, the hash, the masked account
    let words = shown.replace("release-123", "").replace(hash, "").replace("acct_****zgkW", "");
    assert_eq!(latin_words(&words), Vec::<String>::new(), "English in the Belarusian console: {shown}");
    // Polish: the words are Polish, the grouping is Polish (no separator below 10 000)
    assert_eq!(seen[1]["status"], "zatwierdzona");
    assert_eq!(seen[1]["total"], "1234,50\u{a0}€, pozycje: 1");
    app.finish().await;
}
