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
use zbor_payouts::batches::{self, Approved, Batch, NewItem, Refusal};
use zbor_payouts::{sepa_files, switch, treasury};

use super::auth::Caller;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::{ApiError, AppState};

/// This area's routes; `http::router` merges every area's.
pub fn router() -> Router<AppState> {
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
        .route("/api/v1/sepa-files/{id}/confirm", post(confirm_sepa_file))
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

fn user_of(caller: &Caller) -> Result<i64, ApiError> {
    caller
        .0
        .user
        .map(|u| u.as_i64())
        .ok_or_else(|| ApiError::Forbidden("payouts need a treasurer, not the bootstrap token".into()))
}

/// `POST /api/v1/campaigns/{slug}/payout-batches {items: [{beneficiary, amount}]}`
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(slug): ApiPath<String>,
    ApiJson(new): ApiJson<NewBatch>,
) -> Result<(StatusCode, Json<Batch>), ApiError> {
    caller.require(TREASURY)?;
    let user = user_of(&caller)?;
    let campaign = {
        let mut conn = state.pool.acquire().await?;
        zbor_campaigns::by_slug(&mut conn, &slug).await?
    };
    let mut db = state.pool.begin().await?;
    let id = batches::create_in(&mut db, campaign.id.as_i64(), user, &new.items).await?;
    let (items, content_hash) = batches::summary_in(&mut db, id).await?;
    let subject = format!("payout_batch:{id}");
    let details = json!({ "items": items, "content_hash": content_hash });
    super::people::audit_in(&mut db, &caller.0.actor(), "payout_batch.create", Some(&subject), details)
        .await?;
    db.commit().await?;
    Ok((StatusCode::CREATED, Json(batches::batch(&state.pool, id).await?)))
}

/// `GET /api/v1/payout-batches/{id}`: the batch, its approvals and every item's state.
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
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
    ApiPath(id): ApiPath<i64>,
    ApiJson(approval): ApiJson<Approval>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(TREASURY)?;
    let user = user_of(&caller)?;
    second_factor(&state, user, &approval.totp).await?;
    let mut db = state.pool.begin().await?;
    let outcome = batches::approve_in(&mut db, id, user, &approval.content_hash).await?;
    let subject = format!("payout_batch:{id}");
    let (status, details) = match &outcome {
        Ok(Approved::Waiting { more }) => ("approved", json!({ "more_needed": more })),
        Ok(Approved::Released) => ("released", json!({ "more_needed": 0 })),
        Err(refusal) => ("refused", json!({ "reason": refusal.to_string() })),
    };
    let mut audit_details = details.clone();
    audit_details["content_hash"] = json!(approval.content_hash.chars().take(64).collect::<String>());
    // the approval (or its refusal) and its audit entry commit together
    super::people::audit_in(
        &mut db,
        &caller.0.actor(),
        &format!("payout_batch.approve_{status}"),
        Some(&subject),
        audit_details,
    )
    .await?;
    db.commit().await?;
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
pub(super) async fn second_factor(state: &AppState, user: i64, code: &str) -> Result<(), ApiError> {
    let key = state.data_key.as_ref().ok_or(ApiError::PeopleNotConfigured)?;
    zbor_auth::verify_totp(&state.pool, key, zbor_auth::UserId::from_i64(user), code, chrono::Utc::now())
        .await?;
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
    Ok(Json(json!({ "me": caller.0.user.map(|u| u.as_i64()), "batches": batches })))
}

