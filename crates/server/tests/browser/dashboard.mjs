// Opens a campaign's dashboard in headless Chromium in the language given, signed in as a
// coordinator (the session cookie "name=value", the fifth argument), prints "READY <raised>" once
// the page is live, then waits for the raised total to become the expected text (the Rust test
// books a donation in between) and prints "DONE <json>"; then opens the page without the
// session and prints "PUBLIC <raised>" (the public snapshot). Exits non-zero on any failure or
// timeout.
import { launch, newPage } from "./common.mjs";

const [base, slug, expected, lang, cookie] = process.argv.slice(2);
const browser = await launch();
try {
  const { page, errors } = await newPage(browser, lang);
  const [name, value] = cookie.split("=");
  await page.context().addCookies([{ name, value, url: base }]);
  await page.goto(`${base}/dashboard/${slug}`);
  const live = await page.evaluate(() => JSON.parse(document.getElementById("page-data").textContent).messages["dashboard-live"]);
  await page.waitForFunction((want) => document.getElementById("connection").textContent === want, live, { timeout: 10000 });
  await page.waitForFunction(() => document.getElementById("raised").textContent !== "–", null, { timeout: 10000 });
  console.log("READY " + (await page.textContent("#raised")));
  await page.waitForFunction((want) => document.getElementById("raised").textContent === want, expected, { timeout: 15000 });
  await page.waitForFunction(() => document.querySelectorAll("#chart rect").length > 0, null, { timeout: 15000 });
  const seen = {
    htmlLang: await page.getAttribute("html", "lang"),
    tabTitle: await page.title(),
    title: await page.textContent("#title"),
    raised: await page.textContent("#raised"),
    goal: await page.textContent("#goal"),
    beneficiaries: await page.textContent("#beneficiaries"),
    donations: await page.textContent("#donations"),
    percent: await page.textContent("#percent"),
    progressColour: await page.$eval("#progress", (e) => getComputedStyle(e).backgroundColor),
    progressValue: await page.getAttribute("#progressbar", "aria-valuenow"),
    bars: await page.locator("#chart rect").count(),
    ticks: await page.locator("#chart text.tick").allTextContents(),
    axisTitles: await page.locator("#chart text.axis-title").allTextContents(),
    giveLink: await page.getAttribute("#give-link", "href"),
    recent: await page.textContent("#recent li"),
    errors,
  };
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  console.log("DONE " + JSON.stringify(seen));
  // anyone else: the public snapshot, which a single donation does not move
  const { page: anonymous } = await newPage(browser, lang);
  await anonymous.goto(`${base}/dashboard/${slug}`);
  await anonymous.waitForFunction(() => document.getElementById("raised").textContent !== "–", null, { timeout: 10000 });
  console.log("PUBLIC " + (await anonymous.textContent("#raised")));
} finally {
  await browser.close();
}
