//! Configuration: command-line flags, each also read from the environment variable the README
//! lists; secrets from the environment or a file only, never from a flag: every user of the
//! machine can read a process's arguments (`ps`, `/proc/PID/cmdline`), and shells keep them in
//! their history.
//!
//! [`Config`] holds the resolved values; the flags are [`Flags`] (clap derives them) and the
//! secrets are read by [`Secrets::from_environment`] while the command line is parsed, so a
//! secret set twice or in an unreadable file stops `zbor` before it does anything.

use std::ffi::OsString;
use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;

pub mod check;

pub const PUBLIC_URL_DEFAULT: &str = "http://127.0.0.1:8080";
pub const LISTEN_DEFAULT: &str = "127.0.0.1:8080";

/// Everything `zbor` is told. A new setting that is not a secret goes here, in [`Flags`] and in
/// `Config::from_parts` (the compiler points at each); a new secret goes in [`Secrets`].
#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub redis_url: String,
    pub listen: SocketAddr,
    /// Secret: `ZBOR_ADMIN_TOKEN` or `ZBOR_ADMIN_TOKEN_FILE`.
    pub admin_token: Option<String>,
    pub database_connections_max: u32,
    /// Secret: `STRIPE_WEBHOOK_SECRET` or `STRIPE_WEBHOOK_SECRET_FILE`.
    pub stripe_webhook_secret: Option<String>,
    pub redis_prefix: String,
    /// Secret: `STRIPE_SECRET_KEY` or `STRIPE_SECRET_KEY_FILE`.
    pub stripe_secret_key: Option<String>,
    pub stripe_api_base: String,
    pub stripe_requests_per_second: u32,
    pub public_url: String,
    /// Secret: `ZBOR_DATA_KEY` or `ZBOR_DATA_KEY_FILE`.
    pub data_key: Option<String>,
    pub workers: usize,
    pub payout_transfers_per_second: u32,
    pub sepa_debtor_name: Option<String>,
    pub sepa_debtor_iban: Option<String>,
    pub sepa_debtor_bic: Option<String>,
    pub login_attempts_per_minute: u32,
    pub checkouts_per_minute: u32,
    pub trusted_proxies: Vec<crate::http::limits::Network>,
    pub sse_connections_max: usize,
    pub sse_connections_per_address_max: usize,
    pub header_read_timeout_seconds: u64,
    pub session_idle_minutes: i64,
    pub surplus_solo_max: rust_decimal::Decimal,
    pub metrics_listen: Option<SocketAddr>,
    pub environment: Environment,
    /// Who runs the campaigns, as the donors' pages say (`ZBOR_ORG_*`).
    pub organisation: Organisation,
}

/// The organisation behind the campaigns, shown on the give and thank-you pages (donors want to
/// know who they give to and how to reach them). Text as written here, in one language; unset
/// parts are left off the pages.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Organisation {
    /// The organisation's name, e.g. "Fund for the Released": "Organised by …" and "… never sees
    /// card details" on the donors' pages.
    #[arg(long = "org-name", env = "ZBOR_ORG_NAME", default_value = "zbor")]
    pub name: String,
    /// One sentence on what the organisation does, under its name.
    #[arg(long = "org-purpose", env = "ZBOR_ORG_PURPOSE")]
    pub purpose: Option<String>,
    /// How donors reach the organisation (an email address or a postal address).
    #[arg(long = "org-contact", env = "ZBOR_ORG_CONTACT")]
    pub contact: Option<String>,
    /// The organisation's own website (http or https), linked from the pages and from the
    /// not-found page as the way on.
    #[arg(long = "org-website", env = "ZBOR_ORG_WEBSITE")]
    pub website: Option<String>,
    /// The legal notice (registered name, address, registration number: an Impressum).
    #[arg(long = "org-legal-notice", env = "ZBOR_ORG_LEGAL_NOTICE")]
    pub legal_notice: Option<String>,
    /// What the organisation does with donors' data (a short privacy note, or where to read it).
    #[arg(long = "org-privacy-note", env = "ZBOR_ORG_PRIVACY_NOTE")]
    pub privacy_note: Option<String>,
}

