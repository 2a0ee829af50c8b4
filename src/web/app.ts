import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { StationConfig } from '../config/schema.js';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { LinesideEvents } from '../domain/events.js';
import type { StoredInspection } from '../domain/inspection.js';
import type { TypedEmitter } from '../domain/typed-emitter.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { SourceStats } from '../sources/frame-source.js';
import type { ImageHealthReport } from '../sources/image-health.js';
import type { HealthReport } from '../stations/supervisor.js';
import type { StationHealth } from '../stations/station.js';
import type { VerdictCounters } from '../store/inspection.repository.js';
import type { AlarmCenter } from '../stations/alarm-center.js';
import type { Acting } from '../records/users.js';
import type { Records } from '../records/records.js';
import type { InspectionQuery } from '../store/inspection.repository.js';
import { alarmRoutes } from './alarm.routes.js';
import { actorOf, registerAuth, requirePermission, requireSession } from './auth.js';
import { recordsRoutes, type RecordsDeps } from './records.routes.js';
import { systemRoutes, type SystemDeps } from './system.routes.js';
import { isReportFormat, REPORT_FORMATS, type ReportFormat } from '../tools/report.js';
import { errorHandler } from './errors.js';
import { requiredText } from './params.js';
import { EventStream } from './event-stream.js';
import { openApiDocument, renderDocs } from './openapi.js';
import { registerSecurityHeaders } from './security-headers.js';
import { renderPage } from './page.js';

