// Drives the dashboard in Debian's headless Chromium during a real `lab up`
// (tests/e2e/test_lab_dashboard.py runs it inside the lab's namespace):
//   node lab_dashboard.mjs --url URL --token-file F --macs M1,M2 [--discovered MAC]
//                          [--approve-expect PATH] --out DIR [--timeout-s N]
// Prints one JSON line per finding ({"step": ..., ...}); exits non-zero on the
// first failure with {"step": "error", "error": ...}.
import { chromium } from 'playwright-core';
import { readFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const out = args.out;
mkdirSync(out, { recursive: true });
const macs = args.macs.split(',');
const timeoutMs = Number(args['timeout-s'] ?? 600) * 1000;
const say = (o) => console.log(JSON.stringify(o));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let page;
try {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  const consoleErrors = [];
  // A 404 from /api/v1/etcd is the answer of a server without etcd
  // membership (the health view says so); the browser logs it all the same.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.endsWith('/api/v1/etcd')) consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));

  // The page loads from ramfleet with no credential, then asks for one.
  const t0 = Date.now();
  await page.goto(args.url, { waitUntil: 'domcontentloaded' });
  await page.getByLabel('API token').waitFor({ timeout: 15000 });
  say({ step: 'login_form', ms: Date.now() - t0 });
  // Keyboard only: type the token, Enter submits.
  await page.getByLabel('API token').fill(readFileSync(args['token-file'], 'utf8').trim());
  await page.keyboard.press('Enter');
  await page.locator('.live[data-state="live"]').waitFor({ timeout: 30000 });
  say({ step: 'live' });
  await page.evaluate(() => { window.__noReload = 'still-the-same-page'; });

  // Watch the rows change while the nodes boot: no reload, no polling.
  const seen = Object.fromEntries(macs.map((m) => [m, []]));
  const deadline = Date.now() + timeoutMs;
  let done = false;
  while (!done && Date.now() < deadline) {
    const rows = await page.evaluate(() => [...document.querySelectorAll('.row[data-id]')].map((r) => [r.dataset.id, r.dataset.phase]));
    for (const [id, phase] of rows) {
      if (seen[id] && seen[id].at(-1) !== phase) seen[id].push(phase);
    }
    done = macs.every((m) => seen[m].at(-1) === 'ready');
    if (!done) await page.waitForTimeout(250);
  }
  const stillSame = await page.evaluate(() => window.__noReload);
  const navigations = await page.evaluate(() => performance.getEntriesByType('navigation').length);
  say({ step: 'phases', seen, no_reload: stillSame === 'still-the-same-page' && navigations === 1 });
  await page.screenshot({ path: join(out, 'dashboard-machines.png') });
  if (!done) throw new Error(`not every node reached ready in the table: ${JSON.stringify(seen)}`);

  // The table is keyboard-usable: focus the grid, go to the first row, Enter opens it.
  const first = [...macs].sort()[0];
  await page.getByLabel('Filter').fill(first);
  await page.getByLabel('Filter').press('Enter');  // Enter moves focus into the rows
  await page.keyboard.press('Home');
  await page.keyboard.press('Enter');
  await page.waitForURL(/#\/machines\/.+/);
  await page.locator('svg.waterfall rect[data-phase="ready"]').waitFor({ timeout: 15000 });
  const bars = await page.locator('svg.waterfall rect[data-phase]').evaluateAll((rs) => rs.map((r) => ({
    phase: r.dataset.phase, x: Number(r.getAttribute('x')), width: Number(r.getAttribute('width')),
  })));
  say({ step: 'waterfall', machine: decodeURIComponent(page.url().split('/').pop()), bars,
    history_rows: await page.locator('table.table').first().locator('tbody tr').count() });
  await page.screenshot({ path: join(out, 'dashboard-waterfall.png'), fullPage: true });
  await page.keyboard.press('Escape');
  await page.waitForURL(/#\/machines$/);
  say({ step: 'escape_back' });

  if (args.discovered) {
    await page.goto(`${args.url}#/machines/${encodeURIComponent(args.discovered)}`);
    // A hash change within the page: still no new document load.
    const approve = page.getByRole('button', { name: 'Approve' });
    await approve.waitFor({ timeout: 15000 });
    // Labelled fields, filled from the keyboard.
    await page.getByLabel('Name').fill(args['approve-name']);
    await page.getByLabel('Group').locator('option').first().waitFor({ state: 'attached' });
    await page.getByLabel('Group').selectOption(args['approve-group']);
    await approve.focus();
    await page.keyboard.press('Enter');
    const status = page.locator('.approve .status');
    await status.filter({ hasText: /Approved|Not approved/ }).waitFor({ timeout: 15000 });
    const text = await status.textContent();
    let written = false;
    if (args['approve-expect']) {
      for (let i = 0; i < 50 && !written; i++) {
        written = existsSync(args['approve-expect']);
        if (!written) await page.waitForTimeout(100);
      }
    }
    say({ step: 'approve', status: text, written });
    await page.screenshot({ path: join(out, 'dashboard-approve.png'), fullPage: true });
  }

  for (const view of ['leases', 'health']) {
    await page.getByRole('link', { name: view === 'leases' ? 'Leases' : 'Cluster health' }).click();
    await page.locator(`#${view}-title`).waitFor();
    await page.waitForTimeout(500);
    say({ step: view, errors: await page.locator('#view .error').allTextContents() });
  }
  await page.screenshot({ path: join(out, 'dashboard-health.png'), fullPage: true });
  const foreign = requests.filter((u) => !u.startsWith(new URL(args.url).origin));
  say({ step: 'done', console_errors: consoleErrors, foreign_requests: foreign });
} catch (e) {
  if (page) await page.screenshot({ path: join(out, 'dashboard-failure.png'), fullPage: true }).catch(() => {});
  say({ step: 'error', error: String(e?.stack ?? e) });
  process.exitCode = 1;
} finally {
  await browser.close();
}
