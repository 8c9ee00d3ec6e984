//! Checkout links: the two ways a donor reaches Stripe.
//!
//! - A **Payment Link** per campaign (donor picks the amount), created at Stripe when the
//!   campaign opens. Sharing it needs no API call of ours per donor, so a burst of thousands of
//!   donors from one social-media post never meets our rate limit.
//! - A **Checkout Session** per donor from `POST /api/v1/campaigns/{slug}/checkout`, for the give
//!   page: the amount is chosen on our page, and the donor may choose to be named.
//!
//! Both carry `metadata.zbor_campaign`, so the webhook attributes the payment without guessing.
//!
//! A Checkout Session is one-off (`mode=payment`) or, with `"interval": "month"`, monthly
//! (`mode=subscription`, a recurring price for the amount in the campaign's currency). A monthly
//! donor gets a cancel token in the answer: zbor keeps only its SHA-256, on the subscription's
//! metadata at Stripe and, once the subscription's events arrive, in `subscriptions`
//! (see [`crate::subscriptions`]).

mod amount;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionLineItemsPriceDataRecurring,
    CreateCheckoutSessionLineItemsPriceDataRecurringInterval, CreateCheckoutSessionPaymentIntentData,
    CreateCheckoutSessionSubscriptionData, ProductData,
};
use stripe_checkout::{CheckoutSessionLocale, CheckoutSessionMode, CheckoutSessionSubmitType};
use stripe_payment::payment_link::{
    CreatePaymentLink, CreatePaymentLinkLineItems, CreatePaymentLinkPaymentIntentData, UpdatePaymentLink,
};
use stripe_payment::PaymentLinkSubmitType;
use stripe_product::price::{CreatePrice, CreatePriceProductData, CustomUnitAmount};
use zbor_campaigns::{Campaign, CampaignStatus};
use zbor_ledger::{Currency, Money};
use zbor_stripe::Stripe;

pub use amount::{maximum, minimum};

use crate::Error;

/// What the give page (or any client) posts to start a donation.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    /// A decimal string in the campaign's currency, e.g. `"25.00"`.
    #[schema(example = "25.00")]
    pub amount: String,
    /// Anonymous unless the donor says `false`: then their name and email from Stripe's page
    /// are kept, sealed. An anonymous donor's session carries no email from zbor either.
    #[serde(default)]
    pub anonymous: Option<bool>,
    /// `"month"`: a monthly gift (a Stripe subscription); absent: one gift.
    #[serde(default)]
    #[schema(example = "month")]
    pub interval: Option<String>,
    /// Where Stripe sends its receipt (`customer_email`, and for one gift
    /// `payment_intent_data.receipt_email`). Passed to Stripe only: zbor never stores or logs
    /// it. Not together with `"anonymous": true`.
    #[serde(default)]
    pub receipt_email: Option<String>,
    /// The donor's language (`de`, `be-BY`): Stripe's page opens in it where Stripe has it, and
    /// in the browser's language (`auto`) where not (Belarusian, Ukrainian).
    #[serde(default)]
    #[schema(example = "be")]
    pub locale: Option<String>,
}

impl CheckoutRequest {
    /// Anonymous unless the donor said otherwise.
    pub fn is_anonymous(&self) -> bool {
        self.anonymous.unwrap_or(true)
    }
}

/// How often a gift repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    Month,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Month => "month",
        }
    }
}

/// The longest receipt address taken (RFC 5321's path limit).
const RECEIPT_EMAIL_LEN_MAX: usize = 254;

/// The request's interval and receipt address, checked; bad input is a 400 with a reason.
fn parse_options(request: &CheckoutRequest) -> Result<(Option<Interval>, Option<&str>), Error> {
    let interval = match request.interval.as_deref() {
        None => None,
        Some("month") => Some(Interval::Month),
        Some(_) => {
            return Err(Error::bad_request(
                "interval",
                "the only interval is \"month\" (or none, for one gift)",
            ))
        }
    };
    let email = match request.receipt_email.as_deref().map(str::trim) {
        None => None,
        Some(_) if request.anonymous == Some(true) => {
            return Err(Error::bad_request(
                "receipt_email",
                "an anonymous gift sends no email to Stripe: leave out receipt_email or anonymous",
            ))
        }
        Some(email) if plausible_email(email) => Some(email),
        // the reason never quotes the address
        Some(_) => return Err(Error::bad_request("receipt_email", "not an email address")),
    };
    Ok((interval, email))
}

