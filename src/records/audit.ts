/**
 * The audit trail's contract (21 CFR Part 11 §11.10(e), EU GMP Annex 11 §9): who did what to which
 * record, when, the value before and after, and why. Components that change GMP-relevant state take
 * an `AuditLog` and append one entry per change; the trail itself (append-only table, keyed hash
 * chain, `lineside verify-audit`) implements it.
 */

export const Role = { viewer: 'viewer', operator: 'operator', supervisor: 'supervisor', qa: 'qa', admin: 'admin' } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Who acted: a signed-in user, or the appliance itself (retention, start-up, PLC-driven changes). */
export interface Actor {
  readonly user: string;
  readonly role: Role | 'system';
}

export const SYSTEM: Actor = { user: 'system', role: 'system' };

/** Every audited action. Add here, never reuse a name for something else: old rows keep their meaning. */
export const AuditAction = [
  'login',
  'loginFailed',
  'logout',
  'userLocked',
  'userCreated',
  'userChanged',
  'passwordChanged',
  'configChanged',
  'recipeChanged',
  'thresholdChanged',
  'modelActivated',
  'alarmAcknowledged',
  'alarmShelved',
  'alarmUnshelved',
  'resultReviewed',
  'exported',
  'evidenceDeleted',
  'batchHeld',
  'batchReleased',
  'signed',
  'backupMade',
  'applianceStarted',
  'checkRequested',
  'restored',
] as const;
export type AuditAction = (typeof AuditAction)[number];

export interface AuditEntry {
  readonly actor: Actor;
  readonly action: AuditAction;
  readonly objectType: string;
  readonly objectId: string;
  readonly oldValue?: unknown;
  readonly newValue?: unknown;
  readonly reason?: string;
  /** The client's address for actions from the web page; absent for the appliance's own. */
  readonly client?: string;
}

/** An entry as stored: its place in the chain, UTC time (ms), and the chain's hashes (hex). */
export interface AuditRecord extends AuditEntry {
  readonly seq: number;
  readonly at: number;
  readonly prevHash: string;
  readonly hash: string;
}

export interface AuditLog {
  /** Append one entry, committed before this returns; returns it as stored. */
  append(entry: AuditEntry): AuditRecord;
  /** Entries with `from <= at < to` (ms), in sequence order. */
  between(from: number, to: number): AuditRecord[];
}
