//! The hosted pages a session's or link's `url` points at: a bare stand-in for Stripe Checkout
//! where a developer (or a browser test) pays with the same methods as `POST /sim/.../pay`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use crate::Sim;

pub(crate) async fn session(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let Some(session) = sim.store().sessions.get(&id).cloned() else {
        return (StatusCode::NOT_FOUND, "No such checkout session").into_response();
    };
    let amount = format!(
        "{} {} (minor units)",
        session["amount_total"],
        session["currency"].as_str().unwrap_or_default().to_uppercase()
    );
    page(&format!("/sim/checkout/sessions/{id}/pay"), &amount, "", &session["success_url"])
}

pub(crate) async fn link(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let Some(link) = sim.store().links.get(&id).cloned() else {
        return (StatusCode::NOT_FOUND, "No such payment link").into_response();
    };
    let (price, currency) = (&link.price, link.price["currency"].as_str().unwrap_or_default().to_uppercase());
    let rules = &price["custom_unit_amount"];
    let (amount, input) = if rules.is_object() {
        let bound = |v: &Value| v.as_i64().map(|v| v.to_string()).unwrap_or_default();
        let input = format!(
            r#"<p><label>Amount in minor units ({currency}): <input id="amount" type="number" min="{}" max="{}" value="{}"></label></p>"#,
            bound(&rules["minimum"]),
            bound(&rules["maximum"]),
            bound(&rules["preset"]),
        );
        ("chosen by the donor".to_owned(), input)
    } else {
        (format!("{} {currency} (minor units) × {}", price["unit_amount"], link.quantity), String::new())
    };
    let next = &link.object["after_completion"]["redirect"]["url"];
    page(&format!("/sim/payment_links/{id}/pay"), &amount, &input, next)
}

/// `pay_path` is ours (a generated id); `next` came from a client, so it is only ever a JSON
/// string inside the script, with `<` escaped so it cannot close the script element.
fn page(pay_path: &str, amount: &str, input: &str, next: &Value) -> Response {
    let next = serde_json::to_string(next).unwrap_or_else(|_| "null".into()).replace('<', "\\u003c");
    Html(format!(
        r#"<!doctype html><meta charset="utf-8"><title>Stripe Checkout (simulated)</title>
<h1>Stripe Checkout (simulated)</h1>
<p>Amount: {amount}</p>
{input}
<p><button onclick="pay('card')">Pay by card</button>
<button onclick="pay('sepa_debit_success')">SEPA debit (succeeds)</button>
<button onclick="pay('sepa_debit_failure')">SEPA debit (fails)</button></p>
<pre id="out"></pre>
<script>
const NEXT = {next};
async function pay(method) {{
  const body = {{ method }};
  const amount = document.getElementById("amount");
  if (amount) body.amount = parseInt(amount.value, 10);
  const response = await fetch("{pay_path}", {{
    method: "POST", headers: {{ "content-type": "application/json" }}, body: JSON.stringify(body),
  }});
  const result = await response.json();
  document.getElementById("out").textContent = response.status + " " + JSON.stringify(result.error || {{
    id: result.id, status: result.status, payment_status: result.payment_status }});
  if (response.ok && NEXT) location.href = NEXT;
}}
</script>
"#
    ))
    .into_response()
}
