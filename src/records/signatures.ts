import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Db } from '../store/db.js';
import type { AuditLog, Role } from './audit.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import type { User, UserDirectory } from './users.js';

/** What a signature means (21 CFR 11.50): shown with the printed name and time wherever it appears. */
export const SignatureMeaning = ['reviewed', 'approved', 'verified', 'responsible'] as const;
export type SignatureMeaning = (typeof SignatureMeaning)[number];

/**
 * Who may sign with which meaning. Roles are not a ladder: an operator verifies (e.g. the second
 * check of a cleaning) but does not approve; an admin manages users and signs only as responsible.
 */
export const SIGNING_ROLES = {
  reviewed: ['supervisor', 'qa'],
  approved: ['supervisor', 'qa'],
  verified: ['operator', 'supervisor', 'qa'],
  responsible: ['operator', 'supervisor', 'qa', 'admin'],
} as const satisfies Record<SignatureMeaning, readonly Role[]>;

/** Whether `role` may sign with `meaning`. */
export function maySign(role: Role, meaning: SignatureMeaning): boolean {
  return (SIGNING_ROLES[meaning] as readonly Role[]).includes(role);
}

/** A signable record type's canonical content by id, or undefined if there is no such record. */
export type RecordContent = (recordId: string) => unknown;

/** What a signature's `contentSha256` is computed over: the record's type, id and canonical content. */
export function recordHash(recordType: string, recordId: string, content: unknown): string {
  return sha256Hex(canonicalJson({ recordType, recordId, content }));
}

export interface Signature {
  readonly id: number;
  readonly recordType: string;
  readonly recordId: string;
  readonly meaning: SignatureMeaning;
  readonly username: string;
  readonly printedName: string;
  readonly role: Role;
  /** UTC, ms since the epoch. */
  readonly signedAt: number;
  /** SHA-256 of the record's canonical content at the moment of signing. */
  readonly contentSha256: string;
}

/** A signature as shown: `valid` is false when the record no longer hashes as it did when signed. */
export interface SignatureView extends Signature {
  readonly valid: boolean;
  readonly invalidReason?: string;
}

interface SignatureRow {
  id: number;
  record_type: string;
  record_id: string;
  meaning: SignatureMeaning;
  username: string;
  printed_name: string;
  role: Role;
  signed_at: number;
  content_sha256: string;
}

const toSignature = (r: SignatureRow): Signature => ({
  id: r.id,
  recordType: r.record_type,
  recordId: r.record_id,
  meaning: r.meaning,
  username: r.username,
  printedName: r.printed_name,
  role: r.role,
  signedAt: r.signed_at,
  contentSha256: r.content_sha256,
});

/**
 * Electronic signatures: the signer re-enters the password at the moment of signing (a wrong one
 * counts toward lock-out); the signature row holds the printed name, UTC time, meaning and the
 * SHA-256 of the signed record's canonical content, and is never changed.
 */
export class SignatureService {
  readonly #db: Db;
  readonly #users: UserDirectory;
  readonly #audit: AuditLog;
  readonly #records: Readonly<Record<string, RecordContent>>;
  readonly #now: () => number;

  constructor(deps: { db: Db; users: UserDirectory; audit: AuditLog; records: Readonly<Record<string, RecordContent>>; now?: () => number }) {
    this.#db = deps.db;
    this.#users = deps.users;
    this.#audit = deps.audit;
    this.#records = deps.records;
    this.#now = deps.now ?? Date.now;
  }

  /** Hash of a record's current content; throws if the type is unknown or the record does not exist. */
  contentHash(recordType: string, recordId: string): string {
    const content = this.#content(recordType, recordId);
    if (content === undefined) throw new LinesideError(ErrorCode.notFound, `${recordType} ${recordId} does not exist`);
    return recordHash(recordType, recordId, content);
  }

  #content(recordType: string, recordId: string): unknown {
    const read = this.#records[recordType];
    if (!read) throw new LinesideError(ErrorCode.badRequest, `records of type "${recordType}" cannot be signed: one of ${Object.keys(this.#records).join(', ')}`);
    return read(recordId);
  }

  /** Re-check the signer's password now. Refuses viewers and users with a pending password change. */
  async authenticateSigner(username: string, password: string, client?: string): Promise<User> {
    const check = await this.#users.checkPassword(username, password, { client, purpose: 'signature' });
    if (!check.ok) {
      throw new LinesideError(ErrorCode.unauthenticated, check.why === 'locked' ? 'account locked: signature refused' : 'password not accepted: signature refused');
    }
    const user = check.user;
    if (user.role === 'viewer') throw new LinesideError(ErrorCode.forbidden, `user "${user.username}" (viewer) may not sign records`);
    if (user.mustChange || this.#users.expired(user)) throw new LinesideError(ErrorCode.forbidden, `user "${user.username}" must change the password before signing`);
    return user;
  }

  /** Store the signature of an authenticated signer (joins the caller's transaction if any). */
  record(signer: User, recordType: string, recordId: string, meaning: SignatureMeaning, client?: string): Signature {
    if (!SignatureMeaning.includes(meaning)) throw new LinesideError(ErrorCode.badRequest, `signature meaning "${meaning}": one of ${SignatureMeaning.join(', ')}`);
    if (!maySign(signer.role, meaning)) {
      throw new LinesideError(ErrorCode.forbidden, `user "${signer.username}" (${signer.role}) may not sign as ${meaning}: ${SIGNING_ROLES[meaning].join(' or ')} only`);
    }
    return this.#db.transaction(() => {
      const contentSha256 = this.contentHash(recordType, recordId);
      const signedAt = this.#now();
      const id = Number(
        this.#db
          .prepare(`INSERT INTO signatures (record_type, record_id, meaning, username, printed_name, role, signed_at, content_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(recordType, recordId, meaning, signer.username, signer.fullName, signer.role, signedAt, contentSha256).lastInsertRowid,
      );
      const sig = toSignature(this.#db.prepare(`SELECT * FROM signatures WHERE id = ?`).get(id) as SignatureRow);
      this.#audit.append({
        actor: { user: signer.username, role: signer.role },
        action: 'signed',
        objectType: recordType,
        objectId: recordId,
        newValue: { signature: sig.id, meaning, printedName: sig.printedName, contentSha256 },
        client,
      });
      return sig;
    })();
  }

  /** Sign a record: password re-entered now, then the signature row, audited as `signed`. */
  async sign(req: { recordType: string; recordId: string; meaning: SignatureMeaning; username: string; password: string; client?: string }): Promise<Signature> {
    this.contentHash(req.recordType, req.recordId);
    const signer = await this.authenticateSigner(req.username, req.password, req.client);
    return this.record(signer, req.recordType, req.recordId, req.meaning, req.client);
  }

  /** Every signature on a record, oldest first, each checked against the record as it is now. */
  forRecord(recordType: string, recordId: string): SignatureView[] {
    const rows = this.#db.prepare(`SELECT * FROM signatures WHERE record_type = ? AND record_id = ? ORDER BY id`).all(recordType, recordId) as SignatureRow[];
    return rows.map((r) => this.#check(toSignature(r)));
  }

  #check(sig: Signature): SignatureView {
    let now: string;
    try {
      now = this.contentHash(sig.recordType, sig.recordId);
    } catch (e) {
      return { ...sig, valid: false, invalidReason: (e as Error).message };
    }
    return now === sig.contentSha256 ? { ...sig, valid: true } : { ...sig, valid: false, invalidReason: `the record changed since it was signed (now ${now.slice(0, 12)}…, signed ${sig.contentSha256.slice(0, 12)}…)` };
  }
}
