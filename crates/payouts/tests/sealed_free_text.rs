#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Free text of third parties on payouts is sealed at rest, against the real PostgreSQL: a
//! bank's return reason, Stripe's error messages (they quote the connected account) and the
//! reason payouts were paused. Machine codes (a SEPA return reason code, Stripe's HTTP status,
//! error type and code) stay in clear beside them; the text opens with the data key where the API
//! showed it before, and is in no clear column, no `Debug` output and no worker step.

mod common;

use std::io::{Read, Write};
use zbor_auth::UserId;

use common::*;
use serde_json::json;
use zbor_campaigns::Campaign;
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_payouts::beneficiaries::{self, Confirmation};
use zbor_payouts::treasury::{self, PayoutStatus};
use zbor_payouts::worker::{self, Step};
use zbor_payouts::{key_rotation, switch, PayoutId};
use zbor_stripe::{Stripe, StripeConfig};
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

const ACCOUNT: &str = "acct_1Pgaf1B7WZ01zgkW";

struct Setup {
    db: TestDb,
    key: DataKey,
    campaign: Campaign,
    treasurers: Vec<UserId>,
}

async fn setup() -> Setup {
    let db = TestDb::new(8).await;
    let key = DataKey::generate();
    let campaign = funded_campaign(&db, "release", "5000").await;
    let treasurers = treasurers(&db, &key, &["a@example.org", "b@example.org", "c@example.org"]).await;
    Setup { db, key, campaign, treasurers }
}

