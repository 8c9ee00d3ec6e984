//! Beneficiaries: the people a campaign pays. Treasurers create, change, import and reveal them;
//! admins may list them. Every answer but [`reveal`]'s carries only the non-personal view
//! (method, masked account, duplicate flags, payee fingerprint).
//!
//! Personal values (name, contact, IBAN, BIC, Stripe account, note) never reach a log line, an
//! error message or an audit entry: audit details hold ids, method kinds, field *names* and
//! counts. Body errors are redacted too, since serde quotes the offending value (see
//! [`redacted`]).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use zbor_auth::UserId;
use zbor_payouts::beneficiaries::{
    self, Beneficiary, BeneficiaryId, BeneficiaryUpdate, NewBeneficiary, RevealedBeneficiary, Updated,
};
use zbor_payouts::import;
use zbor_vault::DataKey;

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath};
use super::openapi::{ErrorBody, ErrorDetail};
use super::payouts::{FreshCode, TREASURY, TREASURY_READ};
use super::{ApiError, AppState};
use axum::extract::DefaultBodyLimit;

/// This area's routes; `http::router` merges every area's.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(duplicates))
        .routes(routes!(import).layer(DefaultBodyLimit::max(IMPORT_BODY_BYTES_MAX)))
        .routes(routes!(confirm))
        .routes(routes!(unconfirmed))
        .routes(routes!(update))
        .routes(routes!(reveal))
}

/// The largest CSV body accepted by the import route: the importer's own limit.
pub const IMPORT_BODY_BYTES_MAX: usize = 16 * 1024 * 1024;
const _: () = assert!(import::IMPORT_BYTES_MAX == 16 * 1024 * 1024, "keep IMPORT_BODY_BYTES_MAX equal");

fn data_key(state: &AppState) -> Result<&DataKey, ApiError> {
    state.data_key.as_ref().ok_or(ApiError::PeopleNotConfigured)
}

async fn campaign_id(state: &AppState, slug: &str) -> Result<zbor_campaigns::CampaignId, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(zbor_campaigns::by_slug(&mut conn, slug).await?.id)
}

/// Adds a beneficiary; the answer is the non-personal view, and the same IBAN as another
/// beneficiary's is flagged in `duplicate_of`. The destination awaits a second treasurer.
#[utoipa::path(
    post,
    path = "/api/v1/campaigns/{slug}/beneficiaries",
    tag = "beneficiaries",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    request_body = NewBeneficiary,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = CREATED, description = "the beneficiary (nothing personal)", body = Beneficiary,
         links(
             ("update" = (operation_id = "beneficiaries_update", parameters(("id" = "$response.body#/id")))),
             ("reveal" = (operation_id = "beneficiaries_reveal", parameters(("id" = "$response.body#/id"))))
         )),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "a field is invalid (an IBAN's check digits, a BIC); never quoting the value", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(slug): ApiPath<String>,
    RedactedJson(new): RedactedJson<NewBeneficiary>,
) -> Result<(StatusCode, Json<Beneficiary>), ApiError> {
    caller.require(TREASURY)?;
    caller.user_id()?; // a person answers for it, not the bootstrap token
    let key = data_key(&state)?;
    let campaign = campaign_id(&state, &slug).await?;
    let mut db = state.pool.begin().await?;
    let beneficiary = beneficiaries::create_in(&mut db, key, campaign, &new, &caller.actor()).await?;
    db.commit().await?;
    Ok((StatusCode::CREATED, Json(beneficiary)))
}

#[derive(Serialize, ToSchema)]
pub struct Beneficiaries {
    pub beneficiaries: Vec<Beneficiary>,
}

/// The campaign's beneficiaries, oldest first, nothing personal.
#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{slug}/beneficiaries",
    tag = "beneficiaries",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = OK, description = "the beneficiaries", body = Beneficiaries),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<Beneficiaries>, ApiError> {
    caller.require(TREASURY_READ)?;
    // the list itself decrypts nothing, but the data it describes is only usable with the key,
    // and a server without it must not look as if it had no beneficiaries
    data_key(&state)?;
    let campaign = campaign_id(&state, &slug).await?;
    let beneficiaries = beneficiaries::list(&state.pool, campaign).await?;
    Ok(Json(Beneficiaries { beneficiaries }))
}

