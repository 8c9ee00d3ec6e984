#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Beneficiaries against the real PostgreSQL: sealed at rest, revealed only with the key,
//! duplicates flagged, fingerprints following the payout destination.

mod common;

use common::*;
use serde_json::json;
use zbor_errors::Classified;
use zbor_payouts::beneficiaries::{self, BeneficiaryUpdate, MethodKind, PayoutMethod, StripeAccount};
use zbor_payouts::iban::Iban;
use zbor_payouts::Error;
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

const NAME: &str = "Ales Bialiatski";
const CONTACT: &str = "signal +375 29 765 43 21";
const IBAN: &str = "LT121000011101001000";
const NOTE: &str = "released in June; paid through his sister";

fn ales() -> serde_json::Value {
    json!({
        "name": NAME, "contact": CONTACT, "note": NOTE,
        "method": { "kind": "sepa", "iban": "lt12 1000 0111 0100 1000", "bic": "hablLT22" },
    })
}

#[tokio::test]
async fn create_and_reveal_round_trip() {
    let db = TestDb::new(4).await;
    let campaign = campaign(&db, "release-1").await;
    let key = DataKey::generate();

    let created = beneficiaries::create(&db.pool, &key, campaign, &new(ales())).await.unwrap();
    assert_eq!(created.campaign_id, campaign);
    assert_eq!(created.method, MethodKind::Sepa);
    assert_eq!(created.masked.as_deref(), Some("**** 1000"));
    assert!(created.duplicate_of.is_empty());
    // the public view says nothing personal, in Rust or in JSON
    let shown = format!("{created:?} {}", serde_json::to_string(&created).unwrap());
    for secret in [NAME, "Bialiatski", CONTACT, IBAN, "HABLLT22", NOTE] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert_eq!(beneficiaries::get(&db.pool, created.id).await.unwrap(), created);
    assert_eq!(beneficiaries::list(&db.pool, campaign).await.unwrap(), vec![created.clone()]);

    let revealed = beneficiaries::reveal(&db.pool, &key, created.id, &zbor_audit::Actor::CLI).await.unwrap();
    assert_eq!(
        (revealed.name.as_str(), revealed.contact.as_str(), revealed.note.as_str()),
        (NAME, CONTACT, NOTE)
    );
    let PayoutMethod::Sepa { iban, bic } = &revealed.method else { panic!("not sepa") };
    assert_eq!(iban.as_str(), IBAN);
    assert_eq!(bic.as_ref().unwrap().as_str(), "HABLLT22");
    assert_eq!(revealed.payee_fingerprint, created.payee_fingerprint);
    assert!(!format!("{revealed:?}").contains(NAME));

    // the other methods
    let stripe = beneficiaries::create(
        &db.pool,
        &key,
        campaign,
        &new(json!({ "name": "Maria K.", "method": { "kind": "stripe_connect", "account": "acct_1032D82eZvKYlo2C" } })),
    )
    .await
    .unwrap();
    assert_eq!((stripe.method, stripe.masked.as_deref()), (MethodKind::StripeConnect, Some("acct_****lo2C")));
    let manual = beneficiaries::create(
        &db.pool,
        &key,
        campaign,
        &new(json!({ "name": "Ihar Losik", "contact": "via his wife", "method": { "kind": "manual" } })),
    )
    .await
    .unwrap();
    assert_eq!((manual.method, manual.masked.as_deref()), (MethodKind::Manual, None));
    let revealed = beneficiaries::reveal(&db.pool, &key, stripe.id, &zbor_audit::Actor::CLI).await.unwrap();
    assert_eq!(
        revealed.method,
        PayoutMethod::StripeConnect { account: StripeAccount::parse("acct_1032D82eZvKYlo2C").unwrap() }
    );
    let revealed = beneficiaries::reveal(&db.pool, &key, manual.id, &zbor_audit::Actor::CLI).await.unwrap();
    assert_eq!((revealed.name.as_str(), revealed.method), ("Ihar Losik", PayoutMethod::Manual));
    let ids: Vec<_> = beneficiaries::list(&db.pool, campaign).await.unwrap().iter().map(|b| b.id).collect();
    assert_eq!(ids, [created.id, stripe.id, manual.id]);

    // refusals
    let err = beneficiaries::create(
        &db.pool,
        &key,
        zbor_campaigns::CampaignId::from_i64(campaign.as_i64() + 1000),
        &new(ales()),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::CampaignNotFound(_)) && err.is_client_error(), "{err}");
    let err = beneficiaries::create(
        &db.pool,
        &key,
        campaign,
        &new(json!({ "name": " ", "method": { "kind": "manual" } })),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::InvalidField { field: "name", .. }), "{err}");
    let missing = beneficiaries::BeneficiaryId::from_i64(created.id.as_i64() + 1000);
    assert!(matches!(beneficiaries::get(&db.pool, missing).await, Err(Error::BeneficiaryNotFound(_))));
    assert!(matches!(
        beneficiaries::reveal(&db.pool, &key, missing, &zbor_audit::Actor::CLI).await,
        Err(Error::BeneficiaryNotFound(_))
    ));
    db.drop_database().await;
}

