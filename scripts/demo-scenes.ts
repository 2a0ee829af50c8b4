/**
 * The demo's zone and cleaning scenes (written by npm run fixtures after the fixture sets). The
 * fixture sets are independent images (every gowning frame a different room, every hopper view a
 * different hopper): right for scoring a model, wrong for a camera that stays put. These are what
 * a fixed camera sees over time: one gowning room with people walking through it, and one hopper
 * before and after cleaning, with its clean reference. Seeded, so a re-run writes the same bytes.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { LabelledObject } from './lib/labels.js';
import { renderGowning, type PlacedPerson } from './lib/render-gowning.js';
import { renderHopper } from './lib/render-hopper.js';

/** One room and one hopper: seeds inside the fixture ranges that no fixture set uses. */
const ROOM_SEED = 2_900;
const HOPPER_SEED = 3_900;

/** Frames per second the demo config replays the gowning walk at (the timeline below is in frames). */
export const GOWNING_WALK_FPS = 2;
/** The clean side of the room, where gloves and a mask are required (image pixels). */
export const CLEAN_SIDE: readonly (readonly [number, number])[] = [[330, 250], [640, 250], [640, 360], [330, 360]];

interface WalkFrame {
  readonly file: string;
  readonly people: readonly (PlacedPerson & { readonly who: string })[];
  readonly objects: readonly LabelledObject[];
}

const step = (from: number, to: number, i: number, n: number): number => Math.round(from + ((to - from) * Math.min(i, n)) / n);

/**
 * 66 frames (33 s at 2 fps). A, gowned, walks to the clean side and works there. B comes in with
 * bare hands, stays by the bench (outside the zone: not judged), walks into the clean side
 * bare-handed (a violation for about 5 s), goes back to the bench, gloves up, comes back in, and
 * both leave; the room is empty for the last frames, so every track ends before the loop restarts.
 */
function walkPlan(f: number): (PlacedPerson & { readonly who: string })[] {
  const people: (PlacedPerson & { readonly who: string })[] = [];
  const a = f < 12 ? step(40, 560, f, 11) : f < 50 ? 560 + ((f % 4) - 1.5) * 4 : step(560, 720, f - 50, 4);
  if (a < 690) people.push({ who: 'A', mask: true, gloves: [true, true], x: a });
  if (f >= 4 && f < 61) {
    const gloved = f >= 38;
    let x: number;
    if (f < 15) x = 90 + (f % 3) * 6;
    else if (f < 21) x = step(100, 380, f - 15, 5);
    else if (f < 31) x = 380 + ((f % 4) - 1.5) * 4;
    else if (f < 36) x = step(380, 120, f - 31, 4);
    else if (f < 42) x = 120 + (f % 3) * 6;
    else if (f < 48) x = step(120, 380, f - 42, 5);
    else if (f < 54) x = 380;
    else x = step(380, 700, f - 54, 6);
    if (x < 690) people.push({ who: 'B', mask: true, gloves: [gloved, gloved], x });
  }
  return people;
}

async function writeGowningWalk(dir: string): Promise<void> {
  await clear(dir);
  const frames: WalkFrame[] = [];
  for (let f = 0; f < 66; f++) {
    const people = walkPlan(f);
    const r = await renderGowning(ROOM_SEED, [], people);
    const file = `walk-${String(f).padStart(4, '0')}.jpg`;
    await writeFile(join(dir, file), r.jpeg);
    frames.push({ file, people, objects: r.objects });
  }
  const truth = { scene: 'gowning-walk', generator: 'scripts/make-fixtures.ts', seed: ROOM_SEED, fps: GOWNING_WALK_FPS, cleanSide: CLEAN_SIDE };
  await writeFile(join(dir, 'labels.json'), oneLinePerItem(truth, 'frames', frames));
  console.log(`gowning-walk: ${frames.length} frames of one room`);
}

/** Light on the hopper changes a little from view to view (gain, offset). */
const LIGHT: readonly (readonly [number, number])[] = [[1, 0], [1.03, 1], [0.97, -1], [1.02, 2], [0.98, 0], [1.04, -2]];

/**
 * One hopper, HOP-1: the clean reference (fixtures/references/hop-1-clean.jpg), then twelve views
 * as the camera sees it: six with residue (before cleaning), six clean (after), each under slightly
 * different light. The demo replays them in a loop, so a check sees it dirty, clean or in between.
 */
async function writeHopperViews(dir: string, refDir: string): Promise<void> {
  await clear(dir);
  await mkdir(refDir, { recursive: true });
  const clean = await renderHopper(HOPPER_SEED, false);
  const dirty = await renderHopper(HOPPER_SEED, true);
  await writeFile(join(refDir, 'hop-1-clean.jpg'), clean.jpeg);
  const views: { file: string; label: string; objects: readonly LabelledObject[] }[] = [];
  for (const [k, state] of [dirty, clean].entries()) {
    for (const [i, [gain, offset]] of LIGHT.entries()) {
      const file = `hop-1-${String(k * LIGHT.length + i).padStart(4, '0')}.jpg`;
      await writeFile(join(dir, file), await sharp(state.jpeg).linear(gain, offset).jpeg({ quality: 90 }).toBuffer());
      views.push({ file, label: state.label, objects: state.objects });
    }
  }
  const truth = { scene: 'hopper-views', generator: 'scripts/make-fixtures.ts', seed: HOPPER_SEED, equipment: 'HOP-1', reference: '../references/hop-1-clean.jpg' };
  await writeFile(join(dir, 'labels.json'), oneLinePerItem(truth, 'views', views));
  console.log(`hopper-views: ${views.length} views of HOP-1 and its clean reference`);
}

/** JSON with the header fields first and each frame or view on one line, so diffs stay readable. */
function oneLinePerItem(header: Record<string, unknown>, key: string, items: readonly unknown[]): string {
  const head = JSON.stringify(header, null, 1).replace(/\n\}$/, '');
  return `${head},\n "${key}": [\n${items.map((i) => `  ${JSON.stringify(i)}`).join(',\n')}\n ]\n}\n`;
}

async function clear(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const f of await readdir(dir)) await rm(join(dir, f));
}

export async function writeDemoScenes(fixtures: string): Promise<void> {
  await writeGowningWalk(join(fixtures, 'gowning-walk'));
  await writeHopperViews(join(fixtures, 'hopper-views'), join(fixtures, 'references'));
}
