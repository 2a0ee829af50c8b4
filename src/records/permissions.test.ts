import type { FastifyReply, FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { PERMISSIONS, requirePermission, type Permission } from '../web/auth.js';
import { Role } from './audit.js';
import { inspection, openTestRecords, userWithPassword } from './records.test-support.js';
import { SignatureMeaning, SIGNING_ROLES } from './signatures.js';

/**
 * Who may do what, checked where it is enforced: the page's permission table (through the
 * preHandler the routes use, with a session as the records hand it out) and the records layer's own
 * refusals (user management, signatures by meaning, reviews). Each role signs in with a real
 * password; a refused action leaves no row behind.
 */
let env: ReturnType<typeof openTestRecords>;
afterEach(() => {
  env?.close();
  sessions.clear();
});

const ROLES = Object.values(Role);
const PASSWORD = { viewer: 'violet-window-11', operator: 'green-meadow-27', supervisor: 'blue-harbour-88', qa: 'amber-lantern-53', admin: 'iron-gate-keeper-9' } as const;

/** One user per role (named after it), all with their password changed, and one inspection to act on. */
async function staff() {
  env = openTestRecords();
  for (const role of ROLES) await userWithPassword(env.records, role, role, PASSWORD[role]);
  return env.store.inspections.record(inspection()).id;
}

/** Whether the page lets a signed-in user of `role` through the route guard of `permission`. */
const sessions = new Map<Role, unknown>();
async function pageAllows(role: Role, permission: Permission): Promise<boolean> {
  if (!sessions.has(role)) sessions.set(role, (await env.records.sessions.login(role, PASSWORD[role])).session);
  const req = { session: sessions.get(role) } as unknown as FastifyRequest;
  try {
    await requirePermission(permission)(req, {} as FastifyReply);
    return true;
  } catch (e) {
    expect((e as Error).message).toContain(`${role} (${role}) may not ${permission}`);
    return false;
  }
}

const allowed = async (permission: Permission): Promise<Role[]> => {
  const out: Role[] = [];
  for (const role of ROLES) if (await pageAllows(role, permission)) out.push(role);
  return out;
};

describe('role permissions', () => {
  it('an operator may not change what decides a verdict (model activation, the camera reference) nor approve; a viewer changes nothing', async () => {
    await staff();
    expect(await allowed('activateModel')).toEqual(['qa']);
    expect(await allowed('setReference')).toEqual(['supervisor']);
    expect(await allowed('review')).toEqual(['supervisor', 'qa']);
    expect(await allowed('signCleaning')).toEqual(['supervisor', 'qa']);
    // A viewer may not acknowledge, shelve, request a check or export; an operator acknowledges but does not shelve.
    expect(await allowed('acknowledgeAlarm')).toEqual(['operator', 'supervisor', 'qa']);
    expect(await allowed('shelveAlarm')).toEqual(['supervisor']);
    for (const p of Object.keys(PERMISSIONS) as Permission[]) expect(await pageAllows('viewer', p), p).toBe(false);
    // Only admins manage users, and admins do not release product.
    expect(await allowed('manageUsers')).toEqual(['admin']);
    for (const p of ['review', 'signCleaning', 'activateModel'] as const) expect(await pageAllows('admin', p), p).toBe(false);
  });

  it('the records refuse user management by anyone but an admin (or the box console), whatever the page lets through', async () => {
    await staff();
    for (const role of ROLES.filter((r) => r !== 'admin')) {
      const by = { user: role, role };
      await expect(env.records.users.createUser(by, { username: `new-${role}`, fullName: 'New User', role: 'admin' }), role).rejects.toThrow(`user "${role}" (${role}) may not manage users: admin only`);
      expect(() => env.records.users.setRole(by, 'viewer', 'admin', 'promote'), role).toThrow(/may not manage users: admin only/);
      expect(() => env.records.users.disable(by, 'admin', 'take over'), role).toThrow(/may not manage users: admin only/);
      await expect(env.records.users.resetPassword(by, 'admin', 'take over'), role).rejects.toThrow(/may not manage users: admin only/);
    }
    expect(env.records.users.list().map((u) => `${u.username}:${u.role}:${u.disabledAt === null ? 'on' : 'off'}`)).toEqual(['admin:admin:on', 'operator:operator:on', 'qa:qa:on', 'supervisor:supervisor:on', 'viewer:viewer:on']);
    const made = await env.records.users.createUser({ user: 'admin', role: 'admin' }, { username: 'nina', fullName: 'Nina New', role: 'operator' });
    expect(made.user.role).toBe('operator');
  });

  it('signatures by meaning: an operator verifies but may not approve or review, an admin signs only as responsible, a viewer signs nothing', async () => {
    const id = await staff();
    const sign = (role: Role, meaning: SignatureMeaning) => env.records.signatures.sign({ recordType: 'inspection', recordId: String(id), meaning, username: role, password: PASSWORD[role] });
    const outcome: Record<string, string[]> = {};
    for (const meaning of SignatureMeaning) {
      outcome[meaning] = [];
      for (const role of ROLES) {
        try {
          await sign(role, meaning);
          outcome[meaning].push(role);
        } catch (e) {
          expect((e as Error).message, `${role} ${meaning}`).toMatch(role === 'viewer' ? /\(viewer\) may not sign records/ : new RegExp(`\\(${role}\\) may not sign as ${meaning}`));
        }
      }
    }
    expect(outcome).toEqual({ reviewed: ['supervisor', 'qa'], approved: ['supervisor', 'qa'], verified: ['operator', 'supervisor', 'qa'], responsible: ['operator', 'supervisor', 'qa', 'admin'] });
    expect(outcome).toEqual(SIGNING_ROLES);
    // Exactly the allowed signatures exist, each audited as signed.
    const rows = env.records.db.prepare(`SELECT username || ':' || meaning AS s FROM signatures ORDER BY id`).all() as Array<{ s: string }>;
    expect(rows.map((r) => r.s)).toEqual(Object.entries(SIGNING_ROLES).flatMap(([meaning, roles]) => roles.map((r) => `${r}:${meaning}`)));
    expect(env.records.audit.recent(100).filter((e) => e.action === 'signed')).toHaveLength(rows.length);
  });

  it('reviews of results: supervisor and qa only', async () => {
    const id = await staff();
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      await expect(env.records.reviews.review({ inspectionId: id, decision: 'pass', reason: 'looks fine', username: role, password: PASSWORD[role] }), role).rejects.toThrow(/may not (review results|sign records)/);
    }
    for (const role of ['supervisor', 'qa'] as const) {
      await env.records.reviews.review({ inspectionId: id, decision: 'reject', reason: `checked by ${role}`, username: role, password: PASSWORD[role] });
    }
    expect(env.records.reviews.inspectionWithReviews(id)!.reviews.map((r) => r.reviewer)).toEqual(['supervisor', 'qa']);
  });
});
