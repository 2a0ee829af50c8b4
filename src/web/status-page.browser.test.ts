import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoConfig, E2E_PASSWORD, ROOT, startAppliance, waitFor } from '../e2e/harness.js';
import type { Appliance } from '../main.js';
import type { Role } from '../records/audit.js';
import { userWithPassword } from '../records/records.test-support.js';

/** Screenshots of each page a test checked, kept as CI artefacts. */
const SHOTS = join(ROOT, 'artifacts', 'screenshots');
mkdirSync(SHOTS, { recursive: true });
const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

const USER: Record<Role, string> = { viewer: 'vic', operator: 'olga', supervisor: 'sam', qa: 'quentin', admin: 'alice' };

/** The supervisor page in Debian's Chromium: what people on the line see on the panel PC or a tablet. */
describe('the supervisor page in a real browser', () => {
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
    for (const role of Object.keys(USER) as Role[]) await userWithPassword(app.records, USER[role], role, E2E_PASSWORD);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  /** A fresh browser context (its own cookies), signed in through the form as a person would. */
  async function signIn(role: Role, viewport = { width: 1366, height: 768 }): Promise<Page> {
    const context = await browser.newContext({ viewport, acceptDownloads: true });
    // A step that cannot complete fails within the test's minute, naming its locator, rather than
    // the whole test timing out with no word of where it stood.
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    await page.goto(app.httpUrl);
    await page.getByLabel('User name').fill(USER[role]);
    await page.getByLabel('Password').fill(E2E_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-testid="user"]').waitFor();
    await expect(page.locator('[data-testid="user"]').textContent()).resolves.toContain(role);
    return page;
  }

  it('asks for a sign-in first, refuses a wrong password, and shows nothing of the line before', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(app.httpUrl);
    await page.getByLabel('User name').fill(USER.operator);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#login-error').textContent()).toMatch(/not accepted|wrong|invalid/i);
    await expect(page.locator('section[data-station]').count()).resolves.toBe(0);
    await shot(page, 'sign-in-refused');
    await page.close();
  });

  it('signed in, shows every station with health, and verdicts and counters that update without reloading', async () => {
    const page = await signIn('operator');
    const external: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(app.httpUrl)) external.push(r.url());
    });
    for (const id of ['blister', 'gowning', 'hopper']) await page.locator(`section[data-station="${id}"]`).waitFor();
    const tile = page.locator('section[data-station="blister"]');
    await expect.poll(async () => tile.locator('li').first().textContent(), { timeout: 10_000 }).toContain('camera ok');
    const total = async (): Promise<number> => (await tile.locator('td[data-counter]').allTextContents()).map(Number).reduce((a, b) => a + b, 0);
    const first = await total();
    await expect.poll(total, { timeout: 10_000 }).toBeGreaterThan(first + 3);
    // Live, not polled: the page refreshes by itself only every 5 s, yet over 4 s it shows the
    // counters at several values, one per inspection event it was sent.
    await expect(page.locator('[data-testid="live"]').textContent()).resolves.toBe('● live');
    const seen = new Set<number>();
    for (const t0 = Date.now(); Date.now() - t0 < 4000; ) {
      seen.add(await total());
      await page.waitForTimeout(150);
    }
    expect(seen.size).toBeGreaterThanOrEqual(4);
    await expect(tile.locator('[data-testid="verdict"]').textContent()).resolves.toMatch(/PASS|REJECT|INCONCLUSIVE|NOT INSPECTED/);
    await expect.poll(() => page.locator('[data-testid="stream-item"]').count()).toBeGreaterThan(3);
    await shot(page, 'overview-live');
    expect(external).toEqual([]);
    await page.close();
  });

  it('opens a station: live view, counters for batch and shift, Pareto and latency per stage', async () => {
    const page = await signIn('supervisor');
    await page.locator('section[data-station="blister"] h2 a').click();
    await expect.poll(() => page.locator('#live-img').evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth), { timeout: 10_000 }).toBe(640);
    await expect(page.getByText(/this shift, since/)).toBeTruthy();
    await expect.poll(() => page.locator('[data-testid="inspections"] tr[data-record]').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect(page.getByText('Latency per stage').count()).resolves.toBe(1);
    await shot(page, 'station');
    await page.close();
  });

  it('acknowledges an alarm with a comment, and the acknowledgement is in the audit trail', async () => {
    // A real alarm: five wrong passwords lock an account out.
    await userWithPassword(app.records, 'locky', 'operator', E2E_PASSWORD);
    for (let i = 0; i < 5; i++) {
      await fetch(`${app.httpUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'locky', password: `wrong-${i}` }) });
    }
    await waitFor(() => app.alarms.active().some((a) => a.category === 'loginLockout' && a.ackedAt === null), 5000, 'the lock-out alarm');

    const page = await signIn('operator');
    await page.locator('nav a', { hasText: 'Alarms' }).click();
    const alarm = page.locator('[data-alarm]', { hasText: 'loginLockout' }).first();
    await alarm.waitFor();
    // A comment is required: the browser will not send the form without one.
    await alarm.getByRole('button', { name: 'Acknowledge' }).click();
    await expect(alarm.locator('.meta').textContent()).resolves.toContain('not acknowledged');
    await alarm.getByLabel('Comment (required)').fill('locky forgot the new password; reset by the admin');
    await alarm.getByRole('button', { name: 'Acknowledge' }).click();
    await expect.poll(() => page.locator('[data-alarm]', { hasText: 'locky forgot' }).first().locator('.meta').textContent()).toContain(`acknowledged by ${USER.operator}`);
    await shot(page, 'alarm-acknowledged');
    await page.close();

    // The operator has no audit view; QA finds the entry there, with who, when and the comment.
    const qa = await signIn('qa');
    await qa.locator('nav a', { hasText: 'Audit trail' }).click();
    await qa.getByLabel('Action').fill('alarmAcknowledged');
    await qa.getByRole('button', { name: 'Filter' }).click();
    const row = qa.locator('[data-testid="audit"] tr[data-action="alarmAcknowledged"]').first();
    await row.waitFor();
    await expect(row.textContent()).resolves.toMatch(new RegExp(`${USER.operator} \\(operator\\).*locky forgot the new password`));
    await shot(qa, 'audit-trail');
    await qa.close();
  });

  it('reviews an inconclusive part with an electronic signature; the original record stays as it was', async () => {
    // An inconclusive part as the line makes them: a low-confidence finding on the blister station.
    const unsure = app.store.inspections.record({
      stationId: 'blister', kind: 'part', triggerCount: null, partId: 'BLISTER-REVIEW-1', batchId: 'B-REVIEW', recipeIndex: 1, verdict: 'inconclusive',
      reason: 'empty_pocket 0.42', rejectCode: 0, score: 0.42, startedAt: Date.now(), timings: { totalMs: 9 }, modelVersions: { blister: 'blister-detector@1' },
      frameOrigin: 'blister-0001.jpg', findings: [{ label: 'empty_pocket', score: 0.42, box: { x: 10, y: 10, w: 40, h: 40 }, rule: 'class:empty_pocket>=0.3', effect: 'inconclusive', rejectCode: 0 }],
    });
    const page = await signIn('supervisor');
    await page.locator('nav a', { hasText: 'Review' }).click();
    await page.locator(`tr[data-pending="${unsure.id}"] a`, { hasText: 'Review' }).click();
    const form = page.locator(`form[data-review="${unsure.id}"]`);
    await form.getByLabel('reject').check();
    await form.getByLabel('Reason (required)').fill('pocket 3 empty on the evidence image');
    await form.getByLabel('Your password, to sign as reviewer').fill('wrong password');
    await form.getByRole('button', { name: 'Sign decision' }).click();
    await expect.poll(() => form.locator('.error').textContent()).not.toBe('');
    await form.getByLabel('Your password, to sign as reviewer').fill(E2E_PASSWORD);
    await form.getByRole('button', { name: 'Sign decision' }).click();
    await page.waitForURL(new RegExp(`#/record/${unsure.id}$`));
    const review = page.locator('[data-testid="review"]');
    await review.waitFor();
    await expect(review.textContent()).resolves.toMatch(/REJECT by sam .*pocket 3 empty/);
    await expect(review.locator('[data-testid="signature"]').textContent()).resolves.toMatch(/Sam Tester.*supervisor.*reviewed/);
    await expect(page.locator('[data-testid="record-verdict"]').textContent()).resolves.toBe('? INCONCLUSIVE → reviewed: REJECT');
    await shot(page, 'review-signed');
    expect(app.store.inspections.get(unsure.id)!.verdict).toBe('inconclusive');
    await page.close();
  });

  it('runs a cleaning verification to its signed record: requested by an operator, signed by a second verifier', async () => {
    const op = await signIn('operator', { width: 1024, height: 768 });
    await op.locator('nav a', { hasText: 'Cleaning' }).click();
    const card = op.locator('[data-cleaning="hopper"]');
    await card.getByLabel('Equipment ID').fill('HOP-204');
    await card.getByRole('button', { name: 'Run cleaning verification' }).click();
    await expect.poll(() => card.locator('h3').first().textContent(), { timeout: 20_000 }).toContain('equipment HOP-204');
    await expect(card.locator('[data-testid="cleaning-verdict"]').textContent()).resolves.toMatch(/PASS|REJECT|INCONCLUSIVE/);
    // Who asked is part of the record itself, shown with it.
    await expect(card.locator('[data-testid="cleaning-requested-by"]').textContent()).resolves.toBe(USER.operator);
    // The evidence shows every view side by side, not only the worst one.
    const views = (app.config.stations.find((s) => s.id === 'hopper') as { views: number }).views;
    const shown = card.locator('[data-testid="cleaning-views"]');
    await expect.poll(() => shown.evaluate((el) => (el as unknown as { naturalWidth: number; naturalHeight: number }).naturalWidth / (el as unknown as { naturalHeight: number }).naturalHeight)).toBeGreaterThan(views * 0.9);
    await expect(card.locator('figcaption').first().textContent()).resolves.toContain(`views 1…${views},`);
    // An operator may request a check but not sign it.
    await expect(card.getByRole('button', { name: 'Sign as second verifier' }).isDisabled()).resolves.toBe(true);
    await op.close();

    const sup = await signIn('supervisor', { width: 1024, height: 768 });
    await sup.locator('nav a', { hasText: 'Cleaning' }).click();
    const mine = sup.locator('[data-cleaning="hopper"]');
    await expect.poll(() => mine.locator('h3').first().textContent()).toContain('HOP-204');
    // The page redraws as parts go by. One that was waiting on the appliance while the verifier typed
    // (held back here, so it surely is) must not wipe the password when it arrives.
    let redraws = 0;
    await sup.route('**/api/inspections?station=hopper*', async (r) => {
      redraws += 1;
      await sup.waitForTimeout(1500);
      await r.continue();
    });
    await expect.poll(() => redraws).toBeGreaterThan(0);
    const password = mine.getByLabel('Your password, to sign as verifier');
    await password.fill(E2E_PASSWORD);
    await sup.waitForTimeout(2000);
    await sup.unroute('**/api/inspections?station=hopper*');
    await expect(password.inputValue()).resolves.toBe(E2E_PASSWORD);
    await mine.getByRole('button', { name: 'Sign as second verifier' }).click();
    // What the card shows: the signature, or the reason the signing was refused.
    const signedOrRefused = async (): Promise<string> =>
      (await mine.locator('[data-testid="signature"]').first().textContent({ timeout: 500 }).catch(() => '')) ||
      `refused: ${await mine.locator('form[data-sign] .error').first().textContent({ timeout: 500 }).catch(() => '')}`;
    await expect.poll(signedOrRefused).toMatch(/Sam Tester.*verified/);
    await shot(sup, 'cleaning-signed');
    await mine.getByRole('link', { name: 'full record' }).click();
    await expect.poll(() => sup.locator('[data-testid="record-requested-by"]').textContent().catch(() => '')).toBe(USER.operator);
    const trail = app.audit.query({ action: 'checkRequested' });
    expect(trail[0]).toMatchObject({ actor: { user: USER.operator }, newValue: { stationId: 'hopper', equipmentId: 'HOP-204' } });
    await sup.close();
  });

  it('a viewer sees every view but finds no enabled action', async () => {
    const page = await signIn('viewer');
    const navs = await page.locator('nav a').allTextContents();
    expect(navs.join(' ')).not.toMatch(/Users|Audit trail/);
    const enabledActions: string[] = [];
    let actions = 0;
    for (const hash of ['#/overview', '#/station/blister', '#/alarms', '#/review', '#/cleaning', '#/models', '#/history', '#/system']) {
      await page.goto(`${app.httpUrl}/${hash}`);
      await page.locator('#view > *').first().waitFor();
      await page.waitForTimeout(300);
      actions += await page.locator('#view .action').count();
      enabledActions.push(...(await page.locator('#view button.action:enabled, #view [data-need]:enabled').allTextContents()).map((t) => `${hash}: ${t}`));
      // Inputs of action forms (comments, passwords) are disabled too: nothing to type into and send.
      const form = await page.locator('#view form:has(.action) input:enabled, #view form:has(.action) textarea:enabled').count();
      if (form) enabledActions.push(`${hash}: ${form} enabled inputs`);
      if (hash === '#/cleaning') await shot(page, 'viewer-cleaning');
    }
    expect(actions).toBeGreaterThan(3);
    expect(enabledActions).toEqual([]);
    await page.close();
  });

  it("downloads the current batch's report as a PDF from the page", async () => {
    const page = await signIn('supervisor');
    const link = page.locator('#batch-list tr[data-batch] a.download', { hasText: 'PDF' }).first();
    await link.waitFor({ timeout: 15_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toMatch(/^batch-.+\.pdf$/);
    const body = readFileSync((await download.path())!);
    expect(body.subarray(0, 5).toString()).toBe('%PDF-');
    await page.close();
  });

  it('warns of a frozen camera image, with the camera described', async () => {
    const page = await signIn('viewer');
    const tile = page.locator('section[data-station="gowning"]');
    const warning = tile.locator('[data-testid="image-warning"]');
    await warning.waitFor({ timeout: 10_000 });
    await expect(warning.textContent()).resolves.toMatch(/image frozen/);
    await expect(tile.locator('[data-testid="camera"]').textContent()).resolves.toMatch(/replay .* · 640×360 · [\d.]+ fps/);
    await expect(page.locator('section[data-station="blister"] [data-testid="image-warning"]').count()).resolves.toBe(0);
    await page.close();
  });

  it('shows a reject with its evidence image, and its full record with zoom', async () => {
    const page = await signIn('viewer');
    const img = page.locator('section[data-station="blister"] figure img');
    await img.waitFor({ timeout: 20_000 });
    await expect.poll(async () => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth), { timeout: 10_000 }).toBe(640);
    await expect(page.locator('section[data-station="blister"] figcaption').textContent()).resolves.toMatch(/REJECT|INCONCLUSIVE/);
    await page.locator('section[data-station="blister"] figcaption a').click();
    await page.locator('#evidence img').waitFor();
    await expect(page.getByText('rule that decided').count()).resolves.toBe(1);
    await page.locator('#evidence').click();
    await expect(page.locator('#evidence.zoomed').count()).resolves.toBe(1);
    await shot(page, 'record');
    await page.close();
  });

  it('fits a 1366×768 panel and a tablet, with targets large enough for gloves', async () => {
    for (const viewport of [{ width: 1366, height: 768 }, { width: 800, height: 1280 }]) {
      const page = await signIn('admin', viewport);
      for (const hash of ['#/overview', '#/alarms', '#/users', '#/models']) {
        await page.goto(`${app.httpUrl}/${hash}`);
        await page.locator('#view > *').first().waitFor();
        // The function runs in the page; `globalThis` there is the window (this project has no DOM types).
        const overflow = await page.evaluate(() => {
          const w = globalThis as unknown as { innerWidth: number; document: { documentElement: { scrollWidth: number } } };
          return w.document.documentElement.scrollWidth - w.innerWidth;
        });
        expect(overflow, `${hash} at ${viewport.width}×${viewport.height} is wider than the screen`).toBeLessThanOrEqual(0);
        const small = await page.locator('button:visible, nav a:visible, input:visible:not([type=radio])').evaluateAll((els) =>
          els.filter((e) => e.isConnected && e.getBoundingClientRect().height < 44).map((e) => `${Math.round(e.getBoundingClientRect().height)} px: ${e.outerHTML.slice(0, 100)}`),
        );
        expect(small.join('\n'), `${hash}: targets under 44 px`).toBe('');
      }
      await shot(page, `users-${viewport.width}x${viewport.height}`);
      await page.close();
    }
  });
});