/// Changes any of name, contact, method, note: audited with the names of the fields sent and
/// whether the payout destination changed, never their values. A changed destination awaits a
/// second treasurer again.
#[utoipa::path(
    patch,
    path = "/api/v1/beneficiaries/{id}",
    tag = "beneficiaries",
    params(("id" = i64, Path, description = "the beneficiary's id")),
    request_body = BeneficiaryUpdate,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "the beneficiary, and whether the payee changed", body = Updated),
        (status = NOT_FOUND, description = "no such beneficiary", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "a field is invalid; never quoting the value", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<BeneficiaryId>,
    RedactedJson(change): RedactedJson<BeneficiaryUpdate>,
) -> Result<Json<Updated>, ApiError> {
    caller.require(TREASURY)?;
    let key = data_key(&state)?;
    if change.fields_given().is_empty() {
        return Err(ApiError::BadRequest("nothing to change: give name, contact, method or note".into()));
    }
    caller.user_id()?; // a person answers for it, not the bootstrap token
    let mut db = state.pool.begin().await?;
    let updated = beneficiaries::update_in(&mut db, key, id, &change, &caller.actor()).await?;
    db.commit().await?;
    Ok(Json(updated))
}

/// Destinations awaiting a second treasurer, and who is asking (one may not confirm one's own).
#[derive(Serialize, ToSchema)]
pub struct Unconfirmed {
    pub beneficiaries: Vec<Beneficiary>,
    pub me: UserId,
}

/// Every campaign's beneficiaries whose new or changed destination awaits a second treasurer
/// (masked, with who set it), oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/beneficiaries/unconfirmed",
    tag = "beneficiaries",
    security(("bearer" = []), ("session" = [])),
    responses((status = OK, description = "the beneficiaries awaiting confirmation", body = Unconfirmed)),
)]
pub async fn unconfirmed(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Unconfirmed>, ApiError> {
    caller.require(TREASURY)?;
    data_key(&state)?;
    let waiting = beneficiaries::unconfirmed(&state.pool, 1_000).await?;
    Ok(Json(Unconfirmed { beneficiaries: waiting, me: caller.user_id()? }))
}

#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirmations {
    /// Each beneficiary with the `payee_fingerprint` the confirmer was shown.
    beneficiaries: Vec<beneficiaries::Confirmation>,
    /// A fresh code from the confirmer's authenticator app.
    totp: String,
}

#[derive(Serialize, ToSchema)]
pub struct DestinationsConfirmed {
    pub confirmed: Vec<BeneficiaryId>,
}

/// A second treasurer confirms new or changed destinations (not their own), all or nothing, with
/// a fresh one-time code; only then can those beneficiaries be put in a batch. Each carries the
/// `payee_fingerprint` the confirmer was shown, so a destination changed meanwhile is refused.
/// Audited in the same transaction, one entry per beneficiary confirmed.
#[utoipa::path(
    post,
    path = "/api/v1/beneficiaries/confirmations",
    tag = "beneficiaries",
    request_body = Confirmations,
    security(("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "confirmed", body = DestinationsConfirmed),
        (status = NOT_FOUND, description = "no such beneficiary", body = ErrorBody),
        (status = CONFLICT, description = "one's own destination, or it changed since it was shown", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "wrong code", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "too many wrong codes or passwords: the account is locked for 15 minutes (`account_locked`)", body = ErrorBody),
    )
)]
pub async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Confirmations>,
) -> Result<Json<DestinationsConfirmed>, ApiError> {
    caller.require(TREASURY)?;
    let user = caller.user_id()?;
    super::payouts::second_factor(&state, user, &body.totp).await?;
    let mut db = state.pool.begin().await?;
    let confirmed = beneficiaries::confirm_in(&mut db, &body.beneficiaries, &caller.actor()).await?;
    db.commit().await?;
    Ok(Json(DestinationsConfirmed { confirmed }))
}

