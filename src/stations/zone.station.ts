import type { ZoneStationConfig } from '../config/schema.js';
import type { Detection } from '../domain/detection.js';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import { Verdict } from '../domain/verdict.js';
import type { Frame } from '../domain/frame.js';
import type { Box } from '../domain/geometry.js';
import { Debouncer } from '../rules/debounce.js';
import { planFaceBlur, WHOLE_FRAME, type BlurPlan } from './face-blur.js';
import { inspectFrame, type Inspected } from './inspect.js';
import { PpeMonitor, type PpeFrame } from './ppe-monitor.js';
import { freeRunTimeoutMs, stationFps, Ticker, type Station, type StationDeps, type StationHealth } from './station.js';

/**
 * Continuous monitoring of a zone (PPE, safety). Every frame is recorded; a violation raises one
 * alarm only after it has persisted `raiseAfterMs`, and clears after `clearAfterMs` without it.
 * With `zones`, people are tracked and judged per zone: one alarm per person and episode, faces
 * blurred in evidence, and no evidence of frames where everyone complies (unless configured).
 * With privacy.blurFaces the live view gets each frame only after its faces are blurred, by the
 * same plan as its evidence (face model, else the station model's head boxes; see face-blur.ts).
 */
export class ZoneStation implements Station {
  readonly config: ZoneStationConfig;
  readonly #d: StationDeps;
  readonly #debounce: Debouncer;
  readonly #ppe: PpeMonitor | null;
  readonly #ticker: Ticker;
  #seq = 0;

  constructor(config: ZoneStationConfig, deps: StationDeps) {
    this.config = config;
    this.#d = deps;
    this.#debounce = new Debouncer(config.raiseAfterMs, config.clearAfterMs);
    this.#ppe = config.zones.length > 0 ? new PpeMonitor(config) : null;
    this.#ticker = new Ticker(1000 / stationFps(config), () => this.#tick());
  }

  async start(): Promise<void> {
    await this.#d.source.start();
    this.#ticker.start();
  }

  async stop(): Promise<void> {
    await this.#ticker.stop();
    await this.#d.source.stop();
  }

