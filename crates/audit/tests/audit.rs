#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The audit log against the real PostgreSQL: appends chain linearly, commit with the caller's
//! transaction, cannot be changed through SQL, and a change made behind the log's back (triggers
//! off, as a superuser could) is found by `verify` at the right entry.

use serde_json::json;
use sqlx::Executor;
use zbor_audit::{append, append_in, recent, verify, Entry, Error, ProblemKind};
use zbor_testkit::TestDb;

async fn appended(db: &TestDb, n: i64) -> Vec<i64> {
    let mut seqs = Vec::new();
    for i in 0..n {
        let entry = Entry::new("user:42", "payout_batch.approve")
            .subject("payout_batch:12")
            .details(json!({ "n": i, "nested": { "b": 1, "a": [true, null, "x"] } }));
        seqs.push(append(&db.pool, &entry).await.unwrap());
    }
    seqs
}

/// Runs SQL with user triggers disabled: what an attacker with superuser rights could do.
async fn behind_the_logs_back(db: &TestDb, sql: &str) {
    let mut conn = db.pool.acquire().await.unwrap();
    conn.execute("set session_replication_role = replica").await.unwrap();
    conn.execute(sql).await.unwrap();
    conn.execute("set session_replication_role = origin").await.unwrap();
}

#[tokio::test]
async fn appends_chain_and_verify() {
    let db = TestDb::new(4).await;
    let empty = verify(&db.pool).await.unwrap();
    assert!(empty.is_ok() && empty.entries == 0 && empty.head.is_none(), "{empty:?}");

    let seqs = appended(&db, 3).await;
    append(&db.pool, &Entry::new("cli", "payouts.pause")).await.unwrap();
    let report = verify(&db.pool).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.first_problem);
    assert_eq!(report.entries, 4);

    let latest = recent(&db.pool, 10).await.unwrap();
    assert_eq!(latest.len(), 4);
    assert_eq!(latest[0].action, "payouts.pause");
    assert_eq!(latest[0].subject, None);
    assert_eq!(latest[3].seq, seqs[0]);
    assert_eq!(latest[3].prev_hash, vec![0; 32]);
    assert_eq!(latest[1].details, json!({ "n": 2, "nested": { "a": [true, null, "x"], "b": 1 } }));
    assert_eq!(report.head, Some(hex::encode(&latest[0].hash)));
    assert_eq!(latest[0].prev_hash, latest[1].hash);
    assert_eq!(recent(&db.pool, 2).await.unwrap().len(), 2);
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_stay_one_chain() {
    let db = TestDb::new(10).await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let pool = db.pool.clone();
            tokio::spawn(async move {
                let actor = format!("user:{i}");
                append(&pool, &Entry::new(&actor, "login")).await.unwrap()
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap());
    }
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 50);
    let report = verify(&db.pool).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.first_problem);
    assert_eq!(report.entries, 50);
    db.drop_database().await;
}

#[tokio::test]
async fn a_rolled_back_action_leaves_no_entry() {
    let db = TestDb::new(4).await;
    appended(&db, 2).await;
    {
        let mut tx = db.pool.begin().await.unwrap();
        append_in(&mut tx, &Entry::new("user:1", "beneficiary.reveal").subject("beneficiary:9"))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
    }
    // One committed with its action: both or neither.
    {
        let mut tx = db.pool.begin().await.unwrap();
        append_in(&mut tx, &Entry::new("user:1", "user.role_change").subject("user:2")).await.unwrap();
        tx.commit().await.unwrap();
    }
    appended(&db, 1).await;
    let actions: Vec<String> = recent(&db.pool, 100).await.unwrap().into_iter().map(|r| r.action).collect();
    assert_eq!(
        actions,
        ["payout_batch.approve", "user.role_change", "payout_batch.approve", "payout_batch.approve"]
    );
    let report = verify(&db.pool).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.first_problem);
    assert_eq!(report.entries, 4);
    db.drop_database().await;
}

