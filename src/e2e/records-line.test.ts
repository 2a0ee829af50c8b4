import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { Appliance, VERSION } from '../main.js';
import { recordsCommand } from '../records/records.cli.js';
import { pdfPages, pdfText } from '../records/testing/pdf.js';
import { silentLogger } from '../observability/logger.js';
import { SIM_DEFAULT_BATCH_ID } from '../plc/sim/sim-plc.js';
import { writeBatchReport } from '../tools/report.js';
import { demoConfig, waitFor } from './harness.js';

/**
 * The records on a running line: first start creates the admin with a one-time password shown
 * once, the start is audited with version and config hash, a supervisor reviews a part the line
 * recorded, a backup is taken while the line runs, and verify-audit passes afterwards; the demo
 * batch's report then prints as readable A4 pages with that review on them.
 */
describe('end to end: Part 11 records on the running appliance', () => {
  let app: Appliance | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('creates the first admin once, audits the start, takes reviews and backups while the line runs', async () => {
    const config = demoConfig((c) => {
      c.plc.simulate = { windowMs: 1000, stations: { blister: { partsPerMinute: 300 } } };
    });
    const shown: string[] = [];
    app = await Appliance.start(config, { logger: silentLogger(), onFirstAdmin: (_user, pw) => shown.push(pw) });
    expect(shown).toHaveLength(1);
    const started = app.audit.recent(5).find((e) => e.action === 'applianceStarted')!;
    expect(started.newValue).toMatchObject({ version: VERSION, configSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const admin = await app.sessions.login('admin', shown[0]!, '127.0.0.1');
    await app.sessions.changePassword(admin.token, shown[0]!, 'copper-kettle-on-line-3');
    const by = { ...app.sessions.authorize(admin.token, ['admin'], 'manage users'), client: '127.0.0.1' };
    const { oneTimePassword } = await app.users.createUser({ user: by.username, role: by.role, client: by.client }, { username: 'sue', fullName: 'Sue Supervisor', role: 'supervisor' });
    const sue = await app.sessions.login('sue', oneTimePassword);
    await app.sessions.changePassword(sue.token, oneTimePassword, 'harbour-lights-17');

    await waitFor(async () => (await fetch(`${app!.httpUrl}/healthz`)).status === 200, 15_000, 'all components healthy');
    await waitFor(() => app!.recorder.last('blister') !== undefined, 15_000, 'a blister inspection');
    const part = app.recorder.last('blister')!;
    await app.reviews.review({ inspectionId: part.id, decision: 'reject', reason: 'second look: foil wrinkled', username: 'sue', password: 'harbour-lights-17' });
    expect(app.reviews.inspectionWithReviews(part.id)).toMatchObject({ decision: 'reject', reviews: [{ signatures: [{ printedName: 'Sue Supervisor', valid: true }] }] });

    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    expect(await recordsCommand('backup', ['--db', join(config.dataDir, 'lineside.db'), '--out', join(config.dataDir, 'backups', 'now.db')], io)).toBe(0);
    await app.stop();
    app = undefined;

    expect(await recordsCommand('verify-audit', ['--db', join(config.dataDir, 'lineside.db')], io)).toBe(0);
    expect(lines.at(-1)).toMatch(/^audit trail OK: \d+ entries, chain intact/);
    // A second start finds users: no new one-time password.
    app = await Appliance.start(config, { logger: silentLogger(), onFirstAdmin: (_user, pw) => shown.push(pw) });
    expect(shown).toHaveLength(1);
    await app.stop();
    app = undefined;

    // The demo batch's report, as QA would print it: rendered by poppler at 60 dpi, every page is an
    // A4 page with content on it (not blank, not one colour), readable without the system.
    const { file, report } = await writeBatchReport({ db: join(config.dataDir, 'lineside.db'), batchId: SIM_DEFAULT_BATCH_ID, format: 'pdf', out: join(config.dataDir, 'demo-batch.pdf') });
    expect(report.reviews).toEqual([expect.objectContaining({ inspectionId: part.id, decision: 'reject', reviewerName: 'Sue Supervisor' })]);
    const pdf = readFileSync(file);
    const pages = Number(/page 1 of (\d+)/.exec(pdfText(pdf))?.[1]);
    const { pngs } = pdfPages(pdf, 60);
    expect(pngs.length).toBeGreaterThan(0);
    expect(pngs).toHaveLength(pages);
    for (const [i, png] of pngs.entries()) {
      expect(png.length, `page ${i + 1} PNG bytes`).toBeGreaterThan(5_000);
      const meta = await sharp(png).metadata();
      // A4 at 60 dpi: 595 × 842 pt → 496 × 702 px (poppler rounds up).
      expect(Math.abs(meta.width! - 496) <= 1 && Math.abs(meta.height! - 702) <= 1, `page ${i + 1} is ${meta.width} × ${meta.height} px`).toBe(true);
      const { channels } = await sharp(png).stats();
      expect(channels.some((c) => c.min < 64 && c.max > 192), `page ${i + 1} has dark text on a light page`).toBe(true);
      expect(Math.max(...channels.map((c) => c.stdev)), `page ${i + 1} is not one colour`).toBeGreaterThan(10);
    }
  });
});
