//! Payout batches: treasurers create them and approve them with four eyes. An approval carries
//! the content hash the treasurer reviewed and a fresh one-time code: the second factor is asked
//! again for every approval, not only at login.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zbor_auth::{Role, UserId};
use zbor_payouts::batches::{self, Batch, BatchSummary, NewItem, Refusal};
use zbor_payouts::{sepa_files, switch, treasury, BatchId, PayoutId, SepaFileId};

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::openapi::ErrorBody;
use super::{ApiError, AppState};

/// This area's routes; `http::router` merges every area's.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(show))
        .routes(routes!(approve))
        .routes(routes!(list))
        .routes(routes!(cancel_batch))
        .routes(routes!(switch_state))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(show_payout))
        .routes(routes!(mark_paid))
        .routes(routes!(mark_returned))
        .routes(routes!(retry))
        .routes(routes!(cancel))
        .routes(routes!(create_sepa_file))
        .routes(routes!(show_sepa_file))
        .routes(routes!(download_sepa_file))
        .routes(routes!(confirm_sepa_file))
}

/// Who works with payout batches.
pub const TREASURY: &[Role] = &[Role::Treasurer];
/// Who may look at them.
pub const TREASURY_READ: &[Role] = &[Role::Treasurer, Role::Admin];

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBatch {
    items: Vec<NewItem>,
}

/// A treasurer proposes a batch of payouts from the campaign's funds; it waits for the approvals
/// the campaign requires, none of them its creator's.
#[utoipa::path(
    post,
    path = "/api/v1/campaigns/{slug}/payout-batches",
    tag = "payouts",
    params(("slug" = String, Path, description = "the campaign's URL name", example = "release-123")),
    request_body = NewBatch,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = CREATED, description = "the batch, awaiting approvals", body = Batch,
         links(
             ("show" = (operation_id = "payouts_show", parameters(("id" = "$response.body#/id")))),
             ("approve" = (operation_id = "payouts_approve", parameters(("id" = "$response.body#/id")))),
             ("cancel" = (operation_id = "payouts_cancel_batch", parameters(("id" = "$response.body#/id"))))
         )),
        (status = NOT_FOUND, description = "no such campaign or beneficiary", body = ErrorBody),
        (status = CONFLICT, description = "a beneficiary's destination is not confirmed, or is in another batch", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "an amount or the item list is invalid", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(new): ApiJson<NewBatch>,
) -> Result<(StatusCode, Json<Batch>), ApiError> {
    caller.require(TREASURY)?;
    caller.user_id()?; // a person answers for it, not the bootstrap token
    let campaign = {
        let mut conn = state.pool.acquire().await?;
        zbor_campaigns::by_slug(&mut conn, &slug).await?
    };
    let mut db = state.pool.begin().await?;
    let id = batches::create_in(&mut db, campaign.id, &caller.actor(), &new.items).await?;
    db.commit().await?;
    Ok((StatusCode::CREATED, Json(batches::batch(&state.pool, id).await?)))
}

