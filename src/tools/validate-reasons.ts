/**
 * What `lineside validate` needs beyond a single anomaly score for supervised models (detectors and
 * classifiers): which classes are defects, the operating threshold (the station's reject threshold
 * where a station is named), each image's score (its most confident defect class) and whether that
 * class is the right reason for the folder the image came from.
 */
import type { ModelOutput } from '../domain/detection.js';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import { loadConfigFile } from '../config/load.js';
import type { Manifest } from '../vision/manifest.js';

/** Lowest detection score decoded while validating, so the ROC curve sees scores below the operating point. */
export const SCORE_FLOOR = 0.01;

/** Where the threshold and reject codes come from: a station of a config file. */
export interface StationRef {
  readonly config: string;
  readonly station: string;
}

export interface SupervisedSetup {
  readonly defectClasses: readonly string[];
  /** Reject code per defect class (from the station's rules), when a station is named. */
  readonly codes: Readonly<Record<string, number>>;
  /** Folder → classes that are the right reason to reject an image of that folder. */
  readonly reasons: Readonly<Record<string, readonly string[]>>;
  readonly threshold: { readonly value: number; readonly why: string };
  readonly station?: { readonly config: string; readonly id: string };
}

export function supervisedSetup(manifest: Manifest, defects: readonly string[], station: StationRef | undefined, reasonsIn: Readonly<Record<string, readonly string[]>> = {}): SupervisedSetup {
  const reasons: Record<string, readonly string[]> = {};
  for (const folder of defects) {
    const expected = reasonsIn[folder] ?? (manifest.classes.includes(folder) ? [folder] : []);
    const unknown = expected.filter((c) => !manifest.classes.includes(c));
    if (unknown.length > 0) throw new LinesideError(ErrorCode.badRequest, `reason for folder ${folder}: ${unknown.join(', ')} is not a class of ${manifest.name} (${manifest.classes.join(', ')})`);
    // A defect type the model has no class for still counts for recall (any defect class may catch
    // it) but can never be rejected for the right reason.
    reasons[folder] = expected;
  }
  if (Object.values(reasons).every((r) => r.length === 0) && !station) {
    throw new LinesideError(ErrorCode.badRequest, `no defect folder of the dataset is a class of ${manifest.name} (${manifest.classes.join(', ')}): name folders after classes, map them with --reason FOLDER=CLASS, or name a --station`);
  }
  if (!station) {
    const defectClasses = manifest.classes.filter((c) => Object.values(reasons).some((r) => r.includes(c)));
    return {
      defectClasses,
      codes: {},
      reasons,
      threshold: { value: manifest.thresholds.score, why: `the manifest's score threshold (no --station named); defect classes are those the folders map to: ${defectClasses.join(', ')}` },
    };
  }
  const cfg = loadConfigFile(station.config);
  const st = cfg.stations.find((s) => s.id === station.station);
  if (!st) throw new LinesideError(ErrorCode.badRequest, `${station.config} has no station "${station.station}" (stations: ${cfg.stations.map((s) => s.id).join(', ')})`);
  const rules = Object.entries(st.rules.classes).filter(([c, r]) => r.reject !== undefined && manifest.classes.includes(c));
  if (rules.length === 0) throw new LinesideError(ErrorCode.badRequest, `station "${st.id}" rejects on none of ${manifest.name}'s classes`);
  const defectClasses = manifest.classes.filter((c) => rules.some(([k]) => k === c));
  const codes = Object.fromEntries(rules.flatMap(([c, r]) => (r.code === undefined ? [] : [[c, r.code]])));
  const values = [...new Set(rules.map(([, r]) => r.reject!))].sort((a, b) => a - b);
  const list = rules.map(([c, r]) => `${c} ${r.reject}${r.code === undefined ? '' : ` (code ${r.code})`}`).join(', ');
  return {
    defectClasses,
    codes,
    reasons,
    station: { config: station.config, id: st.id },
    threshold: {
      value: values[0]!,
      why:
        `the reject threshold of station "${st.id}" in ${station.config} (its base rules, not a recipe's): ${list}` +
        (values.length > 1 ? `; the classes' thresholds differ, so the lowest is used for the image score` : '') +
        '; not tuned on this validation set',
    },
  };
}

export interface ImageReason {
  /** Highest defect-class confidence in the image (0 when no defect class scored above the floor). */
  readonly score: number;
  /** The defect class with that confidence (none when nothing scored). */
  readonly topClass: string | null;
}

/** Detector: the most confident detection of a defect class; classifier: the most probable defect class. */
export function imageReason(output: ModelOutput, defectClasses: readonly string[]): ImageReason {
  let score = 0;
  let topClass: string | null = null;
  const consider = (label: string, s: number): void => {
    if (defectClasses.includes(label) && s > score) {
      score = s;
      topClass = label;
    }
  };
  if (output.kind === 'detections') for (const d of output.detections) consider(d.label, d.score);
  else for (const s of output.scores) consider(s.label, s.score);
  return { score, topClass };
}

/** True when `topClass` is a right reason for `folder`: one of its classes, or a class the station rejects with the same code. */
export function rightReason(setup: SupervisedSetup, folder: string, topClass: string | null | undefined): boolean {
  if (topClass === null || topClass === undefined) return false;
  const expected = setup.reasons[folder] ?? [];
  if (expected.includes(topClass)) return true;
  const code = setup.codes[topClass];
  return code !== undefined && expected.some((c) => setup.codes[c] === code);
}

export interface ReasonReport {
  /** Classes that count as the right reason for this folder (none: the model has no class for this defect type). */
  readonly expected: readonly string[];
  readonly note?: string;
  /** Share of the folder's images whose most confident defect class is a right reason. */
  readonly reasonAccuracy: number;
  /** Share of the folder's images rejected (score ≥ threshold) and for a right reason. */
  readonly rejectedForRightReason: number;
  /** How often each defect class was the most confident one ("none": no defect class scored). */
  readonly topClassCounts: Readonly<Record<string, number>>;
}

export function reasonReports(setup: SupervisedSetup, images: ReadonlyArray<{ readonly kind: string; readonly score: number; readonly topClass?: string | null }>, threshold: number): Record<string, ReasonReport> {
  return Object.fromEntries(
    Object.entries(setup.reasons).map(([folder, expected]) => {
      const set = images.filter((i) => i.kind === folder);
      const right = set.filter((i) => rightReason(setup, folder, i.topClass));
      const counts: Record<string, number> = {};
      for (const i of set) counts[i.topClass ?? 'none'] = (counts[i.topClass ?? 'none'] ?? 0) + 1;
      const topClassCounts = Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
      const note = expected.length === 0 ? { note: 'the model has no class named like this folder or mapped to it (--reason): no reason can be right' } : {};
      return [folder, { expected, ...note, reasonAccuracy: right.length / set.length, rejectedForRightReason: right.filter((i) => i.score >= threshold).length / set.length, topClassCounts }];
    }),
  );
}
