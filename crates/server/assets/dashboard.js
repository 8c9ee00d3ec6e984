// Coordinators' dashboard: totals from the SSE stream, chart and latest donations from the
// timeline endpoint (refreshed at most every 5 s). No personal data is ever sent here.
"use strict";
(function () {
  const slug = document.body.dataset.campaign;
  const api = "/api/v1/campaigns/" + encodeURIComponent(slug);
  const $ = (id) => document.getElementById(id);
  let currency = "";

  const money = (amount) => amount + " " + currency;

  function showTotals(t) {
    currency = t.currency;
    $("raised").textContent = money(t.raised);
    $("goal").textContent = money(t.goal);
    $("refunded").textContent = money(t.refunded);
    $("fees").textContent = money(t.fees);
    $("net").textContent = money(t.net);
    $("donations").textContent = String(t.donations);
    $("beneficiaries").textContent = t.beneficiaries_funded === null ? "–" : String(t.beneficiaries_funded);
    $("updated").textContent = new Date(t.updated_at).toLocaleTimeString();
    // Amounts are decimal strings; the bar only needs a rough ratio, so Number is fine here.
    const ratio = Math.min(1, Number(t.net) / Number(t.goal));
    $("progress").style.width = (ratio * 100).toFixed(1) + "%";
  }

  function drawChart(minutes) {
    const svg = $("chart");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const end = Date.now();
    const start = end - 180 * 60 * 1000;
    const max = Math.max(1, ...minutes.map((m) => m.donations));
    const width = 720 / 180;
    for (const m of minutes) {
      const x = ((new Date(m.at).getTime() - start) / (end - start)) * 720;
      if (x < 0) continue;
      const h = (m.donations / max) * 150;
      const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
      rect.setAttribute("x", x.toFixed(1));
      rect.setAttribute("y", (160 - h).toFixed(1));
      rect.setAttribute("width", Math.max(1, width - 1).toFixed(1));
      rect.setAttribute("height", h.toFixed(1));
      const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
      title.textContent = m.donations + " donations, " + money(m.raised);
      rect.appendChild(title);
      svg.appendChild(rect);
    }
  }

  function showRecent(recent) {
    const list = $("recent");
    list.replaceChildren(
      ...recent.map((d) => {
        const li = document.createElement("li");
        // exact (staff): one donation, from == to; public: a band (to null: "and more") and a count
        const amount = d.amount_to === d.amount_from ? money(d.amount_from)
          : d.amount_to === null ? money(d.amount_from) + " +" : d.amount_from + "–" + money(d.amount_to);
        li.textContent = new Date(d.at).toLocaleTimeString() + " · " + amount + (d.donations > 1 ? " × " + d.donations : "");
        return li;
      })
    );
  }

  let timelinePending = false;
  let lastTimeline = 0;
  async function refreshTimeline() {
    if (timelinePending) return;
    const wait = Math.max(0, 5000 - (Date.now() - lastTimeline));
    timelinePending = true;
    setTimeout(async () => {
      try {
        const r = await fetch(api + "/timeline?minutes=180");
        if (r.ok) {
          const t = await r.json();
          currency = t.currency;
          drawChart(t.minutes);
          showRecent(t.recent);
        }
      } finally {
        lastTimeline = Date.now();
        timelinePending = false;
      }
    }, wait);
  }

  fetch(api).then((r) => (r.ok ? r.json() : null)).then((c) => {
    if (c) $("title").textContent = c.title;
  });

  // The browser reconnects by itself after a dropped stream, but gives up for good when the
  // server answers with an error (503 when its streams are full): then open a new one later.
  function connect() {
    const live = new EventSource(api + "/live");
    live.addEventListener("totals", (e) => {
      showTotals(JSON.parse(e.data));
      refreshTimeline();
    });
    live.onopen = () => {
      $("connection").textContent = "live";
      $("connection").classList.add("live");
    };
    live.onerror = () => {
      $("connection").textContent = "reconnecting…";
      $("connection").classList.remove("live");
      if (live.readyState === EventSource.CLOSED) {
        live.close();
        setTimeout(connect, 10000 + Math.floor(Math.random() * 5000));
      }
    };
  }
  connect();
})();
