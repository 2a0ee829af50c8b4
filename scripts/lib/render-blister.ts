/**
 * Blister card on a conveyor, seen from above: a foil card with 2 × 5 clear PVC pockets, each
 * holding a round tablet, nothing (empty_pocket) or a tablet with a wedge broken off
 * (broken_tablet). Position, rotation, tablet shade, lighting and noise vary with the seed.
 */
import { Canvas, around, encodeJpeg, len, mix, scale, sdf, type Rgb } from './canvas.js';
import { boxAround, type LabelledObject, type Rendered } from './labels.js';
import { Rng } from './rng.js';

export const BLISTER_SIZE = { width: 640, height: 400 } as const;
export const BLISTER_CLASSES = ['tablet', 'empty_pocket', 'broken_tablet'] as const;
export type PocketContent = (typeof BLISTER_CLASSES)[number];

const POCKETS = 10;
const PITCH_X = 86;
const PITCH_Y = 108;
const POCKET_R = 27;
const CARD_HW = 232;
const CARD_HH = 124;

const TABLET_SHADES: readonly Rgb[] = [
  [243, 242, 237],
  [238, 235, 224],
  [246, 245, 241],
  [234, 230, 216],
];

/** Decide pocket contents: `defects` pockets chosen at random get a random defect type. */
export function planPockets(rng: Rng, defects: number, types: readonly PocketContent[] = ['empty_pocket', 'broken_tablet']): PocketContent[] {
  const plan: PocketContent[] = Array.from({ length: POCKETS }, () => 'tablet');
  for (const i of rng.shuffle([...plan.keys()]).slice(0, defects)) plan[i] = rng.pick(types);
  return plan;
}

/**
 * Product defects beyond the pocket contents, drawn for the anomaly (teach/validate) sets and the
 * blister detector's training cards, labelled as objects `wrong_colour`, `chipped_tablet` (beside
 * the tablet's own label), `foreign_particle` and `damaged_foil`. They use a stream of their own
 * (seeded from the image seed), so a scene without extras is bit for bit the one `npm run
 * fixtures` always drew.
 */
export interface BlisterExtras {
  /** Pocket index whose tablet has the wrong product's colour. */
  readonly wrongColour?: number;
  /** Pocket index whose tablet has a small chip bitten out of its edge (a milder broken tablet). */
  readonly chip?: number;
  /** Foreign particles (dark specks or fibres) anywhere on the card. */
  readonly particles?: number;
  /** Foil damage: a tear, scratch or crease across the lidding. */
  readonly foilDamage?: boolean;
}

/** Colours of other products that could be mixed up on the line (yellow, pink, blue, orange film coats). */
const WRONG_SHADES: readonly Rgb[] = [
  [236, 214, 120],
  [232, 176, 190],
  [168, 196, 232],
  [230, 170, 110],
];

export async function renderBlister(seed: number, plan: readonly PocketContent[], extras: BlisterExtras = {}): Promise<Rendered> {
  const extra = new Rng(seed ^ 0x5eed_d0e5);
  const rng = new Rng(seed);
  const { width, height } = BLISTER_SIZE;
  const c = new Canvas(width, height);
  drawConveyor(c, rng);

  const cx = width / 2 + rng.uniform(-12, 12);
  const cy = height / 2 + rng.uniform(-12, 12);
  const angle = rng.uniform(-0.035, 0.035);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const toImage = (lx: number, ly: number): [number, number] => [cx + lx * cos - ly * sin, cy + lx * sin + ly * cos];

  const foil: Rgb = scale([201, 203, 207], rng.uniform(0.95, 1.03));
  const cardBounds = around(cx, cy, CARD_HW + 12, CARD_HH + 12);
  c.shape(cardBounds, (x, y) => sdf.roundedRect(cx + 6, cy + 7, CARD_HW, CARD_HH, 10, angle)(x, y) / 5, [20, 20, 22], 0.55);
  const foilGrain = rng.uniform(0, 6.28);
  c.shape(cardBounds, sdf.roundedRect(cx, cy, CARD_HW, CARD_HH, 10, angle), (x, y) =>
    scale(foil, 1 + 0.025 * Math.sin(x * 0.05 + y * 0.013 + foilGrain) + 0.015 * Math.sin(y * 0.31 + foilGrain)),
  );
  drawPerforations(c, toImage, angle, foil);

  const objects: LabelledObject[] = [];
  plan.forEach((content, i) => {
    const [px, py] = toImage(((i % 5) - 2) * PITCH_X, (i < 5 ? -0.5 : 0.5) * PITCH_Y);
    drawPocket(c, px, py, foil);
    const tx = px + rng.uniform(-2, 2);
    const ty = py + rng.uniform(-2, 2);
    const r = rng.uniform(21.2, 22.8);
    const dir = rng.uniform(0, 2 * Math.PI);
    const wrong = extras.wrongColour === i ? extra.pick(WRONG_SHADES) : undefined;
    if (content === 'tablet') drawTablet(c, rng, tx, ty, r, undefined, wrong && mix(wrong, [255, 255, 255], extra.uniform(-0.1, 0.15)));
    const chipAt = content === 'tablet' && extras.chip === i ? drawChip(c, extra, tx, ty, r, foil) : undefined;
    if (content === 'broken_tablet') drawTablet(c, rng, tx, ty, r, { dir, span: rng.uniform(1.5, Math.PI) });
    drawHighlight(c, px, py);
    if (content === 'empty_pocket') objects.push({ class: content, box: boxAround(px, py, POCKET_R) });
    else if (content === 'tablet') objects.push({ class: content, box: boxAround(tx, ty, r) });
    else objects.push({ class: content, box: boxAround(tx, ty, r), pose: Math.round((dir * 180) / Math.PI) });
    // A wrong-colour or chipped tablet is still a tablet in its pocket, and a defect as well.
    // Variant: which other product's colour (their differences from white differ in sign per channel).
    if (wrong) objects.push({ class: 'wrong_colour', box: boxAround(tx, ty, r), variant: WRONG_SHADES.indexOf(wrong) });
    if (chipAt !== undefined) objects.push({ class: 'chipped_tablet', box: boxAround(tx, ty, r), pose: chipAt });
  });
  for (let k = 0; k < (extras.particles ?? 0); k++) objects.push(drawParticle(c, extra, toImage));
  if (extras.foilDamage) objects.push(drawFoilDamage(c, extra, toImage, foil));

  const gx = rng.uniform(-0.08, 0.08);
  const gy = rng.uniform(-0.08, 0.08);
  const exposure = rng.uniform(0.93, 1.05);
  c.light((x, y) => {
    const u = (x - width / 2) / width;
    const v = (y - height / 2) / height;
    return exposure * (1 + 2 * gx * u + 2 * gy * v - 0.25 * (u * u + v * v));
  });
  c.noise(rng, rng.uniform(1.5, 2.5));
  const quality = rng.int(85, 93);
  const defects = objects.filter((o) => o.class !== 'tablet');
  return { jpeg: await encodeJpeg(c, quality), quality, label: defects.length > 0 ? 'defective' : 'good', defects, objects };
}

