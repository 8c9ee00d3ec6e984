#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! The `zbor` binary: migrate creates and migrates a database; ledger verify exits non-zero and
//! names the first mismatch.

use std::process::Command;

use sqlx::Executor;
use zbor_ledger::{AccountKind, Currency, Ledger, Money, NewAccount, NewTransaction, TransactionId};
use zbor_testkit::{server_url, with_database, TestDb};

fn zbor(database_url: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zbor"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("ZBOR_LOG", "warn")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[tokio::test]
async fn migrate_creates_the_database_and_is_repeatable() {
    let name = format!("zbor_test_{}", uuid_like());
    let url = with_database(&server_url(), &name);
    for _ in 0..2 {
        let (ok, text) = zbor(&url, &["migrate"]);
        assert!(ok, "{text}");
    }
    let pool = zbor_db::connect(&url, 1).await.unwrap();
    let tables: i64 = sqlx::query_scalar("select count(*) from pg_tables where tablename like 'ledger_%'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(tables >= 7, "{tables}");
    pool.close().await;
    let admin = zbor_db::connect(&with_database(&server_url(), "postgres"), 1).await.unwrap();
    admin.execute(format!("drop database {name} with (force)").as_str()).await.unwrap();
}

fn uuid_like() -> String {
    format!(
        "{:x}{:x}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    )
}

#[tokio::test]
async fn ledger_verify_exits_non_zero_naming_the_first_mismatch() {
    let db = TestDb::new(2).await;
    let ledger = Ledger::new(db.pool.clone());
    let eur = Currency::parse("EUR").unwrap();
    let new = |code: &str, kind| NewAccount { code: code.into(), kind, currency: eur, non_negative: false };
    let bank = ledger.create_account(&new("stripe:balance", AccountKind::Asset)).await.unwrap();
    let campaign = ledger.create_account(&new("campaign:release-123", AccountKind::Liability)).await.unwrap();
    let amount = Money::parse("50", eur).unwrap();
    ledger
        .post(
            &NewTransaction::new(TransactionId::new_random())
                .debit(bank.id, amount)
                .credit(campaign.id, amount),
        )
        .await
        .unwrap();

    let (ok, text) = zbor(&db.url, &["ledger", "verify", "--seal"]);
    assert!(ok, "{text}");
    assert!(text.contains("ledger verify: ok") && text.contains("sealed 1"), "{text}");

    let mut conn = db.pool.acquire().await.unwrap();
    conn.execute("set session_replication_role = replica").await.unwrap();
    conn.execute("update ledger_balance_shards set credits = credits + 1 where account_id = 2")
        .await
        .unwrap();
    drop(conn);
    let (ok, text) = zbor(&db.url, &["ledger", "verify"]);
    assert!(!ok, "{text}");
    assert!(text.contains("FAILED") && text.contains("campaign:release-123"), "{text}");
    db.drop_database().await;
}

#[tokio::test]
async fn campaigns_are_created_and_closed_from_the_command_line() {
    let db = TestDb::new(2).await;
    let create = [
        "campaign",
        "create",
        "--slug",
        "release-123",
        "--title",
        "123 released",
        "--currency",
        "EUR",
        "--goal",
        "123000",
        "--per-beneficiary",
        "1000",
        "--suggested",
        "10,25,50",
    ];
    let (ok, text) = zbor(&db.url, &create);
    assert!(ok, "{text}");
    assert!(text.contains("\"amount\": \"123000.00\"") && text.contains("\"25.00\""), "{text}");
    let (ok, text) = zbor(&db.url, &create);
    assert!(!ok && text.contains("already exists"), "{text}");
    let (ok, text) = zbor(&db.url, &["campaign", "close", "release-123"]);
    assert!(ok && text.contains("\"closed\""), "{text}");
    let (ok, text) = zbor(&db.url, &["campaign", "update", "release-123", "--goal", "0.001"]);
    assert!(!ok && text.contains("goal"), "{text}");
    let goal: rust_decimal::Decimal =
        sqlx::query_scalar("select goal from campaigns").fetch_one(&db.pool).await.unwrap();
    assert_eq!(goal.to_string(), "123000.00");
    let actions: Vec<String> =
        sqlx::query_scalar("select actor || ' ' || action from audit_log order by seq")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(actions, ["cli campaign.create", "cli campaign.close"], "a refused change leaves no entry");
    db.drop_database().await;
}

#[tokio::test]
async fn user_add_is_audited_and_audit_verify_finds_tampering() {
    let db = TestDb::new(2).await;
    let key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    let out = Command::new(env!("CARGO_BIN_EXE_zbor"))
        .args(["user", "add", "--email", "t@example.org", "--role", "treasurer"])
        .env("DATABASE_URL", &db.url)
        .env("ZBOR_DATA_KEY", key)
        .env("ZBOR_LOG", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text} {}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("\"role\": \"treasurer\"") && text.contains("password (shown once): "), "{text}");
    let (ok, text) = zbor(&db.url, &["user", "add", "--email", "x@example.org", "--role", "admin"]);
    assert!(!ok && text.contains("ZBOR_DATA_KEY"), "without the key users cannot be added: {text}");

    let (ok, text) = zbor(&db.url, &["audit", "verify"]);
    assert!(ok && text.contains("entries 1") && text.contains("audit verify: ok"), "{text}");
    // tampering, with the guard triggers switched off as only a superuser could
    let mut conn = db.pool.acquire().await.unwrap();
    conn.execute("set session_replication_role = replica").await.unwrap();
    conn.execute("update audit_log set actor = 'user:99'").await.unwrap();
    drop(conn);
    let (ok, text) = zbor(&db.url, &["audit", "verify"]);
    assert!(!ok && text.contains("FAILED at entry"), "{text}");
    db.drop_database().await;
}

#[tokio::test]
async fn beneficiaries_import_is_all_or_nothing_and_audited() {
    let db = TestDb::new(2).await;
    let key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    let beneficiaries = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_zbor"))
            .arg("beneficiaries")
            .args(args)
            .env("DATABASE_URL", &db.url)
            .env("ZBOR_DATA_KEY", key)
            .env("ZBOR_LOG", "warn")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.success(), stdout, stderr)
    };
    let (ok, text) = zbor(
        &db.url,
        &[
            "campaign",
            "create",
            "--slug",
            "release-123",
            "--title",
            "t",
            "--currency",
            "EUR",
            "--goal",
            "1000",
        ],
    );
    assert!(ok, "{text}");
    let dir = std::env::temp_dir().join(format!("zbor-cli-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        "name,contact,iban,bic,stripe_account,note\n\
         Ales Bialiatski,+375 29 000 00 00,DE89370400440532013000,COBADEFFXXX,,released\n\
         Maria,,,,acct_1032D82eZvKYlo2C,\n\
         Ihar,,DE89 3704 0044 0532 0130 00,,,\n",
    )
    .unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "name,contact,iban,bic,stripe_account,note\n\
         Nina,,DE02120300000000202051,,,\n\
         Secret Person,,DE89370400440532013001,,,\n\
         Short,row\n",
    )
    .unwrap();

    let (ok, stdout, stderr) = beneficiaries(&["import", "--campaign", "release-123", bad.to_str().unwrap()]);
    assert!(!ok, "{stdout} {stderr}");
    assert!(stderr.contains("line 3: iban: checksum is wrong"), "{stderr}");
    assert!(stderr.contains("line 4: has 2 fields"), "{stderr}");
    assert!(!stderr.contains("0532013001") && !stderr.contains("Secret Person"), "{stderr}");
    assert!(!stdout.contains("imported"), "{stdout}");
    let count = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from beneficiaries").fetch_one(&db.pool).await.unwrap()
    };
    assert_eq!(count().await, 0, "nothing of a bad file is imported");

    let (ok, stdout, stderr) =
        beneficiaries(&["import", "--campaign", "release-123", good.to_str().unwrap()]);
    assert!(ok, "{stdout} {stderr}");
    assert_eq!(stdout.trim(), "imported 3 beneficiaries");
    assert!(!stderr.contains("Bialiatski") && !stderr.contains("0532013000"), "{stderr}");
    assert_eq!(count().await, 3);
    let methods: Vec<String> =
        sqlx::query_scalar("select method from beneficiaries order by id").fetch_all(&db.pool).await.unwrap();
    assert_eq!(methods, ["sepa", "stripe_connect", "sepa"]);
    let (actor, details): (String, serde_json::Value) =
        sqlx::query_as("select actor, details from audit_log where action = 'beneficiary.import'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(actor, "cli");
    assert_eq!(details["created"], 3);

    // the list: ids, methods and the shared IBAN of the first and third, nothing personal
    let (ok, stdout, stderr) = beneficiaries(&["list", "--campaign", "release-123"]);
    assert!(ok, "{stderr}");
    let ids: Vec<i64> =
        sqlx::query_scalar("select id from beneficiaries order by id").fetch_all(&db.pool).await.unwrap();
    let expected = format!(
        "id\tmethod\tduplicate\n{a}\tsepa\t{c}\n{b}\tstripe_connect\tno\n{c}\tsepa\t{a}\n",
        a = ids[0],
        b = ids[1],
        c = ids[2]
    );
    assert_eq!(stdout, expected);

    // a campaign that does not exist, and no key
    let (ok, _, stderr) = beneficiaries(&["import", "--campaign", "nope", good.to_str().unwrap()]);
    assert!(!ok && stderr.contains("not found"), "{stderr}");
    let (ok, text) =
        zbor(&db.url, &["beneficiaries", "import", "--campaign", "release-123", good.to_str().unwrap()]);
    assert!(!ok && text.contains("ZBOR_DATA_KEY"), "{text}");
    assert_eq!(count().await, 3);
    std::fs::remove_dir_all(&dir).unwrap();
    db.drop_database().await;
}

