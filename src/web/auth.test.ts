import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Role } from '../records/audit.js';
import { silentLogger } from '../observability/logger.js';
import { CSRF_HEADER, registerAuth, requirePermission, requireSession, SESSION_COOKIE, type SessionAuthority, type WebSession } from './auth.js';
import { errorHandler } from './errors.js';
import { registerSecurityHeaders } from './security-headers.js';

/** Sessions as the records keep them, reduced to what the web layer relies on. */
class Sessions implements SessionAuthority {
  readonly users = new Map<string, { password: string; session: WebSession }>();
  readonly live = new Map<string, string>();
  #n = 0;

  add(username: string, role: Role, mustChangePassword: WebSession['mustChangePassword'] = null): void {
    this.users.set(username, { password: `${username}-secret-pw`, session: { username, fullName: username.toUpperCase(), role, mustChangePassword } });
  }
  async login(username: string, password: string) {
    const u = this.users.get(username);
    if (!u || u.password !== password) throw new LinesideError(ErrorCode.unauthenticated, 'user name or password not accepted');
    const token = `tok-${++this.#n}`;
    this.live.set(token, username);
    return { token, session: u.session };
  }
  validate(token: string): WebSession {
    const name = this.live.get(token);
    if (!name) throw new LinesideError(ErrorCode.unauthenticated, 'session ended');
    return this.users.get(name)!.session;
  }
  logout(token: string): void {
    this.live.delete(token);
  }
  async changePassword(token: string, current: string, next: string): Promise<WebSession> {
    const u = this.users.get(this.live.get(token)!)!;
    if (u.password !== current) throw new LinesideError(ErrorCode.unauthenticated, 'current password not accepted');
    u.password = next;
    u.session = { ...u.session, mustChangePassword: null };
    return u.session;
  }
}

function build(opts: { secure?: boolean; now?: () => number } = {}) {
  const sessions = new Sessions();
  for (const [name, role] of [['vera', 'viewer'], ['otto', 'operator'], ['sue', 'supervisor']] as const) sessions.add(name, role);
  sessions.add('newbie', 'operator', 'oneTime');
  const app = Fastify();
  app.setErrorHandler(errorHandler(silentLogger()));
  registerSecurityHeaders(app, { secure: opts.secure ?? false });
  registerAuth(app, { authority: sessions, secure: opts.secure ?? false, now: opts.now });
  const checks: string[] = [];
  app.get('/api/things', { preHandler: requireSession }, async () => ({ things: 1 }));
  app.post('/api/stations/hopper/check', { preHandler: requirePermission('requestCheck') }, async (req) => {
    checks.push(req.session!.username);
    return { ok: true };
  });
  app.get('/', async (_req, reply) => reply.type('text/html').send(`<script nonce="${reply.cspNonce}">1</script>`));
  return { app, sessions, checks };
}

async function signIn(app: ReturnType<typeof build>['app'], username: string) {
  const res = await app.inject({ method: 'POST', url: '/api/login', payload: { username, password: `${username}-secret-pw` } });
  expect(res.statusCode).toBe(200);
  const cookie = String(res.headers['set-cookie']).split(';')[0]!;
  return { cookie, csrf: (res.json() as { csrfToken: string }).csrfToken, res };
}