/// `ZBOR_ENVIRONMENT`: in production every development setting [`check::problems`] finds stops
/// `serve` and `worker` before they start; in development it is a warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

/// The settings that may be given as flags (each also from its environment variable).
#[derive(clap::Args)]
struct Flags {
    /// PostgreSQL, the system of record. It carries a password only in development: in
    /// production give it through the environment (docs/PRODUCTION.md).
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        default_value = "postgres://postgres@127.0.0.1:5432/zbor"
    )]
    database_url: String,

    /// Redis, for work queues and hot copies (never the only copy of anything).
    #[arg(long, env = "REDIS_URL", hide_env_values = true, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,

    /// Address the HTTP server listens on.
    #[arg(long, env = "ZBOR_LISTEN", default_value = LISTEN_DEFAULT)]
    listen: SocketAddr,

    /// Largest number of PostgreSQL connections this process opens.
    #[arg(long, env = "ZBOR_DATABASE_CONNECTIONS_MAX", default_value_t = 32)]
    database_connections_max: u32,

    /// Prefix of every Redis key and channel this deployment uses (tests use one each).
    #[arg(long, env = "ZBOR_REDIS_PREFIX", default_value = "zbor:")]
    redis_prefix: String,

    /// Stripe's API address; the simulator's in development and tests.
    #[arg(long, env = "STRIPE_API_BASE", default_value = zbor_stripe::STRIPE_API_BASE)]
    stripe_api_base: String,

    /// Stripe calls per second this process makes at most (Stripe allows ~100 live, 25 in test mode).
    #[arg(long, env = "ZBOR_STRIPE_REQUESTS_PER_SECOND", default_value_t = 25)]
    stripe_requests_per_second: u32,

    /// The address donors see zbor at, for Checkout's return links, e.g. https://give.example.org.
    #[arg(long, env = "ZBOR_PUBLIC_URL", default_value = PUBLIC_URL_DEFAULT)]
    public_url: String,

    /// Payout workers `zbor worker` (and `zbor dev`) runs.
    #[arg(long, env = "ZBOR_WORKERS", default_value_t = 4)]
    workers: usize,

    /// The Stripe Connect rail's own limit: transfers per second this process starts at most, on
    /// a Stripe client of its own (donors' checkouts never wait behind a payout batch).
    #[arg(long, env = "ZBOR_PAYOUT_TRANSFERS_PER_SECOND", default_value_t = 10)]
    payout_transfers_per_second: u32,

    /// The organisation's account SEPA payouts are paid from (the pain.001 file's debtor).
    /// Unset: SEPA files cannot be made.
    #[arg(long, env = "ZBOR_SEPA_DEBTOR_NAME")]
    sepa_debtor_name: Option<String>,
    /// That account's IBAN.
    #[arg(long, env = "ZBOR_SEPA_DEBTOR_IBAN", hide_env_values = true)]
    sepa_debtor_iban: Option<String>,
    /// That account's BIC (optional).
    #[arg(long, env = "ZBOR_SEPA_DEBTOR_BIC")]
    sepa_debtor_bic: Option<String>,

    /// Logins (`POST /api/v1/session`) one client address may try per minute, across every
    /// instance (counted in Redis). Beyond it: 429 with `Retry-After`.
    #[arg(long, env = "ZBOR_LOGIN_ATTEMPTS_PER_MINUTE", default_value_t = 10)]
    login_attempts_per_minute: u32,

    /// Checkout sessions one client address may open per minute, across every instance. Donors
    /// behind one address (a venue's Wi-Fi, a carrier's NAT) share it: keep it generous.
    #[arg(long, env = "ZBOR_CHECKOUTS_PER_MINUTE", default_value_t = 60)]
    checkouts_per_minute: u32,

    /// Load balancers whose `X-Forwarded-For` is believed (comma-separated addresses or networks,
    /// `10.0.0.2,10.244.0.0/16`). Unset: the client address is the connection's peer, and the
    /// header is ignored.
    #[arg(long, env = "ZBOR_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<crate::http::limits::Network>,

    /// Live totals streams (SSE) this process serves at once; beyond it 503 with `Retry-After`.
    /// Each holds a file descriptor: keep it well under the process's limit (`LimitNOFILE`).
    #[arg(long, env = "ZBOR_SSE_CONNECTIONS_MAX", default_value_t = crate::live::SSE_CONNECTIONS_MAX_DEFAULT)]
    sse_connections_max: usize,

    /// Live totals streams one client address (IPv6: one /64) may hold at once; coordinators
    /// keep a few tabs open, and a venue's Wi-Fi shares one address.
    #[arg(
        long,
        env = "ZBOR_SSE_CONNECTIONS_PER_ADDRESS_MAX",
        default_value_t = crate::live::SSE_CONNECTIONS_PER_ADDRESS_MAX_DEFAULT
    )]
    sse_connections_per_address_max: usize,

    /// A client must send a request's headers within this many seconds of starting them (or of
    /// its previous request on the connection), or the connection is closed: slow senders
    /// cannot hold connections open.
    #[arg(long, env = "ZBOR_HEADER_READ_TIMEOUT_SECONDS", default_value_t = 10)]
    header_read_timeout_seconds: u64,

    /// A console session unused for this many minutes ends (1 to 1440): a laptop left open, a
    /// phone taken from someone.
    #[arg(long, env = "ZBOR_SESSION_IDLE_MINUTES", default_value_t = zbor_auth::sessions::SESSION_IDLE_MINUTES_DEFAULT)]
    session_idle_minutes: i64,

    /// The largest surplus transfer (money moved from a funded campaign to its overflow) one
    /// person may make alone, in the campaign's currency; above it a second person approves.
    /// 0 (the default): every surplus transfer takes two people. Set here, not through the API,
    /// so no one can raise it for themselves.
    #[arg(long, env = "ZBOR_SURPLUS_SOLO_MAX", default_value = "0", value_parser = non_negative_amount)]
    surplus_solo_max: rust_decimal::Decimal,

    /// Where Prometheus scrapes `/metrics` (and a worker's `/health/live`): a port of its own,
    /// never the public one. Unset: no metrics listener.
    #[arg(long, env = "ZBOR_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,

    /// `production` refuses development settings (`zbor config check` lists them): plain http
    /// public URL, missing secrets, a weak admin token, PostgreSQL or Redis across a network
    /// without verified TLS, Stripe's test mode or another API address.
    #[arg(long, env = "ZBOR_ENVIRONMENT", value_enum, default_value_t = Environment::Development)]
    environment: Environment,

    #[command(flatten)]
    organisation: Organisation,

    // Secrets given as flags are refused (with a message that says where they go instead, and
    // never repeats the value); hidden, so `--help` does not suggest them.
    #[arg(long = "admin-token", hide = true, value_name = "REFUSED")]
    refused_admin_token: Option<OsString>,
    #[arg(long = "data-key", hide = true, value_name = "REFUSED")]
    refused_data_key: Option<OsString>,
    #[arg(long = "stripe-secret-key", hide = true, value_name = "REFUSED")]
    refused_stripe_secret_key: Option<OsString>,
    #[arg(long = "stripe-webhook-secret", hide = true, value_name = "REFUSED")]
    refused_stripe_webhook_secret: Option<OsString>,
}

