//! `zbor config check`: every problem with the configuration, each naming its setting, found
//! before anything starts. Two kinds: a value that cannot work (always refused), and a
//! development setting, which `serve` and `worker` refuse in production (`ZBOR_ENVIRONMENT`)
//! and only warn about in development. Messages name settings, never a secret's value.

use super::{Config, Environment};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Cannot work in any environment.
    Invalid,
    /// Fine on a developer's machine, a risk in production.
    Development,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The environment variable to change.
    pub setting: &'static str,
    pub kind: Kind,
    pub message: String,
}

impl Problem {
    fn invalid(setting: &'static str, message: impl Into<String>) -> Problem {
        Problem { setting, kind: Kind::Invalid, message: message.into() }
    }

    fn development(setting: &'static str, message: impl Into<String>) -> Problem {
        Problem { setting, kind: Kind::Development, message: message.into() }
    }

    /// Whether it stops `serve` and `worker` in `environment`.
    pub fn stops(&self, environment: Environment) -> bool {
        self.kind == Kind::Invalid || environment == Environment::Production
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

/// Stripe's API; any other address in production is a simulator or a mistake.
const STRIPE_API: &str = "https://api.stripe.com/";
/// An admin token shorter than this, or with fewer distinct characters, can be guessed or was
/// typed by a person: `openssl rand -hex 32` gives 64 characters of 16 kinds.
const ADMIN_TOKEN_CHARACTERS_MIN: usize = 32;
const ADMIN_TOKEN_DISTINCT_MIN: usize = 12;

/// Every problem of `config`, in the order of the README's configuration table.
pub fn problems(config: &Config) -> Vec<Problem> {
    let mut found = Vec::new();
    database(config, &mut found);
    redis(config, &mut found);
    listeners(config, &mut found);
    secrets(config, &mut found);
    stripe(config, &mut found);
    public_url(config, &mut found);
    limits(config, &mut found);
    sepa(config, &mut found);
    found
}

/// Which process is starting: a worker neither receives webhooks nor serves pages, so the
/// settings only `serve` uses are not its problems.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Process {
    Serve,
    Worker,
}

const SERVE_ONLY: [&str; 3] = ["STRIPE_WEBHOOK_SECRET", "ZBOR_PUBLIC_URL", "ZBOR_ADMIN_TOKEN"];

/// Refuses to start on a problem that stops this environment; logs the others as warnings.
pub fn refuse_to_start(config: &Config, process: Process) -> anyhow::Result<()> {
    let mut found = problems(config);
    if process == Process::Worker {
        found.retain(|p| !SERVE_ONLY.contains(&p.setting));
    }
    let stopping: Vec<String> =
        found.iter().filter(|p| p.stops(config.environment)).map(ToString::to_string).collect();
    for problem in found.iter().filter(|p| !p.stops(config.environment)) {
        tracing::warn!(setting = problem.setting, "{}", problem.message);
    }
    if stopping.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "the configuration has {} problem(s) ({}; `zbor config check` lists them):\n  {}",
        stopping.len(),
        match config.environment {
            Environment::Production => "ZBOR_ENVIRONMENT=production refuses development settings",
            Environment::Development => "development",
        },
        stopping.join("\n  ")
    )
}

/// A URL's host (no brackets), none for a Unix socket or no host at all.
fn url_host(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    // `?host=/run/postgresql` names a socket directory
    let from_query = rest.split_once('?').and_then(|(_, query)| {
        query.split('&').find_map(|pair| pair.strip_prefix("host=")).map(str::to_owned)
    });
    match (host, from_query) {
        (_, Some(query_host)) => Some(query_host),
        ("", None) => None,
        (host, None) => Some(host.to_owned()),
    }
}

/// This machine: nobody else is on the path.
fn is_local(host: Option<&str>) -> bool {
    match host {
        None => true,
        Some(host) => {
            host.starts_with('/')
                || host.eq_ignore_ascii_case("localhost")
                || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
    }
}

fn query_value<'a>(url: &'a str, key: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1.split('#').next().unwrap_or_default();
    query.split('&').find_map(|pair| pair.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
}

fn database(config: &Config, found: &mut Vec<Problem>) {
    let url = &config.database_url;
    if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        found.push(Problem::invalid("DATABASE_URL", "must start with postgres://"));
        return;
    }
    let host = url_host(url);
    let mode = query_value(url, "sslmode").map(str::to_owned).or_else(|| std::env::var("PGSSLMODE").ok());
    if !is_local(host.as_deref()) && mode.as_deref() != Some("verify-full") {
        found.push(Problem::development(
            "DATABASE_URL",
            "PostgreSQL is across a network without sslmode=verify-full: whoever is on the path can \
             read donors' data or pose as the database (docs/PRODUCTION.md)",
        ));
    }
    if config.database_connections_max == 0 {
        found.push(Problem::invalid("ZBOR_DATABASE_CONNECTIONS_MAX", "must be at least 1"));
    }
}

