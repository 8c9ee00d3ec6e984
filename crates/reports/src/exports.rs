//! The accountant's exports of a [`Period`]: donations, refunds, disputes and payouts, as CSV.
//!
//! How an export runs ([`Exporter::start`], then [`Exporter::next_chunk`] until `None`):
//! 1. the request is checked (period, campaign, who may reveal donors) before anything is read;
//! 2. an audit entry (who, which export, the period, the campaign, whether donors are revealed)
//!    is committed, so no row leaves unaudited; if it cannot be written, nothing is exported;
//! 3. the rows are read from one repeatable-read, read-only snapshot through a server-side cursor,
//!    [`PAGE_ROWS`] at a time: a 100,000-row export holds one page in memory, never the file, and
//!    every page agrees with every other.
//!
//! What each file holds, and what it never holds:
//! - `donations.csv`: each donation dated when it was paid (when it was opened, for one pending
//!   or failed), its amount, Stripe's fee, what was refunded and what disputes withdrew, the
//!   net, the status, how it was paid (Stripe's method type: `card`, `sepa_debit`; empty until
//!   the charge event has said) and Stripe's payment id (to match Stripe's own reports). A
//!   donor's name and email only when the donor chose to be named and the export reveals donors.
//! - `refunds.csv` and `disputes.csv`: the ledger's movements of that kind on the campaign's
//!   account, dated when booked: exactly what the ledger moved.
//! - `payouts.csv`: each payout dated when paid (when approved, or its batch created, before
//!   that), amount, what Stripe reversed, the rail and the state. Never who was paid: no
//!   beneficiary's name, account or id.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::{PgPool, Postgres, Transaction};
use zbor_audit::Actor;
use zbor_ledger::{Currency, Money};
use zbor_vault::DataKey;

use crate::csv::{header, Row};
use crate::{Error, Period};

/// Rows read from the cursor at once: what one export holds in memory.
pub const PAGE_ROWS: i64 = 1_000;

/// Which export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExportKind {
    Donations,
    Refunds,
    Disputes,
    Payouts,
}

impl ExportKind {
    pub const ALL: [ExportKind; 4] =
        [ExportKind::Donations, ExportKind::Refunds, ExportKind::Disputes, ExportKind::Payouts];

    pub fn parse(name: &str) -> Result<ExportKind, Error> {
        ExportKind::ALL.into_iter().find(|kind| kind.name() == name).ok_or_else(|| {
            Error::InvalidRequest(format!(
                "no export {:?}: donations, refunds, disputes or payouts",
                name.chars().take(40).collect::<String>()
            ))
        })
    }

    /// `donations`, `refunds`, `disputes`, `payouts`: the file's and the audit action's name.
    pub fn name(self) -> &'static str {
        match self {
            ExportKind::Donations => "donations",
            ExportKind::Refunds => "refunds",
            ExportKind::Disputes => "disputes",
            ExportKind::Payouts => "payouts",
        }
    }

    /// The CSV's columns, in order.
    pub fn columns(self, donors_revealed: bool) -> Vec<&'static str> {
        match self {
            ExportKind::Donations => {
                let mut columns = vec![
                    "date",
                    "campaign",
                    "amount",
                    "fee",
                    "refunded",
                    "disputed",
                    "net",
                    "currency",
                    "status",
                    "method",
                    "stripe_payment",
                ];
                if donors_revealed {
                    columns.extend(["donor_name", "donor_email"]);
                }
                columns
            }
            ExportKind::Refunds => {
                vec!["date", "campaign", "amount", "currency", "stripe_payment", "donation_date"]
            }
            ExportKind::Disputes => vec![
                "date",
                "campaign",
                "movement",
                "amount",
                "currency",
                "stripe_dispute",
                "stripe_payment",
                "donation_date",
            ],
            ExportKind::Payouts => vec![
                "date", "campaign", "payout", "batch", "amount", "reversed", "currency", "rail", "state",
                "paid_at",
            ],
        }
    }
}

