import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import Fastify, { LogController } from 'fastify';
import type { StationConfig } from '../config/schema.js';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { StoredInspection } from '../domain/inspection.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { SourceStats } from '../sources/frame-source.js';
import type { ImageHealthReport } from '../sources/image-health.js';
import type { HealthReport } from '../stations/supervisor.js';
import type { StationHealth } from '../stations/station.js';
import type { VerdictCounters } from '../store/inspection.repository.js';
import type { AlarmCenter } from '../stations/alarm-center.js';
import { alarmRoutes } from './alarm.routes.js';
import { errorHandler } from './errors.js';
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
  readonly requestCheck: (stationId: string, by: string) => Promise<StoredInspection | null>;
  /** Makes the camera's latest frame its reference view; false when it has no frame yet. */
  readonly setReference: (stationId: string, by: string) => Promise<boolean>;
  /** The alarm list and history (GET /api/alarms…). */
  readonly alarms: Pick<AlarmCenter, 'active' | 'history'>;
  /** Why an inspection's evidence image is gone, if retention deleted it. */
  readonly evidenceDeletion?: (inspectionId: number) => { deletedAt: number; reason: string } | undefined;
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

/** The public shape of an inspection in the JSON API (kept stable for clients). */
function inspectionJson(i: StoredInspection): Record<string, unknown> {
  return {
    id: i.id,
    stationId: i.stationId,
    triggerCount: i.triggerCount,
    partId: i.partId,
    batchId: i.batchId,
    recipeIndex: i.recipeIndex,
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

/** Builds the app without listening, so tests use `inject()`. */
export function buildWebApp(deps: WebDeps) {
  const app = Fastify({ loggerInstance: deps.logger.child({ component: 'web' }), logController: new LogController({ disableRequestLogging: true }) });
  app.setErrorHandler(errorHandler(deps.logger));

  app.get('/', async (_req, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return renderPage(deps.line, deps.version);
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

  app.post<{ Params: { id: string } }>('/api/stations/:id/check', async (req, reply) => {
    const stored = await deps.requestCheck(req.params.id, `web ${req.ip}`);
    reply.code(201);
    return stored ? inspectionJson(stored) : null;
  });

  app.post<{ Params: { id: string } }>('/api/stations/:id/reference', async (req, reply) => {
    const ok = await deps.setReference(req.params.id, `web ${req.ip}`);
    if (!ok) throw new LinesideError(ErrorCode.badRequest, `station "${req.params.id}" has no frame yet to take as the reference view`);
    reply.code(201);
    return { stationId: req.params.id, reference: 'set' };
  });

  void app.register(alarmRoutes(deps.alarms));

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