/// `local@domain.tld`, printable, no spaces: Stripe checks the rest.
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    email.len() <= RECEIPT_EMAIL_LEN_MAX
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email
            .chars()
            .all(|c| c.is_ascii_graphic() || (!c.is_ascii() && !c.is_whitespace() && !c.is_control()))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CheckoutSession {
    pub url: String,
    pub session_id: String,
    /// The reference the donor can quote (`ZB-XXXX-XXXX`), as the thank-you page shows it.
    #[schema(example = "ZB-7K3M-Q9TX")]
    pub receipt_reference: Option<String>,
    /// Monthly gifts only: the donor's capability to cancel (`POST /api/v1/subscriptions/cancel`,
    /// or Stripe's portal through `POST /api/v1/subscriptions/portal`). Shown once: zbor keeps
    /// only its hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_token: Option<String>,
}

/// zbor's side of Stripe Checkout: the Stripe client and the public address donors return to.
#[derive(Clone, Debug)]
pub struct CheckoutLinks {
    stripe: Stripe,
    /// For work no donor waits on (fees): its own, smaller rate budget, so a backlog of it never
    /// delays a donor's checkout.
    background: Stripe,
    public_url: String,
}

impl CheckoutLinks {
    pub fn new(stripe: Stripe, public_url: &str) -> CheckoutLinks {
        CheckoutLinks {
            background: stripe.clone(),
            stripe,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Background calls go through `background` and its own limiter.
    pub fn with_background(mut self, background: Stripe) -> CheckoutLinks {
        self.background = background;
        self
    }

    pub fn stripe(&self) -> &Stripe {
        &self.stripe
    }

    pub fn background(&self) -> &Stripe {
        &self.background
    }

    /// zbor's public address, without a trailing slash: where Stripe sends donors back.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Makes sure an open campaign has its Payment Link, creating it at Stripe if not. Safe to
    /// call again and from several instances: the Stripe calls carry keys derived from the
    /// campaign's id, so a repeat replays Stripe's first answer, and the first link recorded wins.
    pub async fn ensure_payment_link(&self, pool: &PgPool, campaign: &Campaign) -> Result<Campaign, Error> {
        if campaign.stripe_payment_link_id.is_some() || campaign.status != CampaignStatus::Open {
            return Ok(campaign.clone());
        }
        let currency = campaign.currency;
        let min = minimum(currency)?;
        let max = maximum(currency)?;
        let mut custom = CustomUnitAmount::new(true);
        custom.minimum = Some(min.to_minor_units()?);
        custom.maximum = Some(max.to_minor_units()?);
        custom.preset = campaign
            .suggested_amounts
            .iter()
            .find(|a| {
                a.checked_cmp(&min).is_ok_and(|o| o.is_ge()) && a.checked_cmp(&max).is_ok_and(|o| o.is_le())
            })
            .map(Money::to_minor_units)
            .transpose()?;
        let id = campaign.id.as_i64();
        let price = CreatePrice::new(stripe_currency(currency))
            .custom_unit_amount(custom)
            .product_data(CreatePriceProductData::new(&campaign.title))
            .metadata(campaign_metadata(campaign));
        let price = self.stripe.send(&price, &format!("zbor:campaign:{id}:price")).await?;
        let mut item = CreatePaymentLinkLineItems::new(1u64);
        item.price = Some(price.id.as_str().to_owned());
        let mut payment_intent = CreatePaymentLinkPaymentIntentData::new();
        payment_intent.metadata = Some(campaign_metadata(campaign));
        let link = CreatePaymentLink::new(vec![item])
            .submit_type(PaymentLinkSubmitType::Donate)
            .metadata(campaign_metadata(campaign))
            .payment_intent_data(payment_intent);
        let link = self.stripe.send(&link, &format!("zbor:campaign:{id}:payment-link")).await?;
        let stored = zbor_campaigns::set_payment_link(pool, campaign.id, link.id.as_str(), &link.url).await?;
        tracing::info!(campaign = %campaign.slug.as_str(), payment_link = %link.id.as_str(), "payment link created");
        Ok(stored)
    }

    /// Switches the campaign's Payment Link off when it closes (donors visiting it are told it is
    /// no longer active) and on again when it reopens. Setting a state is naturally idempotent.
    pub async fn sync_payment_link_state(&self, campaign: &Campaign) -> Result<(), Error> {
        let Some(link) = &campaign.stripe_payment_link_id else { return Ok(()) };
        let active = campaign.status == CampaignStatus::Open;
        let request = UpdatePaymentLink::new(link.as_str()).active(active);
        let key = zbor_stripe::random_idempotency_key("zbor:payment-link-state");
        self.stripe.send(&request, &key).await?;
        tracing::info!(campaign = %campaign.slug.as_str(), active, "payment link state set");
        Ok(())
    }

    /// Creates a Checkout Session for one donor. The amount must be one Stripe accepts in the
    /// campaign's currency, and the campaign must be open.
    pub async fn create_session(
        &self,
        pool: &PgPool,
        slug: &str,
        request: &CheckoutRequest,
    ) -> Result<CheckoutSession, Error> {
        let campaign = {
            let mut conn = pool.acquire().await?;
            zbor_campaigns::by_slug(&mut conn, slug).await?
        };
        if campaign.status != CampaignStatus::Open {
            return Err(Error::CampaignClosed(campaign.slug.as_str().to_owned()));
        }
        if let (Some(_), Some(overflow)) = (campaign.funded_at, &campaign.overflow) {
            return Err(Error::CampaignFunded {
                campaign: campaign.slug.as_str().to_owned(),
                overflow: overflow.as_str().to_owned(),
            });
        }
        let (interval, receipt_email) = parse_options(request)?;
        let amount = amount::donation(&request.amount, campaign.currency)?;
        let slug = campaign.slug.as_str();
        let mut metadata = campaign_metadata(&campaign);
        metadata.insert("zbor_anonymous".into(), request.is_anonymous().to_string());

        let mut product = ProductData::new(&campaign.title);
        product.description = None;
        let mut price = CreateCheckoutSessionLineItemsPriceData::new(stripe_currency(campaign.currency));
        price.unit_amount = Some(amount.to_minor_units()?);
        price.product_data = Some(product);
        if interval.is_some() {
            price.recurring = Some(CreateCheckoutSessionLineItemsPriceDataRecurring::new(
                CreateCheckoutSessionLineItemsPriceDataRecurringInterval::Month,
            ));
        }
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price_data = Some(price);
        item.quantity = Some(1);
        // Stripe replaces the placeholder with the session's id: the thank-you page derives the
        // receipt reference from it.
        let success_url =
            format!("{}/give/{slug}/thanks?session_id={{CHECKOUT_SESSION_ID}}", self.public_url);
        let mut session = CreateCheckoutSession::new()
            .line_items(vec![item])
            .success_url(success_url)
            .cancel_url(format!("{}/give/{slug}", self.public_url))
            .locale(stripe_locale(request.locale.as_deref()));
        if let Some(email) = receipt_email {
            session = session.customer_email(email);
        }
        let mut cancel_token = None;
        match interval {
            None => {
                let mut payment_intent = CreateCheckoutSessionPaymentIntentData::new();
                payment_intent.metadata = Some(campaign_metadata(&campaign));
                payment_intent.receipt_email = receipt_email.map(str::to_owned);
                session = session
                    .mode(CheckoutSessionMode::Payment)
                    .submit_type(CheckoutSessionSubmitType::Donate)
                    .payment_intent_data(payment_intent);
            }
            Some(interval) => {
                let token = crate::subscriptions::new_cancel_token();
                metadata.insert("zbor_interval".into(), interval.as_str().to_owned());
                let mut subscription_metadata = metadata.clone();
                subscription_metadata
                    .insert("zbor_cancel_hash".into(), crate::subscriptions::cancel_token_hash_hex(&token));
                let mut subscription = CreateCheckoutSessionSubscriptionData::new();
                subscription.metadata = Some(subscription_metadata);
                session = session.mode(CheckoutSessionMode::Subscription).subscription_data(subscription);
                cancel_token = Some(token);
            }
        }
        let session = session.metadata(metadata);
        // One key per donor's click, kept across this call's retries.
        let key = zbor_stripe::random_idempotency_key("zbor:checkout");
        let session = self.stripe.send(&session, &key).await?;
        let url = session.url.ok_or_else(|| {
            Error::Stripe(zbor_stripe::Error::Unavailable {
                attempts: 1,
                last: "Checkout Session without a url".into(),
            })
        })?;
        let session_id = session.id.as_str().to_owned();
        Ok(CheckoutSession {
            url,
            receipt_reference: crate::receipt::reference(&session_id),
            session_id,
            cancel_token,
        })
    }
}

/// Stripe Checkout's languages without a region (its `locale` parameter); a region of ours is
/// dropped (`de-AT` is `de`), and a language Stripe lacks is `auto`.
const STRIPE_LANGUAGES: &[&str] = &[
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fil", "fr", "hr", "hu", "id", "it", "ja", "ko",
    "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt", "ro", "ru", "sk", "sl", "sv", "th", "tr", "vi", "zh",
];

fn stripe_locale(language: Option<&str>) -> CheckoutSessionLocale {
    let primary = language.and_then(|l| l.split(['-', '_']).next()).unwrap_or("").to_ascii_lowercase();
    match STRIPE_LANGUAGES.iter().find(|known| **known == primary) {
        // a listed value: parses to its own variant, never `Unknown`
        Some(known) => known.parse().unwrap_or(CheckoutSessionLocale::Auto),
        None => CheckoutSessionLocale::Auto,
    }
}

fn campaign_metadata(campaign: &Campaign) -> HashMap<String, String> {
    HashMap::from([("zbor_campaign".to_owned(), campaign.slug.as_str().to_owned())])
}

fn stripe_currency(currency: Currency) -> stripe_types::Currency {
    let Ok(currency) = currency.stripe_code().parse();
    currency
}
