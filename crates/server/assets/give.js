// The give page: pick or type an amount, once or monthly, and (when not anonymous) an email for
// Stripe's receipt; post it to the checkout API with the page's language, go to Stripe. A monthly
// gift first shows the donor their cancel link to keep. When zbor's queue to Stripe is full
// (503), fall back to the campaign's Payment Link (one gift only: the link takes no monthly
// gifts). Every word comes from the page's data block (i18n.js).
"use strict";
(function () {
  const { data, t, money, permille, count, copy } = window.zborPage;
  const body = document.body;
  const slug = body.dataset.campaign;
  const form = document.getElementById("give");
  const amountInput = document.getElementById("amount");
  const message = document.getElementById("message");
  const submit = document.getElementById("submit");
  const buttons = document.querySelectorAll("button.amount");
  const anonymous = document.getElementById("anonymous");
  const emailInput = document.getElementById("receipt-email");

  // an anonymous gift sends Stripe no email (the API refuses both together): the field is only
  // usable once the donor unticks "anonymously"
  function syncEmail() {
    emailInput.disabled = anonymous.checked;
    if (anonymous.checked) emailInput.removeAttribute("aria-invalid");
  }
  anonymous.addEventListener("change", syncEmail);
  syncEmail();

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

  // Roughly what the API takes (local@domain.tld, no spaces); Stripe checks the rest.
  const plausibleEmail = (text) => /^[^\s@]+@[^\s@.][^\s@]*\.[^\s@]*[^\s@.]$/.test(text) && text.length <= 254;

  function fail(id) {
    message.textContent = t(id);
    if (id === "give-error-format" || id === "give-error-amount" || id === "give-error-missing") {
      amountInput.setAttribute("aria-invalid", "true");
    }
    if (id === "give-error-email") emailInput.setAttribute("aria-invalid", "true");
  }

  // The monthly donor's own way out: shown before Stripe, since zbor keeps only the token's hash
  // and can never show it again. The token is in the fragment, which browsers send to no server
  // (no access log, no Referer). The tab keeps it too (sessionStorage, gone when the tab closes)
  // so the thank-you page of this very checkout can show it once more.
  function showCancelLink(session) {
    const link = `${window.location.origin}/monthly/cancel?lang=${data.lang}#${session.cancel_token}`;
    try {
      sessionStorage.setItem("zbor-monthly-link", JSON.stringify({ session: session.session_id, link }));
    } catch (e) {
      // storage off (private mode, a policy): the link on this page is the one to keep
    }
    form.hidden = true;
    document.getElementById("cancel-link").value = link;
    const copyButton = document.getElementById("copy-cancel-link");
    const copied = document.getElementById("cancel-link-copied");
    copyButton.addEventListener("click", () => copy(link, copied, t("give-monthly-link-copied")));
    document.getElementById("continue").addEventListener("click", () => window.location.assign(session.url));
    const step = document.getElementById("monthly-step");
    step.hidden = false;
    // focus on the step's heading: keyboard and screen-reader users start reading it there
    document.getElementById("monthly-heading").focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    amountInput.removeAttribute("aria-invalid");
    emailInput.removeAttribute("aria-invalid");
    const typed = amountInput.value.trim();
    if (!typed) return fail("give-error-missing");
    const amount = normalise(typed);
    if (amount === null) return fail("give-error-format");
    const monthly = document.getElementById("interval-month").checked;
    const request = { amount, anonymous: anonymous.checked, locale: data.lang };
    if (monthly) request.interval = "month";
    const email = anonymous.checked ? "" : emailInput.value.trim();
    if (email) {
      if (!plausibleEmail(email)) return fail("give-error-email");
      request.receipt_email = email;
    }
    submit.disabled = true;
    try {
      const response = await fetch(`/api/v1/campaigns/${slug}/checkout`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(request),
      });
      if (response.ok) {
        const session = await response.json();
        if (session.cancel_token) return showCancelLink(session);
        window.location.assign(session.url);
        return;
      }
      // the API's own messages are for developers: donors get plain words from the catalogue
      if (response.status === 503 && body.dataset.paymentLink && !monthly) {
        message.textContent = t("give-busy-redirect");
        window.location.assign(body.dataset.paymentLink);
        return;
      }
      const reasons = { 400: "give-error-format", 409: "give-error-closed", 422: "give-error-amount", 429: "give-error-busy", 503: "give-error-busy" };
      // a 400 names its field first ("receipt_email: …"): the address, not the amount, is wrong
      const refused = response.status === 400 ? await response.json().catch(() => null) : null;
      const aboutEmail = refused && String(refused.error && refused.error.message).startsWith("receipt_email");
      fail(aboutEmail ? "give-error-email" : reasons[response.status] || "give-error-generic");
    } catch (e) {
      fail("give-error-network");
    } finally {
      submit.disabled = false;
    }
  });

  const copyPage = document.getElementById("copy-link");
  const copied = document.getElementById("copied");
  copyPage.addEventListener("click", () => copy(copyPage.dataset.url, copied, t("give-share-copied")));

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
