import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../domain/detection.js';
import { ErrorCode } from '../domain/errors.js';
import type { InspectionRecord } from '../domain/inspection.js';
import type { Verdict } from '../domain/verdict.js';
import { Store } from '../store/store.js';
import { SYSTEM } from './audit.js';
import { batchReportCsv, csvCell } from './batch-report.csv.js';
import { batchReportPdf } from './batch-report.pdf.js';
import { pdfText } from './testing/pdf.js';

const T0 = Date.parse('2026-12-06T08:00:00Z');
const QA = { user: 'qa.jones', role: 'qa' } as const;

const finding = (label: string, effect: Finding['effect'] = 'reject'): Finding => ({
  label,
  score: 0.9,
  box: { x: 1, y: 2, w: 3, h: 4 },
  rule: `class:${label}>=0.5`,
  effect,
  rejectCode: effect === 'reject' ? 10 : 0,
});

let n = 0;
function part(verdict: Verdict, over: Partial<InspectionRecord> = {}): InspectionRecord {
  n++;
  return {
    stationId: 'blister',
    kind: 'part',
    triggerCount: n,
    partId: `P-${n}`,
    batchId: 'B-2026-117',
    recipeIndex: 1,
    verdict,
    reason: verdict === 'pass' ? null : 'see findings',
    rejectCode: 0,
    score: 0.5,
    startedAt: T0 + n * 1000,
    timings: {},
    modelVersions: { blister: 'blister-detector@1.0.0+aaaaaaaaaaaa' },
    frameOrigin: null,
    findings: [],
    ...over,
  };
}

