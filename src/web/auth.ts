import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Role } from '../records/audit.js';

/** What the page knows of the signed-in user. */
export interface WebSession {
  readonly username: string;
  readonly fullName: string;
  readonly role: Role;
  /** Until the password is changed, the user may do nothing but change it. */
  readonly mustChangePassword: 'oneTime' | 'expired' | null;
}

/** The records' sign-in sessions, as the web layer uses them (tokens are opaque here). */
export interface SessionAuthority {
  login(username: string, password: string, client?: string): Promise<{ token: string; session: WebSession }>;
  /** Throws `unauthenticated` when the session ended or went idle. */
  validate(token: string): WebSession;
  logout(token: string, client?: string): void;
  changePassword(token: string, current: string, next: string, client?: string): Promise<WebSession>;
}

/**
 * Who may do what on the page. One table, so a reviewer reads the whole policy in one place.
 * Roles are not a ladder: an administrator manages users but does not release product.
 */
export const PERMISSIONS = {
  requestCheck: ['operator', 'supervisor'],
  setReference: ['supervisor'],
  acknowledgeAlarm: ['operator', 'supervisor', 'qa'],
  shelveAlarm: ['supervisor'],
  review: ['supervisor', 'qa'],
  signCleaning: ['supervisor', 'qa'],
  exportRecords: ['supervisor', 'qa', 'admin'],
  viewAudit: ['supervisor', 'qa', 'admin'],
  activateModel: ['qa'],
  manageUsers: ['admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

/** What a role may do, for the page to enable exactly those actions (the server checks again). */
export function permissionsOf(role: Role): Permission[] {
  return (Object.keys(PERMISSIONS) as Permission[]).filter((p) => (PERMISSIONS[p] as readonly Role[]).includes(role));
}

export const SESSION_COOKIE = 'lineside_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user, or null. */
    session: WebSession | null;
    sessionToken: string | null;
  }
}

export interface AuthOptions {
  readonly authority: SessionAuthority;
  /** Cookies get `Secure` when the page is served over HTTPS. */
  readonly secure: boolean;
  /** Failed sign-ins allowed per client address per minute before it must wait (429). */
  readonly loginAttemptsPerMinute?: number;
  readonly now?: () => number;
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/** Failed sign-ins per client address over a sliding minute. */
class LoginThrottle {
  readonly #failures = new Map<string, number[]>();
  readonly #limit: number;
  readonly #now: () => number;

  constructor(limit: number, now: () => number) {
    this.#limit = limit;
    this.#now = now;
  }

  /** Seconds the client must wait, or 0. */
  wait(client: string): number {
    const recent = this.#recent(client);
    return recent.length < this.#limit ? 0 : Math.max(1, Math.ceil((recent[0]! + 60_000 - this.#now()) / 1000));
  }

