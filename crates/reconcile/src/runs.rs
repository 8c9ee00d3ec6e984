//! Reconciliation runs kept for treasurers: every run's report, and the daily one.
//!
//! The daily task (in `zbor serve`, any instance) reconciles the previous UTC day once, an hour
//! after it ended so Stripe's late balance transactions and webhooks are in; the unique index on
//! daily runs lets only one instance record it. Its result is what the treasurers' console shows.
//! The same task reconciles the contents of each Stripe payout once it was paid.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::PgPool;
use zbor_stripe::Stripe;

use crate::against_stripe::{self, Period, Report};
use crate::Error;

/// How long after a day's end the daily run waits before reconciling it.
pub const DAILY_DELAY: Duration = Duration::hours(1);

/// Who started a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Daily,
    Api,
    Cli,
    /// One Stripe payout's contents, once it was paid.
    Payout,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Daily => "daily",
            Trigger::Api => "api",
            Trigger::Cli => "cli",
            Trigger::Payout => "payout",
        }
    }
}

/// A recorded run.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ReconciliationRun)]
pub struct Run {
    pub id: i64,
    /// `daily`, `api` or `cli`.
    pub trigger: String,
    pub ran_at: DateTime<Utc>,
    pub differences: i32,
    pub report: Report,
}

/// Keeps `report`; returns the run's id, or none when the daily run of that day is recorded
/// already (another instance was first).
pub async fn record(db: &PgPool, report: &Report, trigger: Trigger) -> Result<Option<i64>, Error> {
    let json = serde_json::to_value(report).map_err(|e| Error::StripeAnswer(format!("report: {e}")))?;
    let id: Option<i64> = sqlx::query_scalar(
        "insert into reconciliation_runs (source, period_from, period_to, trigger, differences, report)
         values ('stripe', $1, $2, $3, $4, $5)
         on conflict (source, period_from) where trigger = 'daily' do nothing
         returning id",
    )
    .bind(report.from)
    .bind(report.to)
    .bind(trigger.as_str())
    .bind(i32::try_from(report.differences.len()).unwrap_or(i32::MAX))
    .bind(json)
    .fetch_optional(db)
    .await?;
    Ok(id)
}

/// The newest run (of any trigger).
pub async fn latest(db: &PgPool) -> Result<Option<Run>, Error> {
    let row: Option<(i64, String, DateTime<Utc>, i32, serde_json::Value)> = sqlx::query_as(
        "select id, trigger, ran_at, differences, report from reconciliation_runs
         where source = 'stripe' order by ran_at desc, id desc limit 1",
    )
    .fetch_optional(db)
    .await?;
    row.map(|(id, trigger, ran_at, differences, report)| {
        let report =
            serde_json::from_value(report).map_err(|e| Error::StripeAnswer(format!("stored report: {e}")))?;
        Ok(Run { id, trigger, ran_at, differences, report })
    })
    .transpose()
}

/// Reconciles the day before `now` unless it was; returns the run's report when this call did it.
pub async fn run_daily(db: &PgPool, stripe: &Stripe, now: DateTime<Utc>) -> Result<Option<Report>, Error> {
    let day = (now - DAILY_DELAY).date_naive() - chrono::Days::new(1);
    let period = Period::day(day)?;
    let done: bool = sqlx::query_scalar(
        "select exists (select 1 from reconciliation_runs where source = 'stripe' and trigger = 'daily'
                        and period_from = $1)",
    )
    .bind(period.from())
    .fetch_one(db)
    .await?;
    if done {
        return Ok(None);
    }
    let report = against_stripe::reconcile(db, stripe, period).await?;
    if record(db, &report, Trigger::Daily).await?.is_none() {
        return Ok(None);
    }
    if report.is_clean() {
        tracing::info!(day = %day, "daily reconciliation with Stripe: no differences");
    } else {
        tracing::warn!(day = %day, differences = report.differences.len(), "daily reconciliation with Stripe found differences");
    }
    Ok(Some(report))
}

/// Reconciles the contents of every Stripe payout reported paid and not yet reconciled (at most
/// `limit`), keeps each run and marks the payout; returns how many had differences.
pub async fn reconcile_paid_payouts(db: &PgPool, stripe: &Stripe, limit: i64) -> Result<usize, Error> {
    let due: Vec<String> = sqlx::query_scalar(
        "select id from stripe_payouts where status = 'paid' and reconciled_at is null order by created_at limit $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await?;
    let mut with_differences = 0;
    for payout in due {
        let report = against_stripe::reconcile_payout(db, stripe, &payout).await?;
        record(db, &report, Trigger::Payout).await?;
        let differences = i32::try_from(report.differences.len()).unwrap_or(i32::MAX);
        sqlx::query(
            "update stripe_payouts set reconciled_at = now(), reconciliation_differences = $2 where id = $1",
        )
        .bind(&payout)
        .bind(differences)
        .execute(db)
        .await?;
        if report.is_clean() {
            tracing::info!(stripe_payout = %payout, "Stripe payout reconciled: every balance transaction in it matches the ledger");
        } else {
            with_differences += 1;
            tracing::warn!(stripe_payout = %payout, differences, "Stripe payout reconciled with differences");
        }
    }
    Ok(with_differences)
}