/// The host's break-glass commands: a detained person's account disabled and enabled, their
/// credentials reset, a token revoked; each audited as `cli` with the change.
#[tokio::test]
async fn the_host_cuts_off_and_restores_staff_accounts() {
    let db = TestDb::new(2).await;
    let key_text = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    let key = zbor_vault::DataKey::parse(key_text).unwrap();
    let host = |args: &[&str], password: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_zbor"));
        command
            .args(args)
            .env("DATABASE_URL", &db.url)
            .env("ZBOR_DATA_KEY", key_text)
            .env("ZBOR_LOG", "warn");
        if let Some(password) = password {
            command.env("ZBOR_NEW_USER_PASSWORD", password);
        }
        let out = command.output().unwrap();
        (
            out.status.success(),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    };
    let user = zbor_auth::add_user(
        &db.pool,
        &key,
        "t@example.org",
        zbor_auth::Role::Treasurer,
        "correct horse battery",
        &zbor_auth::Actor::CLI,
    )
    .await
    .unwrap();
    let session = zbor_auth::sessions::create_session(&db.pool, user.id, true).await.unwrap();
    let token = zbor_auth::sessions::create_api_token(&db.pool, user.id, "bot").await.unwrap();
    let id = user.id.as_i64().to_string();

    let (ok, text) = host(&["user", "disable", &id], None);
    assert!(ok, "{text}");
    assert!(zbor_auth::sessions::from_session(&db.pool, &session.token, 30).await.unwrap().is_none());
    assert!(zbor_auth::sessions::from_api_token(&db.pool, &token.token).await.unwrap().is_none());
    let login = |password: &str| zbor_auth::Login {
        email: "t@example.org".into(),
        password: password.into(),
        totp: None,
    };
    let now = chrono::Utc::now();
    assert!(zbor_auth::authenticate(&db.pool, &key, &login("correct horse battery"), now).await.is_err());
    let (ok, text) = host(&["user", "enable", &id], None);
    assert!(ok, "{text}");
    assert!(zbor_auth::authenticate(&db.pool, &key, &login("correct horse battery"), now).await.is_ok());

    let (ok, text) = host(&["user", "reset", &id], None);
    assert!(!ok && text.contains("--password"), "say what to reset: {text}");
    let (ok, text) =
        host(&["user", "reset", &id, "--password", "--second-factor"], Some("a new long passphrase"));
    assert!(ok, "{text}");
    assert!(zbor_auth::authenticate(&db.pool, &key, &login("correct horse battery"), now).await.is_err());
    assert!(zbor_auth::authenticate(&db.pool, &key, &login("a new long passphrase"), now).await.is_ok());

    let other = zbor_auth::sessions::create_api_token(&db.pool, user.id, "sheet").await.unwrap();
    let (ok, text) = host(&["user", "revoke-token", &other.id.to_string()], None);
    assert!(ok, "{text}");
    assert!(zbor_auth::sessions::from_api_token(&db.pool, &other.token).await.unwrap().is_none());
    let (ok, _) = host(&["user", "revoke-token", &other.id.to_string()], None);
    assert!(!ok, "revoked once");

    let actions: Vec<(String, String)> =
        sqlx::query_as("select actor, action from audit_log order by seq").fetch_all(&db.pool).await.unwrap();
    let actions: Vec<String> =
        actions.into_iter().map(|(actor, action)| format!("{actor} {action}")).collect();
    // the setup's own changes are audited too (the account functions append their entries)
    assert_eq!(
        actions,
        [
            "cli user.add",
            "user:1 login",
            "user:1 user.api_token_create",
            "cli user.disable",
            "cli user.enable",
            "cli user.reset",
            "user:1 user.api_token_create",
            "cli user.api_token_revoke"
        ]
    );
    db.drop_database().await;
}

