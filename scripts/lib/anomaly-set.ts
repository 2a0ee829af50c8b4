/**
 * Blister sets for teaching an anomaly model from good parts and validating it: `good/` and one
 * folder per defect type, each image a seeded render (lighting, card position and rotation,
 * tablet shade, sensor noise and JPEG quality vary with the seed).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { planPockets, renderBlister, type BlisterExtras, type PocketContent } from './render-blister.js';
import { Rng } from './rng.js';

/**
 * The "broken or chipped tablet" is two folders: a wedge broken off and a small chip out of
 * the rim are found (and missed) very differently, and a validation report should say which.
 */
export const BLISTER_DEFECTS = ['missing_tablet', 'broken_tablet', 'chipped_tablet', 'wrong_colour', 'foreign_particle', 'damaged_foil'] as const;
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
      // A wedge gone.
      plan = plan.map((p, i) => (i === pocket ? 'broken_tablet' : p));
      break;
    case 'chipped_tablet':
      // A small bite (4–7 px radius) out of the rim.
      extras.chip = pocket;
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
