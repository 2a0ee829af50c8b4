import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Db } from '../store/db.js';
import { Role, type Actor, type AuditLog } from './audit.js';
import { dummyHash, hashPassword, oneTimePassword, verifyPassword } from './passwords.js';

export interface User {
  readonly username: string;
  readonly fullName: string;
  readonly role: Role;
  readonly passwordSetAt: number;
  /** A one-time password (new user, reset) must be changed at first use. */
  readonly mustChange: boolean;
  readonly failedAttempts: number;
  readonly lockedAt: number | null;
  readonly disabledAt: number | null;
  readonly createdAt: number;
}

/** Who performs an action, and from where (the page's client address; absent on the console). */
export type Acting = Actor & { readonly client?: string };

export interface PasswordPolicy {
  readonly minLength: number;
  readonly maxFailures: number;
  readonly maxAgeDays: number;
}

export type PasswordCheck = { ok: true; user: User } | { ok: false; why: 'unknown' | 'disabled' | 'locked' | 'wrong' };

interface UserRow {
  username: string;
  full_name: string;
  role: Role;
  password_set_at: number;
  must_change: number;
  failed_attempts: number;
  locked_at: number | null;
  disabled_at: number | null;
  created_at: number;
  password_hash: string;
}

const USERNAME = /^[a-z][a-z0-9._-]{1,31}$/;
const ROLES = Object.values(Role) as Role[];

const toUser = (r: UserRow): User => ({
  username: r.username,
  fullName: r.full_name,
  role: r.role,
  passwordSetAt: r.password_set_at,
  mustChange: r.must_change === 1,
  failedAttempts: r.failed_attempts,
  lockedAt: r.locked_at,
  disabledAt: r.disabled_at,
  createdAt: r.created_at,
});

/** What the audit trail shows of a user: never the hash. */
const visible = (u: User): Record<string, unknown> => ({ username: u.username, fullName: u.fullName, role: u.role, disabled: u.disabledAt !== null, locked: u.lockedAt !== null });

/**
 * User accounts: roles, password checks with lock-out, and their management. Users are never
 * deleted (their names stay on signatures and the audit trail): they are disabled. Every change is
 * audited with the old and new value.
 */
export class UserDirectory {
  readonly policy: PasswordPolicy;
  readonly #db: Db;
  readonly #audit: AuditLog;
  readonly #onLockout: (user: User) => void;
  readonly #now: () => number;

  constructor(deps: { db: Db; audit: AuditLog; policy: PasswordPolicy; onLockout?: (user: User) => void; now?: () => number }) {
    this.#db = deps.db;
    this.#audit = deps.audit;
    this.policy = deps.policy;
    this.#onLockout = deps.onLockout ?? (() => {});
    this.#now = deps.now ?? Date.now;
  }

