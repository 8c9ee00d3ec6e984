#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The donors' pages: in headless Chromium a donor gives with the keyboard only, in their own
//! language, and lands on Stripe Checkout (the simulator's) for exactly that amount, opened in
//! that language; the pages speak the visitor's language (switcher, cookie, Accept-Language),
//! escape campaign text, show the organisation, the receipt reference, and a page of their own
//! for unknown campaigns.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use zbor_i18n::{money, text, Lang};
use zbor_stripe_sim::{Config as SimConfig, Simulator};

/// A GET as a browser makes it: (status, headers, body).
async fn browse(url: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request =
        reqwest::Client::new().get(url).header("accept", "text/html,application/xhtml+xml,*/*;q=0.8");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

/// The text as the page writes it (HTML-escaped).
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn with_simulator() -> (Simulator, Running) {
    let sim = Simulator::start(
        SimConfig {
            api_key: "sk_test_give".into(),
            webhook_secret: WEBHOOK_SECRET.into(),
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let api_base = format!("{}/", sim.base_url);
    let app = start_with(Some(WEBHOOK_SECRET), |config| {
        config.stripe_secret_key = Some("sk_test_give".into());
        config.stripe_api_base = api_base;
        config.organisation.purpose = Some("We support political prisoners & their families.".into());
        config.organisation.contact = Some("help@fund.example".into());
        config.organisation.website = Some("https://fund.example/".into());
        config.organisation.legal_notice = Some("Fund for the Released e.V., Berlin, VR 12345".into());
        config.organisation.privacy_note = Some("We keep no data on anonymous donors.".into());
    })
    .await;
    (sim, app)
}

fn run_browser(script: &str, args: Vec<String>) -> Value {
    let output = Command::new("node").arg(script).args(&args).output().expect("node (deploy/browser.sh)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "browser: {stdout} {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(stdout.lines().find_map(|l| l.strip_prefix("DONE ")).expect("DONE line")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_donor_gives_with_the_keyboard_only_in_their_language_and_stripe_opens_in_it() {
    let (sim, app) = with_simulator().await;
    let campaign = json!({
        "slug": "release-123", "title": "Free them <script>alert(1)</script>", "currency": "EUR",
        "goal": "123000", "amount_per_beneficiary": "1000",
        "description": "For the \"123\" & their families", "suggested_amounts": ["10", "25", "1000"]
    });
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/give.mjs");
    // Belarusian (Stripe has no Belarusian page: `auto`), then German (Stripe's own)
    for (lang, stripe_locale) in [(Lang::Be, "auto"), (Lang::De, "de")] {
        let args =
            [&app.base, "release-123", "25.00", &sim.base_url, lang.code()].map(|s| s.to_string()).to_vec();
        let done = tokio::task::spawn_blocking(move || run_browser(script, args));
        let done = tokio::time::timeout(Duration::from_secs(90), done).await.unwrap().unwrap();
        let code = lang.code();
        assert_eq!(done["htmlLang"], code);
        assert_eq!(done["title"], "Free them <script>alert(1)</script>");
        assert_eq!(done["errors"], json!([]), "{code}");
        // suggested amounts as money in the language, whole amounts without a fraction
        let suggested: Vec<String> =
            ["10.00", "25.00", "1000.00"].iter().map(|a| money(lang, "EUR", a, true)).collect();
        assert_eq!(done["suggested"], json!(suggested), "{code}");
        let (_, totals) = app.get("/api/v1/campaigns/release-123/totals", None).await;
        let (raised, goal) = (totals["raised"].as_str().unwrap(), totals["goal"].as_str().unwrap());
        let progress =
            [("raised", money(lang, "EUR", raised, false)), ("goal", money(lang, "EUR", goal, false))];
        let progress: Vec<(&str, &str)> = progress.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(done["progress"], text(lang, "give-raised-of-goal", &progress), "{code}");
        // a wrong amount is answered in plain words from the catalogue, never the API's message
        assert_eq!(done["error"], text(lang, "give-error-format", &[]), "{code}");
        assert_eq!(done["invalid"], "true");
        // the chosen amount is marked for screen readers, and put in the field in the locale
        assert_eq!(done["pressed"], json!([["10.00", "false"], ["25.00", "true"], ["1000.00", "false"]]));
        assert_eq!(done["typed"], "25,00");
        assert_eq!(done["anonymous"], false);
        // every control reached by Tab showed a visible focus outline
        for focus in done["focusSeen"].as_array().unwrap() {
            assert_eq!(focus["visible"], true, "{code}: {focus}");
        }
        // Stripe's page: the amount as money, a way back to the give page
        assert_eq!(done["due"], "€25.00");
        assert_eq!(done["back"], "http://127.0.0.1:9/give/release-123"); // ZBOR_PUBLIC_URL in tests

        let sessions = sim.checkout_sessions();
        let session =
            sessions.iter().find(|s| done["url"].as_str().unwrap().contains(s["id"].as_str().unwrap()));
        let session = session.unwrap_or_else(|| panic!("no session for {done}"));
        assert_eq!(session["amount_total"], 2500);
        assert_eq!(session["metadata"]["zbor_anonymous"], "false");
        assert_eq!(session["locale"], stripe_locale, "{code}");
    }
    assert_eq!(sim.checkout_sessions().len(), 2);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_speak_the_visitors_language_and_remember_the_choice() {
    let (_sim, app) = with_simulator().await;
    let campaign = json!({
        "slug": "release-123", "title": "Free them <script>alert(1)</script>", "currency": "EUR",
        "goal": "123000", "description": "For the \"123\" & their families", "suggested_amounts": ["10", "1000"],
        "translations": {"be": {"title": "Вызваліце іх <b>усіх</b>"}}
    });
    // a translation is checked like the default text
    let mut bad = campaign.clone();
    bad["slug"] = json!("release-bad");
    bad["translations"] = json!({"fr": {"title": "Libérez-les"}});
    let (status, body) = app.post_json("/api/v1/campaigns", Some(TOKEN), &bad).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid_request")), "{body}");
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    let give = format!("{}/give/release-123", app.base);

    // no preference: English; campaign text escaped
    let (status, headers, html) = browse(&give, &[]).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<html lang="en">"#), "{html}");
    assert_eq!(header(&headers, "content-language"), "en");
    assert!(header(&headers, "vary").contains("Accept-Language"));
    assert!(!html.contains("<script>alert"), "campaign text must be escaped");
    assert!(html.contains("Free them &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("For the &quot;123&quot; &amp; their families"));
    assert!(html.contains(">€10</button>") && html.contains(">€1,000</button>"), "{html}");
    assert!(html.contains(&escaped(&text(Lang::En, "give-submit", &[]))));
    // the organisation, and who sees card details
    assert!(html.contains("Fund for the Released") && html.contains("help@fund.example"));
    assert!(html.contains("We support political prisoners &amp; their families."));
    assert!(html.contains("Fund for the Released e.V., Berlin, VR 12345"));
    assert!(html.contains(&escaped(&text(Lang::En, "stripe-note", &[("name", "Fund for the Released")]))));
    // share links: plain links, no third-party script
    assert!(
        html.contains("https://t.me/share/url?url=http%3A%2F%2F127.0.0.1%3A9%2Fgive%2Frelease-123"),
        "{html}"
    );
    assert!(html.contains("https://wa.me/?text=") && html.contains("mailto:?subject="));
    assert_eq!(html.matches("<script src=").count(), 2);
    assert!(!html.contains("<script src=\"http"));
    // the switcher: every language in its own words, the current one marked
    for lang in Lang::ALL {
        let code = lang.code();
        assert!(html.contains(&format!(r#"href="?lang={code}" hreflang="{code}" lang="{code}""#)), "{code}");
        assert!(html.contains(&text(lang, "language-name", &[])), "{code}");
    }
    assert!(html.contains(r#"lang="en" aria-current="true">English</a>"#));
    assert_eq!(html.matches("aria-current").count(), 1);

    // Accept-Language by q-value, a region matched to its language
    let (_, headers, html) = browse(&give, &[("accept-language", "fr;q=0.9, be-BY;q=0.95, en;q=0.5")]).await;
    assert!(html.contains(r#"<html lang="be">"#));
    assert_eq!(header(&headers, "content-language"), "be");
    assert!(html.contains(&escaped(&text(Lang::Be, "give-submit", &[]))));
    assert!(html.contains(">10\u{a0}€</button>") && html.contains(">1\u{a0}000\u{a0}€</button>"), "{html}");
    // the campaign's Belarusian title; no Belarusian description given: the default one
    assert!(html.contains("<h1>Вызваліце іх &lt;b&gt;усіх&lt;/b&gt;</h1>"), "{html}");
    assert!(html.contains("For the &quot;123&quot; &amp; their families"));
    assert!(headers.get("set-cookie").is_none(), "only a choice is remembered");

    // the switcher's choice wins over Accept-Language and is remembered
    let (_, headers, html) =
        browse(&format!("{give}?lang=pl&utm_source=x"), &[("accept-language", "be")]).await;
    assert!(html.contains(r#"<html lang="pl">"#));
    let cookie = header(&headers, "set-cookie");
    assert!(
        cookie.starts_with("zbor_lang=pl;") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let (_, _, html) = browse(&give, &[("accept-language", "be"), ("cookie", "other=1; zbor_lang=pl")]).await;
    assert!(html.contains(r#"<html lang="pl">"#));
    assert!(html.contains(&escaped(&text(Lang::Pl, "give-anonymous", &[]))));
    // the dashboard and the thank-you page follow the same choice
    let (_, _, html) =
        browse(&format!("{}/dashboard/release-123", app.base), &[("cookie", "zbor_lang=uk")]).await;
    assert!(html.contains(r#"<html lang="uk">"#));
    let title = text(Lang::Uk, "dashboard-title", &[("title", "Free them <script>alert(1)</script>")]);
    assert!(html.contains(&format!("<title>{}</title>", escaped(&title))), "{html}");
    let (_, _, html) =
        browse(&format!("{}/give/release-123/thanks", app.base), &[("accept-language", "lt")]).await;
    assert!(
        html.contains(r#"<html lang="lt">"#) && html.contains(&escaped(&text(Lang::Lt, "thanks-title", &[])))
    );

    // a closed campaign's page says so and offers no form
    assert_eq!(
        app.patch_json("/api/v1/campaigns/release-123", Some(TOKEN), &json!({"status": "closed"})).await.0,
        200
    );
    let (_, _, html) = browse(&give, &[("accept-language", "de")]).await;
    assert!(
        html.contains(&escaped(&text(Lang::De, "give-closed", &[]))) && html.contains("novalidate hidden")
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_thank_you_page_shows_the_receipt_reference_of_a_checkout_session() {
    let app = start(None).await;
    let campaign = json!({"slug": "release-123", "title": "Release", "currency": "EUR", "goal": "1000"});
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    let thanks = format!("{}/give/release-123/thanks", app.base);
    let session = "cs_test_a1b2c3d4e5";
    let reference = zbor_intake::receipt::reference(session).unwrap();
    let (status, _, html) =
        browse(&format!("{thanks}?session_id={session}"), &[("accept-language", "ru")]).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&escaped(&text(Lang::Ru, "thanks-receipt", &[("reference", &reference)]))),
        "{html}"
    );
    // the switcher keeps the session id, so the reference survives a change of language
    assert!(html.contains(&format!("?lang=be&amp;session_id={session}")));
    // anything that is not a Checkout Session id shows no reference at all
    for bogus in ["pi_123", "cs_", "cs_%3Cscript%3E", "x"] {
        let (status, _, html) = browse(&format!("{thanks}?session_id={bogus}"), &[]).await;
        assert_eq!(status, 200);
        assert!(!html.contains("ZB-") && !html.contains("session_id="), "{bogus}");
    }
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_campaigns_get_a_page_in_the_visitors_language_and_api_clients_json() {
    let app =
        start_with(None, |config| config.organisation.website = Some("https://fund.example/".into())).await;
    for path in ["/give/nope", "/give/nope/thanks", "/dashboard/nope", "/dashboard/%3Cscript%3E"] {
        let (status, headers, html) =
            browse(&format!("{}{path}", app.base), &[("accept-language", "be")]).await;
        assert_eq!(status, 404, "{path}");
        assert!(header(&headers, "content-type").starts_with("text/html"), "{path}");
        assert!(html.contains(r#"<html lang="be">"#), "{path}");
        assert!(html.contains(&escaped(&text(Lang::Be, "notfound-title", &[]))), "{path}");
        let way_on = text(Lang::Be, "notfound-home", &[("name", "Fund for the Released")]);
        assert!(
            html.contains(&format!(r#"<a href="https://fund.example/">{}</a>"#, escaped(&way_on))),
            "{html}"
        );
        // an API client keeps the JSON error
        let (status, body) = app.get(path, None).await;
        assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")), "{path}");
    }
    // the server's own address says what it is and whose, in the visitor's language
    let (status, _, html) = browse(&format!("{}/", app.base), &[("accept-language", "de-DE,de;q=0.9")]).await;
    assert_eq!(status, 200);
    assert!(html.contains(r#"<a href="https://fund.example/">"#), "{html}");
    assert!(html.contains(&escaped(&text(
        Lang::De,
        "notfound-root-body",
        &[("name", "Fund for the Released")]
    ))));
    app.finish().await;
}

const RECEIPT_EMAIL: &str = "receipt.reader@example.org";

/// Everything the server (and anything else in this test binary) logs, at every level: a test
/// reads it for what must never be logged. Installed once per test binary.
fn captured_logs() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        logs
    })
    .clone()
}

struct LogSink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The database's tables with a row whose text holds `needle` (none is the answer wanted).
async fn tables_holding(app: &Running, needle: &str) -> Vec<String> {
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables
         where table_schema = 'public' and table_type = 'BASE TABLE'",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert!(tables.len() > 10, "{tables:?}");
    let mut holding = Vec::new();
    for table in tables {
        let sql = format!("select count(*) from \"{table}\" t where row_to_json(t)::text ilike $1");
        let found: i64 =
            sqlx::query_scalar(&sql).bind(format!("%{needle}%")).fetch_one(&app.db.pool).await.unwrap();
        if found > 0 {
            holding.push(table);
        }
    }
    holding
}

/// Waits until `sql` counts `expected`.
async fn wait_for_count(app: &Running, sql: &str, expected: i64) {
    for _ in 0..200 {
        if app.count(sql).await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{sql}: {} rather than {expected}", app.count(sql).await);
}

/// Until every event the simulator made so far was acknowledged by zbor.
async fn wait_for_deliveries(sim: &Simulator) {
    for _ in 0..200 {
        let delivered = sim.deliveries();
        let all = sim
            .events()
            .iter()
            .all(|e| delivered.iter().any(|d| d.event_id == e["id"] && d.status == Some(200)));
        if all {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not every event was delivered: {:?}", sim.deliveries());
}

/// The simulator's Checkout Session whose page `url` is.
fn session_at(sim: &Simulator, url: &str) -> Value {
    let sessions = sim.checkout_sessions();
    let session = sessions.into_iter().find(|s| url.contains(s["id"].as_str().unwrap()));
    session.unwrap_or_else(|| panic!("no session at {url}"))
}

async fn monthly_browser(args: Vec<String>) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/monthly.mjs");
    let done = tokio::task::spawn_blocking(move || run_browser(script, args));
    tokio::time::timeout(Duration::from_secs(120), done).await.unwrap().unwrap()
}

async fn with_simulator_delivering() -> (Simulator, Running) {
    let (sim, app) = with_simulator().await;
    sim.set_webhook_url(Some(format!("{}/webhooks/stripe", app.base)));
    let campaign = json!({
        "slug": "release-123", "title": "Release", "currency": "EUR", "goal": "123000",
        "suggested_amounts": ["10", "25"]
    });
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    (sim, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monthly_donor_keeps_their_cancel_link_and_stops_the_gift_with_it() {
    let (sim, app) = with_simulator_delivering().await;
    for (lang, amount, cents) in [(Lang::Be, "15", 1500), (Lang::De, "20", 2000)] {
        let code = lang.code();
        let args = ["give", &app.base, "release-123", amount, code, &sim.base_url].map(String::from).to_vec();
        let done = monthly_browser(args).await;
        assert_eq!(done["errors"], json!([]), "{code}: {done}");
        assert_eq!(done["htmlLang"], code);
        assert_eq!(done["emailDisabledWhileAnonymous"], true, "anonymous by default: no email field");
        assert_eq!(done["legend"], text(lang, "give-frequency", &[]));
        assert_eq!(done["monthlyChecked"], true, "an arrow key chose monthly");

        // before Stripe: the form gone, the link to keep, focus on its heading
        assert_eq!(done["formHidden"], true);
        assert_eq!(done["focusAfterStep"], "monthly-heading");
        assert_eq!(done["heading"], text(lang, "give-monthly-link-heading", &[]));
        let link = done["link"].as_str().unwrap().to_owned();
        let prefix = format!("{}/monthly/cancel?lang={code}#zc_", app.base);
        assert!(link.starts_with(&prefix), "{link}");
        let token = link.split_once('#').unwrap().1.to_owned();
        assert_eq!(done["copied"], text(lang, "give-monthly-link-copied", &[]));
        assert_eq!(done["clipboard"], link.as_str());

        // the simulator's checkout: a monthly price, the link nowhere in what Stripe got
        let session = session_at(&sim, done["stripeUrl"].as_str().unwrap());
        assert_eq!((&session["mode"], &session["amount_total"]), (&json!("subscription"), &json!(cents)));
        assert_eq!(session["customer_email"], Value::Null, "anonymous: no email to Stripe");
        assert!(!session.to_string().contains(&token), "{session}");

        // the thank-you page of that checkout shows the link again, in another language too
        assert_eq!(done["thanksLink"], link.as_str());
        assert_eq!(done["thanksHeading"], text(lang, "give-monthly-link-heading", &[]));
        assert_eq!(done["afterSwitch"], link.as_str());

        // booked through the simulator's webhooks; zbor keeps the token's hash only
        let subscription = session["subscription"].as_str().unwrap().to_owned();
        let active = format!(
            "select count(*) from subscriptions where stripe_subscription_id = '{subscription}' and status = 'active'"
        );
        wait_for_count(&app, &active, 1).await;
        assert_eq!(tables_holding(&app, &token).await, Vec::<String>::new());

        // the link: stop the gift, then "manage" finds it stopped already
        let args = ["cancel", &link, code, "stop", "manage"].map(String::from).to_vec();
        let done = monthly_browser(args).await;
        assert_eq!(done["errors"], json!([]), "{code}: {done}");
        assert_eq!(
            (&done["htmlLang"], &done["title"]),
            (&json!(code), &json!(text(lang, "monthly-cancel-title", &[])))
        );
        assert_eq!(done["initial"]["actionsHidden"], false);
        for href in done["switcher"].as_array().unwrap() {
            assert!(
                href.as_str().unwrap().ends_with(&format!("#{token}")),
                "the switcher keeps the token: {href}"
            );
        }
        let (stopped, again) = (&done["presses"][0], &done["presses"][1]);
        assert_eq!(stopped["result"], text(lang, "monthly-cancel-done", &[]), "{done}");
        assert_eq!((&stopped["failed"], &stopped["actionsHidden"]), (&json!(false), &json!(true)));
        assert_eq!(stopped["focus"], "result");
        assert_eq!(again["result"], text(lang, "monthly-cancel-already", &[]), "{done}");
        assert_eq!(again["url"], link.as_str(), "no portal for a stopped gift");

        let canceled = format!(
            "select count(*) from subscriptions where stripe_subscription_id = '{subscription}' and status = 'canceled'"
        );
        assert_eq!(app.count(&canceled).await, 1);
        assert_eq!(sim.subscription(&subscription).unwrap()["status"], "canceled");
    }
    assert_eq!(app.count("select count(*) from audit_log where action = 'subscription.cancel'").await, 2);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cancel_page_answers_a_wrong_or_missing_token_in_the_visitors_language() {
    let (sim, app) = with_simulator_delivering().await;
    let wrong = format!("{}/monthly/cancel#zc_{}", app.base, "0".repeat(64));
    let missing = format!("{}/monthly/cancel", app.base);
    for lang in [Lang::Be, Lang::Lt] {
        let code = lang.code();
        let done =
            monthly_browser(["cancel", &wrong, code, "stop", "manage"].map(String::from).to_vec()).await;
        assert_eq!(done["errors"], json!([]), "{code}: {done}");
        assert_eq!(done["htmlLang"], code);
        for press in done["presses"].as_array().unwrap() {
            assert_eq!(press["result"], text(lang, "monthly-cancel-not-found", &[]), "{code}: {press}");
            assert_eq!((&press["failed"], &press["actionsHidden"]), (&json!(true), &json!(false)), "{press}");
            assert_eq!(press["focus"], press["button"], "the button pressed keeps the focus");
        }
        assert_ne!(
            text(lang, "monthly-cancel-not-found", &[]),
            text(Lang::En, "monthly-cancel-not-found", &[])
        );

        let done = monthly_browser(["cancel", &missing, code].map(String::from).to_vec()).await;
        assert_eq!(done["errors"], json!([]), "{code}: {done}");
        assert_eq!(done["initial"]["result"], text(lang, "monthly-cancel-no-token", &[]));
        assert_eq!(done["initial"]["actionsHidden"], true, "nothing to press without a token");
    }
    assert!(sim.api_requests().iter().all(|r| !r.path.contains("subscriptions")), "nothing asked of Stripe");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_email_goes_to_stripe_and_nowhere_in_zbor() {
    let logs = captured_logs();
    let (sim, app) = with_simulator_delivering().await;
    let args = ["give", &app.base, "release-123", "25", "pl", &sim.base_url, RECEIPT_EMAIL].map(String::from);
    let done = monthly_browser(args.to_vec()).await;
    assert_eq!(done["errors"], json!([]), "{done}");
    assert_eq!(done["emailDisabledWhileAnonymous"], true);
    // a wrong address is answered in plain words before anything is sent
    assert_eq!(done["emailError"], text(Lang::Pl, "give-error-email", &[]));
    assert_eq!(done["emailInvalid"], "true");
    assert_eq!(done["monthlyShown"], false, "a one-off gift has no cancel link");

    let session = session_at(&sim, done["stripeUrl"].as_str().unwrap());
    assert_eq!((&session["mode"], &session["amount_total"]), (&json!("payment"), &json!(2500)));
    assert_eq!(session["customer_email"], RECEIPT_EMAIL);
    assert_eq!(session["metadata"]["zbor_anonymous"], "false");
    let charge = sim.charge(session["payment_intent"].as_str().unwrap()).unwrap();
    assert_eq!(charge["receipt_email"], RECEIPT_EMAIL, "payment_intent_data.receipt_email");
    assert_eq!(sim.checkout_sessions().len(), 1, "the wrong address never reached Stripe");

    wait_for_count(&app, "select count(*) from donations where status = 'paid'", 1).await;
    wait_for_deliveries(&sim).await;
    assert_eq!(tables_holding(&app, RECEIPT_EMAIL).await, Vec::<String>::new());
    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("/api/v1/campaigns/release-123/checkout"), "the server's logs were captured");
    assert!(!logs.contains(RECEIPT_EMAIL), "the server logged the receipt email");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cancel_page_is_served_like_the_other_pages() {
    let app = start(None).await;
    let (_, other, _) = browse(&format!("{}/give/nope", app.base), &[]).await;
    let (status, headers, html) =
        browse(&format!("{}/monthly/cancel", app.base), &[("accept-language", "uk")]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-language"), "uk");
    assert!(html.contains(r#"<html lang="uk">"#));
    let csp = header(&headers, "content-security-policy");
    assert!(csp.starts_with("default-src 'self';"), "{csp}");
    assert_eq!(csp, header(&other, "content-security-policy"));
    assert_eq!(header(&headers, "referrer-policy"), "no-referrer");
    assert!(html.contains(r#"<meta name="robots" content="noindex">"#));
    assert!(html.contains(&format!("<h1>{}</h1>", escaped(&text(Lang::Uk, "monthly-cancel-title", &[])))));
    for id in ["monthly-cancel-stop", "monthly-cancel-manage"] {
        assert!(html.contains(&escaped(&text(Lang::Uk, id, &[]))), "{id}");
    }
    // its words for the script in the data block; its script served, none inline
    assert!(html.contains("monthly-cancel-not-found"));
    assert!(html.contains(r#"<script src="/assets/cancel.js" defer></script>"#));
    assert_eq!(html.matches("<script").count(), 3, "the data block, i18n.js, cancel.js");
    for script in ["/assets/cancel.js", "/assets/thanks.js"] {
        let (status, headers, body) = browse(&format!("{}{script}", app.base), &[]).await;
        assert_eq!((status, header(&headers, "content-type")), (200, "text/javascript; charset=utf-8"));
        assert!(body.starts_with("// "), "{script}");
    }
    app.finish().await;
}
