#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The queue against real PostgreSQL and Redis: every job done once in effect, also when a worker
//! dies holding jobs, when Redis loses the stream, and when the deciding transaction rolls back.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;
use zbor_queue::{enqueue_in, publish, relay, Consumer, Streams};
use zbor_testkit::TestDb;

async fn streams(db: &TestDb) -> Streams {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let redis = redis::aio::ConnectionManager::new(redis::Client::open(url).unwrap()).await.unwrap();
    Streams::new(redis, &format!("zbor-test:{}:", db.name))
}

/// The system of record for the test's jobs: a job is done when its row exists.
async fn done_table(pool: &PgPool) {
    sqlx::query("create table done (job_key text primary key, deliveries int not null default 1)")
        .execute(pool)
        .await
        .unwrap();
}

/// An idempotent handler: the first delivery does the work, later ones find it done.
async fn handle(pool: &PgPool, job_key: &str) {
    sqlx::query("insert into done (job_key) values ($1) on conflict (job_key) do update set deliveries = done.deliveries + 1")
        .bind(job_key)
        .execute(pool)
        .await
        .unwrap();
}

async fn enqueue(pool: &PgPool, count: usize) {
    let mut db = pool.begin().await.unwrap();
    for n in 0..count {
        enqueue_in(&mut db, "payouts", &format!("job:{n}"), &json!({ "n": n })).await.unwrap();
    }
    db.commit().await.unwrap();
}

async fn done(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from done").fetch_one(pool).await.unwrap()
}

