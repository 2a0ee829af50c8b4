/**
 * Renders the three demo fixture sets (npm run fixtures): blister cards, gowning-room frames and
 * hopper views, each with a labels.json of the truth. Seeded, so a re-run reproduces the same files.
 * These images are the held-out demo and test set: scripts/make-models.ts trains on other seeds.
 * Then the demo's scenes of one room and one hopper over time (scripts/demo-scenes.ts).
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FixtureSet, ImageLabel, Rendered } from './lib/labels.js';
import { BLISTER_CLASSES, BLISTER_SIZE, planPockets, renderBlister } from './lib/render-blister.js';
import { GOWNING_SIZE, PPE_CLASSES, renderGowning, type PersonPlan } from './lib/render-gowning.js';
import { CLEANING_CLASSES, HOPPER_SIZE, renderHopper } from './lib/render-hopper.js';
import { Rng } from './lib/rng.js';
import { FIXTURE_SEEDS } from './lib/seeds.js';
import { writeDemoScenes } from './demo-scenes.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

interface SetSpec {
  readonly set: keyof typeof FIXTURE_SEEDS;
  readonly size: { readonly width: number; readonly height: number };
  readonly classes: readonly string[];
  readonly count: number;
  /** How many images carry a defect, violation or residue; chosen at random among `count`. */
  readonly flagged: number;
  readonly render: (seed: number, flagged: boolean, rng: Rng) => Promise<Rendered>;
}

const sets: readonly SetSpec[] = [
  {
    set: 'blister',
    size: BLISTER_SIZE,
    classes: BLISTER_CLASSES,
    count: 40,
    flagged: 11,
    render: (seed, flagged, rng) => renderBlister(seed, planPockets(rng, flagged ? (rng.chance(0.2) ? 2 : 1) : 0)),
  },
  {
    set: 'gowning',
    size: GOWNING_SIZE,
    classes: PPE_CLASSES,
    count: 24,
    flagged: 12,
    render: (seed, flagged, rng) => renderGowning(seed, planGowning(rng, flagged)),
  },
  {
    set: 'hopper',
    size: HOPPER_SIZE,
    classes: CLEANING_CLASSES,
    count: 12,
    flagged: 6,
    render: (seed, flagged) => renderHopper(seed, flagged),
  },
];

/** Compliant frames have everyone masked and gloved; violation frames break one or two rules. */
function planGowning(rng: Rng, violation: boolean): PersonPlan[] {
  const people: PersonPlan[] = Array.from({ length: rng.int(1, 3) }, () => ({ mask: true, gloves: [true, true] as const }));
  if (!violation) return people;
  const who = rng.int(0, people.length - 1);
  const kind = rng.pick(['mask', 'hand', 'both'] as const);
  const hand = rng.int(0, 1);
  people[who] = {
    mask: kind === 'hand',
    gloves: kind === 'mask' ? [true, true] : hand === 0 ? [false, true] : [true, false],
  };
  return people;
}

async function makeSet(spec: SetSpec, seedBase: number): Promise<void> {
  const dir = join(root, spec.set);
  await mkdir(dir, { recursive: true });
  for (const f of await readdir(dir)) await rm(join(dir, f));
  const planRng = new Rng(seedBase + 999);
  const flagged = new Set(planRng.shuffle([...Array(spec.count).keys()]).slice(0, spec.flagged));
  const images: ImageLabel[] = [];
  let bytes = 0;
  for (let i = 0; i < spec.count; i++) {
    const seed = seedBase + i;
    const file = `${spec.set}-${String(i).padStart(4, '0')}.jpg`;
    const r = await spec.render(seed, flagged.has(i), new Rng(seed + 500));
    await writeFile(join(dir, file), r.jpeg);
    bytes += r.jpeg.length;
    images.push({ file, seed, quality: r.quality, label: r.label, defects: r.defects, objects: r.objects });
  }
  const labels: FixtureSet = { set: spec.set, generator: 'scripts/make-fixtures.ts', ...spec.size, classes: spec.classes, images };
  await writeFile(join(dir, 'labels.json'), formatLabels(labels));
  console.log(`${spec.set}: ${spec.count} images, ${spec.flagged} flagged, ${(bytes / 1024).toFixed(0)} KiB`);
}

/** Indented JSON with each labelled object on one line, so diffs and reviews stay readable. */
function formatLabels(labels: FixtureSet): string {
  return `${JSON.stringify(labels, null, 1)
    .replace(/\{\s*"x": ([^,]+),\s*"y": ([^,]+),\s*"w": ([^,]+),\s*"h": ([^\s}]+)\s*\}/g, '{ "x": $1, "y": $2, "w": $3, "h": $4 }')
    .replace(/\{\s*"class": ("[^"]+"),\s*"box": (\{[^}]*\})(?:,\s*"pose": (-?\d+))?\s*\}/g, (_m, c: string, b: string, p?: string) =>
      p === undefined ? `{ "class": ${c}, "box": ${b} }` : `{ "class": ${c}, "box": ${b}, "pose": ${p} }`,
    )}\n`;
}

for (const spec of sets) await makeSet(spec, FIXTURE_SEEDS[spec.set]);
await writeDemoScenes(root);
