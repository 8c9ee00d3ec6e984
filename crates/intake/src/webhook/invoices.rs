//! Monthly giving: a subscription's invoices book donations, its events keep its status.
//!
//! - `invoice.paid` books the invoice's amount as a donation to the campaign in the
//!   subscription's metadata (`zbor_campaign`), keyed by the invoice id: however many times and
//!   in whatever order it is delivered, an invoice books once. The first invoice of a new
//!   subscription is booked here and only here: `checkout.session.completed` for a
//!   `mode=subscription` session books nothing (it records the session's receipt reference).
//! - The donation carries the invoice's PaymentIntent, so refunds and disputes of its charge, and
//!   Stripe's fee, find it exactly as they find a one-off gift's. The PaymentIntent comes from
//!   the invoice's `payments` when the event includes them (the simulator's may), else from
//!   `invoice_payment.paid` (what live Stripe sends: its `invoice.paid` lists no payments),
//!   remembered in `invoice_payments`. Whichever of the two lands second links them, under the
//!   invoice's advisory lock, and books the refunds or fee that waited.
//! - `invoice.payment_failed` books nothing; the subscription is `past_due`.
//! - `customer.subscription.created/updated/deleted` keep the subscription's status, amount and
//!   cancel-token hash. Stripe promises no order: a status is taken only from an event at least
//!   as recent as the one that set the current status, and `canceled` is final.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use sqlx::PgConnection;
use zbor_campaigns::{AccountCode, Campaign, CampaignStatus};
use zbor_ledger::{Currency, Money, NewTransaction, TransactionId};
use zbor_stripe::events::{is_stripe_id, Context, Event, Handled, HandlerFuture, Outcome};

use super::{fees, reversals, Session, DONATIONS_BOOKED};
use crate::Error;

/// The only interval zbor offers.
const MONTH: &str = "month";

#[derive(Deserialize)]
struct Invoice {
    id: String,
    currency: String,
    amount_paid: i64,
    #[serde(default)]
    amount_due: i64,
    #[serde(default)]
    parent: Option<InvoiceParent>,
    /// API versions before 2025-03-31 named the subscription here.
    #[serde(default)]
    subscription: Option<Value>,
    /// The payments of the invoice (`invoice_payment` objects).
    #[serde(default)]
    payments: Option<List<InvoicePayment>>,
}

#[derive(Deserialize)]
struct InvoiceParent {
    subscription_details: Option<SubscriptionDetails>,
}

#[derive(Deserialize)]
struct SubscriptionDetails {
    subscription: Option<Value>,
    /// A copy of the subscription's metadata when the invoice was made.
    #[serde(default)]
    metadata: Option<HashMap<String, String>>,
}

#[derive(Deserialize)]
struct List<T> {
    data: Vec<T>,
}

#[derive(Deserialize)]
struct InvoicePayment {
    status: Option<String>,
    payment: PaymentRef,
}

#[derive(Deserialize)]
struct PaymentRef {
    payment_intent: Option<Value>,
}

#[derive(Deserialize)]
struct Subscription {
    id: String,
    status: String,
    currency: String,
    start_date: Option<i64>,
    created: i64,
    #[serde(default)]
    metadata: Option<HashMap<String, String>>,
    items: List<SubscriptionItem>,
}

#[derive(Deserialize)]
struct SubscriptionItem {
    quantity: Option<i64>,
    price: Price,
}

#[derive(Deserialize)]
struct Price {
    unit_amount: Option<i64>,
    recurring: Option<Recurring>,
}

#[derive(Deserialize)]
struct Recurring {
    interval: String,
    interval_count: Option<i64>,
}

/// Stripe's `invoice_payment`, as `invoice_payment.paid` carries it.
#[derive(Deserialize)]
struct InvoicePaymentEvent {
    invoice: Value,
    status: Option<String>,
    payment: PaymentRef,
}

