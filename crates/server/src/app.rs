//! Building and running the server: used by `zbor serve`, `zbor dev` and the tests alike.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::{Service, ServiceExt};

use crate::config::Config;
use crate::http::{router, AppState};
use crate::live::Live;
use crate::tasks;

/// After shutdown is asked for, connections get this long to finish their requests (a request
/// times out after 30 s anyway; streams end at once); then the server stops regardless.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(40);

pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    state: AppState,
    redis_client: redis::Client,
    header_read_timeout: Duration,
}

impl Application {
    /// Connects to PostgreSQL and Redis and binds the listener. Port 0 picks a free port (tests).
    pub async fn build(config: &Config) -> anyhow::Result<Application> {
        crate::config::check::refuse_to_start(config, crate::config::check::Process::Serve)?;
        let pool = crate::database::connect(&config.database_url, config.database_connections_max).await?;
        let redis_client = redis::Client::open(config.redis_url.as_str()).context("REDIS_URL")?;
        let redis = redis::aio::ConnectionManager::new(redis_client.clone())
            .await
            .context("connecting to Redis (REDIS_URL)")?;
        let live = Arc::new(Live::new(redis.clone(), config.redis_prefix.clone()));
        let mut state = AppState::new(
            pool,
            redis,
            config.admin_token.as_deref(),
            config.stripe_webhook_secret.as_deref(),
            live,
        );
        state.checkout = checkout(config)?;
        state.public_url_https = config.public_url.starts_with("https://");
        state.set_data_key(match config.data_key.as_deref() {
            Some(key) => Some(zbor_vault::DataKey::parse(key).context("ZBOR_DATA_KEY")?),
            None => {
                tracing::warn!(
                    "ZBOR_DATA_KEY is not set: names of donors who choose to be named are not kept"
                );
                None
            }
        });
        crate::database::pause_payouts_if_restored(&state.pool, state.data_key.as_ref()).await?;
        state.sepa_debtor = sepa_debtor(config)?;
        state.organisation = config.organisation.clone();
        state.public_url = config.public_url.trim_end_matches('/').to_owned();
        state.redis_prefix = config.redis_prefix.clone();
        state.limits = crate::http::limits::Limits {
            login: crate::http::limits::Limit { name: "login", per_minute: config.login_attempts_per_minute },
            checkout: crate::http::limits::Limit {
                name: "checkout",
                per_minute: config.checkouts_per_minute,
            },
            trusted_proxies: config.trusted_proxies.clone(),
        };
        state.sse_permits = Arc::new(crate::live::StreamPermits::new(
            config.sse_connections_max,
            config.sse_connections_per_address_max,
        ));
        state.session_idle_minutes = config.session_idle_minutes;
        state.surplus_solo_max = config.surplus_solo_max;
        let header_read_timeout = Duration::from_secs(config.header_read_timeout_seconds);
        let listener =
            TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let metrics_listener = match config.metrics_listen {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("binding ZBOR_METRICS_LISTEN {address}"))?,
            ),
            None => None,
        };
        Ok(Application { listener, metrics_listener, state, redis_client, header_read_timeout })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Where `/metrics` is served, when `ZBOR_METRICS_LISTEN` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Serves until `shutdown` turns true, then drains in-flight requests and stops the
    /// background tasks.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        let background = tasks::spawn_all(
            self.state.pool.clone(),
            self.state.checkout.clone(),
            self.state.live.clone(),
            self.state.stripe_events.dispatcher().clone(),
            shutdown.clone(),
        );
        self.state.live.clone().spawn(self.redis_client, self.state.pool.clone(), shutdown.clone());
        if let Some(listener) = self.metrics_listener {
            tokio::spawn(crate::metrics::serve(listener, shutdown.clone()));
        }
        crate::metrics::Sampler {
            pool: self.state.pool.clone(),
            streams: zbor_queue::Streams::new(self.state.redis.clone(), &self.state.redis_prefix),
            sse_permits: Some(self.state.sse_permits.clone()),
        }
        .spawn(shutdown.clone());
        crate::metrics::spawn_ledger_verify(
            self.state.pool.clone(),
            self.state.redis.clone(),
            &self.state.redis_prefix,
            shutdown.clone(),
        );
        // the peer's address reaches handlers (rate limits per client address)
        let app = router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        serve(self.listener, app, self.header_read_timeout, shutdown).await;
        background.await.ok();
        Ok(())
    }
}