/// A confirmed beneficiary paid by `method` and its released payout of EUR 1,000.
async fn released(s: &Setup, method: serde_json::Value) -> PayoutId {
    let new = new(json!({ "name": "Released person", "contact": "", "note": "", "method": method }));
    let mut db = s.db.pool.begin().await.unwrap();
    let created = beneficiaries::create_in(
        &mut db,
        &s.key,
        s.campaign.id,
        &new,
        &zbor_audit::Actor::user(s.treasurers[0]),
    )
    .await
    .unwrap();
    db.commit().await.unwrap();
    beneficiaries::confirm(&s.db.pool, &[Confirmation::from(&created)], s.treasurers[1]).await.unwrap();
    let items = [NewItem { beneficiary: created.id, amount: "1000".into() }];
    let batch = batches::create(&s.db.pool, s.campaign.id, s.treasurers[0], &items).await.unwrap();
    batches::approve(&s.db.pool, batch.id, s.treasurers[1], &batch.content_hash).await.unwrap().unwrap();
    assert_eq!(
        batches::approve(&s.db.pool, batch.id, s.treasurers[2], &batch.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );
    batch.items[0].payout
}

async fn sent_sepa_payout(s: &Setup, n: u64) -> PayoutId {
    let payout = released(s, json!({"kind": "sepa", "iban": de_iban(n)})).await;
    sqlx::query("update payouts set status = 'sent', sent_at = now() where id = $1")
        .bind(payout)
        .execute(&s.db.pool)
        .await
        .unwrap();
    payout
}

/// The payout's row as JSON text: everything stored in clear.
async fn row_text(s: &Setup, payout: PayoutId) -> String {
    sqlx::query_scalar("select row_to_json(p)::text from payouts p where id = $1")
        .bind(payout)
        .fetch_one(&s.db.pool)
        .await
        .unwrap()
}

async fn error_columns(s: &Setup, payout: PayoutId) -> (Option<String>, Option<String>, Option<Vec<u8>>) {
    sqlx::query_as("select last_error, last_error_code, last_error_sealed from payouts where id = $1")
        .bind(payout)
        .fetch_one(&s.db.pool)
        .await
        .unwrap()
}

#[test]
fn a_return_reason_code_is_told_from_the_text_around_it() {
    use treasury::split_return_reason as split;
    assert_eq!(split("AC04"), (Some("AC04"), ""));
    assert_eq!(split(" AC04: account closed "), (Some("AC04"), "account closed"));
    assert_eq!(split("MD07 - deceased"), (Some("MD07"), "deceased"));
    assert_eq!(split("FOCR/recalled"), (Some("FOCR"), "recalled"));
    // not codes: words, lower case, names
    assert_eq!(split("BANK said no"), (None, "BANK said no"));
    assert_eq!(split("ac04 closed"), (None, "ac04 closed"));
    assert_eq!(split("Ales Bialiatski closed it"), (None, "Ales Bialiatski closed it"));
    assert_eq!(split("AC045 closed"), (None, "AC045 closed"));
}

#[tokio::test]
async fn a_bank_return_keeps_its_code_in_clear_and_the_banks_words_sealed() {
    let s = setup().await;
    let (with_key, without_key) = (sent_sepa_payout(&s, 1).await, sent_sepa_payout(&s, 2).await);
    let who = s.treasurers[0];

    let returned = treasury::mark_returned_sealed(
        &s.db.pool,
        &s.key,
        with_key,
        who,
        "AC04: closed, holder Ales Bialiatski",
    )
    .await
    .unwrap();
    assert_eq!(returned.status, PayoutStatus::Failed);
    assert_eq!(
        returned.last_error.as_deref(),
        Some("returned by the bank (AC04): closed, holder Ales Bialiatski"),
        "the answer shows it opened, as it showed the reason before"
    );
    let (summary, code, sealed) = error_columns(&s, with_key).await;
    assert_eq!((summary.as_deref(), code.as_deref()), (Some("returned by the bank"), Some("AC04")));
    assert!(sealed.is_some());
    assert!(!row_text(&s, with_key).await.contains("Bialiatski"), "no clear copy");
    // read back without the key: zbor's words and the code, the rest marked sealed
    let read = treasury::get(&s.db.pool, with_key).await.unwrap();
    assert_eq!(
        (read.last_error.as_deref(), read.last_error_sealed),
        (Some("returned by the bank (AC04)"), true)
    );
    assert_eq!(read.last_error_code.as_deref(), Some("AC04"));
    assert!(!format!("{read:?}").contains("Bialiatski"));
    let json = serde_json::to_string(&read).unwrap();
    assert!(!json.contains("Bialiatski") && json.contains("\"last_error_sealed\":true"), "{json}");
    let opened = read.opened(Some(&s.key)).unwrap();
    assert_eq!(
        opened.last_error.as_deref(),
        Some("returned by the bank (AC04): closed, holder Ales Bialiatski")
    );
    assert!(!format!("{opened:?}").contains("Bialiatski"), "Debug leaves the text out even opened");
    // a payout sealed for another row does not open here
    sqlx::query("update payouts set last_error_sealed = (select last_error_sealed from payouts where id = $2) where id = $1")
        .bind(without_key)
        .bind(with_key)
        .execute(&s.db.pool)
        .await
        .unwrap();
    assert!(treasury::get(&s.db.pool, without_key).await.unwrap().opened(Some(&s.key)).is_err());
    sqlx::query("update payouts set last_error_sealed = null where id = $1")
        .bind(without_key)
        .execute(&s.db.pool)
        .await
        .unwrap();

    // without the data key only the code is kept; the words are not stored at all
    let returned =
        treasury::mark_returned(&s.db.pool, without_key, who, "MD07 deceased, Jan Kowalski").await.unwrap();
    assert_eq!(returned.last_error.as_deref(), Some("returned by the bank (MD07)"));
    assert!(!row_text(&s, without_key).await.contains("Kowalski"));
    assert_eq!(error_columns(&s, without_key).await.2, None);

    // paid after a retry: no error is left, sealed or not
    treasury::retry(&s.db.pool, with_key, who).await.unwrap();
    sqlx::query("update payouts set status = 'sent' where id = $1")
        .bind(with_key)
        .execute(&s.db.pool)
        .await
        .unwrap();
    treasury::mark_paid(&s.db.pool, &s.key, with_key, who, "").await.unwrap();
    assert_eq!(error_columns(&s, with_key).await, (None, None, None));
    s.db.drop_database().await;
}

/// A stand-in for Stripe that answers every request with `status` and Stripe's error shape.
fn refusing_stripe(status: u16, error: serde_json::Value) -> Stripe {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let body = json!({ "error": error }).to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = Vec::new();
            let mut chunk = [0u8; 4096];
            // the headers, then as much body as they announce
            let complete = |request: &[u8]| {
                let end = request.windows(4).position(|w| w == b"\r\n\r\n")?;
                let headers = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                let length = headers
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                (request.len() >= end + 4 + length).then_some(())
            };
            while complete(&request).is_none() {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&chunk[..n]),
                }
            }
            let response = format!(
                "HTTP/1.1 {status} Refused\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 request-id: req_test\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    let mut config = StripeConfig::new("sk_test_refusing", format!("http://{address}/"));
    config.attempts_max = 1;
    config.backoff_first = std::time::Duration::from_millis(10);
    Stripe::new(config).unwrap()
}