/// One invoice's events are handled one at a time (`invoice.paid` and `invoice_payment.paid`),
/// before its payment's lock: always in that order, so two handlers cannot deadlock.
async fn lock_invoice(db: &mut PgConnection, invoice: &str) -> Result<(), Error> {
    reversals::lock_until_commit(db, "zbor-invoice:", invoice).await
}

/// The PaymentIntent an `invoice_payment.paid` said paid the invoice.
async fn paid_by(db: &mut PgConnection, invoice: &str) -> Result<Option<String>, Error> {
    Ok(sqlx::query_scalar("select stripe_payment_intent from invoice_payments where stripe_invoice_id = $1")
        .bind(invoice)
        .fetch_optional(&mut *db)
        .await?)
}

/// `invoice_payment.paid`: remembers which PaymentIntent paid the invoice; when its donation is
/// booked already without one, links it and books what waited for it (refunds, disputes' share
/// through the refunds' path, the fee).
async fn invoice_payment_paid(db: &mut PgConnection, event: &Event) -> Result<Handled, Error> {
    let payment: InvoicePaymentEvent = event.object_as("invoice payment")?;
    let (Some(invoice), Some(payment_intent)) =
        (id_of(&payment.invoice), payment.payment.payment_intent.as_ref().and_then(id_of))
    else {
        // paid out of band, or by something other than a PaymentIntent: nothing to link
        return Ok(Handled::ignored());
    };
    if payment.status.as_deref() != Some("paid") {
        return Ok(Handled::ignored());
    }
    if !is_stripe_id(invoice, "in_") || !is_stripe_id(payment_intent, "pi_") {
        return Err(Error::MalformedEvent("invoice payment's invoice or payment intent".into()));
    }
    lock_invoice(db, invoice).await?;
    reversals::lock_payment(db, payment_intent).await?;
    sqlx::query(
        "insert into invoice_payments (stripe_invoice_id, stripe_payment_intent) values ($1, $2)
         on conflict (stripe_invoice_id) do nothing",
    )
    .bind(invoice)
    .bind(payment_intent)
    .execute(&mut *db)
    .await?;
    let linked: Option<(String, String)> = sqlx::query_as(
        "update donations d set stripe_payment_intent = $2
         from campaigns c
         where d.stripe_session_id = $1 and d.stripe_payment_intent is null and c.id = d.campaign_id
         returning c.slug, d.status::text",
    )
    .bind(invoice)
    .bind(payment_intent)
    .fetch_optional(&mut *db)
    .await?;
    let Some((slug, status)) = linked else {
        // the invoice's own event has not come yet (it will find this), or it knew already
        return Ok(Handled::new(Outcome::Waiting));
    };
    if status != "paid" {
        return Ok(Handled::new(Outcome::Waiting).for_campaign(&slug));
    }
    let refunds = reversals::apply_refunds(db, payment_intent).await?;
    let fee_booked = fees::apply_fee(db, payment_intent).await?.is_some();
    let done = match refunds.review_reason {
        Some(reason) => Handled::review(reason),
        None if fee_booked || refunds.outcome == Outcome::Booked => Handled::new(Outcome::Booked),
        // linked; nothing was waiting for it
        None => Handled::ignored(),
    };
    Ok(done.for_campaign(&slug))
}

/// An id Stripe sends as a string, or as the object when expanded.
fn id_of(value: &Value) -> Option<&str> {
    value.as_str().or_else(|| value["id"].as_str())
}

impl Invoice {
    fn details(&self) -> Option<&SubscriptionDetails> {
        self.parent.as_ref()?.subscription_details.as_ref()
    }

    fn subscription_id(&self) -> Option<&str> {
        self.details()
            .and_then(|d| d.subscription.as_ref())
            .and_then(id_of)
            .or_else(|| self.subscription.as_ref().and_then(id_of))
    }

