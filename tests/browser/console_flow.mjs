// The merchant console in a real browser: headless Debian Chromium driven by playwright-core,
// on a laptop screen (1280x800) and then a tablet (820x1180). Signs in with a merchant key,
// changes the card's background colour and sees the preview follow, checks and publishes
// the design and watches the rollout's progress bar reach 100 %, composes a campaign (the
// segment's size counted live), sends it and watches its counters, finds a card and
// adjusts its balance, looks at the dashboard's charts, and signs out.
//
//   node console_flow.mjs <baseUrl> <slug> <apiKey> <artifactDir>
//
// Writes console-*.png (full-page screenshots; console-fail.png too when a check fails) into
// artifactDir, prints one line of JSON on success and exits 0; on any failed check prints
// "console_flow: FAIL [step] message" and exits 1. Every step has a deadline, so it never
// hangs. Run by tests/integration/browser/test_browser_console.cpp.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAUNCH_ATTEMPTS, LAUNCH_MS, launchChromium } from './chromium.mjs';

const STEP_MS = 20_000;
const TOTAL_MS = 240_000;
const NEW_BACKGROUND = '#0A5C36';
const NEW_LOGO_TEXT = 'Bean <b>There</b> & "Co"';
const MESSAGE = 'Double points on every latte today';
// Another template's logo: a valid logo@2x (320 x 100), but not an icon.
const NEW_LOGO = fileURLToPath(new URL('../../templates/beauty/logo@2x.png', import.meta.url));

class CheckFailed extends Error {}

function check(ok, message) {
  if (!ok) throw new CheckFailed(message);
}

