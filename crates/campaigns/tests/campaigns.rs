#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

mod common;

use common::release_123;

use zbor_campaigns::{
    self as campaigns, AccountCode, CampaignId, CampaignStatus, CampaignUpdate, Error, NewCampaign,
};
use zbor_errors::Classified;
use zbor_testkit::TestDb;

fn eur(amount: &str) -> zbor_ledger::Money {
    zbor_ledger::Money::parse(amount, zbor_ledger::Currency::parse("EUR").unwrap()).unwrap()
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

#[tokio::test]
async fn a_campaign_gets_its_own_non_negative_ledger_account() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    assert_eq!(campaign.goal, eur("123000"));
    assert_eq!(campaign.amount_per_beneficiary, Some(eur("1000")));
    assert_eq!(campaign.suggested_amounts, vec![eur("10"), eur("25"), eur("50")]);
    assert_eq!(campaign.status, CampaignStatus::Open);
    let mut conn = db.pool.acquire().await.unwrap();
    let account = zbor_ledger::account(&mut *conn, campaign.ledger_account).await.unwrap();
    assert_eq!(account.code, "campaign:release-123");
    assert!(account.non_negative);
    assert_eq!(account.kind, zbor_ledger::AccountKind::Liability);
    for code in ["stripe:balance:eur", "stripe:fees:eur"] {
        zbor_ledger::account_by_code(&mut *conn, code).await.unwrap();
    }
    drop(conn); // closing the pool waits for every connection to come back
    db.drop_database().await;
}

#[tokio::test]
async fn bad_campaigns_are_refused_and_nothing_is_written() {
    let db = TestDb::new(4).await;
    let good = NewCampaign {
        slug: "release-123".into(),
        title: "Title".into(),
        description: String::new(),
        currency: "EUR".into(),
        goal: "123000".into(),
        amount_per_beneficiary: None,
        suggested_amounts: vec![],
        overflow: None,
        translations: Default::default(),
    };
    let cases: Vec<(&str, NewCampaign)> = vec![
        ("slug", NewCampaign { slug: "Release 123".into(), ..good.clone() }),
        ("title", NewCampaign { title: "  ".into(), ..good.clone() }),
        ("currency", NewCampaign { currency: "EURO".into(), ..good.clone() }),
        ("goal zero", NewCampaign { goal: "0".into(), ..good.clone() }),
        ("goal negative", NewCampaign { goal: "-5".into(), ..good.clone() }),
        ("goal too fine", NewCampaign { goal: "10.001".into(), ..good.clone() }),
        ("goal not a number", NewCampaign { goal: "lots".into(), ..good.clone() }),
        ("per beneficiary", NewCampaign { amount_per_beneficiary: Some("0".into()), ..good.clone() }),
        ("suggested", NewCampaign { suggested_amounts: vec!["5".into(), "x".into()], ..good.clone() }),
        ("too many suggested", NewCampaign { suggested_amounts: vec!["5".into(); 9], ..good.clone() }),
        (
            "translation's language",
            NewCampaign { translations: translated(&[("fr", "Libérez-les", "")]), ..good.clone() },
        ),
        (
            "translation's region",
            NewCampaign {
                translations: translated(&[("be-BY", "Вызваленне", "")]), ..good.clone()
            },
        ),
        (
            "translation's title",
            NewCampaign { translations: translated(&[("be", "  ", "")]), ..good.clone() },
        ),
        (
            "translation's description",
            NewCampaign { translations: translated(&[("de", "Frei", &"x".repeat(5001))]), ..good.clone() },
        ),
    ];
    for (name, bad) in cases {
        let err = campaigns::create(&db.pool, &bad).await.expect_err(name);
        assert!(err.is_client_error(), "{name}: {err}");
    }
    assert_eq!(count(&db, "select count(*) from campaigns").await, 0);
    assert_eq!(count(&db, "select count(*) from ledger_accounts").await, 0);
    campaigns::create(&db.pool, &good).await.unwrap();
    assert!(matches!(campaigns::create(&db.pool, &good).await, Err(Error::SlugTaken(_))));
    db.drop_database().await;
}

