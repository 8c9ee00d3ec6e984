// Opens a campaign's give page in headless Chromium, picks a suggested amount, chooses to be
// named, submits, and waits to be sent to Stripe's (the simulator's) checkout page. Prints
// "DONE <json>"; exits non-zero on any failure or timeout.
import { chromium } from "playwright-core";

const [base, slug, amount, stripeBase] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${base}/give/${slug}`);
  const title = await page.textContent("h1");
  const suggested = await page.locator("button.amount").count();
  await page.click(`button.amount[data-amount="${amount}"]`);
  await page.uncheck("#anonymous");
  await Promise.all([
    page.waitForURL((url) => url.href.startsWith(stripeBase), { timeout: 15000 }),
    page.click("#submit"),
  ]);
  console.log("DONE " + JSON.stringify({ title, suggested, url: page.url(), errors }));
} finally {
  await browser.close();
}
