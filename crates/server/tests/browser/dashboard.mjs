// Opens a campaign's dashboard in headless Chromium, prints "READY <raised>" once the page is
// live, then waits for the raised total to become the expected value (the Rust test books a
// donation in between) and prints "DONE <json>". Exits non-zero on any failure or timeout.
import { chromium } from "playwright-core";

const [base, slug, expected] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
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
} finally {
  await browser.close();
}
