// Monthly giving and receipts in headless Chromium, under the pages' real CSP. Prints
// "DONE <json>"; exits non-zero on any failure or timeout. Three modes:
//
// give <base> <slug> <amount> <lang> <stripeBase> [email]
//   With the keyboard: types the amount, chooses "every month" with the arrow key in the
//   radio group, submits; the cancel-link step appears (focus on its heading), its copy button
//   is pressed, "Continue to payment" leads to the simulator's checkout, paid by card; Stripe's
//   return address (zbor's public URL, which is not this test server) is sent on to the same
//   path here, where the thank-you page shows the link again.
//   With an email: a one-off gift instead, not anonymous, with that receipt email.
//
// cancel <url> <lang> [button…]
//   Opens a cancel link and presses each button named ("stop", "manage"), reloading the page
//   between presses; reports the page's answer after each.
import { launch, newPage } from "./common.mjs";

const [mode, ...args] = process.argv.slice(2);
const browser = await launch();
try {
  console.log("DONE " + JSON.stringify(mode === "give" ? await give(...args) : await cancel(...args)));
} finally {
  await browser.close();
}

async function give(base, slug, amount, lang, stripeBase, email) {
  const { page, errors } = await newPage(browser, lang);
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  // Stripe sends the donor to ZBOR_PUBLIC_URL (http://127.0.0.1:9 in tests): on to this server
  await page.route(/^http:\/\/127\.0\.0\.1:9\//, (route) => {
    const url = new URL(route.request().url());
    route.fulfill({ status: 303, headers: { location: base + url.pathname + url.search } });
  });
  await page.goto(`${base}/give/${slug}`);
  const htmlLang = await page.getAttribute("html", "lang");
  const focusedId = () => page.evaluate(() => document.activeElement.id);
  const tabTo = async (id) => {
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      if ((await focusedId()) === id) return;
    }
    throw new Error(`focus never reached #${id}`);
  };

  await tabTo("amount");
  await page.keyboard.type(amount);
  const emailDisabledWhileAnonymous = await page.isDisabled("#receipt-email");
  if (email) {
    await tabTo("anonymous");
    await page.keyboard.press("Space");
    await tabTo("receipt-email");
    // a wrong address first: answered in plain words, the field marked
    await page.keyboard.type("not-an-address");
    await tabTo("submit");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.getElementById("message").textContent !== "", null, { timeout: 5000 });
    const emailError = await page.textContent("#message");
    const emailInvalid = await page.getAttribute("#receipt-email", "aria-invalid");
    await page.fill("#receipt-email", email);
    await page.focus("#receipt-email");
    await tabTo("submit");
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(stripeBase), { timeout: 15000 }),
      page.keyboard.press("Enter"),
    ]);
    const stripeUrl = page.url();
    await page.click("text=Pay by card");
    await page.waitForURL((url) => url.href.startsWith(`${base}/give/${slug}/thanks`), { timeout: 15000 });
    const monthlyShown = await page.isVisible("#monthly-link");
    return { htmlLang, emailDisabledWhileAnonymous, emailError, emailInvalid, stripeUrl, thanksUrl: page.url(), monthlyShown, errors };
  }

  // the radio group: Tab reaches the checked radio, an arrow key moves the choice
  await tabTo("interval-once");
  await page.keyboard.press("ArrowDown");
  const monthlyChecked = await page.isChecked("#interval-month");
  const legend = await page.textContent("#give fieldset:nth-of-type(2) legend");
  await tabTo("submit");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#monthly-step:not([hidden])", { timeout: 15000 });
  const formHidden = await page.isHidden("#give");
  const focusAfterStep = await focusedId();
  const heading = await page.textContent("#monthly-heading");
  const link = await page.inputValue("#cancel-link");
  await tabTo("copy-cancel-link");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.getElementById("cancel-link-copied").textContent !== "", null, { timeout: 5000 });
  const copied = await page.textContent("#cancel-link-copied");
  const clipboard = await page.evaluate(() => navigator.clipboard.readText());
  await tabTo("continue");
  await Promise.all([
    page.waitForURL((url) => url.href.startsWith(stripeBase), { timeout: 15000 }),
    page.keyboard.press("Enter"),
  ]);
  const stripeUrl = page.url();
  await page.click("text=Pay by card");
  await page.waitForURL((url) => url.href.startsWith(`${base}/give/${slug}/thanks`), { timeout: 15000 });
  await page.waitForSelector("#monthly-link:not([hidden])", { timeout: 5000 });
  const thanksLink = await page.inputValue("#cancel-link");
  const thanksHeading = await page.textContent("#monthly-link h2");
  // another language on the thank-you page: the link is still there (kept for the tab's life)
  await page.click(`.languages a[hreflang="${lang === "en" ? "de" : "en"}"]`);
  await page.waitForSelector("#monthly-link:not([hidden])", { timeout: 5000 });
  const afterSwitch = await page.inputValue("#cancel-link");
  return {
    htmlLang, monthlyChecked, legend, formHidden, focusAfterStep,
    heading, link, copied, clipboard, stripeUrl, thanksLink, thanksHeading, afterSwitch, emailDisabledWhileAnonymous, errors,
  };
}

async function cancel(url, lang, ...buttons) {
  const { page, errors } = await newPage(browser, lang);
  await page.goto(url);
  const htmlLang = await page.getAttribute("html", "lang");
  const title = await page.textContent("h1");
  const state = () => page.evaluate(() => {
    const result = document.getElementById("result");
    return {
      result: result.textContent, failed: result.classList.contains("message"),
      actionsHidden: document.getElementById("actions").hidden, focus: document.activeElement.id,
    };
  });
  // the page has read the fragment once its script has run: the answer or the buttons show
  await page.waitForFunction(() => document.getElementById("result").textContent !== "" || !document.getElementById("actions").hidden);
  const initial = await state();
  const switcher = await page.$$eval(".languages a", (as) => as.map((a) => a.getAttribute("href")));
  const presses = [];
  for (const button of buttons) {
    await page.reload();
    await page.waitForSelector("#actions:not([hidden])");
    await page.focus(`#${button}`);
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => {
      const text = document.getElementById("result").textContent;
      return text !== "" && !document.getElementById("actions").hasAttribute("aria-busy");
    }, null, { timeout: 15000 });
    presses.push({ button, ...(await state()), url: page.url() });
  }
  return { htmlLang, title, initial, switcher, presses, errors };
}
