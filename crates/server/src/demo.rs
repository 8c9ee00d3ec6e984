//! `zbor dev --demo`: something to look at and click through on a first run. A campaign, four
//! donations paid through the Stripe simulator (checkout, payment, signed webhook, booking: the
//! real path), an admin and three treasurers with passwords and authenticator secrets printed
//! once, two beneficiaries whose destinations a treasurer confirmed, and a payout batch that
//! waits for two other treasurers' approval in the console.
//!
//! Development only: `zbor dev` refuses production, and the people are made up.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zbor_auth::{totp, Actor, Role};
use zbor_vault::DataKey;

pub const SLUG: &str = "demo";
/// What the four donations give, in EUR.
const DONATIONS: [&str; 4] = ["1000.00", "1000.00", "500.00", "250.00"];
/// What each of the two beneficiaries is to receive.
const PAYOUT: &str = "1000.00";
/// How long the simulator's webhooks may take to be booked.
const BOOKING_WAIT: Duration = Duration::from_secs(30);

/// One person the demo made, with what they log in with (printed once, kept nowhere in clear).
struct Person {
    id: zbor_auth::UserId,
    email: &'static str,
    role: &'static str,
    password: String,
    totp_secret: String,
    otpauth_uri: String,
}

/// Seeds the demo against the running server at `server` and the simulator at `simulator`, and
/// prints what a person needs to log in. Does nothing but say so when the demo campaign exists.
pub async fn seed(
    pool: &PgPool,
    key: &DataKey,
    server: SocketAddr,
    simulator: SocketAddr,
) -> anyhow::Result<()> {
    let exists: bool = sqlx::query_scalar("select exists (select 1 from campaigns where slug = $1)")
        .bind(SLUG)
        .fetch_one(pool)
        .await?;
    if exists {
        println!(
            "zbor dev --demo: the demo is already there (campaign `{SLUG}`). Its passwords were shown \
             when it was made; `zbor user reset ID --password --second-factor` makes new ones \
             (with ZBOR_DATA_KEY_FILE={})",
            crate::dev::DATA_KEY_FILE
        );
        return Ok(());
    }
    let mut db = pool.begin().await?;
    let campaign = zbor_campaigns::create_in(
        &mut db,
        &zbor_campaigns::NewCampaign {
            slug: SLUG.into(),
            title: "Demo: 123 released".into(),
            description: "A demonstration campaign made by `zbor dev --demo`.".into(),
            currency: "EUR".into(),
            goal: "123000".into(),
            amount_per_beneficiary: Some("1000".into()),
            suggested_amounts: vec!["25".into(), "50".into(), "1000".into()],
            overflow: None,
            translations: Default::default(),
        },
        &Actor::CLI,
    )
    .await?;
    db.commit().await?;

    let mut people = Vec::new();
    for (email, role, name) in [
        ("admin@demo.example", Role::Admin, "admin"),
        ("treasurer1@demo.example", Role::Treasurer, "treasurer"),
        ("treasurer2@demo.example", Role::Treasurer, "treasurer"),
        ("treasurer3@demo.example", Role::Treasurer, "treasurer"),
    ] {
        people.push(person(pool, key, email, role, name).await?);
    }
    let ids: Vec<zbor_auth::UserId> = people.iter().map(|p| p.id).collect();

    for amount in DONATIONS {
        donate(server, simulator, amount).await?;
    }
    let booked = wait_for_bookings(pool, campaign.id, DONATIONS.len()).await?;

    let mut beneficiaries = Vec::new();
    for n in 1..=2 {
        let new: zbor_payouts::beneficiaries::NewBeneficiary = serde_json::from_value(json!({
            "name": format!("Demo beneficiary {n}"),
            "contact": "",
            "note": "made up by zbor dev --demo",
            "method": {"kind": "manual"},
        }))?;
        beneficiaries.push(zbor_payouts::beneficiaries::create(pool, key, campaign.id, &new).await?.id);
    }
    // the second pair of eyes on the destinations: the third treasurer
    let listed = zbor_payouts::beneficiaries::list(pool, campaign.id).await?;
    let confirmations: Vec<zbor_payouts::beneficiaries::Confirmation> =
        listed.iter().map(Into::into).collect();
    zbor_payouts::beneficiaries::confirm(pool, &confirmations, ids[3]).await?;
    let items: Vec<zbor_payouts::batches::NewItem> = beneficiaries
        .iter()
        .map(|b| zbor_payouts::batches::NewItem { beneficiary: *b, amount: PAYOUT.into() })
        .collect();
    let batch = zbor_payouts::batches::create(pool, campaign.id, ids[1], &items).await?;

    print_welcome(server, &people, booked, batch.id);
    Ok(())
}

