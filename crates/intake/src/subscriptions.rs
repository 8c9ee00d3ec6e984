//! Monthly donors' subscriptions: what zbor keeps of them, and cancelling one.
//!
//! A subscription row holds the Stripe subscription id, its campaign, amount, currency,
//! interval and status, never who the donor is. The donor's capability to cancel is a random
//! token handed out once at checkout; zbor keeps only its SHA-256 (first on the subscription's
//! metadata at Stripe, `zbor_cancel_hash`, then here once the subscription's events arrive).
//! Whoever holds the token may cancel the subscription, here (`cancel`) or in Stripe's customer
//! portal (`portal`); anything else is "no such subscription" and changes nothing.

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use zbor_stripe::billing::{CancelSubscription, CreatePortalSession, RetrieveSubscription};
use zbor_stripe::Stripe;

use crate::Error;

/// `zc_` and 64 hex digits: 256 random bits (two v4 UUIDs' 244, and a third's rest).
const TOKEN_PREFIX: &str = "zc_";
const TOKEN_LEN: usize = 3 + 64;

/// A fresh cancel token for one monthly donor. Shown to them once; never stored.
pub fn new_cancel_token() -> String {
    let random: String = (0..3).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect();
    // mixing three UUIDs through SHA-256 keeps every random bit and gives a fixed length
    format!("{TOKEN_PREFIX}{}", hex::encode(Sha256::digest(random.as_bytes())))
}

/// What is kept of a token: its SHA-256.
pub fn cancel_token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The hash as it travels in the subscription's metadata at Stripe.
pub fn cancel_token_hash_hex(token: &str) -> String {
    hex::encode(cancel_token_hash(token))
}

/// The hash from the subscription's metadata, when it is one.
pub(crate) fn parse_hash_hex(hex_hash: &str) -> Option<Vec<u8>> {
    hex::decode(hex_hash).ok().filter(|bytes| bytes.len() == 32)
}

fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A subscription as the cancel endpoints answer it.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SubscriptionState {
    /// `active`, `past_due` or `canceled`.
    #[schema(example = "canceled")]
    pub status: String,
    pub campaign: String,
}

/// The subscription the token is for: its Stripe id, status and campaign.
async fn by_token(pool: &PgPool, token: &str) -> Result<(String, String, String), Error> {
    if !well_formed(token) {
        return Err(Error::SubscriptionNotFound);
    }
    let found: Option<(String, String, String)> = sqlx::query_as(
        "select s.stripe_subscription_id, s.status::text, c.slug
         from subscriptions s join campaigns c on c.id = s.campaign_id
         where s.cancel_token_hash = $1",
    )
    .bind(cancel_token_hash(token).as_slice())
    .fetch_optional(pool)
    .await?;
    found.ok_or(Error::SubscriptionNotFound)
}

/// Cancels the token's subscription at Stripe (`DELETE /v1/subscriptions/{id}`) and here,
/// audited with the change. Cancelling a canceled subscription changes nothing and answers the
/// same. A wrong token is [`Error::SubscriptionNotFound`].
pub async fn cancel(pool: &PgPool, stripe: &Stripe, token: &str) -> Result<SubscriptionState, Error> {
    let (subscription, status, campaign) = by_token(pool, token).await?;
    if status == "canceled" {
        return Ok(SubscriptionState { status, campaign });
    }
    let canceled = stripe.delete(&CancelSubscription(&subscription)).await?;
    if canceled.status != "canceled" {
        return Err(Error::Stripe(zbor_stripe::Error::Unavailable {
            attempts: 1,
            last: format!("the subscription is {} after cancelling", canceled.status),
        }));
    }
    let mut db = pool.begin().await?;
    // `status_at` now: the `customer.subscription.deleted` this causes finds it canceled already
    // (Stripe's `customer.subscription.deleted` may have been handled already: the donor's
    // action is audited all the same, as it caused the cancel)
    sqlx::query(
        "update subscriptions set status = 'canceled', status_at = greatest(status_at, now()), canceled_at = now()
         where stripe_subscription_id = $1 and status <> 'canceled'",
    )
    .bind(&subscription)
    .execute(&mut *db)
    .await?;
    let subject = format!("subscription:{subscription}");
    let entry = zbor_audit::Entry::new("donor", "subscription.cancel")
        .subject(&subject)
        .details(serde_json::json!({ "via": "cancel_token" }));
    zbor_audit::append_in(&mut db, &entry).await?;
    db.commit().await?;
    tracing::info!(subscription = %subscription, "subscription canceled by its donor");
    Ok(SubscriptionState { status: "canceled".into(), campaign })
}

/// Opens Stripe's customer portal on cancelling the token's subscription; returns where to send
/// the donor. zbor keeps no customer id: it is read from the subscription at Stripe.
pub async fn portal(pool: &PgPool, stripe: &Stripe, token: &str, public_url: &str) -> Result<String, Error> {
    let (subscription, status, campaign) = by_token(pool, token).await?;
    // back from the portal to the campaign's own give page
    let return_url = format!("{public_url}/give/{campaign}");
    let return_url = return_url.as_str();
    if status == "canceled" {
        return Err(Error::SubscriptionCanceled);
    }
    let at_stripe = stripe.read(&RetrieveSubscription(&subscription)).await?;
    let request = CreatePortalSession::cancel(&at_stripe.customer, &subscription, return_url);
    let key = zbor_stripe::random_idempotency_key("zbor:portal");
    let session = stripe.send(&request, &key).await?;
    Ok(session.url)
}
