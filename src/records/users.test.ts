import { afterEach, describe, expect, it } from 'vitest';
import { openTestRecords, userWithPassword } from './records.test-support.js';

let env: ReturnType<typeof openTestRecords>;
afterEach(() => env?.close());

const actions = () => env.records.audit.recent(1000).map((e) => e.action).reverse();

describe('users and sessions', () => {
  it('creates the first admin once, with a one-time password that is never stored in plain text', async () => {
    env = openTestRecords();
    const password = await env.records.users.ensureFirstAdmin();
    expect(password).toMatch(/^[A-Za-z2-9]{16}$/);
    expect(await env.records.users.ensureFirstAdmin()).toBeNull();
    const row = env.records.db.prepare(`SELECT password_hash FROM users WHERE username = 'admin'`).get() as { password_hash: string };
    expect(row.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(row.password_hash).not.toContain(password!);
    const { session } = await env.records.sessions.login('admin', password!);
    expect(session.mustChangePassword).toBe('oneTime');
    expect(() => env.records.sessions.authorize('x', ['admin'], 'manage users')).toThrow(/not signed in/);
  });

  it('makes a one-time password be changed before anything else, enforcing the minimum length', async () => {
    env = openTestRecords({ minLength: 12 });
    const otp = (await env.records.users.ensureFirstAdmin())!;
    const { token } = await env.records.sessions.login('admin', otp);
    expect(() => env.records.sessions.authorize(token, ['admin'], 'manage users')).toThrow(/must change the password before manage users/);
    await expect(env.records.sessions.changePassword(token, otp, 'short-pw')).rejects.toThrow(/at least 12 characters \(records\.passwords\.minLength\)/);
    await env.records.sessions.changePassword(token, otp, 'correct horse battery');
    expect(env.records.sessions.authorize(token, ['admin'], 'manage users').username).toBe('admin');
    expect(actions()).toEqual(['userCreated', 'login', 'passwordChanged']);
  });

  it('locks the account after maxFailures wrong passwords, audits it and calls onLockout; the right password then fails too', async () => {
    env = openTestRecords({ maxFailures: 3 });
    await userWithPassword(env.records, 'olga', 'operator', 'tulip-garden-41');
    for (let i = 0; i < 3; i++) await expect(env.records.sessions.login('olga', 'wrong')).rejects.toThrow(/not accepted/);
    expect(env.lockouts.map((u) => u.username)).toEqual(['olga']);
    await expect(env.records.sessions.login('olga', 'tulip-garden-41')).rejects.toThrow(/locked/);
    const locked = env.records.audit.recent(10).find((e) => e.action === 'userLocked')!;
    expect(locked).toMatchObject({ objectId: 'olga', oldValue: { locked: false }, newValue: { locked: true, failedAttempts: 3 } });
    expect(actions().filter((a) => a === 'loginFailed')).toHaveLength(4);

    const { oneTimePassword } = await env.records.users.resetPassword({ user: 'console:test', role: 'system' }, 'olga', 'locked out on night shift');
    const { session } = await env.records.sessions.login('olga', oneTimePassword);
    expect(session.mustChangePassword).toBe('oneTime');
  });

  it('ends a session after the idle timeout and on logout; only the token hash is stored', async () => {
    env = openTestRecords({ idleMinutes: 15 });
    await userWithPassword(env.records, 'sam', 'supervisor', 'river-stone-72');
    const { token } = await env.records.sessions.login('sam', 'river-stone-72');
    const stored = env.records.db.prepare(`SELECT token_hash FROM sessions WHERE ended_at IS NULL`).all() as Array<{ token_hash: string }>;
    expect(stored).toHaveLength(1);
    expect(stored[0]!.token_hash).not.toContain(token);
    env.clock.now += 14 * 60_000;
    expect(env.records.sessions.validate(token).username).toBe('sam');
    env.clock.now += 16 * 60_000;
    expect(() => env.records.sessions.validate(token)).toThrow(/15 minutes without use \(records\.sessions\.idleMinutes\)/);
    expect(env.records.audit.recent(1)[0]).toMatchObject({ action: 'logout', reason: 'idle timeout' });

    const again = await env.records.sessions.login('sam', 'river-stone-72');
    env.records.sessions.logout(again.token);
    expect(() => env.records.sessions.validate(again.token)).toThrow(/session ended/);
  });

  it('asks for a new password once it is older than maxAgeDays', async () => {
    env = openTestRecords({ maxAgeDays: 90 });
    await userWithPassword(env.records, 'quinn', 'qa', 'amber-window-19');
    env.clock.now += 91 * 86_400_000;
    const { token, session } = await env.records.sessions.login('quinn', 'amber-window-19');
    expect(session.mustChangePassword).toBe('expired');
    expect(() => env.records.sessions.authorize(token, ['qa'], 'review results')).toThrow(/must change the password/);
  });

  it('lets only admins manage users, audits old and new values, never deletes, and keeps one admin', async () => {
    env = openTestRecords();
    await userWithPassword(env.records, 'olga', 'operator', 'tulip-garden-41');
    const operator = { user: 'olga', role: 'operator' } as const;
    await expect(env.records.users.createUser(operator, { username: 'eve', fullName: 'Eve', role: 'admin' })).rejects.toThrow(/may not manage users: admin only/);
    const admin = { user: 'ada', role: 'admin', client: '10.0.0.5' } as const;
    env.records.users.setRole(admin, 'olga', 'supervisor', 'promoted to shift lead');
    expect(env.records.audit.recent(1)[0]).toMatchObject({
      action: 'userChanged',
      actor: { user: 'ada', role: 'admin' },
      client: '10.0.0.5',
      oldValue: { role: 'operator' },
      newValue: { role: 'supervisor' },
      reason: 'promoted to shift lead',
    });
    env.records.users.disable(admin, 'olga', 'left the company');
    expect(env.records.users.get('olga')?.disabledAt).not.toBeNull();
    await expect(env.records.sessions.login('olga', 'tulip-garden-41')).rejects.toThrow(/disabled/);
    await expect(env.records.users.createUser(admin, { username: 'olga', fullName: 'Olga Again', role: 'viewer' })).rejects.toThrow(/already exists/);

    await env.records.users.createUser(admin, { username: 'keeper', fullName: 'Key Keeper', role: 'admin' });
    await env.records.users.createUser(admin, { username: 'root2', fullName: 'Second Admin', role: 'admin' });
    env.records.users.disable(admin, 'root2', 'test');
    expect(() => env.records.users.setRole(admin, 'keeper', 'viewer', 'mistake')).toThrow(/"keeper" is the last enabled admin/);
    expect(() => env.records.users.disable(admin, 'keeper', 'mistake')).toThrow(/last enabled admin/);
    expect(env.records.users.list().map((u) => `${u.username}:${u.role}:${u.disabledAt === null ? 'on' : 'off'}`)).toEqual(['keeper:admin:on', 'olga:supervisor:off', 'root2:admin:off']);
  });
});
