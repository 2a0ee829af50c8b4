import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoConfig, ROOT, startAppliance } from '../e2e/harness.js';
import type { Appliance } from '../main.js';

/** The status page in Debian's Chromium: what a supervisor sees on the panel PC. */
describe('status page in a real browser', () => {
  let app: Appliance;
  let browser: Browser;

  beforeAll(async () => {
    app = await startAppliance(
      demoConfig((c) => {
        c.plc.simulate = { windowMs: 1500, stations: { blister: { partsPerMinute: 240 } } };
        // The gowning camera sends the same picture over and over: a frozen camera.
        const frozen = mkdtempSync(join(tmpdir(), 'lineside-frozen-'));
        copyFileSync(join(ROOT, 'fixtures/gowning/gowning-0000.jpg'), join(frozen, 'still.jpg'));
        const gowning = c.stations.find((s) => s.id === 'gowning')!;
        gowning.source = { type: 'replay', path: frozen, fps: 5 };
        gowning.imageHealth = { frozenAfterMs: 1000, intervalMs: 200, moved: false };
      }),
    );
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('shows every station with health, and counters that update without reloading', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(app.httpUrl)) external.push(r.url());
    });
    await page.goto(app.httpUrl);
    for (const id of ['blister', 'gowning', 'hopper']) await page.locator(`section[data-station="${id}"]`).waitFor();
    const tile = page.locator('section[data-station="blister"]');
    await expect.poll(async () => tile.locator('li').first().textContent(), { timeout: 10_000 }).toContain('camera ok');

    const total = async (): Promise<number> => {
      const cells = await tile.locator('td[data-counter]').allTextContents();
      return cells.map(Number).reduce((a, b) => a + b, 0);
    };
    const first = await total();
    await expect.poll(total, { timeout: 10_000 }).toBeGreaterThan(first + 3);
    // Live, not polled: the page refreshes only every 5 s on its own, yet over 4 s it shows the
    // counters at several values, one per inspection event it was sent.
    await expect(page.locator('[data-testid="live"]').textContent()).resolves.toBe('● live');
    const seen = new Set<number>();
    for (const t0 = Date.now(); Date.now() - t0 < 4000; ) {
      seen.add(await total());
      await page.waitForTimeout(150);
    }
    expect(seen.size).toBeGreaterThanOrEqual(4);
    await expect(tile.locator('[data-testid="verdict"]').textContent()).resolves.toMatch(/PASS|REJECT|INCONCLUSIVE|NOT INSPECTED/);
    expect(external).toEqual([]);
  });

  it("downloads the current batch's report as a PDF from the page", async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(app.httpUrl);
    const link = page.locator('#batch-list tr[data-batch] a.download', { hasText: 'PDF' }).first();
    await link.waitFor({ timeout: 15_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^batch-.+\.pdf$/);
    const body = readFileSync((await download.path())!);
    expect(body.subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('warns of a frozen camera image, with the camera described', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(app.httpUrl);
    const tile = page.locator('section[data-station="gowning"]');
    const warning = tile.locator('[data-testid="image-warning"]');
    await warning.waitFor({ timeout: 10_000 });
    await expect(warning.textContent()).resolves.toMatch(/image frozen/);
    await expect(tile.locator('[data-testid="camera"]').textContent()).resolves.toMatch(/replay .* · 640×360 · [\d.]+ fps/);
    // A healthy camera shows no such warning.
    await expect(page.locator('section[data-station="blister"] [data-testid="image-warning"]').count()).resolves.toBe(0);
  });

  it('shows a reject with its evidence image, boxes drawn', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(app.httpUrl);
    const img = page.locator('section[data-station="blister"] figure img');
    await img.waitFor({ timeout: 20_000 });
    await expect.poll(async () => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth), { timeout: 10_000 }).toBe(640);
    await expect(page.locator('section[data-station="blister"] figcaption').textContent()).resolves.toMatch(/REJECT|INCONCLUSIVE/);
  });

  it('runs a cleaning verification from the page', async () => {
    const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
    await page.goto(app.httpUrl);
    const tile = page.locator('section[data-station="hopper"]');
    const before = (await tile.locator('td[data-counter]').allTextContents()).map(Number).reduce((a, b) => a + b, 0);
    await tile.getByRole('button', { name: 'Run cleaning verification' }).click();
    await expect
      .poll(async () => (await tile.locator('td[data-counter]').allTextContents()).map(Number).reduce((a, b) => a + b, 0), { timeout: 15_000 })
      .toBe(before + 1);
    await expect(tile.locator('[data-testid="verdict"]').textContent()).resolves.toMatch(/PASS|REJECT|INCONCLUSIVE/);
  });
});
