//! Building and running the server: used by `zbor serve`, `zbor dev` and the tests alike.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::http::{router, AppState};
use crate::live::Live;
use crate::tasks;

pub struct Application {
    listener: TcpListener,
    state: AppState,
    redis_client: redis::Client,
}

impl Application {
    /// Connects to PostgreSQL and Redis and binds the listener. Port 0 picks a free port (tests).
    pub async fn build(config: &Config) -> anyhow::Result<Application> {
        let pool = zbor_db::connect(&config.database_url, config.database_connections_max)
            .await
            .context("connecting to PostgreSQL (DATABASE_URL)")?;
        let redis_client = redis::Client::open(config.redis_url.as_str()).context("REDIS_URL")?;
        let redis = redis::aio::ConnectionManager::new(redis_client.clone())
            .await
            .context("connecting to Redis (REDIS_URL)")?;
        if !Live::valid_prefix(&config.redis_prefix) {
            anyhow::bail!("ZBOR_REDIS_PREFIX must be 1-64 printable characters without * ? [ ] \\");
        }
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
        state.data_key = match config.data_key.as_deref() {
            Some(key) => Some(zbor_vault::DataKey::parse(key).context("ZBOR_DATA_KEY")?),
            None => {
                tracing::warn!(
                    "ZBOR_DATA_KEY is not set: names of donors who choose to be named are not kept"
                );
                None
            }
        };
        state.sepa_debtor = sepa_debtor(config)?;
        state.redis_prefix = config.redis_prefix.clone();
        state.limits = crate::http::limits::Limits {
            login: crate::http::limits::Limit { name: "login", per_minute: config.login_attempts_per_minute },
            checkout: crate::http::limits::Limit {
                name: "checkout",
                per_minute: config.checkouts_per_minute,
            },
            trusted_proxies: config.trusted_proxies.clone(),
        };
        if config.stripe_webhook_secret.is_some() && state.webhook_secrets.is_none() {
            anyhow::bail!("STRIPE_WEBHOOK_SECRET must hold one or two comma-separated secrets");
        }
        let listener =
            TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        Ok(Application { listener, state, redis_client })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` turns true, then drains in-flight requests and stops the
    /// background tasks.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
        let background = tasks::spawn_all(
            self.state.pool.clone(),
            self.state.checkout.clone(),
            self.state.live.clone(),
            shutdown.clone(),
        );
        self.state.live.clone().spawn(self.redis_client, self.state.pool.clone(), shutdown.clone());
        let app = router(self.state);
        // the peer's address reaches handlers (rate limits per client address)
        axum::serve(self.listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            })
            .await
            .context("HTTP server")?;
        background.await.ok();
        Ok(())
    }
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
