#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test
//! Schemathesis (PyPI) attacks a live server from its own OpenAPI document: anonymously, with a
//! coordinator's API token and with a treasurer's console session. Every phase (examples from the
//! document, coverage of its edges, random fuzzing, stateful sequences); the run fails on any 5xx,
//! any status, content type, header or body the document does not describe, any request that
//! breaks the schema yet is accepted, and any secured operation that answers without credentials.
//!
//! Left out: `positive_data_acceptance` (the document cannot say every rule a value must also
//! meet: a known currency, Stripe's minimum amount, an IBAN's check digits; such a request gets
//! a 422 with its reason), and, for the signed-in runs, the operations that end the caller's own
//! access (log out, end one's sessions, revoke one's tokens, change one's password, disable a
//! user), which the anonymous run and their own tests cover.
//!
//! `ZBOR_SCHEMATHESIS_EXAMPLES` (default 15) cases per operation and phase; the README names the
//! longer run. `ZBOR_SCHEMATHESIS` is the `st` command (`deploy/schemathesis.sh` installs it).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::treasury::treasurer;
use common::*;
use serde_json::json;
use zbor_stripe_sim::{Config as SimConfig, Simulator};

const STRIPE_KEY: &str = "sk_test_schemathesis";
const DATA_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// The live stream never ends by itself: each case would wait for the request timeout. It gets a
/// short run of its own ([`LIVE_ONLY`]).
const NOT_LIVE: &[&str] = &["--exclude-path", "/api/v1/campaigns/{slug}/live"];
const LIVE_ONLY: &[&str] = &[
    "--include-path",
    "/api/v1/campaigns/{slug}/live",
    "--phases",
    "examples,coverage,fuzzing",
    "--max-examples",
    "3",
    "--request-timeout",
    "3",
];

/// What ends the caller's own access: left out of the signed-in runs (see the top).
const ENDS_OWN_ACCESS: &[&str] = &[
    "--exclude-path",
    "/api/v1/session",
    "--exclude-path-regex",
    "^/api/v1/me/(sessions|tokens)/",
    "--exclude-path",
    "/api/v1/me/password",
    "--exclude-path",
    "/api/v1/users/{id}/disable",
    "--exclude-path",
    "/api/v1/users/{id}/tokens/{token}",
];

fn schemathesis() -> String {
    let st = std::env::var("ZBOR_SCHEMATHESIS").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/zbor/schemathesis-4.32.5/bin/st")
    });
    assert!(
        std::path::Path::new(&st).is_file(),
        "schemathesis is not installed at {st}: run deploy/schemathesis.sh (deploy/test.sh does)"
    );
    st
}

/// Cases per operation and phase: `ZBOR_SCHEMATHESIS_EXAMPLES`, 15 when not given.
fn examples() -> u64 {
    std::env::var("ZBOR_SCHEMATHESIS_EXAMPLES").ok().and_then(|e| e.parse().ok()).unwrap_or(15)
}

/// A crash of the tool itself, not a finding: CPython 3.11's `ast` module sometimes raises
/// "AST constructor recursion depth mismatch" (a SystemError, fixed in later CPython) while
/// Hypothesis parses its own source to describe a lambda. Schemathesis reports it as a
/// "Runtime Error" of one operation, with no request sent for it.
const TOOL_CRASH: &str = "AST constructor recursion depth mismatch";

/// One schemathesis run; returns its summary line. Fails the test on any finding. A run that
/// failed only because the tool crashed ([`TOOL_CRASH`], and no failure found) is run once more.
fn run(st: &str, app: &Running, who: &str, extra: &[&str]) -> String {
    for attempt in 1.. {
        match run_once(st, app, who, extra) {
            Ok(summary) => return summary,
            Err(output) if attempt == 1 && output.contains(TOOL_CRASH) && !output.contains("FAILURES") => {
                eprintln!("schemathesis {who}: the tool crashed ({TOOL_CRASH}); running it once more");
            }
            Err(output) => panic!("schemathesis {who} found problems:\n{output}"),
        }
    }
    unreachable!("the loop returns or panics")
}

