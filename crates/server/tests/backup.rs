#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Backups that restore: a scratch PostgreSQL cluster of the test's own (never the machine's
//! main one, which CI's other tests use) archives its WAL through pgBackRest as
//! `deploy/backup.sh configure` sets it up, into an encrypted repository. zbor is migrated and
//! used as in production (donations as signed Stripe webhooks into the running app, a payout
//! batch approved by two treasurers and paid), a full backup taken, more money moved, the time
//! recorded, one more donation made. `deploy/backup.sh restore --target-time` then brings a new
//! data directory back to the recorded time: the real `zbor ledger verify` and `zbor audit
//! verify` pass on it, and totals and balances are exactly those of that moment — with what
//! happened after the backup (replayed from the archived WAL) and without the later donation.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::treasury::*;
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;
use zbor_stripe::signature::sign;
use zbor_vault::DataKey;

const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const SLUG: &str = "release-123";

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// `program` as the postgres system user, as deploy/backup.sh runs pgBackRest: runuser as root
/// (CI), sudo otherwise; from `/`, which postgres may enter.
fn as_postgres(program: &Path) -> Command {
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]);
        c
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", "-u", "postgres", "--"]);
        c
    };
    command.arg(program).current_dir("/");
    command
}

/// Runs `command`; its stdout, or a failure showing everything it printed.
fn run(what: &str, command: &mut Command) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The newest PostgreSQL of the distribution's (Debian: /usr/lib/postgresql/VERSION/bin).
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL from the distribution's packages (deploy/services.sh installs it)")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().expect("an initdb under /usr/lib/postgresql/*/bin").1
}

/// Scratch clusters and their repository under one temporary directory. Dropped — also when
/// the test fails — it stops every cluster it started and removes the directory.
struct Scratch {
    root: PathBuf,
    bin: PathBuf,
    primary_port: u16,
    started: Vec<PathBuf>,
}