#[tokio::test]
async fn stripe_errors_keep_codes_in_clear_and_the_message_sealed() {
    let s = setup().await;
    let refused = released(&s, json!({"kind": "stripe_connect", "account": ACCOUNT})).await;
    let stripe = refusing_stripe(
        400,
        json!({ "type": "invalid_request_error", "code": "account_invalid", "param": "destination",
                "message": format!("The account {ACCOUNT} has been rejected.") }),
    );
    let step = worker::pay(&s.db.pool, &s.key, Some(&stripe), refused).await.unwrap();
    let Step::Failed { reason } = &step else { panic!("{step:?}") };
    assert_eq!(reason, "Stripe refused the transfer (http_400:invalid_request_error:account_invalid)");
    assert!(!format!("{step:?}").contains(ACCOUNT), "what the worker returns (and its caller logs)");
    let (summary, code, sealed) = error_columns(&s, refused).await;
    assert_eq!(summary.as_deref(), Some("Stripe refused the transfer"));
    assert_eq!(code.as_deref(), Some("http_400:invalid_request_error:account_invalid"));
    assert!(sealed.is_some());
    assert!(!row_text(&s, refused).await.contains(ACCOUNT), "no clear copy of Stripe's message");
    let read = treasury::get(&s.db.pool, refused).await.unwrap();
    assert!(read.last_error_sealed && !read.last_error.as_deref().unwrap_or_default().contains(ACCOUNT));
    let opened = read.opened(Some(&s.key)).unwrap();
    assert_eq!(
        opened.last_error.as_deref(),
        Some(format!(
            "Stripe refused the transfer (http_400:invalid_request_error:account_invalid): The account {ACCOUNT} has \
             been rejected."
        ))
        .as_deref()
    );

    // Stripe failing (5xx): tried again later, its message sealed too
    let transient = released(&s, json!({"kind": "stripe_connect", "account": "acct_1Pgaf2B7WZ01zgkW"})).await;
    let failing = refusing_stripe(
        500,
        json!({ "type": "api_error", "message": "An error occurred for acct_1Pgaf2B7WZ01zgkW." }),
    );
    let step = worker::pay(&s.db.pool, &s.key, Some(&failing), transient).await.unwrap();
    assert!(matches!(step, Step::RetryLater { .. }), "{step:?}");
    let (summary, code, sealed) = error_columns(&s, transient).await;
    assert_eq!(
        (summary.as_deref(), code.as_deref()),
        (Some("the Stripe transfer failed; it is tried again"), Some("unavailable:http_500:api_error"))
    );
    assert!(sealed.is_some() && !row_text(&s, transient).await.contains("acct_1Pgaf2B7WZ01zgkW"));
    let opened = treasury::get(&s.db.pool, transient).await.unwrap().opened(Some(&s.key)).unwrap();
    // a failure zbor retries is described by status, type and code only: Stripe's message never
    // leaves the Stripe client (it could be logged on the way)
    let described = opened.last_error.unwrap();
    assert!(
        described.contains("HTTP 500 api_error") && !described.contains("acct_1Pgaf2B7WZ01zgkW"),
        "{described}"
    );
    s.db.drop_database().await;
}

