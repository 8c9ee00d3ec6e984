//! `zbor <command>`: one binary for serving, development and operations.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::{shutdown_on_signals, Application};
use crate::config::Config;
use zbor_auth::{Actor, UserId};

#[derive(Parser)]
#[command(name = "zbor", about = "Rapid-response fundraising and payouts", version)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server and background tasks.
    Serve,
    /// Run the payout workers, the outbox relay and the payout sweeper.
    Worker,
    /// Development: create the database if missing, migrate, then serve against a Stripe
    /// simulator, with a data key kept in `.zbor-dev/data-key` across runs.
    Dev {
        /// Also add a demo: a campaign with donations, an admin and three treasurers (their
        /// passwords and authenticator secrets printed once) and a payout batch to approve.
        #[arg(long)]
        demo: bool,
        /// Address of the Stripe simulator `zbor dev` runs.
        #[arg(long, default_value = "127.0.0.1:12111")]
        simulator_address: std::net::SocketAddr,
    },
    /// Create the database if missing and apply pending migrations.
    Migrate,
    /// Print the API's OpenAPI 3.1 document (what `GET /api/v1/openapi.json` serves).
    Openapi,
    /// Ledger operations.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Campaigns: create, change, close, reopen.
    Campaign {
        #[command(subcommand)]
        command: CampaignCommand,
    },
    /// The audit log of privileged actions.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// People who run zbor (needs ZBOR_DATA_KEY: their emails are sealed).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The people a campaign pays (import needs ZBOR_DATA_KEY: their details are sealed).
    Beneficiaries {
        #[command(subcommand)]
        command: BeneficiariesCommand,
    },
    /// The data key ring ZBOR_DATA_KEY (docs/KEYS.md).
    Vault {
        #[command(subcommand)]
        command: VaultCommand,
    },
    /// The ledger against what Stripe says (needs STRIPE_SECRET_KEY).
    Reconcile {
        #[command(subcommand)]
        command: ReconcileCommand,
    },
    /// The bank's statements.
    Bank {
        #[command(subcommand)]
        command: BankCommand,
    },
    /// The configuration itself.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Stripe's side: events zbor may have missed.
    Stripe {
        #[command(subcommand)]
        command: StripeCommand,
    },
    /// The accountant's CSV exports of a period, audited as `cli` (README, "Exports and overview").
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// What coordinators read: every campaign's overview.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
    /// Exits 0 when this host's `zbor serve` answers `/health/live` on ZBOR_LISTEN (or, with
    /// `--metrics`, a worker's on ZBOR_METRICS_LISTEN) within 2 s: a container's HEALTHCHECK,
    /// where no curl is installed.
    Healthcheck {
        /// Ask the metrics listener (ZBOR_METRICS_LISTEN) instead of the public one.
        #[arg(long)]
        metrics: bool,
    },
    /// Development: run the Stripe simulator alone (`deploy/cluster.sh` starts one for several
    /// servers), delivering signed webhooks to `--webhook-url` with STRIPE_WEBHOOK_SECRET.
    #[cfg(feature = "simulator")]
    Simulator {
        /// Address the simulator listens on (`--listen` is zbor's own server's address).
        #[arg(long, default_value = "127.0.0.1:12111")]
        address: std::net::SocketAddr,
        /// Where it delivers Stripe's events, e.g. http://127.0.0.1:8080/webhooks/stripe.
        #[arg(long)]
        webhook_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Names every problem with the configuration (the environment and flags `serve` would
    /// get): values that cannot work, and development settings that ZBOR_ENVIRONMENT=production
    /// refuses. Exits 1 when `serve` would refuse to start.
    Check,
}

#[derive(Subcommand)]
enum StripeCommand {
    /// Reads Stripe's events of the last `--since` (e.g. `72h`, `3d`; Stripe keeps 30 days)
    /// and applies every one zbor has not stored, through the same exactly-once path as the
    /// webhook: for a server that was down longer than Stripe retries, or a wrong webhook
    /// secret. Running it again changes nothing.
    Sync {
        /// How far back: minutes, hours or days (`90m`, `72h`, `3d`).
        #[arg(long, default_value = "72h")]
        since: String,
    },
}

#[derive(Subcommand)]
enum ReconcileCommand {
    /// Match Stripe's balance transactions of `[from, to)` with the ledger's postings on Stripe's
    /// balance: prints totals per kind and every difference (missing in the ledger, missing at
    /// Stripe, amounts that differ), keeps the run, and exits 1 on any difference.
    Stripe {
        /// Start, inclusive: `2026-11-30` (UTC midnight) or RFC 3339.
        #[arg(long, required_unless_present = "payout", requires = "to")]
        from: Option<String>,
        /// End, exclusive; at most 31 days after `from`.
        #[arg(long, requires = "from")]
        to: Option<String>,
        /// Instead of a period: one Stripe payout to the bank (`po_…`), every balance transaction
        /// it settled against the ledger's bookings of the same objects.
        #[arg(long, conflicts_with_all = ["from", "to"])]
        payout: Option<String>,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum BankCommand {
    /// Import an ISO 20022 statement (camt.053) or notification (camt.054): SEPA payouts it shows
    /// executed are paid, returned ones failed, Stripe's payouts matched; prints every line that
    /// matched nothing and exits 1 if any did. Importing the same file again changes nothing.
    Import {
        /// The camt.053 or camt.054 XML file, as the bank gave it.
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum VaultCommand {
    /// Seal every sealed value again and compute every blind index again under ZBOR_DATA_KEY's
    /// current (first) key, one row at a time, while zbor keeps running. Run it again after an
    /// interruption: it continues where it stopped. Exits 1 naming each row it could not re-key.
    Rotate,
    /// How many values are not yet under the current key; exits 1 while any is.
    Status,
}

#[derive(Subcommand)]
enum BeneficiariesCommand {
    /// Import a CSV file (header `name,contact,iban,bic,stripe_account,note`), all or nothing:
    /// every bad row is printed as `line N: problem` and then nothing is imported.
    Import {
        /// The campaign's slug.
        #[arg(long)]
        campaign: String,
        /// The CSV file.
        file: std::path::PathBuf,
    },
    /// The campaign's beneficiaries: id, payout method, and the ids sharing their IBAN.
    List {
        /// The campaign's slug.
        #[arg(long)]
        campaign: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain; exits 1 naming the first entry that does not fit.
    Verify,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. The password comes from ZBOR_NEW_USER_PASSWORD, or one is made and shown once.
    Add {
        /// Their email address, which is also their login (sealed at rest).
        #[arg(long)]
        email: String,
        /// admin, treasurer or coordinator
        #[arg(long)]
        role: String,
    },
    /// Change a user's role; their sessions end so it applies at once.
    Role {
        /// The user's id (as `zbor user add` printed it).
        id: i64,
        /// The new role: admin, treasurer or coordinator.
        #[arg(long)]
        role: String,
    },
    /// Disable a user: their sessions and API tokens stop working at once.
    Disable {
        /// The user's id.
        id: i64,
    },
    /// Let a disabled user log in again (there is no HTTP route for this).
    Enable {
        /// The user's id.
        id: i64,
    },
    /// Reset a user's password (from ZBOR_NEW_USER_PASSWORD, or made and shown once) and/or
    /// second factor; their sessions and API tokens end.
    Reset {
        /// The user's id.
        id: i64,
        /// A new password.
        #[arg(long)]
        password: bool,
        /// Remove their second factor: they enrol again at their next login.
        #[arg(long)]
        second_factor: bool,
    },
    /// Revoke an API token by its id.
    RevokeToken {
        /// The token's id (not the token itself).
        token: i64,
    },
}

#[derive(Subcommand)]
enum CampaignCommand {
    /// Create a campaign and its ledger account.
    Create {
        /// The campaign's name in its addresses, e.g. `release-123` (lower-case letters, digits, dashes).
        #[arg(long)]
        slug: String,
        /// The title donors see.
        #[arg(long)]
        title: String,
        /// ISO 4217 code, e.g. EUR.
        #[arg(long)]
        currency: String,
        /// Target amount, e.g. 123000.
        #[arg(long)]
        goal: String,
        /// Amount each beneficiary receives, e.g. 1000: the page then shows beneficiaries funded.
        #[arg(long)]
        per_beneficiary: Option<String>,
        /// The text donors see under the title.
        #[arg(long, default_value = "")]
        description: String,
        /// Amounts the give page suggests, comma-separated: 10,25,50.
        #[arg(long, value_delimiter = ',')]
        suggested: Vec<String>,
        /// The campaign donors are sent to once this one reaches its goal (its slug, same
        /// currency): the goal becomes a cap.
        #[arg(long)]
        overflow: Option<String>,
        /// The title in one of the pages' languages (be, ru, uk, pl, lt, de, en), as LANG=TITLE;
        /// repeat for each language. Pages in other languages show --title.
        #[arg(long = "title-in", value_name = "LANG=TITLE")]
        title_in: Vec<String>,
        /// The description in a language given a --title-in, as LANG=TEXT.
        #[arg(long = "description-in", value_name = "LANG=TEXT")]
        description_in: Vec<String>,
    },
    /// Change a campaign; options not given stay as they are.
    Update {
        /// The campaign's slug.
        slug: String,
        /// A new title.
        #[arg(long)]
        title: Option<String>,
        /// A new description.
        #[arg(long)]
        description: Option<String>,
        /// A new target amount.
        #[arg(long)]
        goal: Option<String>,
        /// A new amount per beneficiary.
        #[arg(long)]
        per_beneficiary: Option<String>,
        /// New suggested amounts, comma-separated.
        #[arg(long, value_delimiter = ',')]
        suggested: Option<Vec<String>>,
        /// Send donors to this campaign (its slug) once this one reaches its goal.
        #[arg(long)]
        overflow: Option<String>,
        /// Remove the overflow campaign: the goal is no longer a cap.
        #[arg(long, conflicts_with = "overflow")]
        no_overflow: bool,
        /// Titles per language, LANG=TITLE (repeat): given, they replace every translation.
        #[arg(long = "title-in", value_name = "LANG=TITLE")]
        title_in: Vec<String>,
        /// Descriptions per language, LANG=TEXT, each for a language given a --title-in.
        #[arg(long = "description-in", value_name = "LANG=TEXT")]
        description_in: Vec<String>,
    },
    /// Mark the campaign closed (payments already made are still booked).
    Close {
        /// The campaign's slug.
        slug: String,
    },
    /// Mark the campaign open again.
    Reopen {
        /// The campaign's slug.
        slug: String,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Recompute every balance from postings and check the hash chain; exits 1 at the first mismatch.
    Verify {
        /// Append committed transactions to the chain first.
        #[arg(long)]
        seal: bool,
    },
    /// Append committed transactions to the hash chain.
    Seal,
}

pub async fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("zbor: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr: plain text for people, or one JSON object per line (`ZBOR_LOG_FORMAT=json`)
/// for a log collector. A request's lines carry its span, `http` with the method, the path and
/// the request id (never a query string, a header or a body); a background task's carry its
/// span, `task` with the task's name.
///
/// Colours only on a terminal: a file, a pipe or journald would keep the escape codes as text.
/// `NO_COLOR` (https://no-color.org), set to anything but nothing, turns them off there too.
fn init_tracing() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("ZBOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let colour = std::io::stderr().is_terminal() && !no_color;
    let subscriber =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour);
    if std::env::var("ZBOR_LOG_FORMAT").is_ok_and(|format| format == "json") {
        subscriber.json().with_current_span(true).with_span_list(false).init();
    } else {
        subscriber.init();
    }
}

/// Each connection, live stream included, is a file descriptor. Containers (and many systems)
/// start a process with a soft limit of 1024 under a much higher hard limit, which the process
/// may raise itself: without this a server behind Kubernetes could hold only ~500 streams.
fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!(limit, "open files limit"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open files limit"),
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config;
    if matches!(cli.command, Command::Serve | Command::Worker | Command::Dev { .. }) {
        raise_open_files_limit();
    }
    match cli.command {
        Command::Serve => serve(&config).await,
        Command::Dev { demo, simulator_address } => {
            if !cfg!(feature = "simulator") {
                anyhow::bail!(
                    "`zbor dev` runs against the Stripe simulator, which this production build leaves out \
                     (--no-default-features): run `zbor serve` against Stripe, or build with the default features"
                );
            }
            if config.environment == crate::config::Environment::Production {
                anyhow::bail!("`zbor dev` runs a Stripe simulator: refused with ZBOR_ENVIRONMENT=production");
            }
            migrate(&config).await?;
            let config = with_stripe_simulator(config, simulator_address).await?;
            let workers = payout_workers(&config).await?;
            tokio::spawn(crate::workers::run(workers, shutdown_on_signals()));
            let app = Application::build(&config).await?;
            let address = app.local_addr()?;
            tracing::info!(address = %address, "zbor listening");
            dev_welcome(&config, address, demo, simulator_address).await?;
            app.run(shutdown_on_signals()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker => {
            crate::config::check::refuse_to_start(&config, crate::config::check::Process::Worker)?;
            let workers = payout_workers(&config).await?;
            tracing::info!(workers = workers.count, "payout workers running");
            let shutdown = shutdown_on_signals();
            if let Some(address) = config.metrics_listen {
                crate::metrics::spawn_listener(address, shutdown.clone()).await?;
            }
            crate::metrics::Sampler {
                pool: workers.pool.clone(),
                streams: workers.streams.clone(),
                sse_permits: None,
            }
            .spawn(shutdown.clone());
            crate::workers::run(workers, shutdown).await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => migrate(&config).await,
        Command::Openapi => {
            println!("{}", crate::http::openapi::document());
            Ok(ExitCode::SUCCESS)
        }
        Command::Ledger { command } => ledger(&config, command).await,
        Command::Campaign { command } => campaign(&config, command).await,
        Command::User { command } => user(&config, command).await,
        Command::Beneficiaries { command } => beneficiaries(&config, command).await,
        Command::Audit { command: AuditCommand::Verify } => audit_verify(&config).await,
        Command::Vault { command } => vault(&config, command).await,
        Command::Reconcile { command } => reconcile(&config, command).await,
        Command::Bank { command: BankCommand::Import { file } } => bank_import(&config, &file).await,
        Command::Config { command: ConfigCommand::Check } => Ok(config_check(&config)),
        Command::Stripe { command: StripeCommand::Sync { since } } => stripe_sync(&config, &since).await,
        Command::Export { command } => export(&config, command).await,
        Command::Report { command } => report(&config, command).await,
        Command::Healthcheck { metrics } => healthcheck(&config, metrics).await,
        #[cfg(feature = "simulator")]
        Command::Simulator { address, webhook_url } => simulator(&config, address, webhook_url).await,
    }
}

fn config_check(config: &Config) -> ExitCode {
    let problems = crate::config::check::problems(config);
    let environment = match config.environment {
        crate::config::Environment::Production => "production",
        crate::config::Environment::Development => "development",
    };
    for problem in &problems {
        let level = if problem.stops(config.environment) { "error" } else { "warning" };
        println!("{level}: {problem}");
    }
    let stopping = problems.iter().filter(|p| p.stops(config.environment)).count();
    if stopping == 0 {
        println!("configuration usable in {environment} ({} warning(s))", problems.len());
        ExitCode::SUCCESS
    } else {
        println!("{stopping} problem(s) stop `zbor serve` in {environment}");
        ExitCode::FAILURE
    }
}

/// `72h`, `3d`, `90m`: how far back to read.
fn duration_back(text: &str) -> anyhow::Result<chrono::Duration> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: i64 = number.parse().with_context(|| format!("{text}: give a number and a unit, e.g. 72h"))?;
    match unit {
        "m" => Ok(chrono::Duration::minutes(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "d" => Ok(chrono::Duration::days(n)),
        _ => anyhow::bail!("{text}: the unit is m, h or d, e.g. 72h"),
    }
}

/// A Stripe client for an operator's command: the background share of the rate (a fifth), as
/// `serve`'s own background work, so a command run beside a live server leaves donors' share.
fn background_stripe(config: &Config) -> anyhow::Result<zbor_stripe::Stripe> {
    let secret_key = config.stripe_secret_key.as_deref().context("STRIPE_SECRET_KEY is not set")?;
    let mut stripe_config = zbor_stripe::StripeConfig::new(secret_key, config.stripe_api_base.as_str());
    stripe_config.requests_per_second = (config.stripe_requests_per_second / 5).max(1);
    zbor_stripe::Stripe::new(stripe_config).context("Stripe client")
}

async fn stripe_sync(config: &Config, since: &str) -> anyhow::Result<ExitCode> {
    let since = chrono::Utc::now() - duration_back(since)?;
    let stripe = background_stripe(config)?;
    let data_key = match config.data_key.as_deref() {
        Some(key) => Some(zbor_vault::DataKey::parse(key).context("ZBOR_DATA_KEY")?),
        None => None,
    };
    let pool = crate::database::connect(&config.database_url, 2).await?;
    let events = crate::http::webhooks::table(data_key);
    let report = zbor_stripe::events::sync::sync(&pool, &stripe, &events, since).await?;
    // the running servers' live totals: fresh figures into Redis, published to every instance
    if !report.campaigns.is_empty() {
        let redis = redis::aio::ConnectionManager::new(redis::Client::open(config.redis_url.as_str())?)
            .await
            .context("connecting to Redis (REDIS_URL)")?;
        let live = crate::live::Live::new(redis, config.redis_prefix.clone());
        for campaign in &report.campaigns {
            live.fresh(&pool, campaign, crate::live::View::Exact)
                .await
                .map_err(|e| anyhow::anyhow!("live totals of {campaign}: {e}"))?;
        }
    }
    println!(
        "Stripe events since {}: {} listed · {} already stored · {} applied · {} need review · {} failed{}",
        since.format("%Y-%m-%d %H:%M UTC"),
        report.listed,
        report.already_stored,
        report.applied,
        report.needs_review.len(),
        report.failed.len(),
        if report.truncated { " · more remain: run again" } else { "" }
    );
    for failure in &report.failed {
        println!("  {}: {}", failure.event_id, failure.reason);
    }
    Ok(if report.failed.is_empty() && !report.truncated { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn healthcheck(config: &Config, metrics: bool) -> anyhow::Result<ExitCode> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = if metrics {
        config.metrics_listen.context("ZBOR_METRICS_LISTEN is not set")?
    } else {
        config.listen
    };
    // a server bound to every address answers on loopback
    let address = match address.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => {
            std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, address.port()))
        }
        ip if ip.is_unspecified() => {
            std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, address.port()))
        }
        _ => address,
    };
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        stream
            .write_all(b"GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        std::io::Result::Ok(head.starts_with(b"HTTP/1.1 200"))
    };
    match tokio::time::timeout(std::time::Duration::from_secs(2), probe).await {
        Ok(Ok(true)) => Ok(ExitCode::SUCCESS),
        Ok(Ok(false)) => {
            eprintln!("zbor: {address} answered /health/live with an error");
            Ok(ExitCode::FAILURE)
        }
        Ok(Err(e)) => {
            eprintln!("zbor: {address}: {e}");
            Ok(ExitCode::FAILURE)
        }
        Err(_) => {
            eprintln!("zbor: {address} did not answer within 2 s");
            Ok(ExitCode::FAILURE)
        }
    }
}

#[cfg(feature = "simulator")]
async fn simulator(
    config: &Config,
    listen: std::net::SocketAddr,
    webhook_url: Option<String>,
) -> anyhow::Result<ExitCode> {
    if config.listen != crate::config::LISTEN_DEFAULT.parse::<std::net::SocketAddr>()? {
        // `--listen` is every command's server address: refused, not silently ignored
        anyhow::bail!("the simulator listens on --address; --listen (ZBOR_LISTEN) is zbor's server's");
    }
    let secret = config.stripe_webhook_secret.clone().context(
        "STRIPE_WEBHOOK_SECRET must be set: the simulator signs its webhooks with it, and the servers check them",
    )?;
    let simulator = zbor_stripe_sim::Simulator::start(
        zbor_stripe_sim::Config {
            api_key: config.stripe_secret_key.clone().unwrap_or_else(|| DEV_STRIPE_KEY.into()),
            webhook_url,
            webhook_secret: secret,
            ..zbor_stripe_sim::Config::default()
        },
        listen,
    )
    .await
    .context("starting the Stripe simulator")?;
    tracing::info!(stripe_api = %simulator.base_url, "Stripe simulator running");
    let mut shutdown = shutdown_on_signals();
    crate::app::stopped(&mut shutdown).await;
    Ok(ExitCode::SUCCESS)
}

/// `2026-11-30` (that day's UTC midnight) or an RFC 3339 time.
fn instant(text: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    Ok(chrono::DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("{text}: not a date (2026-11-30) or an RFC 3339 time"))?
        .with_timezone(&chrono::Utc))
}

async fn reconcile(config: &Config, command: ReconcileCommand) -> anyhow::Result<ExitCode> {
    let ReconcileCommand::Stripe { from, to, payout, json } = command;
    let period = match (&from, &to) {
        (Some(from), Some(to)) => {
            Some(zbor_reconcile::against_stripe::Period::new(instant(from)?, instant(to)?)?)
        }
        _ => None,
    };
    let stripe = background_stripe(config)?;
    let pool = crate::database::connect(&config.database_url, 2).await?;
    let report = match (period, payout) {
        (Some(period), _) => zbor_reconcile::against_stripe::reconcile(&pool, &stripe, period).await?,
        (None, Some(payout)) => {
            zbor_reconcile::against_stripe::reconcile_payout(&pool, &stripe, &payout).await?
        }
        (None, None) => anyhow::bail!("give --from and --to, or --payout"),
    };
    zbor_reconcile::runs::record(&pool, &report, zbor_reconcile::runs::Trigger::Cli).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn bank_import(config: &Config, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let metadata = std::fs::metadata(file).with_context(|| format!("{}", file.display()))?;
    if metadata.len() > u64::try_from(zbor_reconcile::camt::MAX_STATEMENT_BYTES).unwrap_or(u64::MAX) {
        anyhow::bail!("{}: larger than 20 MiB", file.display());
    }
    let xml = std::fs::read(file).with_context(|| format!("{}", file.display()))?;
    let pool = crate::database::connect(&config.database_url, 2).await?;
    let imported =
        zbor_reconcile::bank::import(&pool, &xml, &Actor::CLI, config.sepa_debtor_iban.as_deref()).await?;
    if imported.already_imported {
        println!("statement {} ({}) was imported before: nothing changed", imported.statement, imported.kind);
    }
    println!(
        "statement {} ({}): {} paid · {} returned · {} already recorded · {} Stripe payouts · {} unmatched",
        imported.statement,
        imported.kind,
        imported.paid,
        imported.returned,
        imported.already_recorded,
        imported.stripe_payouts,
        imported.unmatched
    );
    for line in imported.lines.iter().filter(|l| l.outcome == zbor_reconcile::bank::LineOutcome::Unmatched) {
        println!(
            "  entry {} transaction {}: {} {} {} on {}: {}",
            line.entry,
            line.transaction,
            line.direction,
            line.amount,
            line.currency,
            line.booking_date.map_or_else(|| "no date".to_owned(), |d| d.to_string()),
            line.reason.as_deref().unwrap_or_default()
        );
    }
    Ok(if imported.unmatched == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// A production build has no simulator; `zbor dev` refuses to start before this is reached.
#[cfg(not(feature = "simulator"))]
async fn with_stripe_simulator(config: Config, _: std::net::SocketAddr) -> anyhow::Result<Config> {
    Ok(config)
}

/// The test-mode API key `zbor dev`'s Stripe simulator accepts.
#[cfg(feature = "simulator")]
const DEV_STRIPE_KEY: &str = "sk_test_zbor_dev";

/// `zbor dev` runs against the Stripe simulator (Stripe is not reachable from development
/// machines): zbor calls it as it would call Stripe, and it delivers signed webhooks to this
/// server with a secret made for this run.
#[cfg(feature = "simulator")]
async fn with_stripe_simulator(mut config: Config, address: std::net::SocketAddr) -> anyhow::Result<Config> {
    let secret = config
        .stripe_webhook_secret
        .clone()
        .unwrap_or_else(|| format!("whsec_dev_{}", uuid::Uuid::new_v4().simple()));
    config.stripe_webhook_secret = Some(secret.clone());
    let simulator = zbor_stripe_sim::Simulator::start(
        zbor_stripe_sim::Config {
            api_key: DEV_STRIPE_KEY.into(),
            webhook_url: Some(format!("http://{}/webhooks/stripe", config.listen)),
            webhook_secret: secret,
            ..zbor_stripe_sim::Config::default()
        },
        address,
    )
    .await
    .context("starting the Stripe simulator")?;
    tracing::info!(stripe_api = %simulator.base_url, api_key = DEV_STRIPE_KEY, "Stripe simulator running");
    // zbor's own Stripe calls (payment links, checkout sessions, fees) go to the simulator too.
    config.stripe_secret_key = Some(DEV_STRIPE_KEY.into());
    config.stripe_api_base = format!("{}/", simulator.base_url);
    if config.public_url == crate::config::PUBLIC_URL_DEFAULT {
        config.public_url = format!("http://{}", config.listen);
    }
    if config.data_key.is_none() {
        // one key across runs: users, donors and beneficiaries sealed yesterday open today
        let (key, made) = crate::dev::data_key()?;
        config.data_key = Some(key);
        if made {
            tracing::info!(
                file = crate::dev::DATA_KEY_FILE,
                "ZBOR_DATA_KEY not set: made a development data key and kept it in the file for the next \
                 runs (delete the file and what was sealed under it cannot be read)"
            );
        } else {
            tracing::info!(
                file = crate::dev::DATA_KEY_FILE,
                "ZBOR_DATA_KEY not set: using the development data key"
            );
        }
    }
    if config.sepa_debtor_iban.is_none() {
        // a published example account, so SEPA files can be made and read in development
        config.sepa_debtor_name = Some("zbor development fund".into());
        config.sepa_debtor_iban = Some("DE89370400440532013000".into());
        config.sepa_debtor_bic = Some("COBADEFFXXX".into());
    }
    Ok(config)
}

/// What a person needs after `zbor dev` started: with `--demo`, the demo is seeded (in the
/// background, through the running server) and its logins printed; without, how to make the
/// first admin when there is none.
#[cfg(feature = "simulator")]
async fn dev_welcome(
    config: &Config,
    address: std::net::SocketAddr,
    demo: bool,
    simulator: std::net::SocketAddr,
) -> anyhow::Result<()> {
    let pool = crate::database::connect(&config.database_url, 2).await?;
    let key = config.data_key.as_deref().context("zbor dev sets a data key")?;
    let key = zbor_vault::DataKey::parse(key).context("ZBOR_DATA_KEY")?;
    if demo {
        tokio::spawn(async move {
            if let Err(e) = crate::demo::seed(&pool, &key, address, simulator).await {
                tracing::error!(error = format!("{e:#}"), "seeding the demo failed");
            }
        });
        return Ok(());
    }
    let users: i64 = sqlx::query_scalar("select count(*) from users").fetch_one(&pool).await?;
    let zbor = std::env::args().next().unwrap_or_else(|| "zbor".into());
    let key_from =
        if std::env::var_os("ZBOR_DATA_KEY").is_some() || std::env::var_os("ZBOR_DATA_KEY_FILE").is_some() {
            String::new()
        } else {
            format!("ZBOR_DATA_KEY_FILE={} ", crate::dev::DATA_KEY_FILE)
        };
    println!();
    println!("zbor dev: the console is http://{address}/console");
    if users == 0 {
        println!("  nobody can log in yet: make the first admin (the password is shown once; the console");
        println!("  then enrols their authenticator app):");
        println!("    {key_from}{zbor} user add --email you@example.org --role admin");
        println!(
            "  or start again with `{zbor} dev --demo` for a campaign, donations, people and a payout batch"
        );
    }
    println!();
    Ok(())
}

#[cfg(not(feature = "simulator"))]
async fn dev_welcome(
    _: &Config,
    _: std::net::SocketAddr,
    _: bool,
    _: std::net::SocketAddr,
) -> anyhow::Result<()> {
    Ok(())
}

async fn payout_workers(config: &Config) -> anyhow::Result<crate::workers::Workers> {
    let key =
        config.data_key.as_deref().context("ZBOR_DATA_KEY must be set: payouts read sealed destinations")?;
    let data_key = zbor_vault::DataKey::parse(key).context("ZBOR_DATA_KEY")?;
    // each worker claims and records its payouts together (a connection at a time, and one to
    // refresh its claims while Stripe answers); the relay and the sweeper one each
    let connections = u32::try_from(
        config.workers.saturating_mul(crate::workers::CONNECTIONS_PER_WORKER).saturating_add(2),
    )
    .unwrap_or(u32::MAX)
    .clamp(4, 64);
    let pool = crate::database::connect(&config.database_url, connections).await?;
    crate::database::pause_payouts_if_restored(&pool, Some(&data_key)).await?;
    let redis_client = redis::Client::open(config.redis_url.as_str())?;
    let redis =
        redis::aio::ConnectionManager::new(redis_client.clone()).await.context("connecting to Redis")?;
    let stripe = match config.stripe_secret_key.as_deref() {
        Some(secret) => {
            let mut stripe_config = zbor_stripe::StripeConfig::new(secret, config.stripe_api_base.as_str());
            stripe_config.requests_per_second = config.payout_transfers_per_second.max(1);
            Some(zbor_stripe::Stripe::new(stripe_config)?)
        }
        None => None,
    };
    Ok(crate::workers::Workers {
        pool,
        streams: zbor_queue::Streams::new(redis, &config.redis_prefix),
        redis: redis_client,
        data_key,
        stripe,
        count: config.workers,
    })
}

async fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    // the server's maintenance database first: the cause of a failure, said once
    crate::database::reachable(&zbor_db::options(&config.database_url)?.database("postgres")).await?;
    zbor_db::create_database_if_missing(&config.database_url).await.context("creating the database")?;
    let pool = crate::database::connect(&config.database_url, 2).await?;
    zbor_db::migrate(&pool).await.context("applying migrations")?;
    tracing::info!("migrations applied");
    Ok(ExitCode::SUCCESS)
}

async fn serve(config: &Config) -> anyhow::Result<ExitCode> {
    let app = Application::build(config).await?;
    tracing::info!(address = %app.local_addr()?, "zbor listening");
    app.run(shutdown_on_signals()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn ledger(config: &Config, command: LedgerCommand) -> anyhow::Result<ExitCode> {
    let pool = crate::database::connect(&config.database_url, 2).await?;
    match command {
        LedgerCommand::Seal => {
            let sealed = zbor_ledger::seal_all(&pool).await?;
            println!("sealed {sealed} transaction(s)");
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Verify { seal } => {
            if seal {
                zbor_ledger::seal_all(&pool).await?;
            }
            let report = zbor_ledger::verify(&pool).await?;
            println!(
                "accounts {} · transactions {} · postings {} · sealed {} · awaiting seal {}",
                report.accounts, report.transactions, report.postings, report.sealed, report.awaiting_seal
            );
            match report.first_problem {
                None => {
                    println!("ledger verify: ok");
                    Ok(ExitCode::SUCCESS)
                }
                Some(problem) => {
                    println!("ledger verify: FAILED: {problem}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

async fn audit_verify(config: &Config) -> anyhow::Result<ExitCode> {
    let pool = crate::database::connect(&config.database_url, 2).await?;
    let report = zbor_audit::verify(&pool).await?;
    println!("entries {} · head {}", report.entries, report.head.as_deref().unwrap_or("-"));
    match report.first_problem {
        None => {
            println!("audit verify: ok");
            Ok(ExitCode::SUCCESS)
        }
        Some(problem) => {
            println!("audit verify: FAILED at entry {}: {}", problem.seq, problem.message);
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn user(config: &Config, command: UserCommand) -> anyhow::Result<ExitCode> {
    let key = config.data_key.as_deref().context("ZBOR_DATA_KEY must be set to manage users")?;
    let key = zbor_vault::DataKey::parse(key).context("ZBOR_DATA_KEY")?;
    let pool = crate::database::connect(&config.database_url, 2).await?;
    match command {
        UserCommand::Add { email, role } => {
            let role = zbor_auth::Role::parse(&role)?;
            let (password, generated) = match std::env::var("ZBOR_NEW_USER_PASSWORD") {
                Ok(password) => (password, false),
                Err(_) => (uuid::Uuid::new_v4().simple().to_string(), true),
            };
            let user = zbor_auth::add_user(&pool, &key, &email, role, &password, &Actor::CLI).await?;
            println!("{}", serde_json::to_string_pretty(&user)?);
            if generated {
                println!("password (shown once): {password}");
            }
        }
        UserCommand::Role { id, role } => {
            let role = zbor_auth::Role::parse(&role)?;
            let user = zbor_auth::set_role(&pool, &key, UserId::from_i64(id), role, &Actor::CLI).await?;
            println!("{}", serde_json::to_string_pretty(&user)?);
        }
        UserCommand::Disable { id } => {
            let user = UserId::from_i64(id);
            let mut db = pool.begin().await?;
            zbor_auth::staff::disable(&mut db, user, &Actor::CLI).await?;
            db.commit().await?;
            println!("{user} disabled: their sessions and tokens no longer work");
        }
        UserCommand::Enable { id } => {
            let user = UserId::from_i64(id);
            let mut db = pool.begin().await?;
            zbor_auth::staff::enable_on_host(&mut db, user).await?;
            db.commit().await?;
            println!("{user} enabled");
        }
        UserCommand::Reset { id, password, second_factor } => {
            if !password && !second_factor {
                anyhow::bail!("say what to reset: --password, --second-factor or both");
            }
            let user = UserId::from_i64(id);
            let (new_password, generated) = match (password, std::env::var("ZBOR_NEW_USER_PASSWORD")) {
                (false, _) => (None, false),
                (true, Ok(given)) => (Some(given), false),
                (true, Err(_)) => (Some(uuid::Uuid::new_v4().simple().to_string()), true),
            };
            let mut db = pool.begin().await?;
            zbor_auth::staff::reset_on_host(&mut db, user, new_password.as_deref(), second_factor).await?;
            db.commit().await?;
            println!("{user} reset: their sessions and tokens ended");
            if let (true, Some(new_password)) = (generated, new_password) {
                println!("password (shown once): {new_password}");
            }
        }
        UserCommand::RevokeToken { token } => {
            let mut db = pool.begin().await?;
            if !zbor_auth::staff::revoke_token(&mut db, token, None, &Actor::CLI).await? {
                anyhow::bail!("no live API token {token}");
            }
            db.commit().await?;
            println!("API token {token} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn beneficiaries(config: &Config, command: BeneficiariesCommand) -> anyhow::Result<ExitCode> {
    use zbor_payouts::{beneficiaries, import};
    let pool = crate::database::connect(&config.database_url, 2).await?;
    match command {
        BeneficiariesCommand::Import { campaign: slug, file } => {
            let key = config
                .data_key
                .as_deref()
                .context("ZBOR_DATA_KEY must be set: beneficiaries' details are sealed with it")?;
            let key = zbor_vault::DataKey::parse(key).context("ZBOR_DATA_KEY")?;
            let campaign = campaign_id(&pool, &slug).await?;
            // the file's name is the operator's; its content is never printed
            let reader = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
            let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} beneficiaries sealed")
                    .context("progress bar template")?,
            );
            let report = import::import_csv(&pool, &key, campaign, reader, |done, total| {
                bar.set_length(u64::try_from(total).unwrap_or(u64::MAX));
                bar.set_position(u64::try_from(done).unwrap_or(u64::MAX));
            })
            .await;
            bar.finish_and_clear();
            let report = report?;
            if !report.errors.is_empty() {
                for error in &report.errors {
                    eprintln!("{error}");
                }
                eprintln!(
                    "{} bad row(s): nothing imported; fix the file and import it again",
                    report.errors.len()
                );
                return Ok(ExitCode::FAILURE);
            }
            // the import and its audit entry (actor `cli`) committed together
            println!("imported {} beneficiaries", report.created);
        }
        BeneficiariesCommand::List { campaign: slug } => {
            use std::io::Write;
            let campaign = campaign_id(&pool, &slug).await?;
            let listed = beneficiaries::list(&pool, campaign).await?;
            // written, not println!'d: `zbor beneficiaries list | head` must not panic
            let mut out = std::io::stdout().lock();
            writeln!(out, "id\tmethod\tduplicate")?;
            for b in listed {
                let duplicates: Vec<String> = b.duplicate_of.iter().map(ToString::to_string).collect();
                let duplicate = if duplicates.is_empty() { "no".to_owned() } else { duplicates.join(",") };
                writeln!(out, "{}\t{}\t{}", b.id, b.method.as_str(), duplicate)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn vault(config: &Config, command: VaultCommand) -> anyhow::Result<ExitCode> {
    let key = config
        .data_key
        .as_deref()
        .context("ZBOR_DATA_KEY must be set: the key ring to seal everything under")?;
    let key = zbor_vault::DataKey::parse(key).context("ZBOR_DATA_KEY")?;
    let pool = crate::database::connect(&config.database_url, 2).await?;
    match command {
        VaultCommand::Rotate => vault_rotate(&pool, &key).await,
        VaultCommand::Status => vault_status(&pool, &key).await,
    }
}

/// What is not yet sealed or keyed under `key`'s version, by kind.
async fn vault_outdated(
    pool: &sqlx::PgPool,
    key: &zbor_vault::DataKey,
) -> anyhow::Result<Vec<(&'static str, i64)>> {
    let payouts = zbor_payouts::key_rotation::outdated(pool, key).await?;
    Ok(vec![
        ("users", zbor_auth::User::count_outdated(pool, key).await?),
        ("named donors", zbor_intake::webhook::count_outdated_donors(pool, key).await?),
        ("beneficiaries", payouts.beneficiaries),
        ("payout fingerprints", payouts.payout_fingerprints),
        ("payout notes and errors", payouts.payout_texts),
        ("pause reason", payouts.pause_reason),
    ])
}

async fn vault_status(pool: &sqlx::PgPool, key: &zbor_vault::DataKey) -> anyhow::Result<ExitCode> {
    let version = key.version();
    println!("current key version {version}; the ring holds versions {:?}", key.versions());
    let outdated = vault_outdated(pool, key).await?;
    for (what, count) in &outdated {
        println!("{what}: {count} not under key version {version}");
    }
    if outdated.iter().all(|(_, count)| *count == 0) {
        println!("vault status: everything is under key version {version}");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("vault status: run `zbor vault rotate`");
        Ok(ExitCode::FAILURE)
    }
}

/// `zbor vault rotate`: every pass over every kind of sealed value, in an order where each
/// finds what it depends on done (a beneficiary's payouts after the beneficiary), then a count
/// of what is left. Progress on stderr; counts on stdout; an audit entry with the counts.
async fn vault_rotate(pool: &sqlx::PgPool, key: &zbor_vault::DataKey) -> anyhow::Result<ExitCode> {
    use std::ops::ControlFlow;
    use zbor_payouts::key_rotation;
    let version = key.version();
    println!("rotating to key version {version}; the ring holds versions {:?}", key.versions());
    let awaiting = key_rotation::batches_awaiting_approval(pool).await?;
    if !awaiting.is_empty() {
        let ids: Vec<String> = awaiting.iter().map(ToString::to_string).collect();
        println!(
            "payout batches {} await approval: re-keyed fingerprints change their content hash, so the \
             approvals given so far are voided at the next approval and treasurers review them again",
            ids.join(", ")
        );
    }
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg}: {pos} re-keyed")
            .context("progress bar template")?,
    );
    let mut tick = |done: u64| {
        bar.set_position(done);
        ControlFlow::Continue(())
    };
    let mut passes: Vec<(&'static str, zbor_vault::Rotated)> = Vec::new();
    bar.set_message("users");
    passes.push(("users", zbor_auth::User::rekey_all(pool, key, &mut tick).await?));
    bar.set_message("named donors");
    passes.push(("named donors", zbor_intake::webhook::rekey_donors(pool, key, &mut tick).await?));
    bar.set_message("beneficiaries");
    passes.push(("beneficiaries", key_rotation::rekey_beneficiaries(pool, key, &mut tick).await?));
    bar.set_message("payouts");
    passes.push(("payouts", key_rotation::rekey_payouts(pool, key, &mut tick).await?));
    bar.set_message("pause reason");
    passes.push(("pause reason", zbor_payouts::switch::rekey_reason(pool, key, &mut tick).await?));
    bar.finish_and_clear();

    let mut failed = Vec::new();
    let mut counts = serde_json::Map::new();
    for (what, rotated) in passes {
        println!("{what}: {} re-keyed", rotated.rekeyed);
        counts.insert(what.replace(' ', "_"), serde_json::json!(rotated.rekeyed));
        failed.extend(rotated.failed);
    }
    let left: i64 = vault_outdated(pool, key).await?.iter().map(|(_, count)| count).sum();
    let details = serde_json::json!({ "key_version": version, "rekeyed": counts, "failed": failed.len(), "left": left });
    zbor_audit::append(pool, &zbor_audit::Entry::new("cli", "vault.rotate").details(details)).await?;
    for failure in &failed {
        eprintln!("not re-keyed: {failure}");
    }
    if !failed.is_empty() {
        eprintln!(
            "vault rotate: {} row(s) not re-keyed (above); they still need the older keys",
            failed.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    if left > 0 {
        eprintln!(
            "vault rotate: {left} value(s) were written under an older key meanwhile (a process with an \
             older ZBOR_DATA_KEY?): give every process the new ring, then run it again"
        );
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "vault rotate: done; everything is under key version {version}. Older keys may now leave \
         ZBOR_DATA_KEY (keep them offline while backups from before exist: docs/KEYS.md)"
    );
    Ok(ExitCode::SUCCESS)
}

async fn campaign_id(pool: &sqlx::PgPool, slug: &str) -> anyhow::Result<zbor_campaigns::CampaignId> {
    let mut conn = pool.acquire().await?;
    Ok(zbor_campaigns::by_slug(&mut conn, slug).await?.id)
}

/// `--title-in be=…` and `--description-in be=…` as the campaign's translations (the languages
/// and text are checked by zbor-campaigns, like the API's).
fn campaign_translations(
    titles: &[String],
    descriptions: &[String],
) -> anyhow::Result<std::collections::BTreeMap<String, zbor_campaigns::CampaignText>> {
    let split = |given: &String, flag: &str| {
        given
            .split_once('=')
            .map(|(lang, text)| (lang.trim().to_owned(), text.to_owned()))
            .ok_or_else(|| anyhow::anyhow!("{flag} takes LANG=TEXT, e.g. {flag} be=…"))
    };
    let mut translations = std::collections::BTreeMap::new();
    for given in titles {
        let (lang, title) = split(given, "--title-in")?;
        translations.insert(lang, zbor_campaigns::CampaignText { title, description: String::new() });
    }
    for given in descriptions {
        let (lang, description) = split(given, "--description-in")?;
        let text = translations
            .get_mut(&lang)
            .ok_or_else(|| anyhow::anyhow!("--description-in {lang}=… needs a --title-in {lang}=… too"))?;
        text.description = description;
    }
    Ok(translations)
}

async fn campaign(config: &Config, command: CampaignCommand) -> anyhow::Result<ExitCode> {
    use zbor_campaigns::{CampaignStatus, CampaignUpdate, NewCampaign};
    let pool = crate::database::connect(&config.database_url, 2).await?;
    let status_change = |status| CampaignUpdate { status: Some(status), ..CampaignUpdate::default() };
    let mut db = pool.begin().await?;
    let campaign = match command {
        CampaignCommand::Create {
            slug,
            title,
            currency,
            goal,
            per_beneficiary,
            description,
            suggested,
            overflow,
            title_in,
            description_in,
        } => {
            if zbor_ledger::Currency::parse(&currency).is_err() {
                let known: Vec<&str> = zbor_ledger::Currency::all().map(|c| c.code()).collect();
                anyhow::bail!(
                    "--currency {:?} is not a currency zbor knows: give an ISO 4217 code, one of {}",
                    currency.chars().take(8).collect::<String>(),
                    known.join(" ")
                );
            }
            let new = NewCampaign {
                slug,
                title,
                description,
                currency,
                goal,
                amount_per_beneficiary: per_beneficiary,
                suggested_amounts: suggested,
                overflow,
                translations: campaign_translations(&title_in, &description_in)?,
            };
            zbor_campaigns::create_in(&mut db, &new, &Actor::CLI).await?
        }
        CampaignCommand::Update {
            slug,
            title,
            description,
            goal,
            per_beneficiary,
            suggested,
            overflow,
            no_overflow,
            title_in,
            description_in,
        } => {
            let translations = if title_in.is_empty() && description_in.is_empty() {
                None
            } else {
                Some(campaign_translations(&title_in, &description_in)?)
            };
            let change = CampaignUpdate {
                title,
                description,
                goal,
                amount_per_beneficiary: per_beneficiary.map(Some),
                suggested_amounts: suggested,
                status: None,
                overflow: if no_overflow { Some(None) } else { overflow.map(Some) },
                translations,
            };
            zbor_campaigns::update_in(&mut db, &slug, &change, &Actor::CLI).await?
        }
        CampaignCommand::Close { slug } => {
            zbor_campaigns::update_in(&mut db, &slug, &status_change(CampaignStatus::Closed), &Actor::CLI)
                .await?
        }
        CampaignCommand::Reopen { slug } => {
            zbor_campaigns::update_in(&mut db, &slug, &status_change(CampaignStatus::Open), &Actor::CLI)
                .await?
        }
    };
    // each command's audit entry (actor `cli`) was appended in this transaction
    db.commit().await?;
    println!("{}", serde_json::to_string_pretty(&campaign)?);
    Ok(ExitCode::SUCCESS)
}

// --- `zbor export` and `zbor report`: the accountant's exports and the campaigns' overview ---

#[derive(clap::Args)]
struct ExportArgs {
    /// The first day, included: YYYY-MM-DD (00:00 UTC).
    #[arg(long)]
    from: String,
    /// The day after the last, excluded: YYYY-MM-DD (00:00 UTC).
    #[arg(long)]
    to: String,
    /// Only this campaign (its slug); every campaign when absent.
    #[arg(long)]
    campaign: Option<String>,
    /// Write the CSV here instead of to standard output.
    #[arg(long)]
    output: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Donations: date, campaign, amount, fee, refunded, disputed, net, currency, status, Stripe's payment id.
    Donations(ExportArgs),
    /// Refunds booked: date, campaign, amount, currency, Stripe's payment id, the donation's date.
    Refunds(ExportArgs),
    /// Dispute movements booked: withdrawn or reinstated, amount, Stripe's dispute and payment ids.
    Disputes(ExportArgs),
    /// Payouts: date, campaign, payout, batch, amount, reversed, currency, rail, state; never who.
    Payouts(ExportArgs),
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Every campaign's raised, refunded, disputed, fees, net, goal, people funded and payouts.
    Overview {
        /// Print JSON (as `GET /api/v1/overview` answers) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

async fn export(config: &Config, command: ExportCommand) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let (kind, args) = match command {
        ExportCommand::Donations(args) => (zbor_reports::ExportKind::Donations, args),
        ExportCommand::Refunds(args) => (zbor_reports::ExportKind::Refunds, args),
        ExportCommand::Disputes(args) => (zbor_reports::ExportKind::Disputes, args),
        ExportCommand::Payouts(args) => (zbor_reports::ExportKind::Payouts, args),
    };
    let period = zbor_reports::Period::parse(&args.from, &args.to)?;
    let export = zbor_reports::Export { kind, period, campaign: args.campaign, reveal_donors: false };
    let pool = zbor_db::connect(&config.database_url, 2).await?;
    let mut exporter =
        zbor_reports::Exporter::start(&pool, &zbor_reports::ExportSlots::new(1), &export, None, &Actor::CLI)
            .await?;
    let mut out: Box<dyn std::io::Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("{}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    while let Some(chunk) = exporter.next_chunk().await? {
        out.write_all(chunk.as_bytes())?;
    }
    out.flush()?;
    if let Some(path) = &args.output {
        eprintln!("{} {} row(s) to {}", exporter.rows(), kind.name(), path.display());
    }
    Ok(ExitCode::SUCCESS)
}

async fn report(config: &Config, command: ReportCommand) -> anyhow::Result<ExitCode> {
    let ReportCommand::Overview { json } = command;
    let pool = zbor_db::connect(&config.database_url, 2).await?;
    let mut snapshot = pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only").execute(&mut *snapshot).await?;
    let campaigns = zbor_reports::overview(&mut snapshot).await?;
    snapshot.commit().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "campaigns": campaigns }))?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<24} {:<4} {:>14} {:>12} {:>12} {:>12} {:>14} {:>14} {:>8} {:>20} {:>20}",
        "campaign",
        "cur",
        "raised",
        "refunded",
        "disputed",
        "fees",
        "net",
        "goal",
        "funded",
        "payouts paid",
        "payouts pending"
    );
    for c in &campaigns {
        let funded = match (c.people_funded, c.goal_reached) {
            (Some(people), true) => format!("{people} ✓"),
            (Some(people), false) => people.to_string(),
            (None, true) => "✓".to_owned(),
            (None, false) => "-".to_owned(),
        };
        let paid = format!("{} × {}", c.payouts_paid.count, c.payouts_paid.amount.amount());
        let pending = format!("{} × {}", c.payouts_pending.count, c.payouts_pending.amount.amount());
        println!(
            "{:<24} {:<4} {:>14} {:>12} {:>12} {:>12} {:>14} {:>14} {:>8} {:>20} {:>20}",
            c.campaign,
            c.currency.code(),
            c.raised.amount(),
            c.refunded.amount(),
            c.disputed.amount(),
            c.fees.amount(),
            c.net.amount(),
            c.goal.amount(),
            funded,
            paid,
            pending,
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

    use serde_json::json;
    use zbor_testkit::TestDb;
    use zbor_vault::DataKey;

    use super::*;

    fn exit(code: ExitCode) -> String {
        format!("{code:?}")
    }

    #[tokio::test]
    async fn vault_rotate_re_keys_everything_and_status_says_when_it_is_done() {
        let db = TestDb::new(4).await;
        let (v1, v2, v3) = (DataKey::generate_hex(), DataKey::generate_hex(), DataKey::generate_hex());
        let old = DataKey::parse(&v1).unwrap();
        let ring = DataKey::parse(&format!("2:{v2},1:{v1}")).unwrap();
        zbor_auth::add_user(
            &db.pool,
            &old,
            "a@example.org",
            zbor_auth::Role::Admin,
            "correct horse battery",
            &zbor_auth::Actor::CLI,
        )
        .await
        .unwrap();
        let campaign = zbor_campaigns::create(
            &db.pool,
            &zbor_campaigns::NewCampaign {
                slug: "release".into(),
                title: "Released".into(),
                description: String::new(),
                currency: "EUR".into(),
                goal: "1000".into(),
                amount_per_beneficiary: None,
                suggested_amounts: vec![],
                overflow: None,
                translations: Default::default(),
            },
        )
        .await
        .unwrap();
        let new = |method: serde_json::Value| {
            serde_json::from_value::<zbor_payouts::beneficiaries::NewBeneficiary>(
                json!({"name": "A", "method": method}),
            )
            .unwrap()
        };
        for method in [json!({"kind": "manual"}), json!({"kind": "sepa", "iban": "DE89370400440532013000"})] {
            zbor_payouts::beneficiaries::create(&db.pool, &old, campaign.id, &new(method)).await.unwrap();
        }

        assert_eq!(exit(vault_status(&db.pool, &ring).await.unwrap()), exit(ExitCode::FAILURE));
        assert_eq!(exit(vault_rotate(&db.pool, &ring).await.unwrap()), exit(ExitCode::SUCCESS));
        let new_only = DataKey::parse(&format!("2:{v2}")).unwrap();
        assert_eq!(exit(vault_status(&db.pool, &new_only).await.unwrap()), exit(ExitCode::SUCCESS));
        let details: serde_json::Value = sqlx::query_scalar(
            "select details from audit_log where action = 'vault.rotate' and actor = 'cli'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!(details["key_version"], 2);
        assert_eq!(
            (details["rekeyed"]["users"].as_u64(), details["rekeyed"]["beneficiaries"].as_u64()),
            (Some(1), Some(2))
        );
        assert_eq!((details["failed"].as_u64(), details["left"].as_u64()), (Some(0), Some(0)));

        // the next rotation meets a row someone altered: it says so and exits 1, the rest done
        sqlx::query("update beneficiaries set iban_index = sha256('x'::bytea) where method = 'sepa'")
            .execute(&db.pool)
            .await
            .unwrap();
        let next = DataKey::parse(&format!("3:{v3},2:{v2}")).unwrap();
        assert_eq!(exit(vault_rotate(&db.pool, &next).await.unwrap()), exit(ExitCode::FAILURE));
        assert_eq!(exit(vault_status(&db.pool, &next).await.unwrap()), exit(ExitCode::FAILURE));
        let left: i64 =
            sqlx::query_scalar("select count(*) from beneficiaries where zbor_key_version(sealed) <> 3")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(left, 1, "only the altered row waits");
        db.drop_database().await;
    }
}