    fn metadata(&self, key: &str) -> Option<&str> {
        self.details()?.metadata.as_ref()?.get(key).map(String::as_str)
    }

    /// The PaymentIntent of the payment that paid the invoice.
    fn payment_intent(&self) -> Option<&str> {
        self.payments
            .as_ref()?
            .data
            .iter()
            .filter(|p| p.status.as_deref() == Some("paid"))
            .find_map(|p| p.payment.payment_intent.as_ref().and_then(id_of))
    }
}

/// The subscription statuses zbor keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Active,
    PastDue,
    Canceled,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::PastDue => "past_due",
            Status::Canceled => "canceled",
        }
    }

    /// Stripe's status as zbor keeps it: paying, behind, or over. `None`: one zbor does not know.
    fn from_stripe(status: &str) -> Option<Status> {
        match status {
            "active" | "trialing" => Some(Status::Active),
            "past_due" | "unpaid" | "incomplete" | "paused" => Some(Status::PastDue),
            "canceled" | "incomplete_expired" => Some(Status::Canceled),
            _ => None,
        }
    }
}

/// What one event says about a subscription.
struct Seen<'a> {
    id: &'a str,
    campaign: &'a Campaign,
    amount: Money,
    /// None: the event says nothing about the status (a paid invoice, a completed session); a
    /// new row starts `active`.
    status: Option<Status>,
    /// Stripe's time of the event.
    at: DateTime<Utc>,
    started: DateTime<Utc>,
    cancel_hash: Option<Vec<u8>>,
    receipt_reference: Option<String>,
}

/// Records what `seen` says: the row is made on first sight; later sights fill in what was
/// missing (the cancel hash, the receipt reference) and move the status forward.
async fn record(db: &mut PgConnection, seen: &Seen<'_>) -> Result<(), Error> {
    if !is_stripe_id(seen.id, "sub_") {
        return Err(Error::MalformedEvent("subscription id".into()));
    }
    let status = seen.status.map(Status::as_str);
    sqlx::query(
        "insert into subscriptions (stripe_subscription_id, campaign_id, currency, amount, \"interval\", status,
                                    status_at, cancel_token_hash, receipt_reference, started_at, canceled_at)
         values ($1, $2, $3, $4, $5, coalesce($6::text, 'active')::subscription_status, $7, $8, $9, $10,
                 case when $6::text = 'canceled' then $7 end)
         on conflict (stripe_subscription_id) do update
             set cancel_token_hash = coalesce(subscriptions.cancel_token_hash, excluded.cancel_token_hash),
                 receipt_reference = coalesce(subscriptions.receipt_reference, excluded.receipt_reference)",
    )
    .bind(seen.id)
    .bind(seen.campaign.id)
    .bind(seen.amount.currency().code())
    .bind(seen.amount.amount())
    .bind(MONTH)
    .bind(status)
    .bind(seen.at)
    .bind(seen.cancel_hash.as_deref())
    .bind(seen.receipt_reference.as_deref())
    .bind(seen.started)
    .execute(&mut *db)
    .await?;
    if let Some(status) = status {
        sqlx::query(
            "update subscriptions
             set status = $2::subscription_status, status_at = $3, amount = $4,
                 canceled_at = case when $2 = 'canceled' then $3 end
             where stripe_subscription_id = $1 and status <> 'canceled' and status_at <= $3",
        )
        .bind(seen.id)
        .bind(status)
        .bind(seen.at)
        .bind(seen.amount.amount())
        .execute(&mut *db)
        .await?;
    }
    if let Some(reference) = &seen.receipt_reference {
        // invoices booked before the session's event arrived
        sqlx::query(
            "update donations set receipt_reference = $2
             where stripe_subscription_id = $1 and receipt_reference is null",
        )
        .bind(seen.id)
        .bind(reference)
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}

fn event_time(event: &Event) -> Result<DateTime<Utc>, Error> {
    DateTime::from_timestamp(event.created, 0).ok_or_else(|| Error::MalformedEvent("created".into()))
}