/// The decrypted personal data, for treasurers only, with a fresh one-time code (a stolen session
/// cookie alone reveals nobody; wrong codes count towards the account's lock). The audit entry is
/// written before the response exists; if it cannot be written, the decrypted data is dropped and
/// the caller gets a 500.
#[utoipa::path(
    post,
    path = "/api/v1/beneficiaries/{id}/reveal",
    tag = "beneficiaries",
    params(("id" = i64, Path, description = "the beneficiary's id")),
    request_body = FreshCode,
    security(("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "the personal data, never cached", body = RevealedBeneficiary),
        (status = NOT_FOUND, description = "no such beneficiary", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "wrong code", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "too many wrong codes or passwords: the account is locked for 15 minutes (`account_locked`)", body = ErrorBody),
    )
)]
pub async fn reveal(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<BeneficiaryId>,
    ApiJson(code): ApiJson<FreshCode>,
) -> Result<Response, ApiError> {
    caller.require(TREASURY)?;
    let key = data_key(&state)?;
    // an unknown id costs no code
    beneficiaries::get(&state.pool, id).await?;
    let user = caller.user_id()?;
    super::payouts::second_factor(&state, user, &code.totp).await?;
    let revealed = beneficiaries::reveal(&state.pool, key, id, &caller.actor()).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(revealed)).into_response())
}

/// An import refused for its rows: every bad row's line and problem, never a value.
#[derive(Serialize, ToSchema)]
pub struct ImportRefused {
    /// `invalid_rows`.
    pub error: ErrorDetail,
    /// 0: nothing was imported.
    pub created: usize,
    pub errors: Vec<import::RowError>,
}

/// An import's 422: its rows ([`ImportRefused`]) or the file as a whole ([`ErrorBody`]).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // describes the two answers; each is built as its own type
pub enum ImportError {
    Rows(ImportRefused),
    File(ErrorBody),
}

/// Imports beneficiaries from a CSV file (columns `name,contact,iban,bic,stripe_account,note`;
/// `,` or `;`), all or nothing. Every destination awaits a second treasurer.
#[utoipa::path(
    post,
    path = "/api/v1/campaigns/{slug}/beneficiaries/import",
    tag = "beneficiaries",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    request_body(content = String, content_type = "text/csv", description = "the file, at most 16 MiB and 20,000 rows"),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "every row imported", body = import::ImportReport),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
        (status = PAYLOAD_TOO_LARGE, description = "larger than 16 MiB", body = ErrorBody),
        (status = UNSUPPORTED_MEDIA_TYPE, description = "not sent as text/csv", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "bad rows (nothing imported: `invalid_rows` with every row's problem), or not this CSV at all (`invalid_request`)", body = ImportError),
    )
)]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(slug): ApiPath<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(TREASURY)?;
    let key = data_key(&state)?;
    if !is_csv(&headers) {
        return Ok(error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the file as the body with Content-Type: text/csv",
        ));
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(ApiError::TooLarge("16 MiB: split the file"));
        }
        Err(rejection) => return Err(ApiError::BadRequest(rejection.body_text())),
    };
    let campaign = campaign_id(&state, &slug).await?;
    caller.user_id()?; // a person answers for it, not the bootstrap token
    let mut db = state.pool.begin().await?;
    let report = import::import_csv_in(&mut db, key, campaign, &body[..], &caller.actor(), |_, _| {}).await?;
    if !report.errors.is_empty() {
        let message = format!("{} row(s) are invalid; nothing was imported", report.errors.len());
        let refused = ImportRefused {
            error: ErrorDetail { code: "invalid_rows".into(), message },
            created: report.created,
            errors: report.errors,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(refused)).into_response());
    }
    db.commit().await?;
    Ok(Json(report).into_response())
}

/// Beneficiaries (in any campaign) sharing one IBAN.
#[derive(Serialize, ToSchema)]
pub struct DuplicateGroup {
    pub masked_iban: String,
    pub beneficiaries: Vec<BeneficiaryId>,
}