/// What `axum::serve` does, plus hyper's header read timeout, which axum does not expose: a
/// client that sends a request's headers slowly (or opens a connection and sends nothing) is
/// dropped after `header_read_timeout`, so it cannot hold a file descriptor for long. HTTP/1
/// only, as before: detecting HTTP/2 would read the first bytes without that timeout.
async fn serve(
    mut listener: TcpListener,
    mut app: axum::extract::connect_info::IntoMakeServiceWithConnectInfo<axum::Router, SocketAddr>,
    header_read_timeout: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder.http1().timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
    let builder = Arc::new(builder);
    // Every connection's task holds a receiver: once all are dropped, the drain is over.
    let (open_tx, open_rx) = watch::channel(());
    loop {
        let (stream, peer) = tokio::select! {
            // logs and retries accept errors; on EMFILE it waits a second instead of spinning
            accepted = axum::serve::Listener::accept(&mut listener) => accepted,
            () = stopped(&mut shutdown) => break,
        };
        let Ok(ready) = ServiceExt::<SocketAddr>::ready(&mut app).await;
        let Ok(service) = ready.call(peer).await;
        let builder = Arc::clone(&builder);
        let mut shutdown = shutdown.clone();
        let open = open_rx.clone();
        tokio::spawn(async move {
            let connection =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            let mut connection = std::pin::pin!(connection);
            let finished = tokio::select! {
                finished = connection.as_mut() => finished,
                () = stopped(&mut shutdown) => {
                    // finish the request in flight, then close; idle connections close now
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = finished {
                // a client gone, a header read timeout, a malformed request: the client's doing
                tracing::debug!(error = %e, "connection closed with an error");
            }
            drop(open);
        });
    }
    drop(listener);
    drop(open_rx);
    if tokio::time::timeout(DRAIN_TIMEOUT, open_tx.closed()).await.is_err() {
        tracing::warn!(
            connections = open_tx.receiver_count(),
            "connections still open after the drain timeout; stopping anyway"
        );
    }
}

/// Returns once `shutdown` turns true (or its sender is gone).
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Stripe Checkout when a secret key is configured.
fn checkout(config: &Config) -> anyhow::Result<Option<zbor_intake::checkout::CheckoutLinks>> {
    let Some(secret_key) = config.stripe_secret_key.as_deref() else {
        tracing::warn!("STRIPE_SECRET_KEY is not set: no checkout links, no fee lookups");
        return Ok(None);
    };
    // Donors' checkouts get four fifths of the rate; background work (fees) the rest, so a
    // backlog of fee lookups after a burst never makes a donor wait.
    let total = config.stripe_requests_per_second.max(2);
    let background_share = (total / 5).max(1);
    let client = |requests_per_second: u32| {
        let mut stripe_config = zbor_stripe::StripeConfig::new(secret_key, config.stripe_api_base.as_str());
        stripe_config.requests_per_second = requests_per_second;
        zbor_stripe::Stripe::new(stripe_config).context("Stripe client")
    };
    let checkout =
        zbor_intake::checkout::CheckoutLinks::new(client(total - background_share)?, &config.public_url)
            .with_background(client(background_share)?);
    Ok(Some(checkout))
}

/// A shutdown signal that turns true on SIGINT or SIGTERM.
pub fn shutdown_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = term => {},
        }
        tracing::info!("shutting down");
        let _ = tx.send(true);
    });
    rx
}

