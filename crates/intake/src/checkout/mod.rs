//! Checkout links: the two ways a donor reaches Stripe.
//!
//! - A **Payment Link** per campaign (donor picks the amount), created at Stripe when the
//!   campaign opens. Sharing it needs no API call of ours per donor, so a burst of thousands of
//!   donors from one social-media post never meets our rate limit.
//! - A **Checkout Session** per donor from `POST /api/v1/campaigns/{slug}/checkout`, for the give
//!   page: the amount is chosen on our page, and the donor may choose to be named.
//!
//! Both carry `metadata.zbor_campaign`, so the webhook attributes the payment without guessing.

mod amount;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, ProductData,
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
    /// Anonymous unless the donor says otherwise: then no name or email is kept.
    #[serde(default = "anonymous_by_default")]
    pub anonymous: bool,
    /// The donor's language (`de`, `be-BY`): Stripe's page opens in it where Stripe has it, and
    /// in the browser's language (`auto`) where not (Belarusian, Ukrainian).
    #[serde(default)]
    #[schema(example = "be")]
    pub locale: Option<String>,
}

fn anonymous_by_default() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CheckoutSession {
    pub url: String,
    pub session_id: String,
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
        let amount = amount::donation(&request.amount, campaign.currency)?;
        let slug = campaign.slug.as_str();
        let mut metadata = campaign_metadata(&campaign);
        metadata.insert("zbor_anonymous".into(), request.anonymous.to_string());

        let mut product = ProductData::new(&campaign.title);
        product.description = None;
        let mut price = CreateCheckoutSessionLineItemsPriceData::new(stripe_currency(campaign.currency));
        price.unit_amount = Some(amount.to_minor_units()?);
        price.product_data = Some(product);
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price_data = Some(price);
        item.quantity = Some(1);
        let mut payment_intent = CreateCheckoutSessionPaymentIntentData::new();
        payment_intent.metadata = Some(campaign_metadata(&campaign));
        let request = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .submit_type(CheckoutSessionSubmitType::Donate)
            .line_items(vec![item])
            .metadata(metadata)
            .payment_intent_data(payment_intent)
            .success_url(format!("{}/give/{slug}/thanks", self.public_url))
            .cancel_url(format!("{}/give/{slug}", self.public_url))
            .locale(stripe_locale(request.locale.as_deref()));
        // One key per donor's click, kept across this call's retries.
        let key = zbor_stripe::random_idempotency_key("zbor:checkout");
        let session = self.stripe.send(&request, &key).await?;
        let url = session.url.ok_or_else(|| {
            Error::Stripe(zbor_stripe::Error::Unavailable {
                attempts: 1,
                last: "Checkout Session without a url".into(),
            })
        })?;
        Ok(CheckoutSession { url, session_id: session.id.as_str().to_owned() })
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
