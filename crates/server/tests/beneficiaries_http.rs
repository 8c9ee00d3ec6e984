#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Beneficiaries over HTTP: created, listed and changed without a personal value leaving the
//! server; revealed only to a treasurer, audited first; imported all or nothing; duplicate IBANs
//! flagged; nothing works without ZBOR_DATA_KEY.

mod common;

use common::treasury::*;
use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use zbor_vault::DataKey;

const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const NAME: &str = "Алесь Бяляцкі";
const CONTACT: &str = "+375 29 111 22 33";
const NOTE: &str = "released in September";
const IBAN: &str = "DE89370400440532013000";
const NEW_IBAN: &str = "DE02120300000000202051";
/// What must never appear outside the reveal answer: the name, contact, note and account digits.
const SECRETS: [&str; 6] = [NAME, CONTACT, NOTE, "370400440532013000", "120300000000202051", "COBADEFF"];

/// A request as the console makes it: session cookie and CSRF token.
async fn call(
    app: &Running,
    method: Method,
    path: &str,
    body: Option<Value>,
    who: &Treasurer,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", app.base))
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn json_of(response: reqwest::Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, text, value)
}

async fn import(app: &Running, slug: &str, csv: &str, who: &Treasurer) -> (u16, String, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/campaigns/{slug}/beneficiaries/import", app.base))
        .header("cookie", &who.cookie)
        .header("x-csrf-token", &who.csrf)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    json_of(response).await
}

async fn campaign(app: &Running, slug: &str) -> i64 {
    let body = json!({"slug": slug, "title": "Release", "currency": "EUR", "goal": "123000"});
    let (status, created) = app.post_json("/api/v1/campaigns", Some(TOKEN), &body).await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_i64().unwrap()
}

async fn audit_rows(app: &Running, action: &str) -> Vec<(String, Option<String>, Value)> {
    sqlx::query_as("select actor, subject, details from audit_log where action = $1 order by seq")
        .bind(action)
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
}

fn assert_no_secret(text: &str, what: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret}: {text}");
    }
}

async fn start_app() -> (Running, Treasurer) {
    let app = start_with(Some(WEBHOOK_SECRET), |c| c.data_key = Some(DATA_KEY.into())).await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    let alice = treasurer(&app, &key, "alice@example.org").await;
    (app, alice)
}

