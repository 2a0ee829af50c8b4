import type { Detection } from '../domain/detection.js';
import type { Box } from '../domain/geometry.js';
import type { PpeConfig, ZoneConfig } from './ppe.schema.js';

export interface Person {
  readonly box: Box;
  /** The face/head box: the model's head class, else the upper `faceShare` of the person box. */
  readonly face: Box;
  /** Zone the person stands in (bottom-centre of the box inside the polygon), or null. */
  readonly zone: string | null;
  /** Required items seen missing, e.g. `['gloves']`; empty = compliant (or outside every zone). */
  readonly missing: readonly string[];
}

/** Ray casting: is the point inside the polygon? */
export function pointInPolygon(x: number, y: number, poly: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

const inside = (b: Box, x: number, y: number): boolean => x >= b.x && x <= b.x + b.w && y >= b.y && y <= b.y + b.h;

/**
 * Detections → people, each with their zone and the required PPE seen missing. A PPE detection
 * belongs to the person whose box holds its centre (the nearest, horizontally, if several). An item
 * is missing when a `missing` label is on the person; an item not seen at all is not judged (a hand
 * out of view is not a bare hand).
 */
export function judgePeople(dets: readonly Detection[], ppe: PpeConfig, zones: readonly ZoneConfig[], faceShare: number): Person[] {
  const sure = dets.filter((d) => d.score >= ppe.minScore);
  const heads = sure.filter((d) => ppe.headLabels.includes(d.label));
  const bodies =
    ppe.personLabel !== undefined
      ? sure.filter((d) => d.label === ppe.personLabel).map((d) => d.box)
      : heads.map(({ box: h }) => ({ x: h.x + h.w / 2 - (h.w * ppe.bodyFromHead.width) / 2, y: h.y, w: h.w * ppe.bodyFromHead.width, h: h.h * ppe.bodyFromHead.height }));
  const owner = (d: Detection): number => {
    const cx = d.box.x + d.box.w / 2;
    const cy = d.box.y + d.box.h / 2;
    let best = -1;
    bodies.forEach((b, i) => {
      if (!inside(b, cx, cy)) return;
      if (best < 0 || Math.abs(b.x + b.w / 2 - cx) < Math.abs(bodies[best]!.x + bodies[best]!.w / 2 - cx)) best = i;
    });
    return best;
  };
  const labelsOf = bodies.map(() => new Set<string>());
  const faceOf: Array<Box | null> = bodies.map(() => null);
  for (const d of sure) {
    const i = owner(d);
    if (i < 0) continue;
    labelsOf[i]!.add(d.label);
    if (ppe.headLabels.includes(d.label) && faceOf[i] === null) faceOf[i] = d.box;
  }
  return bodies.map((box, i) => {
    const zone = zones.find((z) => pointInPolygon(box.x + box.w / 2, box.y + box.h, z.polygon)) ?? null;
    const missing = zone ? zone.require.filter((item) => ppe.items[item]!.missing.some((l) => labelsOf[i]!.has(l))) : [];
    return { box, face: faceOf[i] ?? { x: box.x, y: box.y, w: box.w, h: box.h * faceShare }, zone: zone?.id ?? null, missing };
  });
}
