#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Anonymous denial of service: live streams are capped in all and per client address (503 with
//! Retry-After beyond), their places come back when clients go, the process still answers its
//! health check past the cap, and a client that sends its headers slowly is dropped.
//!
//! Clients come from different loopback addresses (127.0.0.2, 127.0.0.3, ...: Linux routes all of
//! 127.0.0.0/8 to the loopback interface), so the server sees different client addresses.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIVE: &str = "/api/v1/campaigns/release-123/live";

async fn with_campaign(change: impl FnOnce(&mut zbor_server::config::Config)) -> Running {
    let app = start_with(None, change).await;
    let campaign =
        json!({"slug": "release-123", "title": "123 released", "currency": "EUR", "goal": "123000"});
    assert_eq!(app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await.0, 201);
    app
}

/// A client whose connections come from `127.0.0.{n}`.
fn client_at(n: u8) -> reqwest::Client {
    reqwest::Client::builder().local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))).build().unwrap()
}

/// Opens the live stream; it stays open while the response lives.
async fn open_stream(app: &Running, client: &reqwest::Client) -> reqwest::Response {
    client.get(format!("{}{LIVE}", app.base)).send().await.unwrap()
}

/// The refusal: 503, `Retry-After`, and the envelope's code.
async fn assert_refused(response: reqwest::Response, code: &str) {
    assert_eq!(response.status(), 503);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
}

#[tokio::test]
async fn past_the_stream_cap_the_next_stream_gets_503_and_health_still_answers() {
    const TOTAL: usize = 40;
    let app = with_campaign(|c| {
        c.sse_connections_max = TOTAL;
        c.sse_connections_per_address_max = 10;
    })
    .await;
    let mut open = Vec::new();
    for n in 2..6 {
        let client = client_at(n);
        for _ in 0..10 {
            let response = open_stream(&app, &client).await;
            assert_eq!(response.status(), 200);
            open.push(response);
        }
    }
    assert_eq!(open.len(), TOTAL);
    // the (N+1)th, from an address that has none open yet
    for _ in 0..20 {
        assert_refused(open_stream(&app, &client_at(6)).await, "streams_full").await;
    }
    // and the refused connection is closed at once: it holds no file descriptor while it waits
    // (the header read timeout, 10 s here, would close it only later)
    let (mut refused, head) = raw_stream(&app).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    let refused_at = Instant::now();
    assert!(read_to_close(&mut refused, Duration::from_secs(2)).await, "a refused connection stayed open");
    eprintln!("refused connection closed {:?} after its 503", refused_at.elapsed());

    // a fresh connection each time, so every probe is accepted and served past the cap
    let probe = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let mut latencies = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let response = probe.get(format!("{}/health/live", app.base)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let (median, max) = (latencies[latencies.len() / 2], latencies[latencies.len() - 1]);
    eprintln!("/health/live past the cap of {TOTAL} streams: median {median:?}, max {max:?}");
    assert!(median < Duration::from_millis(50), "median {median:?}");
    assert!(max < Duration::from_millis(500), "max {max:?}");
    drop(open);
    app.finish().await;
}

#[tokio::test]
async fn one_address_holds_only_so_many_streams() {
    let app = with_campaign(|c| {
        c.sse_connections_max = 100;
        c.sse_connections_per_address_max = 3;
    })
    .await;
    let crowd = client_at(7);
    let mut open = Vec::new();
    for _ in 0..3 {
        let response = open_stream(&app, &crowd).await;
        assert_eq!(response.status(), 200);
        open.push(response);
    }
    assert_refused(open_stream(&app, &crowd).await, "too_many_streams").await;
    // another address is not held back by that one
    let other = open_stream(&app, &client_at(8)).await;
    assert_eq!(other.status(), 200);
    drop((open, other));
    app.finish().await;
}

#[tokio::test]
async fn a_stream_s_place_is_given_back_when_its_client_goes() {
    let app = with_campaign(|c| {
        c.sse_connections_max = 2;
        c.sse_connections_per_address_max = 2;
    })
    .await;
    let client = client_at(9);
    let first = open_stream(&app, &client).await;
    let second = open_stream(&app, &client).await;
    assert_eq!((first.status().as_u16(), second.status().as_u16()), (200, 200));
    assert_refused(open_stream(&app, &client).await, "streams_full").await;

    drop(first); // the client goes: its connection is closed
    let gone = Instant::now();
    let third = loop {
        let response = open_stream(&app, &client).await;
        if response.status() == 200 {
            break response;
        }
        assert!(gone.elapsed() < Duration::from_secs(5), "the place was not given back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    eprintln!("place given back {:?} after the client went", gone.elapsed());
    // and the places are still counted: two open again
    assert_refused(open_stream(&app, &client).await, "streams_full").await;
    drop((second, third));
    app.finish().await;
}

#[tokio::test]
async fn streams_end_when_the_server_stops() {
    let app = with_campaign(|_| {}).await;
    let (mut stream, head) = raw_stream(&app).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    app.finish().await;
    let stopped = Instant::now();
    let closed = read_to_close(&mut stream, Duration::from_secs(5)).await;
    assert!(closed, "the stream was still open 5 s after shutdown");
    eprintln!("stream ended {:?} after shutdown", stopped.elapsed());
}

#[tokio::test]
async fn a_client_sending_half_a_header_is_dropped_after_the_header_read_timeout() {
    let app = with_campaign(|c| c.header_read_timeout_seconds = 1).await;
    let server: SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let mut half = TcpStream::connect(server).await.unwrap();
    half.write_all(b"GET /health/live HTTP/1.1\r\nHost: zbor\r\nX-Slow: ").await.unwrap();
    let mut silent = TcpStream::connect(server).await.unwrap();
    let started = Instant::now();
    let (half_closed, silent_closed) = tokio::join!(
        read_to_close(&mut half, Duration::from_secs(5)),
        read_to_close(&mut silent, Duration::from_secs(5)),
    );
    let elapsed = started.elapsed();
    assert!(half_closed && silent_closed, "still open after 5 s: {half_closed} {silent_closed}");
    // closed by the timeout, not at once for some other reason
    assert!(elapsed >= Duration::from_millis(900), "closed after {elapsed:?}");
    eprintln!("half a header: closed after {elapsed:?} (timeout 1 s)");
    // a client that sends its request in time is served as before
    let (status, _) = app.get("/health/live", None).await;
    assert_eq!(status, 200);
    app.finish().await;
}

/// The live stream over a plain socket, and the response head.
async fn raw_stream(app: &Running) -> (TcpStream, String) {
    let server: SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let mut stream = TcpStream::connect(server).await.unwrap();
    stream.write_all(format!("GET {LIVE} HTTP/1.1\r\nHost: zbor\r\n\r\n").as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let read =
            tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await.unwrap().unwrap();
        assert!(read > 0, "closed before the head");
        head.extend_from_slice(&buffer[..read]);
    }
    (stream, String::from_utf8_lossy(&head).into_owned())
}

/// Reads (and drops) whatever comes until the server closes the connection: true, or `limit`
/// passes: false.
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut buffer = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true, // closed, or reset
            Ok(Ok(_)) => continue,
        }
    }
}