#[tokio::test]
async fn created_listed_revealed_and_updated_without_personal_values_leaking() {
    let (app, alice) = start_app().await;
    let campaign_id = campaign(&app, "release-123").await;
    let new = json!({
        "name": NAME,
        "contact": CONTACT,
        "note": NOTE,
        "method": {"kind": "sepa", "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX"},
    });
    let path = "/api/v1/campaigns/release-123/beneficiaries";
    let (status, text, created) = json_of(call(&app, Method::POST, path, Some(new), &alice).await).await;
    assert_eq!(status, 201, "{text}");
    assert_no_secret(&text, "the created view");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["campaign_id"], campaign_id);
    assert_eq!(created["method"], "sepa");
    assert_eq!(created["masked"], "**** 3000");
    assert_eq!(created["duplicate_of"], json!([]));
    let fingerprint = created["payee_fingerprint"].as_str().unwrap().to_owned();
    assert_eq!(fingerprint.len(), 64);

    // the list: the treasurer and an admin see it, without any personal value
    let (status, text, listed) = json_of(call(&app, Method::GET, path, None, &alice).await).await;
    assert_eq!(status, 200, "{text}");
    assert_no_secret(&text, "the list");
    assert_eq!(listed["beneficiaries"].as_array().unwrap().len(), 1);
    assert_eq!(listed["beneficiaries"][0]["id"], id);
    assert_eq!(listed["beneficiaries"][0]["masked"], "**** 3000");
    let (status, by_admin) = app.get(path, Some(TOKEN)).await;
    assert_eq!((status, by_admin["beneficiaries"][0]["id"].as_i64()), (200, Some(id)), "{by_admin}");
    assert!(audit_rows(&app, "beneficiary.list").await.is_empty());

    // reveal: a fresh code first (a wrong one reveals nothing and is counted)
    let reveal = format!("/api/v1/beneficiaries/{id}/reveal");
    let (status, text, _) =
        json_of(call(&app, Method::POST, &reveal, Some(json!({"totp": "000000"})), &alice).await).await;
    assert_eq!(status, 401, "{text}");
    assert!(!text.contains(NAME), "{text}");
    assert!(audit_rows(&app, "beneficiary.reveal").await.is_empty());
    // then the exact values, never cached, audited once without them
    let response = call(&app, Method::POST, &reveal, Some(json!({"totp": next_code(&alice)})), &alice).await;
    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, text, revealed) = json_of(response).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(revealed["id"], id);
    assert_eq!(revealed["name"], NAME);
    assert_eq!(revealed["contact"], CONTACT);
    assert_eq!(revealed["note"], NOTE);
    assert_eq!(revealed["method"]["kind"], "sepa");
    assert_eq!(revealed["method"]["iban"], IBAN);
    assert_eq!(revealed["method"]["bic"], "COBADEFFXXX");
    assert_eq!(revealed["payee_fingerprint"], fingerprint.as_str());
    let reveals = audit_rows(&app, "beneficiary.reveal").await;
    assert_eq!(reveals.len(), 1, "{reveals:?}");
    let (actor, subject, details) = &reveals[0];
    assert_eq!(actor, &format!("user:{}", alice.id));
    assert_eq!(subject.as_deref(), Some(format!("beneficiary:{id}").as_str()));
    assert_no_secret(&details.to_string(), "the reveal's audit details");
    assert_eq!(details["method"], "sepa");

    let creates = audit_rows(&app, "beneficiary.create").await;
    assert_eq!(creates.len(), 1);
    assert_eq!(
        creates[0].2,
        json!({"campaign_id": campaign_id, "method": "sepa", "duplicate": false, "via": "session"})
    );

    // a new IBAN: the destination changed, the audit names the field only
    let update = json!({"method": {"kind": "sepa", "iban": NEW_IBAN}});
    let beneficiary = format!("/api/v1/beneficiaries/{id}");
    let (status, text, updated) =
        json_of(call(&app, Method::PATCH, &beneficiary, Some(update), &alice).await).await;
    assert_eq!(status, 200, "{text}");
    assert_no_secret(&text, "the update's answer");
    assert_eq!(updated["payee_changed"], true);
    assert_eq!(updated["beneficiary"]["masked"], "**** 2051");
    let new_fingerprint = updated["beneficiary"]["payee_fingerprint"].as_str().unwrap().to_owned();
    assert_ne!(new_fingerprint, fingerprint);
    // a new name only: the destination and its fingerprint stay
    let rename = json!({"name": "Алесь"});
    let (status, text, renamed) =
        json_of(call(&app, Method::PATCH, &beneficiary, Some(rename), &alice).await).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(renamed["payee_changed"], false);
    assert_eq!(renamed["beneficiary"]["payee_fingerprint"], new_fingerprint.as_str());
    let updates = audit_rows(&app, "beneficiary.update").await;
    assert_eq!(updates.len(), 2);
    assert_eq!(
        updates[0].2,
        json!({"campaign_id": campaign_id, "fields": ["method"], "payee_changed": true, "via": "session"})
    );
    assert_eq!(
        updates[1].2,
        json!({"campaign_id": campaign_id, "fields": ["name"], "payee_changed": false, "via": "session"})
    );

    // a bad body's error does not repeat what was sent
    let bad = json!({"method": NEW_IBAN});
    let (status, text, _) = json_of(call(&app, Method::PATCH, &beneficiary, Some(bad), &alice).await).await;
    assert_eq!(status, 400, "{text}");
    assert_no_secret(&text, "a body error");
    let bad_iban = json!({"method": {"kind": "sepa", "iban": "DE89370400440532013001"}});
    let (status, text, _) =
        json_of(call(&app, Method::PATCH, &beneficiary, Some(bad_iban), &alice).await).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("checksum") && !text.contains("0532013001"), "{text}");
    let (status, _, _) = json_of(
        call(
            &app,
            Method::POST,
            "/api/v1/beneficiaries/999999/reveal",
            Some(json!({"totp": "000000"})),
            &alice,
        )
        .await,
    )
    .await;
    assert_eq!(status, 404, "an unknown id costs no code");

    // nothing personal anywhere in the audit log, and its chain holds
    let log: String = sqlx::query_scalar("select string_agg(t::text, ' ') from audit_log t")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_no_secret(&log, "the audit log");
    assert!(zbor_audit::verify(&app.db.pool).await.unwrap().is_ok());
    app.finish().await;
}

