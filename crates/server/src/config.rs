//! Configuration: command-line flags, each also read from the environment variable the README lists.

use std::net::SocketAddr;

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
}
