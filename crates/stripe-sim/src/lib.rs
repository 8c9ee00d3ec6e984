//! A Stripe stand-in: Stripe cannot be reached from these machines, so development, tests and
//! load tests talk to this instead. It speaks Stripe's wire format (form-encoded requests with
//! bracket keys, Stripe's JSON objects built from Stripe's own example objects so async-stripe's
//! typed parser accepts them, Stripe's error shape), keeps Stripe's idempotency rules, injects
//! faults, lets a simulated donor pay, and delivers signed webhooks the way Stripe does: retried
//! with backoff until a 2xx.
//!
//! Implemented (async-stripe's client works against it with `ClientBuilder::url(base_url)`):
//! - `api.rs`: every `/v1/*` request: API key (Bearer or Basic), injected 429 and 500
//!   (`Stripe-Should-Retry: true`), `Idempotency-Key` replay keyed on method, path and form;
//!   the latest requests remembered for [`Simulator::api_requests`].
//! - `sessions.rs`: `POST/GET /v1/checkout/sessions`; `POST /sim/checkout/sessions/{id}/pay` by
//!   card or SEPA debit (succeeding or failing later), optionally with the donor's name and email.
//! - `links.rs`: `POST/GET /v1/prices` (fixed or customer-chosen amounts), `POST/GET
//!   /v1/payment_links`; `POST /sim/payment_links/{id}/pay` creates and pays a Checkout Session
//!   the way Stripe does for a link.
//! - `charges.rs`: a Charge and a BalanceTransaction with Stripe's fee for every successful
//!   payment; `GET /v1/charges/{id}`.
//! - `refunds.rs`: `POST /v1/refunds` (a `charge` or `payment_intent`, optional `amount`; not
//!   more than is left), `GET /v1/refunds/{id}`, and [`Simulator::refund`]: a `refund` balance
//!   transaction, the charge's `amount_refunded` and `refunded` updated.
//! - `disputes.rs`: [`Simulator::dispute`] opens a dispute over a charge's whole amount (its
//!   balance transaction withdraws it and Stripe's 1500 dispute fee), [`Simulator::close_dispute`]
//!   closes it won (the amount comes back, the fee does not) or lost; `GET /v1/disputes/{id}`.
//! - `payouts.rs`: [`Simulator::pay_out`], Stripe's automatic payout of a currency's available
//!   balance (the `net` of every balance transaction no payout took yet) to the platform's bank
//!   account, and [`Simulator::fail_payout`], the bank returning it; `GET /v1/payouts/{id}`,
//!   `GET /v1/payouts` (`created`, `arrival_date`, `status`, `destination`).
//! - `balance_transactions.rs`: every balance transaction above (charges, refunds, disputes,
//!   transfers and reversals, payouts and failed payouts): `GET /v1/balance_transactions/{id}`
//!   (`expand[]=source`) and `GET /v1/balance_transactions`, newest first, filtered by
//!   `created`, `payout`, `type`, `source`, `currency`, with `expand[]=data.source`.
//! - `events.rs`: every event made, kept as it was (or would have been) delivered, whether or
//!   not a webhook URL is set or a delivery succeeded: `GET /v1/events` (newest first; `created`,
//!   `type` with `*`, `types[]`, `delivery_success`; paged) and `GET /v1/events/{id}`, the last 30
//!   days as at Stripe; [`Simulator::events`], and [`Simulator::redeliver_all`] to make late
//!   webhooks arrive after a receiver was down.
//! - `lists.rs`: what every list shares: the query string (bracket keys, as async-stripe sends
//!   them), `limit` (1 to 100), `starting_after` / `ending_before`, timestamp ranges
//!   (`created[gte]=…` or `created=…`), Stripe's list object.
//! - `subscriptions.rs`: `mode=subscription` Checkout Sessions (a monthly price per amount, paid
//!   by card): a customer, a subscription and its first invoice, paid; renewals triggered by
//!   [`Simulator::renew`] or `POST /sim/subscriptions/{id}/renew` (`{"succeeds": bool}`): a paid
//!   invoice with its charge, or a failed one and the subscription `past_due`;
//!   `GET/DELETE /v1/subscriptions/{id}` (cancel: `customer.subscription.deleted`),
//!   `GET /v1/invoices/{id}`. Events: `customer.subscription.created`, `.updated`, `.deleted`,
//!   `invoice.paid` (without the includable `payments`, as live Stripe sends it),
//!   `invoice_payment.paid`, `invoice.payment_failed`.
//! - `portal.rs`: `POST /v1/billing_portal/sessions` and its hosted page `GET /portal/{id}`,
//!   where the donor cancels a subscription (`POST /portal/{id}/subscriptions/{sub}/cancel`).
//! - `pages.rs`: `GET /pay/{id}` and `/pay/link/{id}`, the sessions' and links' `url`: a bare
//!   checkout page paying through the `/sim/.../pay` routes, then going to the `success_url`.
//! - `transfers.rs`: `POST/GET /v1/transfers` (Connect payouts) and their reversals, `POST/GET
//!   /v1/transfers/{id}/reversals`, `GET /v1/transfers/{id}/reversals/{reversal}`; a reversal
//!   can also be made by [`Simulator::reverse_transfer`], as if the platform reversed one in the
//!   Dashboard. Each has its balance transaction.
//! - `webhooks.rs`: events (`checkout.session.completed`,
//!   `checkout.session.async_payment_succeeded`, `checkout.session.async_payment_failed`,
//!   `charge.succeeded`, `charge.refunded`, `refund.created`, `charge.dispute.created`,
//!   `charge.dispute.funds_withdrawn`, `charge.dispute.funds_reinstated`,
//!   `charge.dispute.closed`, `transfer.created`, `transfer.reversed`, `payout.created`,
//!   `payout.paid`, `payout.failed`), signed delivery with doubling retries, optionally
//!   duplicated, reordered, or with SEPA's outcome delayed.
//!
//! Time: every object's `created` comes from the simulator's clock, the real one shifted by
//! [`Simulator::set_clock_offset`], so a test can make yesterday's charges and list them by date.

