#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! `zbor worker`'s loop: approved payouts reach the workers through the outbox and the Redis
//! Stream and are paid once each at the simulated Stripe; when Redis lost the stream, the sweeper
//! publishes them again from PostgreSQL.

mod common;

use std::time::Duration;

use common::{confirm_all, eur, funded_campaign, treasurers};
use serde_json::json;
use tokio::sync::watch;
use zbor_payouts::batches::{self, Approved, NewItem};
use zbor_stripe::{Stripe, StripeConfig};
use zbor_stripe_sim::{Config as SimConfig, Simulator};
use zbor_testkit::TestDb;
use zbor_vault::DataKey;

const KEY: &str = "sk_test_workers";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_payouts_are_paid_once_even_after_redis_lost_the_stream() {
    let sim = Simulator::start(
        SimConfig { api_key: KEY.into(), ..SimConfig::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let db = TestDb::new(12).await;
    let key = DataKey::generate();
    let campaign = funded_campaign(&db, "release-123", "5000").await;
    let mut items = Vec::new();
    for n in 0..5 {
        let new = serde_json::from_value(json!({"name": format!("Person {n}"), "contact": "", "note": "",
            "method": {"kind": "stripe_connect", "account": format!("acct_1Pgaf{n}B7WZ01zgkW")}}))
        .unwrap();
        let id = zbor_payouts::beneficiaries::create(&db.pool, &key, campaign.id, &new).await.unwrap().id;
        items.push(NewItem { beneficiary: id, amount: "1000".into() });
    }
    let users = treasurers(&db, &key, &["a@example.org", "b@example.org", "c@example.org"]).await;
    // a second treasurer confirmed each destination
    confirm_all(&db.pool, campaign.id, users[1]).await;
    let batch = batches::create(&db.pool, campaign.id, users[0], &items).await.unwrap();
    batches::approve(&db.pool, batch.id, users[1], &batch.content_hash).await.unwrap().unwrap();
    assert_eq!(
        batches::approve(&db.pool, batch.id, users[2], &batch.content_hash).await.unwrap(),
        Ok(Approved::Released)
    );

    // the relay publishes, then Redis loses everything of this test
    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let redis_client = redis::Client::open(redis_url).unwrap();
    let redis = redis::aio::ConnectionManager::new(redis_client.clone()).await.unwrap();
    let prefix = format!("zbor-test:{}:", db.name);
    let streams = zbor_queue::Streams::new(redis.clone(), &prefix);
    assert_eq!(zbor_queue::relay(&db.pool, &streams, 100).await.unwrap(), 5);
    let mut conn = redis.clone();
    let _: () = redis::cmd("DEL").arg(streams.key("payouts")).query_async(&mut conn).await.unwrap();

    let mut stripe_config = StripeConfig::new(KEY, sim.base_url.as_str());
    stripe_config.requests_per_second = 50;
    let workers = zbor_server::workers::Workers {
        pool: db.pool.clone(),
        streams,
        redis: redis_client,
        data_key: key.clone(),
        stripe: Some(Stripe::new(stripe_config).unwrap()),
        count: 2,
    };
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(zbor_server::workers::run(workers, stopped));
    let mut paid = 0;
    // the sweeper publishes payouts still unpaid 15 s after release, every 5 s
    for _ in 0..400 {
        paid = sqlx::query_scalar::<_, i64>("select count(*) from payouts where status = 'paid'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        if paid == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap();
    assert_eq!(paid, 5, "the sweeper published the lost payouts again and workers paid them");
    assert_eq!(sim.transfers().len(), 5, "one transfer each");
    let mut conn = db.pool.acquire().await.unwrap();
    assert_eq!(zbor_ledger::balance(&mut conn, campaign.ledger_account).await.unwrap().posted, eur("0"));
    drop(conn);
    db.drop_database().await;
}