impl Scratch {
    fn new() -> Scratch {
        let root = std::env::temp_dir().join(format!("zbor-backup-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&root).unwrap();
        let scratch = Scratch { root, bin: postgres_bin(), primary_port: free_port(), started: Vec::new() };
        std::fs::create_dir(scratch.root.join("sock")).unwrap();
        // 64 random hex digits; root's alone, as the passphrase file is on a real host
        let passphrase = scratch.root.join("passphrase");
        std::fs::write(&passphrase, DataKey::generate_hex()).unwrap();
        std::fs::set_permissions(&passphrase, std::fs::Permissions::from_mode(0o600)).unwrap();
        if is_root() {
            // everything but the passphrase becomes postgres's, as its data directory must be
            run("chown", Command::new("chown").args(["postgres:postgres"]).arg(&scratch.root));
            run("chown", Command::new("chown").args(["postgres:postgres"]).arg(scratch.root.join("sock")));
        } else {
            run(
                "chown",
                Command::new("sudo").args(["-n", "chown", "-R", "postgres:postgres"]).arg(&scratch.root),
            );
        }
        let mut initdb = as_postgres(&scratch.bin.join("initdb"));
        initdb.arg("-D").arg(scratch.primary()).args([
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--auth-local=peer",
            // the test and the zbor binary connect over loopback as postgres: this cluster lives
            // for one test, listens on 127.0.0.1 only and holds made-up data
            "--auth-host=trust",
            "--no-sync",
        ]);
        run("initdb", &mut initdb);
        scratch
    }

    fn primary(&self) -> PathBuf {
        self.root.join("primary")
    }

    /// deploy/backup.sh with every setting pointing into the scratch directory.
    fn backup(&self, args: &[&str]) -> String {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/backup.sh");
        let mut command = Command::new(script);
        command
            .args(args)
            .env("ZBOR_BACKUP_STANZA", "zbor-test")
            .env("ZBOR_BACKUP_CONFIG_PATH", self.root.join("pgbackrest"))
            .env("ZBOR_BACKUP_REPO", self.root.join("repo"))
            .env("ZBOR_BACKUP_PASSPHRASE_FILE", self.root.join("passphrase"))
            .env("ZBOR_BACKUP_LOG_PATH", self.root.join("log"))
            .env("ZBOR_BACKUP_LOCK_PATH", self.root.join("lock"))
            .env("ZBOR_BACKUP_SPOOL_PATH", self.root.join("spool"))
            .env("PGDATA", self.primary())
            .env("PGPORT", self.primary_port.to_string())
            .env("PGHOST", self.root.join("sock"));
        run(&format!("deploy/backup.sh {}", args.join(" ")), &mut command)
    }

    /// Appends to a cluster's postgresql.conf (owned by postgres; the test may be root).
    fn append_conf(&self, data: &Path, text: &str) {
        let conf = data.join("postgresql.conf");
        let mut file = std::fs::OpenOptions::new().append(true).open(&conf).unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    fn start(&mut self, data: &Path, port: u16) {
        let log = self.root.join(format!("{}.log", data.file_name().unwrap().to_str().unwrap()));
        let mut pg_ctl = as_postgres(&self.bin.join("pg_ctl"));
        pg_ctl.arg("-D").arg(data).arg("-l").arg(log).args([
            "-o",
            &format!("-p {port}"),
            "-w",
            "-t",
            "60",
            "start",
        ]);
        self.started.push(data.to_owned());
        run("pg_ctl start", &mut pg_ctl);
    }

    fn url(port: u16, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/{database}")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for log in ["primary.log", "restored.log"] {
                if let Ok(text) = std::fs::read_to_string(self.root.join(log)) {
                    let tail: Vec<&str> = text.lines().rev().take(30).collect();
                    eprintln!("--- last lines of {log}:");
                    for line in tail.iter().rev() {
                        eprintln!("{line}");
                    }
                }
            }
        }
        for data in self.started.iter().rev() {
            let _ = as_postgres(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(data)
                .args(["-m", "immediate", "-w", "stop"])
                .output();
        }
        if is_root() {
            let _ = std::fs::remove_dir_all(&self.root);
        } else {
            let _ = Command::new("sudo").args(["-n", "rm", "-rf"]).arg(&self.root).output();
        }
    }
}

/// The real binary against `database_url`: success and what it printed.
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

/// A donor paid by card: Stripe's signed `checkout.session.completed`, delivered to the app's
/// webhook endpoint (as in intake_http.rs), booked before the 200.
async fn donate(app: &Running, n: u32, amount_minor: i64) {
    let body = serde_json::to_vec(&json!({
        "id": format!("evt_backup_{n}"),
        "object": "event",
        "type": "checkout.session.completed",
        "created": chrono::Utc::now().timestamp(),
        "data": { "object": {
            "id": format!("cs_backup_{n}"), "object": "checkout.session", "mode": "payment",
            "amount_total": amount_minor, "currency": "eur", "payment_status": "paid",
            "status": "complete", "payment_intent": format!("pi_backup_{n}"), "payment_link": null,
            "metadata": { "zbor_campaign": SLUG }
        }}
    }))
    .unwrap();
    let headers = [
        ("stripe-signature", sign(&body, WEBHOOK_SECRET, chrono::Utc::now().timestamp())),
        ("content-type", "application/json".into()),
    ];
    let (status, response) = app.post_raw("/webhooks/stripe", &headers, body).await;
    assert_eq!((status, response["outcome"].as_str()), (200, Some("booked")), "{response}");
}

/// What a restore must bring back exactly.
#[derive(Debug, PartialEq)]
struct State {
    totals: zbor_intake::totals::Totals,
    /// (account code, debits, credits, available) of every ledger account
    balances: Vec<(String, String, String, String)>,
    sessions: Vec<String>,
    payouts: Vec<String>,
    audit_entries: i64,
}

async fn state(pool: &PgPool) -> State {
    let mut conn = pool.acquire().await.unwrap();
    let totals = zbor_intake::totals::totals(&mut conn, SLUG).await.unwrap();
    let balances = sqlx::query_as(
        "select a.code, coalesce(sum(s.debits), 0)::text, coalesce(sum(s.credits), 0)::text,
                ledger_available(a.id)::text
         from ledger_accounts a left join ledger_balance_shards s on s.account_id = a.id
         group by a.id order by a.code",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let sessions = sqlx::query_scalar(
        "select stripe_session_id || ' ' || status from donations order by stripe_session_id",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    let payouts = sqlx::query_scalar("select id || ' ' || status || ' ' || amount from payouts order by id")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let audit_entries =
        sqlx::query_scalar("select count(*) from audit_log").fetch_one(&mut *conn).await.unwrap();
    State { totals, balances, sessions, payouts, audit_entries }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_point_in_time_restore_brings_back_exactly_the_ledger_of_that_moment() {
    let started = Instant::now();
    if Command::new("pgbackrest").arg("version").output().is_err() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/backup.sh");
        run("deploy/backup.sh install", Command::new(script).arg("install"));
    }
    let mut scratch = Scratch::new();

    // archiving as deploy/backup.sh configure says PostgreSQL needs it (its stdout)
    let settings = scratch.backup(&["configure"]);
    assert!(settings.contains("archive_mode = on") && settings.contains("archive-push %p"), "{settings}");
    scratch.append_conf(
        &scratch.primary(),
        &format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
             max_connections = 40\nshared_buffers = 32MB\n{settings}",
            scratch.primary_port,
            scratch.root.join("sock").display()
        ),
    );
    let (primary, primary_port) = (scratch.primary(), scratch.primary_port);
    scratch.start(&primary, primary_port);
    scratch.backup(&["stanza-create"]);
    scratch.backup(&["check"]);

    // The app's database on the scratch cluster: the test helpers make theirs on the server
    // DATABASE_URL names, and this test binary has no other test.
    std::env::set_var("DATABASE_URL", Scratch::url(primary_port, "postgres"));
    let app = start_with(Some(WEBHOOK_SECRET), |c| c.data_key = Some(DATA_KEY.into())).await;
    let (ok, text) = zbor(&app.db.url, &["migrate"]);
    assert!(ok, "zbor migrate: {text}");
    let key = DataKey::parse(DATA_KEY).unwrap();

    // Before the backup: a campaign, three donations, a batch for two people approved by two
    // treasurers other than its creator, the first payout paid.
    let campaign = json!({"slug": SLUG, "title": "123 released", "currency": "EUR", "goal": "123000",
                          "amount_per_beneficiary": "1000"});
    let (status, created) = app.post_json("/api/v1/campaigns", Some(TOKEN), &campaign).await;
    assert_eq!(status, 201, "{created}");
    let campaign_id = zbor_campaigns::CampaignId::from_i64(created["id"].as_i64().unwrap());
    for (n, cents) in [(1, 100_000), (2, 50_000), (3, 25_000)] {
        donate(&app, n, cents).await;
    }
    let mut people = Vec::new();
    for n in 0..2 {
        let new = serde_json::from_value(
            json!({"name": format!("Released person {n}"), "contact": "", "note": "", "method": {"kind": "manual"}}),
        )
        .unwrap();
        let id = zbor_payouts::beneficiaries::create(&app.db.pool, &key, campaign_id, &new).await.unwrap().id;
        people.push(id.as_i64());
    }
    let alice = treasurer(&app, &key, "alice@example.org").await;
    let bob = treasurer(&app, &key, "bob@example.org").await;
    let carol = treasurer(&app, &key, "carol@example.org").await;
    let dave = treasurer(&app, &key, "dave@example.org").await;
    confirm_all(&app.db.pool, campaign_id, dave.user()).await;
    let items: Vec<Value> = people.iter().map(|p| json!({"beneficiary": p, "amount": "600"})).collect();
    let (status, batch) =
        post(&app, &format!("/api/v1/campaigns/{SLUG}/payout-batches"), json!({"items": items}), &alice)
            .await;
    assert_eq!(status, 201, "{batch}");
    let hash = batch["content_hash"].as_str().unwrap().to_owned();
    let approvals = format!("/api/v1/payout-batches/{}/approvals", batch["id"]);
    let (status, _) =
        post(&app, &approvals, json!({"content_hash": hash, "totp": next_code(&bob)}), &bob).await;
    assert_eq!(status, 200);
    let (status, answer) =
        post(&app, &approvals, json!({"content_hash": hash, "totp": next_code(&carol)}), &carol).await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("released")), "{answer}");
    let payouts: Vec<i64> =
        batch["items"].as_array().unwrap().iter().map(|i| i["payout"].as_i64().unwrap()).collect();
    let pay = |payout: i64| {
        let (app, alice) = (&app, &alice);
        async move {
            let (status, paid) =
                post(app, &format!("/api/v1/payouts/{payout}/paid"), json!({"note": "cash, Vilnius"}), alice)
                    .await;
            assert_eq!((status, paid["status"].as_str()), (200, Some("paid")), "{paid}");
        }
    };
    pay(payouts[0]).await;