#[tokio::test]
async fn updates_change_only_what_is_given_and_close_the_campaign() {
    let db = TestDb::new(4).await;
    let before = release_123(&db).await;
    let change = CampaignUpdate { goal: Some("150000".into()), ..CampaignUpdate::default() };
    let after = campaigns::update(&db.pool, "release-123", &change).await.unwrap();
    assert_eq!(after.goal, eur("150000"));
    assert_eq!((after.title, after.suggested_amounts), (before.title, before.suggested_amounts));
    let removed: CampaignUpdate = serde_json::from_str(r#"{"amount_per_beneficiary": null}"#).unwrap();
    let after = campaigns::update(&db.pool, "release-123", &removed).await.unwrap();
    assert_eq!(after.amount_per_beneficiary, None);
    let close = CampaignUpdate { status: Some(CampaignStatus::Closed), ..CampaignUpdate::default() };
    assert_eq!(
        campaigns::update(&db.pool, "release-123", &close).await.unwrap().status,
        CampaignStatus::Closed
    );
    let bad = CampaignUpdate { goal: Some("1.001".into()), ..CampaignUpdate::default() };
    assert!(campaigns::update(&db.pool, "release-123", &bad).await.is_err());
    assert!(matches!(
        campaigns::update(&db.pool, "nope", &CampaignUpdate::default()).await,
        Err(Error::CampaignNotFound(_))
    ));
    // The currency cannot be changed: the field does not exist in an update.
    assert!(serde_json::from_str::<CampaignUpdate>(r#"{"currency": "USD"}"#).is_err());
    db.drop_database().await;
}

#[tokio::test]
async fn campaigns_by_id_with_their_payout_terms() {
    let db = TestDb::new(4).await;
    let campaign = release_123(&db).await;
    let found = campaigns::by_id(&db.pool, campaign.id).await.unwrap().unwrap();
    assert_eq!((found.slug, found.ledger_account), (campaign.slug.clone(), campaign.ledger_account));
    assert_eq!(found.payout_approvals_required, 2); // the column's default: four eyes
    let missing = CampaignId::from_i64(campaign.id.as_i64() + 1);
    assert!(campaigns::by_id(&db.pool, missing).await.unwrap().is_none());
    let both = campaigns::by_ids(&db.pool, &[missing, campaign.id, campaign.id]).await.unwrap();
    assert_eq!(both.iter().map(|c| c.id).collect::<Vec<_>>(), vec![campaign.id]);
    // the campaign's funds are the chart's account for its slug
    let mut conn = db.pool.acquire().await.unwrap();
    let code = AccountCode::campaign(&campaign.slug);
    let funds = zbor_ledger::account_by_code(&mut *conn, code.as_str()).await.unwrap();
    assert_eq!(funds.id, campaign.ledger_account);
    drop(conn);
    db.drop_database().await;
}

fn translated(texts: &[(&str, &str, &str)]) -> std::collections::BTreeMap<String, campaigns::CampaignText> {
    texts
        .iter()
        .map(|(lang, title, description)| {
            (
                (*lang).to_owned(),
                campaigns::CampaignText { title: (*title).into(), description: (*description).into() },
            )
        })
        .collect()
}

#[tokio::test]
async fn titles_and_descriptions_per_language_fall_back_to_the_default() {
    let db = TestDb::new(4).await;
    release_123(&db).await;
    let change = CampaignUpdate {
        translations: Some(translated(&[
            ("be", "  123 вызваленыя палітвязні ", "Дапамога кожнаму."),
            ("de", "123 Freigelassene", ""),
        ])),
        ..CampaignUpdate::default()
    };
    let after = campaigns::update(&db.pool, "release-123", &change).await.unwrap();
    assert_eq!(after.text_in("be"), ("123 вызваленыя палітвязні", "Дапамога кожнаму."));
    assert_eq!(after.text_in("de"), ("123 Freigelassene", after.description.as_str()));
    assert_eq!(after.text_in("pl"), (after.title.as_str(), after.description.as_str()));
    // kept across other changes, read back from the database
    let goal = CampaignUpdate { goal: Some("150000".into()), ..CampaignUpdate::default() };
    campaigns::update(&db.pool, "release-123", &goal).await.unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    let stored = campaigns::by_slug(&mut conn, "release-123").await.unwrap();
    assert_eq!(stored.translations, after.translations);
    // a bad one changes nothing; `{}` removes them all
    let bad =
        CampaignUpdate { translations: Some(translated(&[("xx", "t", "")])), ..CampaignUpdate::default() };
    assert!(campaigns::update(&db.pool, "release-123", &bad).await.unwrap_err().is_client_error());
    let none = CampaignUpdate { translations: Some(Default::default()), ..CampaignUpdate::default() };
    assert!(campaigns::update(&db.pool, "release-123", &none).await.unwrap().translations.is_empty());
    db.drop_database().await;
}
