import type { NodeId } from 'node-opcua';
import { makeRoles, UAUserManagerBase, type ServerSession } from 'node-opcua';
import type { Logger } from '../observability/logger.js';
import type { AuditLog, Role } from '../records/audit.js';
import type { UserDirectory } from '../records/users.js';

/** OPC UA well-known roles (OPC 10000-3 §4.8.2) of the appliance's roles. */
const WELL_KNOWN: Readonly<Record<Role, string>> = {
  viewer: 'AuthenticatedUser;Observer',
  operator: 'AuthenticatedUser;Operator',
  supervisor: 'AuthenticatedUser;Supervisor',
  qa: 'AuthenticatedUser;Supervisor',
  admin: 'AuthenticatedUser;ConfigureAdmin',
};

/** Where a session comes from, for the audit trail (no port: it changes on every connection). */
export function sessionClient(session: ServerSession | undefined): string {
  const address = (session?.channel as { remoteAddress?: string } | undefined)?.remoteAddress;
  return `opc.tcp ${address ?? 'unknown'}`;
}

/**
 * Sessions sign in against the appliance's user directory: the same accounts, password checks and
 * lock-out as the page, audited the same way (`login`, `loginFailed`). A password that must be
 * changed (one-time or expired) is refused here: it can only be changed on the page.
 */
export class ScadaUserManager extends UAUserManagerBase {
  readonly #users: Pick<UserDirectory, 'checkPassword' | 'get' | 'expired'>;
  readonly #audit: Pick<AuditLog, 'append'>;
  readonly #log: Logger;

  constructor(deps: { users: Pick<UserDirectory, 'checkPassword' | 'get' | 'expired'>; audit: Pick<AuditLog, 'append'>; logger: Logger }) {
    super();
    this.#users = deps.users;
    this.#audit = deps.audit;
    this.#log = deps.logger;
  }

  override async isValidUser(session: ServerSession, username: string, password: string): Promise<boolean> {
    const client = sessionClient(session);
    const check = await this.#users.checkPassword(username, password, { client, purpose: 'OPC UA session' });
    if (!check.ok) {
      this.#log.warn({ user: username, client, why: check.why }, `OPC UA session refused: ${refusal(check.why)}`);
      return false;
    }
    const user = check.user;
    const mustChange = user.mustChange ? 'one-time password' : this.#users.expired(user) ? 'expired password' : null;
    if (mustChange !== null) {
      this.#audit.append({ actor: { user: username, role: user.role }, action: 'loginFailed', objectType: 'user', objectId: username, reason: `OPC UA session: ${mustChange} must be changed on the web page first`, client });
      this.#log.warn({ user: username, client }, `OPC UA session refused: the ${mustChange} must be changed on the web page first`);
      return false;
    }
    this.#audit.append({ actor: { user: username, role: user.role }, action: 'login', objectType: 'opcuaSession', objectId: username, client });
    this.#log.info({ user: username, role: user.role, client }, 'OPC UA session signed in');
    return true;
  }

  override getUserRoles(username: string): NodeId[] {
    const role = this.#users.get(username)?.role;
    return makeRoles(role === undefined ? 'Anonymous' : WELL_KNOWN[role]);
  }
}

function refusal(why: 'unknown' | 'disabled' | 'locked' | 'wrong'): string {
  switch (why) {
    case 'locked':
      return 'account locked after too many wrong passwords (an administrator must reset it)';
    case 'disabled':
      return 'account disabled';
    case 'unknown':
    case 'wrong':
      return 'user name or password not accepted';
  }
}
