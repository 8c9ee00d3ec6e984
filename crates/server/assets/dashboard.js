// Coordinators' dashboard: totals from the SSE stream, chart and latest donations from the
// timeline endpoint (refreshed at most every 5 s). No personal data is ever sent here. Every
// word comes from the page's data block (i18n.js); amounts are formatted from their strings.
"use strict";
(function () {
  const { data, t, money, permille, percent, time, count } = window.zborPage;
  const slug = document.body.dataset.campaign;
  const api = "/api/v1/campaigns/" + encodeURIComponent(slug);
  const $ = (id) => document.getElementById(id);

  function showTotals(totals) {
    $("raised").textContent = money(totals.raised);
    $("goal").textContent = money(totals.goal);
    $("refunded").textContent = money(totals.refunded);
    $("fees").textContent = money(totals.fees);
    $("net").textContent = money(totals.net);
    $("donations").textContent = count(totals.donations);
    $("beneficiaries").textContent =
      totals.beneficiaries_funded === null || data.peopleInGoal === null
        ? "–"
        : t("dashboard-funded-of", { funded: count(totals.beneficiaries_funded), total: count(BigInt(data.peopleInGoal)) });
    $("updated").textContent = time(new Date(totals.updated_at));
    // what the campaign can pay out, of its goal: exact thousandths from the decimal strings
    const thousandths = permille(totals.net, totals.goal);
    $("progress").style.width = thousandths / 10 + "%";
    $("progressbar").setAttribute("aria-valuenow", String(thousandths / 10));
    $("percent").textContent = t("dashboard-progress", { percent: percent(thousandths) });
  }

  const NS = "http://www.w3.org/2000/svg";
  function svg(name, attributes, text) {
    const node = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The plot's box inside the 720 × 220 view: room on the left for the scale, below for times.
  const PLOT = { left: 56, right: 710, top: 12, bottom: 176 };
  const WINDOW_MINUTES = 180;

  // A round top for the scale (1, 2, 5, 10, 20, 50, …) at or above the tallest bar.
  function scaleTop(max) {
    for (let step = 1; ; step *= 10) {
      for (const m of [1, 2, 5]) if (m * step >= max) return m * step;
    }
  }

  function drawChart(minutes, bucketMinutes) {
    const chart = $("chart");
    chart.replaceChildren();
    const end = Date.now();
    const start = end - WINDOW_MINUTES * 60 * 1000;
    const x = (ms) => PLOT.left + ((ms - start) / (end - start)) * (PLOT.right - PLOT.left);
    const shown = minutes.filter((m) => new Date(m.at).getTime() >= start);
    const top = scaleTop(Math.max(1, ...shown.map((m) => m.donations)));
    const y = (n) => PLOT.bottom - (n / top) * (PLOT.bottom - PLOT.top);

    // the scale: gridlines and counts at 0, the top, and half of it when that is a whole count
    for (const tick of top % 2 === 0 ? [0, top / 2, top] : [0, top]) {
      chart.appendChild(svg("line", { x1: PLOT.left, x2: PLOT.right, y1: y(tick), y2: y(tick), class: "grid" }));
      chart.appendChild(svg("text", { x: PLOT.left - 6, y: y(tick) + 4, "text-anchor": "end", class: "tick" }, count(tick)));
    }
    chart.appendChild(svg("text", { x: 12, y: (PLOT.top + PLOT.bottom) / 2, transform: `rotate(-90 12 ${(PLOT.top + PLOT.bottom) / 2})`, "text-anchor": "middle", class: "axis-title" }, t("dashboard-chart-y")));
    // times every half hour
    const half = 30 * 60 * 1000;
    for (let tick = Math.ceil(start / half) * half; tick <= end; tick += half) {
      chart.appendChild(svg("line", { x1: x(tick), x2: x(tick), y1: PLOT.bottom, y2: PLOT.bottom + 4, class: "axis" }));
      chart.appendChild(svg("text", { x: x(tick), y: PLOT.bottom + 17, "text-anchor": "middle", class: "tick" }, time(new Date(tick))));
    }
    chart.appendChild(svg("text", { x: (PLOT.left + PLOT.right) / 2, y: 214, "text-anchor": "middle", class: "axis-title" }, t("dashboard-chart-x")));
    chart.appendChild(svg("line", { x1: PLOT.left, x2: PLOT.right, y1: PLOT.bottom, y2: PLOT.bottom, class: "axis" }));
    chart.appendChild(svg("line", { x1: PLOT.left, x2: PLOT.left, y1: PLOT.top, y2: PLOT.bottom, class: "axis" }));

    const width = Math.max(1, ((PLOT.right - PLOT.left) * bucketMinutes) / WINDOW_MINUTES - 1);
    for (const m of shown) {
      const bar = svg("rect", { x: x(new Date(m.at).getTime()).toFixed(1), y: y(m.donations).toFixed(1), width: width.toFixed(1), height: (PLOT.bottom - y(m.donations)).toFixed(1), class: "bar" });
      bar.appendChild(svg("title", {}, t("dashboard-chart-bar", { time: time(new Date(m.at)), amount: money(m.raised), count: count(m.donations) })));
      chart.appendChild(bar);
    }
    $("chart-empty").hidden = shown.length > 0;
  }

  // One line of the latest donations. The public timeline gives bands (amount_from, amount_to
  // or null for "and more", donations); signed-in coordinators, and the older API, exact amounts.
  function donationText(d) {
    let amount;
    if (d.amount_from === undefined) amount = money(d.amount);
    else if (d.amount_to === null) amount = t("dashboard-recent-open-band", { from: money(d.amount_from, true) });
    else if (d.amount_to === d.amount_from) amount = money(d.amount_from);
    else amount = t("dashboard-recent-band", { from: money(d.amount_from, true), to: money(d.amount_to, true) });
    const times = d.donations > 1 ? " " + t("dashboard-recent-count", { count: count(d.donations) }) : "";
    return time(new Date(d.at)) + " · " + amount + times;
  }

  function showRecent(recent) {
    const items = recent.length ? recent.map(donationText) : [t("dashboard-recent-empty")];
    $("recent").replaceChildren(
      ...items.map((text) => {
        const li = document.createElement("li");
        li.textContent = text;
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
        const r = await fetch(api + "/timeline?minutes=" + WINDOW_MINUTES);
        if (r.ok) {
          const timeline = await r.json();
          drawChart(timeline.minutes, timeline.bucket_minutes || 1);
          showRecent(timeline.recent);
        }
      } finally {
        lastTimeline = Date.now();
        timelinePending = false;
      }
    }, wait);
  }

  // The browser reconnects by itself after a dropped stream, but gives up for good when the
  // server answers with an error (503 when its streams are full): then open a new one later.
  function connect() {
    const live = new EventSource(api + "/live");
    live.addEventListener("totals", (e) => {
      showTotals(JSON.parse(e.data));
      refreshTimeline();
    });
    live.onopen = () => {
      $("connection").textContent = t("dashboard-live");
      $("connection").classList.add("live");
    };
    live.onerror = () => {
      $("connection").textContent = t("dashboard-reconnecting");
      $("connection").classList.remove("live");
      if (live.readyState === EventSource.CLOSED) {
        live.close();
        setTimeout(connect, 10000 + Math.floor(Math.random() * 5000));
      }
    };
  }
  drawChart([], 1);
  connect();
})();