/// What to export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    pub kind: ExportKind,
    pub period: Period,
    /// A campaign's slug; all campaigns when none.
    pub campaign: Option<String>,
    /// Donors' names and emails (only donations, only donors who chose to be named).
    pub reveal_donors: bool,
}

impl Export {
    /// `donations-2026-12-01--2027-01-01.csv`, or with the campaign:
    /// `donations-release-123-2026-12-01--2027-01-01.csv` (the `to` day is excluded).
    pub fn filename(&self) -> String {
        let campaign = self.campaign.as_deref().map(|slug| format!("{slug}-")).unwrap_or_default();
        format!("{}-{campaign}{}--{}.csv", self.kind.name(), self.period.from_date(), self.period.to_date())
    }
}

/// How many exports may run at once: each holds a database connection for as long as its
/// download runs, and the pool is shared with donations' webhooks, which must not wait for an
/// accountant. One `ExportSlots` per process (the server keeps one), cloned where needed.
#[derive(Clone)]
pub struct ExportSlots {
    at_once: usize,
    semaphore: std::sync::Arc<tokio::sync::Semaphore>,
}

impl ExportSlots {
    pub fn new(at_once: usize) -> ExportSlots {
        ExportSlots { at_once, semaphore: std::sync::Arc::new(tokio::sync::Semaphore::new(at_once)) }
    }

    /// Exports running now.
    pub fn running(&self) -> usize {
        self.at_once.saturating_sub(self.semaphore.available_permits())
    }
}

