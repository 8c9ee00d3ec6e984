//! The campaign the tests give to, once: campaigns' tests use it, and intake's tests include this
//! file by `#[path]` (a testkit dependency on zbor-campaigns would give this crate's own tests two
//! copies of it).
#![allow(dead_code, clippy::unwrap_used)] // test support

use zbor_campaigns::{Campaign, NewCampaign};
use zbor_testkit::TestDb;

/// `release-123`: EUR 123,000 for 123 people, EUR 1,000 each.
pub async fn release_123(db: &TestDb) -> Campaign {
    zbor_campaigns::create(
        &db.pool,
        &NewCampaign {
            slug: "release-123".into(),
            title: "123 released political prisoners".into(),
            description: String::new(),
            currency: "EUR".into(),
            goal: "123000".into(),
            amount_per_beneficiary: Some("1000".into()),
            suggested_amounts: vec!["10".into(), "25".into(), "50".into()],
            overflow: None,
            translations: Default::default(),
        },
    )
    .await
    .unwrap()
}
