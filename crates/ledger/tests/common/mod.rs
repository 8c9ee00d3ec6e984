#![allow(clippy::unwrap_used, clippy::expect_used)] // test support
#![allow(dead_code)]

use zbor_ledger::{Account, AccountKind, Currency, Ledger, Money, NewAccount};
use zbor_testkit::TestDb;

pub fn eur(amount: &str) -> Money {
    Money::parse(amount, Currency::parse("EUR").unwrap()).unwrap()
}

pub async fn setup(max_connections: u32) -> (TestDb, Ledger) {
    let db = TestDb::new(max_connections).await;
    let ledger = Ledger::new(db.pool.clone());
    (db, ledger)
}

pub async fn account(ledger: &Ledger, code: &str, kind: AccountKind, non_negative: bool) -> Account {
    ledger
        .create_account(&NewAccount {
            code: code.into(),
            kind,
            currency: Currency::parse("EUR").unwrap(),
            non_negative,
        })
        .await
        .unwrap()
}

/// A donation-like pair: the processor's balance (asset) and a campaign's funds (liability,
/// may not go below zero).
pub async fn bank_and_campaign(ledger: &Ledger) -> (Account, Account) {
    let bank = account(ledger, "stripe:balance", AccountKind::Asset, false).await;
    let campaign = account(ledger, "campaign:release-123", AccountKind::Liability, true).await;
    (bank, campaign)
}

pub async fn count(db: &TestDb, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}")).fetch_one(&db.pool).await.unwrap()
}

/// Books `amount` EUR from `from` (debited) to `to` (credited): funds a campaign in one line.
pub async fn donate(ledger: &Ledger, from: &Account, to: &Account, amount: &str) {
    let tx = zbor_ledger::NewTransaction::new(zbor_ledger::TransactionId::new_random())
        .debit(from.id, eur(amount))
        .credit(to.id, eur(amount));
    ledger.post(&tx).await.unwrap();
}