describe('batch report', () => {
  let store: Store;

  beforeEach(() => {
    n = 0;
    store = Store.open(mkdtempSync(join(tmpdir(), 'lineside-report-')));
    const i = store.inspections;
    for (let k = 0; k < 6; k++) i.record(part('pass'));
    i.record(part('reject', { findings: [finding('missing_tablet')] }));
    i.record(part('reject', { findings: [finding('missing_tablet'), finding('missing_tablet'), finding('broken_tablet')] }));
    i.record(part('reject', { findings: [finding('broken_tablet')], recipeIndex: 2, modelVersions: { blister: 'blister-detector@1.1.0+bbbbbbbbbbbb' } }));
    i.record(part('inconclusive', { findings: [finding('foreign_particle', 'inconclusive'), finding('shadow', 'info')] }));
    i.record(part('not_inspected', { reason: 'LINESIDE_ERR_IMAGE_DECODE: truncated JPEG' }));
    i.record(part('pass', { stationId: 'hopper', kind: 'cleaning', partId: 'HOP-1', requestedBy: 'olga' }));
    // Another batch, before and after: in no count of this one.
    i.record(part('reject', { batchId: 'B-2026-116', startedAt: T0 - 60_000, findings: [finding('wrong_colour')] }));
    i.record(part('pass', { batchId: 'B-2026-118', startedAt: T0 + 3_600_000 }));
    const a = store.alarms;
    a.raise('blister', 'cameraLost', 'critical', 'camera blister lost: no frame for 5 s', T0 + 2500);
    a.clear('blister', 'cameraLost', T0 + 4000);
    a.raise('*', 'plcHeartbeatLost', 'critical', 'PLC heartbeat lost', T0 + 11_500);
    a.raise('blister', 'modelUnhealthy', 'critical', 'before the batch', T0 - 120_000);
    a.clear('blister', 'modelUnhealthy', T0 - 100_000);
    a.raise('zone', 'ppeViolation', 'warning', 'another station', T0 + 3000);
  });

  it('counts the batch by station and verdict, with reject rate, defect Pareto, recipes and model versions', () => {
    const r = store.batchReport('B-2026-117', { generatedBy: QA, line: 'L3' });
    expect(r.period).toEqual({ from: T0 + 1000, to: T0 + 12_000 });
    expect(r.stations).toEqual([
      { stationId: 'blister', kind: 'part', pass: 6, reject: 3, inconclusive: 1, notInspected: 1, total: 11, rejectRate: 3 / 11 },
      { stationId: 'hopper', kind: 'cleaning', pass: 1, reject: 0, inconclusive: 0, notInspected: 0, total: 1, rejectRate: 0 },
    ]);
    expect(r.totals).toMatchObject({ total: 12, pass: 7, reject: 3, inconclusive: 1, notInspected: 1 });
    // A part counts once per label; informational findings are not defects.
    expect(r.pareto.map((p) => [p.label, p.parts])).toEqual([
      ['broken_tablet', 2],
      ['missing_tablet', 2],
      ['foreign_particle', 1],
    ]);
    expect(r.pareto.at(-1)!.cumulativeShare).toBe(1);
    expect(r.pareto[0]!.share).toBeCloseTo(0.4);
    expect(r.recipes).toEqual([
      { stationId: 'blister', recipeIndex: 1, inspections: 10 },
      { stationId: 'blister', recipeIndex: 2, inspections: 1 },
      { stationId: 'hopper', recipeIndex: 1, inspections: 1 },
    ]);
    expect(r.models.map((m) => [m.version, m.inspections])).toEqual([
      ['blister-detector@1.0.0+aaaaaaaaaaaa', 11],
      ['blister-detector@1.1.0+bbbbbbbbbbbb', 1],
    ]);
  });

  it("lists the alarms active during the batch period on its stations and the appliance's, not others", () => {
    const r = store.batchReport('B-2026-117', { generatedBy: QA });
    expect(r.alarms.map((a) => [a.stationId, a.category, a.clearedAt === null])).toEqual([
      ['blister', 'cameraLost', false],
      ['*', 'plcHeartbeatLost', true],
    ]);
  });

  it('lists the cleaning checks of the batch with who asked for each (a user, or PLC) in the data, the CSV and the PDF', async () => {
    store.inspections.record(part('reject', { stationId: 'hopper', kind: 'cleaning', partId: 'HOPPER-000003', requestedBy: 'PLC', reason: 'view 2/3: residue 9368 px (4.07% of the view) in 3 region(s)' }));
    const r = store.batchReport('B-2026-117', { generatedBy: QA });
    expect(r.cleaningChecks.map((c) => [c.stationId, c.equipmentId, c.verdict, c.requestedBy])).toEqual([
      ['hopper', 'HOP-1', 'pass', 'olga'],
      ['hopper', 'HOPPER-000003', 'reject', 'PLC'],
    ]);
    const csv = batchReportCsv(r);
    expect(csv).toContain('section,inspection,station,equipment,verdict,reason,requested by,checked (UTC)');
    expect(csv).toMatch(/cleaning checks,\d+,hopper,HOP-1,pass,,olga,2026-12-06 08:00:12\.000Z/);
    expect(csv).toMatch(/cleaning checks,\d+,hopper,HOPPER-000003,reject,view 2\/3: residue 9368 px \(4\.07% of the view\) in 3 region\(s\),PLC,/);
    const text = pdfText(await batchReportPdf(r));
    expect(text).toContain('Cleaning verifications');
    expect(text).toMatch(/HOP-1\s+pass\s+olga/);
    expect(text).toMatch(/HOPPER-000003\s+reject: view 2\/3[\s\S]*PLC/);
  });

  it('refuses a batch with no inspections instead of printing an empty, clean-looking report', () => {
    expect(() => store.batchReport('B-NOPE', { generatedBy: QA })).toThrow(expect.objectContaining({ code: ErrorCode.notFound, message: expect.stringContaining('B-NOPE') }));
  });

  it('carries a content hash that changes when the records of the batch change', () => {
    const now = T0 + 86_400_000;
    const a = readAt(now);
    expect(readAt(now).contentSha256).toBe(a.contentSha256);
    store.inspections.record(part('pass'));
    expect(readAt(now).contentSha256).not.toBe(a.contentSha256);
    function readAt(at: number) {
      return store.batchReport('B-2026-117', { generatedBy: SYSTEM, now: at });
    }
  });

  it('writes CSV blocks a spreadsheet opens as is, with formula-like cells neutralised', () => {
    store.inspections.record(part('reject', { findings: [finding('=HYPERLINK("http://x")')] }));
    const csv = batchReportCsv(store.batchReport('B-2026-117', { generatedBy: QA, line: 'L3' }));
    const blocks = csv.trimEnd().split('\r\n\r\n');
    // Every section has its header row, even when it has no rows (no reviews, signatures or audit entries here).
    expect(blocks.map((b) => b.split('\r\n')[0]!.split(',')[0])).toEqual(Array(10).fill('section'));
    expect(blocks.map((b) => b.split('\r\n')[1]?.split(',')[0])).toEqual(['batch', 'counts', 'defects', 'recipes', 'models', 'alarms', 'cleaning checks', undefined, undefined, undefined]);
    expect(csv).toContain('counts,all,,13,7,4,1,1,30.77 %');
    expect(csv).toContain(`defects,"'=HYPERLINK(""http://x"")",1,`);
    expect(csvCell('-1+1')).toBe("'-1+1");
    expect(csvCell('a,b')).toBe('"a,b"');
  });

  it('prints a PDF a person can read without the system: counts, defects, alarms and models as text, every page numbered', async () => {
    for (let k = 0; k < 120; k++) store.inspections.record(part('reject', { findings: [finding(`defect_type_${k}`)] }));
    const pdf = await batchReportPdf(store.batchReport('B-2026-117', { generatedBy: QA, line: 'L3' }));
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdfText(pdf);
    expect(text).toContain('Batch report: B-2026-117');
    expect(text).toMatch(/All stations\s+132\s+7\s+123\s+1\s+1\s+93\.18 %/);
    expect(text).toContain('missing_tablet');
    expect(text).toContain('blister-detector@1.1.0+bbbbbbbbbbbb');
    expect(text).toContain('camera blister lost: no frame for 5 s');
    expect(text).toContain('still active');
    expect(text).toContain('qa.jones (qa)');
    const pages = Number(/page 1 of (\d+)/.exec(text)?.[1]);
    expect(pages).toBeGreaterThan(1);
    expect(text).toContain(`page ${pages} of ${pages}`);
    // The long defect table continues on the next page under its header.
    expect(text.split('Cumulative').length - 1).toBeGreaterThan(1);
  });
});
