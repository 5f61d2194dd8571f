import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { receiptOf } from '../../agent/consent/consent-receipt';
import { reading, dispense } from '../support/device-link';
import { freePort } from '../support/free-port';
import { REPO, runCli } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';
import { waitUntil } from '../support/wait-until';
import { pendingUpdate } from '../firmware-update/firmware-fixtures';
import { rowCount, startHousehold, type PanelHousehold } from './panel-harness';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const AUDIT = fs.readFileSync(path.join(__dirname, 'a11y-audit.js'), 'utf8');

/** The CLI's view of the same household: same data dir and API address, so `consent grant` goes through the running agent. */
function cliConfig(dir: string, hh: PanelHousehold): string {
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    file,
    [
      'gateway: { id: gw-panel, dataDir: ' + JSON.stringify(hh.dataDir) + ' }',
      `api: { listen: "127.0.0.1:${hh.port}" }`,
      'devices:',
      '  - { id: scale-1, transport: sim, model: kitchen-scale, profile: home-a }',
      '  - { id: wearable-1, transport: sim, model: wearable, profile: home-a }',
      'campaigns:',
      '  - { id: coffee-reorder, qualify: { event: dispense }, value: 72, threshold: 300, cooldown: 10m, channels: [push, device] }',
      '',
    ].join('\n'),
  );
  return file;
}