#[derive(Serialize, ToSchema)]
pub struct Duplicates {
    pub groups: Vec<DuplicateGroup>,
}

/// The groups of beneficiaries (ids, in any campaign) sharing an IBAN with one of this
/// campaign's.
#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{slug}/beneficiaries/duplicates",
    tag = "beneficiaries",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = OK, description = "the groups", body = Duplicates),
        (status = NOT_FOUND, description = "no such campaign", body = ErrorBody),
    )
)]
pub async fn duplicates(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(slug): ApiPath<String>,
) -> Result<Json<Duplicates>, ApiError> {
    caller.require(TREASURY)?;
    data_key(&state)?;
    let campaign = campaign_id(&state, &slug).await?;
    let groups = beneficiaries::duplicates(&state.pool, Some(campaign))
        .await?
        .into_iter()
        .map(|group| DuplicateGroup {
            masked_iban: group.masked_iban,
            beneficiaries: group.beneficiaries.iter().map(|b| b.id).collect(),
        })
        .collect();
    Ok(Json(Duplicates { groups }))
}

fn is_csv(headers: &HeaderMap) -> bool {
    super::extract::content_type_is(headers, &["text/csv"])
}

/// The API's error envelope for the cases [`ApiError`] has no variant for.
fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(ErrorBody::new(code, message))).into_response()
}

/// A JSON body whose errors never repeat what was sent: serde's messages quote the offending
/// value (`invalid type: string "DE89…", expected struct MethodFields`), which here may be an
/// IBAN or a name. Field and method names stay, so the message still says what is wrong.
pub struct RedactedJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for RedactedJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| mime.trim().to_ascii_lowercase())
            .is_some_and(|mime| mime == "application/json" || mime.ends_with("+json"));
        if !is_json {
            return Err(ApiError::BadRequest("expected Content-Type: application/json".into()));
        }
        let body = Bytes::from_request(req, state).await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        serde_json::from_slice(&body)
            .map(RedactedJson)
            .map_err(|e| ApiError::BadRequest(redacted(&e.to_string())))
    }
}

/// Names serde may quote that are ours, not the caller's data.
const KNOWN_NAMES: &[&str] = &[
    "name",
    "contact",
    "method",
    "note",
    "kind",
    "iban",
    "bic",
    "account",
    "sepa",
    "stripe_connect",
    "manual",
];

/// `text` with every double-quoted string replaced by `"…"` and every backquoted word that is not
/// one of [`KNOWN_NAMES`] by `` `…` ``.
fn redacted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut escaped = false;
                for inner in chars.by_ref() {
                    match (escaped, inner) {
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        _ => escaped = false,
                    }
                }
                out.push_str("\"…\"");
            }
            '`' => {
                let word: String = chars.by_ref().take_while(|&inner| inner != '`').collect();
                if KNOWN_NAMES.contains(&word.as_str()) {
                    out.push('`');
                    out.push_str(&word);
                    out.push('`');
                } else {
                    out.push_str("`…`");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn body_errors_name_fields_but_not_values() {
        let err =
            serde_json::from_str::<NewBeneficiary>(r#"{"name": "A", "method": "DE89370400440532013000"}"#)
                .map(|_| ())
                .unwrap_err()
                .to_string();
        assert!(err.contains("DE89370400440532013000"), "serde quotes the value: {err}");
        let clean = redacted(&err);
        assert!(!clean.contains("DE89") && clean.contains("invalid type"), "{clean}");

        let err = serde_json::from_str::<NewBeneficiary>(
            r#"{"name": "A", "Ales Secret": 1, "method": {"kind": "manual"}}"#,
        )
        .map(|_| ())
        .unwrap_err()
        .to_string();
        let clean = redacted(&err);
        assert!(!clean.contains("Ales Secret") && clean.contains("`name`"), "{clean}");
        assert_eq!(redacted(r#"a "x\"y" b `sepa` `q`"#), r#"a "…" b `sepa` `…`"#);
    }
}
