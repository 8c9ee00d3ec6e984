// The give page: pick or type an amount, post it to the checkout API with the page's language,
// go to Stripe. When zbor's queue to Stripe is full (503), fall back to the campaign's Payment
// Link. Every word comes from the page's data block (i18n.js).
"use strict";
(function () {
  const { data, t, money, permille, count } = window.zborPage;
  const body = document.body;
  const slug = body.dataset.campaign;
  const form = document.getElementById("give");
  const amountInput = document.getElementById("amount");
  const message = document.getElementById("message");
  const submit = document.getElementById("submit");
  const buttons = document.querySelectorAll("button.amount");

  // aria-pressed tells screen readers which suggested amount is chosen (none once one is typed)
  function choose(chosen) {
    for (const button of buttons) button.setAttribute("aria-pressed", String(button === chosen));
  }
  for (const button of buttons) {
    button.addEventListener("click", () => {
      amountInput.value = button.dataset.amount.replace(".", data.money.decimal);
      amountInput.removeAttribute("aria-invalid");
      message.textContent = "";
      choose(button);
    });
  }
  amountInput.addEventListener("input", () => choose(null));

  // What people type ("25", "25,5", "1 000.00") as the API's decimal string, or null.
  function normalise(typed) {
    const text = typed.replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
    const pattern = data.scale > 0 ? new RegExp("^\\d+(\\.\\d{1," + data.scale + "})?$") : /^\d+$/;
    return pattern.test(text) ? text : null;
  }

  function fail(id) {
    message.textContent = t(id);
    if (id === "give-error-format" || id === "give-error-amount" || id === "give-error-missing") {
      amountInput.setAttribute("aria-invalid", "true");
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    amountInput.removeAttribute("aria-invalid");
    const typed = amountInput.value.trim();
    if (!typed) return fail("give-error-missing");
    const amount = normalise(typed);
    if (amount === null) return fail("give-error-format");
    submit.disabled = true;
    try {
      const response = await fetch(`/api/v1/campaigns/${slug}/checkout`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ amount, anonymous: document.getElementById("anonymous").checked, locale: data.lang }),
      });
      if (response.ok) {
        const session = await response.json();
        window.location.assign(session.url);
        return;
      }
      // the API's own messages are for developers: donors get plain words from the catalogue
      if (response.status === 503 && body.dataset.paymentLink) {
        message.textContent = t("give-busy-redirect");
        window.location.assign(body.dataset.paymentLink);
        return;
      }
      const reasons = { 400: "give-error-format", 409: "give-error-closed", 422: "give-error-amount", 429: "give-error-busy", 503: "give-error-busy" };
      fail(reasons[response.status] || "give-error-generic");
    } catch (e) {
      fail("give-error-network");
    } finally {
      submit.disabled = false;
    }
  });

  const copy = document.getElementById("copy-link");
  const copied = document.getElementById("copied");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(copy.dataset.url);
      copied.textContent = t("give-share-copied");
    } catch (e) {
      // no clipboard (an old browser, a page not served securely): show the link to copy by hand
      copied.textContent = copy.dataset.url;
    }
  });

  // Progress, from the public totals (no donor data in them).
  fetch(`/api/v1/campaigns/${slug}/totals`)
    .then((r) => (r.ok ? r.json() : null))
    .then((totals) => {
      if (!totals) return;
      document.getElementById("raised-of-goal").textContent =
        t("give-raised-of-goal", { raised: money(totals.raised), goal: money(totals.goal) });
      document.getElementById("progress-fill").style.width = permille(totals.raised, totals.goal) / 10 + "%";
      if (totals.beneficiaries_funded !== null && data.peopleInGoal !== null) {
        const people = document.getElementById("people-funded");
        people.textContent = t("give-people-funded", { funded: count(totals.beneficiaries_funded), total: count(BigInt(data.peopleInGoal)) });
        people.hidden = false;
      }
      document.getElementById("progress").hidden = false;
    })
    .catch(() => {});
})();
