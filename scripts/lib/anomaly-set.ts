/**
 * Blister sets for teaching an anomaly model from good parts and validating it: `good/` and one
 * folder per defect type, each image a seeded render (lighting, card position and rotation,
 * tablet shade, sensor noise and JPEG quality vary with the seed).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { planPockets, renderBlister, type BlisterExtras, type PocketContent } from './render-blister.js';
import { Rng } from './rng.js';

export const BLISTER_DEFECTS = ['missing_tablet', 'broken_tablet', 'wrong_colour', 'foreign_particle', 'damaged_foil'] as const;
export type BlisterDefect = (typeof BLISTER_DEFECTS)[number];

/** One image of `kind`: a good card, or a card with exactly one defect of that type. */
export async function renderSample(seed: number, kind: BlisterDefect | 'good'): Promise<Buffer> {
  const rng = new Rng(seed + 7);
  const pocket = rng.int(0, 9);
  let plan: PocketContent[] = planPockets(rng, 0);
  const extras: { -readonly [K in keyof BlisterExtras]: BlisterExtras[K] } = {};
  switch (kind) {
    case 'good':
      break;
    case 'missing_tablet':
      plan = plan.map((p, i) => (i === pocket ? 'empty_pocket' : p));
      break;
    case 'broken_tablet':
      // Half broken (a wedge gone), half chipped (a small bite out of the rim).
      if (rng.chance(0.5)) plan = plan.map((p, i) => (i === pocket ? 'broken_tablet' : p));
      else extras.chip = pocket;
      break;
    case 'wrong_colour':
      extras.wrongColour = pocket;
      break;
    case 'foreign_particle':
      extras.particles = 1;
      break;
    case 'damaged_foil':
      extras.foilDamage = true;
      break;
  }
  return (await renderBlister(seed, plan, extras)).jpeg;
}

/**
 * Writes `good` good images (and `perDefect` of each defect type) under `dir`, seeds from
 * `seedBase` on (good: seedBase + i, defect type k: seedBase + (k + 1) · 10 000 + i).
 */
export async function writeAnomalySet(dir: string, seedBase: number, good: number, perDefect: number): Promise<void> {
  const kinds: Array<BlisterDefect | 'good'> = ['good', ...BLISTER_DEFECTS];
  await Promise.all(
    kinds.map(async (kind, k) => {
      const n = kind === 'good' ? good : perDefect;
      if (n === 0) return;
      await mkdir(join(dir, kind), { recursive: true });
      for (let i = 0; i < n; i++) {
        const seed = seedBase + k * 10_000 + i;
        await writeFile(join(dir, kind, `${kind}-${seed}.jpg`), await renderSample(seed, kind));
      }
    }),
  );
}
