// The treasurers' console. Plain script, no framework, no build step.
//
// Its words come from the page's data block (the server writes it from the catalogues in the
// visitor's language; zborPage, /assets/i18n.js, reads it): this script holds no text of its
// own, and money is formatted by zborPage from the exact decimal strings.
//
// Everything comes from the JSON API. The session cookie is HttpOnly; the CSRF token lives only
// in this script's memory and goes with every change as X-CSRF-Token. Every value from the API is
// placed with textContent, never as HTML. No personal data is shown: beneficiaries are ids, and
// this page never calls the reveal endpoints.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const { t, data: pageData } = window.zborPage;
  // Items in these states are still on their way: the batch view refreshes every second.
  const MOVING = ["approved", "sending", "sent"];

  const state = {
    signedIn: false,
    me: null, // user id
    role: null,
    csrf: null,
    generation: 0, // bumped on every view change; late answers for an old view are dropped
    timer: null,
    batchId: null,
    currency: "",
    itemsKey: "",
    rows: new Map(), // payout id -> {tr, status, actions, shown}
    lookups: Promise.resolve(), // GET /payouts/{id}, one at a time
    details: new Map(), // "id:status" -> promise of the payout
  };

  // ---- talking to the API ----

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // `contentType`: send `body` as it is (a bank statement), not as JSON.
  async function api(method, path, body, contentType) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined && contentType) {
      headers["Content-Type"] = contentType;
      init.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, "network");
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      // the envelope of every refusal: {"error": {"code", "message"}}
      const error = (data && data.error) || {};
      throw new ApiError(response.status, error.code || "http_" + response.status, error.message);
    }
    return data;
  }

  // A message of the catalogue's for this code, if it has one.
  const known = (id) => Object.prototype.hasOwnProperty.call(pageData.messages, id);

  // A refusal in the visitor's words: the codes the console can meet each have a message; any
  // other is named by its status and code (the API's own message is English, for logs).
  function describe(e) {
    if (e instanceof ApiError) {
      if (e.status === 0) return t("console-error-network");
      const id = "console-error-" + e.code;
      return known(id) ? t(id) : t("console-error-other", { status: e.status, code: e.code });
    }
    return t("console-error-unexpected", { detail: String(e) });
  }

  // A state, status or kind from the API in words; an unknown one as it came.
  function word(kind, code) {
    const id = `console-${kind}-${code}`;
    return known(id) ? t(id) : String(code);
  }

  // Shows a failure in `where`; a session that ended leads back to the login form.
  function failed(e, where) {
    if (e instanceof ApiError && e.status === 401 && e.code === "unauthorized") {
      showLogin(t("console-session-ended"));
      return;
    }
    say(where, describe(e), true);
  }

  // ---- small DOM helpers ----

  function el(tag, text, attributes) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, String(value));
    return node;
  }

  function row(cells, attributes) {
    const tr = el("tr", null, attributes);
    for (const cell of cells) {
      const td = el("td");
      if (cell instanceof Node) td.append(cell);
      else td.textContent = String(cell);
      tr.append(td);
    }
    return tr;
  }

  function button(label, onClick, className) {
    const b = el("button", label, { type: "button" });
    if (className) b.className = className;
    b.addEventListener("click", onClick);
    return b;
  }

  function say(where, text, isError) {
    where.textContent = text;
    where.classList.toggle("error", Boolean(isError));
    where.hidden = !text;
  }

  const money = (amount, currency) => window.zborPage.money(amount, false, currency);
  const user = (id) => (id === state.me ? t("console-user-you", { id }) : t("console-user", { id }));
  const approvals = (b) => t("console-approvals-of", { given: b.approvals.length, required: b.approvals_required });
  // where a payout goes: the method in words, then the destination's last four characters
  const destination = (method, masked) => `${word("method", method)} ${masked || ""}`.trim();
  const none = "–";

  // Dates and times in the visitor's language. A date alone ("2025-03-14") is a calendar day,
  // shown as it is wherever the browser is; a timestamp is shown in the browser's time zone.
  // Chromium's Intl lacks some of these languages (Belarusian) and would write English month
  // names: for those, digits only, day first ("14.03.2025, 09:30").
  const named = Intl.DateTimeFormat.supportedLocalesOf([pageData.lang]).length > 0;
  const digits = { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  function format(date, withTime, timeZone) {
    if (named) {
      const options = withTime ? { dateStyle: "medium", timeStyle: "short" } : { dateStyle: "medium" };
      return new Intl.DateTimeFormat(pageData.lang, { ...options, timeZone }).format(date);
    }
    const part = {};
    for (const p of new Intl.DateTimeFormat("en", { ...digits, timeZone }).formatToParts(date)) part[p.type] = p.value;
    const dayText = `${part.day}.${part.month}.${part.year}`;
    return withTime ? `${dayText}, ${part.hour}:${part.minute}` : dayText;
  }
  function day(text) {
    const parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text));
    if (!parts) return moment(text);
    return format(new Date(Date.UTC(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3]))), false, "UTC");
  }
  function moment(text) {
    const date = new Date(text);
    return Number.isNaN(date.getTime()) ? String(text) : format(date, true, undefined);
  }

  // Rail errors may quote an account; the page shows none.
  function mask(text) {
    return String(text)
      .replace(/acct_[A-Za-z0-9]+/g, "acct_…")
      .replace(/\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b/g, t("console-account-hidden"));
  }

  // ---- views ----

  function show(view) {
    for (const id of ["login-view", "enrol-view", "batches-view", "batch-view"]) $(id).hidden = id !== view;
    $("switch-view").hidden = view === "login-view" || view === "enrol-view";
    $("logout").hidden = view === "login-view";
    $("loading").hidden = true;
  }

  function stopTimer() {
    clearTimeout(state.timer);
    state.timer = null;
  }

  function later(generation, fn, ms) {
    if (generation !== state.generation) return;
    stopTimer();
    state.timer = setTimeout(fn, ms);
  }

  function route() {
    if (!state.signedIn) return;
    stopTimer();
    state.generation += 1;
    say($("notice"), "");
    refreshSwitch();
    const match = location.hash.match(/^#\/batches\/(\d+)$/);
    if (match) openBatch(Number(match[1]));
    else openBatches();
  }

  // ---- 1. login ----

  function showLogin(message) {
    stopTimer();
    state.generation += 1;
    Object.assign(state, { signedIn: false, me: null, role: null, csrf: null });
    $("who").textContent = "";
    say($("login-error"), message || "", true);
    $("login-code").value = "";
    show("login-view");
  }

  function signedIn(me) {
    const needsSecondFactor = me.role === "treasurer" || me.role === "admin";
    if (needsSecondFactor && !me.second_factor && me.user && !me.user.second_factor_enrolled) {
      state.csrf = me.csrf_token;
      showEnrol();
      return;
    }
    if (me.role === "treasurer" && !me.second_factor) {
      showLogin(t("console-treasurers-need-code"));
      return;
    }
    Object.assign(state, { signedIn: true, me: me.user ? me.user.id : null, role: me.role, csrf: me.csrf_token });
    $("who").textContent = t("console-signed-in", { id: state.me, role: word("role", state.role) });
    route();
  }

  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = $("login-submit");
    submit.disabled = true;
    say($("login-error"), "");
    try {
      const session = await api("POST", "/api/v1/session", {
        email: $("login-email").value.trim(),
        password: $("login-password").value,
        totp: $("login-code").value.trim(),
      });
      $("login-password").value = "";
      $("login-code").value = "";
      signedIn({ user: session.user, role: session.user.role, second_factor: session.second_factor,
        csrf_token: session.csrf_token });
    } catch (e) {
      say($("login-error"), t("console-login-failed", { reason: describe(e) }), true);
    } finally {
      submit.disabled = false;
    }
  });

  // The first log in of an admin or a treasurer: the server makes a secret and draws its
  // otpauth:// address as a QR code (an SVG, shown as a data: image); the app's first code
  // confirms it and this session has then passed the second factor.
  async function showEnrol() {
    stopTimer();
    show("enrol-view");
    $("logout").hidden = false;
    say($("enrol-error"), "");
    try {
      const enrolment = await api("POST", "/api/v1/me/totp");
      $("enrol-secret").textContent = enrolment.secret;
      $("enrol-qr").src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(enrolment.qr_svg);
    } catch (e) {
      say($("enrol-error"), t("console-enrol-failed", { reason: describe(e) }), true);
    }
  }

  $("enrol-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = $("enrol-submit");
    submit.disabled = true;
    say($("enrol-error"), "");
    try {
      await api("POST", "/api/v1/me/totp/confirm", { code: $("enrol-code").value.trim() });
      $("enrol-code").value = "";
      $("enrol-secret").textContent = "";
      $("enrol-qr").removeAttribute("src");
      signedIn(await api("GET", "/api/v1/me"));
    } catch (e) {
      say($("enrol-error"), t("console-enrol-refused", { reason: describe(e) }), true);
    } finally {
      submit.disabled = false;
    }
  });

  $("logout").addEventListener("click", async () => {
    try {
      await api("DELETE", "/api/v1/session");
      showLogin(t("console-logged-out"));
    } catch (e) {
      showLogin(t("console-logout-failed", { reason: describe(e) }));
    }
  });

  // ---- 2. batches ----

  function openBatches() {
    show("batches-view");
    loadBatches(state.generation);
  }

  async function loadBatches(generation) {
    try {
      const data = await api("GET", "/api/v1/payout-batches");
      if (generation !== state.generation) return;
      renderBatches(data);
      await loadReconciliation(generation);
      if (state.role === "treasurer") {
        const payees = await api("GET", "/api/v1/beneficiaries/unconfirmed");
        if (generation !== state.generation) return;
        renderPayees(payees);
      }
    } catch (e) {
      if (generation === state.generation) failed(e, $("notice"));
    }
    later(generation, () => {
      refreshSwitch();
      loadBatches(generation);
    }, 5000);
  }

  function renderBatches(data) {
    const me = data.me;
    const link = (b) => el("a", t("console-batch-link", { id: b.id }), { href: `#/batches/${b.id}` });
    const awaiting = data.batches.filter((b) =>
      b.status === "awaiting_approval" && b.created_by !== me && !b.approvals.includes(me));
    $("awaiting").tBodies[0].replaceChildren(...awaiting.map((b) => row(
      [link(b), b.campaign_slug, money(b.total, b.currency), b.items, approvals(b), user(b.created_by)],
      { "data-batch": b.id })));
    $("awaiting").hidden = awaiting.length === 0;
    $("awaiting-empty").hidden = awaiting.length > 0;
    $("batches").tBodies[0].replaceChildren(...data.batches.map((b) => row(
      [link(b), b.campaign_slug, word("status", b.status), money(b.total, b.currency), b.items, b.unfinished, approvals(b),
        user(b.created_by)],
      { "data-batch": b.id })));
    $("batches-empty").hidden = data.batches.length > 0;
  }

  // New or changed destinations a second treasurer confirms. Rows keep their checkbox state
  // across refreshes; a destination the signed-in treasurer set cannot be ticked.
  function renderPayees(data) {
    const body = $("payees-table").tBodies[0];
    const ticked = new Set([...body.querySelectorAll("input:checked")].map((c) => c.value));
    body.replaceChildren(...data.beneficiaries.map((b) => {
      const own = b.destination_set_by === data.me;
      const box = el("input", null, { type: "checkbox", value: b.id, "data-fingerprint": b.payee_fingerprint,
        "aria-label": t("console-payee-confirm", { id: b.id }) });
      box.checked = ticked.has(String(b.id));
      box.disabled = own;
      const notes = [];
      if (own) notes.push(t("console-payee-own"));
      if (b.changed_since_last_payout) notes.push(t("console-changed-since-last-payout"));
      return row([box, `#${b.id}`, `#${b.campaign_id}`, destination(b.method, b.masked),
        b.destination_set_by ? user(b.destination_set_by) : t("console-payee-set-by-host"), notes.join("; ")],
        { "data-beneficiary": b.id });
    }));
    $("payees").hidden = data.beneficiaries.length === 0;
  }

  $("payees-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = [...$("payees-table").tBodies[0].querySelectorAll("input:checked")];
    if (chosen.length === 0) {
      say($("payees-result"), t("console-payees-none-ticked"), true);
      return;
    }
    const beneficiaries = chosen.map((c) => ({ beneficiary: Number(c.value), payee_fingerprint: c.dataset.fingerprint }));
    $("payees-submit").disabled = true;
    try {
      const done = await api("POST", "/api/v1/beneficiaries/confirmations",
        { beneficiaries, totp: $("payees-code").value.trim() });
      $("payees-code").value = "";
      $("payees-result").dataset.outcome = "confirmed";
      say($("payees-result"), t("console-payees-confirmed", { count: done.confirmed.length }));
      renderPayees(await api("GET", "/api/v1/beneficiaries/unconfirmed"));
    } catch (e) {
      $("payees-result").dataset.outcome = "refused";
      failed(e, $("payees-result"));
    } finally {
      $("payees-submit").disabled = false;
    }
  });

  // ---- 3. one batch ----

  function openBatch(id) {
    Object.assign(state, { batchId: id, itemsKey: "", rows: new Map(), details: new Map() });
    $("batch-heading").textContent = t("console-batch-heading", { id });
    for (const part of ["batch-status", "batch-total", "batch-approvals", "batch-creator", "batch-hash"]) {
      $(part).textContent = "…";
    }
    $("batch-counts").replaceChildren();
    $("items").tBodies[0].replaceChildren();
    $("batch-changed").hidden = true;
    $("sepa-download").hidden = true;
    for (const out of ["approve-result", "sepa-result", "action-result"]) say($(out), "");
    show("batch-view");
    loadBatch(state.generation, id, null);
  }

  function reloadBatch() {
    stopTimer();
    loadBatch(state.generation, state.batchId, $("batch-hash").textContent);
  }

  async function loadBatch(generation, id, shownHash) {
    let batch;
    try {
      batch = await api("GET", `/api/v1/payout-batches/${id}`);
    } catch (e) {
      if (generation !== state.generation) return;
      failed(e, $("notice"));
      // a passing failure (network, 5xx) is tried again; a refusal is not
      if (e.status === 0 || e.status >= 500) later(generation, () => loadBatch(generation, id, shownHash), 3000);
      return;
    }
    if (generation !== state.generation) return;
    say($("notice"), "");
    renderBatch(batch, shownHash);
    const moving = batch.items.some((i) => MOVING.includes(i.status));
    $("batch-live").hidden = !moving;
    if (moving) later(generation, () => loadBatch(generation, id, batch.content_hash), 1000);
  }

  function renderBatch(batch, shownHash) {
    state.currency = batch.currency;
    $("batch-status").textContent = word("status", batch.status);
    $("batch-total").textContent = t("console-batch-total", { total: money(batch.total, batch.currency), count: batch.items.length });
    $("batch-approvals").textContent = approvals(batch) +
      (batch.approvals.length ? ": " + batch.approvals.map(user).join(", ") : "");
    $("batch-creator").textContent = user(batch.created_by);
    if (shownHash && shownHash !== "…" && shownHash !== batch.content_hash) $("batch-changed").hidden = false;
    // the hash displayed is the one an approval signs
    $("batch-hash").textContent = batch.content_hash;
    $("batch-counts").replaceChildren(...Object.entries(batch.counts).map(([status, n]) =>
      el("li", t("console-count", { state: word("state", status), count: n }), { "data-state": status, "data-count": n })));

    const created = batch.created_by === state.me;
    const approved = batch.approvals.includes(state.me);
    const awaiting = batch.status === "awaiting_approval";
    $("approve").hidden = !(awaiting && state.role === "treasurer" && !created && !approved);
    let whyNot = "";
    if (awaiting && created) whyNot = t("console-why-not-created");
    else if (awaiting && approved) whyNot = t("console-why-not-approved");
    else if (awaiting && state.role !== "treasurer") whyNot = t("console-why-not-role");
    $("approve-why-not").textContent = whyNot;

    const approvedItems = batch.counts.approved || 0;
    const fileMade = !$("sepa-download").hidden;
    $("sepa").hidden = !(fileMade || (batch.status === "approved" && approvedItems > 0 && state.role === "treasurer"));

    renderItems(batch);
  }

  function renderItems(batch) {
    const body = $("items").tBodies[0];
    const key = batch.items.map((i) => i.payout).join(",");
    if (key !== state.itemsKey) {
      // the batch was edited: start the list afresh
      state.itemsKey = key;
      state.rows = new Map();
      body.replaceChildren();
    }
    for (const item of batch.items) {
      let r = state.rows.get(item.payout);
      if (!r) {
        r = { tr: el("tr", null, { "data-payout": item.payout }), status: el("td"), actions: el("td"), shown: null };
        // what approvers check: where the money goes (last four only), and warnings a
        // redirected payout would raise
        const warnings = [];
        if (!item.destination_confirmed) warnings.push(t("console-not-confirmed"));
        if (item.changed_since_last_payout) warnings.push(t("console-changed-since-last-payout"));
        const where = el("td", destination(item.method, item.masked_destination),
          { "data-destination": item.beneficiary });
        if (warnings.length) {
          where.append(el("strong", ` (${warnings.join("; ")})`, { class: "warning" }));
        }
        r.tr.append(el("td", `#${item.payout}`), el("td", `#${item.beneficiary}`), where,
          el("td", money(item.amount, batch.currency)), r.status, r.actions);
        body.append(r.tr);
        state.rows.set(item.payout, r);
      }
      if (r.shown !== item.status) {
        r.shown = item.status;
        r.tr.setAttribute("data-status", item.status);
        r.status.textContent = word("state", item.status);
        r.status.className = "state";
        r.status.classList.add("state-" + item.status);
        renderActions(r, item);
      }
    }
  }

  // ---- 5. per payout: retry, cancel, mark paid ----

  // The payout's own record (method, attempts, last error), fetched once per state, one at a time.
  function lookup(id, status) {
    const key = `${id}:${status}`;
    if (!state.details.has(key)) {
      const next = state.lookups.then(() => api("GET", `/api/v1/payouts/${id}`));
      state.lookups = next.catch(() => null);
      state.details.set(key, next);
    }
    return state.details.get(key);
  }

  function renderActions(r, item) {
    r.actions.replaceChildren();
    const id = item.payout;
    if (item.status === "failed") {
      const info = el("span", "", { class: "small" });
      r.actions.append(
        button(t("console-retry"), () => act(id, "retry")),
        button(t("console-cancel"), () => {
          if (window.confirm(t("console-cancel-confirm", { id }))) act(id, "cancel");
        }, "danger"),
        info);
      lookup(id, item.status).then((p) => {
        if (r.shown !== "failed") return;
        info.textContent = " " + t("console-attempts", { method: word("method", p.method), count: p.attempts }) +
          (p.last_error ? `: ${mask(p.last_error)}` : "");
      }, (e) => failed(e, info));
    } else if (item.status === "approved") {
      // only a manual payout is marked paid by hand; the batch JSON does not say which are
      lookup(id, item.status).then((p) => {
        if (r.shown !== "approved" || p.method !== "manual") return;
        const note = el("input", null, { maxlength: 500, placeholder: t("console-note-placeholder"),
          "aria-label": t("console-note-label", { id }) });
        r.actions.append(note, button(t("console-mark-paid"), () => act(id, "paid", { note: note.value })));
      }, () => {});
    }
  }

  async function act(id, action, body) {
    const out = $("action-result");
    say(out, t("console-payout-working", { id }));
    try {
      const payout = await api("POST", `/api/v1/payouts/${id}/${action}`, body);
      say(out, t("console-payout-now", { id, state: word("state", payout.status) }));
    } catch (e) {
      failed(e, out);
    }
    if (state.signedIn) reloadBatch();
  }

  // ---- approving ----

  $("approve-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = $("approve-result");
    const submit = $("approve-submit");
    const code = $("approve-code");
    submit.disabled = true;
    out.removeAttribute("data-outcome");
    say(out, t("console-approving"));
    try {
      const answer = await api("POST", `/api/v1/payout-batches/${state.batchId}/approvals`, {
        content_hash: $("batch-hash").textContent,
        totp: code.value.trim(),
      });
      out.setAttribute("data-outcome", answer.outcome);
      say(out, answer.outcome === "released"
        ? t("console-approved-released")
        : t("console-approved-more", { count: answer.details.more_needed }));
    } catch (e) {
      out.setAttribute("data-outcome", "refused");
      failed(e, out);
    } finally {
      code.value = "";
      submit.disabled = false;
    }
    if (state.signedIn) reloadBatch();
  });

  // ---- 6. SEPA file ----

  $("sepa-make").addEventListener("click", async () => {
    const out = $("sepa-result");
    const make = $("sepa-make");
    make.disabled = true;
    say(out, t("console-sepa-making"));
    try {
      const file = await api("POST", `/api/v1/payout-batches/${state.batchId}/sepa-files`, {});
      say(out, t("console-sepa-made", { id: file.id, count: file.transactions,
        total: money(file.control_sum, state.currency), date: day(file.requested_execution_date) }));
      const form = $("sepa-download");
      form.dataset.file = file.id;
      form.hidden = false;
    } catch (e) {
      failed(e, out);
    } finally {
      make.disabled = false;
    }
    if (state.signedIn) reloadBatch();
  });

  // The file holds names and IBANs: it is fetched with a fresh code and handed to the browser
  // as a download, never kept in the page.
  $("sepa-download").addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = $("sepa-result");
    const id = $("sepa-download").dataset.file;
    try {
      const response = await fetch(`/api/v1/sepa-files/${id}/pain.001.xml`, {
        method: "POST", credentials: "same-origin", cache: "no-store",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": state.csrf },
        body: JSON.stringify({ totp: $("sepa-code").value.trim() }),
      });
      $("sepa-code").value = "";
      if (!response.ok) {
        const error = ((await response.json().catch(() => null)) || {}).error || {};
        throw new ApiError(response.status, error.code || "http_" + response.status, error.message);
      }
      const url = URL.createObjectURL(await response.blob());
      const link = el("a", null, { href: url, download: `zbor-sepa-file-${id}.xml` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      say(out, t("console-sepa-downloaded", { id }));
    } catch (e) {
      failed(e, out);
    }
  });

  // ---- 4. the pause switch ----

  async function refreshSwitch() {
    try {
      renderSwitch(await api("GET", "/api/v1/payouts/switch"));
    } catch (e) {
      $("switch-state").textContent = t("console-switch-unknown");
      failed(e, $("switch-result"));
    }
  }

  function renderSwitch(s) {
    $("switch-state").textContent = s.paused ? t("console-switch-paused") : t("console-switch-running");
    $("switch-view").classList.toggle("paused", s.paused);
    $("switch-reason").textContent = s.paused && s.reason ? t("console-switch-reason", { reason: s.reason }) : "";
    $("switch-votes").textContent = s.paused && s.resume_votes.length
      ? t("console-switch-votes", { users: s.resume_votes.map(user).join(", ") }) : "";
    $("pause-form").hidden = s.paused;
    $("resume-form").hidden = !s.paused || state.role !== "treasurer";
  }

  $("pause-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = $("switch-result");
    try {
      const answer = await api("POST", "/api/v1/payouts/pause", { reason: $("pause-reason").value.trim() });
      $("pause-reason").value = "";
      renderSwitch(answer.switch);
      say(out, t("console-paused"));
    } catch (e) {
      failed(e, out);
    }
  });

  $("resume-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = $("switch-result");
    const code = $("resume-code");
    try {
      const answer = await api("POST", "/api/v1/payouts/resume", { totp: code.value.trim() });
      renderSwitch(answer.switch);
      say(out, answer.outcome === "resumed" ? t("console-resumed") : t("console-resume-recorded"));
    } catch (e) {
      failed(e, out);
    } finally {
      code.value = "";
    }
  });

  // ---- the money truth: the latest reconciliation with Stripe, and bank statements ----

  async function loadReconciliation(generation) {
    let run = null;
    try {
      run = await api("GET", "/api/v1/reconciliation/stripe/latest");
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
    if (generation !== state.generation) return;
    $("statement-form").hidden = state.role !== "treasurer";
    const table = $("reconcile-differences");
    if (!run) {
      $("reconcile-summary").textContent = t("console-reconcile-none");
      table.hidden = true;
      return;
    }
    const r = run.report;
    const period = { from: day(r.from), to: day(r.to), trigger: word("trigger", run.trigger), at: moment(run.ran_at),
      matched: r.matched, transit: r.in_transit, count: r.differences.length };
    $("reconcile-summary").textContent = r.differences.length
      ? t("console-reconcile-differences", period) : t("console-reconcile-clean", period);
    $("reconcile-summary").classList.toggle("error", r.differences.length > 0);
    table.tBodies[0].replaceChildren(...r.differences.map((d) => row(
      [word("difference", d.difference), d.kind, d.key,
        d.stripe === null ? none : money(d.stripe, d.currency), d.ledger === null ? none : money(d.ledger, d.currency)])));
    table.hidden = r.differences.length === 0;
  }

  $("statement-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = $("statement-result");
    const input = $("statement-file");
    const file = input.files && input.files[0];
    if (!file) return;
    try {
      const xml = await file.text();
      const r = await api("POST", "/api/v1/bank/statements", xml, "application/xml");
      const summary = t("console-statement-summary", { statement: r.statement, kind: r.kind, paid: r.paid,
        returned: r.returned, recorded: r.already_recorded, stripe: r.stripe_payouts, unmatched: r.unmatched });
      say(out, r.already_imported ? t("console-statement-again", { summary }) : summary);
      const unmatched = r.lines.filter((l) => l.outcome === "unmatched");
      $("statement-unmatched").tBodies[0].replaceChildren(...unmatched.map((l) => row(
        [`${l.entry}.${l.transaction}`, word("direction", l.direction), money(l.amount, l.currency),
          l.booking_date ? day(l.booking_date) : none, l.reason])));
      $("statement-unmatched").hidden = unmatched.length === 0;
      input.value = "";
    } catch (e) {
      failed(e, out);
    }
  });

  // ---- start ----

  window.addEventListener("hashchange", route);

  (async () => {
    try {
      signedIn(await api("GET", "/api/v1/me"));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) showLogin("");
      else say($("loading"), t("console-start-failed", { reason: describe(e) }), true);
    }
  })();
})();