/** What the web layer may see and do; nothing else of the application reaches it. */
export interface WebDeps {
  readonly line: string;
  readonly version: string;
  readonly stations: () => ReadonlyArray<{
    config: StationConfig;
    health: StationHealth;
    counters: VerdictCounters;
    last: StoredInspection | undefined;
    lastEvidence: StoredInspection | undefined;
    alarmWord: number;
    camera?: CameraView;
  }>;
  readonly health: () => HealthReport;
  readonly inspection: (id: number) => StoredInspection | undefined;
  readonly evidenceFile: (relativePath: string) => string;
  /** A cleaning verification of one piece of equipment; audited `checkRequested`. */
  readonly requestCheck: (stationId: string, by: Acting, equipmentId: string, batchId?: string) => Promise<StoredInspection | null>;
  /** Makes the camera's latest frame its reference view; false when it has no frame yet. */
  readonly setReference: (stationId: string, by: Acting) => Promise<boolean>;
  /** The alarm list and history, and acting on alarms. */
  readonly alarms: Pick<AlarmCenter, 'active' | 'history' | 'acknowledge' | 'shelve' | 'unshelve'>;
  /** Sign-in sessions, users, the audit trail, signatures and reviews. */
  readonly records: Pick<Records, 'sessions' | 'audit' | 'users' | 'signatures' | 'reviews'>;
  /** The history search. */
  readonly searchInspections: (q: InspectionQuery) => StoredInspection[];
  readonly stationSummary: RecordsDeps['stationSummary'];
  /** Models, recipes and the system page. */
  readonly system: SystemDeps;
  /** Why an inspection's evidence image is gone, if retention deleted it. */
  readonly evidenceDeletion?: (inspectionId: number) => { deletedAt: number; reason: string } | undefined;
  /** Recent batches for the report list, newest first. */
  readonly batches: () => ReadonlyArray<{ batchId: string; from: number; to: number; inspections: number }>;
  /** A batch's report, rendered; the export is recorded with who asked for it. */
  readonly batchReport: (batchId: string, format: ReportFormat, by: Acting) => Promise<{ body: Buffer; fileName: string; contentType: string }>;
  /** PEM certificate and key: the page is served over HTTPS (cookies get Secure, HSTS is sent). */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  /** The appliance's events, streamed to the page. */
  readonly bus: TypedEmitter<LinesideEvents>;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** What the page shows of a camera: its kind, counters and image health. */
export interface CameraView {
  readonly kind: string;
  readonly description: string;
  readonly stats: SourceStats;
  readonly image: ImageHealthReport | null;
}

/** Routes anyone may call: sign-in itself, and what monitoring and the docs need. */
const OPEN_API_ROUTES = new Set(['/api/login', '/api/session', '/api/logout', '/api/password']);

/** The public shape of an inspection in the JSON API (kept stable for clients). */
function inspectionJson(i: StoredInspection): Record<string, unknown> {
  return {
    id: i.id,
    stationId: i.stationId,
    triggerCount: i.triggerCount,
    partId: i.partId,
    batchId: i.batchId,
    recipeIndex: i.recipeIndex,
    recipeName: i.recipeName ?? null,
    requestedBy: i.requestedBy ?? null,
    faceBlur: i.faceBlur ?? null,
    frameOrigin: i.frameOrigin ?? null,
    verdict: i.verdict,
    reason: i.reason,
    rejectCode: i.rejectCode,
    score: i.score,
    startedAt: new Date(i.startedAt).toISOString(),
    timings: i.timings,
    modelVersions: i.modelVersions,
    findings: i.findings,
    evidenceUrl: i.evidencePath ? `/api/inspections/${i.id}/evidence.jpg` : null,
  };
}

const ROUTES = new WeakMap<FastifyInstance, string[]>();

/** Every route the app serves, as `METHOD /path/:param` (the OpenAPI document must list exactly these). */
export function servedRoutes(app: FastifyInstance): string[] {
  return [...(ROUTES.get(app) ?? [])];
}

/** Builds the app without listening, so tests use `inject()`. */
export function buildWebApp(deps: WebDeps) {
  // forceCloseConnections: a stop ends the page's event streams and does not wait for the
  // browsers' keep-alive sockets to go idle.
  const options = {
    loggerInstance: deps.logger.child({ component: 'web' }),
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
  };
  // Routes and hooks do not depend on the server's type; one instance type keeps them so.
  const app = (deps.tls ? Fastify({ ...options, https: { cert: deps.tls.cert, key: deps.tls.key } }) : Fastify(options)) as unknown as FastifyInstance;
  app.setErrorHandler(errorHandler(deps.logger));
  const served: string[] = [];
  ROUTES.set(app, served);
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') served.push(`${m} ${r.url}`);
  });
  registerSecurityHeaders(app, { secure: deps.tls !== undefined });
  registerAuth(app, { authority: deps.records.sessions, secure: deps.tls !== undefined });
  // Every /api route needs a signed-in user unless it is listed as open: a new route is protected
  // without anyone remembering to. Actions state their permission on top of this.
  app.addHook('preHandler', async (req, reply) => {
    const url = req.routeOptions.url;
    if (url !== undefined && url.startsWith('/api/') && !OPEN_API_ROUTES.has(url)) await requireSession(req, reply);
  });

  app.get('/', async (_req, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return renderPage(deps.line, deps.version, reply.cspNonce);
  });

  const events = new EventStream(deps.bus, { inspection: inspectionJson });
  app.addHook('preClose', async () => events.close());
  app.get<{ Querystring: { lastEventId?: string } }>('/api/events', (req, reply) => {
    const raw = req.headers['last-event-id'] ?? req.query.lastEventId;
    const lastId = raw === undefined || Array.isArray(raw) ? null : Number(raw);
    reply.hijack();
    events.serve(reply.raw, lastId !== null && Number.isSafeInteger(lastId) && lastId >= 0 ? lastId : null);
  });

  app.get('/healthz', async (_req, reply) => {
    const h = deps.health();
    reply.code(h.ok ? 200 : 503).header('cache-control', 'no-store');
    return { status: h.ok ? 'ok' : 'unhealthy', components: h.components };
  });

  app.get('/api/stations', async () =>
    deps.stations().map((s) => ({
      id: s.config.id,
      name: s.config.name ?? s.config.id,
      kind: s.config.kind,
      counters: s.counters,
      health: s.health,
      alarmWord: s.alarmWord,
      lastInspection: s.last ? inspectionJson(s.last) : null,
      lastEvidence: s.lastEvidence ? inspectionJson(s.lastEvidence) : null,
      camera: s.camera ?? null,
    })),
  );

  app.get<{ Params: { id: string } }>('/api/inspections/:id', async (req) => inspectionJson(findInspection(deps, req.params.id)));

  app.get<{ Params: { id: string } }>('/api/inspections/:id/evidence.jpg', async (req, reply) => {
    const insp = findInspection(deps, req.params.id);
    if (!insp.evidencePath) throw new LinesideError(ErrorCode.notFound, `inspection ${insp.id} has no evidence image`);
    const file = deps.evidenceFile(insp.evidencePath);
    const st = await stat(file).catch(() => null);
    if (!st) {
      const deleted = deps.evidenceDeletion?.(insp.id);
      if (deleted) throw new LinesideError(ErrorCode.notFound, `evidence image of inspection ${insp.id} was deleted by retention at ${new Date(deleted.deletedAt).toISOString()}: ${deleted.reason} (the record and the image's sha256 are kept)`);
      throw new LinesideError(ErrorCode.notFound, `evidence image of inspection ${insp.id} is no longer on disk`);
    }
    reply.type('image/jpeg').header('content-length', st.size).header('x-evidence-sha256', insp.evidenceSha256 ?? '');
    return reply.send(createReadStream(file));
  });

  app.post<{ Params: { id: string }; Body: { equipmentId?: unknown; batchId?: unknown } }>('/api/stations/:id/check', { preHandler: requirePermission('requestCheck') }, async (req, reply) => {
    const stored = await deps.requestCheck(req.params.id, { ...actorOf(req), client: req.ip }, requiredText('equipmentId', req.body?.equipmentId), req.body?.batchId === undefined ? undefined : requiredText('batchId', req.body.batchId));
    reply.code(201);
    return stored ? inspectionJson(stored) : null;
  });

  app.post<{ Params: { id: string } }>('/api/stations/:id/reference', { preHandler: requirePermission('setReference') }, async (req, reply) => {
    const ok = await deps.setReference(req.params.id, { ...actorOf(req), client: req.ip });
    if (!ok) throw new LinesideError(ErrorCode.badRequest, `station "${req.params.id}" has no frame yet to take as the reference view`);
    reply.code(201);
    return { stationId: req.params.id, reference: 'set' };
  });

  void app.register(alarmRoutes(deps.alarms));
  void app.register(recordsRoutes({ records: deps.records, searchInspections: deps.searchInspections, stationSummary: deps.stationSummary, inspectionJson }));
  void app.register(systemRoutes(deps.system));
  app.get('/api/batches', async () =>
    deps.batches().map((b) => ({
      batchId: b.batchId,
      from: new Date(b.from).toISOString(),
      to: new Date(b.to).toISOString(),
      inspections: b.inspections,
      reports: Object.fromEntries(REPORT_FORMATS.map((f) => [f, `/api/batches/${encodeURIComponent(b.batchId)}/report?format=${f}`])),
    })),
  );

  app.get<{ Params: { batchId: string }; Querystring: { format?: string } }>('/api/batches/:batchId/report', { preHandler: requirePermission('exportRecords') }, async (req, reply) => {
    const format = req.query.format ?? 'pdf';
    if (!isReportFormat(format)) throw new LinesideError(ErrorCode.badRequest, `format must be one of ${REPORT_FORMATS.join(', ')}, not "${format}"`);
    const r = await deps.batchReport(req.params.batchId, format, { ...actorOf(req), client: req.ip });
    reply.type(r.contentType).header('content-disposition', `attachment; filename="${r.fileName}"`).header('cache-control', 'no-store');
    return reply.send(r.body);
  });

  const apiDoc = openApiDocument(deps.version);
  app.get('/docs/openapi.json', async () => apiDoc);
  app.get('/docs', async (_req, reply) => reply.type('text/html; charset=utf-8').send(renderDocs(apiDoc)));

  app.get('/metrics', async (_req, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  return app;
}

function findInspection(deps: WebDeps, raw: string): StoredInspection {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id < 1) throw new LinesideError(ErrorCode.badRequest, `inspection id must be a positive integer, got "${raw}"`);
  const insp = deps.inspection(id);
  if (!insp) throw new LinesideError(ErrorCode.notFound, `inspection ${id} does not exist`);
  return insp;
}
