//! The API's OpenAPI 3.1 document, derived from the code: every handler is registered with
//! utoipa-axum's `routes!`, which takes its path and method from the handler's
//! `#[utoipa::path]`, so a route and its description are one declaration and cannot drift
//! apart. The request and response schemas are the types the handlers take and return.
//!
//! What each operation's annotation leaves out, [`StandardErrors`] adds in one place: the error
//! envelope for malformed input (400), missing or insufficient credentials (401, 403) and the
//! server's own failures (500, 503).

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use super::auth::{CSRF_HEADER, SESSION_COOKIE};

/// Every failure's body: a stable machine-readable `code` and a human sentence that never repeats
/// personal data from the request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>) -> ErrorBody {
        ErrorBody { error: ErrorDetail { code: code.to_owned(), message: message.into() } }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// e.g. `invalid_json`, `unauthorized`, `forbidden`, `four_eyes`, `not_found`, `conflict`,
    /// `insufficient_funds`, `rate_limited`, `internal`.
    #[schema(example = "not_found")]
    pub code: String,
    #[schema(example = "campaign release-123 not found")]
    pub message: String,
}

/// Names of the security schemes, as the handlers' `security(...)` attributes spell them.
pub const BEARER: &str = "bearer";
pub const SESSION: &str = "session";
pub const CSRF: &str = "csrf";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "zbor",
        description = "Rapid-response fundraising and payouts: donations through Stripe Checkout, \
                       a double-entry ledger, live totals, and payouts released only by two \
                       treasurers. Amounts are decimal strings at the currency's scale, never JSON \
                       numbers. Staff authenticate with a bearer API token (`zbor_…`) or the console's \
                       session cookie; with the cookie, every change (any method but GET) carries the \
                       session's CSRF token in `X-CSRF-Token`.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    modifiers(&SecuritySchemes),
    components(schemas(ErrorBody)),
    tags(
        (name = "campaigns", description = "campaigns, their totals and live figures"),
        (name = "donors", description = "donation pages and Stripe Checkout"),
        (name = "people", description = "sessions, tokens, users and roles"),
        (name = "beneficiaries", description = "who is paid, and where"),
        (name = "payouts", description = "batches, approvals, payouts, SEPA files, the pause switch"),
        (name = "ledger", description = "accounts, balances and the ledger's verification"),
        (name = "reconciliation", description = "the ledger against Stripe's balance, and the bank's statements confirming SEPA payouts"),
        (name = "stripe", description = "Stripe's webhook events"),
        (name = "health", description = "probes for load balancers and orchestrators"),
    )
)]
pub struct ApiDoc;

/// The schemes the operations' `security(...)` name.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "an API token `zbor_…` (or, before any admin has a second factor, ZBOR_ADMIN_TOKEN)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "the console's session (`__Host-zbor_session` over https), from POST /api/v1/session",
            ))),
        );
        components.add_security_scheme(
            CSRF,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                CSRF_HEADER,
                "the session's CSRF token (from POST /api/v1/session or GET /api/v1/me), on every change",
            ))),
        );
    }
}

/// Adds the answers every operation can give, unless its annotation already says more. Applied
/// to the merged document in [`document`] (an `#[openapi(modifiers)]` runs before the areas'
/// operations are merged in).
struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, document: &mut Document) {
        for operation in operations(document) {
            let takes_input = operation.request_body.is_some()
                || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let mut add = |status: &str, description: &str| {
                operation.responses.responses.entry(status.to_owned()).or_insert_with(|| error(description));
            };
            if takes_input {
                add("400", "malformed: the body, a path parameter or the query string (`invalid_json`, `invalid_path`, `invalid_query`)");
            }
            if secured {
                add("401", "no credentials, or ones that are unknown, expired or revoked (`unauthorized`)");
                add(
                    "403",
                    "the caller's role may not do this, or four eyes forbid it (`forbidden`, `four_eyes`)",
                );
            }
            add("500", "the server failed; the cause is logged, never sent (`internal`)");
            add("503", "a dependency is unavailable; try again after `Retry-After`");
        }
    }
}

/// Makes every `operationId` unique: `{tag}_{handler}` (`campaigns_create`, `payouts_create`),
/// since each area names its handlers `create`, `show`, ... Links between operations name these.
struct OperationIds;

impl Modify for OperationIds {
    fn modify(&self, document: &mut Document) {
        for operation in operations(document) {
            let tag = operation.tags.as_ref().and_then(|tags| tags.first()).cloned().unwrap_or_default();
            if let Some(id) = &mut operation.operation_id {
                *id = format!("{tag}_{id}");
            }
        }
    }
}

/// Every operation of the document, whatever its method.
fn operations(document: &mut Document) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    document.paths.paths.values_mut().flat_map(|item| {
        [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete]
            .into_iter()
            .flatten()
    })
}

fn error(description: &str) -> RefOr<utoipa::openapi::Response> {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
    RefOr::T(ResponseBuilder::new().description(description).content("application/json", content).build())
}

/// The document, built once from the router's registrations.
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut document = super::api_router().into_openapi();
        // After the merge: the areas' operations exist only now.
        StandardErrors.modify(&mut document);
        OperationIds.modify(&mut document);
        // Serialising a tree of strings and maps cannot fail; an empty document would show it.
        serde_json::to_string(&document).unwrap_or_default()
    })
}

/// `GET /api/v1/openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "health",
    responses((status = OK, description = "the OpenAPI 3.1 document of this API", content_type = "application/json", body = Object))
)]
pub async fn serve() -> axum::response::Response {
    ([(header::CONTENT_TYPE, "application/json")], document()).into_response()
}
