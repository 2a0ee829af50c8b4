import { createHash, randomBytes } from 'node:crypto';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Db } from '../store/db.js';
import type { AuditLog, Role } from './audit.js';
import type { User, UserDirectory } from './users.js';

export interface Session {
  readonly username: string;
  readonly fullName: string;
  readonly role: Role;
  /** Set when the password is one-time or expired: until it is changed, nothing else is allowed. */
  readonly mustChangePassword: 'oneTime' | 'expired' | null;
  readonly lastSeenAt: number;
}

interface SessionRow {
  token_hash: string;
  username: string;
  last_seen_at: number;
  ended_at: number | null;
}

const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * Sign-in sessions. The token handed to the client is 32 random bytes; only its SHA-256 is stored,
 * so a copy of the database opens no session. A session ends on logout, after `idleMinutes`
 * without use, or when its user is locked, disabled or has the password reset.
 */
export class SessionService {
  readonly #db: Db;
  readonly #users: UserDirectory;
  readonly #audit: AuditLog;
  readonly #idleMs: number;
  readonly #now: () => number;

  constructor(deps: { db: Db; users: UserDirectory; audit: AuditLog; idleMinutes: number; now?: () => number }) {
    this.#db = deps.db;
    this.#users = deps.users;
    this.#audit = deps.audit;
    this.#idleMs = deps.idleMinutes * 60_000;
    this.#now = deps.now ?? Date.now;
  }

  /** Sign in; a refusal says only what the user may know (not whether a name exists). */
  async login(username: string, password: string, client?: string): Promise<{ token: string; session: Session }> {
    const check = await this.#users.checkPassword(username, password, { client, purpose: 'login' });
    if (!check.ok) {
      const message =
        check.why === 'locked'
          ? 'account locked after too many wrong passwords: ask an administrator to reset it'
          : check.why === 'disabled'
            ? 'account disabled'
            : 'user name or password not accepted';
      throw new LinesideError(ErrorCode.unauthenticated, message);
    }
    const token = randomBytes(32).toString('base64url');
    const now = this.#now();
    const session = this.#toSession(check.user, now);
    this.#db.transaction(() => {
      this.#db.prepare(`INSERT INTO sessions (token_hash, username, client, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)`).run(tokenHash(token), username, client ?? null, now, now);
      this.#audit.append({
        actor: { user: username, role: check.user.role },
        action: 'login',
        objectType: 'session',
        objectId: username,
        reason: session.mustChangePassword ? `password must be changed (${session.mustChangePassword})` : undefined,
        client,
      });
    })();
    return { token, session };
  }

  /** The session behind a token, touched; throws if it ended or went idle (ending it). */
  validate(token: string): Session {
    const row = this.#db.prepare(`SELECT * FROM sessions WHERE token_hash = ?`).get(tokenHash(token)) as SessionRow | undefined;
    if (!row || row.ended_at !== null) throw new LinesideError(ErrorCode.unauthenticated, 'not signed in (session ended)');
    const now = this.#now();
    const user = this.#users.get(row.username);
    if (now - row.last_seen_at > this.#idleMs) {
      this.#end(row, user, 'idle timeout', now);
      throw new LinesideError(ErrorCode.unauthenticated, `session ended after ${this.#idleMs / 60_000} minutes without use (records.sessions.idleMinutes): sign in again`);
    }
    if (!user || user.disabledAt !== null || user.lockedAt !== null) {
      this.#end(row, user, 'user no longer active', now);
      throw new LinesideError(ErrorCode.unauthenticated, 'account no longer active');
    }
    this.#db.prepare(`UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?`).run(now, row.token_hash);
    return this.#toSession(user, now);
  }

  /** A valid session whose user has one of `roles` and no pending password change. */
  authorize(token: string, roles: readonly Role[], what: string): Session {
    const s = this.validate(token);
    if (s.mustChangePassword) throw new LinesideError(ErrorCode.forbidden, `user "${s.username}" must change the password before ${what}`);
    if (!roles.includes(s.role)) throw new LinesideError(ErrorCode.forbidden, `user "${s.username}" (${s.role}) may not ${what}: ${roles.join(' or ')} only`);
    return s;
  }

  logout(token: string, client?: string): void {
    const row = this.#db.prepare(`SELECT * FROM sessions WHERE token_hash = ?`).get(tokenHash(token)) as SessionRow | undefined;
    if (!row || row.ended_at !== null) return;
    this.#end(row, this.#users.get(row.username), 'logout', this.#now(), client);
  }

  /** The signed-in user replaces their password (the current one is re-entered and checked). */
  async changePassword(token: string, current: string, next: string, client?: string): Promise<Session> {
    const s = this.validate(token);
    const check = await this.#users.checkPassword(s.username, current, { client, purpose: 'password change' });
    if (!check.ok) throw new LinesideError(ErrorCode.unauthenticated, 'current password not accepted');
    await this.#users.setOwnPassword(check.user, next, client);
    return this.#toSession(this.#users.get(s.username)!, this.#now());
  }

  #end(row: SessionRow, user: User | undefined, reason: string, now: number, client?: string): void {
    this.#db.transaction(() => {
      this.#db.prepare(`UPDATE sessions SET ended_at = ?, end_reason = ? WHERE token_hash = ?`).run(now, reason, row.token_hash);
      this.#audit.append({ actor: { user: row.username, role: user?.role ?? 'viewer' }, action: 'logout', objectType: 'session', objectId: row.username, reason, client });
    })();
  }

  #toSession(user: User, now: number): Session {
    const mustChangePassword = user.mustChange ? 'oneTime' : this.#users.expired(user) ? 'expired' : null;
    return { username: user.username, fullName: user.fullName, role: user.role, mustChangePassword, lastSeenAt: now };
  }
}
