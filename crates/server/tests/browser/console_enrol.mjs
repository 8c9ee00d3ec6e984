// A first log in to the treasurers' console, in headless Chromium, driven by tests/console.rs:
//   node console_enrol.mjs <base> <email> <password>
// Logs in without a code, is shown the authenticator's QR code and secret, enters the code an
// authenticator app would show (computed here from the secret on the page, as the app would
// from the QR code), and lands in the console. Prints one line per step:
//   API <json: what POST /api/v1/me/totp answered>
//   SHOWN <json: the secret on the page, the QR image's SVG, its rendered width>
//   ENROLLED <the view shown after confirming>
//   DONE <json>
// Exits non-zero on any failure or timeout.
import { createHmac } from "node:crypto";
import { chromium } from "playwright-core";

const [base, email, password] = process.argv.slice(2);

// RFC 6238 with the defaults authenticator apps use: SHA-1, 30 s, 6 digits.
function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of text.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}
function totp(secret, unixSeconds) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(value).padStart(6, "0");
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const VISIBLE = { state: "visible", timeout: 15000 };
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  await page.goto(`${base}/console`);
  await page.waitForSelector("#login-view", VISIBLE);
  await page.fill("#login-email", email);
  await page.fill("#login-password", password);
  const enrolment = page.waitForResponse((r) => r.url().endsWith("/api/v1/me/totp") && r.request().method() === "POST");
  await page.click("#login-submit");
  const answer = await (await enrolment).json();
  console.log("API " + JSON.stringify(answer));
  await page.waitForSelector("#enrol-view", VISIBLE);
  await page.waitForFunction(() => document.getElementById("enrol-qr").complete
    && document.getElementById("enrol-qr").naturalWidth > 0, null, { timeout: 15000 });
  const shown = await page.evaluate(() => {
    const img = document.getElementById("enrol-qr");
    const prefix = "data:image/svg+xml;charset=utf-8,";
    return {
      secret: document.getElementById("enrol-secret").textContent,
      prefix: img.src.slice(0, prefix.length),
      svg: decodeURIComponent(img.src.slice(prefix.length)),
      width: img.naturalWidth,
    };
  });
  console.log("SHOWN " + JSON.stringify(shown));

  await page.fill("#enrol-code", totp(shown.secret, Date.now() / 1000));
  await page.click("#enrol-submit");
  await page.waitForSelector("#batches-view", VISIBLE);
  console.log("ENROLLED " + (await page.textContent("#batches-view h1")));
  console.log("DONE " + JSON.stringify({ errors }));
} finally {
  await browser.close();
}