describe('page sign-in, roles and CSRF', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie, Secure only under HTTPS', async () => {
    const plain = await signIn(build().app, 'otto');
    expect(plain.res.headers['set-cookie']).toBe(`${SESSION_COOKIE}=tok-1; Path=/; HttpOnly; SameSite=Strict`);
    const tls = await signIn(build({ secure: true }).app, 'otto');
    expect(tls.res.headers['set-cookie']).toContain('; Secure');
    expect(tls.res.headers['strict-transport-security']).toBe('max-age=31536000');
    expect(plain.res.json()).toMatchObject({ session: { username: 'otto', role: 'operator' } });
  });

  it('refuses a state change without a session (401), from a viewer (403) or without the CSRF token (403), and nothing happens', async () => {
    const { app, checks } = build();
    const url = '/api/stations/hopper/check';
    expect((await app.inject({ method: 'POST', url })).statusCode).toBe(401);

    const viewer = await signIn(app, 'vera');
    const byViewer = await app.inject({ method: 'POST', url, headers: { cookie: viewer.cookie, [CSRF_HEADER]: viewer.csrf } });
    expect(byViewer.statusCode).toBe(403);
    expect(byViewer.json()).toMatchObject({ error: ErrorCode.forbidden, message: 'vera (viewer) may not requestCheck: operator or supervisor only' });

    const op = await signIn(app, 'otto');
    expect((await app.inject({ method: 'POST', url, headers: { cookie: op.cookie } })).statusCode).toBe(403);
    // A token from someone else's session is no token.
    expect((await app.inject({ method: 'POST', url, headers: { cookie: op.cookie, [CSRF_HEADER]: viewer.csrf } })).statusCode).toBe(403);
    expect(checks).toEqual([]);

    const ok = await app.inject({ method: 'POST', url, headers: { cookie: op.cookie, [CSRF_HEADER]: op.csrf } });
    expect(ok.statusCode).toBe(200);
    expect(checks).toEqual(['otto']);
  });

  it('lets a viewer read, and nobody read without signing in', async () => {
    const { app } = build();
    expect((await app.inject('/api/things')).statusCode).toBe(401);
    const viewer = await signIn(app, 'vera');
    expect((await app.inject({ url: '/api/things', headers: { cookie: viewer.cookie } })).json()).toEqual({ things: 1 });
    expect((await app.inject({ url: '/api/session', headers: { cookie: viewer.cookie } })).json()).toMatchObject({ session: { role: 'viewer' }, csrfToken: viewer.csrf });
  });

  it('after logout or when the session ended, the cookie opens nothing and is cleared', async () => {
    const { app, sessions } = build();
    const op = await signIn(app, 'otto');
    const out = await app.inject({ method: 'POST', url: '/api/logout', headers: { cookie: op.cookie, [CSRF_HEADER]: op.csrf } });
    expect(out.headers['set-cookie']).toContain('Max-Age=0');
    const after = await app.inject({ url: '/api/things', headers: { cookie: op.cookie } });
    expect(after.statusCode).toBe(401);
    expect(after.headers['set-cookie']).toContain('Max-Age=0');
    expect(sessions.live.size).toBe(0);
  });

  it('holds a user with a one-time password to changing it before anything else', async () => {
    const { app, checks } = build();
    const n = await signIn(app, 'newbie');
    const headers = { cookie: n.cookie, [CSRF_HEADER]: n.csrf };
    const blocked = await app.inject({ method: 'POST', url: '/api/stations/hopper/check', headers });
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().message).toContain('must change the password first');
    const changed = await app.inject({ method: 'POST', url: '/api/password', headers, payload: { current: 'newbie-secret-pw', next: 'a much longer passphrase' } });
    expect(changed.json()).toMatchObject({ session: { mustChangePassword: null } });
    expect((await app.inject({ method: 'POST', url: '/api/stations/hopper/check', headers })).statusCode).toBe(200);
    expect(checks).toEqual(['newbie']);
  });

  it('slows down guessing: after 10 failed sign-ins from one address in a minute it answers 429 until the minute is over', async () => {
    let now = 1_000_000;
    const { app } = build({ now: () => now });
    const attempt = (password: string) => app.inject({ method: 'POST', url: '/api/login', payload: { username: 'otto', password } });
    for (let i = 0; i < 10; i++) expect((await attempt(`guess-${i}`)).statusCode).toBe(401);
    const limited = await attempt('otto-secret-pw');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    now += 61_000;
    expect((await attempt('otto-secret-pw')).statusCode).toBe(200);
  });

  it('sends security headers; the page script runs only by its nonce', async () => {
    const { app } = build();
    const res = await app.inject('/');
    const csp = String(res.headers['content-security-policy']);
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(res.body).toBe(`<script nonce="${nonce}">1</script>`);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });
});
