#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test support

use serde_json::{json, Value};
use sqlx::PgPool;
use zbor_campaigns::Campaign;
use zbor_stripe::events::{Context, Dispatcher, Receipt};
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

/// A delivery through the event store with donations' handlers, as `POST /webhooks/stripe` after
/// the signature check.
pub async fn receive(pool: &PgPool, body: &[u8]) -> Result<Receipt, zbor_stripe::Error> {
    receive_with(pool, body, None).await
}

/// [`receive`], keeping named donors' identities sealed under `data_key`.
pub async fn receive_with(
    pool: &PgPool,
    body: &[u8],
    data_key: Option<&DataKey>,
) -> Result<Receipt, zbor_stripe::Error> {
    let events = zbor_intake::webhook::register(Dispatcher::new(Context { data_key: data_key.cloned() }));
    events.receive(pool, body).await
}

#[path = "../../../campaigns/tests/common/mod.rs"]
mod campaigns_common;
pub use campaigns_common::release_123;

fn fixtures() -> Value {
    serde_json::from_str(include_str!("../fixtures/stripe-objects.json")).unwrap()
}

/// A Checkout Session as Stripe sends it, from Stripe's example object, patched to a completed
/// donation session.
pub fn session(id: &str, amount_minor: i64, currency: &str, payment_status: &str, metadata: Value) -> Value {
    let mut s = fixtures()["checkout.session"].clone();
    s["id"] = json!(id);
    s["amount_total"] = json!(amount_minor);
    s["amount_subtotal"] = json!(amount_minor);
    s["currency"] = json!(currency);
    s["payment_status"] = json!(payment_status);
    s["status"] = json!("complete");
    s["mode"] = json!("payment");
    s["submit_type"] = json!("donate");
    s["payment_intent"] = json!(payment_intent_of(id));
    s["metadata"] = metadata;
    s["customer_details"]["email"] = json!("donor@example.com");
    s["customer_details"]["name"] = json!("Jane Donor");
    s
}

/// An event wrapping `object`, from Stripe's example event.
pub fn event(id: &str, kind: &str, object: Value) -> Vec<u8> {
    let mut e = fixtures()["event"].clone();
    e["id"] = json!(id);
    e["type"] = json!(kind);
    e["created"] = json!(chrono::Utc::now().timestamp());
    e["data"] = json!({ "object": object });
    serde_json::to_vec(&e).unwrap()
}

pub fn to_campaign(slug: &str) -> Value {
    json!({ "zbor_campaign": slug })
}

pub fn eur(amount: &str) -> zbor_ledger::Money {
    zbor_ledger::Money::parse(amount, zbor_ledger::Currency::parse("EUR").unwrap()).unwrap()
}

pub async fn campaign_balance(db: &TestDb, campaign: &Campaign) -> zbor_ledger::Money {
    let mut conn = db.pool.acquire().await.unwrap();
    zbor_ledger::balance(&mut conn, campaign.ledger_account).await.unwrap().posted
}

pub async fn count(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

/// Each session has its own PaymentIntent, as in payment mode.
pub fn payment_intent_of(session_id: &str) -> String {
    format!("pi_{}", session_id.trim_start_matches("cs_"))
}

/// A charge as `charge.refunded` carries it, from Stripe's example charge.
pub fn refunded_charge(session_id: &str, amount_minor: i64, refunded_minor: i64) -> Value {
    let mut c = fixtures()["charge"].clone();
    c["id"] = json!(format!("ch_{}", session_id.trim_start_matches("cs_")));
    c["amount"] = json!(amount_minor);
    c["amount_refunded"] = json!(refunded_minor);
    c["refunded"] = json!(refunded_minor == amount_minor);
    c["currency"] = json!("eur");
    c["payment_intent"] = json!(payment_intent_of(session_id));
    c
}

/// A dispute, from Stripe's example dispute.
pub fn dispute(id: &str, session_id: &str, amount_minor: i64, status: &str) -> Value {
    let mut d = fixtures()["dispute"].clone();
    d["id"] = json!(id);
    d["amount"] = json!(amount_minor);
    d["currency"] = json!("eur");
    d["status"] = json!(status);
    d["payment_intent"] = json!(payment_intent_of(session_id));
    d
}
