import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startApp, untilSubscribed, type TestApp } from '../support/app';
import { tokens } from '../support/tokens';
import { partnerCall } from '../support/partner';
import { adjust } from '../support/ledger';
import { seedDemo } from '../../src/demo/seed';
import { PostPurchaseDocument } from '../../schema/generated/graphql';
// @ts-expect-error: a plain ESM script shared with npm run examples, no declaration file.
import { buildExamples, serveExamples } from '../../examples/run.mjs';

/**
 * The examples as a person uses them: the built member app and dashboard served from their own
 * origins, a real server (CORS_ORIGINS = those origins) with the demo data, the system's
 * Chromium. Screenshots land in test-results/ for a person to look at.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const SHOTS = 'test-results';

let api: TestApp;
let browser: Browser;
let examples: { memberUrl: string; dashboardUrl: string; close(): Promise<void> };
let memberId: string;
let order = 0;

const balanceOf = async (id: string): Promise<number> => (await api.ok('query($id: ID!) { member(id: $id) { balance } }', { id })).member.balance;

async function purchase(amount: string) {
  const res = await partnerCall(api, PostPurchaseDocument, { input: { memberId, orderId: `browser-${++order}`, amount } });
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!.earnPoints;
}

async function openPage(url: string, token: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 430, height: 900 } });
  page.on('pageerror', (error) => console.error('page error:', error.message));
  await page.goto(`${url}?api=${encodeURIComponent(api.url)}&token=${token}`);
  return page;
}

beforeAll(async () => {
  if (!CHROMIUM) throw new Error('Chromium not found: apt-get install -y chromium (or set CHROMIUM_PATH); see README, "Browsers and the examples"');
  mkdirSync(SHOTS, { recursive: true });
  await buildExamples();
  examples = await serveExamples({ host: '127.0.0.1', memberPort: 0, dashboardPort: 0 });
  const origins = [examples.memberUrl, examples.dashboardUrl].map((u) => new URL(u).origin).join(',');
  // Stats pushed at most every 200 ms so the dashboard moves within the test.
  api = await startApp({ env: { CORS_ORIGINS: origins, STATS_INTERVAL_MS: '200' } });
  const seed = await seedDemo(api.app.orm, api.app.services);
  // Lily (demo-004) has the most points: enough for any quick-redeem item.
  memberId = seed.memberIds[3];
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});

afterAll(async () => {
  await browser?.close();
  await examples?.close();
});

describe('member app in Chromium', () => {
  it('shows the balance, and a purchase posted by a partner changes it on screen without a reload', async () => {
    const page = await openPage(examples.memberUrl, tokens.member(memberId));
    const balance = page.getByTestId('balance');
    await expect.poll(() => balance.textContent()).toBe((await balanceOf(memberId)).toLocaleString('en-US'));
    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('online');
    await page.getByTestId('tier').waitFor();
    await page.screenshot({ path: `${SHOTS}/member-home.png`, fullPage: true });

    // A marker on window survives only if the page is never reloaded.
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    await untilSubscribed(api, `BALANCE:${memberId}`);
    const earned = await purchase('388.00');
    expect(earned.points).toBeGreaterThan(0);
    await expect.poll(() => balance.textContent(), { timeout: 10_000 }).toBe(earned.member.balance.toLocaleString('en-US'));
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    await page.screenshot({ path: `${SHOTS}/member-home-after-purchase.png`, fullPage: true });
    await page.close();
  });

  it('redeems once on a double tap and confirms it', async () => {
    const page = await openPage(examples.memberUrl, tokens.member(memberId));
    await page.getByRole('button', { name: /Catalog/ }).click();
    const items = page.getByTestId('catalog-item');
    await items.first().waitFor();
    await page.getByText('Quick redeem').waitFor();
    await page.screenshot({ path: `${SHOTS}/member-catalog.png`, fullPage: true });

    const before = await balanceOf(memberId);
    const redemptionsBefore = await redemptionCount();
    // The first item the member can afford, double-tapped.
    const item = items.filter({ has: page.locator('button.primary:not([disabled])') }).first();
    const name = await item.locator('b').first().textContent();
    await item.getByRole('button', { name: 'Redeem' }).dblclick();
    const confirmation = page.getByTestId('redeem-confirmation');
    await expect.poll(() => confirmation.textContent(), { timeout: 10_000 }).toContain(`Redeemed: ${name}`);
    await page.screenshot({ path: `${SHOTS}/member-redeem-confirmation.png`, fullPage: true });

    expect(await redemptionCount()).toBe(redemptionsBefore + 1);
    const after = await balanceOf(memberId);
    const remaining = Number((await page.getByTestId('remaining').textContent())!.replace(/,/g, ''));
    expect(remaining).toBe(after);
    expect(after).toBeLessThan(before);
    // The header follows the balance live too.
    await expect.poll(() => page.getByTestId('header-balance').textContent()).toContain(after.toLocaleString('en-US'));
    await page.close();
  });
});

describe('member app: the other screens', () => {
  it('shows tier progress, checks in once with a streak, and shows my rank on the board', async () => {
    // 阿强 (demo-003): below the top tier and not checked in today.
    const seed = await seedDemo(api.app.orm, api.app.services);
    const page = await openPage(examples.memberUrl, tokens.member(seed.memberIds[2]));
    await page.getByText(/Spend ¥[\d.]+ more to reach/).waitFor();
    await page.screenshot({ path: `${SHOTS}/member-home-progress.png`, fullPage: true });

    await page.getByRole('button', { name: /Check-in/ }).click();
    const checkIn = page.getByRole('button', { name: /Check in \(\+\d+\)/ });
    await checkIn.click();
    await expect.poll(() => page.getByTestId('checkin-result').textContent()).toMatch(/^\+\d+ points, streak 1$/);
    await expect.poll(() => page.getByRole('button', { name: 'Checked in today ✓' }).isDisabled()).toBe(true);
    await page.screenshot({ path: `${SHOTS}/member-checkin.png`, fullPage: true });

    await page.getByRole('button', { name: /Board/ }).click();
    await expect.poll(() => page.getByTestId('my-rank').textContent()).toMatch(/You are #\d+ of 5/);
    await page.close();
  });
});

describe('member app: expiring points', () => {
  it('warns on the home screen, and live when the expiry-warning job runs', async () => {
    // 小红 (demo-002) gets 120 points valid 5 days.
    const seed = await seedDemo(api.app.orm, api.app.services);
    const id = seed.memberIds[1];
    const page = await openPage(examples.memberUrl, tokens.member(id));
    await page.getByTestId('balance').waitFor();
    await untilSubscribed(api, `BALANCE:${id}`);
    await untilSubscribed(api, `EXPIRY_WARNING:${id}`);
    const adjusted = await adjust(api, id, 120, { validDays: 5 });
    expect(adjusted.errors).toBeUndefined();
    // balanceChanged re-reads the home: the 30-day warning appears without a reload.
    await expect.poll(() => page.getByTestId('expiring').textContent(), { timeout: 10_000 }).toMatch(/^120 points expire within 30 days/);
    await api.app.jobs.runOnce();
    await expect.poll(() => page.getByTestId('expiring-live').textContent(), { timeout: 10_000 }).toContain('120 points expire in 5 days.');
    await page.screenshot({ path: `${SHOTS}/member-expiring.png`, fullPage: true });
    await page.close();
  });
});

describe('member app after the phone slept', () => {
  it('reconnects after the network drops and re-reads the balance it missed', async () => {
    // The page reaches the server through a loopback proxy we can cut, as sleep or a tunnel would.
    const target = new URL(api.url);
    const link = await cuttableProxy(Number(target.port));
    const page = await browser.newPage({ viewport: { width: 430, height: 900 } });
    await page.goto(`${examples.memberUrl}?api=${encodeURIComponent(`http://127.0.0.1:${link.port}`)}&token=${tokens.member(memberId)}`);
    const balance = page.getByTestId('balance');
    const state = () => page.getByTestId('connection').getAttribute('data-state');
    await expect.poll(() => balance.textContent()).toBe((await balanceOf(memberId)).toLocaleString('en-US'));
    await expect.poll(state).toBe('online');

    link.cut();
    await expect.poll(state).toBe('reconnecting');
    // Earned while the socket is down: its balanceChanged event reaches nobody.
    const earned = await purchase('188.00');
    link.restore();
    await expect.poll(state, { timeout: 20_000 }).toBe('online');
    await expect.poll(() => balance.textContent(), { timeout: 10_000 }).toBe(earned.member.balance.toLocaleString('en-US'));
    await page.close();
    await link.close();
  });
});

/** A TCP proxy to the app on a free loopback port; cut() drops every connection and refuses new ones until restore(). */
async function cuttableProxy(targetPort: number) {
  let down = false;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (down) return client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      down = true;
      for (const s of open) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('dashboard in Chromium', () => {
  it('shows the program figures and moves them after earnings, without a reload', async () => {
    const page = await openPage(examples.dashboardUrl, tokens.admin());
    await page.setViewportSize({ width: 1200, height: 900 });
    const outstanding = page.getByTestId('stat-outstandingPoints');
    await expect.poll(() => outstanding.textContent()).toMatch(/\d/);
    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('online');
    // The first push proves the subscription is registered: what follows cannot be missed.
    await expect.poll(async () => Number((await page.getByTestId('updates').textContent())!.split(' ')[0])).toBeGreaterThanOrEqual(1);
    const first = await outstanding.textContent();

    const earned = await purchase('999.00');
    await expect.poll(() => outstanding.textContent(), { timeout: 10_000 }).not.toBe(first);
    const shown = Number((await outstanding.textContent())!.replace(/,/g, ''));
    expect(shown).toBe(Number(first!.replace(/,/g, '')) + earned.points);
    await purchase('1999.00');
    await expect.poll(async () => Number(await page.getByTestId('chart').getAttribute('data-points')), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    // The initial push and one per purchase (each waited for: the pushes are at most every 200 ms).
    await expect.poll(async () => Number((await page.getByTestId('updates').textContent())!.split(' ')[0]), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    await page.getByTestId('leaderboard').locator('tr').first().waitFor();
    await page.screenshot({ path: `${SHOTS}/dashboard.png`, fullPage: true });
    await page.close();
  });
});

async function redemptionCount(): Promise<number> {
  const data = await api.ok('query($id: ID!) { member(id: $id) { redemptions(first: 100) { edges { node { id } } } } }', { id: memberId });
  return data.member.redemptions.edges.length;
}