/// The batch, its approvals and every item's state.
#[utoipa::path(
    get,
    path = "/api/v1/payout-batches/{id}",
    tag = "payouts",
    params(("id" = i64, Path, description = "the batch's id")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = OK, description = "the batch", body = Batch),
        (status = NOT_FOUND, description = "no such batch", body = ErrorBody),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<BatchId>,
) -> Result<Json<Batch>, ApiError> {
    caller.require(TREASURY_READ)?;
    Ok(Json(batches::batch(&state.pool, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The content hash shown with the batch: what this approval signs.
    content_hash: String,
    /// A fresh code from the approver's authenticator app.
    totp: String,
}

/// How many approvals a batch still needs.
#[derive(Serialize, ToSchema)]
pub struct ApprovalDetails {
    pub more_needed: i32,
}

/// What an approval did.
#[derive(Serialize, ToSchema)]
pub struct ApprovalAnswer {
    /// `approved` (more approvals needed) or `released` (the last one: the payouts are held and
    /// queued).
    #[schema(example = "released")]
    pub outcome: &'static str,
    pub details: ApprovalDetails,
    pub batch: Batch,
}

/// A treasurer other than the creator approves the batch exactly as it was shown to them: the
/// `content_hash` signs every item's beneficiary, destination and amount, and a fresh one-time
/// code is asked for every approval. The last approval releases the batch.
#[utoipa::path(
    post,
    path = "/api/v1/payout-batches/{id}/approvals",
    tag = "payouts",
    params(("id" = i64, Path, description = "the batch's id")),
    request_body = Approval,
    security(("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "approved, or released", body = ApprovalAnswer),
        (status = FORBIDDEN, description = "the creator may not approve, or the second factor was not passed", body = ErrorBody),
        (status = NOT_FOUND, description = "no such batch", body = ErrorBody),
        (status = CONFLICT, description = "the batch changed since it was shown (another hash), was already approved by the caller, or is not awaiting approval; or the campaign lacks the funds", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "wrong code", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "too many wrong codes or passwords: the account is locked for 15 minutes (`account_locked`)", body = ErrorBody),
    )
)]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<BatchId>,
    ApiJson(approval): ApiJson<Approval>,
) -> Result<Json<ApprovalAnswer>, ApiError> {
    caller.require(TREASURY)?;
    let user = caller.user_id()?;
    second_factor(&state, user, &approval.totp).await?;
    let mut db = state.pool.begin().await?;
    let outcome = batches::approve_in(&mut db, id, &caller.actor(), &approval.content_hash).await?;
    // the approval (or its refusal) and its audit entry commit together
    db.commit().await?;
    match outcome {
        Ok(approved) => {
            let batch = batches::batch(&state.pool, id).await?;
            let details = ApprovalDetails { more_needed: approved.more_needed() };
            Ok(Json(ApprovalAnswer { outcome: approved.name(), details, batch }))
        }
        Err(Refusal::Creator) => Err(ApiError::Forbidden(Refusal::Creator.to_string())),
        Err(refusal @ Refusal::InsufficientFunds { .. }) => {
            Err(ApiError::InsufficientFunds(refusal.to_string()))
        }
        Err(refusal) => Err(ApiError::Conflict(refusal.to_string())),
    }
}

/// Who may pull the brake: any treasurer, or an admin.
pub const BRAKE: &[Role] = &[Role::Treasurer, Role::Admin];

/// A fresh one-time code from the caller's authenticator: asked again for every action that
/// releases money (an approval, resuming payouts), not only at login.
pub(super) async fn second_factor(
    state: &AppState,
    user: zbor_auth::UserId,
    code: &str,
) -> Result<(), ApiError> {
    let key = state.data_key.as_ref().ok_or(ApiError::PeopleNotConfigured)?;
    zbor_auth::verify_totp(&state.pool, key, user, code, chrono::Utc::now()).await?;
    Ok(())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// How many, newest first: 100 when not given.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// The batches, and who is asking (so the console can tell one's own from others').
#[derive(Serialize, ToSchema)]
pub struct BatchList {
    pub me: Option<UserId>,
    pub batches: Vec<BatchSummary>,
}

/// Payout batches, newest first, with approvals and unfinished items.
#[utoipa::path(
    get,
    path = "/api/v1/payout-batches",
    tag = "payouts",
    params(ListQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = OK, description = "the batches", body = BatchList)),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<BatchList>, ApiError> {
    caller.require(TREASURY_READ)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadQuery(format!("limit: 1 to 500, not {limit}")));
    }
    let batches = batches::list(&state.pool, limit).await?;
    Ok(Json(BatchList { me: caller.0.user, batches }))
}

/// A batch still awaiting approval ends whole.
#[utoipa::path(
    post,
    path = "/api/v1/payout-batches/{id}/cancel",
    tag = "payouts",
    params(("id" = i64, Path, description = "the batch's id")),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "the batch, cancelled", body = Batch),
        (status = NOT_FOUND, description = "no such batch", body = ErrorBody),
        (status = CONFLICT, description = "the batch is no longer awaiting approval", body = ErrorBody),
    )
)]
pub async fn cancel_batch(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<BatchId>,
) -> Result<Json<Batch>, ApiError> {
    caller.require(TREASURY)?;
    caller.user_id()?; // a person answers for it, not the bootstrap token
    let mut db = state.pool.begin().await?;
    batches::cancel_in(&mut db, id, &caller.actor()).await?;
    db.commit().await?;
    Ok(Json(batches::batch(&state.pool, id).await?))
}

/// One payout: its state, attempts, last error (sealed words only for treasurers with the key).
#[utoipa::path(
    get,
    path = "/api/v1/payouts/{id}",
    tag = "payouts",
    params(("id" = i64, Path, description = "the payout's id")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = OK, description = "the payout", body = treasury::Payout),
        (status = NOT_FOUND, description = "no such payout", body = ErrorBody),
    )
)]
pub async fn show_payout(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<PayoutId>,
) -> Result<Json<treasury::Payout>, ApiError> {
    caller.require(TREASURY_READ)?;
    Ok(Json(treasury::get(&state.pool, id).await?.opened(state.data_key.as_ref())?))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    #[serde(default)]
    note: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    #[serde(default)]
    reason: String,
}