mod api;
mod balance_transactions;
mod charges;
mod disputes;
pub mod donor;
mod events;
mod links;
mod lists;
mod pages;
mod payouts;
mod portal;
mod refunds;
mod sessions;
mod subscriptions;
mod transfers;
mod webhooks;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

const FIXTURES: &str = include_str!("stripe-objects.json");

#[derive(Clone, Debug)]
pub struct Config {
    /// Secret API key requests must carry (`Authorization: Bearer sk_test_…`).
    pub api_key: String,
    /// Where webhooks go (zbor's `/webhooks/stripe`); none: events are not delivered. Can be
    /// changed later with [`Simulator::set_webhook_url`] (a server started after the simulator).
    pub webhook_url: Option<String>,
    pub webhook_secret: String,
    /// Answer every Nth API request with 429 `rate_limit_error`, as Stripe does under load; 0: never.
    pub rate_limit_every: u64,
    /// Answer every Nth API request with 500 `api_error` and `Stripe-Should-Retry: true`, without
    /// executing it; 0: never. Counted on the same request counter as `rate_limit_every`.
    pub server_error_every: u64,
    /// First retry delay of a failed webhook delivery; doubles each time (Stripe: up to 3 days).
    pub retry_first: Duration,
    pub retries_max: u32,
    /// Deliver every event twice (the copy once the original's delivery is over), as Stripe may.
    pub duplicate_deliveries: bool,
    /// Deliver the events of one payment newest first, as Stripe does not promise any order.
    /// A transfer's events happen one at a time and go out in order regardless.
    pub reorder_deliveries: bool,
    /// How long a SEPA debit takes to succeed or fail after the session completes.
    pub sepa_delay: Duration,
}