  #row(username: string): UserRow | undefined {
    return this.#db.prepare(`SELECT * FROM users WHERE username = ?`).get(username) as UserRow | undefined;
  }

  get(username: string): User | undefined {
    const r = this.#row(username);
    return r && toUser(r);
  }

  list(): User[] {
    return (this.#db.prepare(`SELECT * FROM users ORDER BY username`).all() as UserRow[]).map(toUser);
  }

  /** Whether the password has passed `maxAgeDays` since it was set. */
  expired(user: User): boolean {
    return this.policy.maxAgeDays > 0 && this.#now() - user.passwordSetAt > this.policy.maxAgeDays * 86_400_000;
  }

  /**
   * Check a user's password (at login, or re-entered for a signature). A wrong one counts toward
   * lock-out; at `maxFailures` in a row the account locks, which is audited and reported through
   * `onLockout`. Unknown users cost the same time as known ones.
   */
  async checkPassword(username: string, password: string, context: { client?: string; purpose: string }): Promise<PasswordCheck> {
    const row = this.#row(username);
    const ok = await verifyPassword(password, row?.password_hash ?? (await dummyHash()));
    const actor: Acting = { user: username, role: row?.role ?? 'viewer' };
    const fail = (why: 'unknown' | 'disabled' | 'locked' | 'wrong'): PasswordCheck => {
      this.#audit.append({ actor, action: 'loginFailed', objectType: 'user', objectId: username, reason: `${context.purpose}: ${why}`, client: context.client });
      return { ok: false, why };
    };
    if (!row) return fail('unknown');
    if (row.disabled_at !== null) return fail('disabled');
    if (row.locked_at !== null) return fail('locked');
    if (!ok) {
      const locked = this.#db.transaction(() => {
        this.#db.prepare(`UPDATE users SET failed_attempts = failed_attempts + 1 WHERE username = ?`).run(username);
        const after = this.#row(username)!;
        fail('wrong');
        if (after.failed_attempts < this.policy.maxFailures) return undefined;
        this.#db.prepare(`UPDATE users SET locked_at = ? WHERE username = ?`).run(this.#now(), username);
        this.#db.prepare(`UPDATE sessions SET ended_at = ?, end_reason = 'locked' WHERE username = ? AND ended_at IS NULL`).run(this.#now(), username);
        this.#audit.append({
          actor,
          action: 'userLocked',
          objectType: 'user',
          objectId: username,
          oldValue: { locked: false },
          newValue: { locked: true, failedAttempts: after.failed_attempts },
          reason: `${after.failed_attempts} wrong passwords in a row (${context.purpose})`,
          client: context.client,
        });
        return toUser(this.#row(username)!);
      })();
      if (locked) this.#onLockout(locked);
      return { ok: false, why: 'wrong' };
    }
    if (row.failed_attempts > 0) this.#db.prepare(`UPDATE users SET failed_attempts = 0 WHERE username = ?`).run(username);
    return { ok: true, user: toUser({ ...row, failed_attempts: 0 }) };
  }

  /** Length and sameness rules for a new password; throws naming the rule and its config key. */
  checkNewPassword(username: string, password: string): void {
    if (password.length < this.policy.minLength) {
      throw new LinesideError(ErrorCode.badRequest, `password too short: at least ${this.policy.minLength} characters (records.passwords.minLength)`);
    }
    if (password.toLowerCase().includes(username.toLowerCase())) throw new LinesideError(ErrorCode.badRequest, 'password must not contain the user name');
  }

  /** The user's own change of password (the old one was checked by the caller). */
  async setOwnPassword(user: User, newPassword: string, client?: string): Promise<void> {
    this.checkNewPassword(user.username, newPassword);
    if (await verifyPassword(newPassword, this.#row(user.username)!.password_hash)) {
      throw new LinesideError(ErrorCode.badRequest, 'the new password must differ from the current one');
    }
    const hash = await hashPassword(newPassword);
    this.#db.transaction(() => {
      this.#db.prepare(`UPDATE users SET password_hash = ?, password_set_at = ?, must_change = 0 WHERE username = ?`).run(hash, this.#now(), user.username);
      this.#audit.append({
        actor: { user: user.username, role: user.role },
        action: 'passwordChanged',
        objectType: 'user',
        objectId: user.username,
        oldValue: { mustChange: user.mustChange },
        newValue: { mustChange: false },
        reason: user.mustChange ? 'one-time password replaced' : this.expired(user) ? 'expired password replaced' : 'changed by the user',
        client,
      });
    })();
  }

  /** First start: an `admin` with a random one-time password, returned once; null if users exist. */
  async ensureFirstAdmin(): Promise<string | null> {
    const n = (this.#db.prepare(`SELECT COUNT(*) AS n FROM users`).get() as { n: number }).n;
    if (n > 0) return null;
    const created = await this.#create({ user: 'system', role: 'system' }, { username: 'admin', fullName: 'Administrator', role: 'admin' }, 'first start: no users yet');
    return created.oneTimePassword;
  }

  async createUser(by: Acting, u: { username: string; fullName: string; role: Role }, reason?: string): Promise<{ user: User; oneTimePassword: string }> {
    assertAdmin(by);
    return this.#create(by, u, reason);
  }

  async #create(by: Acting, u: { username: string; fullName: string; role: Role }, reason?: string): Promise<{ user: User; oneTimePassword: string }> {
    if (!USERNAME.test(u.username)) throw new LinesideError(ErrorCode.badRequest, `user name "${u.username}": 2–32 lower-case letters, digits, ".", "-" or "_", starting with a letter`);
    if (!u.fullName.trim()) throw new LinesideError(ErrorCode.badRequest, `user "${u.username}": a full name is required (it is printed on signatures)`);
    checkRole(u.role);
    if (this.#row(u.username)) throw new LinesideError(ErrorCode.badRequest, `user "${u.username}" already exists (users are never deleted; disabled ones keep their name)`);
    const password = oneTimePassword();
    const hash = await hashPassword(password);
    const now = this.#now();
    const user = this.#db.transaction(() => {
      this.#db
        .prepare(`INSERT INTO users (username, full_name, role, password_hash, password_set_at, must_change, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)`)
        .run(u.username, u.fullName.trim(), u.role, hash, now, now);
      const created = toUser(this.#row(u.username)!);
      this.#audit.append({ actor: by, action: 'userCreated', objectType: 'user', objectId: u.username, newValue: visible(created), reason, client: by.client });
      return created;
    })();
    return { user, oneTimePassword: password };
  }

  setRole(by: Acting, username: string, role: Role, reason: string): User {
    assertAdmin(by);
    checkRole(role);
    return this.#change(by, username, reason, (before) => {
      if (before.role === 'admin' && role !== 'admin') this.#keepAnAdmin(username);
      this.#db.prepare(`UPDATE users SET role = ? WHERE username = ?`).run(role, username);
    });
  }

  disable(by: Acting, username: string, reason: string): User {
    assertAdmin(by);
    return this.#change(by, username, reason, (before) => {
      if (before.disabledAt !== null) throw new LinesideError(ErrorCode.badRequest, `user "${username}" is already disabled`);
      if (before.role === 'admin') this.#keepAnAdmin(username);
      this.#db.prepare(`UPDATE users SET disabled_at = ? WHERE username = ?`).run(this.#now(), username);
      this.#db.prepare(`UPDATE sessions SET ended_at = ?, end_reason = 'user disabled' WHERE username = ? AND ended_at IS NULL`).run(this.#now(), username);
    });
  }

  /** A new one-time password; clears a lock-out. Returned once, to be handed to the user. */
  async resetPassword(by: Acting, username: string, reason: string): Promise<{ user: User; oneTimePassword: string }> {
    assertAdmin(by);
    if (!this.#row(username)) throw new LinesideError(ErrorCode.notFound, `user "${username}" does not exist`);
    const password = oneTimePassword();
    const hash = await hashPassword(password);
    const user = this.#change(by, username, reason, () => {
      this.#db
        .prepare(`UPDATE users SET password_hash = ?, password_set_at = ?, must_change = 1, failed_attempts = 0, locked_at = NULL WHERE username = ?`)
        .run(hash, this.#now(), username);
      this.#db.prepare(`UPDATE sessions SET ended_at = ?, end_reason = 'password reset' WHERE username = ? AND ended_at IS NULL`).run(this.#now(), username);
    }, 'passwordChanged');
    return { user, oneTimePassword: password };
  }

  #change(by: Acting, username: string, reason: string, apply: (before: User) => void, action: 'userChanged' | 'passwordChanged' = 'userChanged'): User {
    if (!reason?.trim()) throw new LinesideError(ErrorCode.badRequest, `changing user "${username}": a reason is required`);
    return this.#db.transaction(() => {
      const row = this.#row(username);
      if (!row) throw new LinesideError(ErrorCode.notFound, `user "${username}" does not exist`);
      const before = toUser(row);
      apply(before);
      const after = toUser(this.#row(username)!);
      const old = action === 'passwordChanged' ? { ...visible(before), mustChange: before.mustChange } : visible(before);
      const neu = action === 'passwordChanged' ? { ...visible(after), mustChange: true } : visible(after);
      this.#audit.append({ actor: by, action, objectType: 'user', objectId: username, oldValue: old, newValue: neu, reason, client: by.client });
      return after;
    })();
  }

  /** Refuse to remove the last enabled admin: nobody could manage users any more. */
  #keepAnAdmin(username: string): void {
    const others = this.#db.prepare(`SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL AND username <> ?`).get(username) as { n: number };
    if (others.n === 0) throw new LinesideError(ErrorCode.badRequest, `user "${username}" is the last enabled admin: create another admin first`);
  }
}

function checkRole(role: string): asserts role is Role {
  if (!ROLES.includes(role as Role)) throw new LinesideError(ErrorCode.badRequest, `role "${role}" does not exist: one of ${ROLES.join(', ')}`);
}

/** User management is for admins (and the console's `lineside users`, audited as role `system`). */
export function assertAdmin(by: Actor): void {
  if (by.role !== 'admin' && by.role !== 'system') throw new LinesideError(ErrorCode.forbidden, `user "${by.user}" (${by.role}) may not manage users: admin only`);
}
