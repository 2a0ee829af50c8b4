import { describe, expect, it } from 'vitest';
import type { Detection } from '../domain/detection.js';
import { judgePeople, pointInPolygon } from './zones.js';
import { ppeSchema } from './ppe.schema.js';

const ppe = ppeSchema.parse({
  headLabels: ['head_mask', 'head_no_mask'],
  items: { mask: { missing: ['head_no_mask'], worn: ['head_mask'] }, gloves: { missing: ['hand_bare'], worn: ['hand_glove'] } },
});
const zoneA = { id: 'A', polygon: [[0, 200], [320, 200], [320, 360], [0, 360]] as [number, number][], require: ['gloves', 'mask'] };
const d = (label: string, x: number, y: number, w = 50, h = 56): Detection => ({ classId: 0, label, score: 0.9, box: { x, y, w, h } });

describe('judgePeople', () => {
  it('finds the polygon by ray casting', () => {
    expect(pointInPolygon(10, 250, zoneA.polygon)).toBe(true);
    expect(pointInPolygon(400, 250, zoneA.polygon)).toBe(false);
  });

  it('flags a person in the zone with a bare hand, and not one outside it', () => {
    const people = judgePeople([d('head_mask', 100, 80), d('hand_bare', 90, 200, 24, 26), d('head_mask', 450, 80), d('hand_bare', 440, 200, 24, 26)], ppe, [zoneA], 0.22);
    expect(people.map((p) => [p.zone, p.missing])).toEqual([['A', ['gloves']], [null, []]]);
    expect(people[0]!.face).toEqual({ x: 100, y: 80, w: 50, h: 56 });
  });

  it('does not judge an item it cannot see', () => {
    const [p] = judgePeople([d('head_mask', 100, 80)], ppe, [zoneA], 0.22);
    expect(p!.missing).toEqual([]);
  });
});
