import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderHopper } from '../../scripts/lib/render-hopper.js';
import { residueMap } from './residue-map.js';

const OPTS = { threshold: 0.15, minAreaPx: 60, maxShiftPx: 8 };

describe('residue map against the clean reference', () => {
  it('finds the drawn residue with its box and area, and nothing on the same hopper cleaned, shifted and relit', async () => {
    const clean = (await renderHopper(77, false)).jpeg;
    const dirty = await renderHopper(77, true);
    const map = await residueMap(dirty.jpeg, clean, OPTS);
    const truth = dirty.objects.map((o) => o.box);
    expect(map.fraction).toBeGreaterThan(0.01);
    for (const t of truth) expect(map.regions.some((r) => Math.abs(r.box.x - t.x) < 20 && Math.abs(r.box.y - t.y) < 20)).toBe(true);
    // The camera moved 4 px right and the light is 5 % brighter: still clean.
    const moved = await sharp(clean).extend({ left: 4, background: '#000' }).extract({ left: 0, top: 0, width: 480, height: 480 }).linear(1.05, 0).jpeg().toBuffer();
    const none = await residueMap(moved, clean, { ...OPTS, region: { x: 20, y: 20, w: 440, h: 440 } });
    expect(none.regions).toEqual([]);
    // Alignment works on the half-size copy, so the shift it reports is coarse (2 px cells).
    expect(Math.abs(none.shift.dx)).toBeGreaterThan(0);
  });
});