async fn campaign_by_slug(db: &mut PgConnection, slug: Option<&str>) -> Result<Option<Campaign>, Error> {
    let Some(slug) = slug else { return Ok(None) };
    match zbor_campaigns::by_slug(db, slug).await {
        Ok(campaign) => Ok(Some(campaign)),
        Err(zbor_campaigns::Error::CampaignNotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `minor` in `code`, when that is the campaign's currency and positive.
fn amount_in(campaign: &Campaign, minor: i64, code: &str) -> Result<Option<Money>, Error> {
    match Currency::parse(code) {
        Ok(currency) if currency == campaign.currency && minor > 0 => {
            Ok(Some(Money::from_minor_units(minor, currency)?))
        }
        _ => Ok(None),
    }
}

pub(super) fn paid<'a>(db: &'a mut PgConnection, event: &'a Event, _: &'a Context) -> HandlerFuture<'a> {
    Box::pin(async move { Ok(invoice_paid(db, event).await?) })
}

pub(super) fn payment_paid<'a>(
    db: &'a mut PgConnection,
    event: &'a Event,
    _: &'a Context,
) -> HandlerFuture<'a> {
    Box::pin(async move { Ok(invoice_payment_paid(db, event).await?) })
}

pub(super) fn payment_failed<'a>(
    db: &'a mut PgConnection,
    event: &'a Event,
    _: &'a Context,
) -> HandlerFuture<'a> {
    Box::pin(async move { Ok(invoice_failed(db, event).await?) })
}

pub(super) fn subscription<'a>(
    db: &'a mut PgConnection,
    event: &'a Event,
    _: &'a Context,
) -> HandlerFuture<'a> {
    Box::pin(async move { Ok(subscription_changed(db, event).await?) })
}

