// The give page: pick or type an amount, post it to the checkout API, go to Stripe.
// When zbor's queue to Stripe is full (503), fall back to the campaign's Payment Link.
"use strict";

const body = document.body;
const slug = body.dataset.campaign;
const form = document.getElementById("give");
const amountInput = document.getElementById("amount");
const message = document.getElementById("message");
const submit = document.getElementById("submit");

for (const button of document.querySelectorAll("button.amount")) {
  button.addEventListener("click", (event) => {
    event.preventDefault();
    amountInput.value = button.dataset.amount;
    for (const other of document.querySelectorAll("button.amount")) other.classList.remove("chosen");
    button.classList.add("chosen");
  });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  message.textContent = "";
  const amount = amountInput.value.trim().replace(",", ".");
  if (!amount) {
    message.textContent = "Choose or enter an amount.";
    return;
  }
  submit.disabled = true;
  try {
    const response = await fetch(`/api/v1/campaigns/${slug}/checkout`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ amount, anonymous: document.getElementById("anonymous").checked }),
    });
    const json = await response.json();
    if (response.ok) {
      window.location.assign(json.url);
      return;
    }
    if (response.status === 503 && body.dataset.paymentLink) {
      message.textContent = "Many people are giving right now; taking you to the payment page…";
      window.location.assign(body.dataset.paymentLink);
      return;
    }
    message.textContent = json.error ? json.error.message : "Something went wrong; please try again.";
  } catch (e) {
    message.textContent = "Could not reach the server; please try again.";
  } finally {
    submit.disabled = false;
  }
});
