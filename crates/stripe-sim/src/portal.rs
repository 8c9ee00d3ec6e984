//! Stripe's customer portal, barely: `POST /v1/billing_portal/sessions` makes a session for a
//! customer, and its `url` is a page listing the customer's subscriptions that are not canceled,
//! each with a button that cancels it at once (as the portal's "Cancel plan" does), which sends
//! `customer.subscription.deleted`; then back to the session's `return_url`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde_json::{json, Value};

use crate::{form_value, new_id, subscriptions, ApiError, Sim};

pub(crate) async fn create(
    State(sim): State<Arc<Sim>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let customer = form_value(&form, "customer").ok_or_else(|| ApiError::missing("customer"))?;
    if !sim.store().customers.contains_key(customer) {
        return Err(ApiError::no_such_param("customer", customer, "customer"));
    }
    let id = new_id("bps");
    let mut session = sim.fixture("billing_portal.session");
    session["id"] = json!(id);
    session["created"] = json!(sim.now());
    session["customer"] = json!(customer);
    session["livemode"] = json!(false);
    session["flow"] = Value::Null;
    session["configuration"] = json!("bpc_zborsimdefault");
    session["return_url"] = json!(form_value(&form, "return_url"));
    session["locale"] = json!(form_value(&form, "locale"));
    session["url"] = json!(format!("{}/portal/{id}", sim.base_url));
    sim.store().portal_sessions.insert(id, session.clone());
    Ok(Json(session))
}

pub(crate) async fn page(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let store = sim.store();
    let Some(session) = store.portal_sessions.get(&id) else {
        return (StatusCode::NOT_FOUND, "No such portal session").into_response();
    };
    let customer = &session["customer"];
    let mut rows = String::new();
    for subscription in
        store.subscriptions.values().filter(|s| &s["customer"] == customer && s["status"] != "canceled")
    {
        let sub_id = subscription["id"].as_str().unwrap_or_default();
        let price = &subscription["items"]["data"][0]["price"];
        rows.push_str(&format!(
            r#"<li>{} {} (minor units) every {}, {} <form method="post" action="/portal/{id}/subscriptions/{sub_id}/cancel"><button id="cancel-{sub_id}">Cancel plan</button></form></li>"#,
            price["unit_amount"],
            price["currency"].as_str().unwrap_or_default().to_uppercase(),
            price["recurring"]["interval"].as_str().unwrap_or_default(),
            subscription["status"].as_str().unwrap_or_default(),
        ));
    }
    if rows.is_empty() {
        rows.push_str("<li>No active subscriptions.</li>");
    }
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Stripe simulator: customer portal</title></head>\
         <body><h1>Your subscriptions</h1><ul>{rows}</ul></body></html>"
    ))
    .into_response()
}

/// The portal's "Cancel plan": cancels at once, then back to the session's `return_url` (or a
/// plain confirmation without one).
pub(crate) async fn cancel(
    State(sim): State<Arc<Sim>>,
    Path((id, subscription)): Path<(String, String)>,
) -> Response {
    let return_url = {
        let store = sim.store();
        let Some(session) = store.portal_sessions.get(&id) else {
            return (StatusCode::NOT_FOUND, "No such portal session").into_response();
        };
        let owns =
            store.subscriptions.get(&subscription).is_some_and(|s| s["customer"] == session["customer"]);
        if !owns {
            return (StatusCode::NOT_FOUND, "No such subscription").into_response();
        }
        session["return_url"].as_str().map(str::to_owned)
    };
    match subscriptions::cancel_now(&sim, &subscription, "cancellation_requested") {
        Ok(_) => match return_url {
            Some(url) => Redirect::to(&url).into_response(),
            None => Html("<!doctype html><p>Your subscription is canceled.</p>").into_response(),
        },
        Err(e) => e.into_response(),
    }
}
