// A person reviews and applies a draft in headless Chromium, the way they
// would by hand: open the one-time login URL, look at the dashboard, open the
// draft's review page, click Apply, read the result. Run by
// tests/cli/browser.rs, which starts `draft serve` and checks that main moved.
//
// usage: node apply.mjs <login-url> <draft-id> <screenshot-dir> <stale-draft-id> <rival-draft-id>
// The repo holds four pending drafts (the one to apply is stripe-payments,
// with a rationale, and the rival proposes the same file; the stale one,
// github-ci, fails BASE_CHANGED and carries a rationale) and an expired one.
// Exits non-zero with a message on the first thing that is not as expected.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const [loginUrl, draftId, shots, staleId, rivalId] = process.argv.slice(2);
if (!loginUrl || !draftId || !shots || !staleId || !rivalId) {
  console.error('usage: node apply.mjs <login-url> <draft-id> <screenshot-dir> <stale-draft-id> <rival-draft-id>');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
  const page = await context.newPage();

  console.log('log in');
  const origin = new URL(loginUrl).origin;
  await page.goto(loginUrl);
  expect(page.url() === `${origin}/`, `the login URL should lead to the dashboard, got ${page.url()}`);
  const [cookie] = (await context.cookies()).filter((c) => c.name === 'zen_session');
  expect(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', `session cookie: ${JSON.stringify(cookie && { ...cookie, value: '…' })}`);

  console.log('dashboard');
  const body = await page.textContent('body');
  expect(body.includes('signed in as alice'), 'the dashboard should say who is signed in');
  expect((await page.textContent('a.count')).trim() === '4 pending', 'the badge should count four pending drafts');
  expect(await page.isVisible('tr.expired .status.expired'), 'the expired draft should be marked');
  expect((await page.locator('.status.conflict').count()) === 2, 'the two rivals for stripe-payments should be marked');
  await page.screenshot({ path: join(shots, 'dashboard.png'), fullPage: true });

  console.log('a stale draft: Apply is off, with the reason');
  await page.goto(`${origin}/drafts/${staleId}`);
  const checks = await page.textContent('#checks');
  expect(checks.includes('fail'), `the checks should say one fails, got ${checks}`);
  expect((await page.textContent('ul.checks')).includes('BASE_CHANGED'), 'the failing check should be named');
  expect(await page.isDisabled('button.apply'), 'Apply should be disabled on a draft whose check fails');
  expect((await page.getAttribute('button.apply', 'title')).includes('BASE_CHANGED'), 'the disabled Apply should say why');
  expect((await page.textContent('body')).includes('Add release events for INC-7'), 'the rationale should be shown');
  expect((await page.textContent('body')).includes('What changed on main under this draft'), 'the base diff should be shown');
  await page.screenshot({ path: join(shots, 'blocked.png'), fullPage: true });
  await page.goto(`${origin}/`);

  console.log('review page');
  await page.click(`a[href="/drafts/${draftId}"]`);
  await page.waitForURL(`${origin}/drafts/${draftId}`);
  expect((await page.textContent('h1')).includes('stripe-payments'), 'the review page should name the endpoint');
  expect(await page.isVisible('pre.diff .add'), 'the review page should show the diff');
  const digest = (await page.textContent('#digest')).trim();
  expect(digest.startsWith('sha256:'), `the review page should show the digest, got ${digest}`);
  expect((await page.inputValue('input[name="digest"]')) === digest, 'Apply should post the digest shown');
  expect((await page.textContent('body')).includes('Rotate the signing secret (INC-12)'), 'the rationale should be shown');
  const conflict = await page.textContent('#conflicts');
  expect(conflict.includes(rivalId) && conflict.includes('BASE_CHANGED'), `the rival should be named, got ${conflict}`);
  await page.screenshot({ path: join(shots, 'review.png'), fullPage: true });

  console.log('click Apply');
  await Promise.all([page.waitForNavigation(), page.click('button.apply')]);
  const flash = (await page.textContent('.flash')).trim();
  expect(flash.startsWith(`Applied draft ${draftId}`), `the page should report the apply, got: ${flash}`);
  expect(await page.isVisible('.status.applied'), 'the draft should now be shown as applied');
  expect(!(await page.isVisible('button.apply')), 'an applied draft has no Apply button');
  expect(flash.includes(`now is BASE_CHANGED: ${rivalId}`), `the apply should name the draft it made stale, got: ${flash}`);
  expect((await page.textContent('a.count')).trim() === '3 pending', 'the badge should count what is left');
  await page.screenshot({ path: join(shots, 'applied.png'), fullPage: true });
  console.log(`ok: ${flash}`);
} finally {
  await browser.close();
}