/// An amount of money in a setting: a plain decimal, zero or more (`1000`, `250.50`).
fn non_negative_amount(text: &str) -> Result<rust_decimal::Decimal, String> {
    let amount: rust_decimal::Decimal =
        text.trim().parse().map_err(|_| format!("{text:?} is not an amount like 1000 or 250.50"))?;
    if amount.is_sign_negative() {
        return Err("must be zero or more".into());
    }
    Ok(amount)
}

/// The secrets, each from its environment variable or from the file its `_FILE` variable names.
struct Secrets {
    /// `ZBOR_ADMIN_TOKEN`: a bootstrap bearer token with the admin role. Unset: none.
    admin_token: Option<String>,
    /// `ZBOR_DATA_KEY`: the key ring sealing personal data at rest (docs/KEYS.md). Unset: no
    /// donor names or emails are kept at all, and no users can log in.
    data_key: Option<String>,
    /// `STRIPE_SECRET_KEY` (sk_live_…, sk_test_… or a restricted rk_…). Unset: no checkout links
    /// and no fee lookups; webhooks still work.
    stripe_secret_key: Option<String>,
    /// `STRIPE_WEBHOOK_SECRET`: one, or two comma-separated while rotating. Unset: the webhook
    /// endpoint answers 503 and Stripe retries later.
    stripe_webhook_secret: Option<String>,
}