async fn invoice_paid(db: &mut PgConnection, event: &Event) -> Result<Handled, Error> {
    let invoice: Invoice = event.object_as("invoice")?;
    let Some(subscription) = invoice.subscription_id() else {
        // an invoice zbor did not make (no subscription of a campaign): nothing to book
        return Ok(Handled::ignored());
    };
    if !is_stripe_id(&invoice.id, "in_") {
        return Err(Error::MalformedEvent("invoice id".into()));
    }
    if invoice.payment_intent().is_some_and(|pi| !is_stripe_id(pi, "pi_")) {
        return Err(Error::MalformedEvent("invoice payment intent".into()));
    }
    lock_invoice(db, &invoice.id).await?;
    let payment_intent = match invoice.payment_intent() {
        Some(pi) => Some(pi.to_owned()),
        None => paid_by(db, &invoice.id).await?,
    };
    let payment_intent = payment_intent.as_deref();
    let Some(campaign) = campaign_by_slug(db, invoice.metadata("zbor_campaign")).await? else {
        return Ok(Handled::review(format!(
            "invoice {}: no campaign matches its subscription's metadata",
            invoice.id
        )));
    };
    if invoice.amount_paid == 0 && invoice.amount_due == 0 {
        // a free period: nothing was paid
        return Ok(Handled::ignored());
    }
    let Some(amount) = amount_in(&campaign, invoice.amount_paid, &invoice.currency)? else {
        return Ok(Handled::review(format!(
            "invoice {}: currency or amount does not fit campaign {}",
            invoice.id,
            campaign.slug.as_str()
        )));
    };
    if invoice.metadata("zbor_interval") != Some(MONTH) {
        return Ok(Handled::review(format!("invoice {}: not a monthly gift of zbor's", invoice.id)));
    }
    let at = event_time(event)?;
    let seen = Seen {
        id: subscription,
        campaign: &campaign,
        amount,
        status: None,
        at,
        started: at,
        cancel_hash: invoice.metadata("zbor_cancel_hash").and_then(crate::subscriptions::parse_hash_hex),
        receipt_reference: None,
    };
    // One payment's events are handled one at a time, as for one-off gifts.
    if let Some(payment_intent) = payment_intent {
        reversals::lock_payment(db, payment_intent).await?;
    }
    record(db, &seen).await?;
    let anonymous = match invoice.metadata("zbor_anonymous") {
        Some("false") => Some(false),
        Some("true") => Some(true),
        _ => None,
    };
    // A monthly donor's identity is never kept (`donor_sealed` stays null).
    sqlx::query(
        "insert into donations (stripe_session_id, campaign_id, currency, amount, status, stripe_payment_intent,
                                anonymous, stripe_subscription_id, receipt_reference)
         values ($1, $2, $3, $4, 'pending', $5, $6, $7,
                 (select receipt_reference from subscriptions where stripe_subscription_id = $7))
         on conflict (stripe_session_id) do update
             set stripe_payment_intent = coalesce(donations.stripe_payment_intent, excluded.stripe_payment_intent)",
    )
    .bind(&invoice.id)
    .bind(campaign.id)
    .bind(amount.currency().code())
    .bind(amount.amount())
    .bind(payment_intent)
    .bind(anonymous)
    .bind(subscription)
    .execute(&mut *db)
    .await?;
    let (status, booked_amount): (String, rust_decimal::Decimal) =
        sqlx::query_as("select status::text, amount from donations where stripe_session_id = $1 for update")
            .bind(&invoice.id)
            .fetch_one(&mut *db)
            .await?;
    let slug = campaign.slug.as_str();
    if status == "paid" {
        return Ok(Handled::ignored().for_campaign(slug));
    }
    if booked_amount != amount.amount() {
        return Ok(Handled::review(format!("invoice {} changed amount", invoice.id)).for_campaign(slug));
    }
    if campaign.status == CampaignStatus::Closed {
        // The donor has paid: the money is the campaign's even after it closed.
        tracing::info!(campaign = %slug, "booking a monthly donation to a closed campaign");
    }
    let stripe_balance =
        zbor_ledger::account_by_code(&mut *db, AccountCode::stripe_balance(amount.currency()).as_str())
            .await?;
    let id = TransactionId::derived_from(&invoice.id);
    let tx = NewTransaction::new(id)
        .debit(stripe_balance.id, amount)
        .credit(campaign.ledger_account, amount)
        .metadata(serde_json::json!({
            "kind": "donation", "stripe_invoice": invoice.id, "stripe_subscription": subscription,
        }));
    zbor_ledger::post_in(db, &tx).await?;
    sqlx::query(
        "update donations set status = 'paid', ledger_transaction_id = $2, paid_at = now()
         where stripe_session_id = $1",
    )
    .bind(&invoice.id)
    .bind(id)
    .execute(&mut *db)
    .await?;
    let mut review_reason = None;
    if let Some(payment_intent) = payment_intent {
        // a refund reported, or a fee fetched, before this invoice's event
        review_reason = reversals::apply_refunds(db, payment_intent).await?.review_reason;
        fees::apply_fee(db, payment_intent).await?;
    }
    let done = match review_reason {
        Some(reason) => Handled::review(reason),
        None => Handled::new(Outcome::Booked),
    };
    Ok(done.counted_as(DONATIONS_BOOKED).for_campaign(slug))
}

