// axe-core on each page given, in its language: prints "DONE <json>" with the serious and
// critical violations per page (the Rust test requires none). Pages are
// [{ "name", "url", "lang", "steps", "ready", "shot", "cookie" }]: `steps` (optional) are what a
// visitor does first, each ["fill", selector, text], ["check", selector] or ["click", selector]
// (to reach a page's later state, such as the monthly cancel-link step); `ready` is a CSS
// selector that shows the page has filled itself in (live figures); `cookie` ("name=value",
// optional) a session to open the page with (the console, logged in). With SCREENSHOTS=<dir>,
// saves <dir>/<name>.png of those with `shot`.
import { launch, newPage, seriousViolations } from "./common.mjs";

const pages = JSON.parse(process.argv[2]);
const browser = await launch();
try {
  const results = [];
  for (const { name, url, lang, steps, ready, shot, cookie } of pages) {
    const { page, errors } = await newPage(browser, lang, { bypassCSP: true });
    if (cookie) {
      const [cookieName, value] = cookie.split("=");
      await page.context().addCookies([{ name: cookieName, value, url }]);
    }
    await page.goto(url);
    for (const [action, selector, text] of steps || []) {
      if (action === "fill") await page.fill(selector, text);
      else if (action === "check") await page.check(selector);
      else if (action === "click") await page.click(selector);
      else throw new Error(`unknown step ${action}`);
    }
    if (ready) await page.waitForSelector(ready, { timeout: 15000 });
    const htmlLang = await page.getAttribute("html", "lang");
    const violations = await seriousViolations(page);
    if (process.env.SCREENSHOTS && shot) await page.screenshot({ path: `${process.env.SCREENSHOTS}/${name}.png`, fullPage: true });
    results.push({ name, htmlLang, violations, errors });
    await page.context().close();
  }
  console.log("DONE " + JSON.stringify(results));
} finally {
  await browser.close();
}