#[tokio::test]
async fn the_database_refuses_update_delete_truncate() {
    let db = TestDb::new(4).await;
    appended(&db, 2).await;
    for sql in [
        "update audit_log set actor = 'cli' where seq = 1",
        "delete from audit_log where seq = 2",
        "truncate audit_log",
    ] {
        let err = db.pool.execute(sql).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    // A hand-made fork (a second entry after the same one) is refused too.
    let err = db
        .pool
        .execute(
            "insert into audit_log (at, actor, action, prev_hash, hash)
             select now(), 'cli', 'x', prev_hash, sha256(hash) from audit_log where seq = 2",
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("prev_hash"), "{err}");
    assert_eq!(verify(&db.pool).await.unwrap().entries, 2);
    db.drop_database().await;
}

#[tokio::test]
async fn tampering_is_found_at_the_right_entry() {
    // A changed field, with the stored hash left as it was.
    let db = TestDb::new(4).await;
    let seqs = appended(&db, 5).await;
    behind_the_logs_back(&db, &format!("update audit_log set actor = 'user:43' where seq = {}", seqs[2]))
        .await;
    let problem = verify(&db.pool).await.unwrap().first_problem.unwrap();
    assert_eq!((problem.seq, problem.kind), (seqs[2], ProblemKind::HashMismatch), "{}", problem.message);
    db.drop_database().await;

    // Changed details (a key reordering alone would not count: jsonb has no key order).
    let db = TestDb::new(4).await;
    let seqs = appended(&db, 5).await;
    behind_the_logs_back(
        &db,
        &format!("update audit_log set details = '{{\"n\": 9}}' where seq = {}", seqs[1]),
    )
    .await;
    let problem = verify(&db.pool).await.unwrap().first_problem.unwrap();
    assert_eq!((problem.seq, problem.kind), (seqs[1], ProblemKind::HashMismatch), "{}", problem.message);
    db.drop_database().await;

    // A deleted entry breaks the link of the one after it.
    let db = TestDb::new(4).await;
    let seqs = appended(&db, 5).await;
    behind_the_logs_back(&db, &format!("delete from audit_log where seq = {}", seqs[3])).await;
    let problem = verify(&db.pool).await.unwrap().first_problem.unwrap();
    assert_eq!((problem.seq, problem.kind), (seqs[4], ProblemKind::BrokenLink), "{}", problem.message);
    db.drop_database().await;

    // A replaced hash.
    let db = TestDb::new(4).await;
    let seqs = appended(&db, 5).await;
    behind_the_logs_back(&db, &format!("update audit_log set hash = sha256(hash) where seq = {}", seqs[0]))
        .await;
    let problem = verify(&db.pool).await.unwrap().first_problem.unwrap();
    assert_eq!((problem.seq, problem.kind), (seqs[0], ProblemKind::HashMismatch), "{}", problem.message);
    db.drop_database().await;

    // An entry rewritten together with a correctly recomputed hash breaks the next link.
    let db = TestDb::new(4).await;
    let seqs = appended(&db, 5).await;
    let mut records = recent(&db.pool, 10).await.unwrap();
    records.reverse();
    let target = &records[2];
    let forged = Entry { actor: "user:43", ..target.entry() };
    let prev: zbor_audit::Hash = target.prev_hash.as_slice().try_into().unwrap();
    let hash = zbor_audit::entry_hash(&prev, target.at, &forged);
    behind_the_logs_back(
        &db,
        &format!(
            "update audit_log set actor = 'user:43', hash = '\\x{}' where seq = {}",
            hex::encode(hash),
            target.seq
        ),
    )
    .await;
    let problem = verify(&db.pool).await.unwrap().first_problem.unwrap();
    assert_eq!((problem.seq, problem.kind), (seqs[3], ProblemKind::BrokenLink), "{}", problem.message);
    db.drop_database().await;

    // The first entry removed: the chain no longer starts at the genesis.
    let db = TestDb::new(4).await;
    let seqs = appended(&db, 3).await;
    behind_the_logs_back(&db, &format!("delete from audit_log where seq = {}", seqs[0])).await;
    let problem = verify(&db.pool).await.unwrap().first_problem.unwrap();
    assert_eq!((problem.seq, problem.kind), (seqs[1], ProblemKind::BrokenLink), "{}", problem.message);
    db.drop_database().await;
}

#[tokio::test]
async fn bad_entries_are_client_errors_and_write_nothing() {
    let db = TestDb::new(4).await;
    let bad = [
        Entry::new("alice@example.org", "login"),
        Entry::new("User:1", "login"),
        Entry::new("user:1", "Login"),
        Entry::new("user:1", "payout_batch..approve"),
        Entry::new("user:1", "beneficiary.reveal").subject("Jane Doe"),
        Entry::new("user:1", "login").details(json!("not an object")),
        Entry::new("user:1", "login").details(json!({ "ratio": 0.5 })),
    ];
    for entry in &bad {
        let err = append(&db.pool, entry).await.unwrap_err();
        assert!(err.is_client_error(), "{entry:?}: {err}");
        assert!(!matches!(err, Error::Database(_)), "{entry:?}: {err}");
    }
    assert!(recent(&db.pool, 10).await.unwrap().is_empty());
    db.drop_database().await;
}

#[tokio::test]
async fn verify_pages_through_a_long_log() {
    let db = TestDb::new(4).await;
    // 10,050 entries chained in Rust and written in one statement: more than one page of verify.
    let n = 10_050;
    let start = chrono::DateTime::from_timestamp_micros(1_790_000_000_000_000).unwrap();
    let (mut ats, mut actors, mut prevs, mut hashes) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut prev = zbor_audit::GENESIS;
    for i in 0..n {
        let at = start + chrono::Duration::microseconds(i);
        let actor = format!("user:{i}");
        let hash = zbor_audit::entry_hash(&prev, at, &Entry::new(&actor, "login"));
        ats.push(at);
        actors.push(actor);
        prevs.push(prev.to_vec());
        hashes.push(hash.to_vec());
        prev = hash;
    }
    sqlx::query(
        "insert into audit_log (at, actor, action, prev_hash, hash)
         select at, actor, 'login', prev_hash, hash
         from unnest($1::timestamptz[], $2::text[], $3::bytea[], $4::bytea[]) as u (at, actor, prev_hash, hash)
         order by at",
    )
    .bind(&ats)
    .bind(&actors)
    .bind(&prevs)
    .bind(&hashes)
    .execute(&db.pool)
    .await
    .unwrap();
    let report = verify(&db.pool).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.first_problem);
    assert_eq!(report.entries, 10_050);
    assert_eq!(report.head, Some(hex::encode(prev)));

    // The last entry of the first page removed: found on the second page.
    behind_the_logs_back(&db, "delete from audit_log where seq = 10000").await;
    let report = verify(&db.pool).await.unwrap();
    let problem = report.first_problem.unwrap();
    assert_eq!((problem.seq, problem.kind), (10_001, ProblemKind::BrokenLink), "{}", problem.message);
    assert_eq!(report.entries, 9_999);
    db.drop_database().await;
}
