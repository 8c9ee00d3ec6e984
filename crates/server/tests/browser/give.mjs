// A whole donation with the keyboard only, in headless Chromium, in the language given: Tab to a
// suggested amount, Space to choose it, Tab to "give anonymously", Space to untick it, first a
// wrong amount typed (the page answers in plain words), then Shift+Tab back to the amount, then Enter on the submit button, and
// on to Stripe's (the simulator's) checkout page. Checks on the way that the focused control
// shows a visible focus outline (:focus-visible). Prints "DONE <json>"; exits non-zero on any
// failure or timeout. Runs under the page's real CSP.
import { launch, newPage } from "./common.mjs";

const [base, slug, amount, stripeBase, lang] = process.argv.slice(2);
const browser = await launch();
try {
  const { page, errors } = await newPage(browser, lang);
  await page.goto(`${base}/give/${slug}`);
  const title = await page.textContent("h1");
  const htmlLang = await page.getAttribute("html", "lang");
  const suggested = await page.locator("button.amount").allTextContents();
  await page.waitForSelector("#progress:not([hidden])", { timeout: 10000 });
  const progress = await page.textContent("#raised-of-goal");

  // what has focus, and whether it is drawn: a real outline while :focus-visible
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return {
      id: el.id, tag: el.tagName.toLowerCase(), amount: el.dataset.amount || null,
      visible: el.matches(":focus-visible") && style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
    };
  });
  const tabTo = async (matches, { back = false, limit = 40 } = {}) => {
    for (let i = 0; i < limit; i++) {
      await page.keyboard.press(back ? "Shift+Tab" : "Tab");
      const f = await focused();
      if (matches(f)) return f;
    }
    throw new Error("focus never reached the control");
  };
  const focusSeen = [];

  // a wrong amount first: typed into "other amount", Enter submits the form
  focusSeen.push(await tabTo((f) => f.id === "amount"));
  await page.keyboard.type("12,3,4");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.getElementById("message").textContent !== "", null, { timeout: 5000 });
  const error = await page.textContent("#message");
  const invalid = await page.getAttribute("#amount", "aria-invalid");

  // Shift+Tab back to the suggested amount, and choose it with Space
  const chosen = await tabTo((f) => f.amount === amount, { back: true });
  focusSeen.push(chosen);
  await page.keyboard.press("Space");
  const pressed = await page.$$eval("button.amount", (bs) => bs.map((b) => [b.dataset.amount, b.getAttribute("aria-pressed")]));
  const typed = await page.inputValue("#amount");

  focusSeen.push(await tabTo((f) => f.id === "anonymous"));
  await page.keyboard.press("Space");
  const anonymous = await page.isChecked("#anonymous");
  focusSeen.push(await tabTo((f) => f.id === "submit"));
  await Promise.all([
    page.waitForURL((url) => url.href.startsWith(stripeBase), { timeout: 15000 }),
    page.keyboard.press("Enter"),
  ]);
  const due = await page.textContent("#amount-due");
  const back = await page.getAttribute("#back", "href");
  console.log("DONE " + JSON.stringify({ title, htmlLang, suggested, progress, error, invalid, pressed, typed, anonymous, focusSeen, url: page.url(), due, back, errors }));
} finally {
  await browser.close();
}