/// The organisation's account SEPA files pay from; none unless its name and IBAN are configured.
fn sepa_debtor(config: &Config) -> anyhow::Result<Option<zbor_payouts::sepa::Debtor>> {
    let (Some(name), Some(iban)) = (config.sepa_debtor_name.as_deref(), config.sepa_debtor_iban.as_deref())
    else {
        return Ok(None);
    };
    let iban =
        zbor_payouts::iban::Iban::parse(iban).map_err(|e| anyhow::anyhow!("ZBOR_SEPA_DEBTOR_IBAN: {e}"))?;
    let bic = match config.sepa_debtor_bic.as_deref() {
        Some(bic) => Some(
            zbor_payouts::iban::Bic::parse(bic).map_err(|e| anyhow::anyhow!("ZBOR_SEPA_DEBTOR_BIC: {e}"))?,
        ),
        None => None,
    };
    Ok(Some(zbor_payouts::sepa::Debtor { name: name.to_owned(), iban, bic }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use sqlx::Connection;

    /// `url` with `sslmode=…` added to its query.
    fn with_sslmode(url: &str, mode: &str) -> String {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}sslmode={mode}")
    }

    /// The tests' PostgreSQL (Debian's, which has TLS on with a self-signed certificate).
    #[tokio::test]
    async fn postgres_connections_are_encrypted_and_verified_when_asked() {
        let url = zbor_testkit::with_database(&zbor_testkit::server_url(), "postgres");
        let mut connection = sqlx::PgConnection::connect(&with_sslmode(&url, "require")).await.unwrap();
        let encrypted: bool = sqlx::query_scalar("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
            .fetch_one(&mut connection)
            .await
            .unwrap();
        assert!(encrypted, "sslmode=require did not encrypt");
        connection.close().await.unwrap();
        // verify-full checks the certificate: a self-signed one that no configured root vouches for
        // is refused (without TLS support compiled in, the error would be "built without TLS")
        let error = sqlx::PgConnection::connect(&with_sslmode(&url, "verify-full")).await.err().unwrap();
        let text = error.to_string();
        assert!(text.contains("invalid peer certificate: UnknownIssuer"), "{text}");
    }

    /// The tests' Redis has no TLS: `rediss://` is accepted and tries a TLS handshake, which the
    /// plain server cannot answer (it waits for the end of a line that never comes).
    #[tokio::test]
    async fn rediss_urls_speak_tls_with_the_user_and_password_they_carry() {
        let plain = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let address = plain.trim_start_matches("redis://").split(['/', '?']).next().unwrap_or_default();
        let address = address.rsplit_once('@').map_or(address, |(_, host)| host);
        // without TLS support this is refused: "can't connect with TLS, the feature is not enabled"
        let client = redis::Client::open(format!("rediss://zbor:not-the-password@{address}/0")).unwrap();
        let info = client.get_connection_info();
        assert!(matches!(info.addr(), redis::ConnectionAddr::TcpTls { insecure: false, .. }));
        assert_eq!(info.redis_settings().username(), Some("zbor"));
        assert_eq!(info.redis_settings().password(), Some("not-the-password"));
        let error = client.get_multiplexed_async_connection().await.err().unwrap();
        assert!(error.is_timeout() || error.is_io_error(), "{error}");

        // What the client sends first is a TLS handshake record, and a plain-text answer (what
        // Redis says to a line it does not understand) fails the handshake.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut first = [0u8; 3];
            socket.read_exact(&mut first).await.unwrap();
            socket.write_all(b"-ERR unknown command\r\n").await.unwrap();
            first
        });
        let client = redis::Client::open(format!("rediss://zbor:not-the-password@127.0.0.1:{port}")).unwrap();
        let error = client.get_multiplexed_async_connection().await.err().unwrap();
        // 0x16: handshake; 0x03 0x01..0x03: TLS record version
        let first = server.await.unwrap();
        assert_eq!(first[..2], [0x16, 0x03], "{first:?}");
        assert!(error.to_string().contains("corrupt message"), "{error}");
    }
}