/// A secret file larger than this is a mistake (a wrong path), not a key.
const SECRET_FILE_BYTES_MAX: u64 = 64 * 1024;

const SECRETS_HELP: &str = "\
Secrets are read from the environment, never from flags (every user of this machine can read a
process's arguments): ZBOR_ADMIN_TOKEN, ZBOR_DATA_KEY, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET.
Each may instead be read from a file named by the same variable with _FILE appended, e.g.
ZBOR_DATA_KEY_FILE=/run/credentials/zbor.service/data-key (trailing line breaks are dropped).";

impl Secrets {
    /// Reads every secret through `variable` (the process environment: `std::env::var_os`).
    /// Refuses a secret set both directly and as a file, and a file that cannot be read; the
    /// messages name variables and paths, never a value.
    fn from_environment(variable: impl Fn(&str) -> Option<OsString>) -> Result<Secrets, String> {
        Ok(Secrets {
            admin_token: secret("ZBOR_ADMIN_TOKEN", &variable)?,
            data_key: secret("ZBOR_DATA_KEY", &variable)?,
            stripe_secret_key: secret("STRIPE_SECRET_KEY", &variable)?,
            stripe_webhook_secret: secret("STRIPE_WEBHOOK_SECRET", &variable)?,
        })
    }
}

fn secret(name: &str, variable: &impl Fn(&str) -> Option<OsString>) -> Result<Option<String>, String> {
    let file_name = format!("{name}_FILE");
    match (variable(name), variable(&file_name)) {
        (Some(_), Some(_)) => Err(format!("{name} and {file_name} are both set: set only one")),
        (Some(value), None) => {
            value.into_string().map(Some).map_err(|_| format!("{name} is not valid UTF-8"))
        }
        (None, Some(path)) => read_secret_file(&file_name, Path::new(&path)).map(Some),
        (None, None) => Ok(None),
    }
}

/// The file's text less its trailing line ending (`echo key > file` adds one).
fn read_secret_file(variable: &str, path: &Path) -> Result<String, String> {
    let problem = |what: String| format!("{variable}: {}: {what}", path.display());
    let file = std::fs::File::open(path).map_err(|e| problem(e.to_string()))?;
    let mut text = String::new();
    file.take(SECRET_FILE_BYTES_MAX + 1).read_to_string(&mut text).map_err(|e| problem(e.to_string()))?;
    if u64::try_from(text.len()).unwrap_or(u64::MAX) > SECRET_FILE_BYTES_MAX {
        return Err(problem(format!("larger than {SECRET_FILE_BYTES_MAX} bytes: not a secret")));
    }
    let value = text.trim_end_matches(['\n', '\r']);
    if value.is_empty() {
        return Err(problem("empty".into()));
    }
    Ok(value.to_owned())
}