const HEADER: &str = "name,contact,iban,bic,stripe_account,note\n";

#[tokio::test]
async fn imports_are_all_or_nothing_with_every_bad_line_named() {
    let (app, alice) = start_app().await;
    let good_campaign = campaign(&app, "good").await;
    let bad_campaign = campaign(&app, "bad").await;
    let good = format!(
        "{HEADER}{NAME},{CONTACT},{IBAN},COBADEFFXXX,,{NOTE}\n\
         Maria,,,,acct_1032D82eZvKYlo2C,\n\
         Ihar,,,,,cash via cousin\n"
    );
    let (status, text, report) = import(&app, "good", &good, &alice).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(report, json!({"created": 3, "errors": []}));
    let (_, listed) = app.get("/api/v1/campaigns/good/beneficiaries", Some(TOKEN)).await;
    let methods: Vec<&str> =
        listed["beneficiaries"].as_array().unwrap().iter().map(|b| b["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["sepa", "stripe_connect", "manual"]);
    let imports = audit_rows(&app, "beneficiary.import").await;
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0].0, format!("user:{}", alice.id));
    assert_eq!(imports[0].1.as_deref(), Some(format!("campaign:{good_campaign}").as_str()));
    assert_eq!(imports[0].2, json!({"campaign_id": good_campaign, "created": 3, "via": "session"}));

    // line 3 (the header is line 1) has a mistyped IBAN: nothing of the file goes in
    let bad = format!(
        "{HEADER}Maria,,{NEW_IBAN},,,\n\
         {NAME},,DE89370400440532013001,,,\n\
         Ihar,,,,,\n"
    );
    let (status, text, refused) = import(&app, "bad", &bad, &alice).await;
    assert_eq!(status, 422, "{text}");
    assert_eq!(refused["created"], 0);
    assert_eq!(refused["error"]["code"], "invalid_rows");
    assert_eq!(
        refused["errors"],
        json!([{"line": 3, "message": "iban: checksum is wrong (a character is mistyped)"}])
    );
    assert!(!text.contains("0532013001") && !text.contains(NAME), "{text}");
    let rows: i64 = sqlx::query_scalar("select count(*) from beneficiaries where campaign_id = $1")
        .bind(bad_campaign)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
    assert_eq!(app.count("select count(*) from beneficiaries").await, 3);
    assert_eq!(audit_rows(&app, "beneficiary.import").await.len(), 1, "a refused import changed nothing");

    // not a CSV body, not this CSV, an unknown campaign, too large
    let response =
        call(&app, Method::POST, "/api/v1/campaigns/bad/beneficiaries/import", Some(json!({})), &alice).await;
    assert_eq!(response.status(), 415);
    let (status, text, _) = import(&app, "bad", "name,iban\nA,\n", &alice).await;
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("header"), "{text}");
    let (status, _, _) = import(&app, "nope", &good, &alice).await;
    assert_eq!(status, 404);
    let huge = format!("{HEADER}{}", "x".repeat(16 * 1024 * 1024));
    let (status, _, _) = import(&app, "bad", &huge, &alice).await;
    assert_eq!(status, 413);
    assert_eq!(app.count("select count(*) from beneficiaries").await, 3);
    app.finish().await;
}