#[tokio::test]
async fn the_database_holds_nothing_personal_in_clear() {
    let db = TestDb::new(4).await;
    let campaign = campaign(&db, "release-2").await;
    let key = DataKey::generate();
    let created = beneficiaries::create(&db.pool, &key, campaign, &new(ales())).await.unwrap();

    // every column as text (bytea as hex), and the raw bytes of the binary columns
    let text: String = sqlx::query_scalar("select row_to_json(b)::text from beneficiaries b where id = $1")
        .bind(created.id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let (sealed, iban_index, fingerprint): (Vec<u8>, Vec<u8>, Vec<u8>) =
        sqlx::query_as("select sealed, iban_index, payee_fingerprint from beneficiaries where id = $1")
            .bind(created.id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let text = text.to_lowercase();
    for secret in
        [NAME, "Bialiatski", CONTACT, "765 43 21", IBAN, "1000011101001", "HABLLT22", NOTE, "sister"]
    {
        let lower = secret.to_lowercase();
        assert!(!text.contains(&lower), "{secret} in {text}");
        assert!(!text.contains(&hex::encode(secret)), "{secret} (hex) in {text}");
        for bytes in [&sealed, &iban_index, &fingerprint] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} in a bytea column"
            );
        }
    }
    // only the masked form, whose digits are the IBAN's last four
    assert!(text.contains("\"masked\":\"**** 1000\""), "{text}");
    db.drop_database().await;
}