impl Default for Config {
    /// What `zbor dev` uses: no faults, Stripe-like retry timing shortened to seconds.
    fn default() -> Config {
        Config {
            api_key: "sk_test_zbor_dev".into(),
            webhook_url: None,
            webhook_secret: "whsec_zbor_dev".into(),
            rate_limit_every: 0,
            server_error_every: 0,
            retry_first: Duration::from_secs(1),
            retries_max: 8,
            duplicate_deliveries: false,
            reorder_deliveries: false,
            sepa_delay: Duration::ZERO,
        }
    }
}

/// One attempt to deliver a webhook, for tests to inspect.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Delivery {
    pub event_id: String,
    pub event_type: String,
    pub attempt: u32,
    /// The receiver's HTTP status; none: no answer (refused, reset).
    pub status: Option<u16>,
    /// What the receiver answered (its body, cut at 4 KiB), when it answered.
    pub response_body: Option<String>,
}

/// An API request the simulator received with the right key (faults injected or not), for tests
/// to check what a client asked.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ApiRequest {
    pub method: String,
    /// `/v1/events`
    pub path: String,
    /// The query string's parameters, decoded, in order: `("types[0]", "charge.succeeded")`.
    pub query: Vec<(String, String)>,
}

/// Everything the simulator has created, behind one lock.
#[derive(Default)]
struct Store {
    sessions: HashMap<String, Value>,
    /// Checkout Session id → `payment_intent_data[metadata]`, which Stripe puts on the
    /// PaymentIntent and so on its Charge (the session object itself does not show it).
    payment_intent_metadata: HashMap<String, Map<String, Value>>,
    prices: HashMap<String, Value>,
    links: HashMap<String, links::Link>,
    charges: HashMap<String, Value>,
    /// Every balance transaction, and which payout paid each out.
    balance_transactions: balance_transactions::BalanceTransactions,
    refunds: HashMap<String, Value>,
    disputes: HashMap<String, Value>,
    /// Automatic payouts to the platform's bank account, oldest first.
    payouts: Vec<Value>,
    transfers: HashMap<String, Value>,
    /// Transfer id → its reversals, oldest first.
    transfer_reversals: HashMap<String, Vec<Value>>,
    /// Every event made, as delivered (or as it would have been), for `GET /v1/events`.
    events: events::Events,
    /// Object id → the end of the delivery of the last event scheduled about it, which the next
    /// one waits for (see `webhooks::deliver_in_turn`).
    delivery_turns: HashMap<String, tokio::sync::oneshot::Receiver<()>>,
    idempotency: HashMap<String, api::Idempotent>,
    /// Checkout Session id → `payment_intent_data[receipt_email]`, put on its charge.
    receipt_emails: HashMap<String, String>,
    /// Checkout Session id (`mode=subscription`) → what its subscription will be.
    recurring: HashMap<String, subscriptions::Recurring>,
    customers: HashMap<String, Value>,
    subscriptions: HashMap<String, Value>,
    /// Every invoice, by id; a subscription's are found by their `subscription`.
    invoices: HashMap<String, Value>,
    portal_sessions: HashMap<String, Value>,
}

pub(crate) struct Sim {
    config: Config,
    /// `config.webhook_url`, changeable while running
    webhook_url: Mutex<Option<String>>,
    base_url: String,
    fixtures: Value,
    store: Mutex<Store>,
    api_requests: AtomicU64,
    /// The latest authenticated API requests (`api::guard`).
    api_requests_log: Mutex<std::collections::VecDeque<ApiRequest>>,
    deliveries: Mutex<Vec<Delivery>>,
    http: reqwest::Client,
    /// Where deliveries run, also when started from outside a request (`reverse_transfer`).
    runtime: tokio::runtime::Handle,
    /// Seconds added to the real clock for every object's `created` (`Simulator::set_clock_offset`).
    clock_offset: AtomicI64,
    /// How long every API answer waits after the request was carried out (`Simulator::set_api_latency`).
    api_latency_ms: AtomicU64,
}

