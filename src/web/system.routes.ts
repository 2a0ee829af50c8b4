import type { FastifyPluginAsync } from 'fastify';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { SignatureView } from '../records/signatures.js';
import type { Acting } from '../records/users.js';
import { actorOf, requirePermission } from './auth.js';
import { requiredText } from './params.js';
import { signatureJson } from './records.routes.js';

/** A model as the models page shows it: what runs, where, and who approved that exact file. */
export interface ModelView {
  readonly key: string;
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly path: string;
  readonly task: string;
  readonly health: string;
  /** Stations (and their recipes) that use it. */
  readonly usedBy: readonly string[];
  /** Approvals of this file (meaning `approved`); the newest valid one makes it active. */
  readonly approvals: readonly SignatureView[];
  /** Validation report beside the model, if there is one: its headline figures. */
  readonly validation: Record<string, unknown> | null;
}

/** What the models, recipes and system pages read and do. */
export interface SystemDeps {
  readonly info: () => Promise<Record<string, unknown>>;
  readonly models: () => ModelView[];
  readonly recipes: () => ReadonlyArray<{ stationId: string; active: number | null; recipes: ReadonlyArray<{ index: number; name: string; models: readonly string[] }> }>;
  /** QA approves (activates) a model file with a signature; audited `modelActivated`. */
  readonly approveModel: (key: string, by: Acting, password: string) => Promise<void>;
  /** The station camera's newest inspected frame as JPEG, for the live view. */
  readonly liveFrame: (stationId: string) => Promise<{ jpeg: Buffer; capturedAt: number } | null>;
}

function modelJson(m: ModelView): Record<string, unknown> {
  const approvals = m.approvals.map(signatureJson);
  return { ...m, approvals, active: m.approvals.some((a) => a.valid) };
}

/** System information, models and recipes with approval by signature, and the live view. */
export function systemRoutes(deps: SystemDeps): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/system', async () => deps.info());
    app.get('/api/models', async () => deps.models().map(modelJson));
    app.get('/api/recipes', async () => deps.recipes());

    app.post<{ Params: { key: string }; Body: { password?: unknown } }>('/api/models/:key/approve', { preHandler: requirePermission('activateModel') }, async (req, reply) => {
      const { key } = req.params;
      if (!deps.models().some((m) => m.key === key)) throw new LinesideError(ErrorCode.notFound, `model "${key}" is not loaded`);
      await deps.approveModel(key, { ...actorOf(req), client: req.ip }, requiredText('password', req.body?.password));
      reply.code(201);
      return modelJson(deps.models().find((m) => m.key === key)!);
    });

    app.get<{ Params: { id: string } }>('/api/stations/:id/live.jpg', async (req, reply) => {
      const live = await deps.liveFrame(req.params.id);
      if (!live) throw new LinesideError(ErrorCode.notFound, `station "${req.params.id}" has no frame yet`);
      reply.type('image/jpeg').header('cache-control', 'no-store').header('x-captured-at', new Date(live.capturedAt).toISOString());
      return reply.send(live.jpeg);
    });
  };
}