fn redis(config: &Config, found: &mut Vec<Problem>) {
    let url = &config.redis_url;
    let tls = url.starts_with("rediss://");
    if !tls
        && !url.starts_with("redis://")
        && !url.starts_with("unix://")
        && !url.starts_with("redis+unix://")
    {
        found.push(Problem::invalid("REDIS_URL", "must start with redis://, rediss:// or unix://"));
        return;
    }
    let local = url.contains("unix://") || is_local(url_host(url).as_deref());
    if !local && !tls {
        found.push(Problem::development(
            "REDIS_URL",
            "Redis is across a network without TLS (rediss://): the queues and rate limits travel in clear",
        ));
    }
    if !local && !super::url_has_password(url) {
        found.push(Problem::development(
            "REDIS_URL",
            "Redis across a network needs a password (in REDIS_URL)",
        ));
    }
    if !crate::live::Live::valid_prefix(&config.redis_prefix) {
        found.push(Problem::invalid(
            "ZBOR_REDIS_PREFIX",
            "must be 1-64 printable characters without * ? [ ] \\",
        ));
    }
}

fn listeners(config: &Config, found: &mut Vec<Problem>) {
    if config.metrics_listen.is_some_and(|m| m.port() != 0 && m == config.listen) {
        found.push(Problem::invalid(
            "ZBOR_METRICS_LISTEN",
            "must differ from ZBOR_LISTEN: metrics are never served on the public port",
        ));
    }
}

fn secrets(config: &Config, found: &mut Vec<Problem>) {
    match config.data_key.as_deref() {
        None => found.push(Problem::development(
            "ZBOR_DATA_KEY",
            "not set: no staff can log in, no payouts are paid and named donors are not kept",
        )),
        Some(key) => {
            if let Err(e) = zbor_vault::DataKey::parse(key) {
                found.push(Problem::invalid("ZBOR_DATA_KEY", e.to_string()));
            }
        }
    }
    if let Some(token) = config.admin_token.as_deref() {
        let distinct = token.chars().collect::<std::collections::BTreeSet<char>>().len();
        if token.chars().count() < ADMIN_TOKEN_CHARACTERS_MIN || distinct < ADMIN_TOKEN_DISTINCT_MIN {
            found.push(Problem::development(
                "ZBOR_ADMIN_TOKEN",
                format!(
                    "weak: use at least {ADMIN_TOKEN_CHARACTERS_MIN} random characters \
                     (`openssl rand -hex 32`), or none once staff accounts exist"
                ),
            ));
        }
    }
    match config.stripe_webhook_secret.as_deref() {
        None => found.push(Problem::development(
            "STRIPE_WEBHOOK_SECRET",
            "not set: the webhook endpoint answers 503 and no donation is booked until Stripe's retries stop",
        )),
        Some(secrets) => {
            if zbor_stripe::signature::WebhookSecrets::parse(secrets).is_none() {
                found.push(Problem::invalid(
                    "STRIPE_WEBHOOK_SECRET",
                    "must hold one or two comma-separated secrets",
                ));
            } else if secrets.split(',').any(|s| !s.trim().starts_with("whsec_")) {
                found.push(Problem::development(
                    "STRIPE_WEBHOOK_SECRET",
                    "Stripe's signing secrets start with whsec_",
                ));
            }
        }
    }
}

