//! Many `checkout.session.completed` events at once: a group commit's share of them.
//!
//! What [`super::checkout`] does for one session, in a fixed number of statements for the
//! group: one campaign lookup, one statement locking the payments (in one order, so two groups
//! cannot deadlock), one multi-row insert of the donations, one ledger statement booking them
//! all ([`zbor_ledger::post_many_in`]), one update marking them paid, one look for refunds or
//! fees that arrived first. The database checks are the ones a single booking meets.
//!
//! Only the common case takes this path: a paid session of ours (`metadata.zbor_campaign`) for a
//! campaign that exists, in its currency, seen once in the group. Everything else (unpaid SEPA
//! debits, Payment Links, another mode, an amount that does not fit, a session twice in the
//! group) takes the single path afterwards, one by one, inside the same transaction: one
//! payment's events give the same result in any order, so that order is as good as any.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use sqlx::PgConnection;
use zbor_campaigns::{AccountCode, Campaign, CampaignStatus};
use zbor_ledger::{Currency, Money, NewTransaction, TransactionId};
use zbor_stripe::events::{is_stripe_id, BatchFuture, Context, Event, Handled, Outcome};
use zbor_vault::DataKey;

use super::{fees, reversals, Session, Settlement, DONATIONS_BOOKED};
use crate::Error;

/// The batch handler registered for `checkout.session.completed`.
pub(super) fn completed<'a>(
    db: &'a mut PgConnection,
    events: &'a [&'a Event],
    context: &'a Context,
) -> BatchFuture<'a> {
    Box::pin(async move { Ok(sessions(db, events, context.data_key.as_ref()).await?) })
}

/// A paid session taking the group's path.
struct Paid<'s> {
    index: usize,
    session: &'s Session,
    payment_intent: &'s str,
    campaign: &'s Campaign,
    amount: Money,
}

async fn sessions(
    db: &mut PgConnection,
    events: &[&Event],
    data_key: Option<&DataKey>,
) -> Result<Vec<Handled>, Error> {
    let sessions: Vec<Session> =
        events.iter().map(|event| event.object_as("checkout session")).collect::<Result<_, _>>()?;
    let mut handled: Vec<Option<Handled>> = (0..events.len()).map(|_| None).collect();

    // the common case: paid, ours, each session once
    let mut seen = HashSet::new();
    let simple: Vec<(usize, &Session, &str, &str)> = sessions
        .iter()
        .enumerate()
        .filter_map(|(i, session)| {
            let slug = session.metadata.as_ref()?.get("zbor_campaign")?;
            let payment_intent = session.payment_intent.as_deref()?;
            let paid = session.mode.as_deref() == Some("payment")
                && session.payment_status.as_deref() == Some("paid");
            (paid && seen.insert(session.id.as_str())).then_some((i, session, payment_intent, slug.as_str()))
        })
        .collect();
    let mut slugs: Vec<&str> = simple.iter().map(|(_, _, _, slug)| *slug).collect();
    slugs.sort_unstable();
    slugs.dedup();
    let campaigns: HashMap<String, Campaign> = if slugs.is_empty() {
        HashMap::new()
    } else {
        zbor_campaigns::by_slugs(db, &slugs)
            .await?
            .into_iter()
            .map(|c| (c.slug.as_str().to_owned(), c))
            .collect()
    };
    let mut paid: Vec<Paid<'_>> = Vec::with_capacity(simple.len());
    for (index, session, payment_intent, slug) in simple {
        if !is_stripe_id(&session.id, "cs_") || !is_stripe_id(payment_intent, "pi_") {
            return Err(Error::MalformedEvent("checkout session id".into()));
        }
        // an unknown campaign or an amount that does not fit: the single path says why
        let Some(campaign) = campaigns.get(slug) else { continue };
        let Some(amount) = super::session_amount(session, campaign)? else { continue };
        paid.push(Paid { index, session, payment_intent, campaign, amount });
    }
    if !paid.is_empty() {
        book(db, &paid, data_key, &mut handled).await?;
    }
    // the rest, one by one, as if each came alone
    for (i, event) in events.iter().enumerate() {
        if handled[i].is_none() {
            handled[i] = Some(super::checkout(db, event, Settlement::FromStatus, data_key).await?);
        }
    }
    Ok(handled.into_iter().map(|h| h.unwrap_or_else(Handled::ignored)).collect())
}

