// The customer enrollment flow in a real browser: headless Debian Chromium, driven by
// playwright-core, dressed as an iPhone. Opens /join/<slug>, sends one form the server
// rejects (a bad phone number), then a good one, lands on the card page and downloads the
// Apple Wallet pass from its button.
//
//   node join_flow.mjs <baseUrl> <slug> <artifactDir> [programName]
//
// Writes join.png, join-error.png and card.png (full-page screenshots; fail.png too when a
// check fails) and card.pkpass into artifactDir, prints one line of JSON on success and exits
// 0; on any failed check prints "join_flow: FAIL [step] message" and exits 1. Every step has
// a deadline, so it never hangs. Run by tests/integration/browser/test_browser_join.cpp;
// `npm ci` in this folder installs playwright-core (scripts/test.sh does it).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAUNCH_ATTEMPTS, LAUNCH_MS, launchChromium } from './chromium.mjs';

const STEP_MS = 15_000;
const TOTAL_MS = 210_000;
const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 ' +
  '(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';
const HOLDER = 'Zoë Example';
const PHONE = '+49 151 23456789';
const EMAIL = 'zoe@example.com';

class CheckFailed extends Error {}

function check(ok, message) {
  if (!ok) throw new CheckFailed(message);
}

const [baseArg, slug, artifactDir, programName] = process.argv.slice(2);
if (!baseArg || !slug || !artifactDir) {
  console.error('usage: node join_flow.mjs <baseUrl> <slug> <artifactDir> [programName]');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor < 20) {
  console.error(`join_flow: FAIL [setup] Node.js ${process.versions.node} is too old: 20+ needed`);
  process.exit(1);
}
mkdirSync(artifactDir, { recursive: true });

let browser;
let page;
let current = 'setup';
const started = Date.now();
const timings = {};

