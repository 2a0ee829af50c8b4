import { alarmWord, hasPlcBit, type AlarmCategory, type AlarmEvent, type AlarmSeverity } from '../domain/alarm.js';
import { ErrorCode, LinesideError, reasonOf } from '../domain/errors.js';
import type { LinesideEvents } from '../domain/events.js';
import type { TypedEmitter } from '../domain/typed-emitter.js';
import type { Logger } from '../observability/logger.js';
import { SYSTEM, type Actor, type AuditLog } from '../records/audit.js';
import type { AlarmHistoryQuery, AlarmRepository, AlarmRow, AlarmWithHistory } from '../store/alarm.repository.js';

/** Station id for alarms that concern the whole appliance (they set a bit in every station's word). */
export const APPLIANCE = '*';

/** Source id of a user's login lock-out alarm (one alarm per locked-out user). */
export function lockoutSource(user: string): string {
  return `user:${user}`;
}

const MAX_TEXT = 500;

function sourceOf(stationId: string, subject: string | undefined): string {
  return subject === undefined ? stationId : `${stationId}/${subject}`;
}

export type AlarmStore = Pick<AlarmRepository, 'raise' | 'clear' | 'acknowledge' | 'shelve' | 'unshelve' | 'get' | 'listed' | 'shelved' | 'history'>;

/** An alarm as the page lists it. */
export interface ActiveAlarm extends AlarmRow {
  /** `active`: the condition is present; `cleared`: it has gone but nobody acknowledged it yet. */
  condition: 'active' | 'cleared';
  acknowledged: boolean;
  shelved: boolean;
}

export interface AlarmCenterDeps {
  readonly repo: AlarmStore;
  readonly audit: Pick<AuditLog, 'append'>;
  readonly bus: TypedEmitter<LinesideEvents>;
  readonly logger: Logger;
  readonly stations: readonly string[];
  /** Longest shelve allowed (ms). */
  readonly maxShelveMs: number;
}

/**
 * Raises and clears alarms (one active alarm per source and category: no floods), and carries them
 * through their life: acknowledged by a person with a comment, shelved with a reason until a set
 * time (unshelved by the appliance at expiry). Every transition is in the records and on the bus;
 * acknowledging and shelving are audited. The PLC's AlarmWord follows the condition only: a shelved
 * or unacknowledged alarm whose condition is present keeps its bit (shelving hides an alarm from
 * the page, never from the line).
 */
export class AlarmCenter {
  readonly #d: AlarmCenterDeps;
  readonly #active = new Map<string, Set<AlarmCategory>>();
  readonly #wordListeners: Array<(stationId: string, word: number) => void> = [];
  #expiry: NodeJS.Timeout | null = null;

  constructor(deps: AlarmCenterDeps) {
    this.#d = deps;
  }

  /** Unshelve what expired while the appliance was down; watch the rest. */
  start(): void {
    this.#unshelveExpired();
  }