async fn book(
    db: &mut PgConnection,
    paid: &[Paid<'_>],
    data_key: Option<&DataKey>,
    handled: &mut [Option<Handled>],
) -> Result<(), Error> {
    // One payment's events are handled one at a time (as in the single path): locks taken in
    // one order, by one statement.
    let mut payments: Vec<&str> = paid.iter().map(|p| p.payment_intent).collect();
    payments.sort_unstable();
    payments.dedup();
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('zbor-payment:' || p, 0)) from unnest($1::text[]) as p")
        .bind(&payments)
        .execute(&mut *db)
        .await?;

    let sealed: Vec<Option<Vec<u8>>> =
        paid.iter().map(|p| super::sealed_donor(p.session, data_key)).collect::<Result<_, _>>()?;
    let rows: Vec<(String, String, Decimal)> = sqlx::query_as(
        "insert into donations (stripe_session_id, campaign_id, currency, amount, status, stripe_payment_intent,
                                anonymous, donor_sealed, receipt_reference)
         select session, campaign, currency, amount, 'pending', payment_intent, anonymous, donor_sealed, reference
         from unnest($1::text[], $2::bigint[], $3::text[], $4::numeric[], $5::text[], $6::bool[], $7::bytea[],
                     $8::text[])
              as d (session, campaign, currency, amount, payment_intent, anonymous, donor_sealed, reference)
         on conflict (stripe_session_id) do update
             set stripe_payment_intent = coalesce(donations.stripe_payment_intent, excluded.stripe_payment_intent),
                 donor_sealed = coalesce(donations.donor_sealed, excluded.donor_sealed)
         returning stripe_session_id, status::text, amount",
    )
    .bind(paid.iter().map(|p| p.session.id.as_str()).collect::<Vec<_>>())
    .bind(paid.iter().map(|p| p.campaign.id.as_i64()).collect::<Vec<_>>())
    .bind(paid.iter().map(|p| p.amount.currency().code()).collect::<Vec<_>>())
    .bind(paid.iter().map(|p| p.amount.amount()).collect::<Vec<_>>())
    .bind(paid.iter().map(|p| p.payment_intent).collect::<Vec<_>>())
    .bind(paid.iter().map(|p| p.session.anonymous()).collect::<Vec<_>>())
    .bind(&sealed)
    .bind(paid.iter().map(|p| crate::receipt::reference(&p.session.id)).collect::<Vec<_>>())
    .fetch_all(&mut *db)
    .await?;
    let stored: HashMap<&str, (&str, Decimal)> =
        rows.iter().map(|(session, status, amount)| (session.as_str(), (status.as_str(), *amount))).collect();

    let mut to_book: Vec<&Paid<'_>> = Vec::with_capacity(paid.len());
    for p in paid {
        let slug = p.campaign.slug.as_str();
        handled[p.index] = Some(match stored.get(p.session.id.as_str()) {
            Some(("paid", _)) => Handled::ignored().for_campaign(slug),
            Some((_, amount)) if *amount == p.amount.amount() => {
                to_book.push(p);
                continue;
            }
            _ => Handled::review(format!("session {} changed amount", p.session.id)).for_campaign(slug),
        });
    }
    if to_book.is_empty() {
        return Ok(());
    }

    let mut balances: HashMap<Currency, zbor_ledger::AccountId> = HashMap::new();
    let mut transactions = Vec::with_capacity(to_book.len());
    for p in &to_book {
        if p.campaign.status == CampaignStatus::Closed {
            // The donor has paid: the money is the campaign's even after it closed.
            tracing::info!(campaign = %p.campaign.slug.as_str(), "booking a donation to a closed campaign");
        }
        let currency = p.amount.currency();
        let balance = match balances.get(&currency) {
            Some(id) => *id,
            None => {
                let code = AccountCode::stripe_balance(currency);
                let id = zbor_ledger::account_by_code(&mut *db, code.as_str()).await?.id;
                balances.insert(currency, id);
                id
            }
        };
        transactions.push(
            NewTransaction::new(TransactionId::derived_from(&p.session.id))
                .debit(balance, p.amount)
                .credit(p.campaign.ledger_account, p.amount)
                .metadata(serde_json::json!({ "kind": "donation", "stripe_session": p.session.id })),
        );
    }
    zbor_ledger::post_many_in(&mut *db, &transactions).await?;
    sqlx::query(
        "update donations d set status = 'paid', ledger_transaction_id = b.transaction, paid_at = now()
         from unnest($1::text[], $2::uuid[]) as b (session, transaction)
         where d.stripe_session_id = b.session",
    )
    .bind(to_book.iter().map(|p| p.session.id.as_str()).collect::<Vec<_>>())
    .bind(transactions.iter().map(|t| t.id.as_uuid()).collect::<Vec<_>>())
    .execute(&mut *db)
    .await?;

    // A refund reported, or a fee fetched, before this payment's checkout event is applied now
    // (rare in a burst: one look finds which).
    let booked_payments: Vec<&str> = to_book.iter().map(|p| p.payment_intent).collect();
    let earlier: HashSet<String> = sqlx::query_scalar(
        "select stripe_payment_intent from charge_refunds where stripe_payment_intent = any($1)
         union
         select stripe_payment_intent from charge_fees where stripe_payment_intent = any($1) and fee is not null",
    )
    .bind(&booked_payments)
    .fetch_all(&mut *db)
    .await?
    .into_iter()
    .collect();
    for p in to_book {
        let mut review_reason = None;
        if earlier.contains(p.payment_intent) {
            review_reason = reversals::apply_refunds(db, p.payment_intent).await?.review_reason;
            fees::apply_fee(db, p.payment_intent).await?;
        }
        let done = match review_reason {
            // booked; but a refund that arrived earlier does not fit and needs a person
            Some(reason) => Handled::review(reason),
            None => Handled::new(Outcome::Booked),
        };
        handled[p.index] = Some(done.counted_as(DONATIONS_BOOKED).for_campaign(p.campaign.slug.as_str()));
    }
    Ok(())
}
