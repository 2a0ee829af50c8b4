import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { LinesideEvents } from '../domain/events.js';
import type { Frame } from '../domain/frame.js';
import type { Verdict } from '../domain/verdict.js';
import { TypedEmitter } from '../domain/typed-emitter.js';
import { silentLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import type { EvidenceWriter } from '../store/evidence.js';
import { Store } from '../store/store.js';
import type { Inspected } from './inspect.js';
import { Recorder } from './recorder.js';

const config = parseConfig(
  {
    plc: { endpoint: 'opc.tcp://127.0.0.1:4840' },
    models: { det: { path: 'models/det.onnx' } },
    stations: [{ id: 'blister', kind: 'part', source: { type: 'replay', path: 'fixtures/blister' }, model: 'det', evidence: ['pass', 'reject'] }],
  },
  '/etc/lineside',
);
const station = config.stations[0]!;

function inspected(verdict: Verdict): Inspected {
  return {
    record: {
      stationId: 'blister', kind: 'part', triggerCount: 1, partId: 'P', batchId: 'B1', recipeIndex: 1, verdict, reason: null,
      rejectCode: 0, score: 0.5, startedAt: Date.now(), timings: {}, modelVersions: {}, frameOrigin: null, findings: [],
    },
    frame: { capturedAt: Date.now(), origin: 'test' } as unknown as Frame,
  };
}

describe('Recorder evidence', () => {
  it('keeps 1 in N pass images (retention.evidence.passSampling) and every reject', async () => {
    const store = Store.open(mkdtempSync(join(tmpdir(), 'lineside-recorder-')));
    const written: Array<{ inspectionId: number; verdict: string }> = [];
    const evidence = {
      write: async (_img: unknown, meta: { inspectionId: number; verdict: string }) => {
        written.push({ inspectionId: meta.inspectionId, verdict: meta.verdict });
        return { path: `evidence/x/${meta.inspectionId}.jpg`, sha256: '00'.repeat(32), bytes: 10 };
      },
    } as unknown as EvidenceWriter;
    const recorder = new Recorder(
      { inspections: store.inspections, evidence, plc: null, bus: new TypedEmitter<LinesideEvents>(), metrics: new Metrics(), logger: silentLogger(), passSampling: 5 },
      [station],
    );
    for (let i = 0; i < 12; i++) await recorder.commit(station, inspected('pass'), null);
    for (let i = 0; i < 3; i++) await recorder.commit(station, inspected('reject'), null);
    await recorder.flush();
    expect(written.filter((w) => w.verdict === 'pass').map((w) => w.inspectionId)).toEqual([1, 6, 11]);
    expect(written.filter((w) => w.verdict === 'reject')).toHaveLength(3);
    // Every inspection is recorded whether or not its image is kept.
    expect(store.inspections.countsByStation().get('blister')).toMatchObject({ pass: 12, reject: 3 });
    store.close();
  });
});
