#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test support
//! The payout tests' fixtures, each once: a campaign (funded or not), its treasurers, beneficiaries
//! and their confirmed destinations.
//!
//! zbor-server's payout tests use this same file, not a copy: `crates/server/tests/common/mod.rs`
//! includes it with `#[path]`. It cannot move to zbor-testkit: testkit is a dev-dependency of
//! zbor-payouts, so a testkit depending on zbor-payouts would give payouts' own tests a second copy
//! of this crate, whose types do not match the first. So it names only crates that both test
//! suites already have (zbor-payouts, -campaigns, -ledger, -auth, -vault, -testkit, serde_json, sqlx).

use zbor_auth::UserId;
use zbor_campaigns::{Campaign, CampaignId, NewCampaign};
use zbor_ledger::{Currency, Money, NewTransaction, TransactionId};
use zbor_payouts::beneficiaries::NewBeneficiary;
use zbor_testkit::TestDb;

pub fn eur(amount: &str) -> Money {
    Money::parse(amount, Currency::parse("EUR").unwrap()).unwrap()
}

/// A EUR campaign, nothing raised yet. Its title is what a bank statement must never show: the SEPA
/// test looks for it in the file it sends.
pub async fn new_campaign(db: &TestDb, slug: &str) -> Campaign {
    zbor_campaigns::create(
        &db.pool,
        &NewCampaign {
            slug: slug.into(),
            title: "Released political prisoners".into(),
            description: String::new(),
            currency: "EUR".into(),
            goal: "123000".into(),
            amount_per_beneficiary: Some("1000".into()),
            suggested_amounts: vec![],
            overflow: None,
            translations: Default::default(),
        },
    )
    .await
    .unwrap()
}

/// A campaign to attach beneficiaries to; its id.
pub async fn campaign(db: &TestDb, slug: &str) -> CampaignId {
    new_campaign(db, slug).await.id
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
/// `campaign_id` not yet confirmed, as the console's confirmation (`POST
/// /api/v1/beneficiaries/confirmations`) does: a shortcut for tests about something else.
pub async fn confirm_all(pool: &sqlx::PgPool, campaign_id: CampaignId, confirmer: UserId) {
    let list = zbor_payouts::beneficiaries::list(pool, campaign_id).await.unwrap();
    let pending: Vec<zbor_payouts::beneficiaries::Confirmation> =
        list.iter().filter(|b| !b.destination_confirmed()).map(Into::into).collect();
    if !pending.is_empty() {
        zbor_payouts::beneficiaries::confirm(pool, &pending, confirmer).await.unwrap();
    }
}

/// Donations arrived: EUR `funds` booked from Stripe's balance to the account of campaign `slug`
/// (however it was created: here or over HTTP).
pub async fn fund(pool: &sqlx::PgPool, slug: &str, funds: &str) {
    let mut conn = pool.acquire().await.unwrap();
    let stripe = zbor_ledger::account_by_code(&mut *conn, "stripe:balance:eur").await.unwrap();
    let campaign = zbor_ledger::account_by_code(&mut *conn, &format!("campaign:{slug}")).await.unwrap();
    let tx = NewTransaction::new(TransactionId::derived_from(&format!("funds:{slug}")))
        .debit(stripe.id, eur(funds))
        .credit(campaign.id, eur(funds));
    zbor_ledger::post_in(&mut conn, &tx).await.unwrap();
}

/// A EUR campaign whose account already holds `funds` (donations booked from Stripe's balance).
pub async fn funded_campaign(db: &TestDb, slug: &str, funds: &str) -> Campaign {
    let campaign = new_campaign(db, slug).await;
    fund(&db.pool, slug, funds).await;
    campaign
}

/// Treasurers added on the host, one per email; their ids in order.
pub async fn treasurers(db: &TestDb, key: &zbor_vault::DataKey, emails: &[&str]) -> Vec<UserId> {
    let mut ids = Vec::new();
    for email in emails {
        let user = zbor_auth::add_user(
            &db.pool,
            key,
            email,
            zbor_auth::Role::Treasurer,
            "correct horse battery",
            &zbor_auth::Actor::CLI,
        )
        .await
        .unwrap();
        ids.push(user.id);
    }
    ids
}
