//! What every `/v1/*` request goes through before its handler, in Stripe's order: the API key,
//! injected faults (429, 500), then the `Idempotency-Key` (POST only; Stripe ignores it on GET).

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::{ApiError, ApiRequest, Sim};

/// How many API requests [`crate::Simulator::api_requests`] remembers, the latest.
const API_REQUESTS_KEPT: usize = 10_000;

/// Larger request bodies are refused; Stripe's own requests are a few kilobytes.
const BODY_MAX: usize = 1 << 20;

/// What the simulator remembers about one idempotency key.
pub(crate) enum Idempotent {
    /// A request under this key is still executing.
    InFlight { fingerprint: String },
    /// The key's first successful response, replayed for the same request.
    Done { fingerprint: String, status: StatusCode, body: Bytes },
}

/// The middleware in front of every `/v1/*` route. The answer leaves after the simulator's API
/// latency ([`crate::Simulator::set_api_latency`]), what was asked being done already: a slow
/// Stripe, or a slow network back from it.
pub(crate) async fn guard(State(sim): State<Arc<Sim>>, request: Request, next: Next) -> Response {
    let latency_ms = sim.api_latency_ms.load(Ordering::Relaxed);
    let response = answer(&sim, request, next).await;
    if latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency_ms)).await;
    }
    response
}

async fn answer(sim: &Arc<Sim>, request: Request, next: Next) -> Response {
    if !authorized(&sim.config.api_key, request.headers()) {
        return ApiError::new(StatusCode::UNAUTHORIZED, "invalid_request_error", "Invalid API Key provided")
            .into_response();
    }
    sim.log_request(&request);
    if let Some(fault) = injected_fault(sim) {
        return fault;
    }
    let key = request.headers().get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let Some(key) = key.filter(|_| request.method() == Method::POST) else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, BODY_MAX).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request_error", "Request too large")
            .into_response();
    };
    let fingerprint = fingerprint(&parts.method, parts.uri.path(), &body);
    let claim = match Claim::begin(sim, key, fingerprint) {
        Begin::Execute(claim) => claim,
        Begin::Answer(answer) => return answer,
    };
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    claim.finish(response).await
}

impl Sim {
    /// Remembers an authenticated API request for [`crate::Simulator::api_requests`], the last
    /// [`API_REQUESTS_KEPT`] only (`zbor dev` runs for days).
    fn log_request(&self, request: &Request) {
        let query =
            request.uri().query().and_then(|q| serde_urlencoded::from_str(q).ok()).unwrap_or_default();
        let logged =
            ApiRequest { method: request.method().to_string(), path: request.uri().path().to_owned(), query };
        let mut log = self.api_requests_log.lock().unwrap_or_else(PoisonError::into_inner);
        if log.len() >= API_REQUESTS_KEPT {
            log.pop_front();
        }
        log.push_back(logged);
    }
}

/// Stripe takes the secret key as a bearer token or as the Basic-auth user name (`curl -u sk_…:`).
fn authorized(api_key: &str, headers: &HeaderMap) -> bool {
    use base64::Engine as _;
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else { return false };
    if let Some(key) = value.strip_prefix("Bearer ") {
        return key == api_key;
    }
    value
        .strip_prefix("Basic ")
        .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .is_some_and(|user_password| user_password.split(':').next() == Some(api_key))
}

/// Every Nth authenticated API request fails as configured, GETs included. The request is not
/// executed and nothing is stored under its idempotency key, so a retry executes it.
fn injected_fault(sim: &Sim) -> Option<Response> {
    let n = sim.api_requests.fetch_add(1, Ordering::Relaxed) + 1;
    let every = |every: u64| every > 0 && n.is_multiple_of(every);
    if every(sim.config.rate_limit_every) {
        let error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", "Too many requests");
        return Some(error.into_response());
    }
    if every(sim.config.server_error_every) {
        let error = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "An unknown error occurred (injected by the simulator)",
        );
        // async-stripe reads this header to decide whether to retry, as Stripe's libraries do.
        return Some(([("stripe-should-retry", "true")], error).into_response());
    }
    None
}

/// The same key with the same request (method, path, form fields in any order) replays the
/// first response; with a different request it is an error.
fn fingerprint(method: &Method, path: &str, body: &[u8]) -> String {
    let request = match serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        Ok(mut fields) => {
            fields.sort();
            format!("{fields:?}")
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let digest = Sha256::digest(format!("{method} {path} {request}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

enum Begin<'a> {
    Execute(Claim<'a>),
    Answer(Response),
}

/// A request executing under an idempotency key. Dropped unfinished (the client went away
/// mid-request), it frees the key, or every retry under it would get 409 for ever.
struct Claim<'a> {
    sim: &'a Sim,
    key: String,
    fingerprint: String,
    finished: bool,
}

impl<'a> Claim<'a> {
    /// Claims the key for this request, or answers for it: a replay, a mismatch (400) or, while
    /// the first request under the key is still executing, a conflict (409) as Stripe does.
    fn begin(sim: &'a Sim, key: String, fingerprint: String) -> Begin<'a> {
        let mut store = sim.store();
        let (stored_fingerprint, done) = match store.idempotency.get(&key) {
            None => {
                let in_flight = Idempotent::InFlight { fingerprint: fingerprint.clone() };
                store.idempotency.insert(key.clone(), in_flight);
                return Begin::Execute(Claim { sim, key, fingerprint, finished: false });
            }
            Some(Idempotent::InFlight { fingerprint }) => (fingerprint, None),
            Some(Idempotent::Done { fingerprint, status, body }) => {
                (fingerprint, Some((*status, body.clone())))
            }
        };
        if *stored_fingerprint != fingerprint {
            return Begin::Answer(ApiError::new(
                StatusCode::BAD_REQUEST,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters they were first used with",
            )
            .into_response());
        }
        Begin::Answer(match done {
            Some((status, body)) => {
                let headers = [("content-type", "application/json"), ("idempotent-replayed", "true")];
                (status, headers, body).into_response()
            }
            None => ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_error",
                "There is currently another in-progress request using this Idempotent Key. Please try again later.",
            )
            .into_response(),
        })
    }

    /// Stores a successful response under the key. Stripe saves no result when a request failed
    /// validation, so after an error the key is free again for a corrected request.
    async fn finish(mut self, response: Response) -> Response {
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        let mut store = self.sim.store();
        if parts.status.is_success() {
            let fingerprint = std::mem::take(&mut self.fingerprint);
            let done = Idempotent::Done { fingerprint, status: parts.status, body: body.clone() };
            store.idempotency.insert(self.key.clone(), done);
        } else {
            store.idempotency.remove(&self.key);
        }
        self.finished = true;
        Response::from_parts(parts, Body::from(body))
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.sim.store().idempotency.remove(&self.key);
        }
    }
}