/// A user with a password made here and an enrolled authenticator secret.
async fn person(
    pool: &PgPool,
    key: &DataKey,
    email: &'static str,
    role: Role,
    role_name: &'static str,
) -> anyhow::Result<Person> {
    let password = uuid::Uuid::new_v4().simple().to_string();
    let user = zbor_auth::add_user(pool, key, email, role, &password, &Actor::CLI).await?;
    let enrolment = zbor_auth::begin_totp_enrolment(pool, key, user.id).await?;
    let secret = totp::base32_decode(&enrolment.secret).context("the enrolment's secret")?;
    // confirmed with the previous step's code, so the code the app shows now logs in
    let earlier = Utc::now() - chrono::Duration::seconds(30);
    let code = totp::code(&secret, totp::step_at(earlier.timestamp()));
    zbor_auth::confirm_totp(pool, key, user.id, &code, earlier).await?;
    Ok(Person {
        id: user.id,
        email,
        role: role_name,
        password,
        totp_secret: enrolment.secret,
        otpauth_uri: enrolment.otpauth_uri,
    })
}

/// A donor's path: a Checkout Session from zbor, paid on the simulator, which then delivers
/// `checkout.session.completed` to zbor's webhook.
async fn donate(server: SocketAddr, simulator: SocketAddr, amount: &str) -> anyhow::Result<()> {
    let (status, session) = post_json(
        server,
        &format!("/api/v1/campaigns/{SLUG}/checkout"),
        &json!({"amount": amount, "anonymous": true}),
    )
    .await?;
    let url = session["url"].as_str().filter(|_| status == 201 || status == 200);
    let url = url.with_context(|| format!("checkout answered {status}: {session}"))?;
    let id = url.rsplit('/').next().unwrap_or_default();
    let (status, _) =
        post_json(simulator, &format!("/sim/checkout/sessions/{id}/pay"), &json!({"method": "card"})).await?;
    anyhow::ensure!(status == 200, "the simulator answered {status} to paying {id}");
    Ok(())
}

async fn wait_for_bookings(
    pool: &PgPool,
    campaign: zbor_campaigns::CampaignId,
    count: usize,
) -> anyhow::Result<i64> {
    let until = tokio::time::Instant::now() + BOOKING_WAIT;
    loop {
        let booked: i64 =
            sqlx::query_scalar("select count(*) from donations where campaign_id = $1 and status = 'paid'")
                .bind(campaign)
                .fetch_one(pool)
                .await?;
        if booked >= i64::try_from(count).unwrap_or(i64::MAX) {
            return Ok(booked);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < until,
            "{booked} of {count} demo donations booked after {} s",
            BOOKING_WAIT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A JSON POST over a plain connection (zbor and the simulator on loopback; no HTTP client in
/// the production binary for this alone).
async fn post_json(address: SocketAddr, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
    let body = body.to_string();
    let mut stream = tokio::net::TcpStream::connect(address).await.with_context(|| format!("{address}"))?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) =
        answer.split_once("\r\n\r\n").with_context(|| format!("{address}{path}: no answer"))?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).context("no status line")?;
    Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

fn print_welcome(server: SocketAddr, people: &[Person], booked: i64, batch: zbor_payouts::BatchId) {
    let base = format!("http://{server}");
    println!();
    println!("zbor dev --demo: a demo to click through (the passwords and secrets below are shown once)");
    println!("  donors' page   {base}/give/{SLUG}");
    println!("  dashboard      {base}/dashboard/{SLUG}   ({booked} donations booked through the simulator)");
    println!(
        "  console        {base}/console   (log in with an email, its password and the authenticator's code)"
    );
    println!("  payout batch   {batch}: two payouts of EUR {PAYOUT}, made by treasurer1; treasurer2 and treasurer3 approve it");
    println!();
    for person in people {
        println!("  {:<26} {:<11} password {}", person.email, person.role, person.password);
        println!("  {:<26} {:<11} authenticator secret {}", "", "", person.totp_secret);
        println!("  {:<26} {:<11} {}", "", "", person.otpauth_uri);
    }
    println!();
    println!("  add each otpauth:// line to an authenticator app (or: oathtool --totp -b SECRET)");
    println!();
}
