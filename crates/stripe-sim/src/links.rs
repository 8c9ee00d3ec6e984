//! Prices and Payment Links, and a simulated donor paying through a link: Stripe then creates a
//! Checkout Session for the link (with the link's id and metadata) and completes it like any
//! other session.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Form, Json};
use serde_json::{json, Value};

use crate::sessions::{self, Customer, NewSession, PayMethod};
use crate::{form_int, form_map, form_value, new_id, ApiError, Sim};

/// A payment link, with the price of its one line item: a pay needs its currency and amount rules.
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) object: Value,
    pub(crate) price: Value,
    pub(crate) quantity: i64,
}

pub(crate) async fn create_price(
    State(sim): State<Arc<Sim>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let currency = form_value(&form, "currency").ok_or_else(|| ApiError::missing("currency"))?;
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(ApiError::invalid("currency", format!("Invalid currency: {currency}")));
    }
    if form.iter().any(|(k, _)| k.starts_with("recurring")) {
        return Err(ApiError::invalid("recurring", "The simulator supports one-time prices only."));
    }
    let custom = form_value(&form, "custom_unit_amount[enabled]") == Some("true");
    let (unit_amount, custom_unit_amount) = match (custom, form_int(&form, "unit_amount")?) {
        (true, Some(_)) => {
            return Err(ApiError::invalid(
                "unit_amount",
                "You may only specify one of these parameters: custom_unit_amount, unit_amount.",
            ))
        }
        (true, None) => (None, Some(custom_amount_rules(&form)?)),
        (false, Some(amount)) if amount >= 0 => (Some(amount), None),
        (false, Some(_)) => return Err(ApiError::invalid("unit_amount", "Invalid non-negative integer.")),
        (false, None) => return Err(ApiError::missing("unit_amount")),
    };
    // A product named in `product_data` is created with the price; only its id is kept.
    let product = match (form_value(&form, "product"), form_value(&form, "product_data[name]")) {
        (Some(product), _) => product.to_owned(),
        (None, Some(_)) => new_id("prod"),
        (None, None) => return Err(ApiError::missing("product")),
    };

    let id = new_id("price");
    let mut price = sim.fixture("price");
    price["id"] = json!(id);
    price["created"] = json!(sim.now());
    price["currency"] = json!(currency.to_ascii_lowercase());
    price["unit_amount"] = json!(unit_amount);
    price["unit_amount_decimal"] = json!(unit_amount.map(|a| a.to_string()));
    price["custom_unit_amount"] = json!(custom_unit_amount);
    price["product"] = json!(product);
    price["metadata"] = Value::Object(form_map(&form, "metadata"));
    price["nickname"] = json!(form_value(&form, "nickname"));
    price["lookup_key"] = json!(form_value(&form, "lookup_key"));
    price["type"] = json!("one_time");
    price["recurring"] = Value::Null;
    price["transform_quantity"] = Value::Null;
    sim.store().prices.insert(id, price.clone());
    Ok(Json(price))
}

/// `custom_unit_amount[minimum|maximum|preset]`, each optional, consistent with each other.
fn custom_amount_rules(form: &[(String, String)]) -> Result<Value, ApiError> {
    let minimum = form_int(form, "custom_unit_amount[minimum]")?;
    let maximum = form_int(form, "custom_unit_amount[maximum]")?;
    let preset = form_int(form, "custom_unit_amount[preset]")?;
    for (param, value) in [("minimum", minimum), ("maximum", maximum), ("preset", preset)] {
        if value.is_some_and(|v| v < 0) {
            return Err(ApiError::invalid(
                &format!("custom_unit_amount[{param}]"),
                "Invalid non-negative integer.",
            ));
        }
    }
    if let (Some(minimum), Some(maximum)) = (minimum, maximum) {
        if minimum > maximum {
            return Err(ApiError::invalid(
                "custom_unit_amount[minimum]",
                "The minimum must not exceed the maximum.",
            ));
        }
    }
    if let Some(preset) = preset {
        if minimum.is_some_and(|m| preset < m) || maximum.is_some_and(|m| preset > m) {
            return Err(ApiError::invalid(
                "custom_unit_amount[preset]",
                "The preset must be between the minimum and the maximum.",
            ));
        }
    }
    Ok(json!({ "maximum": maximum, "minimum": minimum, "preset": preset }))
}