#[tokio::test]
async fn a_pause_reason_is_sealed_and_shown_opened() {
    let s = setup().await;
    let [a, b, c] = [s.treasurers[0], s.treasurers[1], s.treasurers[2]];
    assert!(switch::pause_sealed(&s.db.pool, &s.key, Some(a), "Mr Smith at the bank called about fraud")
        .await
        .unwrap());
    let (legacy, sealed): (Option<String>, Option<Vec<u8>>) =
        sqlx::query_as("select reason_legacy, reason_sealed from payout_switch")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    assert!(legacy.is_none());
    assert!(!String::from_utf8_lossy(&sealed.unwrap()).contains("Smith"));
    let state = switch::state(&s.db.pool).await.unwrap();
    assert!(state.paused && state.reason.is_none() && state.reason_sealed);
    let opened = state.opened(Some(&s.key)).unwrap();
    assert_eq!(opened.reason.as_deref(), Some("Mr Smith at the bank called about fraud"));
    assert!(!opened.reason_sealed && !format!("{opened:?}").contains("Smith"));
    assert!(serde_json::to_string(&opened).unwrap().contains("Mr Smith"), "the API shows it opened");
    // resumed: the reason goes
    switch::resume(&s.db.pool, b).await.unwrap();
    switch::resume(&s.db.pool, c).await.unwrap();
    let (legacy, sealed): (Option<String>, Option<Vec<u8>>) =
        sqlx::query_as("select reason_legacy, reason_sealed from payout_switch")
            .fetch_one(&s.db.pool)
            .await
            .unwrap();
    assert_eq!((legacy, sealed), (None, None));
    // without the data key a reason is not kept at all
    switch::pause(&s.db.pool, Some(a), "Mr Smith again").await.unwrap();
    let clear: String = sqlx::query_scalar("select row_to_json(s)::text from payout_switch s")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert!(!clear.contains("Smith"), "{clear}");
    assert!(switch::state(&s.db.pool).await.unwrap().opened(Some(&s.key)).unwrap().reason.is_none());
    s.db.drop_database().await;
}

#[tokio::test]
async fn texts_from_before_sealing_show_as_before_until_the_rotation_seals_them() {
    let s = setup().await;
    let payout = sent_sepa_payout(&s, 1).await;
    // what the previous release stored, moved aside by the migration
    let old_text = "returned by the bank: AC04 holder Jan Kowalski";
    sqlx::query("update payouts set status = 'failed', last_error_legacy = $2 where id = $1")
        .bind(payout)
        .bind(old_text)
        .execute(&s.db.pool)
        .await
        .unwrap();
    sqlx::query("update payout_switch set paused = true, reason_legacy = 'Jan called'")
        .execute(&s.db.pool)
        .await
        .unwrap();
    assert_eq!(treasury::get(&s.db.pool, payout).await.unwrap().last_error.as_deref(), Some(old_text));
    assert_eq!(switch::state(&s.db.pool).await.unwrap().reason.as_deref(), Some("Jan called"));
    let outdated = key_rotation::outdated(&s.db.pool, &s.key).await.unwrap();
    assert_eq!((outdated.payout_texts, outdated.pause_reason), (1, 1));

    // `zbor vault rotate` (even with the same single key) seals them and empties the clear copies
    let mut go = |_| std::ops::ControlFlow::Continue(());
    assert_eq!(key_rotation::rekey_payouts(&s.db.pool, &s.key, &mut go).await.unwrap().rekeyed, 1);
    assert_eq!(switch::rekey_reason(&s.db.pool, &s.key, &mut go).await.unwrap().rekeyed, 1);
    assert!(!row_text(&s, payout).await.contains("Kowalski"));
    let clear: String = sqlx::query_scalar("select row_to_json(s)::text from payout_switch s")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert!(!clear.contains("Jan"), "{clear}");
    assert_eq!(key_rotation::outdated(&s.db.pool, &s.key).await.unwrap().total(), 0);
    let read = treasury::get(&s.db.pool, payout).await.unwrap();
    assert!(read.last_error.is_none() && read.last_error_sealed);
    assert_eq!(read.opened(Some(&s.key)).unwrap().last_error.as_deref(), Some(old_text));
    let state = switch::state(&s.db.pool).await.unwrap().opened(Some(&s.key)).unwrap();
    assert_eq!(state.reason.as_deref(), Some("Jan called"));
    s.db.drop_database().await;
}