const [baseArg, slug, apiKey, artifactDir] = process.argv.slice(2);
if (!baseArg || !slug || !apiKey || !artifactDir) {
  console.error('usage: node console_flow.mjs <baseUrl> <slug> <apiKey> <artifactDir>');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
mkdirSync(artifactDir, { recursive: true });

let browser;
let page;
let current = 'setup';
const started = Date.now();
const timings = {};
const screenshots = [];

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailed(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function finish(code, line) {
  (code === 0 ? console.log : console.error)(line);
  if (code !== 0 && page) {
    await withTimeout(
      page.screenshot({ path: join(artifactDir, 'console-fail.png'), fullPage: true }),
      5_000,
    ).catch(() => {});
  }
  if (browser) await withTimeout(browser.close(), 5_000).catch(() => {});
  process.exit(code);
}

async function step(name, fn, ms = STEP_MS) {
  current = name;
  const t0 = Date.now();
  const result = await withTimeout(fn(), ms);
  timings[name] = Date.now() - t0;
  return result;
}

setTimeout(() => {
  finish(1, `console_flow: FAIL [${current}] the whole run took longer than ${TOTAL_MS} ms`);
}, TOTAL_MS).unref();

// Full-page screenshots from the top, so the sticky bars sit where they belong.
async function shot(p, name) {
  await p.evaluate(() => window.scrollTo(0, 0));
  await p.screenshot({ path: join(artifactDir, name), fullPage: true });
  screenshots.push(name);
}

// Anything the browser complains about fails the run: a CSP or Trusted Types violation, a
// script error, a failed request, an error status.
const complaints = [];
function watch(p, label) {
  p.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') {
      const where = msg.location()?.url;
      complaints.push(`${label} console ${msg.type()}: ${msg.text()}${where ? ` (${where})` : ''}`);
    }
  });
  p.on('pageerror', (err) => complaints.push(`${label} page error: ${err.message}`));
  p.on('requestfailed', (req) => {
    complaints.push(`${label} request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`);
  });
  p.on('response', (res) => {
    if (res.status() >= 400) {
      complaints.push(`${label} HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
    }
  });
}

// The preview is redrawn on every change (and when its images arrive): look it up afresh.
const backgroundOf = (p) =>
  p.evaluate(() => {
    const front = document.querySelector('#preview .pv-front');
    return front ? getComputedStyle(front).backgroundColor : null;
  });

// The page fits its window: nothing wider than the screen, so no sideways scrolling.
async function checkFits(p, what) {
  const f = await p.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  check(
    f.scrollWidth <= f.innerWidth,
    `${what}: page is ${f.scrollWidth}px wide on a ${f.innerWidth}px screen`,
  );
}

async function signIn(p) {
  const res = await p.goto(`${base}/console`, { waitUntil: 'load' });
  check(res && res.status() === 200, `GET /console answered ${res && res.status()}`);
  await p.locator('#signin-form').waitFor();
  await p.locator('#api-key').fill(apiKey);
  await p.locator('#signin-submit').click();
  await p.waitForURL((u) => u.hash === `#/p/${slug}/dashboard`);
  await p.locator('#stats-tiles .tile').first().waitFor();
}

async function openSection(p, section) {
  await p.locator(`#tab-${section}`).click();
  await p.waitForURL((u) => u.hash === `#/p/${slug}/${section}`);
}

async function run() {
  const { chromium } = await step('load playwright-core', () => import('playwright-core'));
  browser = await step(
    'launch chromium',
    () => launchChromium(chromium, (line) => console.error(line)),
    LAUNCH_MS * LAUNCH_ATTEMPTS + 5_000,
  );
  const laptop = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
  });
  laptop.setDefaultTimeout(STEP_MS);
  page = await laptop.newPage();
  watch(page, 'laptop');

  // 1. The page: its security headers, no inline script, the sign-in form.
  await step('open console', async () => {
    const res = await page.goto(`${base}/console`, { waitUntil: 'load' });
    check(res && res.status() === 200, `GET /console answered ${res && res.status()}`);
    const h = res.headers();
    check(
      /script-src 'self'/.test(h['content-security-policy'] ?? '') &&
        /default-src 'none'/.test(h['content-security-policy'] ?? ''),
      `CSP is "${h['content-security-policy']}"`,
    );
    check(h['x-content-type-options'] === 'nosniff', 'no X-Content-Type-Options: nosniff');
    check(h['referrer-policy'] === 'no-referrer', 'no Referrer-Policy: no-referrer');
    const facts = await page.evaluate(() => ({
      inline: [...document.scripts].filter((s) => !s.src).length,
      sources: [...document.scripts].map((s) => s.src),
      sheets: [...document.styleSheets].map((s) => s.href),
    }));
    check(facts.inline === 0, `${facts.inline} inline <script> elements`);
    check(
      facts.sources.length === 1 && /\/assets\/console\.js\?v=[0-9a-f]{16}$/.test(facts.sources[0]),
      `scripts: ${JSON.stringify(facts.sources)}`,
    );
    check(
      facts.sheets.some((s) => /\/assets\/console\.css\?v=[0-9a-f]{16}$/.test(s ?? '')),
      `stylesheets: ${JSON.stringify(facts.sheets)}`,
    );
    await page.locator('#signin-form').waitFor();
    await shot(page, 'console-signin.png');
  });

  // 2. A wrong key is refused; the right one opens the only program's dashboard. The key
  //    is in sessionStorage and nowhere else.
  await step('sign in', async () => {
    await page.locator('#api-key').fill('csk_not-a-key');
    const refused = page.waitForResponse((r) => r.url().endsWith('/api/v1/programs'));
    await page.locator('#signin-submit').click();
    check((await refused).status() === 401, 'a wrong key was not refused');
    await page.locator('#signin-error').filter({ hasText: 'does not know this key' }).waitFor();
    await page.locator('#api-key').fill(apiKey);
    await page.locator('#signin-submit').click();
    await page.waitForURL((u) => u.hash === `#/p/${slug}/dashboard`);
    await page.locator('#stats-tiles .tile').first().waitFor();
    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem('cardsmith.console.key'),
      local: localStorage.length,
      cookie: document.cookie,
    }));
    check(stored.session === apiKey, 'the key is not in sessionStorage');
    check(
      stored.local === 0 && stored.cookie === '',
      'something was written to localStorage or a cookie',
    );
  });

  // 3. The dashboard: totals and three charts of the per-day series.
  const dashboard = await step('dashboard', async () => {
    await page.locator('#charts svg.chart').nth(2).waitFor();
    const issued = Number(
      (await page.locator('[data-stat=cardsIssued] .tile-value').innerText()).replace(/\D/g, ''),
    );
    check(issued > 0, `the dashboard shows ${issued} cards issued`);
    const bars = await page.locator('#charts rect.bar').count();
    check(bars > 0, 'the bar charts have no bars');
    await checkFits(page, 'dashboard');
    await shot(page, 'console-dashboard.png');
    return { cardsIssued: issued, bars };
  });

  // 4. The design editor: a new background colour shows in the preview at once, and text
  //    typed with markup in it is shown as text.
  const colours = await step('design: change the background', async () => {
    await openSection(page, 'design');
    await page.locator('#preview .pv-front').waitFor();
    const before = await backgroundOf(page);
    check(before === 'rgb(59, 36, 24)', `the preview starts ${before}, not the template's #3B2418`);
    await page.locator('#color-background').fill(NEW_BACKGROUND);
    await page.waitForFunction(
      () =>
        getComputedStyle(document.querySelector('#preview .pv-front')).backgroundColor ===
        'rgb(10, 92, 54)',
    );
    const after = await backgroundOf(page);
    const picker = await page.locator('.color-pair input[type=color]').first().inputValue();
    check(picker === '#0a5c36', `the colour picker shows ${picker}`);
    await page.locator('#design-logoText').fill(NEW_LOGO_TEXT);
    const logo = page.locator('#preview .pv-logotext');
    check(
      (await logo.textContent()) === NEW_LOGO_TEXT,
      `the logo text reads "${await logo.textContent()}"`,
    );
    check(
      (await logo.locator('b').count()) === 0,
      'markup typed into the logo text became an element',
    );
    check(
      /colors/.test(await page.locator('#design-dirty').innerText()),
      'the unsaved change is not flagged',
    );
    await checkFits(page, 'design');
    await shot(page, 'console-design.png');
    return { before, after };
  });

  // 5. "Check" shows the lint report (the template's warning) and saves nothing; "Save
  //    draft" keeps the change as a version.
  await step('design: check and save a draft', async () => {
    await page.locator('#design-check').click();
    await page.locator('#design-findings h3').filter({ hasText: 'nothing saved' }).waitFor();
    const warnings = await page.locator('#design-findings .finding-warning').count();
    check(warnings > 0, 'no lint warnings shown (the coffee template has one)');
    await page.locator('#design-draft').click();
    await page.locator('#design-findings h3').filter({ hasText: 'draft version' }).waitFor();
  });

  // 6. Publish: the rollout's progress bar moves to 100 % and the state to done.
  const rollout = await step('design: publish and watch the rollout', async () => {
    await page.locator('#design-publish').click();
    await page.locator('#rollout').waitFor();
    const seen = [];
    let midShot = false;
    for (;;) {
      const s = await page.evaluate(() => ({
        value: document.querySelector('#rollout-progress')?.value,
        max: document.querySelector('#rollout-progress')?.max,
        state: document.querySelector('#rollout-state')?.textContent,
      }));
      if (
        seen.length === 0 ||
        seen[seen.length - 1].value !== s.value ||
        seen[seen.length - 1].state !== s.state
      ) {
        seen.push(s);
      }
      if (!midShot && s.value > 0 && s.value < s.max) {
        await shot(page, 'console-rollout-progress.png');
        midShot = true;
      }
      if (s.state === 'done' || s.state === 'cancelled' || s.state === 'superseded') break;
      await page.waitForTimeout(100);
    }
    const last = seen[seen.length - 1];
    check(last.state === 'done', `the rollout ended ${last.state}`);
    check(
      last.value === last.max && last.max === 100,
      `the progress bar ended at ${last.value} of ${last.max}`,
    );
    check(
      /100 %/.test(await page.locator('#rollout-percent').innerText()),
      'the percentage does not read 100 %',
    );
    const numbers = await page.locator('#rollout-numbers').innerText();
    check(/(\d+) of \1 cards/.test(numbers.replace(/,/g, '')), `the rollout reads "${numbers}"`);
    check(
      /No changes/.test(await page.locator('#design-dirty').innerText()),
      'the change still shows as unsaved',
    );
    await page.locator('#versions tr[data-version]').first().waitFor();
    await shot(page, 'console-rollout-done.png');
    return { seen: seen.map((s) => `${s.value}/${s.state}`), numbers };
  });

  // 7. A new logo: refused in the browser as an icon (the size rule), saved as a draft,
  //    then published from the versions table; its rollout is paused and resumed.
  const image = await step('design: image upload, publish a draft, pause and resume', async () => {
    await page.locator('#image-name').selectOption('icon');
    check(
      /29 × 29 px/.test(await page.locator('#image-hint').innerText()),
      'no size hint for the icon',
    );
    await page.locator('#image-file').setInputFiles(NEW_LOGO);
    await page.locator('#image-upload').click();
    await page.locator('#toast.toast-error').filter({ hasText: 'must be 29 × 29 px' }).waitFor();
    await page.locator('#image-name').selectOption('logo@2x');
    await page.locator('#image-file').setInputFiles(NEW_LOGO);
    await page.locator('#image-draft').check();
    await page.locator('#image-upload').click();
    await page
      .locator('#design-findings h3')
      .filter({ hasText: 'Image saved in draft version' })
      .waitFor();
    const draft = page
      .locator('#versions tr[data-version]')
      .filter({ hasText: 'draft' })
      .filter({ hasText: 'image: logo@2x' });
    await draft.waitFor();
    const version = Number(await draft.getAttribute('data-version'));
    const rolloutBefore = await page.locator('#rollout').getAttribute('data-id');
    await draft.getByRole('button', { name: 'Publish' }).click();
    await page.waitForFunction((old) => {
      const r = document.querySelector('#rollout');
      return r && r.dataset.id !== old;
    }, rolloutBefore);
    await page.locator('#rollout-pause').click();
    await page.locator('#rollout[data-state=paused]').waitFor();
    const paused = await page.locator('#rollout-progress').evaluate((n) => n.value);
    check(paused < 100, `the rollout was at ${paused} % when paused`);
    await shot(page, 'console-rollout-paused.png');
    await page.locator('#rollout-resume').click();
    await page.locator('#rollout[data-state=done]').waitFor();
    check(
      (await page.locator('#rollout-progress').evaluate((n) => n.value)) === 100,
      'the resumed rollout did not reach 100 %',
    );
    await page
      .locator(`#versions tr[data-version="${version}"]`)
      .filter({ hasText: 'live' })
      .waitFor();
    await page.locator('#images figcaption', { hasText: 'logo@2x' }).waitFor();
    return { version, pausedAt: paused };
  });

  // 8. A campaign: the segment is counted before sending, then the counters move to done.
  const campaign = await step('campaign: compose', async () => {
    await openSection(page, 'campaigns');
    await page.locator('#segment-count[data-state=ok]').waitFor();
    const all = Number(await page.locator('#segment-count').getAttribute('data-count'));
    check(all > 0, `the segment of every card counts ${all}`);
    await page.locator('#campaign-message').fill(MESSAGE);
    await page.locator('#campaign-rate').fill('600');
    await page.waitForFunction(
      () =>
        !document.querySelector('#campaign-send').disabled &&
        document.querySelector('#segment-count').dataset.state === 'ok',
    );
    const label = await page.locator('#campaign-send').innerText();
    check(
      label === `Send to ${all} card${all === 1 ? '' : 's'}`,
      `the send button reads "${label}"`,
    );
    await checkFits(page, 'campaigns');
    await shot(page, 'console-campaign-compose.png');
    return { segment: all };
  });

  const counters = await step('campaign: send and watch the counters', async () => {
    await page.locator('#campaign-send').click();
    await page.locator('#campaign-live[data-state]').waitFor();
    await page.waitForFunction(
      () => document.querySelector('#campaign-live')?.dataset.state === 'done',
      null,
      { polling: 200 },
    );
    const read = async (k) =>
      Number(
        (await page.locator(`#campaign-counters [data-counter=${k}]`).innerText()).replace(
          /\D/g,
          '',
        ),
      );
    const out = {};
    for (const k of ['targeted', 'sent', 'heldOut', 'capped', 'unreachable', 'failed'])
      out[k] = await read(k);
    check(
      out.targeted === campaign.segment,
      `targeted ${out.targeted}, the segment was ${campaign.segment}`,
    );
    check(
      out.targeted === out.sent + out.heldOut + out.capped + out.unreachable + out.failed,
      `the counters do not add up: ${JSON.stringify(out)}`,
    );
    await page
      .locator(
        `#campaign-list tr[data-campaign="${await page.locator('#campaign-live').getAttribute('data-id')}"]`,
      )
      .waitFor();
    await shot(page, 'console-campaign.png');
    return out;
  });

  // 9. Cards: search by name, open one, book an adjustment, see it in the history.
  const card = await step('cards: search and adjust', async () => {
    await openSection(page, 'cards');
    // The view opens with the newest cards; the search then narrows them to the one.
    await page.locator('#card-results tbody tr').first().waitFor();
    await page.locator('#card-search').fill('Holder 7');
    await page.waitForFunction(() => {
      const rows = document.querySelectorAll('#card-results tbody tr');
      return rows.length === 1 && rows[0].textContent.includes('Holder 7');
    });
    const row = page.locator('#card-results tbody tr').first();
    const number = await row.getAttribute('data-card');
    await row.locator('button').click();
    await page.locator('#card-detail #card-facts').waitFor();
    const before = Number(
      (await page.locator('#card-facts [data-fact=Balance]').innerText()).replace(/\D/g, ''),
    );
    const rows = await page.locator('#card-history tbody tr').count();
    await page.locator('#adjust-points').fill('25');
    await page.locator('#adjust-note').fill('console <test>');
    await page.locator('#adjust-submit').click();
    await page.locator('#adjust-result').filter({ hasText: 'Booked +25 points' }).waitFor();
    await page.waitForFunction(
      (n) => document.querySelectorAll('#card-history tbody tr').length === n,
      rows + 1,
    );
    const after = Number(
      (await page.locator('#card-facts [data-fact=Balance]').innerText()).replace(/\D/g, ''),
    );
    check(after === before + 25, `the balance went from ${before} to ${after}`);
    const note = await page
      .locator('#card-history tbody tr')
      .first()
      .locator('td')
      .nth(3)
      .textContent();
    check(note === 'console <test>', `the history's note reads "${note}"`);
    await checkFits(page, 'cards');
    await shot(page, 'console-card.png');
    return { number, before, after };
  });

  // 10. The same console on a tablet, portrait: one column, nothing off-screen.
  const tablet = await step('tablet', async () => {
    const ctx = await browser.newContext({
      viewport: { width: 820, height: 1180 },
      deviceScaleFactor: 2,
      hasTouch: true,
      locale: 'en-US',
    });
    ctx.setDefaultTimeout(STEP_MS);
    const t = await ctx.newPage();
    watch(t, 'tablet');
    await signIn(t);
    await checkFits(t, 'tablet dashboard');
    await openSection(t, 'design');
    await t.locator('#preview .pv-front').waitFor();
    const bg = await backgroundOf(t);
    check(bg === 'rgb(10, 92, 54)', `after publishing, the tablet's preview is ${bg}`);
    const box = await t.locator('#preview').boundingBox();
    const form = await t.locator('#design-form').boundingBox();
    check(box && form && box.y < form.y, 'on a tablet the preview is not above the editor');
    await checkFits(t, 'tablet design');
    await shot(t, 'console-tablet-design.png');
    await openSection(t, 'campaigns');
    await t.locator('#campaign-list tbody tr').first().waitFor();
    await t.locator('#segment-count[data-state=ok]').waitFor();
    await checkFits(t, 'tablet campaigns');
    await shot(t, 'console-tablet-campaigns.png');
    await ctx.close();
    return { width: 820, height: 1180 };
  });

  // 11. Sign-out forgets the key.
  await step('sign out', async () => {
    await page.locator('#signout').click();
    await page.locator('#signin-form').waitFor();
    const left = await page.evaluate(() => sessionStorage.getItem('cardsmith.console.key'));
    check(left === null, 'the key is still in sessionStorage after signing out');
  });

  // The one expected complaint: the wrong key's 401 at sign-in.
  current = 'browser complaints';
  const left = complaints.filter((c) => !/401.*\/api\/v1\/programs\b/.test(c));
  check(left.length === 0, `the browser reported:\n  ${left.join('\n  ')}`);

  await finish(
    0,
    JSON.stringify({
      ok: true,
      browser: `Chromium ${browser.version()}`,
      slug,
      dashboard,
      colours,
      rollout,
      image,
      campaign: { ...campaign, ...counters },
      card,
      tablet,
      screenshots,
      ms: Date.now() - started,
      stepsMs: timings,
    }),
  );
}

run().catch((err) => {
  const message = err instanceof CheckFailed ? err.message : (err?.stack ?? String(err));
  return finish(1, `console_flow: FAIL [${current}] ${message}`);
});
