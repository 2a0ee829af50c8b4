import type { ZoneStationConfig } from '../config/schema.js';
import type { Detection } from '../domain/detection.js';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import { Verdict } from '../domain/verdict.js';
import { Debouncer } from '../rules/debounce.js';
import { inspectFrame, type Inspected } from './inspect.js';
import { PpeMonitor, type PpeFrame } from './ppe-monitor.js';
import { freeRunTimeoutMs, stationFps, Ticker, type Station, type StationDeps, type StationHealth } from './station.js';

/**
 * Continuous monitoring of a zone (PPE, safety). Every frame is recorded; a violation raises one
 * alarm only after it has persisted `raiseAfterMs`, and clears after `clearAfterMs` without it.
 * With `zones`, people are tracked and judged per zone: one alarm per person and episode, faces
 * blurred in evidence, and no evidence of frames where everyone complies (unless configured).
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
    const transition = insp.record.verdict === Verdict.notInspected ? null : this.#debounce.update(violations.length > 0, now);
    const blur = this.config.privacy.blurFaces ? insp.record.findings.flatMap((f) => (f.box ? [f.box] : [])) : [];
    const stored = await this.#d.recorder.commit(this.config, insp, null, { keepEvidence: transition === 'raise', blur });
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
    const stored = await this.#d.recorder.commit(this.config, { ...insp, record }, null, { keepEvidence: keep && (violating || this.config.privacy.storeCompliant), blur: frame.blur });
    await this.#d.source.release?.(insp.frame!);
    for (const t of frame.transitions) {
      if (t.kind === 'raise') {
        this.#d.alarms.raise(this.config.id, 'ppeViolation', 'warning', `${t.subject} in zone ${t.zone} without ${t.missing.join(', ')} for ${this.config.raiseAfterMs / 1000} s (inspection ${stored?.id ?? '?'})`, t.subject);
      } else this.#d.alarms.clear(this.config.id, 'ppeViolation', t.subject);
    }
  }
}
