import { iou, type Box } from '../domain/geometry.js';
import type { TrackingConfig } from './ppe.schema.js';

export interface Track {
  readonly id: number;
  box: Box;
  /** Frames in a row this track was not matched. */
  missed: number;
}

const centre = (b: Box): [number, number] => [b.x + b.w / 2, b.y + b.h / 2];

/**
 * Greedy IoU tracker with a centroid fallback: each frame's boxes continue the best-matching
 * tracks; a track survives `maxMissedFrames` frames unseen, so one missed detection does not
 * start a new person (and a new alarm episode).
 */
export class Tracker {
  readonly #cfg: TrackingConfig;
  #tracks: Track[] = [];
  #nextId = 1;

  constructor(cfg: TrackingConfig) {
    this.#cfg = cfg;
  }

  /** Track ids for `boxes` (same order), and the ids of tracks that ended this frame. */
  update(boxes: readonly Box[]): { ids: number[]; ended: number[] } {
    const pairs: Array<{ t: number; b: number; cost: number }> = [];
    this.#tracks.forEach((tr, t) =>
      boxes.forEach((b, bi) => {
        const o = iou(tr.box, b);
        if (o >= this.#cfg.minIou && o > 0) pairs.push({ t, b: bi, cost: 1 - o });
        else {
          const [ax, ay] = centre(tr.box);
          const [bx, by] = centre(b);
          const jump = Math.hypot(ax - bx, ay - by) / Math.max(1, Math.hypot(tr.box.w, tr.box.h));
          if (jump <= this.#cfg.maxJump) pairs.push({ t, b: bi, cost: 1 + jump });
        }
      }),
    );
    pairs.sort((a, b) => a.cost - b.cost);
    const ids: number[] = new Array<number>(boxes.length).fill(0);
    const usedT = new Set<number>();
    for (const p of pairs) {
      if (usedT.has(p.t) || ids[p.b] !== 0) continue;
      usedT.add(p.t);
      const tr = this.#tracks[p.t]!;
      tr.box = boxes[p.b]!;
      tr.missed = 0;
      ids[p.b] = tr.id;
    }
    const ended: number[] = [];
    this.#tracks = this.#tracks.filter((tr, t) => {
      if (usedT.has(t)) return true;
      tr.missed++;
      if (tr.missed > this.#cfg.maxMissedFrames) {
        ended.push(tr.id);
        return false;
      }
      return true;
    });
    boxes.forEach((b, bi) => {
      if (ids[bi] !== 0) return;
      const tr = { id: this.#nextId++, box: b, missed: 0 };
      this.#tracks.push(tr);
      ids[bi] = tr.id;
    });
    return { ids, ended };
  }

  get tracks(): readonly Track[] {
    return this.#tracks;
  }
}
