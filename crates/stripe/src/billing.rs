//! The three Billing calls zbor makes for monthly giving, as small requests of its own: cancel a
//! subscription, read one (for its customer), and open the customer portal for that customer.
//! async-stripe's `async-stripe-billing` would bring every Billing resource's generated types
//! into the build for these three calls and the few fields zbor reads.

use serde::Serialize;
use stripe::StripeRequest;
use stripe_client_core::{RequestBuilder, StripeMethod};

/// The fields of a Subscription zbor reads back.
#[derive(Debug, miniserde::Deserialize)]
pub struct Subscription {
    pub id: String,
    pub status: String,
    /// The customer's id (never expanded here): only to open the portal for them.
    pub customer: String,
}

/// `DELETE /v1/subscriptions/{id}`: cancels at once. Stripe treats a DELETE as idempotent by
/// definition (no key needed): cancelling again answers the canceled subscription.
pub struct CancelSubscription<'a>(pub &'a str);

impl StripeRequest for CancelSubscription<'_> {
    type Output = Subscription;
    fn build(&self) -> RequestBuilder {
        RequestBuilder::new(StripeMethod::Delete, format!("/subscriptions/{}", self.0))
    }
}

/// `GET /v1/subscriptions/{id}`.
pub struct RetrieveSubscription<'a>(pub &'a str);

impl StripeRequest for RetrieveSubscription<'_> {
    type Output = Subscription;
    fn build(&self) -> RequestBuilder {
        RequestBuilder::new(StripeMethod::Get, format!("/subscriptions/{}", self.0))
    }
}

/// `POST /v1/billing_portal/sessions` for a customer, straight to cancelling one subscription
/// (`flow_data[type]=subscription_cancel`), returning to `return_url` afterwards.
#[derive(Serialize)]
pub struct CreatePortalSession<'a> {
    pub customer: &'a str,
    pub return_url: &'a str,
    pub flow_data: PortalFlow<'a>,
}

#[derive(Serialize)]
pub struct PortalFlow<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub subscription_cancel: PortalSubscriptionCancel<'a>,
}

#[derive(Serialize)]
pub struct PortalSubscriptionCancel<'a> {
    pub subscription: &'a str,
}

impl<'a> CreatePortalSession<'a> {
    pub fn cancel(customer: &'a str, subscription: &'a str, return_url: &'a str) -> CreatePortalSession<'a> {
        CreatePortalSession {
            customer,
            return_url,
            flow_data: PortalFlow {
                kind: "subscription_cancel",
                subscription_cancel: PortalSubscriptionCancel { subscription },
            },
        }
    }
}

/// The portal session's fields zbor reads: where to send the donor.
#[derive(Debug, miniserde::Deserialize)]
pub struct PortalSession {
    pub id: String,
    pub url: String,
}

impl StripeRequest for CreatePortalSession<'_> {
    type Output = PortalSession;
    fn build(&self) -> RequestBuilder {
        RequestBuilder::new(StripeMethod::Post, "/billing_portal/sessions").form(self)
    }
}