/// `POST /api/v1/payout-batches/{id}/cancel`: a batch still awaiting approval ends whole.
pub async fn cancel_batch(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Batch>, ApiError> {
    caller.require(TREASURY)?;
    user_of(&caller)?;
    let mut db = state.pool.begin().await?;
    batches::cancel_in(&mut db, id).await?;
    let subject = format!("payout_batch:{id}");
    super::people::audit_in(&mut db, &caller.0.actor(), "payout_batch.cancel", Some(&subject), json!({}))
        .await?;
    db.commit().await?;
    Ok(Json(batches::batch(&state.pool, id).await?))
}

/// `GET /api/v1/payouts/{id}`
pub async fn show_payout(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
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

/// Ends a treasurer's action on payout `id`: its audit entry (the batch and the state it left the
/// payout in) is appended in the action's transaction, which then commits both.
async fn audited_payout(
    state: &AppState,
    caller: &Caller,
    action: &str,
    mut db: sqlx::Transaction<'static, sqlx::Postgres>,
    id: i64,
) -> Result<Json<treasury::Payout>, ApiError> {
    let (batch, status): (i64, String) =
        sqlx::query_as("select batch_id, status::text from payouts where id = $1")
            .bind(id)
            .fetch_one(&mut *db)
            .await?;
    let subject = format!("payout:{id}");
    let details = json!({ "batch": batch, "status": status });
    super::people::audit_in(&mut db, &caller.0.actor(), action, Some(&subject), details).await?;
    db.commit().await?;
    Ok(Json(treasury::get(&state.pool, id).await?.opened(state.data_key.as_ref())?))
}

/// `POST /api/v1/payouts/{id}/paid {note}`: a manual payout handed over, or one SEPA payout the
/// bank executed. The note is sealed and never in the audit log.
pub async fn mark_paid(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(note): ApiJson<Note>,
) -> Result<Json<treasury::Payout>, ApiError> {
    caller.require(TREASURY)?;
    let user = user_of(&caller)?;
    let key = state.data_key.as_ref().ok_or(ApiError::PeopleNotConfigured)?;
    let mut db = state.pool.begin().await?;
    treasury::mark_paid_in(&mut db, key, id, user, &note.note).await?;
    audited_payout(&state, &caller, "payout.mark_paid", db, id).await
}

/// `POST /api/v1/payouts/{id}/returned {reason}`: the bank sent a SEPA payout back.
pub async fn mark_returned(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(reason): ApiJson<Reason>,
) -> Result<Json<treasury::Payout>, ApiError> {
    caller.require(TREASURY)?;
    let user = user_of(&caller)?;
    // the bank's words are sealed (they may name the person); its code stays in clear
    let mut db = state.pool.begin().await?;
    treasury::mark_returned_in(&mut db, state.data_key.as_ref(), id, user, &reason.reason).await?;
    audited_payout(&state, &caller, "payout.returned", db, id).await
}

/// `POST /api/v1/payouts/{id}/retry`: a failed payout is tried again.
pub async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<treasury::Payout>, ApiError> {
    caller.require(TREASURY)?;
    let user = user_of(&caller)?;
    let mut db = state.pool.begin().await?;
    treasury::retry_in(&mut db, id, user).await?;
    audited_payout(&state, &caller, "payout.retry", db, id).await
}

/// `POST /api/v1/payouts/{id}/cancel`: the hold is voided; the funds are the campaign's again.
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<treasury::Payout>, ApiError> {
    caller.require(TREASURY)?;
    let user = user_of(&caller)?;
    let mut db = state.pool.begin().await?;
    treasury::cancel_by_treasurer_in(&mut db, id, user).await?;
    audited_payout(&state, &caller, "payout.cancel", db, id).await
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
    let user = caller.0.user.map(|u| u.as_i64());
    let mut db = state.pool.begin().await?;
    let paused_now = switch::pause_in(&mut db, state.data_key.as_ref(), user, &reason.reason).await?;
    // the reason is free text a person typed: sealed in the switch, not copied into the log
    super::people::audit_in(
        &mut db,
        &caller.0.actor(),
        "payouts.pause",
        None,
        json!({ "paused_now": paused_now }),
    )
    .await?;
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
    let user = user_of(&caller)?;
    second_factor(&state, user, &resume.totp).await?;
    let mut db = state.pool.begin().await?;
    let outcome = switch::resume_in(&mut db, user).await?;
    super::people::audit_in(
        &mut db,
        &caller.0.actor(),
        "payouts.resume",
        None,
        json!({ "outcome": outcome }),
    )
    .await?;
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
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewSepaFile>,
) -> Result<(StatusCode, Json<sepa_files::SepaFile>), ApiError> {
    caller.require(TREASURY)?;
    let user = user_of(&caller)?;
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
    let made = sepa_files::create_in(&mut db, key, debtor, id, user, date).await?;
    let Some(file) = made.file else {
        // every payout's destination differed from the approved one: they failed, no file;
        // that is recorded and committed, and the treasurer is told
        let details = json!({ "batch": id, "left_out": made.left_out });
        super::people::audit_in(&mut db, &caller.0.actor(), "sepa_file.refused", None, details).await?;
        db.commit().await?;
        let first = made.left_out.first().copied().unwrap_or_default();
        return Err(zbor_payouts::Error::DestinationNotApproved(first).into());
    };
    let subject = format!("sepa_file:{}", file.id);
    let details = json!({ "batch": id, "transactions": file.transactions, "control_sum": file.control_sum.to_string(),
                          "left_out": made.left_out });
    super::people::audit_in(&mut db, &caller.0.actor(), "sepa_file.create", Some(&subject), details).await?;
    db.commit().await?;
    Ok((StatusCode::CREATED, Json(file)))
}

/// `GET /api/v1/sepa-files/{id}`
pub async fn show_sepa_file(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
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
    ApiPath(id): ApiPath<i64>,
    ApiJson(code): ApiJson<FreshCode>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    caller.require(TREASURY)?;
    let user = user_of(&caller)?;
    let debtor = state.sepa_debtor.as_ref().ok_or(ApiError::SepaNotConfigured)?;
    let key = state.data_key.as_ref().ok_or(ApiError::PeopleNotConfigured)?;
    let file = sepa_files::get(&state.pool, id).await?;
    second_factor(&state, user, &code.totp).await?;
    let subject = format!("sepa_file:{id}");
    super::people::audit(
        &state,
        &caller.0.actor(),
        "sepa_file.download",
        Some(&subject),
        json!({ "transactions": file.transactions }),
    )
    .await?;
    let xml = sepa_files::document(&state.pool, key, id, debtor).await?;
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
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(TREASURY)?;
    let user = user_of(&caller)?;
    let mut db = state.pool.begin().await?;
    let paid = sepa_files::confirm_in(&mut db, id, user).await?;
    let subject = format!("sepa_file:{id}");
    super::people::audit_in(
        &mut db,
        &caller.0.actor(),
        "sepa_file.confirm",
        Some(&subject),
        json!({ "paid": paid }),
    )
    .await?;
    db.commit().await?;
    Ok(Json(json!({ "paid": paid, "file": sepa_files::get(&state.pool, id).await? })))
}