/// One treasurer's action on payout `id`: the domain does it and appends its audit entry in
/// this transaction; the answer is the payout as it is now.
async fn payout_action(
    state: &AppState,
    caller: &Caller,
    id: PayoutId,
    action: treasury::TreasurerAction<'_>,
) -> Result<Json<treasury::Payout>, ApiError> {
    caller.require(TREASURY)?;
    caller.user_id()?;
    let actor = caller.actor();
    let mut db = state.pool.begin().await?;
    treasury::act_in(&mut db, id, &actor, action).await?;
    db.commit().await?;
    Ok(Json(treasury::get(&state.pool, id).await?.opened(state.data_key.as_ref())?))
}

/// A manual payout handed over, or one SEPA payout the bank executed. The note is sealed and
/// never in the audit log.
#[utoipa::path(
    post,
    path = "/api/v1/payouts/{id}/paid",
    tag = "payouts",
    params(("id" = i64, Path, description = "the payout's id")),
    request_body = Note,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "the payout, paid", body = treasury::Payout),
        (status = NOT_FOUND, description = "no such payout", body = ErrorBody),
        (status = CONFLICT, description = "not possible in the payout's state", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "the text is longer than 500 characters, or (returned) empty", body = ErrorBody),
    )
)]
pub async fn mark_paid(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<PayoutId>,
    ApiJson(note): ApiJson<Note>,
) -> Result<Json<treasury::Payout>, ApiError> {
    caller.require(TREASURY)?;
    let key = state.data_key.as_ref().ok_or(ApiError::PeopleNotConfigured)?;
    payout_action(&state, &caller, id, treasury::TreasurerAction::MarkPaid { key, note: &note.note }).await
}

/// The bank sent a SEPA payout back. The bank's words are sealed (they may name the person); its
/// code stays in clear.
#[utoipa::path(
    post,
    path = "/api/v1/payouts/{id}/returned",
    tag = "payouts",
    params(("id" = i64, Path, description = "the payout's id")),
    request_body = Reason,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "the payout, failed and reversed", body = treasury::Payout),
        (status = NOT_FOUND, description = "no such payout", body = ErrorBody),
        (status = CONFLICT, description = "not possible in the payout's state", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "the text is longer than 500 characters, or (returned) empty", body = ErrorBody),
    )
)]
pub async fn mark_returned(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<PayoutId>,
    ApiJson(reason): ApiJson<Reason>,
) -> Result<Json<treasury::Payout>, ApiError> {
    let action = treasury::TreasurerAction::Returned { key: state.data_key.as_ref(), reason: &reason.reason };
    payout_action(&state, &caller, id, action).await
}

/// A failed payout is tried again.
#[utoipa::path(
    post,
    path = "/api/v1/payouts/{id}/retry",
    tag = "payouts",
    params(("id" = i64, Path, description = "the payout's id")),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "the payout, queued again", body = treasury::Payout),
        (status = NOT_FOUND, description = "no such payout", body = ErrorBody),
        (status = CONFLICT, description = "not possible in the payout's state", body = ErrorBody),
    )
)]
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<PayoutId>,
) -> Result<Json<treasury::Payout>, ApiError> {
    payout_action(&state, &caller, id, treasury::TreasurerAction::Retry).await
}

/// The hold is voided; the funds are the campaign's again.
#[utoipa::path(
    post,
    path = "/api/v1/payouts/{id}/cancel",
    tag = "payouts",
    params(("id" = i64, Path, description = "the payout's id")),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "the payout, cancelled", body = treasury::Payout),
        (status = NOT_FOUND, description = "no such payout", body = ErrorBody),
        (status = CONFLICT, description = "not possible in the payout's state", body = ErrorBody),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<PayoutId>,
) -> Result<Json<treasury::Payout>, ApiError> {
    payout_action(&state, &caller, id, treasury::TreasurerAction::Cancel).await
}

