#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test support

/// zbor-payouts' test fixtures (a funded campaign, treasurers, confirmed destinations): that
/// crate's own file, not a copy; why it lives there is said at its top.
#[path = "../../../payouts/tests/common/mod.rs"]
pub mod payouts;
pub mod treasury;

// for the tests' `use common::*`; a test binary that uses none of them is no mistake
#[allow(unused_imports)]
pub use payouts::{confirm_all, eur, fund, funded_campaign, treasurers};

use serde_json::Value;
use tokio::sync::watch;
use zbor_server::app::Application;
use zbor_server::config::Config;
use zbor_testkit::TestDb;

pub const TOKEN: &str = "test-admin-token";
pub const WEBHOOK_SECRET: &str = "whsec_test_secret";

/// The real server on port 0, against its own database, real Redis.
pub struct Running {
    pub base: String,
    /// `http://…` of the metrics listener, when the test set `metrics_listen`.
    pub metrics_base: Option<String>,
    pub redis_prefix: String,
    pub db: TestDb,
    config: Config,
    stop: watch::Sender<bool>,
    client: reqwest::Client,
}

/// Another instance of a running deployment ([`Running::another_node`]); stops when dropped.
pub struct Node {
    pub base: String,
    stop: watch::Sender<bool>,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

pub async fn start(webhook_secret: Option<&str>) -> Running {
    start_with(webhook_secret, |_| {}).await
}

/// [`start`], with the configuration changed first (Stripe, data key, ...).
pub async fn start_with(webhook_secret: Option<&str>, change: impl FnOnce(&mut Config)) -> Running {
    let db = TestDb::new(4).await;
    let config = Config {
        database_url: db.url.clone(),
        redis_url: std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()),
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_token: Some(TOKEN.into()),
        database_connections_max: 4,
        stripe_webhook_secret: webhook_secret.map(str::to_owned),
        // each test its own key prefix on the shared Redis
        redis_prefix: format!("zbor-test:{}:", db.name),
        stripe_secret_key: None,
        stripe_api_base: zbor_stripe_sim_base_unused(),
        stripe_requests_per_second: 25,
        public_url: "http://127.0.0.1:9".into(),
        data_key: None,
        workers: 2,
        payout_transfers_per_second: 50,
        sepa_debtor_name: Some("Fund for the Released".into()),
        sepa_debtor_iban: Some("DE89370400440532013000".into()),
        sepa_debtor_bic: Some("COBADEFFXXX".into()),
        // every test client is 127.0.0.1: the rate-limit test sets its own
        login_attempts_per_minute: 10_000,
        checkouts_per_minute: 10_000,
        trusted_proxies: Vec::new(),
        sse_connections_max: 5000,
        sse_connections_per_address_max: 5000,
        header_read_timeout_seconds: 10,
        session_idle_minutes: 30,
        surplus_solo_max: rust_decimal::Decimal::ZERO,
        metrics_listen: None,
        environment: zbor_server::config::Environment::Development,
        organisation: zbor_server::config::Organisation {
            name: "Fund for the Released".into(),
            ..Default::default()
        },
    };
    let mut config = config;
    change(&mut config);
    let app = Application::build(&config).await.unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    let metrics_base = app.metrics_addr().map(|address| format!("http://{address}"));
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(app.run(stopped));
    let redis_prefix = config.redis_prefix.clone();
    Running { base, metrics_base, redis_prefix, db, config, stop, client: reqwest::Client::new() }
}

/// Tests without Stripe never call it; an address that refuses connections.
fn zbor_stripe_sim_base_unused() -> String {
    "http://127.0.0.1:9/".into()
}

impl Running {
    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        self.send(self.client.get(format!("{}{}", self.base, path)), token).await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        self.send(self.client.post(format!("{}{}", self.base, path)).json(body), token).await
    }

    pub async fn patch_json(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        self.send(self.client.patch(format!("{}{}", self.base, path)).json(body), token).await
    }

    /// Posts raw bytes with the given extra headers (a webhook delivery).
    pub async fn post_raw(&self, path: &str, headers: &[(&str, String)], body: Vec<u8>) -> (u16, Value) {
        let mut req = self.client.post(format!("{}{}", self.base, path)).body(body);
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        self.send(req, None).await
    }

    async fn send(&self, mut req: reqwest::RequestBuilder, token: Option<&str>) -> (u16, Value) {
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.db.pool).await.unwrap()
    }

    /// Another instance of this deployment, as a cluster runs them behind a load balancer: the
    /// same database and Redis prefix, its own port, pool, live totals and workers.
    pub async fn another_node(&self) -> Node {
        self.another_node_with(|_| {}).await
    }

    /// [`Running::another_node`] with its configuration changed first (a Stripe key, ...).
    pub async fn another_node_with(&self, change: impl FnOnce(&mut Config)) -> Node {
        let mut config = self.config.clone();
        change(&mut config);
        let app = Application::build(&config).await.unwrap();
        let base = format!("http://{}", app.local_addr().unwrap());
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(app.run(stopped));
        Node { base, stop }
    }

    pub async fn finish(self) {
        self.stop.send(true).unwrap();
        self.db.drop_database().await;
    }
}