fn stripe(config: &Config, found: &mut Vec<Problem>) {
    match config.stripe_secret_key.as_deref() {
        None => found.push(Problem::development(
            "STRIPE_SECRET_KEY",
            "not set: no checkout links, no fee lookups, no Stripe payouts",
        )),
        Some(key) if key.starts_with("sk_test_") || key.starts_with("rk_test_") => {
            found.push(Problem::development("STRIPE_SECRET_KEY", "a test-mode key: no real money moves"))
        }
        Some(key) if !key.starts_with("sk_live_") && !key.starts_with("rk_live_") => {
            found.push(Problem::invalid(
                "STRIPE_SECRET_KEY",
                "not a Stripe secret key (sk_live_…, rk_live_…, sk_test_…)",
            ))
        }
        Some(_) => {}
    }
    if config.stripe_api_base != STRIPE_API {
        found.push(Problem::development(
            "STRIPE_API_BASE",
            format!("is not {STRIPE_API}: a simulator, or a proxy that sees every call"),
        ));
    }
    if config.stripe_requests_per_second == 0 || config.payout_transfers_per_second == 0 {
        found.push(Problem::invalid(
            "ZBOR_STRIPE_REQUESTS_PER_SECOND",
            "ZBOR_STRIPE_REQUESTS_PER_SECOND and ZBOR_PAYOUT_TRANSFERS_PER_SECOND must be at least 1",
        ));
    }
}

fn public_url(config: &Config, found: &mut Vec<Problem>) {
    let url = &config.public_url;
    if !url.starts_with("https://") && !url.starts_with("http://") {
        found.push(Problem::invalid("ZBOR_PUBLIC_URL", "must start with https://"));
    } else if !url.starts_with("https://") {
        found.push(Problem::development(
            "ZBOR_PUBLIC_URL",
            "is plain http: donors' pages, staff logins and session cookies would travel unencrypted",
        ));
    }
}

fn limits(config: &Config, found: &mut Vec<Problem>) {
    if config.sse_connections_max == 0 || config.sse_connections_per_address_max == 0 {
        found.push(Problem::invalid(
            "ZBOR_SSE_CONNECTIONS_MAX",
            "ZBOR_SSE_CONNECTIONS_MAX and ZBOR_SSE_CONNECTIONS_PER_ADDRESS_MAX must be at least 1",
        ));
    }
    if !(1..=1440).contains(&config.session_idle_minutes) {
        found.push(Problem::invalid("ZBOR_SESSION_IDLE_MINUTES", "must be 1 to 1440"));
    }
    if !(1..=300).contains(&config.header_read_timeout_seconds) {
        found.push(Problem::invalid("ZBOR_HEADER_READ_TIMEOUT_SECONDS", "must be 1 to 300"));
    }
    if config.workers == 0 {
        found.push(Problem::invalid("ZBOR_WORKERS", "must be at least 1"));
    }
}