  health(): StationHealth {
    return { camera: this.#d.source.health(), model: this.#d.model.health.value };
  }

  async requestCheck(): Promise<null> {
    throw new LinesideError(ErrorCode.badRequest, `station "${this.config.id}" is a zone station; it monitors continuously`);
  }

  async #tick(): Promise<void> {
    const now = Date.now();
    const insp = await inspectFrame(
      this.config,
      this.#d.model,
      { triggerCount: ++this.#seq, partId: null, batchId: null, recipeIndex: null, startedAt: now },
      () => this.#d.source.grab({ timeoutMs: freeRunTimeoutMs(this.config) }),
    );
    // No frame: the camera supervisor reports it; a record per missing frame would only be noise.
    if (insp.frame === null) return;
    if (this.#ppe && insp.record.verdict !== Verdict.notInspected) return this.#tickZones(insp, now);
    const violations = insp.record.findings.filter((f) => f.effect === 'reject');
    const inspected = insp.record.verdict !== Verdict.notInspected;
    const transition = inspected ? this.#debounce.update(violations.length > 0, now) : null;
    // Without zones every finding box is blurred; a frame not inspected has no boxes: faces unknown.
    const keep = transition === 'raise';
    const plan = await this.#planBlur(insp.frame, inspected ? insp.record.findings.flatMap((f) => (f.box ? [f.box] : [])) : null, [], keep);
    const stored = await this.#d.recorder.commit(this.config, this.#withFaceBlur(insp, plan), null, { keepEvidence: keep, blur: plan?.boxes ?? [] });
    await this.#d.source.release?.(insp.frame);
    if (transition === 'raise') {
      const labels = [...new Set(violations.map((v) => v.label))].join(', ');
      this.#d.alarms.raise(this.config.id, 'ppeViolation', 'warning', `${labels} in ${this.config.name ?? this.config.id} for ${this.config.raiseAfterMs / 1000} s (inspection ${stored?.id ?? '?'})`);
    } else if (transition === 'clear') {
      this.#d.alarms.clear(this.config.id, 'ppeViolation');
    }
  }

  /** Zones: the verdict is the zones' (class rules only record), decided per tracked person. */
  async #tickZones(insp: Inspected, now: number): Promise<void> {
    const dets: Detection[] = insp.record.findings.flatMap((f) => (f.box ? [{ classId: 0, label: f.label, score: f.score, box: f.box }] : []));
    const frame: PpeFrame = this.#ppe!.update(dets, now);
    const worst = frame.findings[0];
    const record = {
      ...insp.record,
      verdict: worst ? Verdict.reject : Verdict.pass,
      rejectCode: worst?.rejectCode ?? 0,
      score: worst ? 1 : 0,
      reason: worst ? frame.findings.map((f) => f.rule).join('; ') : null,
      findings: [...insp.record.findings.map((f) => ({ ...f, effect: 'info' as const, rejectCode: 0 })), ...frame.findings],
    };
    const raised = frame.transitions.some((t) => t.kind === 'raise');
    const violating = worst !== undefined;
    // Privacy: a frame where everyone complies is not kept unless configured.
    const keep = raised || (this.config.privacy.storeCompliant && (this.config.evidence as readonly string[]).includes(record.verdict));
    const keepEvidence = keep && (violating || this.config.privacy.storeCompliant);
    const plan = await this.#planBlur(insp.frame!, frame.faces, frame.whole, keepEvidence);
    const stored = await this.#d.recorder.commit(this.config, this.#withFaceBlur({ ...insp, record }, plan), null, { keepEvidence, blur: plan?.boxes ?? [] });
    await this.#d.source.release?.(insp.frame!);
    for (const t of frame.transitions) {
      if (t.kind === 'raise') {
        this.#d.alarms.raise(this.config.id, 'ppeViolation', 'warning', `${t.subject} in zone ${t.zone} without ${t.missing.join(', ')} for ${this.config.raiseAfterMs / 1000} s (inspection ${stored?.id ?? '?'})`, t.subject);
      } else this.#d.alarms.clear(this.config.id, 'ppeViolation', t.subject);
    }
  }

  /**
   * What to blur in this frame, and the frame to the live view with exactly that blurred. Null
   * without privacy.blurFaces, and when the frame is neither stored (`stored`) nor watched on the
   * page: then no face model runs (a tiled face model costs more than the station's own). `faces`
   * null: the station model gave no boxes (frame not inspected), so without a face model the
   * whole frame is blurred.
   */
  async #planBlur(frame: Frame, faces: readonly Box[] | null, whole: readonly Box[], stored: boolean): Promise<BlurPlan | null> {
    const privacy = this.config.privacy;
    // Without blurFaces the camera shows every frame itself (no private live view).
    if (!privacy.blurFaces) return null;
    if (!stored && !this.#d.live?.liveWatched()) return null;
    const detector = this.#d.faces ?? null;
    const plan =
      faces === null && !detector ? { boxes: [WHOLE_FRAME], method: 'whole frame (not inspected: faces unknown)' } : await planFaceBlur(frame, privacy, detector, faces ?? [], whole);
    this.#d.live?.showLive(frame, plan.boxes);
    return plan;
  }

  /** The record says how faces were blurred, and names the face model's version among the models. */
  #withFaceBlur(insp: Inspected, plan: BlurPlan | null): Inspected {
    if (!plan) return insp;
    const key = this.config.privacy.faceModel;
    const faces = this.#d.faces;
    const modelVersions = key !== undefined && faces ? { ...insp.record.modelVersions, [key]: faces.versionTag } : insp.record.modelVersions;
    return { ...insp, record: { ...insp.record, faceBlur: plan.method, modelVersions } };
  }
}