impl Sim {
    /// The store; a panic elsewhere while holding the lock leaves plain maps, still usable.
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of Stripe's example object of this type, to patch.
    fn fixture(&self, object: &str) -> Value {
        self.fixtures[object].clone()
    }

    /// The simulator's clock, Unix seconds: the real one shifted by the clock offset. Every
    /// object's and event's `created`; webhook signatures keep the real clock.
    fn now(&self) -> i64 {
        now().saturating_add(self.clock_offset.load(Ordering::Relaxed))
    }
}

pub struct Simulator {
    /// `http://127.0.0.1:{port}`, without a trailing slash: async-stripe's
    /// `ClientBuilder::url` takes it as it is (it appends `v1/…` after the URL's path, `/`).
    pub base_url: String,
    sim: Arc<Sim>,
}

impl Simulator {
    /// Starts on `listen` (port 0 picks one) and serves until the process ends.
    pub async fn start(config: Config, listen: std::net::SocketAddr) -> std::io::Result<Simulator> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let fixtures: Value = serde_json::from_str(FIXTURES).map_err(std::io::Error::other)?;
        let sim = Arc::new(Sim {
            webhook_url: Mutex::new(config.webhook_url.clone()),
            config,
            base_url: base_url.clone(),
            fixtures,
            store: Mutex::default(),
            api_requests: AtomicU64::new(0),
            api_requests_log: Mutex::default(),
            deliveries: Mutex::default(),
            http: reqwest::Client::new(),
            runtime: tokio::runtime::Handle::current(),
            clock_offset: AtomicI64::new(0),
            api_latency_ms: AtomicU64::new(0),
        });
        let stripe_api = Router::new()
            .route("/v1/checkout/sessions", post(sessions::create))
            .route("/v1/checkout/sessions/{id}", get(sessions::retrieve))
            .route("/v1/prices", post(links::create_price))
            .route("/v1/prices/{id}", get(links::retrieve_price))
            .route("/v1/payment_links", post(links::create_link))
            .route("/v1/payment_links/{id}", get(links::retrieve_link).post(links::update_link))
            .route("/v1/charges/{id}", get(charges::retrieve_charge))
            .route("/v1/balance_transactions", get(balance_transactions::list))
            .route("/v1/balance_transactions/{id}", get(balance_transactions::retrieve))
            .route("/v1/refunds", post(refunds::create))
            .route("/v1/refunds/{id}", get(refunds::retrieve))
            .route("/v1/disputes/{id}", get(disputes::retrieve))
            .route("/v1/events", get(events::list))
            .route("/v1/events/{id}", get(events::retrieve))
            .route("/v1/payouts", get(payouts::list))
            .route("/v1/payouts/{id}", get(payouts::retrieve))
            .route("/v1/transfers", post(transfers::create))
            .route("/v1/transfers/{id}", get(transfers::retrieve))
            .route(
                "/v1/transfers/{id}/reversals",
                post(transfers::create_reversal).get(transfers::list_reversals),
            )
            .route("/v1/transfers/{id}/reversals/{reversal}", get(transfers::retrieve_reversal))
            .route("/v1/subscriptions/{id}", get(subscriptions::retrieve).delete(subscriptions::cancel))
            .route("/v1/invoices/{id}", get(subscriptions::retrieve_invoice))
            .route("/v1/billing_portal/sessions", post(portal::create))
            // `route_layer`: only matched routes pass the guard; unknown paths get the fallback.
            .route_layer(axum::middleware::from_fn_with_state(sim.clone(), api::guard));
        let app = stripe_api
            .route("/sim/checkout/sessions/{id}/pay", post(sessions::pay))
            .route("/sim/payment_links/{id}/pay", post(links::pay))
            .route("/pay/{id}", get(pages::session))
            .route("/pay/link/{id}", get(pages::link))
            .route("/sim/subscriptions/{id}/renew", post(subscriptions::renew_route))
            .route("/portal/{id}", get(portal::page))
            .route("/portal/{id}/subscriptions/{subscription}/cancel", post(portal::cancel))
            .fallback(unknown_url)
            .with_state(sim.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "stripe simulator stopped");
            }
        });
        Ok(Simulator { base_url, sim })
    }

    /// Where webhooks go from now on, retries of earlier events included; none: nowhere (a
    /// receiver that is down: events are still made and kept, see [`Simulator::events`], and
    /// the retries pending end at their next attempt).
    pub fn set_webhook_url(&self, url: Option<String>) {
        *self.sim.webhook_url.lock().unwrap_or_else(PoisonError::into_inner) = url;
    }

    /// Every event made so far, oldest first, exactly as it was delivered or would have been
    /// (also those no webhook URL received, or whose every delivery failed); what
    /// `GET /v1/events` lists.
    pub fn events(&self) -> Vec<Value> {
        self.sim.store().events.oldest_first()
    }

    /// Delivers every event made so far once more to the webhook URL set now, oldest first, one
    /// at a time, each retried as configured until a 2xx: Stripe's late webhooks, or its
    /// Dashboard's "resend", after a receiver was down. Returns each event's last attempt (none
    /// at all without a webhook URL); they are in [`Simulator::deliveries`] too.
    pub async fn redeliver_all(&self) -> Vec<Delivery> {
        let events = self.sim.store().events.oldest_first();
        let mut last_attempts = Vec::with_capacity(events.len());
        for event in &events {
            if let Some(last) = self.sim.deliver_once(event).await {
                last_attempts.push(last);
            }
        }
        last_attempts
    }

    /// The API requests received with the right key, oldest first (the latest 10,000).
    pub fn api_requests(&self) -> Vec<ApiRequest> {
        self.sim.api_requests_log.lock().map(|log| log.iter().cloned().collect()).unwrap_or_default()
    }

    /// Every webhook delivery attempt so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.sim.deliveries.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// Every transfer (Stripe Connect payout) created so far, in no particular order.
    pub fn transfers(&self) -> Vec<Value> {
        self.sim.store().transfers.values().cloned().collect()
    }

    /// Reverses `amount` of transfer `transfer_id` (none: all that is left) as
    /// `POST /v1/transfers/{id}/reversals` does, with its errors, and sends `transfer.reversed`:
    /// for tests where the platform or Stripe takes a transfer back without zbor asking. Returns
    /// the `transfer_reversal`. Call it inside the Tokio runtime the simulator was started in, or
    /// while that runtime still runs (the delivery runs there).
    pub fn reverse_transfer(&self, transfer_id: &str, amount: Option<i64>) -> Result<Value, ApiError> {
        transfers::reverse(&self.sim, transfer_id, transfers::Reversal { amount, ..Default::default() }, None)
    }

    /// Renews subscription `subscription_id` now, as Stripe does at the end of a period: a paid
    /// invoice and its charge (`charge.succeeded`, `invoice.paid`, and
    /// `customer.subscription.updated` when it was `past_due`), or, when the payment fails, an
    /// open invoice (`invoice.payment_failed`) and the subscription `past_due`
    /// (`customer.subscription.updated`). Returns the invoice. Call it inside the simulator's
    /// Tokio runtime, or while it runs (the delivery runs there).
    pub fn renew(&self, subscription_id: &str, succeeds: bool) -> Result<Value, ApiError> {
        subscriptions::renew(&self.sim, subscription_id, succeeds)
    }

    /// The subscription `sub_…` as `GET /v1/subscriptions/{id}` returns it.
    pub fn subscription(&self, id: &str) -> Option<Value> {
        self.sim.store().subscriptions.get(id).cloned()
    }

    /// Every invoice of subscription `subscription_id`, oldest first.
    pub fn invoices(&self, subscription_id: &str) -> Vec<Value> {
        let store = self.sim.store();
        let mut invoices: Vec<Value> =
            store.invoices.values().filter(|i| i["subscription"] == subscription_id).cloned().collect();
        invoices.sort_by_key(|i| (i["created"].as_i64(), i["number"].as_str().map(str::to_owned)));
        invoices
    }

    /// Every Checkout Session created so far, in no particular order.
    pub fn checkout_sessions(&self) -> Vec<Value> {
        self.sim.store().sessions.values().cloned().collect()
    }

    /// The balance transaction `txn_…` as `GET /v1/balance_transactions/{id}` returns it.
    pub fn balance_transaction(&self, id: &str) -> Option<Value> {
        self.sim.store().balance_transactions.get(id).cloned()
    }

    /// The charge `payment_intent_or_charge` names (`ch_…`, or the `pi_…` it paid) as
    /// `GET /v1/charges/{id}` returns it.
    pub fn charge(&self, payment_intent_or_charge: &str) -> Option<Value> {
        let store = self.sim.store();
        charges::find(&store, payment_intent_or_charge).and_then(|id| store.charges.get(id)).cloned()
    }

    /// Every API request is answered this long after it was carried out (a transfer exists at
    /// once; its creator hears of it later), for tests of a slow Stripe: a worker still waiting,
    /// or killed while waiting. Zero (the default) answers at once.
    pub fn set_api_latency(&self, latency: Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.sim.api_latency_ms.store(ms, Ordering::Relaxed);
    }

    /// Shifts the simulator's clock by `seconds` (negative: into the past) from now on: every
    /// object and event made afterwards has its `created` (and a payout its `arrival_date`)
    /// that far from the real time, so a test can make yesterday's charges. Replaces the
    /// previous offset; 0 goes back to the real clock. Webhook signatures keep the real clock.
    pub fn set_clock_offset(&self, seconds: i64) {
        self.sim.clock_offset.store(seconds, Ordering::Relaxed);
    }

    /// The simulator's clock (Unix seconds): the real time plus the clock offset.
    pub fn now(&self) -> i64 {
        self.sim.now()
    }

    /// Refunds `amount` (none: all that is left) of the charge `payment_intent_or_charge` names
    /// (`ch_…`, or the `pi_…` it paid) as `POST /v1/refunds` does, with its errors: the refund,
    /// its balance transaction (`-amount`), the charge's `amount_refunded` and `refunded`; sends
    /// `charge.refunded` (the charge) then `refund.created`. Returns the `refund`. Call it inside
    /// the simulator's Tokio runtime, or while it runs (the delivery runs there).
    pub fn refund(&self, payment_intent_or_charge: &str, amount: Option<i64>) -> Result<Value, ApiError> {
        let request = refunds::Request { amount, ..Default::default() };
        refunds::refund(&self.sim, payment_intent_or_charge, request, None)
    }

    /// The donor's bank disputes the charge `payment_intent_or_charge` names, for its whole
    /// amount: a `dispute` (`needs_response`, reason `fraudulent`) whose balance transaction
    /// withdraws the amount and Stripe's dispute fee (1500 in the charge's currency). Sends
    /// `charge.dispute.created` then `charge.dispute.funds_withdrawn`. Returns the `dispute`.
    pub fn dispute(&self, payment_intent_or_charge: &str) -> Result<Value, ApiError> {
        disputes::open(&self.sim, payment_intent_or_charge)
    }

    /// Closes dispute `dispute_id`. Won: the amount comes back (a second balance transaction,
    /// `dispute_reversal`; Stripe keeps the fee), then `charge.dispute.funds_reinstated` and
    /// `charge.dispute.closed`; lost: `charge.dispute.closed` only. Returns the `dispute`.
    pub fn close_dispute(&self, dispute_id: &str, won: bool) -> Result<Value, ApiError> {
        disputes::close(&self.sim, dispute_id, won)
    }

    /// Stripe's automatic payout of the balance available in `currency` to the platform's bank
    /// account: the sum of `net` of every balance transaction in that currency no payout took
    /// yet (400 `balance_insufficient` unless it is positive). Sends `payout.created` (the
    /// payout `in_transit`) then `payout.paid`. Returns the payout, `paid`.
    pub fn pay_out(&self, currency: &str) -> Result<Value, ApiError> {
        payouts::pay_out(&self.sim, currency)
    }

    /// The bank returns payout `payout_id` (`failure_code`: `account_closed`, `no_account`, …):
    /// the payout `failed`, its amount back on the balance (a `payout_failure` balance
    /// transaction, which the next payout takes). Sends `payout.failed`. Returns the payout.
    pub fn fail_payout(&self, payout_id: &str, failure_code: &str) -> Result<Value, ApiError> {
        payouts::fail(&self.sim, payout_id, failure_code)
    }
}

