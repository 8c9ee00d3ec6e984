// The treasurers' console in headless Chromium, driven by tests/console.rs:
//   node console.mjs <base> <email> <password> <login code> <approval code> <batch id>
// Prints one line per step (the Rust test reads them as they come):
//   UNAUTHENTICATED <status of the page's first GET /api/v1/me>
//   LOGIN_ERROR <text shown for a wrong password>
//   AWAITING <batch ids under "Awaiting my approval">
//   HASH <content hash shown>            COUNTS <counts shown>
//   REFUSED <text shown for a wrong approval code>
//   APPROVED <outcome> <text>
//   MOVING <n> approved                  (the Rust test starts the payout workers on this line)
//   PAID <n>   SEEN <states seen>   POLLING <stopped|running>
//   AWAITING_AFTER <n>   AFTER_LOGOUT <status of GET /api/v1/me>
//   DONE <json>
// Exits non-zero on any failure or timeout.
import { chromium } from "playwright-core";

const [base, email, password, loginCode, approvalCode, batchId] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const VISIBLE = { state: "visible", timeout: 15000 };
try {
  const page = await browser.newPage();
  const errors = [];
  const requests = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  page.on("request", (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
  const batchGets = () => requests.filter((r) => r === `GET /api/v1/payout-batches/${batchId}`).length;

  // 1. not logged in: the page asks who it is, gets 401 and shows the login form
  const firstMe = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/v1/me");
  await page.goto(`${base}/console`);
  console.log("UNAUTHENTICATED " + (await firstMe).status());
  await page.waitForSelector("#login-view", VISIBLE);

  // a wrong password is refused plainly (it consumes no code)
  await page.fill("#login-email", email);
  await page.fill("#login-password", password + " wrong");
  await page.fill("#login-code", loginCode);
  await page.click("#login-submit");
  await page.waitForFunction(() => document.getElementById("login-error").textContent !== "", null, { timeout: 15000 });
  console.log("LOGIN_ERROR " + (await page.textContent("#login-error")));

  await page.fill("#login-password", password);
  await page.fill("#login-code", loginCode);
  await page.click("#login-submit");
  await page.waitForSelector("#batches-view", VISIBLE);
  await page.waitForSelector(`#awaiting tr[data-batch="${batchId}"]`, VISIBLE);
  const awaiting = await page.$$eval("#awaiting tbody tr", (rows) => rows.map((r) => r.dataset.batch));
  console.log("AWAITING " + awaiting.join(" "));

  // 3. the batch: hash, counts, items
  await page.click(`#awaiting tr[data-batch="${batchId}"] a`);
  await page.waitForSelector("#batch-view", VISIBLE);
  await page.waitForFunction(() => /^[0-9a-f]{64}$/.test(document.getElementById("batch-hash").textContent), null, { timeout: 15000 });
  console.log("HASH " + (await page.textContent("#batch-hash")));
  console.log("COUNTS " + (await page.$$eval("#batch-counts li", (li) => li.map((l) => l.textContent).join(", "))));
  await page.waitForSelector("#approve-form", VISIBLE);

  // a wrong code: the refusal is shown, nothing approved
  await page.fill("#approve-code", "000000");
  await page.click("#approve-submit");
  await page.waitForSelector("#approve-result[data-outcome]", { timeout: 15000 });
  console.log("REFUSED " + (await page.getAttribute("#approve-result", "data-outcome")) + " " + (await page.textContent("#approve-result")));

  await page.fill("#approve-code", approvalCode);
  await page.click("#approve-submit");
  await page.waitForFunction(() => {
    const outcome = document.getElementById("approve-result").dataset.outcome;
    return outcome !== undefined && outcome !== "refused";
  }, null, { timeout: 15000 }).catch(async (e) => {
    throw new Error(`no approval: ${await page.textContent("#approve-result")} (${e})`);
  });
  console.log("APPROVED " + (await page.getAttribute("#approve-result", "data-outcome")) + " " + (await page.textContent("#approve-result")));

  // released: the items show approved and the page refreshes every second
  await page.waitForFunction(() => document.querySelectorAll('#items tr[data-status="approved"]').length === 3, null, { timeout: 15000 });
  await page.waitForSelector("#batch-live", VISIBLE);
  console.log("MOVING " + (await page.locator('#items tr[data-status="approved"]').count()) + " approved");

  // the Rust test starts the payout workers now; the page shows each item turn paid
  const seen = new Set();
  const deadline = Date.now() + 60000;
  for (;;) {
    const states = await page.$$eval("#items tbody tr", (rows) => rows.map((r) => r.dataset.status));
    states.forEach((s) => seen.add(s));
    if (states.length === 3 && states.every((s) => s === "paid")) break;
    if (Date.now() > deadline) throw new Error("items not paid in time: " + states.join(","));
    await page.waitForTimeout(100);
  }
  console.log("PAID " + (await page.locator('#items tr[data-status="paid"]').count()));
  console.log("SEEN " + [...seen].join(","));
  const counts = await page.$$eval("#batch-counts li", (li) => li.map((l) => l.textContent).join(", "));
  const text = await page.evaluate(() => document.body.innerText);
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  // nothing is moving any more: the page stops asking
  await page.waitForSelector("#batch-live", { state: "hidden", timeout: 5000 });
  const before = batchGets();
  await page.waitForTimeout(2500);
  console.log("POLLING " + (batchGets() === before ? "stopped" : "running"));

  // back to the list: nothing awaits this treasurer now
  await page.click('a[href="#/"]');
  await page.waitForSelector("#batches-view", VISIBLE);
  await page.waitForSelector(`#batches tr[data-batch="${batchId}"]`, VISIBLE);
  console.log("AWAITING_AFTER " + (await page.locator("#awaiting tbody tr").count()));
  const status = await page.textContent(`#batches tr[data-batch="${batchId}"] td:nth-child(3)`);

  await page.click("#logout");
  await page.waitForSelector("#login-view", VISIBLE);
  console.log("AFTER_LOGOUT " + (await page.evaluate(async () => (await fetch("/api/v1/me")).status)));

  console.log("DONE " + JSON.stringify({ counts, status, text, errors, requests }));
} finally {
  await browser.close();
}