pub(crate) async fn retrieve_price(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let price = sim.store().prices.get(&id).cloned();
    price.map(Json).ok_or_else(|| ApiError::no_such("price", &id))
}

pub(crate) async fn create_link(
    State(sim): State<Arc<Sim>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    if form.iter().any(|(k, _)| k.starts_with("line_items[1]")) {
        return Err(ApiError::invalid("line_items", "The simulator supports one line item per link."));
    }
    let price_id =
        form_value(&form, "line_items[0][price]").ok_or_else(|| ApiError::missing("line_items[0][price]"))?;
    let price = sim.store().prices.get(price_id).cloned().ok_or_else(|| ApiError {
        // an unknown id in a parameter is a 400 at Stripe, a 404 only in the URL
        status: StatusCode::BAD_REQUEST,
        param: Some("line_items[0][price]".into()),
        ..ApiError::no_such("price", price_id)
    })?;
    let quantity = form_int(&form, "line_items[0][quantity]")?
        .ok_or_else(|| ApiError::missing("line_items[0][quantity]"))?;
    if quantity < 1 || (price["custom_unit_amount"].is_object() && quantity != 1) {
        return Err(ApiError::invalid(
            "line_items[0][quantity]",
            "The quantity must be positive, and 1 for a price with a customer-chosen amount.",
        ));
    }
    let submit_type = form_value(&form, "submit_type").unwrap_or("auto");
    if !["auto", "book", "donate", "pay", "subscribe"].contains(&submit_type) {
        return Err(ApiError::invalid("submit_type", format!("Invalid submit_type: {submit_type}")));
    }

    let id = new_id("plink");
    let mut link = sim.fixture("payment_link");
    link["id"] = json!(id);
    link["url"] = json!(format!("{}/pay/link/{id}", sim.base_url));
    link["active"] = json!(true);
    link["livemode"] = json!(false);
    link["currency"] = price["currency"].clone();
    link["metadata"] = Value::Object(form_map(&form, "metadata"));
    link["submit_type"] = json!(submit_type);
    link["after_completion"] = after_completion(&form).unwrap_or_else(
        || json!({ "type": "hosted_confirmation", "hosted_confirmation": { "custom_message": null } }),
    );
    link["payment_intent_data"] = json!({
        "capture_method": null,
        "description": null,
        "metadata": form_map(&form, "payment_intent_data[metadata]"),
        "setup_future_usage": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "transfer_group": null,
    });
    // What the example link has and a plain donation link has not.
    link["custom_text"] = json!({ "after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null });
    link["invoice_creation"]["enabled"] = json!(false);
    link["managed_payments"] = Value::Null;
    link["payment_method_options"] = Value::Null;
    link["restrictions"] = Value::Null;
    link["shipping_address_collection"] = Value::Null;
    link["subscription_data"] = Value::Null;
    link["transfer_data"] = Value::Null;
    let stored = Link { object: link.clone(), price, quantity };
    sim.store().links.insert(id, stored);
    Ok(Json(link))
}

pub(crate) async fn retrieve_link(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let link = sim.store().links.get(&id).map(|l| l.object.clone());
    link.map(Json).ok_or_else(|| ApiError::no_such("payment_link", &id))
}

/// `after_completion[type]=redirect` with its URL, or `hosted_confirmation` (Stripe's own page),
/// as Stripe stores it; `None` when not given.
fn after_completion(form: &[(String, String)]) -> Option<Value> {
    match (form_value(form, "after_completion[type]"), form_value(form, "after_completion[redirect][url]")) {
        (Some("redirect"), Some(url)) => {
            Some(json!({ "type": "redirect", "redirect": { "url": url }, "hosted_confirmation": null }))
        }
        (Some("hosted_confirmation"), _) => Some(json!({
            "type": "hosted_confirmation", "hosted_confirmation": { "custom_message": null }, "redirect": null,
        })),
        _ => None,
    }
}

/// `POST /v1/payment_links/{id}`: zbor switches a link off when its campaign closes, on again
/// when it reopens, and to the overflow campaign when its campaign is funded. `active`,
/// `metadata[...]` (merged, as Stripe does), `payment_intent_data[metadata][...]` (replaced: it
/// is declarative at Stripe) and `after_completion` (a redirect, or back to Stripe's own
/// confirmation page when the campaign opens again) are supported.
pub(crate) async fn update_link(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let active = match form_value(&form, "active") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => return Err(ApiError::invalid("active", format!("Invalid boolean: {other}"))),
    };
    let metadata = form_map(&form, "metadata");
    let intent_metadata = form_map(&form, "payment_intent_data[metadata]");
    let after = after_completion(&form);
    let mut store = sim.store();
    let link = store.links.get_mut(&id).ok_or_else(|| ApiError::no_such("payment_link", &id))?;
    if let Some(active) = active {
        link.object["active"] = json!(active);
    }
    if !intent_metadata.is_empty() {
        link.object["payment_intent_data"]["metadata"] = Value::Object(intent_metadata);
    }
    if let Some(after) = after {
        link.object["after_completion"] = after;
    }
    if let Some(existing) = link.object["metadata"].as_object_mut() {
        existing.extend(metadata);
    }
    Ok(Json(link.object.clone()))
}

#[derive(serde::Deserialize)]
pub(crate) struct PayLinkRequest {
    /// as for a session: `card`, `sepa_debit_success` or `sepa_debit_failure`
    method: String,
    /// Minor units the donor chose; required when the price lets the donor choose.
    amount: Option<i64>,
    customer: Option<Customer>,
}

/// A donor pays through the link: a Checkout Session is created for it as Stripe does (the
/// link's id, its metadata, submit type and price) and completed like any session.
pub(crate) async fn pay(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    Json(request): Json<PayLinkRequest>,
) -> Result<Json<Value>, ApiError> {
    let method = PayMethod::parse(&request.method)?;
    let link = sim.store().links.get(&id).cloned().ok_or_else(|| ApiError::no_such("payment_link", &id))?;
    if link.object["active"] != true {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "This payment link is not active",
        ));
    }
    let amount = amount(&link, request.amount)?;
    let session = sessions::insert(
        &sim,
        NewSession {
            currency: link.price["currency"].as_str().unwrap_or_default().to_owned(),
            amount,
            submit_type: link.object["submit_type"].as_str().map(str::to_owned),
            success_url: link.object["after_completion"]["redirect"]["url"].as_str().map(str::to_owned),
            cancel_url: None,
            locale: None,
            metadata: link.object["metadata"].as_object().cloned().unwrap_or_default(),
            payment_link: Some(id),
            payment_intent_metadata: link.object["payment_intent_data"]["metadata"]
                .as_object()
                .cloned()
                .unwrap_or_default(),
            customer_email: None,
            receipt_email: None,
            subscription: None,
        },
    );
    let session_id = session["id"].as_str().unwrap_or_default();
    sessions::complete(&sim, session_id, method, request.customer).map(Json)
}

/// The amount paid through `link`: the donor's, within the price's bounds, or the fixed price.
fn amount(link: &Link, chosen: Option<i64>) -> Result<i64, ApiError> {
    let rules = &link.price["custom_unit_amount"];
    if rules.is_object() {
        let amount = chosen.ok_or_else(|| ApiError::missing("amount"))?;
        let (minimum, maximum) = (rules["minimum"].as_i64(), rules["maximum"].as_i64());
        if amount <= 0 || minimum.is_some_and(|m| amount < m) || maximum.is_some_and(|m| amount > m) {
            let bound = |b: Option<i64>| b.map_or_else(|| "none".to_owned(), |b| b.to_string());
            return Err(ApiError::invalid(
                "amount",
                format!(
                    "The amount must be positive and between the minimum ({}) and maximum ({}).",
                    bound(minimum),
                    bound(maximum)
                ),
            ));
        }
        return Ok(amount);
    }
    let fixed = link.price["unit_amount"].as_i64().unwrap_or_default().saturating_mul(link.quantity);
    match chosen {
        Some(chosen) if chosen != fixed => {
            Err(ApiError::invalid("amount", format!("This link's price is fixed: {fixed}, not {chosen}.")))
        }
        _ => Ok(fixed),
    }
}
