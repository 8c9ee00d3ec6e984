//! zbor's own calls to Stripe.
//!
//! Every call goes through [`Stripe::send`]: a rate limiter keeps zbor under Stripe's limit
//! (about 100 requests/s live, 25 in test mode), and a 429, 5xx, timeout or dropped connection is
//! retried with exponential backoff and jitter under the *same* `Idempotency-Key`, so a retry of
//! a call that did reach Stripe replays Stripe's first answer instead of creating a second object.
//!
//! async-stripe's own retry strategies send no key unless its `uuid` feature is on, and then a
//! fresh one per call; zbor wants keys it chooses (derived from its own ids where a call must
//! happen once, like a payment link per campaign), so it retries around
//! `RequestStrategy::Idempotent` itself.

pub mod billing;
pub mod events;
mod limiter;
pub mod signature;

use std::time::Duration;

use stripe::{IdempotencyKey, RequestStrategy, StripeError, StripeRequest};

pub use limiter::{Busy, Limiter};

/// Stripe's production API. Tests and `zbor dev` point [`StripeConfig::api_base`] at the simulator.
pub const STRIPE_API_BASE: &str = "https://api.stripe.com/";

#[derive(Clone, Debug)]
pub struct StripeConfig {
    pub secret_key: String,
    /// Where the API is, e.g. `https://api.stripe.com/`; zbor appends `v1/...`.
    pub api_base: String,
    /// Requests per second this process sends at most (Stripe allows ~100 live, 25 in test mode).
    pub requests_per_second: u32,
    /// How long a caller may wait for a turn before [`Error::Busy`]; a donor should not wait
    /// behind a queue of thousands.
    pub queue_wait_max: Duration,
    /// Attempts per call, the first included.
    pub attempts_max: u32,
    /// First retry delay; doubles each attempt, with up to 50% jitter.
    pub backoff_first: Duration,
    /// Per-attempt timeout.
    pub timeout: Duration,
}

impl StripeConfig {
    pub fn new(secret_key: impl Into<String>, api_base: impl Into<String>) -> StripeConfig {
        StripeConfig {
            secret_key: secret_key.into(),
            api_base: api_base.into(),
            requests_per_second: 25,
            queue_wait_max: Duration::from_secs(5),
            attempts_max: 5,
            backoff_first: Duration::from_millis(250),
            timeout: Duration::from_secs(20),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Stripe refused the request (HTTP {status}, {kind}): {message}")]
    Refused { status: u16, kind: String, code: Option<String>, param: Option<String>, message: String },
    #[error("Stripe did not succeed after {attempts} attempts: {last}")]
    Unavailable { attempts: u32, last: String },
    #[error("too many Stripe calls queued: try again in a few seconds")]
    Busy,
    #[error("Stripe client configuration: {0}")]
    Config(String),
    #[error("webhook signature: {0}")]
    Signature(#[from] signature::SignatureError),
    #[error("malformed Stripe event: {0}")]
    MalformedEvent(String),
    /// A domain's event handler failed; its error keeps its own kind and code.
    #[error("{0}")]
    Handler(zbor_errors::BoxedError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The group commit's committers have stopped (the server is shutting down): Stripe retries.
    #[error("the event store is shutting down: try again")]
    Stopping,
}

impl zbor_errors::Classified for Error {
    fn kind(&self) -> zbor_errors::ErrorKind {
        use zbor_errors::ErrorKind as K;
        match self {
            Error::Refused { .. } | Error::Unavailable { .. } => K::Upstream,
            // Our own queue for Stripe is full: the caller can retry in a moment.
            Error::Config(_) => K::Upstream,
            Error::Busy | Error::Stopping => K::Unavailable,
            Error::Signature(_) | Error::MalformedEvent(_) => K::Malformed,
            Error::Handler(e) => e.kind(),
            Error::Database(_) => K::Internal,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Error::Refused { .. } | Error::Unavailable { .. } | Error::Config(_) => "stripe_unavailable",
            Error::Busy => "stripe_busy",
            Error::Signature(_) => "invalid_signature",
            Error::MalformedEvent(_) => "malformed_event",
            Error::Handler(e) => e.code(),
            Error::Database(_) => "internal",
            Error::Stopping => "shutting_down",
        }
    }
}

impl From<Busy> for Error {
    fn from(_: Busy) -> Error {
        Error::Busy
    }
}

/// A handle to Stripe; clone it freely (the limiter is shared).
#[derive(Clone)]
pub struct Stripe {
    client: stripe::Client,
    limiter: Limiter,
    config: StripeConfig,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the secret key
        f.debug_struct("Stripe").field("api_base", &self.config.api_base).finish_non_exhaustive()
    }
}

impl Stripe {
    pub fn new(config: StripeConfig) -> Result<Stripe, Error> {
        if !config.secret_key.starts_with("sk_") && !config.secret_key.starts_with("rk_") {
            return Err(Error::Config("the secret key must start with sk_ or rk_".into()));
        }
        if config.requests_per_second == 0 || config.attempts_max == 0 {
            return Err(Error::Config("requests per second and attempts must be positive".into()));
        }
        let mut api_base = config.api_base.clone();
        if !api_base.ends_with('/') {
            api_base.push('/');
        }
        let client = stripe::ClientBuilder::new(config.secret_key.clone())
            .url(api_base)
            .timeout(config.timeout)
            .app_info("zbor", Some(env!("CARGO_PKG_VERSION").to_owned()), None)
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let limiter = Limiter::new(config.requests_per_second, config.queue_wait_max);
        Ok(Stripe { client, limiter, config })
    }

    /// The most requests per second this client starts (its limiter's rate).
    pub fn requests_per_second(&self) -> u32 {
        self.config.requests_per_second
    }

    /// Sends a request that creates or changes something, under `idempotency_key`, retrying
    /// transient failures with the same key. Choose a key derived from zbor's own ids when the
    /// effect must happen once however often the caller itself is retried.
    pub async fn send<R>(&self, request: &R, idempotency_key: &str) -> Result<R::Output, Error>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        let key = IdempotencyKey::new(idempotency_key).map_err(|e| Error::Config(e.to_string()))?;
        self.send_with(request, Some(key)).await
    }

    /// Sends a read (GET); reads are safe to repeat and Stripe wants no key on them.
    pub async fn read<R>(&self, request: &R) -> Result<R::Output, Error>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        self.send_with(request, None).await
    }

    /// Sends a DELETE, which Stripe treats as idempotent by definition (a key has no effect),
    /// retrying transient failures as [`Stripe::send`] does.
    pub async fn delete<R>(&self, request: &R) -> Result<R::Output, Error>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        self.send_with(request, None).await
    }