#[tokio::test]
async fn the_same_iban_twice_is_listed_as_duplicates() {
    let (app, alice) = start_app().await;
    campaign(&app, "release-123").await;
    let path = "/api/v1/campaigns/release-123/beneficiaries";
    let mut ids = Vec::new();
    for (name, iban) in [("A", IBAN), ("B", NEW_IBAN), ("C", "de89 3704 0044 0532 0130 00")] {
        let body = json!({"name": name, "method": {"kind": "sepa", "iban": iban}});
        let (status, text, created) = json_of(call(&app, Method::POST, path, Some(body), &alice).await).await;
        assert_eq!(status, 201, "{text}");
        ids.push(created["id"].as_i64().unwrap());
    }
    let creates = audit_rows(&app, "beneficiary.create").await;
    let flags: Vec<&Value> = creates.iter().map(|(_, _, d)| &d["duplicate"]).collect();
    assert_eq!(flags, [&json!(false), &json!(false), &json!(true)]);
    let (status, text, duplicates) =
        json_of(call(&app, Method::GET, &format!("{path}/duplicates"), None, &alice).await).await;
    assert_eq!(status, 200, "{text}");
    assert_no_secret(&text, "the duplicates");
    assert_eq!(
        duplicates,
        json!({"groups": [{"masked_iban": "**** 3000", "beneficiaries": [ids[0], ids[2]]}]})
    );
    let (_, listed) = app.get(path, Some(TOKEN)).await;
    assert_eq!(listed["beneficiaries"][0]["duplicate_of"], json!([ids[2]]));
    assert_eq!(listed["beneficiaries"][1]["duplicate_of"], json!([]));
    app.finish().await;
}

#[tokio::test]
async fn without_the_data_key_every_endpoint_answers_503() {
    let mut config = None;
    let app = start_with(Some(WEBHOOK_SECRET), |c| {
        c.data_key = Some(DATA_KEY.into());
        config = Some(c.clone());
    })
    .await;
    let key = DataKey::parse(DATA_KEY).unwrap();
    let alice = treasurer(&app, &key, "alice@example.org").await;
    let campaign_id = campaign(&app, "release-123").await;
    let new =
        serde_json::from_value(json!({"name": NAME, "method": {"kind": "sepa", "iban": IBAN}})).unwrap();
    let id = zbor_payouts::beneficiaries::create(
        &app.db.pool,
        &key,
        zbor_campaigns::CampaignId::from_i64(campaign_id),
        &new,
    )
    .await
    .unwrap()
    .id;

    // the same database served by a zbor without ZBOR_DATA_KEY; alice's session still holds
    let mut config = config.unwrap();
    config.data_key = None;
    let keyless = zbor_server::app::Application::build(&config).await.unwrap();
    let base = format!("http://{}", keyless.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(keyless.run(stopped));
    let slug = "/api/v1/campaigns/release-123/beneficiaries";
    let endpoints = [
        (Method::POST, slug.to_owned(), Some(json!({"name": "X", "method": {"kind": "manual"}}))),
        (Method::GET, slug.to_owned(), None),
        (Method::GET, format!("{slug}/duplicates"), None),
        (Method::PATCH, format!("/api/v1/beneficiaries/{id}"), Some(json!({"name": "Y"}))),
        (Method::POST, format!("/api/v1/beneficiaries/{id}/reveal"), Some(json!({"totp": "000000"}))),
    ];
    let client = reqwest::Client::new();
    for (method, path, body) in endpoints {
        let mut request = client
            .request(method.clone(), format!("{base}{path}"))
            .header("cookie", &alice.cookie)
            .header("x-csrf-token", &alice.csrf);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (503, Some("people_not_configured")),
            "{method} {path}"
        );
    }
    let response = client
        .post(format!("{base}{slug}/import"))
        .header("cookie", &alice.cookie)
        .header("x-csrf-token", &alice.csrf)
        .header("content-type", "text/csv")
        .body(format!("{HEADER}A,,,,,\n"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let response = client.get(format!("{base}{slug}")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 503, "an admin's list too");
    assert_eq!(app.count("select count(*) from beneficiaries").await, 1);
    assert!(audit_rows(&app, "beneficiary.reveal").await.is_empty());
    stop.send(true).unwrap();
    running.await.unwrap().unwrap();
    app.finish().await;
}