function drawConveyor(c: Canvas, rng: Rng): void {
  const base: Rgb = scale([50, 53, 58], rng.uniform(0.85, 1.15));
  const phase = rng.uniform(0, 64);
  c.fill((x, y) => {
    const slat = (x + phase) % 64 < 2 ? 0.7 : 1;
    return scale(base, slat * (1 + 0.04 * Math.sin(y * 0.9) * Math.sin(x * 0.021)));
  });
}

function drawPerforations(c: Canvas, toImage: (lx: number, ly: number) => [number, number], angle: number, foil: Rgb): void {
  const dark = scale(foil, 0.8);
  for (let k = -CARD_HW + 6; k < CARD_HW - 6; k += 9) {
    const [x, y] = toImage(k, 0);
    c.shape(around(x, y, 4), sdf.roundedRect(x, y, 2.5, 0.8, 0.4, angle), dark, 0.8);
  }
}

/** The PVC dome: a darker rim where the plastic bends, a slightly brighter floor inside. */
function drawPocket(c: Canvas, x: number, y: number, foil: Rgb): void {
  c.shape(around(x, y, POCKET_R + 2), sdf.circle(x, y, POCKET_R), scale(foil, 0.78));
  c.shape(around(x, y, POCKET_R), sdf.circle(x, y, POCKET_R - 2.5), (px, py) => {
    const d = len(px - x, py - y) / POCKET_R;
    return scale(foil, 0.9 + 0.1 * (1 - d * d));
  });
}

function drawTablet(c: Canvas, rng: Rng, x: number, y: number, r: number, broken: { dir: number; span: number } | undefined, override?: Rgb): void {
  // The usual shade is drawn even when overridden, so the scene's random stream stays the same.
  const usual = mix(rng.pick(TABLET_SHADES), [255, 255, 255], rng.uniform(-0.15, 0.2));
  const shade = override ?? usual;
  const disc = sdf.circle(x, y, r);
  const shape = broken ? sdf.subtract(disc, sdf.wedge(x, y, broken.dir, broken.span)) : disc;
  // A soft contact shadow below-right: the tablet stands proud of the foil.
  c.shape(around(x + 2, y + 2, r + 4), (px, py) => shape(px - 2, py - 2) / 2.5, [90, 92, 96], 0.35);
  c.shape(around(x, y, r + 1), shape, (px, py) => {
    const d = len(px - x, py - y) / r;
    const bevel = 1 - 0.14 * d ** 6;
    const side = 1 - 0.04 * ((px - x + py - y) / r);
    return scale(shade, bevel * side);
  });
  if (!broken && rng.chance(0.5)) {
    const a = rng.uniform(0, Math.PI);
    c.shape(around(x, y, r), sdf.roundedRect(x, y, r * 0.85, 0.6, 0.3, a), scale(shade, 0.86), 0.7);
  }
  if (broken) {
    for (let k = rng.int(0, 2); k > 0; k--) {
      const a = broken.dir + rng.uniform(-0.4, 0.4) * broken.span;
      const d = rng.uniform(6, r - 4);
      const cr = rng.uniform(1.2, 2.6);
      c.shape(around(x + Math.cos(a) * d, y + Math.sin(a) * d, cr), sdf.circle(x + Math.cos(a) * d, y + Math.sin(a) * d, cr), shade);
    }
  }
}