async function finish(code, line) {
  (code === 0 ? console.log : console.error)(line);
  if (code !== 0 && page) {
    await withTimeout(page.screenshot({ path: join(artifactDir, 'fail.png'), fullPage: true }), 5_000)
      .catch(() => {});
  }
  if (browser) await withTimeout(browser.close(), 5_000).catch(() => {});
  process.exit(code);
}

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailed(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function step(name, fn, ms = STEP_MS) {
  current = name;
  const t0 = Date.now();
  const result = await withTimeout(fn(), ms);
  timings[name] = Date.now() - t0;
  return result;
}

// The whole run has a deadline too, in case something outside a step stalls.
setTimeout(() => {
  finish(1, `join_flow: FAIL [${current}] the whole run took longer than ${TOTAL_MS} ms`);
}, TOTAL_MS).unref();

// Anything the browser complains about (a CSP violation, a missing stylesheet or image, a
// script error) fails the run; the one expected complaint is the 422 of the rejected form.
const complaints = [];
function watch(p) {
  p.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') {
      const where = msg.location()?.url;
      complaints.push(`console ${msg.type()}: ${msg.text()}${where ? ` (${where})` : ''}`);
    }
  });
  p.on('pageerror', (err) => complaints.push(`page error: ${err.message}`));
  p.on('requestfailed', (req) => {
    // The pkpass link is a download: Chromium aborts its navigation on purpose.
    if (!req.url().endsWith('.pkpass')) {
      complaints.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`);
    }
  });
  p.on('response', (res) => {
    const expected422 = res.status() === 422 && res.request().method() === 'POST';
    if (res.status() >= 400 && !expected422) {
      complaints.push(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
    }
  });
}

// The pages name no icon, so Chromium asks for /favicon.ico, which the server does not have:
// noted in the summary, not a failure.
const isFavicon = (c) => /\/favicon\.ico\b/.test(c);

function unexpectedComplaints() {
  return complaints.filter((c) => !/status of 422/.test(c) && !isFavicon(c));
}

// Checks every page shares: the program's name on top, no script, the stylesheet applied,
// nothing wider than the phone's screen.
async function checkPageBasics(what, expectedTitlePrefix, nameSelector) {
  const title = await page.title();
  const heading = (await page.locator(nameSelector).first().innerText()).trim();
  check(heading.length > 0, `${what}: no program name in ${nameSelector}`);
  if (programName) {
    check(heading === programName, `${what}: heading is "${heading}", expected "${programName}"`);
  }
  check(title === `${expectedTitlePrefix} · ${heading}`,
        `${what}: title is "${title}", expected "${expectedTitlePrefix} · ${heading}"`);
  const facts = await page.evaluate(() => {
    const sheet = [...document.styleSheets].find((s) => s.href && s.href.includes('/assets/'));
    let rules = 0;
    try {
      rules = sheet ? sheet.cssRules.length : 0;
    } catch {
      rules = -1;
    }
    return {
      scripts: document.scripts.length,
      rules,
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      brandBg: getComputedStyle(document.documentElement).getPropertyValue('--brand-bg').trim(),
    };
  });
  check(facts.scripts === 0, `${what}: ${facts.scripts} <script> elements, expected none`);
  check(facts.rules > 0, `${what}: the stylesheet did not load (${facts.rules} rules)`);
  check(facts.brandBg !== '', `${what}: the program colours (nonce'd <style>) were not applied`);
  check(facts.scrollWidth <= facts.innerWidth,
        `${what}: page is ${facts.scrollWidth}px wide on a ${facts.innerWidth}px screen`);
}

async function submitForm(expectStatus) {
  const posted = page.waitForResponse(
    (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/join/${slug}`);
  await page.getByRole('button', { name: 'Get my card' }).tap();
  const res = await posted;
  check(res.status() === expectStatus,
        `POST /join/${slug} answered ${res.status()}, expected ${expectStatus}`);
  return res;
}

async function run() {
  const { chromium } = await step('load playwright-core', () => import('playwright-core'));
  browser = await step(
    'launch chromium',
    () => launchChromium(chromium, (line) => console.error(line)),
    LAUNCH_MS * LAUNCH_ATTEMPTS + 5_000,
  );
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
    userAgent: IPHONE_UA,
    locale: 'en-US',
    acceptDownloads: true,
  });
  context.setDefaultTimeout(STEP_MS);
  context.setDefaultNavigationTimeout(STEP_MS);
  page = await context.newPage();
  watch(page);

  // 1. The form, as the poster's QR code opens it.
  await step('open form', async () => {
    const res = await page.goto(`${base}/join/${slug}`, { waitUntil: 'load' });
    check(res && res.status() === 200, `GET /join/${slug} answered ${res && res.status()}`);
    await checkPageBasics('join page', 'Get your loyalty card', 'header.brand h1');
    for (const field of ['name', 'phone', 'email', 'consent']) {
      check(await page.locator(`[name="${field}"]`).isVisible(), `join page: no ${field} field`);
    }
    check((await page.locator('#f-phone').getAttribute('type')) === 'tel',
          'join page: the phone field is not type=tel (no phone keypad)');
    check((await page.locator('[name="csrf"]').count()) === 1, 'join page: no csrf field');
    await page.screenshot({ path: join(artifactDir, 'join.png'), fullPage: true });
  });

  // 2. A phone number the server rejects: the form comes back with the message by the
  //    field and every typed value kept. (type=tel has no browser-side format check.)
  await step('rejected form', async () => {
    await page.getByLabel('Name').fill(HOLDER);
    await page.getByLabel('Phone').fill('abc');
    await page.getByLabel('Email').fill(EMAIL);
    await page.locator('#f-consent').check();
    await submitForm(422);
    await page.waitForLoadState('load');
    check(new URL(page.url()).pathname === `/join/${slug}`, `after 422 the page is ${page.url()}`);
    check((await page.locator('#f-name').inputValue()) === HOLDER, 'the typed name was not kept');
    check((await page.locator('#f-phone').inputValue()) === 'abc', 'the typed phone was not kept');
    check((await page.locator('#f-email').inputValue()) === EMAIL, 'the typed email was not kept');
    check(await page.locator('#f-consent').isChecked(), 'the consent tick was not kept');
    check((await page.locator('#f-phone').getAttribute('aria-invalid')) === 'true',
          'the phone field is not marked aria-invalid');
    check((await page.locator('#f-name').getAttribute('aria-invalid')) === null,
          'the name field is marked invalid too');
    const err = page.locator('.field-error:has(#f-phone) #f-phone-err');
    check(await err.isVisible(), 'no visible error message next to the phone field');
    const text = await err.innerText();
    check(/international number/i.test(text), `phone error reads "${text}"`);
    check(((await page.locator('#f-phone').getAttribute('aria-describedby')) ?? '')
            .split(' ').includes('f-phone-err'),
          'the phone field is not described by its error message');
    check(await page.getByRole('alert').isVisible(), 'no error summary (role=alert) on top');
    await checkPageBasics('join page with errors', 'Get your loyalty card', 'header.brand h1');
    await page.screenshot({ path: join(artifactDir, 'join-error.png'), fullPage: true });
  });

  // 3. The corrected form: 303 to the new card's page.
  await step('accepted form', async () => {
    await page.getByLabel('Phone').fill(PHONE);
    await page.locator('#f-consent').check();
    await submitForm(303);
    await page.waitForURL(/\/c\/[^/]+$/, { waitUntil: 'load' });
  });

  // 4. The card page: holder, card number, QR code, and the Apple Wallet button first.
  const card = await step('card page', async () => {
    await checkPageBasics('card page', 'Your card', '.pass-name');
    const serial = new URL(page.url()).pathname.slice('/c/'.length);
    const holder = (await page.locator('.pass-field .pass-value').allInnerTexts())
      .map((t) => t.trim());
    check(holder.includes(HOLDER), `card page shows ${JSON.stringify(holder)}, not "${HOLDER}"`);
    const grouped = (await page.locator('.pass-number').innerText()).trim();
    check(/^\d{4}( \d{4})+$/.test(grouped), `card number reads "${grouped}"`);
    const qr = await page.locator('.pass-qr svg').boundingBox();
    check(qr && qr.width >= 100 && qr.height >= 100,
          `the QR code is ${qr ? `${qr.width}x${qr.height}` : 'not drawn'}`);
    const apple = page.getByRole('link', { name: 'Add to Apple Wallet' });
    check((await apple.count()) === 1, 'no "Add to Apple Wallet" link');
    check(await apple.isVisible(), 'the "Add to Apple Wallet" link is not visible');
    const firstButton = await page.locator('.wallet a.btn').first().getAttribute('class');
    check(/btn-apple/.test(firstButton ?? ''), 'on an iPhone the Apple Wallet button is not first');
    const href = await apple.getAttribute('href');
    const url = new URL(href, page.url());
    check(url.pathname === `/p/${serial}.pkpass`, `the wallet link is ${href}`);
    check(url.origin === new URL(base).origin,
          `the wallet link points at ${url.origin}, not the server at ${new URL(base).origin}`);
    await page.screenshot({ path: join(artifactDir, 'card.png'), fullPage: true });
    return { serial, cardNumber: grouped.replaceAll(' ', ''), pkpassUrl: url.href, apple };
  });

  // 5. The pass: fetched as the page's own origin would, then downloaded by a tap.
  const pkpass = await step('pkpass', async () => {
    const res = await page.request.get(card.pkpassUrl);
    check(res.status() === 200, `GET ${card.pkpassUrl} answered ${res.status()}`);
    const type = res.headers()['content-type'];
    check(type === 'application/vnd.apple.pkpass', `the pass comes as "${type}"`);
    const body = await res.body();
    check(body.length > 1000 && body.subarray(0, 4).equals(Buffer.from('PK\x03\x04')),
          `the pass is not a zip (${body.length} bytes)`);
    writeFileSync(join(artifactDir, 'card.pkpass'), body);
    const download = page.waitForEvent('download');
    await card.apple.tap();
    const file = await download;
    check(file.suggestedFilename().endsWith('.pkpass'),
          `tapping the button downloads "${file.suggestedFilename()}"`);
    return { bytes: body.length, downloadedAs: file.suggestedFilename() };
  });

  const left = unexpectedComplaints();
  current = 'browser complaints';
  check(left.length === 0, `the browser reported:\n  ${left.join('\n  ')}`);

  const summary = {
    ok: true,
    browser: `Chromium ${browser.version()}`,
    slug,
    holder: HOLDER,
    serial: card.serial,
    cardNumber: card.cardNumber,
    pkpassBytes: pkpass.bytes,
    pkpassFilename: pkpass.downloadedAs,
    screenshots: ['join.png', 'join-error.png', 'card.png'],
    notes: complaints.filter(isFavicon),
    ms: Date.now() - started,
    stepsMs: timings,
  };
  await finish(0, JSON.stringify(summary));
}

run().catch((err) => {
  const message = err instanceof CheckFailed ? err.message : err?.stack ?? String(err);
  return finish(1, `join_flow: FAIL [${current}] ${message}`);
});
