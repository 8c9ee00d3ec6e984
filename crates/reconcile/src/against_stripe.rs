//! The ledger against Stripe's balance: every balance transaction Stripe made in a period, and
//! every ledger posting on `stripe:balance:{cur}`, matched by the Stripe object they are about.
//!
//! Both sides are reduced to *items*: an amount that moved Stripe's balance, of one kind, about
//! one Stripe object. A charge gives two (`charge`: the gross, `fee`: Stripe's fee, both keyed by
//! its PaymentIntent, as the ledger's donation and fee bookings are); a refund is keyed by its
//! PaymentIntent too (the ledger books refunds by Stripe's running total per payment, so they
//! are compared as a sum); a dispute gives `dispute` and `dispute_fee` (keyed by the dispute); a
//! Connect transfer `transfer`, its reversals `transfer_reversal` (keyed by the transfer); a
//! payout to the bank and its failure `payout` (keyed by the payout). Anything else Stripe did
//! (`stripe_fee`, `adjustment` without a dispute, …) is `other`, keyed by its balance
//! transaction: the ledger books none of those, so each is a difference for a person.
//!
//! Items are grouped by (currency, kind, key) and the sums compared. A group belongs to the
//! period when any of its items does; its items are read a day either side of the period too,
//! so a webhook booked seconds after midnight still matches the charge Stripe made before it.
//! For a group Stripe has and the window does not, the ledger is also asked without a time
//! bound (a webhook retried for days). A payout Stripe has not finished (`pending`,
//! `in_transit`) is money on its way, not a difference: zbor books it when Stripe says `paid`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use stripe_core::balance_transaction::ListBalanceTransaction;
use stripe_shared::{BalanceTransaction, BalanceTransactionSource, BalanceTransactionType};
use zbor_ledger::{Currency, Money};
use zbor_stripe::Stripe;

use crate::Error;

/// The longest period one run reconciles; a longer one is several runs.
pub const PERIOD_DAYS_MAX: i64 = 31;
/// How far either side of the period items are read, so bookings near its edges find their
/// counterparts.
pub const MARGIN: Duration = Duration::days(1);
/// Balance transactions per page (Stripe's maximum).
const PAGE: i64 = 100;

/// `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Period {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Period, Error> {
        if from >= to {
            return Err(Error::invalid("to", "must be after from"));
        }
        if to - from > Duration::days(PERIOD_DAYS_MAX) {
            return Err(Error::invalid("to", format!("a period is at most {PERIOD_DAYS_MAX} days")));
        }
        Ok(Period { from, to })
    }

    /// The UTC day `day` (00:00 to the next 00:00).
    pub fn day(day: chrono::NaiveDate) -> Result<Period, Error> {
        let from = day.and_time(chrono::NaiveTime::MIN).and_utc();
        Period::new(from, from + Duration::days(1))
    }

    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }

    fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }
}

/// What moved Stripe's balance, as both sides name it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Charge,
    Fee,
    Refund,
    Dispute,
    DisputeFee,
    Transfer,
    TransferReversal,
    Payout,
    Other,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Charge => "charge",
            ItemKind::Fee => "fee",
            ItemKind::Refund => "refund",
            ItemKind::Dispute => "dispute",
            ItemKind::DisputeFee => "dispute_fee",
            ItemKind::Transfer => "transfer",
            ItemKind::TransferReversal => "transfer_reversal",
            ItemKind::Payout => "payout",
            ItemKind::Other => "other",
        }
    }
}

/// One amount on one side: signed as it moved Stripe's balance (a charge +, its fee −).
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub currency: Currency,
    pub kind: ItemKind,
    /// The Stripe object it is about: `pi_…`, `du_…`, `tr_…`, `po_…`, or a `txn_…` for `other`.
    pub key: String,
    pub amount: Decimal,
    pub at: DateTime<Utc>,
    /// A payout Stripe has not finished (Stripe's side only).
    pub in_transit: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// Stripe moved money the ledger does not know (a missed webhook, a booking sent to review).
    MissingInLedger,
    /// The ledger booked money Stripe did not move (or not in this period).
    MissingAtStripe,
    /// Both know it, with other amounts.
    AmountDiffers,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ReconciliationDifference)]
