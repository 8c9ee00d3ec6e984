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
    let amount = money(
        session["amount_total"].as_i64().unwrap_or_default(),
        session["currency"].as_str().unwrap_or_default(),
    );
    let back = back_link(&session["cancel_url"]);
    // as Stripe does, the return address gets the session's id in place of its placeholder
    let next = match session["success_url"].as_str() {
        Some(url) => Value::from(url.replace("{CHECKOUT_SESSION_ID}", &id)),
        None => Value::Null,
    };
    page(&format!("/sim/checkout/sessions/{id}/pay"), &amount, &back, &next)
}

/// Minor units as money the way Stripe's page shows it: `€50.00`, `¥1500`, `BHD 1.500`.
/// Integers only: the minor units are split at the currency's scale, never divided as floats.
fn money(minor: i64, currency: &str) -> String {
    let code = currency.to_ascii_uppercase();
    let scale: usize = match code.as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "JPY" | "KMF" | "KRW" | "MGA" | "PYG" | "RWF" | "UGX" | "VND"
        | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "JOD" | "KWD" | "OMR" | "TND" => 3,
        _ => 2,
    };
    let digits = format!("{:0>width$}", minor.unsigned_abs(), width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    let number = if scale == 0 { whole.to_owned() } else { format!("{whole}.{fraction}") };
    let sign = if minor < 0 { "-" } else { "" };
    match code.as_str() {
        "EUR" => format!("{sign}€{number}"),
        "USD" => format!("{sign}${number}"),
        "GBP" => format!("{sign}£{number}"),
        _ => format!("{sign}{code} {number}"),
    }
}

/// A link back to the shop (the session's `cancel_url`), as Stripe's page has; only an http(s)
/// address, escaped for the attribute (it came from a client).
fn back_link(cancel_url: &Value) -> String {
    match cancel_url.as_str().filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
        Some(url) => {
            let url =
                url.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;");
            format!(r#"<p><a id="back" href="{url}">← Back</a></p>"#)
        }
        None => String::new(),
    }
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
        (
            format!(
                "{} × {}",
                money(price["unit_amount"].as_i64().unwrap_or_default(), &currency),
                link.quantity
            ),
            String::new(),
        )
    };
    let next = &link.object["after_completion"]["redirect"]["url"];
    page(&format!("/sim/payment_links/{id}/pay"), &amount, &input, next)
}

/// `pay_path` is ours (a generated id); `next` came from a client, so it is only ever a JSON
/// string inside the script, with `<` escaped so it cannot close the script element. `input` is
/// markup of ours (an amount field, a way back).
fn page(pay_path: &str, amount: &str, input: &str, next: &Value) -> Response {
    let next = serde_json::to_string(next).unwrap_or_else(|_| "null".into()).replace('<', "\\u003c");
    Html(format!(
        r#"<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Stripe Checkout (simulated)</title>
<main>
<h1>Stripe Checkout (simulated)</h1>
<p>Amount: <strong id="amount-due">{amount}</strong></p>
{input}
<p><button onclick="pay('card')">Pay by card</button>
<button onclick="pay('sepa_debit_success')">SEPA debit (succeeds)</button>
<button onclick="pay('sepa_debit_failure')">SEPA debit (fails)</button></p>
<pre id="out"></pre>
</main>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_show_as_money() {
        assert_eq!(money(5000, "eur"), "€50.00");
        assert_eq!(money(5, "eur"), "€0.05");
        assert_eq!(money(123_456, "usd"), "$1234.56");
        assert_eq!(money(1500, "jpy"), "JPY 1500");
        assert_eq!(money(1500, "bhd"), "BHD 1.500");
        assert_eq!(back_link(&Value::from("javascript:alert(1)")), "");
        assert!(
            back_link(&Value::from("http://x/give/a?b=\"c\"")).contains("http://x/give/a?b=&quot;c&quot;")
        );
    }
}
