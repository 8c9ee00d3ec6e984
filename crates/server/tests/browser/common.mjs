// What the browser tests share: Debian's chromium through playwright-core, and axe-core.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

// Runs axe-core on the page as it is now. The pages' CSP allows no script from elsewhere, so axe
// goes in as the script's text, in a context made with `bypassCSP: true` (see newPage below).
// critical violations, each as "rule: target…".
export async function seriousViolations(page) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

// A page in `lang` (Accept-Language and navigator.language). `bypassCSP` only so axe can be
// added: the give test runs without it, under the pages' real CSP.
export async function newPage(browser, lang, { bypassCSP = false } = {}) {
  const context = await browser.newContext({ locale: lang, bypassCSP, viewport: { width: 1000, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  return { page, errors };
}
