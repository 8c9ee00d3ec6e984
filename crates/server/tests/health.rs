#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Readiness tells the truth within a second when PostgreSQL goes away and comes back.
//!
//! zbor reaches PostgreSQL through a TCP relay in this test; "pausing" the relay makes the
//! database unreachable the way an outage or a partition does: connections open and stay open,
//! and nothing answers.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Relays 127.0.0.1:<port> to PostgreSQL; while paused, nothing goes through in either direction.
struct Relay {
    port: u16,
    paused: Arc<AtomicBool>,
}

impl Relay {
    async fn start(upstream: &'static str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let paused = Arc::new(AtomicBool::new(false));
        let gate = paused.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let gate = gate.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else { return };
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::spawn(pump(client_read, server_write, gate.clone()));
                    pump(server_read, client_write, gate).await;
                });
            }
        });
        Relay { port, paused }
    }

    fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }
}

/// Copies bytes, holding them while the relay is paused.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    gate: Arc<AtomicBool>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let Ok(read) = from.read(&mut buffer).await else { return };
        if read == 0 {
            return;
        }
        while gate.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
    }
}

/// `/health/ready`, and how long it took.
async fn ready(app: &Running) -> (u16, serde_json::Value, Duration) {
    let started = Instant::now();
    let (status, body) = app.get("/health/ready", None).await;
    (status, body, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_says_503_within_a_second_of_an_outage_and_200_within_a_second_of_the_return() {
    let relay = Relay::start("127.0.0.1:5432").await;
    let port = relay.port;
    let app = start_with(None, |c| {
        c.database_url = c.database_url.replace("127.0.0.1:5432", &format!("127.0.0.1:{port}"));
    })
    .await;
    let (status, body, _) = ready(&app).await;
    assert_eq!((status, body["postgres"].as_str(), body["redis"].as_str()), (200, Some("ok"), Some("ok")));

    relay.pause();
    // requests hang on the request pool meanwhile: readiness must not wait for them
    let stuck = tokio::spawn({
        let base = app.base.clone();
        async move { reqwest::get(format!("{base}/api/v1/campaigns/none/totals")).await.map(|r| r.status()) }
    });
    for _ in 0..3 {
        let (status, body, took) = ready(&app).await;
        assert_eq!(
            (status, body["postgres"].as_str(), body["redis"].as_str()),
            (503, Some("down"), Some("ok"))
        );
        assert!(took < Duration::from_secs(1), "readiness took {took:?} during the outage");
        let (status, _) = app.get("/health/live", None).await;
        assert_eq!(status, 200, "liveness never depends on the database");
    }

    relay.resume();
    let returned = Instant::now();
    loop {
        let (status, _, took) = ready(&app).await;
        assert!(took < Duration::from_secs(1), "readiness took {took:?} after the return");
        if status == 200 {
            break;
        }
        assert!(returned.elapsed() < Duration::from_secs(1), "still 503 a second after PostgreSQL came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("ready again {} ms after the return", returned.elapsed().as_millis());
    // the request that hung through the outage is answered after it
    let answered = tokio::time::timeout(Duration::from_secs(15), stuck).await.unwrap().unwrap().unwrap();
    assert_eq!(answered.as_u16(), 404);
    app.finish().await;
}
