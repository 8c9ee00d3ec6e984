//! Payout batches: treasurers create them and approve them with four eyes. An approval carries
//! the content hash the treasurer reviewed and a fresh one-time code: the second factor is asked
//! again for every approval, not only at login.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Json;
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use zbor_auth::Role;
use zbor_payouts::batches::{self, Batch, NewItem, Refusal};
use zbor_payouts::{sepa_files, switch, treasury, BatchId, PayoutId, SepaFileId};

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::{ApiError, AppState};

/// This area's routes; `http::router` merges every area's.
pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::from(
        Router::new()
            .route("/api/v1/campaigns/{slug}/payout-batches", post(create))
            .route("/api/v1/payout-batches/{id}", get(show))
            .route("/api/v1/payout-batches/{id}/approvals", post(approve))
            .route("/api/v1/payout-batches", get(list))
            .route("/api/v1/payout-batches/{id}/cancel", post(cancel_batch))
            .route("/api/v1/payouts/switch", get(switch_state))
            .route("/api/v1/payouts/pause", post(pause))
            .route("/api/v1/payouts/resume", post(resume))
            .route("/api/v1/payouts/{id}", get(show_payout))
            .route("/api/v1/payouts/{id}/paid", post(mark_paid))
            .route("/api/v1/payouts/{id}/returned", post(mark_returned))
            .route("/api/v1/payouts/{id}/retry", post(retry))
            .route("/api/v1/payouts/{id}/cancel", post(cancel))
            .route("/api/v1/payout-batches/{id}/sepa-files", post(create_sepa_file))
            .route("/api/v1/sepa-files/{id}", get(show_sepa_file))
            .route("/api/v1/sepa-files/{id}/pain.001.xml", post(download_sepa_file))
            .route("/api/v1/sepa-files/{id}/confirm", post(confirm_sepa_file)),
    )
}

/// Who works with payout batches.
pub const TREASURY: &[Role] = &[Role::Treasurer];
/// Who may look at them.
pub const TREASURY_READ: &[Role] = &[Role::Treasurer, Role::Admin];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBatch {
    items: Vec<NewItem>,
}

/// `POST /api/v1/campaigns/{slug}/payout-batches {items: [{beneficiary, amount}]}`
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

