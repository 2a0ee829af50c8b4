import type { ZoneStationConfig } from '../config/schema.js';
import type { Detection, Finding } from '../domain/detection.js';
import type { Box } from '../domain/geometry.js';
import { Debouncer } from '../rules/debounce.js';
import { Tracker } from '../rules/tracker.js';
import { judgePeople, type Person } from '../rules/zones.js';

export interface PpeTransition {
  readonly kind: 'raise' | 'clear';
  /** Alarm subject: one alarm per tracked person and episode. */
  readonly subject: string;
  readonly zone: string | null;
  readonly missing: readonly string[];
}

export interface PpeFrame {
  readonly people: ReadonlyArray<Person & { readonly trackId: number }>;
  readonly findings: readonly Finding[];
  readonly transitions: readonly PpeTransition[];
  /** Regions to blur in this frame's evidence image: `faces` and `whole` together. */
  readonly blur: readonly Box[];
  /** The station model's face/head box of every person blurred by face (privacy.blurFaces). */
  readonly faces: readonly Box[];
  /** People blurred whole: compliant people in a violation frame (privacy.compliantPeople: person). */
  readonly whole: readonly Box[];
}

/**
 * Per-station PPE state: people tracked across frames, each with their own debouncer, so a
 * violation raises once per person after `raiseAfterMs` and clears after `clearAfterMs` of
 * compliance (or of absence, once the person has left).
 */
export class PpeMonitor {
  readonly #cfg: ZoneStationConfig;
  readonly #tracker: Tracker;
  readonly #episodes = new Map<number, { debounce: Debouncer; zone: string | null; missing: readonly string[] }>();

  constructor(cfg: ZoneStationConfig) {
    this.#cfg = cfg;
    this.#tracker = new Tracker(cfg.tracking);
  }

  update(dets: readonly Detection[], now: number): PpeFrame {
    const cfg = this.#cfg;
    const people = judgePeople(dets, cfg.ppe!, cfg.zones, cfg.privacy.faceShare);
    const { ids } = this.#tracker.update(people.map((p) => p.box));
    const tracked = people.map((p, i) => ({ ...p, trackId: ids[i]! }));
    const transitions: PpeTransition[] = [];
    const seen = new Set<number>();
    for (const p of tracked) {
      seen.add(p.trackId);
      const ep = this.#episodes.get(p.trackId) ?? { debounce: new Debouncer(cfg.raiseAfterMs, cfg.clearAfterMs), zone: null, missing: [] };
      this.#episodes.set(p.trackId, ep);
      const violating = p.missing.length > 0;
      if (violating) Object.assign(ep, { zone: p.zone, missing: p.missing });
      const t = ep.debounce.update(violating, now);
      if (t) transitions.push({ kind: t, subject: `person-${p.trackId}`, zone: ep.zone, missing: ep.missing });
    }
    // Unseen but still tracked: hold (a missed frame is not compliance). Gone: count as compliant until cleared.
    const live = new Set(this.#tracker.tracks.map((t) => t.id));
    for (const [id, ep] of this.#episodes) {
      if (seen.has(id) || live.has(id)) continue;
      const t = ep.debounce.update(false, now);
      if (t) transitions.push({ kind: t, subject: `person-${id}`, zone: ep.zone, missing: ep.missing });
      if (!ep.debounce.active) this.#episodes.delete(id);
    }
    const anyViolation = tracked.some((p) => p.missing.length > 0);
    const blur: Box[] = [];
    const faces: Box[] = [];
    const whole: Box[] = [];
    if (cfg.privacy.blurFaces) {
      for (const p of tracked) {
        const asPerson = p.missing.length === 0 && anyViolation && cfg.privacy.compliantPeople === 'person';
        (asPerson ? whole : faces).push(asPerson ? p.box : p.face);
        blur.push(asPerson ? p.box : p.face);
      }
    }
    const findings: Finding[] = tracked.flatMap((p) =>
      p.missing.map((item) => ({
        label: `no_${item}`,
        score: 1,
        box: p.box,
        rule: `zone:${p.zone} requires ${item} (person-${p.trackId})`,
        effect: 'reject' as const,
        rejectCode: cfg.ppe!.items[item]!.code ?? 20,
      })),
    );
    return { people: tracked, findings, transitions, blur, faces, whole };
  }
}
