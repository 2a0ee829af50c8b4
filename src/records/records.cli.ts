import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { configSchema } from '../config/schema.js';
import { isLinesideError } from '../domain/errors.js';
import { openDatabase } from '../store/db.js';
import { auditKeyFor, auditKeyPath, readAuditKey } from './audit-key.js';
import { AuditTrail } from './audit-trail.js';
import { Role, type Actor } from './audit.js';
import { backupDatabase, restoreDatabase } from './backup.js';
import { UserDirectory } from './users.js';
import { verifyAudit } from './verify-audit.js';

export const RECORDS_USAGE = `  lineside users (list | add --user NAME --name "FULL NAME" --role ROLE
                 | reset-password --user NAME | disable --user NAME)
                 --db FILE [--reason TEXT]
      Manage users on the box itself (e.g. the admin password is lost). Audited
      as user "console:<os user>" with role "system"; add and reset-password
      print a one-time password that must be changed at first sign-in.
  lineside verify-audit --db FILE [--data-dir DIR]
      Recompute the audit trail's hash chain and every evidence image's
      SHA-256; exits 1 naming the first broken row or image. DIR holds
      audit.key and evidence/ (default: the database's folder).
  lineside backup --db FILE --out FILE [--data-dir DIR]
      Online backup (safe while the appliance runs); audited as backupMade.
  lineside restore --from FILE --data-dir DIR [--reason TEXT]
      Put a backup in place of DIR/lineside.db after checking its audit chain;
      refuses while an appliance runs on DIR. The replaced file is kept. The
      restored database gets an audit entry "restored" (console:<os user>).
`;

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: Io = { out: (l) => console.log(l), err: (l) => console.error(l) };

function consoleActor(): Actor {
  return { user: `console:${userInfo().username}`, role: 'system' };
}

/** `lineside users|verify-audit|backup|restore`: exit code 0 ok, 1 failed or tampered, 2 usage. */
export async function recordsCommand(command: string, args: string[], io: Io = consoleIo): Promise<number> {
  try {
    switch (command) {
      case 'users':
        return await users(args, io);
      case 'verify-audit':
        return await verify(args, io);
      case 'backup':
        return await backup(args, io);
      case 'restore':
        return restore(args, io);
      default:
        io.err(RECORDS_USAGE);
        return 2;
    }
  } catch (e) {
    io.err(`lineside ${command}: ${isLinesideError(e) ? e.message : (e as Error).message}`);
    return 1;
  }
}

async function users(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { db: { type: 'string' }, user: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, reason: { type: 'string' }, 'data-dir': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [action] = positionals;
  if (!values.db || !action || (action !== 'list' && !values.user)) {
    io.err(`usage:\n${RECORDS_USAGE}`);
    return 2;
  }
  const file = resolve(values.db);
  const db = openDatabase(file);
  try {
    const audit = new AuditTrail(db, auditKeyFor(db, resolve(values['data-dir'] ?? dirname(file))));
    const dir = new UserDirectory({ db, audit, policy: configSchema.shape.records.parse(undefined).passwords });
    const by = consoleActor();
    const reason = `local console (lineside users ${action})${values.reason ? `: ${values.reason}` : ''}`;
    const user = values.user ?? '';
    switch (action) {
      case 'list':
        for (const u of dir.list()) {
          const state = u.disabledAt !== null ? 'disabled' : u.lockedAt !== null ? 'locked' : u.mustChange ? 'must change password' : 'active';
          io.out(`${u.username.padEnd(16)} ${u.role.padEnd(10)} ${state.padEnd(20)} ${u.fullName}`);
        }
        return 0;
      case 'add': {
        if (!values.name || !values.role) {
          io.err('usage: lineside users add --db FILE --user NAME --name "FULL NAME" --role ROLE');
          return 2;
        }
        const created = await dir.createUser(by, { username: user, fullName: values.name, role: values.role as Role }, reason);
        io.out(`user "${created.user.username}" (${created.user.role}) created; one-time password: ${created.oneTimePassword}`);
        return 0;
      }
      case 'reset-password': {
        const reset = await dir.resetPassword(by, user, reason);
        io.out(`user "${reset.user.username}": password reset, lock-out cleared; one-time password: ${reset.oneTimePassword}`);
        return 0;
      }
      case 'disable':
        dir.disable(by, user, reason);
        io.out(`user "${user}" disabled (kept on record; sessions ended)`);
        return 0;
      default:
        io.err(`lineside users: unknown action "${action}": list, add, reset-password or disable`);
        return 2;
    }
  } finally {
    db.close();
  }
}

async function verify(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { db: { type: 'string' }, 'data-dir': { type: 'string' } }, strict: true });
  if (!values.db) {
    io.err('usage: lineside verify-audit --db FILE [--data-dir DIR]');
    return 2;
  }
  const file = resolve(values.db);
  const dataDir = resolve(values['data-dir'] ?? dirname(file));
  const key = readAuditKey(auditKeyPath(dataDir));
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const report = await verifyAudit(db, key, dataDir);
    if (!report.ok) {
      io.err(`TAMPERED: ${report.problem}`);
      return 1;
    }
    io.out(`audit trail OK: ${report.entries} entries, chain intact; ${report.images} evidence images match their SHA-256 (${report.imagesDeleted} deleted by retention, skipped)`);
    return 0;
  } finally {
    db.close();
  }
}

async function backup(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { db: { type: 'string' }, out: { type: 'string' }, 'data-dir': { type: 'string' } }, strict: true });
  if (!values.db || !values.out) {
    io.err('usage: lineside backup --db FILE --out FILE [--data-dir DIR]');
    return 2;
  }
  const file = resolve(values.db);
  const db = openDatabase(file);
  try {
    const audit = new AuditTrail(db, readAuditKey(auditKeyPath(resolve(values['data-dir'] ?? dirname(file)))));
    const result = await backupDatabase(db, resolve(values.out), audit, consoleActor(), 'on demand (lineside backup)');
    io.out(`backup written: ${result.file} (${result.bytes} bytes, ${result.auditEntries} audit entries)`);
    return 0;
  } finally {
    db.close();
  }
}

function restore(args: string[], io: Io): number {
  const { values } = parseArgs({ args, options: { from: { type: 'string' }, 'data-dir': { type: 'string' }, reason: { type: 'string' } }, strict: true });
  if (!values.from || !values['data-dir']) {
    io.err('usage: lineside restore --from FILE --data-dir DIR [--reason TEXT]');
    return 2;
  }
  const dataDir = resolve(values['data-dir']);
  const reason = `local console (lineside restore)${values.reason ? `: ${values.reason}` : ''}`;
  const result = restoreDatabase(resolve(values.from), dataDir, readAuditKey(auditKeyPath(dataDir)), { actor: consoleActor(), reason });
  io.out(`restored ${resolve(values.from)} into ${dataDir} (audit chain of ${result.auditEntries} entries verified; audited as restored, seq ${result.entry.seq})${result.replaced ? `; previous database kept as ${result.replaced}` : ''}`);
  return 0;
}
