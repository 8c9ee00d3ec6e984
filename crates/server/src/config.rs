//! Configuration: command-line flags, each also read from the environment variable the README lists.

use std::net::SocketAddr;

pub const PUBLIC_URL_DEFAULT: &str = "http://127.0.0.1:8080";

#[derive(Clone, clap::Args)]
pub struct Config {
    /// PostgreSQL, the system of record.
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        default_value = "postgres://postgres@127.0.0.1:5432/zbor"
    )]
    pub database_url: String,

    /// Redis, for work queues and hot copies (never the only copy of anything).
    #[arg(long, env = "REDIS_URL", hide_env_values = true, default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,

    /// Address the HTTP server listens on.
    #[arg(long, env = "ZBOR_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Bearer token for the admin API until users and roles exist. Unset: admin API disabled.
    #[arg(long, env = "ZBOR_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Largest number of PostgreSQL connections this process opens.
    #[arg(long, env = "ZBOR_DATABASE_CONNECTIONS_MAX", default_value_t = 32)]
    pub database_connections_max: u32,

    /// Stripe's webhook signing secret(s): one, or two comma-separated while rotating. Unset:
    /// the webhook endpoint answers 503 and Stripe retries later.
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<String>,

    /// Prefix of every Redis key and channel this deployment uses (tests use one each).
    #[arg(long, env = "ZBOR_REDIS_PREFIX", default_value = "zbor:")]
    pub redis_prefix: String,

    /// Stripe secret API key (sk_live_…, sk_test_… or a restricted rk_…). Unset: no checkout
    /// links and no fee lookups; webhooks still work.
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<String>,

    /// Stripe's API address; the simulator's in development and tests.
    #[arg(long, env = "STRIPE_API_BASE", default_value = zbor_stripe::STRIPE_API_BASE)]
    pub stripe_api_base: String,

    /// Stripe calls per second this process makes at most (Stripe allows ~100 live, 25 in test mode).
    #[arg(long, env = "ZBOR_STRIPE_REQUESTS_PER_SECOND", default_value_t = 25)]
    pub stripe_requests_per_second: u32,

    /// The address donors see zbor at, for Checkout's return links, e.g. https://give.example.org.
    #[arg(long, env = "ZBOR_PUBLIC_URL", default_value = PUBLIC_URL_DEFAULT)]
    pub public_url: String,

    /// 32-byte key (64 hex digits or base64) sealing personal data at rest. Unset: no donor
    /// names or emails are kept at all, even from donors who chose to be named.
    #[arg(long, env = "ZBOR_DATA_KEY", hide_env_values = true)]
    pub data_key: Option<String>,

    /// Payout workers `zbor worker` (and `zbor dev`) runs.
    #[arg(long, env = "ZBOR_WORKERS", default_value_t = 4)]
    pub workers: usize,

    /// The Stripe Connect rail's own limit: transfers per second this process starts at most, on
    /// a Stripe client of its own (donors' checkouts never wait behind a payout batch).
    #[arg(long, env = "ZBOR_PAYOUT_TRANSFERS_PER_SECOND", default_value_t = 10)]
    pub payout_transfers_per_second: u32,

    /// The organisation's account SEPA payouts are paid from (the pain.001 file's debtor).
    /// Unset: SEPA files cannot be made.
    #[arg(long, env = "ZBOR_SEPA_DEBTOR_NAME")]
    pub sepa_debtor_name: Option<String>,
    #[arg(long, env = "ZBOR_SEPA_DEBTOR_IBAN", hide_env_values = true)]
    pub sepa_debtor_iban: Option<String>,
    #[arg(long, env = "ZBOR_SEPA_DEBTOR_BIC")]
    pub sepa_debtor_bic: Option<String>,

    /// Logins (`POST /api/v1/session`) one client address may try per minute, across every
    /// instance (counted in Redis). Beyond it: 429 with `Retry-After`.
    #[arg(long, env = "ZBOR_LOGIN_ATTEMPTS_PER_MINUTE", default_value_t = 10)]
    pub login_attempts_per_minute: u32,

    /// Checkout sessions one client address may open per minute, across every instance. Donors
    /// behind one address (a venue's Wi-Fi, a carrier's NAT) share it: keep it generous.
    #[arg(long, env = "ZBOR_CHECKOUTS_PER_MINUTE", default_value_t = 60)]
    pub checkouts_per_minute: u32,

    /// Load balancers whose `X-Forwarded-For` is believed (comma-separated addresses). Unset:
    /// the client address is the connection's peer, and the header is ignored.
    #[arg(long, env = "ZBOR_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}