(fs.existsSync(CHROMIUM) ? describe : describe.skip)('household privacy panel in headless Chromium (real agent, real SQLite, real HTTP)', () => {
  let browser: Browser;
  let hh: PanelHousehold;
  let seq = 100;
  const t = tempDir('edge-panel-cli-');

  beforeAll(async () => {
    hh = await startHousehold({}, `127.0.0.1:${await freePort()}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  // A script error in the page fails the test that caused it.
  const pageErrors: string[] = [];
  afterEach(() => expect(pageErrors.splice(0)).toEqual([]));
  afterAll(async () => {
    await browser?.close();
    await hh?.stop();
    t.cleanup();
  });

  /** A fresh browser context (no cookie) signed in through the form, as a household member would. */
  async function openPanel(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport, acceptDownloads: true });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${hh.base}/panel/`);
    await page.getByLabel('Pairing code').fill(hh.pairingCode());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('body[data-ready="true"]');
    return page;
  }

  const device = (page: Page, id: string) => page.locator(`article#device-${id}`);
  const checked = (page: Page, sel: string): Promise<string | null> => page.locator(sel).getAttribute('aria-checked');
  /** Polls from the test side: the panel's CSP (no eval) rules out page.waitForFunction. */
  async function waitForChecked(page: Page, sel: string, value: 'true' | 'false', timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await checked(page, sel)) !== value) {
      if (Date.now() > deadline) throw new Error(`${sel} did not become aria-checked=${value} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('a wrong code is refused with a message; the right one opens the panel', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${hh.base}/panel/`);
    await page.getByLabel('Pairing code').fill('0000-0001' === hh.pairingCode() ? '0000-0002' : '0000-0001');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That code is not right' }).waitFor();
    expect(await page.locator('#panel').isHidden()).toBe(true);
    await page.getByLabel('Pairing code').fill(hh.pairingCode());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.getByRole('heading', { name: 'Devices and what they collect' }).isVisible()).toBe(true);
    await page.context().close();
  });

  it('grant, then withdraw with one click each: the agent stores that category, then drops it before storage', async () => {
    const page = await openPanel();
    const usage = device(page, 'scale-1').getByRole('switch', { name: 'Usage data' });
    expect(await usage.getAttribute('aria-checked')).toBe('false');

    const granted = page.waitForResponse((r) => r.url().endsWith('/panel/api/consent'));
    await usage.click();
    const grant = (await (await granted).json()) as { entry: { source: string; granted: boolean }; effectiveInMs: number };
    expect(grant.entry).toMatchObject({ source: 'panel', granted: true });
    expect(grant.effectiveInMs).toBeLessThan(100);
    expect(hh.agent.ledger.rules.deviceAllows('scale-1', 'usage')).toBe(true); // in force when the page hears back
    await waitForChecked(page, '#sw-device-scale-1-usage', 'true');

    const stored = rowCount(hh.agent, 'readings', 'scale-1');
    for (let i = 0; i < 3; i++) hh.scale.send(reading(seq++));
    await waitUntil('3 readings stored', () => rowCount(hh.agent, 'readings', 'scale-1') === stored + 3);

    const withdrawn = page.waitForResponse((r) => r.url().endsWith('/panel/api/consent'));
    await usage.click();
    const w = (await (await withdrawn).json()) as { entry: { granted: boolean }; effectiveInMs: number };
    expect(w.entry.granted).toBe(false);
    expect(w.effectiveInMs).toBeLessThan(100);
    expect(hh.agent.ledger.rules.deviceAllows('scale-1', 'usage')).toBe(false);
    await waitForChecked(page, '#sw-device-scale-1-usage', 'false');

    const dropped = hh.agent.status().ingest.droppedNoConsent;
    for (let i = 0; i < 3; i++) hh.scale.send(reading(seq++));
    await waitUntil('3 readings dropped for lack of consent', () => hh.agent.status().ingest.droppedNoConsent === dropped + 3);
    expect(rowCount(hh.agent, 'readings', 'scale-1')).toBe(stored + 3);
    expect(hh.agent.ledger.entries().slice(-2).map((e) => [e.source, e.granted])).toEqual([
      ['panel', true],
      ['panel', false],
    ]);
    // The device was told to stop sampling it (0x83 consent-state).
    expect(hh.scale.sent.filter((f) => f.type === 'consent-state').at(-1)?.body).toEqual({ cats: { usage: false } });
    await page.context().close();
  });

  it('changes made with the CLI and with the device button appear in the open page without reload', async () => {
    const page = await openPanel();
    await page.evaluate('window.__samePage = true');
    const health = '#sw-device-wearable-1-health';
    expect(await checked(page, health)).toBe('false');
    expect(await page.locator(health).getAttribute('aria-labelledby')).toBe('lbl-device-wearable-1-health');
    expect(await device(page, 'wearable-1').getByText('Special category').isVisible()).toBe(true);

    const res = await runCli(['consent', 'grant', '--config', cliConfig(t.dir, hh), '--device', 'wearable-1', '--category', 'health', '--json'], { cwd: REPO });
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toMatchObject({ via: 'agent', entry: { granted: true, source: 'cli' } });
    await waitForChecked(page, health, 'true');
    await page.locator('#announcer').filter({ hasText: 'Allowed elsewhere (cli): health for wearable-1' }).waitFor();

    // The wearable's own privacy button withdraws it.
    hh.wearable.send({ type: 'consent', seq: seq++, body: { s: 'health', g: false } });
    await waitForChecked(page, health, 'false');
    const newest = page.locator('#history li').first();
    expect(await newest.textContent()).toMatch(/Withdrawn — device wearable-1 may collect health data \(special category\)\..*with the device’s button/);
    expect(await page.evaluate('window.__samePage === true')).toBe(true); // same document: no reload happened
    await page.context().close();
  });

  it('downloads a receipt (JSON) that matches the ledger entry, and all receipts at once', async () => {
    const page = await openPanel();
    const last = hh.agent.ledger.entries().at(-1)!;
    const [one] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: `Receipt #${last.seq} (JSON)` }).click()]);
    expect(one.suggestedFilename()).toBe(`consent-receipt-gw-panel-${last.seq}.json`);
    const receipt = JSON.parse(fs.readFileSync((await one.path())!, 'utf8')) as unknown;
    expect(receipt).toEqual(receiptOf(last, 'gw-panel'));
    const [all] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download all receipts (JSON)' }).click()]);
    const doc = JSON.parse(fs.readFileSync((await all.path())!, 'utf8')) as { verify: { ok: boolean }; receipts: unknown[] };
    expect(doc.verify.ok).toBe(true);
    expect(doc.receipts).toHaveLength(hh.agent.ledger.length);
    await page.context().close();
  });

  it('"erase my data" asks first, then withdraws everything the device may collect and deletes its stored rows', async () => {
    const page = await openPanel();
    const usage = device(page, 'scale-1').getByRole('switch', { name: 'Usage data' });
    await usage.click();
    await waitUntil('usage granted', () => hh.agent.ledger.rules.deviceAllows('scale-1', 'usage'));
    const before = { readings: rowCount(hh.agent, 'readings', 'scale-1'), events: rowCount(hh.agent, 'events', 'scale-1') };
    for (let i = 0; i < 4; i++) hh.scale.send(reading(seq++), dispense(seq++));
    await waitUntil('rows stored', () => rowCount(hh.agent, 'events', 'scale-1') === before.events + 4);
    const readings = rowCount(hh.agent, 'readings', 'scale-1');
    expect(readings).toBeGreaterThan(0);

    const erase = page.getByRole('button', { name: 'Erase my data from scale-1…' });
    await erase.click();
    const dialog = page.getByRole('dialog', { name: 'Erase data from scale-1?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(rowCount(hh.agent, 'readings', 'scale-1')).toBe(readings); // cancel erases nothing
    expect(hh.agent.ledger.rules.deviceAllows('scale-1', 'usage')).toBe(true);

    await erase.click();
    const erased = page.waitForResponse((r) => r.url().endsWith('/panel/api/devices/scale-1/erase'));
    await dialog.getByRole('button', { name: 'Erase my data' }).click();
    const body = (await (await erased).json()) as { purged: { raw: number }; withdrawn: string[] };
    expect(body.purged.raw).toBe(readings + before.events + 4);
    expect(body.withdrawn).toEqual(['*', 'usage']);
    expect(rowCount(hh.agent, 'readings', 'scale-1')).toBe(0);
    expect(rowCount(hh.agent, 'events', 'scale-1')).toBe(0);
    expect(hh.agent.ledger.rules.deviceAllows('scale-1', 'usage')).toBe(false);
    expect(hh.agent.ledger.entries().slice(-2).map((e) => [e.target, e.granted, e.source])).toEqual([
      ['*', false, 'panel'],
      ['usage', false, 'panel'],
    ]);
    await page.locator('#announcer').filter({ hasText: `erased ${body.purged.raw} stored readings and events` }).waitFor();
    await waitForChecked(page, '#sw-device-scale-1-usage', 'false');
    expect(hh.agent.ledger.verify().ok).toBe(true);
    await page.context().close();
  });

  it('works with the keyboard only: Tab to a switch, Space and Enter toggle it, focus stays visible on it', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${hh.base}/panel/`);
    const focusedId = (): Promise<string> => page.evaluate('document.activeElement ? document.activeElement.id : ""') as Promise<string>;
    for (let i = 0; i < 5 && (await focusedId()) !== 'code'; i++) await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('code');
    await page.keyboard.type(hh.pairingCode());
    await page.keyboard.press('Enter');
    await page.waitForSelector('body[data-ready="true"]');

    const target = 'sw-channel-home-a-sms';
    for (let i = 0; i < 60 && (await focusedId()) !== target; i++) await page.keyboard.press('Tab');
    expect(await focusedId()).toBe(target);
    const outline = (await page.evaluate(`(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; })()`)) as [string, string];
    expect(outline[0]).not.toBe('none');
    expect(parseFloat(outline[1])).toBeGreaterThanOrEqual(2);

    await page.keyboard.press('Space');
    await waitUntil('sms allowed', () => hh.agent.ledger.rules.channelAllows('home-a', 'sms'));
    await waitForChecked(page, `#${target}`, 'true');
    expect(await focusedId()).toBe(target); // the re-render keeps focus where it was
    await page.keyboard.press('Enter');
    await waitUntil('sms withdrawn', () => !hh.agent.ledger.rules.channelAllows('home-a', 'sms'));
    await waitForChecked(page, `#${target}`, 'false');
    expect(await focusedId()).toBe(target);
    await context.close();
  });

  it('every switch has an accessible name and state; labels, headings, lang and contrast pass the audit', async () => {
    const page = await openPanel();
    const audit = (await page.evaluate(AUDIT)) as { violations: unknown[]; checked: { switches: number; names: string[]; textElements: number } };
    expect(audit.violations).toEqual([]);
    // 3 device categories, 1 campaign, 4 channels — and each is findable by its name (Playwright's own accname).
    expect(audit.checked.switches).toBe(8);
    expect(audit.checked.textElements).toBeGreaterThan(30);
    for (const name of audit.checked.names) expect(await page.getByRole('switch', { name, exact: true }).count()).toBeGreaterThanOrEqual(1);
    expect(await page.getByRole('switch', { name: 'Offer “coffee-reorder”' }).getAttribute('aria-describedby')).toBe('desc-campaign-home-a-coffee-reorder');
    // the sign-in view passes too
    const fresh = await (await browser.newContext()).newPage();
    await fresh.goto(`${hh.base}/panel/`);
    await fresh.getByLabel('Pairing code').waitFor();
    expect(((await fresh.evaluate(AUDIT)) as { violations: unknown[] }).violations).toEqual([]);
    await fresh.context().close();
    await page.context().close();
  });

  it('the audit itself finds what it checks for (unnamed switch, missing state, low contrast, no lang, skipped heading)', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.setContent(
      '<html><head><title>bad</title></head><body><h1>x</h1><h3>skipped</h3>' +
        '<button role="switch" id="a"></button><button role="switch" aria-checked="on">On</button>' +
        '<p style="color:#999;background:#fff">faint</p><label for="ghost">orphan</label></body></html>',
    );
    const rules = ((await page.evaluate(AUDIT)) as { violations: Array<{ rule: string }> }).violations.map((v) => v.rule);
    for (const rule of ['html-has-lang', 'meta-viewport', 'heading-order', 'switch-has-name', 'switch-aria-checked', 'color-contrast', 'label-target']) {
      expect(rules).toContain(rule);
    }
    await page.context().close();
  });

  it('is readable on a phone (no sideways scrolling) and on a desktop; screenshots of both', async () => {
    // UPDATE_PANEL_SCREENSHOTS=1 refreshes docs/img/panel-*.png; otherwise they go to a temp dir.
    const out = process.env.UPDATE_PANEL_SCREENSHOTS ? path.join(REPO, 'docs', 'img') : t.dir;
    fs.mkdirSync(out, { recursive: true });
    for (const [name, viewport] of [
      ['desktop', { width: 1280, height: 900 }],
      ['phone', { width: 390, height: 844 }],
    ] as const) {
      const page = await openPanel(viewport);
      const widths = (await page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]')) as [number, number];
      expect(widths[0]).toBeLessThanOrEqual(widths[1]);
      const file = path.join(out, `panel-${name}.png`);
      // The desktop shot shows the whole page; the phone shot the first two screens, as a phone shows them.
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: file, fullPage: true, ...(name === 'phone' ? { clip: { x: 0, y: 0, width: 390, height: 1688 } } : {}) });
      expect(fs.readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
      await page.context().close();
    }
  });

  // last: the pending update stays on the page for any test after it
  it('shows a pending firmware update; "Not now" defers it, "Allow updates again" undoes that, and the rollout follows', async () => {
    const { plan } = pendingUpdate(hh.dataDir, 'scale-1');
    expect(plan()).toBe('update PENDING');
    const page = await openPanel();
    const section = page.getByRole('region', { name: 'Software update for scale-1' });
    await section.getByText('A software update (kitchen-scale 2.5.0) is waiting.').waitFor();
    await section.getByRole('button', { name: 'Not now (1 day)' }).click();
    await section.getByText(/You put it off until/).waitFor();
    expect(plan()).toBe('wait PENDING deferred by the household until …');
    await page.locator('#announcer').filter({ hasText: 'scale-1: Not now (1 day).' }).waitFor();
    expect(((await page.evaluate(AUDIT)) as { violations: unknown[] }).violations).toEqual([]);
    await section.getByRole('button', { name: 'Allow updates again' }).click();
    await section.getByRole('button', { name: 'Not now (1 day)' }).waitFor();
    expect(plan()).toBe('update PENDING');
    await page.context().close();
  });
});