/** Specular glint on the PVC dome, from the lamp at the upper left; present whether full or empty. */
function drawHighlight(c: Canvas, x: number, y: number): void {
  c.shape(around(x - 11, y - 12, 8), sdf.ellipse(x - 11, y - 12, 7, 3.5), [255, 255, 255], 0.45);
}

/** A bite out of the tablet's rim, 3–6 px across, showing the pocket floor beneath; returns its direction in degrees. */
function drawChip(c: Canvas, rng: Rng, x: number, y: number, r: number, foil: Rgb): number {
  const a = rng.uniform(0, 2 * Math.PI);
  const cr = rng.uniform(4, 7);
  const bx = x + Math.cos(a) * (r + cr * 0.25);
  const by = y + Math.sin(a) * (r + cr * 0.25);
  c.shape(around(bx, by, cr + 1), sdf.circle(bx, by, cr), scale(foil, 0.93));
  return Math.round((a * 180) / Math.PI);
}

/** A dark speck (2–4 px radius) or a fibre (a thin capsule 10–24 px long), anywhere on the card. */
function drawParticle(c: Canvas, rng: Rng, toImage: (lx: number, ly: number) => [number, number]): LabelledObject {
  const [x, y] = toImage(rng.uniform(-CARD_HW + 12, CARD_HW - 12), rng.uniform(-CARD_HH + 12, CARD_HH - 12));
  const tone: Rgb = scale([58, 46, 38], rng.uniform(0.6, 1.4));
  if (rng.chance(0.5)) {
    const r = rng.uniform(2, 4);
    c.shape(around(x, y, r + 1), sdf.circle(x, y, r), tone, rng.uniform(0.8, 1));
    return { class: 'foreign_particle', box: boxAround(x, y, r), variant: 0 };
  }
  const half = rng.uniform(5, 12);
  const a = rng.uniform(0, Math.PI);
  const dx = Math.cos(a) * half;
  const dy = Math.sin(a) * half;
  c.shape(around(x, y, half + 2), sdf.capsule(x - dx, y - dy, x + dx, y + dy, rng.uniform(0.9, 1.5)), tone, rng.uniform(0.75, 0.95));
  // Fibres by orientation in four 45° bins (variants 1–4): one linear template per bin.
  return { class: 'foreign_particle', box: boxAround(x, y, Math.abs(dx) + 2, Math.abs(dy) + 2), variant: 1 + Math.min(3, Math.floor(a / (Math.PI / 4))) };
}

/** A tear (dark slit with a bright lifted edge), a scratch (bright line) or a crease (dark/bright pair) in the foil. */
function drawFoilDamage(c: Canvas, rng: Rng, toImage: (lx: number, ly: number) => [number, number], foil: Rgb): LabelledObject {
  // On the foil between pockets: along the perforation row or the card's long edges.
  // Across the perforation row any way round; near the long edges only along them, so it stays on the card.
  const ly = rng.pick([0, -CARD_HH + 14, CARD_HH - 14]) + rng.uniform(-4, 4);
  const [x, y] = toImage(rng.uniform(-CARD_HW + 40, CARD_HW - 40), ly);
  const half = rng.uniform(10, 22);
  const a = rng.uniform(-0.5, 0.5) + (Math.abs(ly) < 10 && rng.chance(0.5) ? Math.PI / 2 : 0);
  const dx = Math.cos(a) * half;
  const dy = Math.sin(a) * half;
  const nx = -Math.sin(a) * 1.8;
  const ny = Math.cos(a) * 1.8;
  const kind = rng.pick(['tear', 'scratch', 'crease'] as const);
  const line = (ox: number, oy: number, w: number, shade: Rgb, opacity: number): void =>
    c.shape(around(x + ox, y + oy, half + 4), sdf.capsule(x - dx + ox, y - dy + oy, x + dx + ox, y + dy + oy, w), shade, opacity);
  if (kind === 'tear') {
    line(nx, ny, 1.6, [255, 255, 255], 0.55);
    line(0, 0, rng.uniform(1.4, 2.4), [28, 28, 30], 0.9);
  } else if (kind === 'scratch') {
    line(0, 0, rng.uniform(0.8, 1.3), [255, 255, 255], 0.8);
    line(nx, ny, 0.8, scale(foil, 0.7), 0.6);
  } else {
    line(0, 0, 1.4, scale(foil, 0.62), 0.85);
    line(nx * 1.2, ny * 1.2, 1.2, [255, 255, 255], 0.6);
  }
  // Variant: kind (tear, scratch, crease) × lying along or across the card's rows.
  const across = Math.abs(Math.sin(a)) > Math.SQRT1_2 ? 1 : 0;
  return { class: 'damaged_foil', box: boxAround(x, y, Math.abs(dx) + 3, Math.abs(dy) + 3), variant: 2 * ['tear', 'scratch', 'crease'].indexOf(kind) + across };
}