pub struct Difference {
    pub difference: DifferenceKind,
    pub kind: ItemKind,
    pub key: String,
    pub currency: String,
    /// What Stripe's balance transactions sum to (none: Stripe has none).
    #[schema(value_type = Option<String>)]
    pub stripe: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub ledger: Option<Decimal>,
}

/// One kind's sums over the items inside the period, on each side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KindTotal {
    pub currency: String,
    pub kind: ItemKind,
    #[schema(value_type = String)]
    pub stripe: Decimal,
    pub stripe_count: u64,
    #[schema(value_type = String)]
    pub ledger: Decimal,
    pub ledger_count: u64,
}

/// The outcome of one reconciliation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ReconciliationReport)]
pub struct Report {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Groups whose sums agree.
    pub matched: u64,
    /// Payouts on their way to the bank, booked when Stripe reports them paid.
    pub in_transit: u64,
    pub differences: Vec<Difference>,
    pub totals: Vec<KindTotal>,
    /// The Stripe payout reconciled, when the report is of one payout's contents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout: Option<String>,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty()
    }

    /// The report as a treasurer reads it in a terminal.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Reconciliation of the ledger with Stripe, {} to {}{}",
            self.from.format("%Y-%m-%d %H:%M:%S UTC"),
            self.to.format("%Y-%m-%d %H:%M:%S UTC"),
            self.payout.as_ref().map_or_else(String::new, |p| format!(": payout {p}"))
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<4} {:<18} {:>16} {:>6} {:>16} {:>6}",
            "cur", "kind", "Stripe", "n", "ledger", "n"
        );
        for t in &self.totals {
            let _ = writeln!(
                out,
                "{:<4} {:<18} {:>16} {:>6} {:>16} {:>6}",
                t.currency,
                t.kind.as_str(),
                t.stripe,
                t.stripe_count,
                t.ledger,
                t.ledger_count
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "matched: {}, in transit: {}, differences: {}",
            self.matched,
            self.in_transit,
            self.differences.len()
        );
        for d in &self.differences {
            let amount = |a: Option<Decimal>| a.map_or_else(|| "—".to_owned(), |a| a.to_string());
            let _ = writeln!(
                out,
                "  {:<18} {:<18} {:<32} {} Stripe {} ledger {}",
                match d.difference {
                    DifferenceKind::MissingInLedger => "missing in ledger",
                    DifferenceKind::MissingAtStripe => "missing at Stripe",
                    DifferenceKind::AmountDiffers => "amount differs",
                },
                d.kind.as_str(),
                d.key,
                d.currency,
                amount(d.stripe),
                amount(d.ledger)
            );
        }
        out
    }
}