#[tokio::test]
async fn the_same_iban_twice_is_flagged_as_a_duplicate() {
    let db = TestDb::new(4).await;
    let campaign = campaign(&db, "release-3").await;
    let other_campaign = common::campaign(&db, "release-4").await;
    let key = DataKey::generate();
    let sepa =
        |name: &str, iban: &str| new(json!({ "name": name, "method": { "kind": "sepa", "iban": iban } }));

    let first = beneficiaries::create(&db.pool, &key, campaign, &sepa("Spouse", "DE89370400440532013000"))
        .await
        .unwrap();
    let unrelated =
        beneficiaries::create(&db.pool, &key, campaign, &sepa("Someone else", "GB82WEST12345698765432"))
            .await
            .unwrap();
    // the same account, written differently: flagged, not refused
    let second =
        beneficiaries::create(&db.pool, &key, campaign, &sepa("Prisoner", "de89 3704 0044 0532 0130 00"))
            .await
            .unwrap();
    assert_eq!(second.duplicate_of, [first.id]);
    assert_eq!(second.payee_fingerprint, first.payee_fingerprint, "same destination, same fingerprint");
    let third = beneficiaries::create(
        &db.pool,
        &key,
        other_campaign,
        &sepa("Elsewhere", "DE89 3704 0044 0532 0130 00 "),
    )
    .await
    .unwrap();
    assert_eq!(third.duplicate_of, [first.id, second.id]);

    let listed = beneficiaries::list(&db.pool, campaign).await.unwrap();
    let flags: Vec<_> = listed.iter().map(|b| (b.id, b.duplicate_of.clone())).collect();
    assert_eq!(
        flags,
        [
            (first.id, vec![second.id, third.id]),
            (unrelated.id, vec![]),
            (second.id, vec![first.id, third.id])
        ]
    );

    let all = beneficiaries::duplicates(&db.pool, None).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].masked_iban, "**** 3000");
    let members: Vec<_> = all[0].beneficiaries.iter().map(|b| (b.id, b.campaign_id)).collect();
    assert_eq!(members, [(first.id, campaign), (second.id, campaign), (third.id, other_campaign)]);
    assert_eq!(beneficiaries::duplicates(&db.pool, Some(other_campaign)).await.unwrap(), all);
    let empty_campaign = campaign_with_unique(&db, &key).await;
    assert!(beneficiaries::duplicates(&db.pool, Some(empty_campaign)).await.unwrap().is_empty());

    // changing one IBAN away dissolves the flag
    let change = BeneficiaryUpdate {
        method: Some(PayoutMethod::Sepa { iban: Iban::parse("NL91ABNA0417164300").unwrap(), bic: None }),
        ..Default::default()
    };
    beneficiaries::update(&db.pool, &key, third.id, &change).await.unwrap();
    assert_eq!(beneficiaries::get(&db.pool, second.id).await.unwrap().duplicate_of, [first.id]);
    assert!(beneficiaries::duplicates(&db.pool, Some(other_campaign)).await.unwrap().is_empty());
    db.drop_database().await;
}

/// A campaign whose one beneficiary shares nothing.
async fn campaign_with_unique(db: &TestDb, key: &DataKey) -> zbor_campaigns::CampaignId {
    let id = campaign(db, "release-5").await;
    let unique =
        new(json!({ "name": "Alone", "method": { "kind": "sepa", "iban": "PL61109010140000071219812874" } }));
    beneficiaries::create(&db.pool, key, id, &unique).await.unwrap();
    id
}

#[tokio::test]
async fn changing_the_destination_changes_the_fingerprint_and_a_note_does_not() {
    let db = TestDb::new(4).await;
    let campaign = campaign(&db, "release-6").await;
    let key = DataKey::generate();
    let created = beneficiaries::create(&db.pool, &key, campaign, &new(ales())).await.unwrap();

    let note = BeneficiaryUpdate { note: Some("second payment in March".into()), ..Default::default() };
    let updated = beneficiaries::update(&db.pool, &key, created.id, &note).await.unwrap();
    assert!(!updated.payee_changed);
    assert_eq!(updated.beneficiary.payee_fingerprint, created.payee_fingerprint);
    let renamed = BeneficiaryUpdate {
        name: Some("Ales V. Bialiatski".into()),
        contact: Some(String::new()),
        ..Default::default()
    };
    assert!(!beneficiaries::update(&db.pool, &key, created.id, &renamed).await.unwrap().payee_changed);
    let revealed = beneficiaries::reveal(&db.pool, &key, created.id, &zbor_audit::Actor::CLI).await.unwrap();
    assert_eq!(
        (revealed.name.as_str(), revealed.contact.as_str(), revealed.note.as_str()),
        ("Ales V. Bialiatski", "", "second payment in March")
    );
    assert!(matches!(revealed.method, PayoutMethod::Sepa { ref iban, .. } if iban.as_str() == IBAN));

    // a new IBAN: new fingerprint, new masked form
    let iban = BeneficiaryUpdate {
        method: Some(PayoutMethod::Sepa { iban: Iban::parse("NL91 ABNA 0417 1643 00").unwrap(), bic: None }),
        ..Default::default()
    };
    let moved = beneficiaries::update(&db.pool, &key, created.id, &iban).await.unwrap();
    assert!(moved.payee_changed);
    assert_ne!(moved.beneficiary.payee_fingerprint, created.payee_fingerprint);
    assert_eq!(moved.beneficiary.masked.as_deref(), Some("**** 4300"));
    assert!(moved.beneficiary.updated_at >= created.updated_at);
    // setting the same destination again changes nothing
    assert!(!beneficiaries::update(&db.pool, &key, created.id, &iban).await.unwrap().payee_changed);
    // to manual and back
    let manual = BeneficiaryUpdate { method: Some(PayoutMethod::Manual), ..Default::default() };
    let by_hand = beneficiaries::update(&db.pool, &key, created.id, &manual).await.unwrap();
    assert!(by_hand.payee_changed);
    assert_eq!((by_hand.beneficiary.method, by_hand.beneficiary.masked), (MethodKind::Manual, None));
    assert!(beneficiaries::update(&db.pool, &key, created.id, &iban).await.unwrap().payee_changed);
    assert_eq!(
        beneficiaries::get(&db.pool, created.id).await.unwrap().payee_fingerprint,
        moved.beneficiary.payee_fingerprint
    );

    let bad = BeneficiaryUpdate { name: Some(String::new()), ..Default::default() };
    assert!(matches!(
        beneficiaries::update(&db.pool, &key, created.id, &bad).await,
        Err(Error::InvalidField { field: "name", .. })
    ));
    db.drop_database().await;
}

