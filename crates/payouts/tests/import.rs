#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! `zbor beneficiaries import`: all or nothing, every bad line named without its values, and
//! progress reported row by row.

mod common;

use common::*;
use zbor_errors::Classified;
use zbor_payouts::beneficiaries::{self, MethodKind};
use zbor_payouts::import::{import_csv, ImportReport};
use zbor_payouts::Error;
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

async fn count(db: &TestDb) -> i64 {
    sqlx::query_scalar("select count(*) from beneficiaries").fetch_one(&db.pool).await.unwrap()
}

#[tokio::test]
async fn a_file_with_bad_rows_imports_nothing_and_names_every_bad_line() {
    let db = TestDb::new(4).await;
    let campaign = campaign(&db, "import-1").await;
    let key = DataKey::generate();
    let csv = "name,contact,iban,bic,stripe_account,note\n\
               Ales Bialiatski,+375 29 111 22 33,DE89 3704 0044 0532 0130 00,COBADEFFXXX,,\n\
               Maria Kalesnikava,,,,acct_1032D82eZvKYlo2C,\n\
               Ihar Losik,,DE89370400440532013001,,,checksum broken\n\
               Viktar Babaryka,,XX12345678,,,\n\
               Siarhei Tsikhanouski,,GB82WEST12345698765432,,acct_1032D82eZvKYlo2C,\n\
               Mikalai Statkevich,,GB82 WEST 1234 5698 7654 32,NOT A BIC,,\n\
               Palina Sharenda-Panasiuk,,,,,manual\n";
    let mut calls = 0;
    let report = import_csv(&db.pool, &key, campaign, csv.as_bytes(), |_, _| calls += 1).await.unwrap();
    assert_eq!(report.created, 0);
    let lines: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "line 4: iban: checksum is wrong (a character is mistyped)",
            "line 5: iban: does not start with the code of a country that uses IBANs",
            "line 6: give an IBAN or a Stripe account, not both",
            "line 7: bic: must be 8 or 11 characters: 4 letters (bank), 2 letters (country), 2 letters or digits \
             (location), optionally 3 letters or digits (branch)",
        ]
    );
    let all = format!("{report:?} {}", serde_json::to_string(&report).unwrap());
    for secret in [
        "Ihar",
        "Losik",
        "Babaryka",
        "Tsikhanouski",
        "Statkevich",
        "0532013001",
        "XX12",
        "GB82",
        "NOT A BIC",
        "broken",
    ] {
        assert!(!all.contains(secret), "{secret} in {all}");
    }
    assert_eq!(calls, 0, "nothing written, no progress");
    assert_eq!(count(&db).await, 0, "all or nothing");

    // fixed, the same file goes in whole
    let fixed = "name,contact,iban,bic,stripe_account,note\n\
                 Ales Bialiatski,+375 29 111 22 33,DE89 3704 0044 0532 0130 00,COBADEFFXXX,,\n\
                 Maria Kalesnikava,,,,acct_1032D82eZvKYlo2C,\n\
                 Palina Sharenda-Panasiuk,,,,,\"manual, \"\"by hand\"\"\"\n";
    let report = import_csv(&db.pool, &key, campaign, fixed.as_bytes(), |_, _| {}).await.unwrap();
    assert_eq!(report, ImportReport { created: 3, errors: vec![] });
    let listed = beneficiaries::list(&db.pool, campaign).await.unwrap();
    let methods: Vec<_> = listed.iter().map(|b| b.method).collect();
    assert_eq!(methods, [MethodKind::Sepa, MethodKind::StripeConnect, MethodKind::Manual]);
    let revealed =
        beneficiaries::reveal(&db.pool, &key, listed[2].id, &zbor_audit::Actor::CLI).await.unwrap();
    assert_eq!(
        (revealed.name.as_str(), revealed.note.as_str()),
        ("Palina Sharenda-Panasiuk", "manual, \"by hand\"")
    );
    let revealed =
        beneficiaries::reveal(&db.pool, &key, listed[0].id, &zbor_audit::Actor::CLI).await.unwrap();
    assert_eq!(revealed.contact, "+375 29 111 22 33");

    // an unknown campaign or a wrong header is an error of the whole file
    let err = import_csv(
        &db.pool,
        &key,
        zbor_campaigns::CampaignId::from_i64(campaign.as_i64() + 1000),
        fixed.as_bytes(),
        |_, _| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::CampaignNotFound(_)), "{err}");
    let err =
        import_csv(&db.pool, &key, campaign, "name,iban\nA,B\n".as_bytes(), |_, _| {}).await.unwrap_err();
    assert!(matches!(err, Error::InvalidCsv(_)) && err.is_client_error(), "{err}");
    assert_eq!(count(&db).await, 3);
    db.drop_database().await;
}

#[tokio::test]
async fn five_hundred_rows_import_with_progress() {
    let db = TestDb::new(4).await;
    let campaign = campaign(&db, "import-2").await;
    let key = DataKey::generate();
    let mut csv = String::from("name,contact,iban,bic,stripe_account,note\n");
    for i in 0..500u64 {
        match i % 5 {
            0 => csv.push_str(&format!("Person {i},,,,acct_test{i:06},\n")),
            1 => csv.push_str(&format!("Person {i},phone {i},,,,paid by hand\n")),
            _ => csv.push_str(&format!("Person {i},,{},,,\n", de_iban(i))),
        }
    }
    let mut calls = Vec::new();
    let report =
        import_csv(&db.pool, &key, campaign, csv.as_bytes(), |done, total| calls.push((done, total)))
            .await
            .unwrap();
    assert_eq!(report, ImportReport { created: 500, errors: vec![] });
    assert_eq!(calls.len(), 501);
    assert_eq!(calls.first(), Some(&(0, 500)));
    assert_eq!(calls.last(), Some(&(500, 500)));
    assert!(calls.windows(2).all(|w| w[1].0 == w[0].0 + 1));

    let listed = beneficiaries::list(&db.pool, campaign).await.unwrap();
    assert_eq!(listed.len(), 500);
    assert!(listed.iter().all(|b| b.duplicate_of.is_empty()), "500 different accounts");
    let revealed =
        beneficiaries::reveal(&db.pool, &key, listed[499].id, &zbor_audit::Actor::CLI).await.unwrap();
    assert_eq!(revealed.name, "Person 499");
    db.drop_database().await;
}
