//! Stripe webhooks: verify, store once, book each payment once.
//!
//! Everything for one event happens in one database transaction: the event row, the donation's
//! state, and its ledger booking. So a 2xx (sent only after that commit) means all of it is
//! durable, and a failure anywhere leaves nothing behind for Stripe's retry to trip over.

//! Donations from Stripe's events: checkout sessions book donations, charges record fees,
//! refunds and disputes reverse them. Each payment is booked once.
//!
//! The event store (`zbor_stripe::events`) runs these handlers inside its transaction: the event
//! row, the donation's state and its ledger booking commit together, or not at all.

pub mod fees;
mod invoices;
mod paid_sessions;
mod reversals;

use serde::Deserialize;
use sqlx::{PgConnection, PgPool};
use zbor_campaigns::{AccountCode, Campaign, CampaignStatus};
use zbor_ledger::{Currency, Money, NewTransaction, TransactionId};
use zbor_stripe::events::{is_stripe_id, Context, Dispatcher, Event, Handled, HandlerFuture, Outcome};
use zbor_vault::DataKey;

use crate::Error;

/// Prometheus counters of donations booked and refunds booked (how many, never amounts or who):
/// counted once the event's transaction commits.
pub const DONATIONS_BOOKED: &str = "zbor_donations_booked_total";
pub const DONATIONS_REFUNDED: &str = "zbor_donations_refunded_total";

/// Registers donations' handlers in the event table.
pub fn register(events: Dispatcher) -> Dispatcher {
    events
        .on("checkout.session.completed", checkout_session)
        .on_many("checkout.session.completed", paid_sessions::completed)
        .on("checkout.session.async_payment_succeeded", checkout_session)
        .on("checkout.session.async_payment_failed", checkout_session)
        .on("charge.succeeded", charge)
        .on("charge.updated", charge)
        .on("charge.refunded", charge_refunded)
        .on("charge.dispute.created", dispute)
        .on("charge.dispute.closed", dispute)
        .on("invoice.paid", invoices::paid)
        .on("invoice.payment_failed", invoices::payment_failed)
        .on("invoice_payment.paid", invoices::payment_paid)
        .on("customer.subscription.created", invoices::subscription)
        .on("customer.subscription.updated", invoices::subscription)
        .on("customer.subscription.deleted", invoices::subscription)
}

/// A Checkout Session's event: how far it settles the donation depends on which one it is.
fn checkout_session<'a>(
    db: &'a mut PgConnection,
    event: &'a Event,
    context: &'a Context,
) -> HandlerFuture<'a> {
    let settles = match event.kind.as_str() {
        "checkout.session.async_payment_succeeded" => Settlement::Paid,
        "checkout.session.async_payment_failed" => Settlement::Failed,
        // `completed`: paid by card at once, or a SEPA debit still to settle
        _ => Settlement::FromStatus,
    };
    Box::pin(checkout(db, event, settles, context.data_key.as_ref()))
}

fn charge<'a>(db: &'a mut PgConnection, event: &'a Event, _: &'a Context) -> HandlerFuture<'a> {
    Box::pin(async move { Ok(fees::record_charge(db, event.object_as("charge")?).await?) })
}

fn charge_refunded<'a>(db: &'a mut PgConnection, event: &'a Event, _: &'a Context) -> HandlerFuture<'a> {
    Box::pin(async move { Ok(reversals::refund(db, event.object_as("charge")?).await?) })
}

fn dispute<'a>(db: &'a mut PgConnection, event: &'a Event, _: &'a Context) -> HandlerFuture<'a> {
    Box::pin(async move { Ok(reversals::dispute(db, event.object_as("dispute")?).await?) })
}

/// The fields of a Checkout Session that booking needs; Stripe sends many more.
#[derive(Deserialize)]
struct Session {
    id: String,
    mode: Option<String>,
    amount_total: Option<i64>,
    currency: Option<String>,
    payment_status: Option<String>,
    payment_intent: Option<String>,
    payment_link: Option<String>,
    #[serde(default)]
    metadata: Option<std::collections::HashMap<String, String>>,
    /// Who paid, as Stripe collected it. Kept (sealed) only for donors who chose to be named.
    customer_details: Option<CustomerDetails>,
    /// `mode=subscription`: the subscription it started (an id, or the object when expanded).
    #[serde(default)]
    subscription: Option<serde_json::Value>,
}