/// Runs `workers` consumers until `expected` jobs are done or 20 s pass.
async fn work(pool: &PgPool, streams: &Streams, workers: usize, expected: i64, reclaim_after: Duration) {
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (pool, streams) = (pool.clone(), streams.clone());
        tasks.push(tokio::spawn(async move {
            let consumer = Consumer::join(&streams, "payouts", "workers", &format!("w{w}"), reclaim_after)
                .await
                .unwrap();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            while done(&pool).await < expected && tokio::time::Instant::now() < deadline {
                let jobs = consumer.next(50, Duration::from_millis(100)).await.unwrap();
                for job in &jobs {
                    handle(&pool, &job.key).await;
                }
                consumer.ack(&jobs.iter().map(|j| j.entry.clone()).collect::<Vec<_>>()).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test]
async fn a_thousand_jobs_over_four_workers_are_each_done_once() {
    let db = TestDb::new(8).await;
    done_table(&db.pool).await;
    let streams = streams(&db).await;
    enqueue(&db.pool, 1_000).await;
    while relay(&db.pool, &streams, 300).await.unwrap() > 0 {}
    let unpublished: i64 = sqlx::query_scalar("select count(*) from outbox where published_at is null")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(unpublished, 0);
    // reclaiming only after 10 s: no worker here is slow enough to lose its jobs
    work(&db.pool, &streams, 4, 1_000, Duration::from_secs(10)).await;
    assert_eq!(done(&db.pool).await, 1_000);
    let redelivered: i64 = sqlx::query_scalar("select count(*) from done where deliveries > 1")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(redelivered, 0, "no job delivered twice without a failure");
    db.drop_database().await;
}

#[tokio::test]
async fn a_dead_workers_jobs_are_reclaimed() {
    let db = TestDb::new(8).await;
    done_table(&db.pool).await;
    let streams = streams(&db).await;
    enqueue(&db.pool, 100).await;
    relay(&db.pool, &streams, 1_000).await.unwrap();
    // this worker takes 40 jobs and dies without acknowledging any
    let doomed =
        Consumer::join(&streams, "payouts", "workers", "doomed", Duration::from_millis(300)).await.unwrap();
    let taken = doomed.next(40, Duration::from_millis(100)).await.unwrap();
    assert_eq!(taken.len(), 40);
    drop(doomed);
    let started = std::time::Instant::now();
    work(&db.pool, &streams, 2, 100, Duration::from_millis(300)).await;
    assert_eq!(done(&db.pool).await, 100, "the dead worker's 40 were reclaimed");
    assert!(started.elapsed() < Duration::from_secs(10), "reclaimed within seconds");
    db.drop_database().await;
}

#[tokio::test]
async fn when_redis_loses_the_stream_unfinished_jobs_are_published_again() {
    let db = TestDb::new(8).await;
    done_table(&db.pool).await;
    let streams = streams(&db).await;
    enqueue(&db.pool, 200).await;
    relay(&db.pool, &streams, 1_000).await.unwrap();
    work(&db.pool, &streams, 1, 50, Duration::from_secs(10)).await;
    let half_done = done(&db.pool).await;
    assert!(half_done >= 50);
    // Redis loses everything of this test (as a flush or a restart without persistence would)
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let mut redis = redis::Client::open(url).unwrap().get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("DEL").arg(streams.key("payouts")).query_async(&mut redis).await.unwrap();
    // the sweeper: what PostgreSQL says is not finished goes out again
    let unfinished: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "select o.job_key, o.payload from outbox o where not exists (select 1 from done d where d.job_key = o.job_key)",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(i64::try_from(unfinished.len()).unwrap(), 200 - half_done);
    publish(&streams, "payouts", &unfinished).await.unwrap();
    work(&db.pool, &streams, 2, 200, Duration::from_secs(10)).await;
    assert_eq!(done(&db.pool).await, 200);
    db.drop_database().await;
}

#[tokio::test]
async fn work_from_a_rolled_back_decision_is_never_published() {
    let db = TestDb::new(4).await;
    let streams = streams(&db).await;
    let mut tx = db.pool.begin().await.unwrap();
    enqueue_in(&mut tx, "payouts", "job:ghost", &json!({})).await.unwrap();
    tx.rollback().await.unwrap();
    enqueue(&db.pool, 3).await;
    assert_eq!(relay(&db.pool, &streams, 100).await.unwrap(), 3);
    let consumer = Consumer::join(&streams, "payouts", "workers", "w", Duration::from_secs(5)).await.unwrap();
    let keys: HashSet<String> =
        consumer.next(10, Duration::from_millis(100)).await.unwrap().into_iter().map(|j| j.key).collect();
    assert_eq!(keys, HashSet::from(["job:0".to_owned(), "job:1".to_owned(), "job:2".to_owned()]));
    assert!(matches!(
        enqueue_in(&mut db.pool.acquire().await.unwrap(), "Bad Stream", "k", &json!({})).await,
        Err(zbor_queue::Error::InvalidStream(_))
    ));
    db.drop_database().await;
}

#[tokio::test]
async fn a_consumer_keeps_reading_after_redis_lost_the_stream_under_it() {
    let db = TestDb::new(2).await;
    let streams = streams(&db).await;
    let consumer =
        Consumer::join(&streams, "payouts", "workers", "w1", Duration::from_secs(5)).await.unwrap();
    publish(&streams, "payouts", &[("job:before".into(), json!({}))]).await.unwrap();
    let first = consumer.next(10, Duration::from_millis(100)).await.unwrap();
    assert_eq!(first.iter().map(|j| j.key.as_str()).collect::<Vec<_>>(), ["job:before"]);

    // Redis loses the stream and its group while the consumer is running
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let mut redis = redis::aio::ConnectionManager::new(redis::Client::open(url).unwrap()).await.unwrap();
    let _: () = redis::cmd("DEL").arg(streams.key("payouts")).query_async(&mut redis).await.unwrap();
    assert!(consumer.next(10, Duration::from_millis(100)).await.unwrap().is_empty());
    publish(&streams, "payouts", &[("job:after".into(), json!({}))]).await.unwrap();
    let after = consumer.next(10, Duration::from_millis(100)).await.unwrap();
    assert_eq!(after.iter().map(|j| j.key.as_str()).collect::<Vec<_>>(), ["job:after"]);
    consumer.ack(&[after[0].entry.clone()]).await.unwrap();
    db.drop_database().await;
}

#[tokio::test]
async fn the_backlog_counts_what_the_group_has_not_finished_and_is_unknown_when_redis_lost_it() {
    let db = TestDb::new(2).await;
    let streams = streams(&db).await;
    assert_eq!(streams.backlog("payouts", "workers").await.unwrap(), None, "no stream yet");
    let consumer =
        Consumer::join(&streams, "payouts", "workers", "w1", Duration::from_secs(5)).await.unwrap();
    assert_eq!(streams.backlog("payouts", "workers").await.unwrap(), Some(0));
    let jobs: Vec<(String, serde_json::Value)> = (0..3).map(|n| (format!("job:{n}"), json!({}))).collect();
    publish(&streams, "payouts", &jobs).await.unwrap();
    assert_eq!(streams.backlog("payouts", "workers").await.unwrap(), Some(3));
    let taken = consumer.next(2, Duration::from_millis(100)).await.unwrap();
    assert_eq!(streams.backlog("payouts", "workers").await.unwrap(), Some(3), "2 pending + 1 not delivered");
    consumer.ack(&taken.iter().map(|j| j.entry.clone()).collect::<Vec<_>>()).await.unwrap();
    assert_eq!(streams.backlog("payouts", "workers").await.unwrap(), Some(1));
    assert_eq!(streams.backlog("payouts", "other-group").await.unwrap(), None);
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let mut redis = redis::aio::ConnectionManager::new(redis::Client::open(url).unwrap()).await.unwrap();
    let _: () = redis::cmd("DEL").arg(streams.key("payouts")).query_async(&mut redis).await.unwrap();
    assert_eq!(streams.backlog("payouts", "workers").await.unwrap(), None);
    db.drop_database().await;
}

/// A worker that refreshes the jobs it works on keeps them however long it takes; a job it
/// stopped refreshing is reclaimed, and refreshing it afterwards does not take it back.
#[tokio::test]
async fn refreshed_jobs_stay_with_their_worker_and_reclaimed_ones_with_the_reclaimer() {
    let db = TestDb::new(4).await;
    let streams = streams(&db).await;
    let mut tx = db.pool.begin().await.unwrap();
    let jobs: Vec<(String, serde_json::Value)> =
        (0..3).map(|n| (format!("job:{n}"), json!({ "n": n }))).collect();
    assert_eq!(zbor_queue::enqueue_all_in(&mut tx, "payouts", &jobs).await.unwrap(), 3);
    tx.commit().await.unwrap();
    let keys: Vec<String> =
        sqlx::query_scalar("select job_key from outbox order by id").fetch_all(&db.pool).await.unwrap();
    assert_eq!(keys, ["job:0", "job:1", "job:2"], "written in the order given");
    assert_eq!(relay(&db.pool, &streams, 10).await.unwrap(), 3);

    let reclaim_after = Duration::from_millis(500);
    let slow = Consumer::join(&streams, "payouts", "workers", "slow", reclaim_after).await.unwrap();
    let other = Consumer::join(&streams, "payouts", "workers", "other", reclaim_after).await.unwrap();
    let held = slow.next(10, Duration::from_millis(100)).await.unwrap();
    assert_eq!(held.len(), 3);
    let entries: Vec<String> = held.iter().map(|j| j.entry.clone()).collect();
    // three times the reclaim time, refreshing all the while: the other worker reclaims nothing
    for _ in 0..15 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(slow.refresh(&entries).await.unwrap(), 3);
        assert!(other.next(10, Duration::from_millis(1)).await.unwrap().is_empty());
    }
    // the slow worker stops refreshing one job: it is reclaimed, and stays reclaimed
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(slow.refresh(&entries[1..]).await.unwrap(), 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reclaimed = other.next(10, Duration::from_millis(1)).await.unwrap();
    assert_eq!(reclaimed.iter().map(|j| j.entry.clone()).collect::<Vec<_>>(), entries[..1]);
    assert!(reclaimed[0].reclaimed);
    assert_eq!(slow.refresh(&entries).await.unwrap(), 2, "the reclaimed job is not taken back");
    db.drop_database().await;
}