/// An export under way: its snapshot and cursor, and its slot until it is dropped.
pub struct Exporter {
    kind: ExportKind,
    currency_of: std::collections::HashMap<String, Currency>,
    donor_key: Option<DataKey>,
    snapshot: Option<Transaction<'static, Postgres>>,
    header_sent: bool,
    rows: u64,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl Exporter {
    /// Takes a slot (none free: [`Error::Busy`], nothing audited), checks the request, commits
    /// its audit entry for `actor`, and opens the snapshot. `donor_key` must be given exactly
    /// when `export.reveal_donors` (the caller has checked that the actor may reveal donors).
    pub async fn start(
        pool: &PgPool,
        slots: &ExportSlots,
        export: &Export,
        donor_key: Option<&DataKey>,
        actor: &Actor,
    ) -> Result<Exporter, Error> {
        let slot = slots.semaphore.clone().try_acquire_owned().map_err(|_| Error::Busy(slots.at_once))?;
        if export.reveal_donors && export.kind != ExportKind::Donations {
            return Err(Error::InvalidRequest(format!(
                "reveal_donors applies to the donations export only, not to {}",
                export.kind.name()
            )));
        }
        let donor_key = match (export.reveal_donors, donor_key) {
            (true, Some(key)) => Some(key.clone()),
            (true, None) => return Err(Error::NoDataKey),
            (false, _) => None,
        };
        let mut audit = pool.begin().await?;
        let campaign_id = match &export.campaign {
            Some(slug) => Some(campaign_id(&mut audit, slug).await?),
            None => None,
        };
        let subject = export.campaign.as_deref().map(|slug| format!("campaign:{slug}"));
        zbor_audit::record_in(
            &mut audit,
            actor,
            &format!("export.{}", export.kind.name()),
            subject.as_deref(),
            serde_json::json!({
                "from": export.period.from_date().to_string(),
                "to": export.period.to_date().to_string(),
                "reveal_donors": export.reveal_donors,
            }),
        )
        .await?;
        audit.commit().await?;

        let mut snapshot = pool.begin().await?;
        sqlx::query("set transaction isolation level repeatable read, read only")
            .execute(&mut *snapshot)
            .await?;
        let currency_of: std::collections::HashMap<String, Currency> =
            sqlx::query_as::<_, (String, String)>("select slug, currency::text from campaigns")
                .fetch_all(&mut *snapshot)
                .await?
                .into_iter()
                .map(|(slug, code)| Ok((slug, Currency::parse(code.trim())?)))
                .collect::<Result<_, Error>>()?;
        // a long download must not be cut by the pool's 30 s cap on idle transactions while the
        // client reads; this one only reads, and ends with the export
        sqlx::query("set local idle_in_transaction_session_timeout = '10min'")
            .execute(&mut *snapshot)
            .await?;
        sqlx::query(&format!("declare {} no scroll cursor for {}", cursor(export.kind), query(export.kind)))
            .bind(export.period.start())
            .bind(export.period.end())
            .bind(campaign_id)
            .execute(&mut *snapshot)
            .await?;
        Ok(Exporter {
            kind: export.kind,
            currency_of,
            donor_key,
            snapshot: Some(snapshot),
            header_sent: false,
            rows: 0,
            _slot: slot,
        })
    }

    /// The next part of the file: the header first, then a page of rows; `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<String>, Error> {
        if !self.header_sent {
            self.header_sent = true;
            return Ok(Some(header(&self.kind.columns(self.donor_key.is_some()))));
        }
        let Some(snapshot) = self.snapshot.as_mut() else { return Ok(None) };
        let fetch = format!("fetch {PAGE_ROWS} from {}", cursor(self.kind));
        let mut chunk = String::new();
        let fetched = match self.kind {
            ExportKind::Donations => {
                let rows: Vec<DonationRow> =
                    sqlx::query_as(&fetch).persistent(false).fetch_all(&mut **snapshot).await?;
                for row in &rows {
                    chunk.push_str(&row.csv(self.currency(&row.campaign)?, self.donor_key.as_ref())?);
                }
                rows.len()
            }
            ExportKind::Refunds => {
                let rows: Vec<ReversalRow> =
                    sqlx::query_as(&fetch).persistent(false).fetch_all(&mut **snapshot).await?;
                for row in &rows {
                    chunk.push_str(&row.refund_csv(self.currency(&row.campaign)?)?);
                }
                rows.len()
            }
            ExportKind::Disputes => {
                let rows: Vec<ReversalRow> =
                    sqlx::query_as(&fetch).persistent(false).fetch_all(&mut **snapshot).await?;
                for row in &rows {
                    chunk.push_str(&row.dispute_csv(self.currency(&row.campaign)?)?);
                }
                rows.len()
            }
            ExportKind::Payouts => {
                let rows: Vec<PayoutRow> =
                    sqlx::query_as(&fetch).persistent(false).fetch_all(&mut **snapshot).await?;
                for row in &rows {
                    chunk.push_str(&row.csv(self.currency(&row.campaign)?)?);
                }
                rows.len()
            }
        };
        self.rows += u64::try_from(fetched).unwrap_or(u64::MAX);
        if i64::try_from(fetched).unwrap_or(i64::MAX) < PAGE_ROWS {
            // the last page: the snapshot ends (read only: nothing to commit but the cursor)
            if let Some(snapshot) = self.snapshot.take() {
                snapshot.commit().await?;
            }
            if fetched == 0 {
                return Ok(None);
            }
        }
        Ok(Some(chunk))
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    fn currency(&self, slug: &str) -> Result<Currency, Error> {
        self.currency_of
            .get(slug)
            .copied()
            .ok_or_else(|| Error::Inconsistent(format!("campaign {slug} appeared after the export began")))
    }
}

/// The cursor's name: one per kind. (A FETCH's result columns are the cursor's, so a statement
/// cached for one kind's cursor must never read another's; the fetches are not cached either.)
fn cursor(kind: ExportKind) -> String {
    format!("export_{}", kind.name())
}

/// The campaign's id, or the caller's mistake: an export of a campaign that does not exist is
/// refused rather than answered with an empty file that looks like "nothing happened".
async fn campaign_id(conn: &mut sqlx::PgConnection, slug: &str) -> Result<i64, Error> {
    match zbor_campaigns::by_slug(conn, slug).await {
        Ok(campaign) => Ok(campaign.id.as_i64()),
        Err(zbor_campaigns::Error::CampaignNotFound(_) | zbor_campaigns::Error::InvalidSlug(_)) => {
            Err(Error::UnknownCampaign(slug.chars().take(80).collect()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Each export's query: `$1` the period's start, `$2` its end (excluded), `$3` a campaign id or
/// null. Ordered by date, then a unique key, so the file is the same every time.
fn query(kind: ExportKind) -> &'static str {
    match kind {
        ExportKind::Donations => {
            "select coalesce(d.paid_at, d.created_at) as at, c.slug as campaign, d.amount, d.fee, d.refunded,
                    d.disputed, d.status::text as status, m.method, d.stripe_payment_intent as payment,
                    d.stripe_session_id as session, d.donor_sealed
             from donations d join campaigns c on c.id = d.campaign_id
             left join payment_methods m on m.stripe_payment_intent = d.stripe_payment_intent
             where coalesce(d.paid_at, d.created_at) >= $1 and coalesce(d.paid_at, d.created_at) < $2
               and ($3::bigint is null or d.campaign_id = $3)
             order by coalesce(d.paid_at, d.created_at), d.stripe_session_id"
        }
        // the campaign's side of each refund (debit: a positive posting on the liability)
        ExportKind::Refunds | ExportKind::Disputes => {
            if kind == ExportKind::Refunds {
                REVERSALS_REFUND
            } else {
                REVERSALS_DISPUTE
            }
        }
        ExportKind::Payouts => {
            "select coalesce(p.paid_at, b.approved_at, b.created_at) as at, c.slug as campaign, p.id as payout,
                    p.batch_id as batch, p.amount, p.reversed_amount as reversed, be.method as rail,
                    p.status::text as state, p.paid_at
             from payouts p
             join payout_batches b on b.id = p.batch_id
             join campaigns c on c.id = b.campaign_id
             join beneficiaries be on be.id = p.beneficiary_id
             where coalesce(p.paid_at, b.approved_at, b.created_at) >= $1
               and coalesce(p.paid_at, b.approved_at, b.created_at) < $2
               and ($3::bigint is null or b.campaign_id = $3)
             order by coalesce(p.paid_at, b.approved_at, b.created_at), p.id"
        }
    }
}

/// Ledger movements of one kind on campaigns' accounts, with the donation they reverse.
macro_rules! reversals {
    ($kind:literal) => {
        concat!(
            "select t.created_at as at, c.slug as campaign, p.amount as posted, t.metadata->>'dispute' as dispute,
                    d.stripe_payment_intent as payment, coalesce(d.paid_at, d.created_at) as donation_at
             from ledger_transactions t
             join ledger_postings p on p.transaction_id = t.id
             join campaigns c on c.ledger_account_id = p.account_id
             left join donations d on d.stripe_session_id = t.metadata->>'stripe_session'
             where t.metadata->>'kind' = '",
            $kind,
            "' and t.created_at >= $1 and t.created_at < $2
               and ($3::bigint is null or c.id = $3)
             order by t.created_at, t.id"
        )
    };
}
const REVERSALS_REFUND: &str = reversals!("refund");
const REVERSALS_DISPUTE: &str = reversals!("dispute");

#[derive(sqlx::FromRow)]
struct DonationRow {
    at: DateTime<Utc>,
    campaign: String,
    amount: Decimal,
    fee: Decimal,
    refunded: Decimal,
    disputed: Decimal,
    status: String,
    /// `card`, `sepa_debit`, ...; empty until the charge event says (a pending SEPA debit may
    /// not have one yet)
    method: Option<String>,
    payment: Option<String>,
    session: String,
    donor_sealed: Option<Vec<u8>>,
}

/// A named donor's identity as the intake sealed it. Never logged: no `Debug`.
#[derive(Deserialize)]
struct Donor {
    name: Option<String>,
    email: Option<String>,
}

impl DonationRow {
    fn csv(&self, currency: Currency, donor_key: Option<&DataKey>) -> Result<String, Error> {
        let money = |amount: Decimal| Money::new(amount, currency);
        let (amount, fee) = (money(self.amount)?, money(self.fee)?);
        let (refunded, disputed) = (money(self.refunded)?, money(self.disputed)?);
        // what the campaign keeps of it; a pending or failed donation brought nothing
        let net = if self.status == "paid" {
            amount.checked_sub(&fee)?.checked_sub(&refunded)?.checked_sub(&disputed)?
        } else {
            Money::zero(currency)
        };
        let mut row = Row::new()
            .time(self.at)
            .text(&self.campaign)
            .amount(&amount)
            .amount(&fee)
            .amount(&refunded)
            .amount(&disputed)
            .amount(&net)
            .text(currency.code())
            .text(&self.status)
            .text(self.method.as_deref().unwrap_or(""))
            .text(self.payment.as_deref().unwrap_or(""));
        if let Some(key) = donor_key {
            let donor = match &self.donor_sealed {
                Some(sealed) => {
                    let plain = key.open(sealed, &zbor_intake::webhook::donor_record(&self.session))?;
                    serde_json::from_slice::<Donor>(&plain)
                        .map_err(|_| Error::Inconsistent("a sealed donor's identity is not JSON".into()))?
                }
                None => Donor { name: None, email: None },
            };
            row = row.text(donor.name.as_deref().unwrap_or("")).text(donor.email.as_deref().unwrap_or(""));
        }
        Ok(row.finish())
    }
}

#[derive(sqlx::FromRow)]
struct ReversalRow {
    at: DateTime<Utc>,
    campaign: String,
    /// The campaign account's posting: positive when money left the campaign (a debit of the
    /// liability), negative when it came back (a dispute won).
    posted: Decimal,
    dispute: Option<String>,
    payment: Option<String>,
    donation_at: Option<DateTime<Utc>>,
}

impl ReversalRow {
    fn refund_csv(&self, currency: Currency) -> Result<String, Error> {
        Ok(Row::new()
            .time(self.at)
            .text(&self.campaign)
            .amount(&Money::new(self.posted, currency)?)
            .text(currency.code())
            .text(self.payment.as_deref().unwrap_or(""))
            .maybe_time(self.donation_at)
            .finish())
    }

    fn dispute_csv(&self, currency: Currency) -> Result<String, Error> {
        let movement = if self.posted.is_sign_positive() { "withdrawn" } else { "reinstated" };
        Ok(Row::new()
            .time(self.at)
            .text(&self.campaign)
            .text(movement)
            .amount(&Money::new(self.posted.abs(), currency)?)
            .text(currency.code())
            .text(self.dispute.as_deref().unwrap_or(""))
            .text(self.payment.as_deref().unwrap_or(""))
            .maybe_time(self.donation_at)
            .finish())
    }
}

#[derive(sqlx::FromRow)]
struct PayoutRow {
    at: DateTime<Utc>,
    campaign: String,
    payout: i64,
    batch: i64,
    amount: Decimal,
    reversed: Decimal,
    rail: String,
    state: String,
    paid_at: Option<DateTime<Utc>>,
}

impl PayoutRow {
    fn csv(&self, currency: Currency) -> Result<String, Error> {
        Ok(Row::new()
            .time(self.at)
            .text(&self.campaign)
            .count(self.payout)
            .count(self.batch)
            .amount(&Money::new(self.amount, currency)?)
            .amount(&Money::new(self.reversed, currency)?)
            .text(currency.code())
            .text(&self.rail)
            .text(&self.state)
            .maybe_time(self.paid_at)
            .finish())
    }
}