/// Never logged, never stored in clear: no `Debug`.
#[derive(Deserialize, serde::Serialize)]
struct CustomerDetails {
    name: Option<String>,
    email: Option<String>,
}

impl Session {
    /// The donor's choice at our checkout; `None` for Payment Links (always anonymous).
    fn anonymous(&self) -> Option<bool> {
        match self.metadata.as_ref()?.get("zbor_anonymous")?.as_str() {
            "false" => Some(false),
            "true" => Some(true),
            _ => None,
        }
    }
}

/// A checkout session's event: its donation moves forward (`settles` says how far).
async fn checkout(
    db: &mut PgConnection,
    event: &Event,
    settles: Settlement,
    data_key: Option<&DataKey>,
) -> Result<Handled, zbor_stripe::Error> {
    let session: Session = event.object_as("checkout session")?;
    if session.mode.as_deref() == Some("subscription") {
        // a monthly gift: its invoices book it (`invoice.paid`), this session does not
        return Ok(invoices::subscription_session(db, event, &session).await?);
    }
    if session.mode.as_deref() != Some("payment") {
        return Ok(Handled::ignored());
    }
    let settlement = match (settles, session.payment_status.as_deref()) {
        (Settlement::FromStatus, Some("paid")) | (Settlement::Paid, _) => Settlement::Paid,
        (Settlement::FromStatus, Some("unpaid")) => Settlement::Pending,
        (Settlement::FromStatus, _) => return Ok(Handled::ignored()),
        (Settlement::Failed, _) => Settlement::Failed,
        (Settlement::Pending, _) => Settlement::Pending,
    };
    let Some(campaign) = attribute(db, &session).await? else {
        return Ok(Handled::review("no campaign matches the session's metadata or payment link"));
    };
    let Some(amount) = session_amount(&session, &campaign)? else {
        return Ok(Handled::review(format!(
            "session currency or amount does not fit campaign {} ({})",
            campaign.slug.as_str(),
            campaign.currency
        )));
    };
    let handled = donation(db, &session, &campaign, amount, settlement, data_key).await?;
    Ok(handled.for_campaign(campaign.slug.as_str()))
}

#[derive(Clone, Copy)]
enum Settlement {
    FromStatus,
    Pending,
    Paid,
    Failed,
}

