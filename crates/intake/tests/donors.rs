#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Donor identities: kept only for donors who chose to be named, sealed for their own row, never
//! in clear; nothing at all for anonymous and Payment Link donors, or without a data key.

mod common;

use common::*;
use serde_json::json;
use zbor_intake::webhook::donor;
use zbor_stripe::events::Outcome;
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

async fn sealed(db: &TestDb, session: &str) -> Option<Vec<u8>> {
    sqlx::query_scalar("select donor_sealed from donations where stripe_session_id = $1")
        .bind(session)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn only_named_donors_are_kept_and_only_sealed() {
    let db = TestDb::new(4).await;
    release_123(&db).await;
    let key = DataKey::generate();
    let named = json!({ "zbor_campaign": "release-123", "zbor_anonymous": "false" });
    let anonymous = json!({ "zbor_campaign": "release-123", "zbor_anonymous": "true" });
    for (event_id, session_id, metadata) in
        [("evt_named", "cs_test_named", named.clone()), ("evt_anon", "cs_test_anon", anonymous)]
    {
        let body =
            event(event_id, "checkout.session.completed", session(session_id, 2500, "eur", "paid", metadata));
        assert_eq!(receive_with(&db.pool, &body, Some(&key)).await.unwrap().outcome, Outcome::Booked);
    }
    // a Payment Link session says nothing about anonymity: anonymous
    let mut link_session = session("cs_test_link", 1000, "eur", "paid", json!({}));
    link_session["payment_link"] = json!("plink_unknown");
    receive_with(&db.pool, &event("evt_link", "checkout.session.completed", link_session), Some(&key))
        .await
        .unwrap();

    let blob = sealed(&db, "cs_test_named").await.expect("named donor kept");
    assert!(!String::from_utf8_lossy(&blob).contains("Jane"));
    assert!(sealed(&db, "cs_test_anon").await.is_none());
    let mut conn = db.pool.acquire().await.unwrap();
    let (name, email) = donor(&mut conn, &key, "cs_test_named").await.unwrap().unwrap();
    assert_eq!((name.as_deref(), email.as_deref()), (Some("Jane Donor"), Some("donor@example.com")));
    assert!(donor(&mut conn, &key, "cs_test_anon").await.unwrap().is_none());
    // the sealed value is bound to its row: copied onto another, it does not open
    sqlx::query(
        "update donations set anonymous = false, donor_sealed = $1 where stripe_session_id = 'cs_test_anon'",
    )
    .bind(&blob)
    .execute(&mut *conn)
    .await
    .unwrap();
    assert!(donor(&mut conn, &key, "cs_test_anon").await.is_err());
    // and the database refuses a sealed identity on an anonymous donation
    let refused =
        sqlx::query("update donations set anonymous = true where stripe_session_id = 'cs_test_named'")
            .execute(&mut *conn)
            .await;
    assert!(refused.is_err());
    drop(conn);

    // nothing is stored anywhere in clear
    let clear: i64 = sqlx::query_scalar(
        "select count(*) from stripe_events where payload::text like '%Jane%' or payload::text like '%donor@%'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(clear, 0);
    db.drop_database().await;
}

#[tokio::test]
async fn without_a_data_key_no_identity_is_kept() {
    let db = TestDb::new(4).await;
    release_123(&db).await;
    let named = json!({ "zbor_campaign": "release-123", "zbor_anonymous": "false" });
    let body = event(
        "evt_named",
        "checkout.session.completed",
        session("cs_test_named", 2500, "eur", "paid", named),
    );
    assert_eq!(receive(&db.pool, &body).await.unwrap().outcome, Outcome::Booked);
    assert!(sealed(&db, "cs_test_named").await.is_none());
    let anonymous: Option<bool> =
        sqlx::query_scalar("select anonymous from donations where stripe_session_id = 'cs_test_named'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(anonymous, Some(false));
    db.drop_database().await;
}