impl Config {
    fn from_parts(flags: Flags, secrets: Secrets) -> Result<Config, String> {
        // Every field named, not read as `flags.x`: clap's derive reads each field itself, so
        // only an unused binding here shows a new flag that never reaches `Config`.
        let Flags {
            database_url,
            redis_url,
            listen,
            database_connections_max,
            redis_prefix,
            stripe_api_base,
            stripe_requests_per_second,
            public_url,
            workers,
            payout_transfers_per_second,
            sepa_debtor_name,
            sepa_debtor_iban,
            sepa_debtor_bic,
            login_attempts_per_minute,
            checkouts_per_minute,
            trusted_proxies,
            sse_connections_max,
            sse_connections_per_address_max,
            header_read_timeout_seconds,
            session_idle_minutes,
            surplus_solo_max,
            metrics_listen,
            environment,
            organisation,
            refused_admin_token,
            refused_data_key,
            refused_stripe_secret_key,
            refused_stripe_webhook_secret,
        } = flags;
        let refused = [
            ("--admin-token", "ZBOR_ADMIN_TOKEN", refused_admin_token.is_some()),
            ("--data-key", "ZBOR_DATA_KEY", refused_data_key.is_some()),
            ("--stripe-secret-key", "STRIPE_SECRET_KEY", refused_stripe_secret_key.is_some()),
            ("--stripe-webhook-secret", "STRIPE_WEBHOOK_SECRET", refused_stripe_webhook_secret.is_some()),
        ];
        if redis_url.ends_with("#insecure") {
            // redis-rs would then accept any certificate: anybody on the path could read the
            // queues and the hot copies, and answer in Redis's place
            return Err("REDIS_URL ends in #insecure, which turns off the server's certificate check: \
                 refused (docs/PRODUCTION.md says how to trust a private CA)"
                .into());
        }
        if let Some((flag, variable, _)) = refused.iter().find(|(_, _, given)| *given) {
            return Err(format!(
                "{flag} is not accepted: a secret on the command line can be read by every user of \
                 this machine. Set {variable} or {variable}_FILE instead"
            ));
        }
        Ok(Config {
            database_url,
            redis_url,
            listen,
            admin_token: secrets.admin_token,
            database_connections_max,
            stripe_webhook_secret: secrets.stripe_webhook_secret,
            redis_prefix,
            stripe_secret_key: secrets.stripe_secret_key,
            stripe_api_base,
            stripe_requests_per_second,
            public_url,
            data_key: secrets.data_key,
            workers,
            payout_transfers_per_second,
            sepa_debtor_name,
            sepa_debtor_iban,
            sepa_debtor_bic,
            login_attempts_per_minute,
            checkouts_per_minute,
            trusted_proxies,
            sse_connections_max,
            sse_connections_per_address_max,
            header_read_timeout_seconds,
            session_idle_minutes,
            surplus_solo_max,
            metrics_listen,
            environment,
            organisation,
        })
    }
}

/// A URL's password is a secret too: `--database-url` and `--redis-url` may name a user, but a
/// password goes in `DATABASE_URL` / `REDIS_URL` (the environment) or `PGPASSWORD`.
fn refuse_passwords_in_flags(matches: &clap::ArgMatches) -> Result<(), String> {
    for (id, flag, variable) in
        [("database_url", "--database-url", "DATABASE_URL"), ("redis_url", "--redis-url", "REDIS_URL")]
    {
        let from_command_line = matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
        let url = matches.get_one::<String>(id).map(String::as_str).unwrap_or_default();
        if from_command_line && url_has_password(url) {
            return Err(format!(
                "{flag} carries a password, which every user of this machine can read on the \
                 command line. Give the URL in {variable} instead"
            ));
        }
    }
    Ok(())
}

/// `scheme://user:password@host…` or `…?password=…`.
fn url_has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let in_userinfo = authority.rsplit_once('@').is_some_and(|(userinfo, _)| userinfo.contains(':'));
    let in_query = rest
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|pair| pair.starts_with("password=")));
    in_userinfo || in_query
}

/// Parsing the command line reads the secrets too: `Cli::parse()` then stops with the message.
impl clap::FromArgMatches for Config {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut matches.clone())
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        let invalid_here =
            |message: String| clap::Error::raw(clap::error::ErrorKind::ValueValidation, message);
        refuse_passwords_in_flags(matches).map_err(invalid_here)?;
        let flags = Flags::from_arg_matches_mut(matches)?;
        let invalid = |message: String| clap::Error::raw(clap::error::ErrorKind::ValueValidation, message);
        let secrets = Secrets::from_environment(|name| std::env::var_os(name)).map_err(invalid)?;
        Config::from_parts(flags, secrets).map_err(invalid)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Args for Config {
    fn group_id() -> Option<clap::Id> {
        Flags::group_id()
    }

    fn augment_args(command: clap::Command) -> clap::Command {
        everywhere(Flags::augment_args(command)).after_help(SECRETS_HELP)
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        everywhere(Flags::augment_args_for_update(command)).after_help(SECRETS_HELP)
    }
}