/// The campaign a session belongs to: `metadata.zbor_campaign` (Checkout Sessions we create), or
/// the Payment Link it came through. Never guessed.
async fn attribute(db: &mut PgConnection, session: &Session) -> Result<Option<Campaign>, Error> {
    let slug = session.metadata.as_ref().and_then(|m| m.get("zbor_campaign"));
    if let Some(slug) = slug {
        return match zbor_campaigns::by_slug(db, slug).await {
            Ok(campaign) => Ok(Some(campaign)),
            Err(zbor_campaigns::Error::CampaignNotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        };
    }
    match &session.payment_link {
        Some(link) => Ok(zbor_campaigns::by_payment_link(db, link).await?),
        None => Ok(None),
    }
}

fn session_amount(session: &Session, campaign: &Campaign) -> Result<Option<Money>, Error> {
    let (Some(minor), Some(code)) = (session.amount_total, session.currency.as_deref()) else {
        return Ok(None);
    };
    let Ok(currency) = Currency::parse(code) else {
        return Ok(None);
    };
    if currency != campaign.currency || minor <= 0 {
        return Ok(None);
    }
    Ok(Some(Money::from_minor_units(minor, currency)?))
}

/// The donor's name and email sealed for this donation, when the donor chose to be named and
/// a data key is configured; otherwise nothing is kept.
fn sealed_donor(session: &Session, data_key: Option<&DataKey>) -> Result<Option<Vec<u8>>, Error> {
    match (session.anonymous(), data_key, &session.customer_details) {
        (Some(false), Some(key), Some(donor)) if donor.name.is_some() || donor.email.is_some() => {
            let plain = serde_json::to_vec(donor).map_err(|e| Error::MalformedEvent(e.to_string()))?;
            Ok(Some(key.seal(&plain, &donor_record(&session.id))?))
        }
        _ => Ok(None),
    }
}

/// Moves the session's donation forward. Keyed by the session, not the event, so any number and
/// order of events for one payment books it exactly once.
async fn donation(
    db: &mut PgConnection,
    session: &Session,
    campaign: &Campaign,
    amount: Money,
    settlement: Settlement,
    data_key: Option<&DataKey>,
) -> Result<Handled, Error> {
    let payment_intent_ok = session.payment_intent.as_deref().is_none_or(|pi| is_stripe_id(pi, "pi_"));
    if !is_stripe_id(&session.id, "cs_") || !payment_intent_ok {
        return Err(Error::MalformedEvent("checkout session id".into()));
    }
    // One payment's events (checkout, refunds, disputes) are handled one at a time, so a refund
    // racing its own donation cannot each miss the other's uncommitted row.
    if let Some(payment_intent) = &session.payment_intent {
        reversals::lock_payment(db, payment_intent).await?;
    }
    let initial = match settlement {
        Settlement::Failed => "failed",
        Settlement::Pending | Settlement::Paid | Settlement::FromStatus => "pending",
    };
    let anonymous = session.anonymous();
    let donor_sealed = sealed_donor(session, data_key)?;
    sqlx::query(
        "insert into donations (stripe_session_id, campaign_id, currency, amount, status, stripe_payment_intent,
                                anonymous, donor_sealed, receipt_reference)
         values ($1, $2, $3, $4, $5::donation_status, $6, $7, $8, $9)
         on conflict (stripe_session_id) do update
             set stripe_payment_intent = coalesce(donations.stripe_payment_intent, excluded.stripe_payment_intent),
                 donor_sealed = coalesce(donations.donor_sealed, excluded.donor_sealed)",
    )
    .bind(&session.id)
    .bind(campaign.id)
    .bind(amount.currency().code())
    .bind(amount.amount())
    .bind(initial)
    .bind(session.payment_intent.as_deref())
    .bind(anonymous)
    .bind(donor_sealed)
    .bind(crate::receipt::reference(&session.id))
    .execute(&mut *db)
    .await?;
    let (status, booked_amount): (String, rust_decimal::Decimal) =
        sqlx::query_as("select status::text, amount from donations where stripe_session_id = $1 for update")
            .bind(&session.id)
            .fetch_one(&mut *db)
            .await?;
    if booked_amount != amount.amount() {
        return Ok(Handled::review(format!("session {} changed amount", session.id)));
    }
    match (settlement, status.as_str()) {
        (_, "paid") => Ok(Handled::ignored()),
        (Settlement::Paid, _) => match book(db, session, campaign, amount).await? {
            None => Ok(Handled::new(Outcome::Booked).counted_as(DONATIONS_BOOKED)),
            // booked; but a refund that arrived earlier does not fit and needs a person
            Some(reason) => Ok(Handled::review(reason).counted_as(DONATIONS_BOOKED)),
        },
        (Settlement::Failed, _) => {
            sqlx::query("update donations set status = 'failed' where stripe_session_id = $1")
                .bind(&session.id)
                .execute(&mut *db)
                .await?;
            Ok(Handled::new(Outcome::Failed))
        }
        (Settlement::Pending | Settlement::FromStatus, _) => Ok(Handled::new(Outcome::Waiting)),
    }
}

/// Books the donation; returns a review reason when a refund that arrived earlier cannot be applied.
async fn book(
    db: &mut PgConnection,
    session: &Session,
    campaign: &Campaign,
    amount: Money,
) -> Result<Option<String>, Error> {
    if campaign.status == CampaignStatus::Closed {
        // The donor has paid: the money is the campaign's even after it closed.
        tracing::info!(campaign = %campaign.slug.as_str(), "booking a donation to a closed campaign");
    }
    let stripe_balance =
        zbor_ledger::account_by_code(&mut *db, AccountCode::stripe_balance(amount.currency()).as_str())
            .await?;
    let id = TransactionId::derived_from(&session.id);
    let tx = NewTransaction::new(id)
        .debit(stripe_balance.id, amount)
        .credit(campaign.ledger_account, amount)
        .metadata(serde_json::json!({ "kind": "donation", "stripe_session": session.id }));
    zbor_ledger::post_in(db, &tx).await?;
    sqlx::query(
        "update donations set status = 'paid', ledger_transaction_id = $2, paid_at = now()
         where stripe_session_id = $1",
    )
    .bind(&session.id)
    .bind(id)
    .execute(&mut *db)
    .await?;
    // A refund reported before this payment's checkout event is applied now.
    if let Some(payment_intent) = &session.payment_intent {
        let review_reason = reversals::apply_refunds(db, payment_intent).await?.review_reason;
        // and a fee already fetched
        fees::apply_fee(db, payment_intent).await?;
        return Ok(review_reason);
    }
    Ok(None)
}

