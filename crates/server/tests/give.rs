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