#[tokio::test]
async fn reveal_with_the_wrong_key_fails_clearly() {
    let db = TestDb::new(4).await;
    let campaign = campaign(&db, "release-7").await;
    let key = DataKey::generate();
    let created = beneficiaries::create(&db.pool, &key, campaign, &new(ales())).await.unwrap();

    let err = beneficiaries::reveal(&db.pool, &DataKey::generate(), created.id, &zbor_audit::Actor::CLI)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::CannotDecrypt(id) if id == created.id), "{err:?}");
    assert!(!err.is_client_error());
    let message = err.to_string();
    assert!(message.contains("ZBOR_DATA_KEY") && message.contains(&created.id.to_string()), "{message}");
    // nor can it be updated under the wrong key
    let note = BeneficiaryUpdate { note: Some("x".into()), ..Default::default() };
    assert!(matches!(
        beneficiaries::update(&db.pool, &DataKey::generate(), created.id, &note).await,
        Err(Error::CannotDecrypt(_))
    ));
    db.drop_database().await;
}

#[tokio::test]
async fn sealed_data_opens_only_on_its_own_row() {
    let db = TestDb::new(4).await;
    let campaign = campaign(&db, "release-8").await;
    let key = DataKey::generate();
    let a = beneficiaries::create(&db.pool, &key, campaign, &new(ales())).await.unwrap();
    let b = beneficiaries::create(
        &db.pool,
        &key,
        campaign,
        &new(json!({ "name": "Insider", "method": { "kind": "sepa", "iban": "GB82WEST12345698765432" } })),
    )
    .await
    .unwrap();

    let (b_sealed, b_record_key): (Vec<u8>, uuid::Uuid) =
        sqlx::query_as("select sealed, record_key from beneficiaries where id = $1")
            .bind(b.id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    // b's sealed value copied onto a's row does not open there
    sqlx::query("update beneficiaries set sealed = $2 where id = $1")
        .bind(a.id)
        .bind(&b_sealed)
        .execute(&db.pool)
        .await
        .unwrap();
    assert!(
        matches!(beneficiaries::reveal(&db.pool, &key, a.id, &zbor_audit::Actor::CLI).await, Err(Error::CannotDecrypt(id)) if id == a.id)
    );
    // copied together with its record key it opens, but disagrees with a's index and fingerprint
    sqlx::query("update beneficiaries set record_key = gen_random_uuid() where id = $1")
        .bind(b.id)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("update beneficiaries set record_key = $2 where id = $1")
        .bind(a.id)
        .bind(b_record_key)
        .execute(&db.pool)
        .await
        .unwrap();
    assert!(
        matches!(beneficiaries::reveal(&db.pool, &key, a.id, &zbor_audit::Actor::CLI).await, Err(Error::Inconsistent(id)) if id == a.id)
    );
    db.drop_database().await;
}