fn sepa(config: &Config, found: &mut Vec<Problem>) {
    match (config.sepa_debtor_name.as_deref(), config.sepa_debtor_iban.as_deref()) {
        (Some(_), None) | (None, Some(_)) => found.push(Problem::invalid(
            "ZBOR_SEPA_DEBTOR_IBAN",
            "ZBOR_SEPA_DEBTOR_NAME and ZBOR_SEPA_DEBTOR_IBAN go together",
        )),
        _ => {}
    }
    if let Some(iban) = config.sepa_debtor_iban.as_deref() {
        if let Err(e) = zbor_payouts::iban::Iban::parse(iban) {
            found.push(Problem::invalid("ZBOR_SEPA_DEBTOR_IBAN", e.to_string()));
        }
    }
    if let Some(bic) = config.sepa_debtor_bic.as_deref() {
        if let Err(e) = zbor_payouts::iban::Bic::parse(bic) {
            found.push(Problem::invalid("ZBOR_SEPA_DEBTOR_BIC", e.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// What a careful production deployment sets: no problem at all.
    fn production() -> Config {
        Config {
            database_url:
                "postgres://zbor@db.internal:5432/zbor?sslmode=verify-full&sslrootcert=/etc/zbor/ca.pem"
                    .into(),
            redis_url: "rediss://zbor:x@redis.internal:6380/0".into(),
            listen: "0.0.0.0:8080".parse().unwrap(),
            admin_token: None,
            database_connections_max: 32,
            stripe_webhook_secret: Some("whsec_abc".into()),
            redis_prefix: "zbor:".into(),
            stripe_secret_key: Some("rk_live_abc".into()),
            stripe_api_base: STRIPE_API.into(),
            stripe_requests_per_second: 25,
            public_url: "https://give.example.org".into(),
            data_key: Some(zbor_vault::DataKey::generate_hex()),
            workers: 4,
            payout_transfers_per_second: 10,
            sepa_debtor_name: None,
            sepa_debtor_iban: None,
            sepa_debtor_bic: None,
            login_attempts_per_minute: 10,
            checkouts_per_minute: 60,
            trusted_proxies: Vec::new(),
            sse_connections_max: 5000,
            sse_connections_per_address_max: 20,
            header_read_timeout_seconds: 10,
            session_idle_minutes: 30,
            surplus_solo_max: rust_decimal::Decimal::ZERO,
            metrics_listen: Some("0.0.0.0:9090".parse().unwrap()),
            environment: Environment::Production,
            organisation: Default::default(),
        }
    }

    fn settings(config: &Config) -> Vec<&'static str> {
        problems(config).iter().map(|p| p.setting).collect()
    }

    #[test]
    fn a_careful_production_configuration_has_no_problem() {
        assert_eq!(problems(&production()), []);
        assert!(refuse_to_start(&production(), Process::Serve).is_ok());
    }

    #[test]
    fn every_development_setting_is_named_and_stops_production_only() {
        let mut config = production();
        config.database_url = "postgres://zbor@db.internal/zbor?sslmode=require".into();
        config.redis_url = "redis://redis.internal:6379".into();
        config.admin_token = Some("admin-admin-admin-admin-admin-admin".into());
        config.stripe_webhook_secret = None;
        config.stripe_secret_key = Some("sk_test_abc".into());
        config.stripe_api_base = "http://127.0.0.1:12111/".into();
        config.public_url = "http://give.example.org".into();
        config.data_key = None;
        let found = problems(&config);
        assert_eq!(
            settings(&config),
            [
                "DATABASE_URL",
                "REDIS_URL",
                "REDIS_URL",
                "ZBOR_DATA_KEY",
                "ZBOR_ADMIN_TOKEN",
                "STRIPE_WEBHOOK_SECRET",
                "STRIPE_SECRET_KEY",
                "STRIPE_API_BASE",
                "ZBOR_PUBLIC_URL",
            ]
        );
        assert!(found.iter().all(|p| p.kind == Kind::Development));
        let refused = refuse_to_start(&config, Process::Serve).unwrap_err().to_string();
        assert!(
            refused.contains("9 problem(s)") && refused.contains("ZBOR_PUBLIC_URL: is plain http"),
            "{refused}"
        );
        // a worker neither receives webhooks nor serves pages
        let worker = refuse_to_start(&config, Process::Worker).unwrap_err().to_string();
        assert!(worker.contains("6 problem(s)") && !worker.contains("ZBOR_PUBLIC_URL"), "{worker}");
        config.environment = Environment::Development;
        assert!(refuse_to_start(&config, Process::Serve).is_ok());
    }

    #[test]
    fn values_that_cannot_work_stop_every_environment() {
        let mut config = production();
        config.environment = Environment::Development;
        config.data_key = Some("not a key".into());
        config.stripe_webhook_secret = Some(String::new());
        config.session_idle_minutes = 0;
        config.metrics_listen = Some(config.listen);
        config.sepa_debtor_name = Some("Fund".into());
        let found = problems(&config);
        assert!(found.iter().all(|p| p.kind == Kind::Invalid), "{found:?}");
        assert_eq!(
            settings(&config),
            [
                "ZBOR_METRICS_LISTEN",
                "ZBOR_DATA_KEY",
                "STRIPE_WEBHOOK_SECRET",
                "ZBOR_SESSION_IDLE_MINUTES",
                "ZBOR_SEPA_DEBTOR_IBAN"
            ]
        );
        assert!(refuse_to_start(&config, Process::Serve).is_err());
    }

    #[test]
    fn local_services_need_no_tls_and_secrets_are_never_quoted() {
        let mut config = production();
        config.database_url = "postgres://postgres@127.0.0.1:5432/zbor".into();
        config.redis_url = "redis://127.0.0.1:6379".into();
        assert_eq!(problems(&config), []);
        config.database_url = "postgres://zbor@/zbor?host=/run/postgresql".into();
        config.redis_url = "redis://[::1]:6379".into();
        assert_eq!(problems(&config), []);
        // a weak token is named, never repeated
        config.admin_token = Some("hunter2".into());
        let text = refuse_to_start(&config, Process::Serve).unwrap_err().to_string();
        assert!(text.contains("ZBOR_ADMIN_TOKEN") && !text.contains("hunter2"), "{text}");
    }
}
