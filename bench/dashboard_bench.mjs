// One timed dashboard load in Debian's headless Chromium (run by
// bench/dashboard_bench.py): prints one JSON line of milliseconds.
//   node dashboard_bench.mjs URL TOKEN_FILE EXPECTED_MACHINES
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

// playwright-core is installed (pinned) under tests/ui/ by scripts/install-deps.
const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'ui', 'package.json'));
const { chromium } = require('playwright-core');

const [url, tokenFile, expected] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = await (await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } })).newPage();
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.getByLabel('API token').waitFor();
  const loginShown = Date.now() - t0;
  await page.getByLabel('API token').fill(readFileSync(tokenFile, 'utf8').trim());
  const t1 = Date.now();
  await page.keyboard.press('Enter');
  await page.locator('.row[data-id]').first().waitFor();
  const firstRows = Date.now() - t1;
  await page.waitForFunction((n) => window.ramfleet?.model.loaded && window.ramfleet.model.byId.size >= n,
    Number(expected), { timeout: 120000, polling: 20 });
  await page.locator('#machine-count', { hasText: `${expected} machines` }).waitFor();
  const allRows = Date.now() - t1;
  const domRows = await page.locator('.row[data-id]').count();
  // Keyboard to the last row: the grid renders only what is in view.
  await page.locator('.viewport').focus();
  const t2 = Date.now();
  await page.keyboard.press('End');
  await page.locator(`.row[data-index="${Number(expected) - 1}"]`).waitFor();
  const toEnd = Date.now() - t2;
  const t3 = Date.now();
  await page.getByLabel('Filter').fill('52:54:00:00:1');
  await page.locator('#machine-count', { hasText: /of \d+ machines/ }).waitFor();
  const filtered = Date.now() - t3;
  const t4 = Date.now();
  await page.getByRole('button', { name: /Last seen/ }).click();
  await page.locator('[role=columnheader][aria-sort=descending]').waitFor();
  const sorted = Date.now() - t4;
  const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0);
  console.log(JSON.stringify({ login_shown_ms: loginShown, first_rows_ms: firstRows, all_rows_ms: allRows,
    dom_rows: domRows, end_key_ms: toEnd, filter_ms: filtered, sort_ms: sorted, js_heap_mb: Math.round(heap / 1048576) }));
} finally {
  await browser.close();
}
