// The pages' words and formats, read from the page's own data block (`#page-data`, written by
// the server from its catalogues): this script holds no text of its own. Money is formatted
// from the API's decimal string, digit by digit, the way the server formats it
// (crates/i18n/src/money.rs): an amount never passes through a JavaScript Number. Also the
// pages' one copy-to-clipboard.
"use strict";
window.zborPage = (function () {
  const data = JSON.parse(document.getElementById("page-data").textContent);

  // A message, with `{name}` replaced by vars.name.
  function t(id, vars) {
    const template = data.messages[id];
    if (template === undefined) return id;
    return template.replace(/\{(\w+)\}/g, (whole, name) => (vars && name in vars ? String(vars[name]) : whole));
  }

  // A string of digits in groups of three, the locale's way ("123 000", "1000" in Polish).
  function group(whole, style = data.money) {
    if (whole.length < 3 + style.minGrouping) return whole;
    let out = "";
    for (let i = 0; i < whole.length; i++) {
      if (i > 0 && (whole.length - i) % 3 === 0) out += style.group;
      out += whole[i];
    }
    return out;
  }

  // "1234.50" → "€1,234.50" / "1 234,50 €"; `compact` drops a fraction of only zeros. The page's
  // currency, or `currency` from the page's `moneyStyles` (the console shows several); an
  // amount in a currency the page has no style for is shown as it came, with its code.
  function money(amount, compact, currency) {
    const style = currency === undefined ? data.money : (data.moneyStyles || {})[currency];
    if (!style) return `${amount} ${currency}`;
    let text = String(amount);
    const negative = text.startsWith("-");
    if (negative) text = text.slice(1);
    const [whole, fraction = ""] = text.split(".");
    if (!/^\d+$/.test(whole) || !/^\d*$/.test(fraction)) return String(amount);
    let out = (negative ? "-" : "") + style.prefix + group(whole, style);
    if (fraction && !(compact && /^0+$/.test(fraction))) out += style.decimal + fraction;
    return out + style.suffix;
  }

  // An amount string in minor units, as a BigInt: exact arithmetic for ratios.
  function minor(amount) {
    const text = String(amount);
    const [whole, fraction = ""] = text.replace(/^-/, "").split(".");
    const value = BigInt((whole || "0") + fraction.padEnd(data.scale, "0").slice(0, data.scale));
    return text.startsWith("-") ? -value : value;
  }

  // part of whole in thousandths (0 to 1000), computed exactly from the decimal strings.
  function permille(part, whole) {
    const of = minor(whole);
    if (of <= 0n) return 0;
    const ratio = (minor(part) * 1000n) / of;
    return Number(ratio < 0n ? 0n : ratio > 1000n ? 1000n : ratio);
  }

  // Thousandths (an integer) as a percentage with one decimal: "0.8%", "0,8 %". Built by hand
  // like money: browsers' Intl lacks some of these languages (Chromium falls back to English).
  function percent(thousandths) {
    const whole = String(Math.floor(thousandths / 10));
    const tenth = thousandths % 10;
    return group(whole) + (tenth ? data.money.decimal + tenth : "") + data.money.percent;
  }
  // A count (an integer, or a BigInt) with the locale's grouping.
  const count = (n) => group(String(n));
  const timeFormat = new Intl.DateTimeFormat(data.lang, { hour: "2-digit", minute: "2-digit" });
  const time = (date) => timeFormat.format(date);

  // Copies text to the clipboard and says `done` in `status` (a role="status" element). Without
  // a clipboard (an old browser, a page not served securely) it shows the text to copy by hand.
  async function copy(text, status, done) {
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = done;
    } catch (e) {
      status.textContent = text;
    }
  }

  return { data, t, money, permille, percent, time, count, copy };
})();