  stop(): void {
    if (this.#expiry) clearTimeout(this.#expiry);
    this.#expiry = null;
  }

  /**
   * `subject` makes one alarm per subject of a station (a tracked person: `person-7`); it is
   * recorded as source `<station>/<subject>` and sets the station's AlarmWord bit.
   */
  raise(stationId: string, category: AlarmCategory, severity: AlarmSeverity, message: string, subject?: string): void {
    stationId = sourceOf(stationId, subject);
    const set = this.#active.get(stationId) ?? new Set();
    if (set.has(category)) return;
    set.add(category);
    this.#active.set(stationId, set);
    const at = Date.now();
    // The bit goes to the PLC even if the record cannot be written (fail safe); the failure is logged.
    const row = this.#store(() => this.#d.repo.raise(stationId, category, severity, message, at), stationId, category);
    this.#d.logger.warn({ stationId, category, severity, alarm: message, alarmId: row?.id }, 'alarm raised');
    this.#emit({ alarmId: row?.id, stationId, category, state: 'raised', severity, message, at });
    this.#publish(stationId, category);
  }

  clear(stationId: string, category: AlarmCategory, subject?: string): void {
    stationId = sourceOf(stationId, subject);
    const set = this.#active.get(stationId);
    if (!set?.delete(category)) return;
    const at = Date.now();
    const row = this.#store(() => this.#d.repo.clear(stationId, category, at), stationId, category);
    this.#d.logger.info({ stationId, category, alarmId: row?.id }, 'alarm cleared');
    this.#emit({ alarmId: row?.id, stationId, category, state: 'cleared', severity: row?.severity ?? 'info', message: `${category} cleared`, at });
    this.#publish(stationId, category);
  }

  /** A user's account locked after failed logins (the users' `onLockout`): a page alarm, no PLC bit. */
  userLockedOut(user: string): void {
    this.raise(lockoutSource(user), 'loginLockout', 'warning', `user "${user}" locked out after repeated failed logins or signatures`);
  }

  /** The account was unlocked by an administrator: the lock-out condition is over. */
  userUnlocked(user: string): void {
    this.clear(lockoutSource(user), 'loginLockout');
  }

  isActive(stationId: string, category: AlarmCategory): boolean {
    return this.#active.get(stationId)?.has(category) ?? false;
  }

  /** The station's AlarmWord: its own alarms plus the appliance-wide ones, shelved or not. */
  word(stationId: string): number {
    const own = [...this.#active].filter(([src]) => src === stationId || src.startsWith(`${stationId}/`)).flatMap(([, set]) => [...set]);
    return alarmWord([...own, ...(this.#active.get(APPLIANCE) ?? [])]);
  }

  onWord(listener: (stationId: string, word: number) => void): void {
    this.#wordListeners.push(listener);
  }

  /**
   * The active list, oldest first: alarms whose condition is present, and cleared ones nobody has
   * acknowledged yet. Shelved alarms are left out unless asked for.
   */
  active(opts: { includeShelved?: boolean } = {}): ActiveAlarm[] {
    const now = Date.now();
    return this.#d.repo
      .listed()
      .map((r) => ({ ...r, condition: r.clearedAt === null ? ('active' as const) : ('cleared' as const), acknowledged: r.ackedAt !== null, shelved: r.shelvedUntil !== null && r.shelvedUntil > now }))
      .filter((a) => opts.includeShelved || !a.shelved);
  }

  /** Every alarm with a transition in the window, newest first, each with its whole history. */
  history(q: AlarmHistoryQuery): AlarmWithHistory[] {
    if (!(q.from < q.to)) throw new LinesideError(ErrorCode.badRequest, `alarm history: "from" (${q.from}) must be before "to" (${q.to})`);
    return this.#d.repo.history(q);
  }

  /** A person acknowledges an alarm, with a comment (required). Audited `alarmAcknowledged`. */
  acknowledge(id: number, actor: Actor, comment: string, client?: string): AlarmRow {
    const text = this.#text('acknowledging', id, actor, comment, 'comment');
    const at = Date.now();
    const row = this.#d.repo.acknowledge(id, actor, text, at, (before) =>
      this.#d.audit.append({
        actor,
        action: 'alarmAcknowledged',
        objectType: 'alarm',
        objectId: String(id),
        oldValue: { acknowledged: false, condition: before.clearedAt === null ? 'active' : 'cleared' },
        newValue: { acknowledged: true, at: new Date(at).toISOString() },
        reason: text,
        ...(client === undefined ? {} : { client }),
      }),
    );
    this.#d.logger.info({ alarmId: id, stationId: row.stationId, category: row.category, by: actor.user }, 'alarm acknowledged');
    this.#emit({ alarmId: id, stationId: row.stationId, category: row.category, state: 'acknowledged', severity: row.severity, message: row.message, at, by: actor.user, comment: text });
    return row;
  }

  /**
   * Hide an alarm from the page until `untilMs` (its PLC bit stays). Needs a reason; at most the
   * configured longest shelve. Shelving a shelved alarm again sets the new expiry. Audited `alarmShelved`.
   */
  shelve(id: number, actor: Actor, reason: string, untilMs: number, client?: string): AlarmRow {
    const text = this.#text('shelving', id, actor, reason, 'reason');
    const at = Date.now();
    if (!Number.isFinite(untilMs) || untilMs <= at) {
      throw new LinesideError(ErrorCode.badRequest, `shelving alarm ${id}: the expiry must be in the future (got ${Number.isFinite(untilMs) ? new Date(untilMs).toISOString() : String(untilMs)})`);
    }
    if (untilMs - at > this.#d.maxShelveMs) {
      throw new LinesideError(ErrorCode.badRequest, `shelving alarm ${id}: at most ${Math.round(this.#d.maxShelveMs / 60_000)} minutes (alarms.maxShelveMinutes)`);
    }
    const row = this.#d.repo.shelve(id, actor, text, untilMs, at, (before) =>
      this.#d.audit.append({
        actor,
        action: 'alarmShelved',
        objectType: 'alarm',
        objectId: String(id),
        oldValue: { shelvedUntil: before.shelvedUntil === null ? null : new Date(before.shelvedUntil).toISOString() },
        newValue: { shelvedUntil: new Date(untilMs).toISOString() },
        reason: text,
        ...(client === undefined ? {} : { client }),
      }),
    );
    this.#d.logger.info({ alarmId: id, stationId: row.stationId, category: row.category, by: actor.user, until: new Date(untilMs).toISOString() }, 'alarm shelved');
    this.#emit({ alarmId: id, stationId: row.stationId, category: row.category, state: 'shelved', severity: row.severity, message: row.message, at, by: actor.user, comment: text, until: untilMs });
    this.#schedule();
    return row;
  }

  /** Put a shelved alarm back on the page before its expiry. Audited `alarmUnshelved`. */
  unshelve(id: number, actor: Actor, reason: string, client?: string): AlarmRow {
    const text = this.#text('unshelving', id, actor, reason, 'reason');
    const row = this.#unshelve(id, actor, text, client);
    if (!row) throw new LinesideError(ErrorCode.badRequest, `alarm ${id} is not shelved`);
    this.#schedule();
    return row;
  }

  #unshelve(id: number, actor: Actor, reason: string, client?: string): AlarmRow | null {
    const at = Date.now();
    const row = this.#d.repo.unshelve(id, actor, reason, at, (before) =>
      this.#d.audit.append({
        actor,
        action: 'alarmUnshelved',
        objectType: 'alarm',
        objectId: String(id),
        oldValue: { shelvedUntil: new Date(before.shelvedUntil!).toISOString(), shelvedBy: before.shelvedBy },
        newValue: { shelvedUntil: null },
        reason,
        ...(client === undefined ? {} : { client }),
      }),
    );
    if (!row) return null;
    this.#d.logger.info({ alarmId: id, stationId: row.stationId, category: row.category, by: actor.user, reason }, 'alarm unshelved');
    this.#emit({ alarmId: id, stationId: row.stationId, category: row.category, state: 'unshelved', severity: row.severity, message: row.message, at, by: actor.user, comment: reason });
    return row;
  }

  /** Unshelve every expired shelve (as the appliance), then wait for the next expiry. */
  #unshelveExpired(): void {
    const now = Date.now();
    for (const a of this.#d.repo.shelved()) {
      if (a.shelvedUntil! > now) continue;
      try {
        this.#unshelve(a.id, SYSTEM, `shelve expired (was until ${new Date(a.shelvedUntil!).toISOString()})`);
      } catch (e) {
        // Left shelved in the records; retried at the next expiry check rather than lost.
        this.#d.logger.error({ alarmId: a.id, err: reasonOf(e) }, 'expired shelve could not be ended');
      }
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#expiry) clearTimeout(this.#expiry);
    this.#expiry = null;
    const next = Math.min(...this.#d.repo.shelved().map((a) => a.shelvedUntil!));
    if (!Number.isFinite(next)) return;
    // Re-checked at least every minute, so a failed unshelve is retried and clock steps are caught.
    const delay = Math.min(Math.max(next - Date.now(), 0), 60_000);
    this.#expiry = setTimeout(() => this.#unshelveExpired(), delay);
    this.#expiry.unref();
  }

  #text(what: string, id: number, actor: Actor, text: string, name: string): string {
    if (actor.role === 'system') throw new LinesideError(ErrorCode.badRequest, `${what} alarm ${id}: must be done by a signed-in person, not by the appliance`);
    const t = text.trim();
    if (t.length === 0) throw new LinesideError(ErrorCode.badRequest, `${what} alarm ${id}: a ${name} is required`);
    if (t.length > MAX_TEXT) throw new LinesideError(ErrorCode.badRequest, `${what} alarm ${id}: the ${name} is longer than ${MAX_TEXT} characters`);
    return t;
  }

  #store<T>(write: () => T, stationId: string, category: AlarmCategory): T | null {
    try {
      return write();
    } catch (e) {
      this.#d.logger.error({ stationId, category, err: reasonOf(e) }, 'alarm transition could not be recorded');
      return null;
    }
  }

  #emit(e: AlarmEvent): void {
    this.#d.bus.emit('alarm', e);
  }

  #publish(source: string, category: AlarmCategory): void {
    if (!hasPlcBit(category)) return;
    const stationId = source.split('/')[0]!;
    const targets = stationId === APPLIANCE ? this.#d.stations : this.#d.stations.includes(stationId) ? [stationId] : [];
    for (const s of targets) for (const l of this.#wordListeners) l(s, this.word(s));
  }
}