    async fn send_with<R>(&self, request: &R, key: Option<IdempotencyKey>) -> Result<R::Output, Error>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        let strategy = match key {
            Some(key) => RequestStrategy::Idempotent(key),
            None => RequestStrategy::Once,
        };
        let mut delay = self.config.backoff_first;
        let mut attempt = 1;
        loop {
            let waited = std::time::Instant::now();
            self.limiter.acquire().await?;
            metrics::histogram!("zbor_stripe_limiter_wait_seconds").record(waited.elapsed());
            let result = request.customize().request_strategy(strategy.clone()).send(&self.client).await;
            metrics::counter!("zbor_stripe_requests_total", "status" => status_class(&result)).increment(1);
            let error = match result {
                Ok(output) => return Ok(output),
                Err(error) => error,
            };
            if !is_transient(&error) {
                return Err(refused(error));
            }
            if attempt >= self.config.attempts_max {
                return Err(Error::Unavailable { attempts: attempt, last: summary(&error) });
            }
            tracing::warn!(attempt, error = %summary(&error), "Stripe call failed, retrying under the same idempotency key");
            tokio::time::sleep(with_jitter(delay)).await;
            delay = delay.saturating_mul(2);
            attempt += 1;
        }
    }
}

/// A call's answer for the `zbor_stripe_requests_total` counter: the status class, Stripe's
/// rate limit on its own, or `network` when no answer came.
fn status_class<T>(result: &Result<T, StripeError>) -> &'static str {
    match result {
        Ok(_) => "2xx",
        Err(StripeError::Stripe(_, 429)) => "429",
        Err(StripeError::Stripe(_, 500..)) => "5xx",
        Err(StripeError::Stripe(..)) => "4xx",
        // an answer that did not parse still came from Stripe with a 2xx
        Err(StripeError::JSONDeserialize(_)) => "2xx",
        Err(StripeError::ClientError(_) | StripeError::Timeout | StripeError::ConfigError(_)) => "network",
    }
}

/// Worth retrying: Stripe's documented transient statuses (409 is a concurrent request under the
/// same key), and no answer at all. Stripe's `Stripe-Should-Retry` header is not exposed by
/// async-stripe's error, so the status decides.
fn is_transient(error: &StripeError) -> bool {
    match error {
        StripeError::Stripe(_, status) => matches!(status, 409 | 429 | 500..=599),
        StripeError::ClientError(_) | StripeError::Timeout => true,
        StripeError::JSONDeserialize(_) | StripeError::ConfigError(_) => false,
    }
}

fn refused(error: StripeError) -> Error {
    match error {
        StripeError::Stripe(api, status) => Error::Refused {
            status,
            kind: api.type_.as_str().to_owned(),
            code: api.code.as_ref().map(|c| c.as_str().to_owned()),
            param: api.param.clone(),
            message: api.message.clone().unwrap_or_default(),
        },
        other => Error::Unavailable { attempts: 1, last: summary(&other) },
    }
}

/// One line about an error without request details (no personal data, no keys). Stripe's
/// message is left out on purpose: it can quote what was sent (an account id, an email); its
/// type and code say what happened.
fn summary(error: &StripeError) -> String {
    match error {
        StripeError::Stripe(api, status) => format!(
            "HTTP {status} {} {}",
            api.type_.as_str(),
            api.code.as_ref().map_or("no_code", |c| c.as_str())
        ),
        // serde's message may quote a value from the body
        StripeError::JSONDeserialize(_) => "unreadable response".to_owned(),
        StripeError::ClientError(e) => format!("connection: {e}"),
        StripeError::ConfigError(e) => format!("configuration: {e}"),
        StripeError::Timeout => "timeout".to_owned(),
    }
}

/// `delay` plus up to half of it again, so many callers retrying together spread out.
pub fn with_jitter(delay: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let half_ms = u64::try_from(delay.as_millis() / 2).unwrap_or(u64::MAX).max(1);
    delay + Duration::from_millis(random % half_ms)
}

/// A fresh random key for a call that has no natural id of its own (one donor's checkout).
pub fn random_idempotency_key(prefix: &str) -> String {
    format!("{prefix}:{}", uuid::Uuid::new_v4())
}
