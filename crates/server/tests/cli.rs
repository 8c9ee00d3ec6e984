#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The `zbor` binary: migrate creates and migrates a database; ledger verify exits non-zero and
//! names the first mismatch.

use std::process::Command;

use sqlx::Executor;
use zbor_ledger::{AccountKind, Currency, Ledger, Money, NewAccount, NewTransaction, TransactionId};
use zbor_testkit::{server_url, with_database, TestDb};

fn zbor(database_url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zbor"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("ZBOR_LOG", "warn")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[tokio::test]
async fn migrate_creates_the_database_and_is_repeatable() {
    let name = format!("zbor_test_{}", uuid_like());
    let url = with_database(&server_url(), &name);
    for _ in 0..2 {
        let (ok, text) = zbor(&url, &["migrate"]);
        assert!(ok, "{text}");
    }
    let pool = zbor_db::connect(&url, 1).await.unwrap();
    let tables: i64 = sqlx::query_scalar("select count(*) from pg_tables where tablename like 'ledger_%'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(tables >= 7, "{tables}");
    pool.close().await;
    let admin = zbor_db::connect(&with_database(&server_url(), "postgres"), 1).await.unwrap();
    admin.execute(format!("drop database {name} with (force)").as_str()).await.unwrap();
}

fn uuid_like() -> String {
    format!(
        "{:x}{:x}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    )
}

#[tokio::test]
async fn ledger_verify_exits_non_zero_naming_the_first_mismatch() {
    let db = TestDb::new(2).await;
    let ledger = Ledger::new(db.pool.clone());
    let eur = Currency::parse("EUR").unwrap();
    let new = |code: &str, kind| NewAccount { code: code.into(), kind, currency: eur, non_negative: false };
    let bank = ledger.create_account(&new("stripe:balance", AccountKind::Asset)).await.unwrap();
    let campaign = ledger.create_account(&new("campaign:release-123", AccountKind::Liability)).await.unwrap();
    let amount = Money::parse("50", eur).unwrap();
    ledger
        .post(
            &NewTransaction::new(TransactionId::new_random())
                .debit(bank.id, amount)
                .credit(campaign.id, amount),
        )
        .await
        .unwrap();

    let (ok, text) = zbor(&db.url, &["ledger", "verify", "--seal"]);
    assert!(ok, "{text}");
    assert!(text.contains("ledger verify: ok") && text.contains("sealed 1"), "{text}");

    let mut conn = db.pool.acquire().await.unwrap();
    conn.execute("set session_replication_role = replica").await.unwrap();
    conn.execute("update ledger_balance_shards set credits = credits + 1 where account_id = 2")
        .await
        .unwrap();
    drop(conn);
    let (ok, text) = zbor(&db.url, &["ledger", "verify"]);
    assert!(!ok, "{text}");
    assert!(text.contains("FAILED") && text.contains("campaign:release-123"), "{text}");
    db.drop_database().await;
}

#[tokio::test]
async fn campaigns_are_created_and_closed_from_the_command_line() {
    let db = TestDb::new(2).await;
    let create = [
        "campaign",
        "create",
        "--slug",
        "release-123",
        "--title",
        "123 released",
        "--currency",
        "EUR",
        "--goal",
        "123000",
        "--per-beneficiary",
        "1000",
        "--suggested",
        "10,25,50",
    ];
    let (ok, text) = zbor(&db.url, &create);
    assert!(ok, "{text}");
    assert!(text.contains("\"amount\": \"123000.00\"") && text.contains("\"25.00\""), "{text}");
    let (ok, text) = zbor(&db.url, &create);
    assert!(!ok && text.contains("already exists"), "{text}");
    let (ok, text) = zbor(&db.url, &["campaign", "close", "release-123"]);
    assert!(ok && text.contains("\"closed\""), "{text}");
    let (ok, text) = zbor(&db.url, &["campaign", "update", "release-123", "--goal", "0.001"]);
    assert!(!ok && text.contains("goal"), "{text}");
    let goal: rust_decimal::Decimal =
        sqlx::query_scalar("select goal from campaigns").fetch_one(&db.pool).await.unwrap();
    assert_eq!(goal.to_string(), "123000.00");
    db.drop_database().await;
}

#[tokio::test]
async fn user_add_is_audited_and_audit_verify_finds_tampering() {
    let db = TestDb::new(2).await;
    let key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    let out = Command::new(env!("CARGO_BIN_EXE_zbor"))
        .args(["user", "add", "--email", "t@example.org", "--role", "treasurer"])
        .env("DATABASE_URL", &db.url)
        .env("ZBOR_DATA_KEY", key)
        .env("ZBOR_LOG", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text} {}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("\"role\": \"treasurer\"") && text.contains("password (shown once): "), "{text}");
    let (ok, text) = zbor(&db.url, &["user", "add", "--email", "x@example.org", "--role", "admin"]);
    assert!(!ok && text.contains("ZBOR_DATA_KEY"), "without the key users cannot be added: {text}");

    let (ok, text) = zbor(&db.url, &["audit", "verify"]);
    assert!(ok && text.contains("entries 1") && text.contains("audit verify: ok"), "{text}");
    // tampering, with the guard triggers switched off as only a superuser could
    let mut conn = db.pool.acquire().await.unwrap();
    conn.execute("set session_replication_role = replica").await.unwrap();
    conn.execute("update audit_log set actor = 'user:99'").await.unwrap();
    drop(conn);
    let (ok, text) = zbor(&db.url, &["audit", "verify"]);
    assert!(!ok && text.contains("FAILED at entry"), "{text}");
    db.drop_database().await;
}