/// What a donor's sealed identity is bound to: it opens only for this donation.
pub fn donor_record(session_id: &str) -> String {
    format!("donation:{session_id}")
}

/// The name and email a named donor gave, opened with the data key. `None` for anonymous donors.
pub async fn donor(
    conn: &mut PgConnection,
    data_key: &DataKey,
    session_id: &str,
) -> Result<Option<(Option<String>, Option<String>)>, Error> {
    let sealed: Option<Option<Vec<u8>>> =
        sqlx::query_scalar("select donor_sealed from donations where stripe_session_id = $1")
            .bind(session_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(sealed) = sealed.flatten() else { return Ok(None) };
    let plain = data_key.open(&sealed, &donor_record(session_id))?;
    let donor: CustomerDetails = serde_json::from_slice(&plain)
        .map_err(|e| Error::MalformedEvent(zbor_stripe::events::json_problem(&e)))?;
    Ok(Some((donor.name, donor.email)))
}

/// Key rotation (`zbor vault rotate`, docs/KEYS.md): every named donor's identity sealed under
/// another key version than `key`'s is sealed again under it, for the same donation. One short
/// transaction per donation, done once its sealed value carries the current version: a killed
/// run continues where it stopped, and donations keep arriving meanwhile.
pub async fn rekey_donors(
    pool: &PgPool,
    key: &DataKey,
    progress: &mut zbor_vault::Progress<'_>,
) -> Result<zbor_vault::Rotated, Error> {
    let mut rotated = zbor_vault::Rotated::default();
    let mut after = String::new();
    loop {
        let sessions: Vec<String> = sqlx::query_scalar(
            "select stripe_session_id from donations
             where stripe_session_id > $1 and donor_sealed is not null
               and zbor_key_version(donor_sealed) is distinct from $2
             order by stripe_session_id limit 100",
        )
        .bind(&after)
        .bind(i32::from(key.version()))
        .fetch_all(pool)
        .await?;
        let Some(last) = sessions.last().cloned() else { return Ok(rotated) };
        for session in sessions {
            let mut db = pool.begin().await?;
            let sealed: Option<Option<Vec<u8>>> = sqlx::query_scalar(
                "select donor_sealed from donations where stripe_session_id = $1 for update",
            )
            .bind(&session)
            .fetch_optional(&mut *db)
            .await?;
            if let Some(sealed) = sealed.flatten().filter(|sealed| key.is_outdated(sealed)) {
                match key.reseal(&sealed, &donor_record(&session)) {
                    Ok(resealed) => {
                        sqlx::query("update donations set donor_sealed = $2 where stripe_session_id = $1")
                            .bind(&session)
                            .bind(resealed)
                            .execute(&mut *db)
                            .await?;
                        db.commit().await?;
                        rotated.rekeyed += 1;
                    }
                    Err(e) => rotated.failed.push(format!("donation {session}: its donor: {e}")),
                }
            }
            if progress(rotated.rekeyed) == std::ops::ControlFlow::Break(()) {
                rotated.interrupted = true;
                return Ok(rotated);
            }
        }
        after = last;
    }
}

/// Key rotation: named donors whose identity is not yet sealed under `key`'s version.
pub async fn count_outdated_donors(pool: &PgPool, key: &DataKey) -> Result<i64, Error> {
    Ok(sqlx::query_scalar(
        "select count(*) from donations
         where donor_sealed is not null and zbor_key_version(donor_sealed) is distinct from $1",
    )
    .bind(i32::from(key.version()))
    .fetch_one(pool)
    .await?)
}
