//! A donor at Stripe Checkout, as tests and benchmarks play one over HTTP (the simulator may be
//! another process): a Checkout Session for a zbor campaign, paid at the simulator's page.

use serde_json::{json, Value};

/// Opens a Checkout Session of `amount_cents` EUR for `campaign` (zbor's metadata, as zbor's own
/// checkout sets it) and pays it with `method` (`card`, `sepa_debit_success`,
/// `sepa_debit_failure`). Returns the paid session as the simulator answers it (with its
/// `payment_intent`); the simulator then delivers the events.
pub async fn pay_checkout(
    client: &reqwest::Client,
    base_url: &str,
    api_key: &str,
    campaign: &str,
    amount_cents: i64,
    method: &str,
) -> Result<Value, String> {
    let form = [
        ("mode", "payment".to_owned()),
        ("submit_type", "donate".to_owned()),
        ("line_items[0][price_data][currency]", "eur".to_owned()),
        ("line_items[0][price_data][unit_amount]", amount_cents.to_string()),
        ("line_items[0][price_data][product_data][name]", "Donation".to_owned()),
        ("line_items[0][quantity]", "1".to_owned()),
        ("metadata[zbor_campaign]", campaign.to_owned()),
    ];
    let body = serde_urlencoded::to_string(form).map_err(|e| e.to_string())?;
    let created = client
        .post(format!("{base_url}/v1/checkout/sessions"))
        .bearer_auth(api_key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let session = answer(created).await?;
    let id = session["id"].as_str().ok_or("the session has no id")?;
    let paid = client
        .post(format!("{base_url}/sim/checkout/sessions/{id}/pay"))
        .header("content-type", "application/json")
        .body(json!({ "method": method }).to_string())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    answer(paid).await
}

async fn answer(response: reqwest::Response) -> Result<Value, String> {
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| e.to_string())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(value)
    } else {
        Err(format!("HTTP {status}: {value}"))
    }
}
