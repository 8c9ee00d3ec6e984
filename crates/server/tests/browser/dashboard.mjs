// Opens a campaign's dashboard in headless Chromium, prints "READY <raised>" once the page is
// live, then waits for the raised total to become the expected value (the Rust test books a
// donation in between) and prints "DONE <json>"; then opens the page without the coordinator's
// session cookie ("name=value", the fourth argument) and prints "PUBLIC <raised>". Exits
// non-zero on any failure or timeout.
import { chromium } from "playwright-core";

const [base, slug, expected, cookie] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const staff = await browser.newContext();
  const [name, value] = cookie.split("=");
  await staff.addCookies([{ name, value, url: base }]);
  const page = await staff.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${base}/dashboard/${slug}`);
  await page.waitForFunction(() => document.getElementById("connection").textContent === "live", null, { timeout: 10000 });
  await page.waitForFunction(() => document.getElementById("raised").textContent !== "–", null, { timeout: 10000 });
  console.log("READY " + (await page.textContent("#raised")));
  await page.waitForFunction((want) => document.getElementById("raised").textContent === want, expected, { timeout: 15000 });
  await page.waitForFunction(() => document.querySelectorAll("#recent li").length > 0, null, { timeout: 15000 });
  const seen = {
    title: await page.textContent("#title"),
    raised: await page.textContent("#raised"),
    beneficiaries: await page.textContent("#beneficiaries"),
    donations: await page.textContent("#donations"),
    bars: await page.locator("#chart rect").count(),
    recent: await page.textContent("#recent li"),
    errors,
  };
  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  console.log("DONE " + JSON.stringify(seen));
  // anyone else: the public snapshot, which a single donation does not move
  const anonymous = await (await browser.newContext()).newPage();
  await anonymous.goto(`${base}/dashboard/${slug}`);
  await anonymous.waitForFunction(() => document.getElementById("raised").textContent !== "–", null, { timeout: 10000 });
  console.log("PUBLIC " + (await anonymous.textContent("#raised")));
} finally {
  await browser.close();
}
