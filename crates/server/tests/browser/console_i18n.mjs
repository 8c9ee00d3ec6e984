// The treasurers' console in other languages, in headless Chromium, driven by tests/console.rs:
//   node console_i18n.mjs <base> <batch id> <runs: json>
// Each run is {lang, email, password, loginCode, approvalCode}: a browser whose language is
// `lang` (Accept-Language) opens the console, fails a log in with a wrong password, logs in,
// finds the batch, opens it and (with an approval code) approves it. Prints per run
//   RUN <json: what the page showed at each step>
// then DONE. Exits non-zero on any failure or timeout.
import { launch, newPage } from "./common.mjs";

const [base, batchId, runsJson] = process.argv.slice(2);
const VISIBLE = { state: "visible", timeout: 15000 };
const browser = await launch();
try {
  for (const { lang, email, password, loginCode, approvalCode } of JSON.parse(runsJson)) {
    const { page, errors } = await newPage(browser, lang);
    page.on("console", (m) => {
      if (m.type() === "error" && /Content Security Policy/i.test(m.text())) errors.push(m.text());
    });
    await page.goto(`${base}/console`);
    await page.waitForSelector("#login-view", VISIBLE);
    const seen = { lang, htmlLang: await page.getAttribute("html", "lang"), title: await page.title(),
      loginHeading: await page.textContent("#login-view h1") };

    await page.fill("#login-email", email);
    await page.fill("#login-password", password + " wrong");
    await page.click("#login-submit");
    await page.waitForFunction(() => document.getElementById("login-error").textContent !== "", null, { timeout: 15000 });
    seen.loginError = await page.textContent("#login-error");

    await page.fill("#login-password", password);
    await page.fill("#login-code", loginCode);
    await page.click("#login-submit");
    await page.waitForSelector(`#batches tr[data-batch="${batchId}"]`, VISIBLE);
    await page.waitForFunction(() => document.getElementById("switch-state").textContent !== "–", null, { timeout: 15000 });
    const row = `#batches tr[data-batch="${batchId}"]`;
    Object.assign(seen, {
      batchesHeading: await page.textContent("#batches-view h1"),
      who: await page.textContent("#who"),
      switchState: await page.textContent("#switch-state"),
      listed: await page.$$eval(`${row} td`, (cells) => cells.map((c) => c.textContent)),
    });

    await page.click(`${row} a`);
    await page.waitForSelector("#batch-view", VISIBLE);
    await page.waitForFunction(() => /^[0-9a-f]{64}$/.test(document.getElementById("batch-hash").textContent), null, { timeout: 15000 });
    await page.waitForSelector("#items tbody tr", VISIBLE);
    if (approvalCode) {
      await page.fill("#approve-code", approvalCode);
      await page.click("#approve-submit");
      await page.waitForSelector("#approve-result[data-outcome]", { timeout: 15000 });
      seen.outcome = await page.getAttribute("#approve-result", "data-outcome");
      seen.approveResult = await page.textContent("#approve-result");
      await page.waitForSelector('#items tr[data-status="approved"]', { timeout: 15000 });
    }
    Object.assign(seen, {
      batchHeading: await page.textContent("#batch-heading"),
      status: await page.textContent("#batch-status"),
      total: await page.textContent("#batch-total"),
      approvals: await page.textContent("#batch-approvals"),
      counts: await page.$$eval("#batch-counts li", (li) => li.map((l) => l.textContent)),
      item: await page.$$eval("#items tbody tr:first-child td", (cells) => cells.map((c) => c.textContent)),
      // all the page shows but the language switcher, which names each language in its own words
      text: await page.evaluate(() => document.querySelector("header.top").innerText + "\n" + document.querySelector("main").innerText),
      errors,
    });
    console.log("RUN " + JSON.stringify(seen));
    await page.context().close();
  }
  console.log("DONE");
} finally {
  await browser.close();
}
