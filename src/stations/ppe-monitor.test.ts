import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { ZoneStationConfig } from '../config/schema.js';
import { configError } from '../config/testing.js';
import type { Detection } from '../domain/detection.js';
import { PpeMonitor } from './ppe-monitor.js';

const raw = (zone: Record<string, unknown> = {}) => ({
  plc: { endpoint: 'opc.tcp://127.0.0.1:4840' },
  models: { ppe: { path: 'm.onnx' } },
  stations: [
    {
      id: 'gowning',
      kind: 'zone',
      source: { type: 'replay', path: 'x' },
      model: 'ppe',
      raiseAfterMs: 1000,
      clearAfterMs: 1000,
      zones: [{ id: 'A', polygon: [[0, 200], [640, 200], [640, 360], [0, 360]], require: ['gloves'] }],
      ppe: { headLabels: ['head_mask'], items: { gloves: { missing: ['hand_bare'] } } },
      ...zone,
    },
  ],
});
const cfg = parseConfig(raw(), '/tmp').stations[0] as ZoneStationConfig;
const d = (label: string, x: number, y: number, w: number, h: number): Detection => ({ classId: 0, label, score: 0.9, box: { x, y, w, h } });
const bare = (x: number): Detection[] => [d('head_mask', x, 80, 50, 56), d('hand_bare', x - 10, 200, 24, 26)];
const gloved = (x: number): Detection[] => [d('head_mask', x, 80, 50, 56)];

describe('PpeMonitor', () => {
  it('raises once per person and episode despite a missed frame, and clears after compliance', () => {
    const m = new PpeMonitor(cfg);
    const seq = [bare(100), bare(105), [], bare(110), bare(115), bare(120), gloved(125), gloved(130), gloved(135), gloved(140), gloved(145), gloved(150)];
    const events = seq.flatMap((dets, i) => m.update(dets, i * 300).transitions.map((t) => `${t.kind}:${t.subject}`));
    expect(events).toEqual(['raise:person-1', 'clear:person-1']);
  });

  it('blurs faces of violators and compliant people whole in a violation frame', () => {
    const m = new PpeMonitor(cfg);
    const f = m.update([...bare(100), ...gloved(400)], 0);
    expect(f.blur).toEqual([{ x: 100, y: 80, w: 50, h: 56 }, f.people[1]!.box]);
  });

  it('names the station and key for a zone requiring an undefined item', () => {
    expect(configError(raw({ zones: [{ id: 'A', polygon: [[0, 0], [1, 0], [1, 1]], require: ['mask'] }] }))).toMatch(/station "gowning": zones\[0\]\.require\[0\]: "mask" is not defined under ppe\.items/);
  });
});
