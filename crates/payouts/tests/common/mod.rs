#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test support

use zbor_intake::campaigns::{self, NewCampaign};
use zbor_payouts::beneficiaries::NewBeneficiary;
use zbor_testkit::TestDb;

/// A campaign to attach beneficiaries to; its id.
pub async fn campaign(db: &TestDb, slug: &str) -> i64 {
    campaigns::create(
        &db.pool,
        &NewCampaign {
            slug: slug.into(),
            title: "Released political prisoners".into(),
            description: String::new(),
            currency: "EUR".into(),
            goal: "10000".into(),
            amount_per_beneficiary: Some("1000".into()),
            suggested_amounts: vec![],
        },
    )
    .await
    .unwrap()
    .id
    .as_i64()
}

pub fn new(json: serde_json::Value) -> NewBeneficiary {
    serde_json::from_value(json).unwrap()
}

/// A valid German IBAN for account number `n`, with its check digits computed (ISO 13616).
pub fn de_iban(n: u64) -> String {
    let bban = format!("37040044{n:010}");
    // rearranged: BBAN, then "DE00" as digits (D = 13, E = 14)
    let remainder = format!("{bban}131400").bytes().fold(0u32, |r, b| (r * 10 + u32::from(b - b'0')) % 97);
    format!("DE{:02}{bban}", 98 - remainder)
}

/// A second treasurer (`confirmer`) confirms the current destination of every beneficiary of
/// `campaign_id` not yet confirmed, as the console's confirmation does.
pub async fn confirm_all(pool: &sqlx::PgPool, campaign_id: i64, confirmer: i64) {
    let list = zbor_payouts::beneficiaries::list(pool, campaign_id).await.unwrap();
    let pending: Vec<zbor_payouts::beneficiaries::Confirmation> =
        list.iter().filter(|b| !b.destination_confirmed()).map(Into::into).collect();
    if !pending.is_empty() {
        zbor_payouts::beneficiaries::confirm(pool, &pending, confirmer).await.unwrap();
    }
}

/// A EUR campaign whose account already holds `funds` (donations booked from Stripe's balance).
pub async fn funded_campaign(db: &TestDb, slug: &str, funds: &str) -> zbor_intake::campaigns::Campaign {
    let campaign = campaigns::create(
        &db.pool,
        &NewCampaign {
            slug: slug.into(),
            title: "123 released".into(),
            description: String::new(),
            currency: "EUR".into(),
            goal: "123000".into(),
            amount_per_beneficiary: Some("1000".into()),
            suggested_amounts: vec![],
        },
    )
    .await
    .unwrap();
    let funds = zbor_ledger::Money::parse(funds, zbor_ledger::Currency::parse("EUR").unwrap()).unwrap();
    let mut conn = db.pool.acquire().await.unwrap();
    let stripe = zbor_ledger::account_by_code(&mut *conn, "stripe:balance:eur").await.unwrap();
    let tx =
        zbor_ledger::NewTransaction::new(zbor_ledger::TransactionId::derived_from(&format!("funds:{slug}")))
            .debit(stripe.id, funds)
            .credit(campaign.ledger_account, funds);
    zbor_ledger::post_in(&mut conn, &tx).await.unwrap();
    campaign
}

/// Treasurers added on the host, one per email; their ids in order.
pub async fn treasurers(db: &TestDb, key: &zbor_vault::DataKey, emails: &[&str]) -> Vec<i64> {
    let mut ids = Vec::new();
    for email in emails {
        let user =
            zbor_auth::add_user(&db.pool, key, email, zbor_auth::Role::Treasurer, "correct horse battery")
                .await
                .unwrap();
        ids.push(user.id.as_i64());
    }
    ids
}