/// Paused or running, and the resume votes so far.
#[utoipa::path(
    get,
    path = "/api/v1/payouts/switch",
    tag = "payouts",
    security(("bearer" = []), ("session" = [])),
    responses((status = OK, description = "the pause switch", body = switch::SwitchState)),
)]
pub async fn switch_state(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<switch::SwitchState>, ApiError> {
    caller.require(BRAKE)?;
    Ok(Json(switch::state(&state.pool).await?.opened(state.data_key.as_ref())?))
}

/// The switch after a pause.
#[derive(Serialize, ToSchema)]
pub struct Paused {
    /// Always true.
    pub paused: bool,
    /// False when payouts were already paused.
    pub paused_now: bool,
    pub switch: switch::SwitchState,
}

/// Every payout not yet on its way stops at once (any treasurer, or an admin, alone).
#[utoipa::path(
    post,
    path = "/api/v1/payouts/pause",
    tag = "payouts",
    request_body = Reason,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses((status = OK, description = "paused", body = Paused)),
)]
pub async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(reason): ApiJson<Reason>,
) -> Result<Json<Paused>, ApiError> {
    caller.require(BRAKE)?;
    let actor = caller.actor();
    let mut db = state.pool.begin().await?;
    let paused_now = switch::pause_in(&mut db, state.data_key.as_ref(), &actor, &reason.reason).await?;
    db.commit().await?;
    let switch = switch::state(&state.pool).await?.opened(state.data_key.as_ref())?;
    Ok(Json(Paused { paused: true, paused_now, switch }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    /// A fresh code from the caller's authenticator app.
    totp: String,
}

/// The switch after a call to resume.
#[derive(Serialize, ToSchema)]
pub struct ResumeAnswer {
    /// `resumed`, or `waiting_for_another` treasurer.
    pub outcome: switch::Resumed,
    pub switch: switch::SwitchState,
}

/// Asks to resume payouts; the second distinct treasurer's call resumes them.
#[utoipa::path(
    post,
    path = "/api/v1/payouts/resume",
    tag = "payouts",
    request_body = Resume,
    security(("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "resumed, or waiting for another treasurer", body = ResumeAnswer),
        (status = CONFLICT, description = "not paused, or the caller already asked", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "wrong code", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "too many wrong codes or passwords: the account is locked for 15 minutes (`account_locked`)", body = ErrorBody),
    )
)]
pub async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(resume): ApiJson<Resume>,
) -> Result<Json<ResumeAnswer>, ApiError> {
    caller.require(TREASURY)?;
    let user = caller.user_id()?;
    second_factor(&state, user, &resume.totp).await?;
    let mut db = state.pool.begin().await?;
    let outcome = switch::resume_in(&mut db, &caller.actor()).await?;
    db.commit().await?;
    match outcome {
        switch::Resumed::AlreadyVoted => {
            Err(ApiError::Conflict("you already asked to resume: another treasurer must too".into()))
        }
        switch::Resumed::NotPaused => Err(ApiError::Conflict("payouts are not paused".into())),
        switch::Resumed::Resumed | switch::Resumed::WaitingForAnother => {
            let switch = switch::state(&state.pool).await?.opened(state.data_key.as_ref())?;
            Ok(Json(ResumeAnswer { outcome, switch }))
        }
    }
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSepaFile {
    /// When the bank should execute it; default: the next day.
    requested_execution_date: Option<chrono::NaiveDate>,
}

/// A pain.001 file of the released batch's SEPA payouts; they become `sent`. A payout whose
/// beneficiary's destination differs from the approved one is left out and failed.
#[utoipa::path(
    post,
    path = "/api/v1/payout-batches/{id}/sepa-files",
    tag = "payouts",
    params(("id" = i64, Path, description = "the batch's id")),
    request_body = NewSepaFile,
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = CREATED, description = "the file", body = sepa_files::SepaFile),
        (status = NOT_FOUND, description = "no such batch", body = ErrorBody),
        (status = CONFLICT, description = "no SEPA payouts ready in the batch, or every destination changed since approval", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "the date is not from today to a year ahead", body = ErrorBody),
    )
)]
pub async fn create_sepa_file(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<BatchId>,
    ApiJson(new): ApiJson<NewSepaFile>,
) -> Result<(StatusCode, Json<sepa_files::SepaFile>), ApiError> {
    caller.require(TREASURY)?;
    caller.user_id()?; // a person answers for it, not the bootstrap token
    let debtor = state.sepa_debtor.as_ref().ok_or(ApiError::SepaNotConfigured)?;
    let key = state.data_key.as_ref().ok_or(ApiError::PeopleNotConfigured)?;
    let today = chrono::Utc::now().date_naive();
    let date = new.requested_execution_date.unwrap_or(today + chrono::Days::new(1));
    if date < today || date > today + chrono::Days::new(365) {
        return Err(ApiError::from(zbor_payouts::Error::InvalidField {
            field: "requested_execution_date",
            reason: "from today to a year ahead".into(),
        }));
    }
    let mut db = state.pool.begin().await?;
    let made = sepa_files::create_in(&mut db, key, debtor, id, &caller.actor(), date).await?;
    // committed in both outcomes: a file, or payouts failed for treasurers (and its entry)
    db.commit().await?;
    let Some(file) = made.file else {
        // every payout's destination differed from the approved one: no file
        let first = made.left_out.first().copied().unwrap_or(PayoutId::from_i64(0));
        return Err(zbor_payouts::Error::DestinationNotApproved(first).into());
    };
    Ok((StatusCode::CREATED, Json(file)))
}

