// The monthly donor's cancel page: the token is the link's fragment (`#zc_…`), which browsers
// send to no server: it reaches zbor only in the body of the cancel or portal call. "Stop my
// monthly gift" cancels at once; "Manage in Stripe" opens Stripe's customer portal. Every word
// comes from the page's data block (i18n.js); the API's own messages are for developers.
"use strict";
(function () {
  const { t } = window.zborPage;
  const actions = document.getElementById("actions");
  const result = document.getElementById("result");
  const stop = document.getElementById("stop");
  const manage = document.getElementById("manage");

  let token = "";
  try {
    token = decodeURIComponent(window.location.hash.slice(1)).trim();
  } catch (e) {
    // a mangled fragment is no token
  }

  function say(id, failed) {
    result.textContent = t(id);
    result.classList.toggle("message", failed);
  }

  if (!token) {
    say("monthly-cancel-no-token", true);
    return;
  }
  actions.hidden = false;
  // the language switcher's links keep the token (a relative `?lang=` would drop the fragment)
  for (const link of document.querySelectorAll(".languages a")) {
    link.setAttribute("href", link.getAttribute("href") + window.location.hash);
  }

  // what a refusal means to the donor; 404 is a wrong link, or a gift paid seconds ago whose
  // first events have not yet reached zbor
  const reasons = { 404: "monthly-cancel-not-found", 409: "monthly-cancel-already", 429: "monthly-cancel-busy", 503: "monthly-cancel-busy" };

  // nothing left to do: the buttons go, and focus (on the one pressed) moves to the answer
  function done() {
    actions.hidden = true;
    result.focus();
  }

  // One call at a time. The buttons are not disabled meanwhile: a disabled button loses the
  // keyboard focus; aria-busy tells assistive technology instead.
  async function call(path) {
    if (actions.hasAttribute("aria-busy")) return null;
    actions.setAttribute("aria-busy", "true");
    say("monthly-cancel-working", false);
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token }),
      });
      if (response.ok) return await response.json();
      const reason = reasons[response.status] || "give-error-generic";
      say(reason, true);
      // a stopped gift has nothing left to stop or manage
      if (reason === "monthly-cancel-already") done();
    } catch (e) {
      say("give-error-network", true);
    } finally {
      actions.removeAttribute("aria-busy");
    }
    return null;
  }

  stop.addEventListener("click", async () => {
    const answer = await call("/api/v1/subscriptions/cancel");
    if (!answer) return;
    say("monthly-cancel-done", false);
    done();
    // the link this tab kept for the thank-you page is of no more use
    try {
      const kept = JSON.parse(sessionStorage.getItem("zbor-monthly-link"));
      if (kept && typeof kept.link === "string" && kept.link.endsWith("#" + token)) {
        sessionStorage.removeItem("zbor-monthly-link");
      }
    } catch (e) {
      // no storage: nothing kept
    }
  });

  manage.addEventListener("click", async () => {
    const answer = await call("/api/v1/subscriptions/portal");
    if (answer) window.location.assign(answer.url);
  });
})();
