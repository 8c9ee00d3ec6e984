// New payees in the treasurers' console, in headless Chromium, driven by tests/console.rs:
//   node console_payees.mjs <base> <email> <password> <login code> <confirm code>
// Prints one line per step:
//   PAYEES <beneficiary ids listed>   OWN <ids whose box cannot be ticked>
//   REFUSED <text shown for a wrong code>   CONFIRMED <text shown>   LEFT <ids still listed>
//   DONE <json>
// Exits non-zero on any failure or timeout.
import { chromium } from "playwright-core";

const [base, email, password, loginCode, confirmCode] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const VISIBLE = { state: "visible", timeout: 15000 };
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  await page.goto(`${base}/console`);
  await page.waitForSelector("#login-view", VISIBLE);
  await page.fill("#login-email", email);
  await page.fill("#login-password", password);
  await page.fill("#login-code", loginCode);
  await page.click("#login-submit");
  await page.waitForSelector("#payees", VISIBLE);
  const ids = () => page.$$eval("#payees-table tbody tr", (rows) => rows.map((r) => r.dataset.beneficiary));
  console.log("PAYEES " + (await ids()).join(" "));
  const own = await page.$$eval("#payees-table tbody tr", (rows) =>
    rows.filter((r) => r.querySelector("input").disabled).map((r) => r.dataset.beneficiary));
  console.log("OWN " + own.join(" "));
  const text = await page.evaluate(() => document.body.innerText);

  // tick every box that can be ticked, with the keyboard-reachable checkboxes
  for (const box of await page.$$("#payees-table tbody input:not([disabled])")) await box.check();
  await page.fill("#payees-code", "000000");
  await page.click("#payees-submit");
  await page.waitForSelector('#payees-result[data-outcome="refused"]', { timeout: 15000 });
  console.log("REFUSED " + (await page.textContent("#payees-result")));

  await page.fill("#payees-code", confirmCode);
  await page.click("#payees-submit");
  await page.waitForSelector('#payees-result[data-outcome="confirmed"]', { timeout: 15000 });
  console.log("CONFIRMED " + (await page.textContent("#payees-result")));
  await page.waitForFunction((n) => document.querySelectorAll("#payees-table tbody tr").length === n, own.length, { timeout: 15000 });
  console.log("LEFT " + (await ids()).join(" "));
  console.log("DONE " + JSON.stringify({ text, errors }));
} finally {
  await browser.close();
}