/// Reconciles `period`: Stripe's balance transactions (read through `stripe`) against the
/// ledger's postings on Stripe's balance.
pub async fn reconcile(db: &PgPool, stripe: &Stripe, period: Period) -> Result<Report, Error> {
    let window = (period.from - MARGIN, period.to + MARGIN);
    let stripe_items = stripe_items(stripe, window).await?;
    let mut ledger_items = ledger_items(db, window).await?;
    // Stripe's groups the window's ledger lacks: asked again without a time bound
    let known: BTreeSet<(ItemKind, &str)> = ledger_items.iter().map(|i| (i.kind, i.key.as_str())).collect();
    let lacking: Vec<String> = stripe_items
        .iter()
        .filter(|i| period.contains(i.at) && !known.contains(&(i.kind, i.key.as_str())))
        .map(|i| i.key.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !lacking.is_empty() {
        let outside = ledger_items_by_key(db, &lacking, window).await?;
        ledger_items.extend(outside);
    }
    Ok(compare(period, &stripe_items, &ledger_items))
}

/// Groups both sides and names every difference; pure, so every case is testable alone.
pub fn compare(period: Period, stripe: &[Item], ledger: &[Item]) -> Report {
    #[derive(Default)]
    struct Group {
        stripe: Option<Decimal>,
        ledger: Option<Decimal>,
        in_period: bool,
        in_transit: bool,
    }
    type Key = (&'static str, ItemKind, String);
    let mut groups: BTreeMap<Key, Group> = BTreeMap::new();
    let mut totals: BTreeMap<(&'static str, ItemKind), KindTotal> = BTreeMap::new();
    for (side_is_stripe, items) in [(true, stripe), (false, ledger)] {
        for item in items {
            let code = item.currency.code();
            let group = groups.entry((code, item.kind, item.key.clone())).or_default();
            let sum = if side_is_stripe { &mut group.stripe } else { &mut group.ledger };
            *sum = Some(sum.unwrap_or_default() + item.amount);
            group.in_transit |= item.in_transit;
            if period.contains(item.at) {
                group.in_period = true;
                let total = totals.entry((code, item.kind)).or_insert_with(|| KindTotal {
                    currency: code.to_owned(),
                    kind: item.kind,
                    stripe: Decimal::ZERO,
                    stripe_count: 0,
                    ledger: Decimal::ZERO,
                    ledger_count: 0,
                });
                if side_is_stripe {
                    total.stripe += item.amount;
                    total.stripe_count += 1;
                } else {
                    total.ledger += item.amount;
                    total.ledger_count += 1;
                }
            }
        }
    }
    let mut report = Report {
        from: period.from,
        to: period.to,
        matched: 0,
        in_transit: 0,
        differences: Vec::new(),
        totals: totals.into_values().collect(),
        payout: None,
    };
    for ((currency, kind, key), group) in groups.into_iter().filter(|(_, g)| g.in_period) {
        let difference = match (group.stripe, group.ledger) {
            (Some(s), Some(l)) if s == l => None,
            (Some(_), None) if group.in_transit => {
                report.in_transit += 1;
                continue;
            }
            (Some(_), None) => Some(DifferenceKind::MissingInLedger),
            (None, Some(_)) => Some(DifferenceKind::MissingAtStripe),
            (Some(_), Some(_)) => Some(DifferenceKind::AmountDiffers),
            (None, None) => None,
        };
        match difference {
            None => report.matched += 1,
            Some(difference) => report.differences.push(Difference {
                difference,
                kind,
                key,
                currency: currency.to_owned(),
                stripe: group.stripe,
                ledger: group.ledger,
            }),
        }
    }
    report
}

/// Every balance transaction Stripe made in `window`, with its source object, as items.
async fn stripe_items(stripe: &Stripe, window: (DateTime<Utc>, DateTime<Utc>)) -> Result<Vec<Item>, Error> {
    let created = stripe_types::RangeQueryTs::Bounds(stripe_types::RangeBoundsTs {
        gte: Some(window.0.timestamp()),
        lt: Some(window.1.timestamp()),
        ..Default::default()
    });
    list_items(stripe, || ListBalanceTransaction::new().created(created)).await
}

/// Every page of a balance transactions list (`list` gives the request's filters), with sources.
async fn list_items(stripe: &Stripe, list: impl Fn() -> ListBalanceTransaction) -> Result<Vec<Item>, Error> {
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut request = list().limit(PAGE).expand(vec!["data.source".to_owned()]);
        if let Some(after) = &after {
            request = request.starting_after(after.clone());
        }
        let page = stripe.read(&request).await?;
        after = page.data.last().map(|t| t.id.as_str().to_owned());
        for txn in &page.data {
            items.extend(items_of(txn)?);
        }
        if !page.has_more || after.is_none() {
            return Ok(items);
        }
    }
}

/// Reconciles one of Stripe's payouts to the bank: every balance transaction it settled
/// (`GET /v1/balance_transactions?payout=po_…`: donations, fees, refunds, disputes, transfers and
/// the payout itself) against the ledger's bookings of the same objects, whenever they were
/// booked. Only the groups the payout holds are compared: a refund Stripe settled in a later
/// payout belongs to that one's report.
pub async fn reconcile_payout(db: &PgPool, stripe: &Stripe, payout: &str) -> Result<Report, Error> {
    if !zbor_stripe::events::is_stripe_id(payout, "po_") {
        return Err(Error::invalid("payout", "a Stripe payout id (po_…)"));
    }
    let stripe_items = list_items(stripe, || ListBalanceTransaction::new().payout(payout.to_owned())).await?;
    let groups: BTreeSet<(ItemKind, &str)> = stripe_items.iter().map(|i| (i.kind, i.key.as_str())).collect();
    let keys: Vec<String> =
        groups.iter().map(|(_, key)| (*key).to_owned()).collect::<BTreeSet<_>>().into_iter().collect();
    let never = (DateTime::<Utc>::UNIX_EPOCH, DateTime::<Utc>::UNIX_EPOCH);
    let ledger_items: Vec<Item> = ledger_items_by_key(db, &keys, never)
        .await?
        .into_iter()
        .filter(|i| groups.contains(&(i.kind, i.key.as_str())))
        .collect();
    let times = stripe_items.iter().chain(&ledger_items).map(|i| i.at);
    let (Some(from), Some(to)) = (times.clone().min(), times.max()) else {
        return Err(Error::invalid(
            "payout",
            format!("Stripe lists no balance transaction of payout {payout}"),
        ));
    };
    // every item of the payout is in its report
    let period = Period { from, to: to + Duration::seconds(1) };
    let mut report = compare(period, &stripe_items, &ledger_items);
    report.payout = Some(payout.to_owned());
    Ok(report)
}

/// The items one balance transaction makes (see the module's documentation).
pub fn items_of(txn: &BalanceTransaction) -> Result<Vec<Item>, Error> {
    let currency = Currency::parse(&txn.currency.to_string().to_ascii_uppercase()).map_err(|_| {
        Error::StripeAnswer(format!("balance transaction {} in an unknown currency", txn.id.as_str()))
    })?;
    let money = |minor: i64| -> Result<Decimal, Error> {
        Ok(Money::from_minor_units(minor, currency)
            .map_err(|_| Error::StripeAnswer(format!("balance transaction {}: amount", txn.id.as_str())))?
            .amount())
    };
    let at = DateTime::from_timestamp(txn.created, 0)
        .ok_or_else(|| Error::StripeAnswer(format!("balance transaction {}: created", txn.id.as_str())))?;
    let source = txn.source.as_ref().and_then(|s| s.as_object());
    let item = |kind: ItemKind, key: &str, amount: Decimal| Item {
        currency,
        kind,
        key: key.to_owned(),
        amount,
        at,
        in_transit: false,
    };
    use BalanceTransactionType as T;
    let mut items = Vec::with_capacity(2);
    // (kind of the amount, kind of the fee, key)
    let classified: Option<(ItemKind, ItemKind, String)> = match (&txn.type_, source) {
        (T::Charge | T::Payment, Some(BalanceTransactionSource::Charge(charge))) => {
            let key = charge
                .payment_intent
                .as_ref()
                .map_or_else(|| charge.id.as_str().to_owned(), |p| p.id().as_str().to_owned());
            Some((ItemKind::Charge, ItemKind::Fee, key))
        }
        (T::Refund | T::PaymentRefund, Some(BalanceTransactionSource::Refund(refund))) => {
            let key = refund
                .payment_intent
                .as_ref()
                .map_or_else(|| refund.id.as_str().to_owned(), |p| p.id().as_str().to_owned());
            Some((ItemKind::Refund, ItemKind::Fee, key))
        }
        (T::Adjustment, Some(BalanceTransactionSource::Dispute(dispute))) => {
            Some((ItemKind::Dispute, ItemKind::DisputeFee, dispute.id.as_str().to_owned()))
        }
        (T::Transfer, Some(BalanceTransactionSource::Transfer(transfer))) => {
            Some((ItemKind::Transfer, ItemKind::Fee, transfer.id.as_str().to_owned()))
        }
        (
            T::TransferCancel | T::TransferRefund | T::TransferFailure,
            Some(BalanceTransactionSource::TransferReversal(reversal)),
        ) => Some((ItemKind::TransferReversal, ItemKind::Fee, reversal.transfer.id().as_str().to_owned())),
        (T::Payout | T::PayoutCancel | T::PayoutFailure, Some(BalanceTransactionSource::Payout(payout))) => {
            let mut payout_item = item(ItemKind::Payout, payout.id.as_str(), money(txn.amount)?);
            payout_item.in_transit = matches!(payout.status.as_str(), "pending" | "in_transit");
            items.push(payout_item);
            None
        }
        _ => None,
    };
    match classified {
        Some((kind, fee_kind, key)) => {
            items.push(item(kind, &key, money(txn.amount)?));
            if txn.fee != 0 {
                items.push(item(fee_kind, &key, -money(txn.fee)?));
            }
        }
        None if items.is_empty() => items.push(item(ItemKind::Other, txn.id.as_str(), money(txn.net)?)),
        None => {}
    }
    Ok(items)
}

/// The ledger's side: how each booking on Stripe's balance names the Stripe object it is about.
/// The ledger keeps what a booking came from in its metadata (`kind` and an id); a donation's,
/// fee's or refund's PaymentIntent is on its donation row.
const LEDGER_ITEMS: &str = "
    with items as (
        select a.currency::text as currency, p.amount, t.created_at,
               case t.metadata->>'kind'
                   when 'donation' then 'charge'
                   when 'stripe_fee' then 'fee'
                   when 'refund' then 'refund'
                   when 'dispute' then 'dispute'
                   when 'dispute_fee' then 'dispute_fee'
                   when 'payout' then 'transfer'
                   when 'payout_reversal' then 'transfer_reversal'
                   when 'stripe_payout' then 'payout'
                   when 'stripe_payout_failure' then 'payout'
                   else 'other'
               end as kind,
               case t.metadata->>'kind'
                   when 'donation' then coalesce(d.stripe_payment_intent, d.stripe_session_id)
                   when 'stripe_fee' then coalesce(d.stripe_payment_intent, d.stripe_session_id)
                   when 'refund' then coalesce(d.stripe_payment_intent, d.stripe_session_id)
                   when 'dispute' then t.metadata->>'dispute'
                   when 'dispute_fee' then t.metadata->>'dispute'
                   when 'payout' then t.metadata->>'reference'
                   when 'payout_reversal' then t.metadata->>'transfer'
                   when 'stripe_payout' then t.metadata->>'stripe_payout'
                   when 'stripe_payout_failure' then t.metadata->>'stripe_payout'
               end as key,
               t.id
        from ledger_postings p
        join ledger_accounts a on a.id = p.account_id
        join ledger_transactions t on t.id = p.transaction_id
        left join donations d on d.stripe_session_id = t.metadata->>'stripe_session'
        where a.code like 'stripe:balance:%' and FILTER
    )
    select currency, amount, created_at, kind, coalesce(key, id::text) from items";

type LedgerRow = (String, Decimal, DateTime<Utc>, String, String);

async fn ledger_items(db: &PgPool, window: (DateTime<Utc>, DateTime<Utc>)) -> Result<Vec<Item>, Error> {
    let sql = LEDGER_ITEMS.replace("FILTER", "t.created_at >= $1 and t.created_at < $2");
    let rows: Vec<LedgerRow> = sqlx::query_as(&sql).bind(window.0).bind(window.1).fetch_all(db).await?;
    rows.into_iter().map(ledger_item).collect()
}

/// Items of `keys` booked outside `window` (which was read already).
async fn ledger_items_by_key(
    db: &PgPool,
    keys: &[String],
    window: (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<Item>, Error> {
    let sql = LEDGER_ITEMS.replace("FILTER", "not (t.created_at >= $2 and t.created_at < $3)")
        + " where coalesce(key, id::text) = any($1)";
    let rows: Vec<LedgerRow> =
        sqlx::query_as(&sql).bind(keys).bind(window.0).bind(window.1).fetch_all(db).await?;
    rows.into_iter().map(ledger_item).collect()
}

fn ledger_item((currency, amount, at, kind, key): LedgerRow) -> Result<Item, Error> {
    let kind = match kind.as_str() {
        "charge" => ItemKind::Charge,
        "fee" => ItemKind::Fee,
        "refund" => ItemKind::Refund,
        "dispute" => ItemKind::Dispute,
        "dispute_fee" => ItemKind::DisputeFee,
        "transfer" => ItemKind::Transfer,
        "transfer_reversal" => ItemKind::TransferReversal,
        "payout" => ItemKind::Payout,
        _ => ItemKind::Other,
    };
    let currency = Currency::parse(&currency)?;
    // at the currency's scale, as Stripe's side is (`101` → `101.00`)
    let amount = Money::new(amount, currency).map_or(amount, |m| m.amount());
    Ok(Item { currency, kind, key, amount, at, in_transit: false })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn item(kind: ItemKind, key: &str, amount: &str, time: &str) -> Item {
        Item {
            currency: eur(),
            kind,
            key: key.into(),
            amount: amount.parse().unwrap(),
            at: at(time),
            in_transit: false,
        }
    }

    fn day() -> Period {
        Period::day(chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()).unwrap()
    }

    #[test]
    fn periods_are_ordered_and_bounded() {
        let t = at("2026-11-30T00:00:00Z");
        assert!(Period::new(t, t).is_err());
        assert!(Period::new(t, t - Duration::seconds(1)).is_err());
        assert!(Period::new(t, t + Duration::days(31)).is_ok());
        assert!(Period::new(t, t + Duration::days(31) + Duration::seconds(1)).is_err());
        assert_eq!(day().to() - day().from(), Duration::days(1));
    }

    #[test]
    fn a_day_that_agrees_is_clean_even_across_midnight() {
        use ItemKind as K;
        let stripe = [
            item(K::Charge, "pi_1", "25.00", "2026-11-30T10:00:00Z"),
            item(K::Fee, "pi_1", "-0.63", "2026-11-30T10:00:00Z"),
            // Stripe made it at 23:59:59, the webhook was booked after midnight
            item(K::Charge, "pi_2", "100.00", "2026-11-30T23:59:59Z"),
            item(K::Refund, "pi_1", "-5.00", "2026-11-30T12:00:00Z"),
            item(K::Refund, "pi_1", "-5.00", "2026-11-30T13:00:00Z"),
            item(K::Transfer, "tr_1", "-50.00", "2026-11-30T14:00:00Z"),
        ];
        let ledger = [
            item(K::Charge, "pi_1", "25.00", "2026-11-30T10:00:01Z"),
            item(K::Fee, "pi_1", "-0.63", "2026-11-30T10:00:05Z"),
            item(K::Charge, "pi_2", "100.00", "2026-12-01T00:00:02Z"),
            // the ledger books refunds by Stripe's running total: one booking for both
            item(K::Refund, "pi_1", "-10.00", "2026-11-30T13:00:01Z"),
            item(K::Transfer, "tr_1", "-50.00", "2026-11-30T14:00:01Z"),
            // the next day's, outside the period and Stripe's window read: not this day's concern
            item(K::Charge, "pi_9", "7.00", "2026-12-01T08:00:00Z"),
        ];
        let report = compare(day(), &stripe, &ledger);
        assert!(report.is_clean(), "{:#?}", report.differences);
        assert_eq!(report.matched, 5);
        let charges = report.totals.iter().find(|t| t.kind == K::Charge).unwrap();
        assert_eq!((charges.stripe, charges.stripe_count), ("125.00".parse().unwrap(), 2));
        assert_eq!(
            (charges.ledger, charges.ledger_count),
            ("25.00".parse().unwrap(), 1),
            "pi_2's booking is tomorrow's"
        );
    }

    #[test]
    fn each_kind_of_difference_is_named() {
        use ItemKind as K;
        let stripe = [
            item(K::Charge, "pi_missed", "30.00", "2026-11-30T09:00:00Z"),
            item(K::Charge, "pi_changed", "40.00", "2026-11-30T09:00:00Z"),
            item(K::Other, "txn_radar", "-0.05", "2026-11-30T09:00:00Z"),
            Item { in_transit: true, ..item(K::Payout, "po_on_its_way", "-500.00", "2026-11-30T20:00:00Z") },
        ];
        let ledger = [
            item(K::Charge, "pi_changed", "45.00", "2026-11-30T09:00:01Z"),
            item(K::Transfer, "tr_extra", "-1000.00", "2026-11-30T11:00:00Z"),
        ];
        let report = compare(day(), &stripe, &ledger);
        assert_eq!(report.in_transit, 1);
        assert_eq!(report.matched, 0);
        let found: Vec<(DifferenceKind, ItemKind, &str)> =
            report.differences.iter().map(|d| (d.difference, d.kind, d.key.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (DifferenceKind::AmountDiffers, K::Charge, "pi_changed"),
                (DifferenceKind::MissingInLedger, K::Charge, "pi_missed"),
                (DifferenceKind::MissingAtStripe, K::Transfer, "tr_extra"),
                (DifferenceKind::MissingInLedger, K::Other, "txn_radar"),
            ]
        );
        let changed = &report.differences[0];
        assert_eq!(
            (changed.stripe, changed.ledger),
            (Some("40.00".parse().unwrap()), Some("45.00".parse().unwrap()))
        );
        let text = report.to_text();
        assert!(
            text.contains("missing in ledger")
                && text.contains("pi_missed")
                && text.contains("in transit: 1"),
            "{text}"
        );
    }
}
