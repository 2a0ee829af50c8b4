import { createHash } from 'node:crypto';
import type { RecordsConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { openDatabase, type Db } from '../store/db.js';
import { InspectionRepository } from '../store/inspection.repository.js';
import { auditKeyFor } from './audit-key.js';
import { AuditTrail } from './audit-trail.js';
import { SYSTEM } from './audit.js';
import { canonicalJson } from './canonical.js';
import { BackupScheduler } from './backup.js';
import { inspectionContent, reviewContent, ReviewService } from './reviews.js';
import { SessionService } from './sessions.js';
import { SignatureService, type RecordContent } from './signatures.js';
import { UserDirectory, type User } from './users.js';

/** The Part 11 layer the page calls: audit trail, users and sessions, signatures, reviews. */
export interface Records {
  readonly db: Db;
  readonly audit: AuditTrail;
  readonly users: UserDirectory;
  readonly sessions: SessionService;
  readonly signatures: SignatureService;
  readonly reviews: ReviewService;
  close(): void;
}

/**
 * Open the records on the appliance's database file (its own connection, like a `lineside`
 * command would), creating the audit key on first start.
 */
export function openRecords(opts: {
  file: string;
  /**
   * The store's connection, to share. Alarm acknowledgement and reviews write their audit entry in
   * the same transaction as the row they change; on a second connection that write would wait for
   * the first to commit, which it never does. Without it, records open their own connection.
   */
  db?: Db;
  dataDir: string;
  config: RecordsConfig;
  onLockout?: (user: User) => void;
  now?: () => number;
  /** More signable record types (the appliance adds its models), beside inspections and reviews. */
  signable?: Readonly<Record<string, RecordContent>>;
}): Records {
  const db = opts.db ?? openDatabase(opts.file);
  const owned = opts.db === undefined;
  const now = opts.now ?? Date.now;
  const audit = new AuditTrail(db, auditKeyFor(db, opts.dataDir), now);
  const users = new UserDirectory({ db, audit, policy: opts.config.passwords, onLockout: opts.onLockout, now });
  const sessions = new SessionService({ db, users, audit, idleMinutes: opts.config.sessions.idleMinutes, now });
  const inspections = new InspectionRepository(db);
  const signatures = new SignatureService({
    db,
    users,
    audit,
    records: { ...opts.signable, inspection: inspectionContent(inspections), review: reviewContent(db, inspections) },
    now,
  });
  const reviews = new ReviewService({ db, inspections, signatures, audit, now });
  return { db, audit, users, sessions, signatures, reviews, close: () => owned && db.open && db.close() };
}

/**
 * Start-up in the records: the first admin (its one-time password returned once, never stored in
 * plain text), and `applianceStarted` with the version and a hash of the running configuration.
 */
export async function recordStart(records: Records, info: { version: string; config: unknown }, log: Logger): Promise<string | null> {
  const firstAdmin = await records.users.ensureFirstAdmin();
  const configSha256 = createHash('sha256').update(canonicalJson(info.config)).digest('hex');
  records.audit.append({ actor: SYSTEM, action: 'applianceStarted', objectType: 'appliance', objectId: 'lineside', newValue: { version: info.version, configSha256 } });
  log.info({ version: info.version, configSha256 }, 'appliance start recorded in the audit trail');
  return firstAdmin;
}
