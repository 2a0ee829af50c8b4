/**
 * Held-out validation sets for the demo models, in the layout `lineside validate` reads: `good/`
 * and one folder per defect type, each image a seeded render from VALIDATION_SEEDS (disjoint from
 * every training range). Blister cards carry exactly one defect each (scripts/lib/anomaly-set.ts);
 * gowning frames have one person break exactly one rule; hopper views are clean or carry residue.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAnomalySet } from './anomaly-set.js';
import { renderGowning, type PersonPlan } from './render-gowning.js';
import { renderHopper } from './render-hopper.js';
import { Rng } from './rng.js';
import { VALIDATION_SEEDS } from './seeds.js';

export interface SetSize {
  readonly good: number;
  readonly perDefect: number;
}

export const VALIDATION_SIZES = {
  blister: { good: 300, perDefect: 60 },
  gowning: { good: 200, perDefect: 80 },
  hopper: { good: 150, perDefect: 150 },
} as const satisfies Record<keyof typeof VALIDATION_SEEDS, SetSize>;

/** Folder → the model classes that are the right reason to reject an image of it. */
export const VALIDATION_REASONS = {
  blister: { missing_tablet: ['empty_pocket'] },
  gowning: { no_mask: ['head_no_mask'], bare_hand: ['hand_bare'] },
  hopper: {},
} as const satisfies Record<keyof typeof VALIDATION_SEEDS, Record<string, readonly string[]>>;

export async function writeBlisterValidationSet(dir: string, size: SetSize = VALIDATION_SIZES.blister): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await writeAnomalySet(dir, VALIDATION_SEEDS.blister, size.good, size.perDefect);
}

/** good: everyone masked and gloved; no_mask: one person unmasked; bare_hand: one person with one bare hand. */
export async function writeGowningValidationSet(dir: string, size: SetSize = VALIDATION_SIZES.gowning): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const kinds = ['good', 'no_mask', 'bare_hand'] as const;
  for (const [k, kind] of kinds.entries()) {
    await mkdir(join(dir, kind), { recursive: true });
    const n = kind === 'good' ? size.good : size.perDefect;
    for (let i = 0; i < n; i++) {
      const seed = VALIDATION_SEEDS.gowning + k * 10_000 + i;
      const rng = new Rng(seed + 7);
      const people: PersonPlan[] = Array.from({ length: rng.int(1, 3) }, () => ({ mask: true, gloves: [true, true] as const }));
      const who = rng.int(0, people.length - 1);
      if (kind === 'no_mask') people[who] = { mask: false, gloves: [true, true] };
      if (kind === 'bare_hand') people[who] = { mask: true, gloves: rng.chance(0.5) ? [false, true] : [true, false] };
      await writeFile(join(dir, kind, `${kind}-${seed}.jpg`), (await renderGowning(seed, people)).jpeg);
    }
  }
}

export async function writeHopperValidationSet(dir: string, size: SetSize = VALIDATION_SIZES.hopper): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const [k, kind] of (['good', 'residue'] as const).entries()) {
    await mkdir(join(dir, kind), { recursive: true });
    const n = kind === 'good' ? size.good : size.perDefect;
    for (let i = 0; i < n; i++) {
      const seed = VALIDATION_SEEDS.hopper + k * 10_000 + i;
      await writeFile(join(dir, kind, `${kind}-${seed}.jpg`), (await renderHopper(seed, kind === 'residue')).jpeg);
    }
  }
}