/// `GET /api/v1/payout-batches/{id}`: the batch, its approvals and every item's state.
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<BatchId>,
) -> Result<Json<Batch>, ApiError> {
    caller.require(TREASURY_READ)?;
    Ok(Json(batches::batch(&state.pool, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// The content hash shown with the batch: what this approval signs.
    content_hash: String,
    /// A fresh code from the approver's authenticator app.
    totp: String,
}

/// `POST /api/v1/payout-batches/{id}/approvals {content_hash, totp}`
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<BatchId>,
    ApiJson(approval): ApiJson<Approval>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(TREASURY)?;
    let user = caller.user_id()?;
    second_factor(&state, user, &approval.totp).await?;
    let mut db = state.pool.begin().await?;
    let outcome = batches::approve_in(&mut db, id, &caller.actor(), &approval.content_hash).await?;
    // the approval (or its refusal) and its audit entry commit together
    db.commit().await?;
    let (status, details) = batches::describe(&outcome);
    match outcome {
        Ok(_) => Ok(Json(
            json!({ "outcome": status, "details": details, "batch": batches::batch(&state.pool, id).await? }),
        )),
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<i64>,
}

/// `GET /api/v1/payout-batches?limit=N`: newest first, with approvals and unfinished items.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(TREASURY_READ)?;
    let batches = batches::list(&state.pool, query.limit.unwrap_or(100)).await?;
    Ok(Json(json!({ "me": caller.0.user, "batches": batches })))
}

/// `POST /api/v1/payout-batches/{id}/cancel`: a batch still awaiting approval ends whole.
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

/// `GET /api/v1/payouts/{id}`
pub async fn show_payout(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<PayoutId>,
) -> Result<Json<treasury::Payout>, ApiError> {
    caller.require(TREASURY_READ)?;
    Ok(Json(treasury::get(&state.pool, id).await?.opened(state.data_key.as_ref())?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Note {
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
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

/// `POST /api/v1/payouts/{id}/paid {note}`: a manual payout handed over, or one SEPA payout the
/// bank executed. The note is sealed and never in the audit log.
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

/// `POST /api/v1/payouts/{id}/returned {reason}`: the bank sent a SEPA payout back. The bank's
/// words are sealed (they may name the person); its code stays in clear.
pub async fn mark_returned(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<PayoutId>,
    ApiJson(reason): ApiJson<Reason>,
) -> Result<Json<treasury::Payout>, ApiError> {
    let action = treasury::TreasurerAction::Returned { key: state.data_key.as_ref(), reason: &reason.reason };
    payout_action(&state, &caller, id, action).await
}

/// `POST /api/v1/payouts/{id}/retry`: a failed payout is tried again.
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<PayoutId>,
) -> Result<Json<treasury::Payout>, ApiError> {
    payout_action(&state, &caller, id, treasury::TreasurerAction::Retry).await
}

/// `POST /api/v1/payouts/{id}/cancel`: the hold is voided; the funds are the campaign's again.
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<PayoutId>,
) -> Result<Json<treasury::Payout>, ApiError> {
    payout_action(&state, &caller, id, treasury::TreasurerAction::Cancel).await
}

/// `GET /api/v1/payouts/switch`: paused or running, and the resume votes so far.
pub async fn switch_state(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<switch::SwitchState>, ApiError> {
    caller.require(BRAKE)?;
    Ok(Json(switch::state(&state.pool).await?.opened(state.data_key.as_ref())?))
}

/// `POST /api/v1/payouts/pause {reason}`: every payout not yet on its way stops at once.
pub async fn pause(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(reason): ApiJson<Reason>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(BRAKE)?;
    let actor = caller.actor();
    let mut db = state.pool.begin().await?;
    let paused_now = switch::pause_in(&mut db, state.data_key.as_ref(), &actor, &reason.reason).await?;
    db.commit().await?;
    Ok(Json(
        json!({ "paused": true, "paused_now": paused_now, "switch": switch::state(&state.pool).await?.opened(state.data_key.as_ref())? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    totp: String,
}

/// `POST /api/v1/payouts/resume {totp}`: the second distinct treasurer's call resumes.
pub async fn resume(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(resume): ApiJson<Resume>,
) -> Result<Json<serde_json::Value>, ApiError> {
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
        switch::Resumed::Resumed | switch::Resumed::WaitingForAnother => Ok(Json(
            json!({ "outcome": outcome, "switch": switch::state(&state.pool).await?.opened(state.data_key.as_ref())? }),
        )),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewSepaFile {
    /// When the bank should execute it; default: the next day.
    requested_execution_date: Option<chrono::NaiveDate>,
}

/// `POST /api/v1/payout-batches/{id}/sepa-files {requested_execution_date?}`: a file of the
/// batch's approved SEPA payouts; they become `sent`.
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

/// `GET /api/v1/sepa-files/{id}`
pub async fn show_sepa_file(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<SepaFileId>,
) -> Result<Json<sepa_files::SepaFile>, ApiError> {
    caller.require(TREASURY_READ)?;
    Ok(Json(sepa_files::get(&state.pool, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreshCode {
    totp: String,
}

/// `POST /api/v1/sepa-files/{id}/pain.001.xml {totp}`: the file for the bank. It holds
/// beneficiaries' names and IBANs in clear, so each download is a reveal: a fresh one-time code,
/// audited first, never cached.
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

/// `POST /api/v1/sepa-files/{id}/confirm`: the bank executed the file; its payouts still `sent`
/// are paid.
pub async fn confirm_sepa_file(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<SepaFileId>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(TREASURY)?;
    caller.user_id()?; // a person answers for it, not the bootstrap token
    let mut db = state.pool.begin().await?;
    let paid = sepa_files::confirm_in(&mut db, id, &caller.actor()).await?;
    db.commit().await?;
    Ok(Json(json!({ "paid": paid, "file": sepa_files::get(&state.pool, id).await? })))
}