  failed(client: string): void {
    const recent = this.#recent(client);
    recent.push(this.#now());
    this.#failures.set(client, recent);
  }

  #recent(client: string): number[] {
    const since = this.#now() - 60_000;
    const kept = (this.#failures.get(client) ?? []).filter((t) => t > since);
    if (kept.length === 0) this.#failures.delete(client);
    return kept;
  }
}

/**
 * Session cookies (HttpOnly, SameSite=Strict, Secure under HTTPS), a CSRF token bound to each
 * session, a sign-in rate limit per client, and the routes to sign in, out and change the password.
 * Routes then state what they need with {@link requireSession} or {@link requirePermission}.
 */
export function registerAuth(app: FastifyInstance, opts: AuthOptions): void {
  const { authority } = opts;
  // The CSRF token is an HMAC of the session token under a key that lives only in this process:
  // nothing to store, and a token from another session (or a restart) never matches.
  const csrfKey = randomBytes(32);
  const csrfFor = (token: string): string => createHmac('sha256', csrfKey).update(token).digest('base64url');
  const throttle = new LoginThrottle(opts.loginAttemptsPerMinute ?? 10, opts.now ?? Date.now);
  const cookie = (value: string, maxAge?: number): string =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict${opts.secure ? '; Secure' : ''}${maxAge === undefined ? '' : `; Max-Age=${maxAge}`}`;

  app.decorateRequest('session', null);
  app.decorateRequest('sessionToken', null);

  app.addHook('onRequest', async (req, reply) => {
    const token = cookieValue(req.headers.cookie, SESSION_COOKIE);
    if (!token) return;
    try {
      req.session = authority.validate(token);
      req.sessionToken = token;
    } catch {
      void reply.header('set-cookie', cookie('', 0));
    }
    // Signing in needs no token (the credentials are the proof); every other change does.
    if (req.session && !SAFE_METHODS.has(req.method) && req.url !== '/api/login') {
      const sent = req.headers[CSRF_HEADER];
      const expected = Buffer.from(csrfFor(token));
      const given = Buffer.from(typeof sent === 'string' ? sent : '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new LinesideError(ErrorCode.forbidden, `missing or wrong ${CSRF_HEADER} header: reload the page`);
      }
    }
  });

  app.post<{ Body: { username?: unknown; password?: unknown } }>('/api/login', async (req, reply) => {
    const wait = throttle.wait(req.ip);
    if (wait > 0) {
      void reply.code(429).header('retry-after', String(wait));
      return { error: ErrorCode.queueFull, message: `too many failed sign-ins from ${req.ip}: wait ${wait} s` };
    }
    const { username, password } = req.body ?? {};
    if (typeof username !== 'string' || typeof password !== 'string' || username === '' || password === '') {
      throw new LinesideError(ErrorCode.badRequest, 'username and password are required');
    }
    let result;
    try {
      result = await authority.login(username, password, req.ip);
    } catch (e) {
      throttle.failed(req.ip);
      throw e;
    }
    void reply.header('set-cookie', cookie(result.token));
    return { session: result.session, may: permissionsOf(result.session.role), csrfToken: csrfFor(result.token) };
  });

  app.get('/api/session', async (req) => {
    if (!req.session || !req.sessionToken) throw new LinesideError(ErrorCode.unauthenticated, 'not signed in');
    return { session: req.session, may: permissionsOf(req.session.role), csrfToken: csrfFor(req.sessionToken) };
  });

  app.post('/api/logout', async (req, reply) => {
    if (req.sessionToken) authority.logout(req.sessionToken, req.ip);
    void reply.header('set-cookie', cookie('', 0));
    return { signedOut: true };
  });

  app.post<{ Body: { current?: unknown; next?: unknown } }>('/api/password', async (req) => {
    if (!req.sessionToken) throw new LinesideError(ErrorCode.unauthenticated, 'not signed in');
    const { current, next } = req.body ?? {};
    if (typeof current !== 'string' || typeof next !== 'string') throw new LinesideError(ErrorCode.badRequest, 'current and next password are required');
    const session = await authority.changePassword(req.sessionToken, current, next, req.ip);
    return { session, may: permissionsOf(session.role) };
  });
}

/** preHandler: any signed-in user whose password needs no change. */
export async function requireSession(req: FastifyRequest, _reply: FastifyReply): Promise<void> {
  sessionOf(req);
}

/** preHandler: a signed-in user whose role has `permission`. */
export function requirePermission(permission: Permission) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const s = sessionOf(req);
    const roles: readonly Role[] = PERMISSIONS[permission];
    if (!roles.includes(s.role)) {
      throw new LinesideError(ErrorCode.forbidden, `${s.username} (${s.role}) may not ${permission}: ${roles.join(' or ')} only`);
    }
  };
}

function sessionOf(req: FastifyRequest): WebSession {
  const s = req.session;
  if (!s) throw new LinesideError(ErrorCode.unauthenticated, 'not signed in');
  if (s.mustChangePassword) throw new LinesideError(ErrorCode.forbidden, `${s.username} must change the password first (${s.mustChangePassword})`);
  return s;
}

/** The actor of an action taken through the page, for the audit trail. */
export function actorOf(req: FastifyRequest): { user: string; role: Role } {
  const s = sessionOf(req);
  return { user: s.username, role: s.role };
}