    let full = scratch.backup(&["backup", "full"]);
    eprintln!("{full}");

    // After the backup, before the target time: only the archived WAL holds these.
    pay(payouts[1]).await;
    donate(&app, 4, 4_000).await;
    let at_target = state(&app.db.pool).await;
    assert_eq!(at_target.totals.raised, eur("1790"));
    assert!(at_target.payouts.iter().all(|p| p.contains(" paid ")), "{:?}", at_target.payouts);

    // The target: the next whole second by the database's clock, which stamps the commits;
    // nothing is changed until it has passed.
    let target: String = sqlx::query_scalar(
        "select to_char(date_trunc('second', clock_timestamp() at time zone 'utc') + interval '1 second',
                        'YYYY-MM-DD HH24:MI:SS') || '+00'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    loop {
        let passed: bool =
            sqlx::query_scalar("select clock_timestamp() > $1::timestamptz + interval '200 milliseconds'")
                .bind(&target)
                .fetch_one(&app.db.pool)
                .await
                .unwrap();
        if passed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // After the target: a donation the restore must not have.
    donate(&app, 5, 700).await;
    let latest = state(&app.db.pool).await;
    assert_eq!(latest.totals.raised, eur("1797"));
    // switches to a new WAL segment and waits until it is archived: the later commit is in the
    // repository, so recovery sees it and stops before it (not merely at the archive's end)
    scratch.backup(&["check"]);
    let database = app.db.name.clone();
    app.finish().await;

    // The restore: a new data directory, beside the running primary, on another port.
    let restored = scratch.root.join("restored");
    scratch.backup(&["restore", "--target-dir", restored.to_str().unwrap(), "--target-time", &target]);
    let restored_port = free_port();
    scratch.start(&restored, restored_port);
    let restored_url = Scratch::url(restored_port, &database);
    let pool = zbor_db::connect(&restored_url, 2).await.unwrap();
    let promoted_by = Instant::now() + Duration::from_secs(60);
    while sqlx::query_scalar::<_, bool>("select pg_is_in_recovery()").fetch_one(&pool).await.unwrap() {
        assert!(Instant::now() < promoted_by, "the restored cluster is still recovering after 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (ok, text) = zbor(&restored_url, &["ledger", "verify"]);
    assert!(ok && text.contains("ledger verify: ok"), "{text}");
    eprintln!("restored: {}", text.trim());
    let (ok, text) = zbor(&restored_url, &["audit", "verify"]);
    assert!(ok && text.contains("audit verify: ok"), "{text}");
    eprintln!("restored: {}", text.trim());

    let back = state(&pool).await;
    assert_eq!(back, at_target, "the restore is the state at {target}");
    assert!(back.sessions.contains(&"cs_backup_4 paid".to_owned()), "WAL after the backup was replayed");
    assert!(!back.sessions.iter().any(|s| s.starts_with("cs_backup_5")), "the later donation is absent");
    assert_ne!(back, latest);
    // zbor's first start on the restored copy finds it on a new timeline, and pauses payouts:
    // the second payout, paid after the backup, is unpaid here and must not be paid again
    assert!(!zbor_payouts::switch::is_paused(&pool).await.unwrap());
    let seen = zbor_server::database::pause_payouts_if_restored(&pool, Some(&key)).await.unwrap();
    let seen = seen.expect("a restored database is detected");
    assert_eq!(seen.timeline, 1, "{seen:?}");
    assert!(zbor_payouts::switch::is_paused(&pool).await.unwrap());
    assert_eq!(zbor_server::database::pause_payouts_if_restored(&pool, Some(&key)).await.unwrap(), None);
    pool.close().await;
    eprintln!(
        "restored to {target}: raised {} in {} donations, {} payouts paid; whole test {:.1} s",
        back.totals.raised.amount(),
        back.totals.donations,
        back.payouts.len(),
        started.elapsed().as_secs_f64()
    );
}