/// The binary with only the given environment (no secrets or settings of the test run's).
fn bare(args: &[&str], environment: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zbor"));
    command.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default()).args(args);
    for (name, value) in environment {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn help_describes_every_option_and_names_variables_without_their_values() {
    // a set variable's value (a URL with a password, say) is never printed either
    let out = bare(&["serve", "--help"], &[("DATABASE_URL", "postgres://zbor:pa55word@db/zbor")]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{help}");
    assert!(help.contains("[env: ZBOR_LISTEN]") && help.contains("[env: DATABASE_URL]"), "{help}");
    assert!(!help.contains("ZBOR_LISTEN=") && !help.contains("pa55word"), "{help}");
    assert!(help.contains("--listen <LISTEN>"), "the server's options are listed under `serve`: {help}");

    let out = bare(&["campaign", "create", "--help"], &[]);
    let help = String::from_utf8_lossy(&out.stdout);
    for (flag, described) in [
        ("--slug <SLUG>", "The campaign's name in its addresses"),
        ("--title <TITLE>", "The title donors see"),
        ("--description <DESCRIPTION>", "The text donors see under the title"),
        ("--currency <CURRENCY>", "ISO 4217 code"),
    ] {
        assert!(help.contains(flag) && help.contains(described), "{flag}: {help}");
    }
}

#[test]
fn options_work_after_the_subcommand() {
    // a bad value after the subcommand is refused as it is before it: the option is read there
    for args in [["--listen", "nonsense", "config", "check"], ["config", "check", "--listen", "nonsense"]] {
        let out = bare(&args, &[]);
        let error = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {error}");
        assert!(error.contains("invalid value 'nonsense' for '--listen <LISTEN>'"), "{args:?}: {error}");
    }
    let out = bare(&["config", "check", "--listen", "127.0.0.1:0", "--workers", "2"], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_database_on_a_closed_port_is_named_once_with_its_cause() {
    for args in [&["ledger", "verify"][..], &["migrate"], &["serve", "--listen", "127.0.0.1:0"]] {
        let started = std::time::Instant::now();
        let out = bare(args, &[("DATABASE_URL", "postgres://postgres@127.0.0.1:1/x"), ("ZBOR_LOG", "warn")]);
        let error = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(error.matches("connection refused").count(), 1, "{args:?}: {error}");
        assert!(error.contains("at 127.0.0.1:1"), "{args:?}: {error}");
        assert!(!error.contains("pool timed out"), "{args:?}: {error}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{args:?} waited for a timeout");
    }
}

#[tokio::test]
async fn a_bad_currency_lists_the_ones_zbor_knows() {
    let db = TestDb::new(2).await;
    let (ok, text) = zbor(
        &db.url,
        &[
            "campaign",
            "create",
            "--slug",
            "release-123",
            "--title",
            "Released",
            "--currency",
            "EURO",
            "--goal",
            "1000",
        ],
    );
    assert!(!ok, "{text}");
    assert!(text.contains("\"EURO\" is not a currency zbor knows"), "{text}");
    for code in ["EUR", "USD", "GBP", "PLN", "UAH", "JPY", "KWD"] {
        assert!(text.contains(&format!(" {code}")), "{code} not listed: {text}");
    }
    let campaigns: i64 =
        sqlx::query_scalar("select count(*) from campaigns").fetch_one(&db.pool).await.unwrap();
    assert_eq!(campaigns, 0);
    db.drop_database().await;
}

/// `zbor dev --demo` from a fresh directory: a data key kept in `.zbor-dev/data-key` (0600),
/// a campaign with four donations booked through the simulator, an admin and three treasurers
/// whose printed password and authenticator secret log in, and a batch awaiting approval. A
/// second `zbor dev` uses the same key, so what the first sealed opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_demo_seeds_a_demo_whose_printed_logins_work_and_keeps_its_data_key() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::fs::PermissionsExt;
    use zbor_auth::totp;

    let name = format!("zbor_test_{}", uuid_like());
    let url = with_database(&server_url(), &name);
    let directory = std::env::temp_dir().join(format!("zbor-dev-{}", uuid_like()));
    std::fs::create_dir_all(&directory).unwrap();
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (listen, simulator) = (free(), free());
    let dev = |demo: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_zbor"));
        command
            .arg("dev")
            .args(if demo { &["--demo"][..] } else { &[] })
            .args(["--listen", &format!("127.0.0.1:{listen}")])
            .args(["--simulator-address", &format!("127.0.0.1:{simulator}")])
            .current_dir(&directory)
            .env("DATABASE_URL", &url)
            .env("ZBOR_REDIS_PREFIX", format!("zbor-test:{name}:"))
            .env("ZBOR_LOG", "info,sqlx=warn")
            .env("ZBOR_WORKERS", "1")
            .env_remove("ZBOR_DATA_KEY")
            .env_remove("ZBOR_DATA_KEY_FILE")
            .env_remove("ZBOR_ENVIRONMENT")
            .env_remove("STRIPE_WEBHOOK_SECRET")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, lines) = std::sync::mpsc::channel::<String>();
        let errors = sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = errors.send(format!("stderr: {line}"));
            }
        });
        (child, lines)
    };
    let read_until = |lines: &std::sync::mpsc::Receiver<String>, wanted: &str| -> Vec<String> {
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line =
                lines.recv_timeout(left).unwrap_or_else(|_| panic!("no {wanted:?}:\n{}", seen.join("\n")));
            let done = line.contains(wanted);
            seen.push(line);
            if done {
                return seen;
            }
        }
    };

    let (mut first, lines) = dev(true);
    let printed = read_until(&lines, "add each otpauth:// line");
    let _ = first.kill();
    let _ = first.wait();
    let text = printed.join("\n");
    assert!(text.contains("made a development data key"), "{text}");
    let key_file = directory.join(".zbor-dev/data-key");
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    let key = zbor_vault::DataKey::parse(key_text.trim()).unwrap();

    // what was printed, per person: password, then the secret, then the otpauth:// address
    let mut people = Vec::new();
    for (n, line) in printed.iter().enumerate() {
        if let Some((email, rest)) = line.trim().split_once(' ') {
            if email.ends_with("@demo.example") {
                let password = rest.rsplit(' ').next().unwrap().to_owned();
                let secret = printed[n + 1].rsplit(' ').next().unwrap().to_owned();
                let uri = printed[n + 2].trim().to_owned();
                assert!(uri.starts_with("otpauth://totp/") && uri.contains(&secret), "{uri}");
                people.push((email.to_owned(), password, secret));
            }
        }
    }
    assert_eq!(people.len(), 4, "{text}");

    let pool = zbor_db::connect(&url, 2).await.unwrap();
    let donations: i64 = sqlx::query_scalar("select count(*) from donations where status = 'paid'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(donations, 4, "booked through the simulator's webhooks");
    let batches: Vec<String> =
        sqlx::query_scalar("select status::text from payout_batches").fetch_all(&pool).await.unwrap();
    assert_eq!(batches, vec!["awaiting_approval".to_owned()]);

    // the second run: the same key, so the users sealed by the first are read
    let (mut second, lines) = dev(false);
    let printed = read_until(&lines, "the console is");
    assert!(printed.join("\n").contains("using the development data key"), "{}", printed.join("\n"));
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key_text);
    // a treasurer logs in with what was printed: password and the authenticator's code
    let (email, password, secret) = &people[2];
    let secret = totp::base32_decode(secret).unwrap();
    let code = totp::code(&secret, totp::step_at(chrono::Utc::now().timestamp()) + 1);
    let response = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{listen}/api/v1/session"))
        .json(&serde_json::json!({"email": email, "password": password, "totp": code}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!((status.as_u16(), body["second_factor"].as_bool()), (200, Some(true)), "{body}");
    let _ = second.kill();
    let _ = second.wait();
    // the key in the file opens what the first run sealed
    let admin = zbor_auth::user_id_for_email(&pool, &key, "admin@demo.example").await.unwrap().unwrap();
    assert_eq!(zbor_auth::user(&pool, &key, admin).await.unwrap().email, "admin@demo.example");

    pool.close().await;
    let admin = zbor_db::connect(&with_database(&server_url(), "postgres"), 1).await.unwrap();
    admin.execute(format!("drop database {name} with (force)").as_str()).await.unwrap();
    std::fs::remove_dir_all(&directory).unwrap();
}