async fn invoice_failed(db: &mut PgConnection, event: &Event) -> Result<Handled, Error> {
    let invoice: Invoice = event.object_as("invoice")?;
    let Some(subscription) = invoice.subscription_id() else { return Ok(Handled::ignored()) };
    let Some(campaign) = campaign_by_slug(db, invoice.metadata("zbor_campaign")).await? else {
        return Ok(Handled::review(format!(
            "invoice {}: no campaign matches its subscription's metadata",
            invoice.id
        )));
    };
    let Some(amount) = amount_in(&campaign, invoice.amount_due, &invoice.currency)? else {
        return Ok(Handled::review(format!("invoice {}: currency or amount does not fit", invoice.id)));
    };
    let at = event_time(event)?;
    let seen = Seen {
        id: subscription,
        campaign: &campaign,
        amount,
        status: Some(Status::PastDue),
        at,
        started: at,
        cancel_hash: invoice.metadata("zbor_cancel_hash").and_then(crate::subscriptions::parse_hash_hex),
        receipt_reference: None,
    };
    record(db, &seen).await?;
    Ok(Handled::new(Outcome::Failed).changing_totals_of(campaign.slug.as_str()))
}

async fn subscription_changed(db: &mut PgConnection, event: &Event) -> Result<Handled, Error> {
    let subscription: Subscription = event.object_as("subscription")?;
    let metadata = subscription.metadata.as_ref();
    let Some(campaign) =
        campaign_by_slug(db, metadata.and_then(|m| m.get("zbor_campaign")).map(String::as_str)).await?
    else {
        // a subscription that is not one of zbor's gifts
        return Ok(Handled::ignored());
    };
    let Some(status) = Status::from_stripe(&subscription.status) else {
        return Ok(Handled::review(format!("subscription {}: unknown status", subscription.id)));
    };
    let [item] = subscription.items.data.as_slice() else {
        return Ok(Handled::review(format!("subscription {}: not one item", subscription.id)));
    };
    let monthly = item
        .price
        .recurring
        .as_ref()
        .is_some_and(|r| r.interval == MONTH && r.interval_count.unwrap_or(1) == 1);
    let minor = item.price.unit_amount.unwrap_or(0).checked_mul(item.quantity.unwrap_or(1)).unwrap_or(0);
    let amount = amount_in(&campaign, minor, &subscription.currency)?;
    let (true, Some(amount)) = (monthly, amount) else {
        return Ok(Handled::review(format!(
            "subscription {}: not a monthly amount in {}",
            subscription.id, campaign.currency
        )));
    };
    let started = DateTime::from_timestamp(subscription.start_date.unwrap_or(subscription.created), 0)
        .ok_or_else(|| Error::MalformedEvent("start_date".into()))?;
    let seen = Seen {
        id: &subscription.id,
        campaign: &campaign,
        amount,
        status: Some(status),
        at: event_time(event)?,
        started,
        cancel_hash: metadata
            .and_then(|m| m.get("zbor_cancel_hash"))
            .and_then(|h| crate::subscriptions::parse_hash_hex(h)),
        receipt_reference: None,
    };
    record(db, &seen).await?;
    Ok(Handled::ignored().changing_totals_of(campaign.slug.as_str()))
}

/// `checkout.session.completed` of a `mode=subscription` session: books nothing (its first
/// invoice's `invoice.paid` does), records the session's receipt reference for the
/// subscription and its donations.
pub(super) async fn subscription_session(
    db: &mut PgConnection,
    event: &Event,
    session: &Session,
) -> Result<Handled, Error> {
    let Some(subscription) = session.subscription.as_ref().and_then(id_of) else {
        return Ok(Handled::ignored());
    };
    if session.payment_status.as_deref() != Some("paid") {
        return Ok(Handled::ignored());
    }
    let Some(campaign) = super::attribute(db, session).await? else {
        return Ok(Handled::review("no campaign matches the session's metadata"));
    };
    let Some(amount) = super::session_amount(session, &campaign)? else {
        return Ok(Handled::review(format!("session {}: currency or amount does not fit", session.id)));
    };
    let at = event_time(event)?;
    let seen = Seen {
        id: subscription,
        campaign: &campaign,
        amount,
        status: None,
        at,
        started: at,
        cancel_hash: None,
        receipt_reference: crate::receipt::reference(&session.id),
    };
    record(db, &seen).await?;
    Ok(Handled::ignored().changing_totals_of(campaign.slug.as_str()))
}