/// Every setting works before or after the subcommand (`zbor serve --listen …` as well as
/// `zbor --listen … serve`), and `--help` names each one's environment variable without its
/// value (`[env: ZBOR_LISTEN]`): clap would otherwise print the value when it is set, a secret
/// URL included, and `[env: ZBOR_LISTEN=]` when it is not, which reads as "set to nothing".
/// Only [`Flags`]' arguments exist on `command` here: `zbor`'s own come after it.
fn everywhere(command: clap::Command) -> clap::Command {
    command.mut_args(|arg| arg.global(true).hide_env_values(true))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::HashMap;

    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        flags: Flags,
    }

    /// As `zbor` itself flattens it: through the `FromArgMatches` and `Args` above.
    #[derive(Parser)]
    struct Zbor {
        #[command(flatten)]
        config: Config,
    }

    fn parse(args: &[&str], environment: &[(&str, &str)]) -> Result<Config, String> {
        let cli = Cli::try_parse_from(std::iter::once("zbor").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        let environment: HashMap<String, OsString> =
            environment.iter().map(|(k, v)| ((*k).to_owned(), OsString::from(v))).collect();
        let secrets = Secrets::from_environment(|name| environment.get(name).cloned())?;
        Config::from_parts(cli.flags, secrets)
    }

    fn file_with(text: &str) -> (std::path::PathBuf, impl Drop) {
        struct Removed(std::path::PathBuf);
        impl Drop for Removed {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
        let path = std::env::temp_dir().join(format!("zbor-secret-{}", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, text).unwrap();
        (path.clone(), Removed(path))
    }

    #[test]
    fn secrets_given_as_flags_are_refused_without_repeating_them() {
        for flag in ["--admin-token", "--data-key", "--stripe-secret-key", "--stripe-webhook-secret"] {
            for args in [vec![flag, "s3cr3t-value"], vec![&*format!("{flag}=s3cr3t-value")]] {
                let error = match Zbor::try_parse_from(std::iter::once("zbor").chain(args.iter().copied())) {
                    Err(error) => error.to_string(),
                    Ok(_) => panic!("{flag} was accepted"),
                };
                assert!(
                    error.contains(&format!("{flag} is not accepted")) && error.contains("_FILE"),
                    "{error}"
                );
                assert!(!error.contains("s3cr3t-value"), "the value is repeated: {error}");
            }
        }
        assert!(Zbor::try_parse_from(["zbor", "--workers", "3"]).is_ok_and(|z| z.config.workers == 3));
        // `--help` says where secrets go
        let help = Zbor::try_parse_from(["zbor", "--help"]).err().unwrap().to_string();
        assert!(help.contains("ZBOR_DATA_KEY_FILE") && !help.contains("--data-key"), "{help}");
    }

    #[test]
    fn secrets_come_from_the_environment() {
        let config =
            parse(&[], &[("ZBOR_ADMIN_TOKEN", "token"), ("STRIPE_SECRET_KEY", "sk_test_1")]).unwrap();
        assert_eq!(config.admin_token.as_deref(), Some("token"));
        assert_eq!(config.stripe_secret_key.as_deref(), Some("sk_test_1"));
        assert_eq!(config.data_key, None);
        assert_eq!(config.stripe_webhook_secret, None);
    }

    #[test]
    fn secrets_come_from_files_without_their_trailing_newline() {
        let (key, _k) = file_with("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
        let (webhook, _w) = file_with("whsec_one,whsec_two\r\n");
        let (admin, _a) = file_with("token-from-file");
        let (stripe, _s) = file_with("sk_test_file\n");
        let paths = [&key, &webhook, &admin, &stripe].map(|p| p.to_str().unwrap().to_owned());
        let config = parse(
            &[],
            &[
                ("ZBOR_DATA_KEY_FILE", &paths[0]),
                ("STRIPE_WEBHOOK_SECRET_FILE", &paths[1]),
                ("ZBOR_ADMIN_TOKEN_FILE", &paths[2]),
                ("STRIPE_SECRET_KEY_FILE", &paths[3]),
            ],
        )
        .unwrap();
        assert_eq!(
            config.data_key.as_deref(),
            Some("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
        );
        assert_eq!(config.stripe_webhook_secret.as_deref(), Some("whsec_one,whsec_two"));
        assert_eq!(config.admin_token.as_deref(), Some("token-from-file"));
        assert_eq!(config.stripe_secret_key.as_deref(), Some("sk_test_file"));
    }

    #[test]
    fn a_secret_set_twice_or_in_a_bad_file_is_refused() {
        let (key, _k) = file_with("from-file\n");
        let key = key.to_str().unwrap();
        let error = parse(&[], &[("ZBOR_DATA_KEY", "from-env"), ("ZBOR_DATA_KEY_FILE", key)]).err().unwrap();
        assert!(error.contains("ZBOR_DATA_KEY and ZBOR_DATA_KEY_FILE are both set"), "{error}");
        assert!(!error.contains("from-env") && !error.contains("from-file"), "{error}");

        let error = parse(&[], &[("ZBOR_ADMIN_TOKEN_FILE", "/nonexistent/zbor-token")]).err().unwrap();
        assert!(error.starts_with("ZBOR_ADMIN_TOKEN_FILE: /nonexistent/zbor-token: "), "{error}");

        let (empty, _e) = file_with("\n");
        let error = parse(&[], &[("STRIPE_SECRET_KEY_FILE", empty.to_str().unwrap())]).err().unwrap();
        assert!(error.ends_with("empty"), "{error}");

        let (large, _l) = file_with(&"x".repeat(70_000));
        let error = parse(&[], &[("STRIPE_SECRET_KEY_FILE", large.to_str().unwrap())]).err().unwrap();
        assert!(error.contains("not a secret"), "{error}");
    }

    #[test]
    fn passwords_in_url_flags_are_refused_and_unverified_redis_too() {
        for args in [
            ["--database-url", "postgres://zbor:pa55word@db.internal/zbor?sslmode=verify-full"],
            ["--database-url", "postgres://zbor@db.internal/zbor?sslmode=require&password=pa55word"],
            ["--redis-url", "rediss://zbor:pa55word@redis.internal:6380"],
            ["--redis-url", "redis://:pa55word@127.0.0.1:6379"],
        ] {
            let error = match Zbor::try_parse_from(std::iter::once("zbor").chain(args)) {
                Err(error) => error.to_string(),
                Ok(_) => panic!("{args:?} was accepted"),
            };
            assert!(error.contains(&format!("{} carries a password", args[0])), "{error}");
            assert!(!error.contains("pa55word"), "{error}");
        }
        // a user name alone, or an address with @ in its path, is fine
        for args in [
            [
                "--database-url",
                "postgres://zbor@db.internal/zbor?sslmode=verify-full&sslrootcert=/etc/zbor/ca.pem",
            ],
            ["--redis-url", "rediss://redis.internal:6380/0"],
        ] {
            assert!(Zbor::try_parse_from(std::iter::once("zbor").chain(args)).is_ok(), "{args:?}");
        }
        let error = parse(&["--redis-url", "rediss://redis.internal:6380#insecure"], &[]).err().unwrap();
        assert!(error.contains("#insecure"), "{error}");
    }

    #[test]
    fn the_other_settings_are_still_flags() {
        let config = parse(&["--listen", "127.0.0.1:9000", "--sse-connections-max", "7"], &[]).unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.sse_connections_max, 7);
        assert_eq!(config.sse_connections_per_address_max, 20);
        assert_eq!(config.header_read_timeout_seconds, 10);
    }
}