/// One run of the tool: its summary line, or everything it printed when it did not pass.
fn run_once(st: &str, app: &Running, who: &str, extra: &[&str]) -> Result<String, String> {
    let examples = examples().to_string();
    let report = std::env::temp_dir().join(format!("zbor-schemathesis-{}-{who}", app.db.name));
    let started = Instant::now();
    let output = Command::new(st)
        .arg("run")
        .arg(format!("{}/api/v1/openapi.json", app.base))
        .args(["--checks", "all", "--exclude-checks", "positive_data_acceptance"])
        .args(["--max-examples", &examples, "--seed", "20251211", "--workers", "2"])
        .args(["--request-timeout", "10", "--no-color"])
        .arg("--report-dir")
        .arg(&report)
        .args(extra)
        .env("SCHEMATHESIS_HOOKS", "")
        // its own files (the replay store) go there, not into the source tree
        .current_dir(std::env::temp_dir())
        .output()
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary =
        stdout.lines().rev().find(|l| l.contains(" in ") && l.contains('=')).unwrap_or("").to_owned();
    eprintln!("schemathesis {who}: {summary} ({:.1} s)", started.elapsed().as_secs_f64());
    if !output.status.success() {
        return Err(format!("{stdout}\n{stderr}"));
    }
    // "  2336 generated, 1 found ..." (not the warnings that mention generated data)
    let generated = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.split_whitespace().nth(1).is_some_and(|w| w.starts_with("generated")))
        .unwrap_or("")
        .to_owned();
    assert!(
        !generated.is_empty() && !generated.starts_with("0 "),
        "schemathesis {who} generated no cases:\n{stdout}"
    );
    eprintln!("schemathesis {who}: {generated}");
    for line in stdout.lines().filter(|l| l.contains("API Links:") || l.contains("Scenarios:")) {
        eprintln!("schemathesis {who}: {}", line.trim());
    }
    Ok(summary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_5xx_and_every_answer_as_documented() {
    let st = schemathesis();
    let sim = Simulator::start(
        SimConfig {
            api_key: STRIPE_KEY.into(),
            webhook_secret: WEBHOOK_SECRET.into(),
            ..SimConfig::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let api_base = format!("{}/", sim.base_url);
    let app = start_with(Some(WEBHOOK_SECRET), |config| {
        config.stripe_secret_key = Some(STRIPE_KEY.into());
        config.stripe_api_base = api_base;
        config.stripe_requests_per_second = 1000;
        config.data_key = Some(DATA_KEY.into());
    })
    .await;
    let key = zbor_vault::DataKey::parse(DATA_KEY).unwrap();

    // What the document's examples name exists: campaign release-123 (funded), a beneficiary, a batch.
    let (status, _) = app
        .post_json(
            "/api/v1/campaigns",
            Some(TOKEN),
            &json!({ "slug": "release-123", "title": "123 released", "currency": "EUR", "goal": "123000.00",
                     "amount_per_beneficiary": "1000.00", "suggested_amounts": ["10.00", "25.00", "50.00"] }),
        )
        .await;
    assert_eq!(status, 201);
    fund(&app.db.pool, "release-123", "5000.00").await;

    // A coordinator with an API token.
    let coordinator = zbor_auth::add_user(
        &app.db.pool,
        &key,
        "coordinator@example.org",
        zbor_auth::Role::Coordinator,
        common::treasury::PASSWORD,
        &zbor_auth::Actor::CLI,
    )
    .await
    .unwrap();
    let token = zbor_auth::sessions::create_api_token(&app.db.pool, coordinator.id, "schemathesis")
        .await
        .unwrap()
        .token;
    // A treasurer signed in with a second factor (the console's session and CSRF token).
    let treasurer = treasurer(&app, &key, "treasurer@example.org").await;

    // bounded: 600 s at the default 15 examples, in proportion for a longer run
    let deadline = Duration::from_secs(600 * examples().max(15) / 15);
    let started = Instant::now();
    run(&st, &app, "anonymous", NOT_LIVE);
    run(&st, &app, "anonymous-live", LIVE_ONLY);
    let bearer = format!("Authorization: Bearer {token}");
    let mut coordinator_args = vec!["-H", &bearer];
    coordinator_args.extend_from_slice(ENDS_OWN_ACCESS);
    coordinator_args.extend_from_slice(NOT_LIVE);
    run(&st, &app, "coordinator", &coordinator_args);
    let cookie = format!("Cookie: {}", treasurer.cookie);
    let csrf = format!("X-CSRF-Token: {}", treasurer.csrf);
    let mut treasurer_args = vec!["-H", &cookie, "-H", &csrf];
    treasurer_args.extend_from_slice(ENDS_OWN_ACCESS);
    treasurer_args.extend_from_slice(NOT_LIVE);
    // The session travels in a fixed Cookie header that schemathesis cannot take away when it
    // tries a request with broken credentials, so its `ignored_auth` check would see the valid
    // cookie answer 200. The anonymous run checks that every secured operation refuses a caller
    // without credentials; tests/roles.rs checks each role against each endpoint.
    treasurer_args.extend_from_slice(&["--exclude-checks", "positive_data_acceptance,ignored_auth"]);
    run(&st, &app, "treasurer", &treasurer_args);
    assert!(started.elapsed() < deadline, "the runs took {:?}", started.elapsed());

    // The server is still whole: nothing the runs sent broke the ledger.
    let (status, verified) = app.get("/api/v1/ledger/verify", Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(verified["ok"], true, "{verified}");
    app.finish().await;
}
