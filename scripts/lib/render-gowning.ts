/**
 * Gowning room seen by a wall camera: cleanroom wall and floor, one to three people in white or
 * light-blue gowns with hoods. Each face is masked (blue band over the lower face) or bare, each
 * hand gloved (blue or purple nitrile) or bare. Heads and hands are labelled.
 */
import { Canvas, around, encodeJpeg, mix, scale, sdf, type Rgb } from './canvas.js';
import { boxAround, type LabelledObject, type Rendered } from './labels.js';
import { Rng } from './rng.js';

export const GOWNING_SIZE = { width: 640, height: 360 } as const;
export const PPE_CLASSES = ['head_mask', 'head_no_mask', 'hand_glove', 'hand_bare'] as const;
const VIOLATIONS: readonly string[] = ['head_no_mask', 'hand_bare'];

export interface PersonPlan {
  readonly mask: boolean;
  readonly gloves: readonly [boolean, boolean];
}

const SKIN: readonly Rgb[] = [
  [234, 198, 172],
  [216, 172, 142],
  [192, 142, 108],
  [162, 114, 84],
  [124, 86, 62],
];
const GLOVES: readonly Rgb[] = [
  [62, 102, 192],
  [118, 88, 178],
  [108, 150, 214],
];
const GOWNS: readonly Rgb[] = [
  [238, 240, 242],
  [231, 236, 241],
  [196, 218, 236],
];
const MASKS: readonly Rgb[] = [
  [112, 164, 214],
  [92, 140, 204],
  [132, 178, 222],
];

/** One to three people; violations drawn independently per face and hand with the given rates. */
export function planPeople(rng: Rng, noMaskRate: number, bareHandRate: number): PersonPlan[] {
  return Array.from({ length: rng.int(1, 3) }, () => ({
    mask: !rng.chance(noMaskRate),
    gloves: [!rng.chance(bareHandRate), !rng.chance(bareHandRate)] as const,
  }));
}

/** A person placed by the caller (feet at `x`, `y`), for scenes of someone walking through a zone. */
export interface PlacedPerson extends PersonPlan {
  readonly x: number;
  readonly y?: number;
}

export async function renderGowning(seed: number, people: readonly PersonPlan[], placed?: readonly PlacedPerson[]): Promise<Rendered> {
  const rng = new Rng(seed);
  const { width, height } = GOWNING_SIZE;
  const c = new Canvas(width, height);
  const horizon = rng.uniform(200, 225);
  drawRoom(c, rng, horizon);

  const slot = width / people.length;
  const objects: LabelledObject[] = [];
  people.forEach((p, i) => {
    const fx = slot * (i + 0.5) + rng.uniform(-1, 1) * Math.max(0, slot / 2 - 80);
    const fy = rng.uniform(318, 350);
    const s = 0.92 + (fy - 318) / 250 + rng.uniform(-0.03, 0.03);
    if (!placed) objects.push(...drawPerson(c, rng, p, fx, fy, s));
  });
  for (const p of placed ?? []) objects.push(...drawPerson(c, rng, p, p.x, p.y ?? 334, 0.92 + ((p.y ?? 334) - 318) / 250));

  const gx = rng.uniform(-0.1, 0.1);
  const exposure = rng.uniform(0.92, 1.05);
  c.light((x, y) => exposure * (1 + gx * (2 * x / width - 1) - 0.06 * (y / height)));
  c.noise(rng, rng.uniform(1.5, 2.5));
  const quality = rng.int(85, 93);
  const defects = objects.filter((o) => VIOLATIONS.includes(o.class));
  return { jpeg: await encodeJpeg(c, quality), quality, label: defects.length > 0 ? 'violation' : 'compliant', defects, objects };
}

function drawRoom(c: Canvas, rng: Rng, horizon: number): void {
  const wall: Rgb = scale([224, 227, 230], rng.uniform(0.94, 1.02));
  const floor: Rgb = scale(rng.pick<Rgb>([[172, 180, 178], [160, 168, 176]]), rng.uniform(0.94, 1.04));
  const seam = rng.uniform(0, 120);
  c.fill((x, y) => {
    if (y < horizon) return (x + seam) % 120 < 1.5 ? scale(wall, 0.9) : wall;
    if (y < horizon + 4) return scale(wall, 0.8);
    return scale(floor, 1.06 - 0.12 * ((y - horizon) / (c.height - horizon)));
  });
  // A stainless pass-through hatch and a door frame: large, flat distractors in every frame.
  const hx = rng.uniform(40, c.width - 40);
  const hy = rng.uniform(70, 120);
  c.shape(around(hx, hy, 50, 40), sdf.roundedRect(hx, hy, 46, 36, 3), [182, 186, 190]);
  c.shape(around(hx, hy, 40, 30), sdf.roundedRect(hx, hy, 38, 28, 2), [150, 156, 162]);
  const dx = rng.uniform(60, c.width - 60);
  c.shape(around(dx, horizon - 85, 50, 90), sdf.roundedRect(dx, horizon - 85, 46, 86, 2), [196, 206, 214]);
  c.shape(around(dx + 32, horizon - 85, 4, 10), sdf.roundedRect(dx + 32, horizon - 85, 2.5, 9, 1.5), [120, 126, 132]);
}