/// An error in Stripe's shape: `{"error": {"type", "message", "param", "code"}}`, as the API
/// answers it and [`Simulator::reverse_transfer`] returns it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    code: Option<&'static str>,
    message: String,
    param: Option<String>,
}

impl ApiError {
    /// The HTTP status the API answers with (400, 404, …).
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }

    /// Stripe's error `type`: `invalid_request_error`, `api_error`, …
    pub fn error_type(&self) -> &str {
        self.kind
    }

    /// Stripe's error `code` (`resource_missing`, …), when there is one.
    pub fn code(&self) -> Option<&str> {
        self.code
    }

    /// The request parameter the error is about, when there is one.
    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The response body: `{"error": {…}}`.
    pub fn to_json(&self) -> Value {
        json!({ "error": {
            "type": self.kind,
            "code": self.code,
            "message": self.message,
            "param": self.param,
        } })
    }

    /// 400 `invalid_request_error` about one request parameter.
    fn invalid(param: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            code: Some("parameter_invalid"),
            message: message.into(),
            param: Some(param.to_owned()),
        }
    }

    fn missing(param: &str) -> ApiError {
        ApiError {
            code: Some("parameter_missing"),
            ..ApiError::invalid(param, format!("Missing required param: {param}."))
        }
    }

    /// 404 for an unknown id, worded as Stripe does (`No such price: 'price_…'`).
    fn no_such(object: &str, id: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            code: Some("resource_missing"),
            message: format!("No such {object}: '{id}'"),
            param: Some("id".into()),
        }
    }

    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, kind, code: None, message: message.into(), param: None }
    }

    /// 400 `invalid_request_error` without a code: the request is well-formed but cannot be done.
    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    /// 400 for an unknown id given in a parameter (`charge`, `starting_after`, …): Stripe answers
    /// 404 only for an id in the URL.
    fn no_such_param(object: &str, id: &str, param: &str) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, ..ApiError::no_such(object, id).with_param(param) }
    }

    fn with_param(self, param: &str) -> ApiError {
        ApiError { param: Some(param.to_owned()), ..self }
    }

    fn with_code(self, code: &'static str) -> ApiError {
        ApiError { code: Some(code), ..self }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.kind, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.to_json())).into_response()
    }
}

async fn unknown_url(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        format!("Unrecognized request URL ({}).", uri.path()),
    )
}

/// The value of one form field, by its full bracket key (`line_items[0][price]`).
fn form_value<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// `{prefix}[key]=value` fields as a JSON map, e.g. `metadata[zbor_campaign]=x`.
fn form_map(form: &[(String, String)], prefix: &str) -> Map<String, Value> {
    form.iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix(prefix)?.strip_prefix('[')?.strip_suffix(']')?;
            // a nested key (`metadata[a][b]`) is not metadata
            (!key.contains('[')).then(|| (key.to_owned(), Value::String(v.clone())))
        })
        .collect()
}

/// An optional integer form field; present but not an integer is an error.
fn form_int(form: &[(String, String)], key: &str) -> Result<Option<i64>, ApiError> {
    form_value(form, key)
        .map(|v| v.parse().map_err(|_| ApiError::invalid(key, format!("Invalid integer: {v}"))))
        .transpose()
}

/// A Stripe-looking id: `{prefix}_` and 24 random alphanumerics (`cs_test_…` for sessions).
fn new_id(prefix: &str) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}_{}", random.get(..24).unwrap_or(&random))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