/// A SEPA file's summary (no personal data).
#[utoipa::path(
    get,
    path = "/api/v1/sepa-files/{id}",
    tag = "payouts",
    params(("id" = i64, Path, description = "the file's id")),
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = OK, description = "the file", body = sepa_files::SepaFile),
        (status = NOT_FOUND, description = "no such file", body = ErrorBody),
    )
)]
pub async fn show_sepa_file(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<SepaFileId>,
) -> Result<Json<sepa_files::SepaFile>, ApiError> {
    caller.require(TREASURY_READ)?;
    Ok(Json(sepa_files::get(&state.pool, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FreshCode {
    /// A fresh code from the caller's authenticator app.
    pub(super) totp: String,
}

/// The file for the bank. It holds beneficiaries' names and IBANs in clear, so each download is
/// a reveal: a fresh one-time code, audited first, never cached.
#[utoipa::path(
    post,
    path = "/api/v1/sepa-files/{id}/pain.001.xml",
    tag = "payouts",
    params(("id" = i64, Path, description = "the file's id")),
    request_body = FreshCode,
    security(("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "the pain.001.001.09 document", content_type = "application/xml", body = String),
        (status = NOT_FOUND, description = "no such file", body = ErrorBody),
        (status = UNPROCESSABLE_ENTITY, description = "wrong code", body = ErrorBody),
        (status = TOO_MANY_REQUESTS, description = "too many wrong codes or passwords: the account is locked for 15 minutes (`account_locked`)", body = ErrorBody),
    )
)]
pub async fn download_sepa_file(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<SepaFileId>,
    ApiJson(code): ApiJson<FreshCode>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    caller.require(TREASURY)?;
    let user = caller.user_id()?;
    let debtor = state.sepa_debtor.as_ref().ok_or(ApiError::SepaNotConfigured)?;
    let key = state.data_key.as_ref().ok_or(ApiError::PeopleNotConfigured)?;
    let file = sepa_files::get(&state.pool, id).await?;
    second_factor(&state, user, &code.totp).await?;
    let xml = sepa_files::document(&state.pool, key, id, debtor, &caller.actor()).await?;
    let disposition = format!("attachment; filename=\"{}.xml\"", file.message_id);
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/xml; charset=utf-8".to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
            (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        xml,
    )
        .into_response())
}

/// The payouts a confirmation paid, and the file.
#[derive(Serialize, ToSchema)]
pub struct SepaFileConfirmed {
    pub paid: usize,
    pub file: sepa_files::SepaFile,
}

/// The bank executed the file; its payouts still `sent` are paid.
#[utoipa::path(
    post,
    path = "/api/v1/sepa-files/{id}/confirm",
    tag = "payouts",
    params(("id" = i64, Path, description = "the file's id")),
    security(("bearer" = []), ("session" = [], "csrf" = [])),
    responses(
        (status = OK, description = "confirmed", body = SepaFileConfirmed),
        (status = NOT_FOUND, description = "no such file", body = ErrorBody),
        (status = CONFLICT, description = "already confirmed", body = ErrorBody),
    )
)]
pub async fn confirm_sepa_file(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<SepaFileId>,
) -> Result<Json<SepaFileConfirmed>, ApiError> {
    caller.require(TREASURY)?;
    caller.user_id()?; // a person answers for it, not the bootstrap token
    let mut db = state.pool.begin().await?;
    let paid = sepa_files::confirm_in(&mut db, id, &caller.actor()).await?;
    db.commit().await?;
    Ok(Json(SepaFileConfirmed { paid, file: sepa_files::get(&state.pool, id).await? }))
}