function drawPerson(c: Canvas, rng: Rng, p: PersonPlan, fx: number, fy: number, s: number): LabelledObject[] {
  const gown = mix(rng.pick(GOWNS), [255, 255, 255], rng.uniform(-0.05, 0.1));
  const fold = scale(gown, 0.9);
  const skin = mix(rng.pick(SKIN), [255, 230, 210], rng.uniform(-0.1, 0.1));
  const height = 262 * s;
  const hx = fx + rng.uniform(-3, 3) * s;
  const hy = fy - height + 28 * s;
  const shoulderY = hy + 38 * s;
  const hipY = fy - 112 * s;

  // Legs and overshoes first, then torso, so the gown hem overlaps the legs.
  for (const side of [-1, 1]) {
    const lx = fx + side * 15 * s;
    c.shape(around(lx, (hipY + fy) / 2, 18 * s, (fy - hipY) / 2 + 14 * s), sdf.capsule(lx, hipY, lx + side * 3 * s, fy - 14 * s, 13 * s), fold);
    c.shape(around(lx + side * 3 * s, fy - 6 * s, 18 * s, 9 * s), sdf.ellipse(lx + side * 3 * s, fy - 6 * s, 16 * s, 8 * s), [214, 218, 222]);
  }
  const torso = sdf.roundedRect(fx, (shoulderY + hipY + 20 * s) / 2, 36 * s, (hipY + 20 * s - shoulderY) / 2, 14 * s);
  c.shape(around(fx, (shoulderY + hipY) / 2, 40 * s, (hipY - shoulderY) / 2 + 24 * s), torso, (x) => scale(gown, 1 - 0.05 * Math.cos((x - fx) / (6 * s))));
  c.shape(around(fx, (shoulderY + hipY) / 2, 3 * s, (hipY - shoulderY) / 2), sdf.roundedRect(fx, (shoulderY + hipY) / 2 + 8 * s, 1 * s, (hipY - shoulderY) / 2, 1), fold, 0.8);

  const objects: LabelledObject[] = [];
  for (const [k, side] of [-1, 1].entries()) {
    const gloved = p.gloves[k] ?? true;
    const sx = fx + side * 31 * s;
    const sy = shoulderY + 10 * s;
    // Most arms hang by the side; some reach across the body, putting the hand over the gown.
    const across = !rng.chance(0.7);
    const a = across ? rng.uniform(-0.55, -0.2) : rng.uniform(0.08, 0.5);
    const dirX = side * Math.sin(a);
    const dirY = Math.cos(a);
    const len = 92 * s;
    const ex = sx + dirX * len;
    const ey = sy + dirY * len;
    c.shape(around((sx + ex) / 2, (sy + ey) / 2, Math.abs(ex - sx) / 2 + 12 * s, Math.abs(ey - sy) / 2 + 12 * s), sdf.capsule(sx, sy, ex, ey, 10 * s), scale(gown, 0.96));
    const hxc = ex + dirX * 11 * s;
    const hyc = ey + dirY * 11 * s;
    const colour = gloved ? mix(rng.pick(GLOVES), [0, 0, 0], rng.uniform(-0.1, 0.1)) : skin;
    if (gloved) c.shape(around(ex, ey, 12 * s), sdf.capsule(ex - dirX * 8 * s, ey - dirY * 8 * s, ex, ey, 10.5 * s), colour);
    c.shape(around(hxc, hyc, 14 * s), sdf.ellipse(hxc, hyc, 9 * s, 11.5 * s), colour);
    c.shape(around(hxc, hyc, 14 * s), sdf.ellipse(hxc - side * 7 * s, hyc - 3 * s, 3.5 * s, 6 * s), scale(colour, 0.95));
    c.shape(around(hxc, hyc + 8 * s, 10 * s, 5 * s), sdf.roundedRect(hxc, hyc + 9 * s, 7 * s, 3 * s, 2.5 * s), scale(colour, 0.88), 0.6);
    // Variant 1 for a hand reaching across the gown, 0 for one hanging by the side (one detector
    // template each).
    objects.push({ class: gloved ? 'hand_glove' : 'hand_bare', box: boxAround(hxc - side * 1.5 * s, hyc, 12 * s, 13 * s), variant: across ? 1 : 0 });
  }

  c.shape(around(hx, hy, 28 * s, 31 * s), sdf.ellipse(hx, hy, 25 * s, 28 * s), gown);
  const face = sdf.ellipse(hx, hy + 4 * s, 15 * s, 18.5 * s);
  c.shape(around(hx, hy + 4 * s, 17 * s, 21 * s), face, skin);
  for (const side of [-1, 1]) c.shape(around(hx + side * 6 * s, hy, 3 * s), sdf.ellipse(hx + side * 6 * s, hy - 1 * s, 2.2 * s, 1.6 * s), [45, 35, 30]);
  if (p.mask) {
    const maskColour = rng.pick(MASKS);
    const lower = (x: number, y: number): number => Math.max(face(x, y) - 1, hy + 5 * s - y);
    c.shape(around(hx, hy + 14 * s, 17 * s, 12 * s), lower, maskColour);
    for (const dy of [11, 16]) c.shape(around(hx, hy + dy * s, 14 * s, 2), sdf.roundedRect(hx, hy + dy * s, 11 * s, 0.5, 0.4), scale(maskColour, 0.85), 0.7);
  } else {
    c.shape(around(hx, hy + 8 * s, 3 * s), sdf.ellipse(hx, hy + 8 * s, 1.8 * s, 2.5 * s), scale(skin, 0.85), 0.7);
    c.shape(around(hx, hy + 14 * s, 6 * s, 2 * s), sdf.roundedRect(hx, hy + 14 * s, 5 * s, 1 * s, 0.8), [150, 80, 75], 0.8);
  }
  objects.unshift({ class: p.mask ? 'head_mask' : 'head_no_mask', box: boxAround(hx, hy, 25 * s, 28 * s) });
  return objects;
}
