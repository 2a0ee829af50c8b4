/**
 * The JSON API as OpenAPI 3.1, served at `/docs/openapi.json` and readable at `/docs`. Written by
 * hand next to the routes; a test fails when a route is missing here.
 */

import { body, changes, csrf, error, idParam, json, ref, signedIn, text } from './openapi.parts.js';
import { recordsPaths } from './openapi.records.js';

const counters = {
  type: 'object',
  properties: { pass: { type: 'integer' }, reject: { type: 'integer' }, inconclusive: { type: 'integer' }, notInspected: { type: 'integer' } },
};

export function openApiDocument(version: string): Record<string, unknown> {
  return describeApi(version);
}

function describeApi(version: string): Record<string, unknown> & { paths: Record<string, unknown> } {
  return {
    openapi: '3.1.0',
    info: {
      title: 'lineside',
      version,
      description:
        'Line-side vision inspection appliance. All times are UTC (ISO 8601). State-changing requests need a signed-in session (cookie) and the x-csrf-token header.',
    },
    components: {
      securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'lineside_session' } },
      schemas: {
        Error: { type: 'object', required: ['error', 'message'], properties: { error: { type: 'string', examples: ['LINESIDE_ERR_NOT_FOUND'] }, message: { type: 'string' } } },
        Counters: counters,
        Alarm: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            source: { type: 'string', description: 'station id, `*` for the appliance, `user:<name>` for a lock-out' },
            category: { type: 'string' },
            severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
            message: { type: 'string' },
            raisedAt: { type: 'string', format: 'date-time' },
            clearedAt: { type: ['string', 'null'], format: 'date-time' },
            condition: { type: 'string', enum: ['active', 'cleared'] },
            acknowledged: { type: ['object', 'null'], properties: { at: { type: 'string', format: 'date-time' }, by: { type: 'string' }, comment: { type: 'string' } } },
            shelved: { type: ['object', 'null'], properties: { until: { type: 'string', format: 'date-time' }, by: { type: 'string' }, reason: { type: 'string' } } },
          },
        },
        Finding: {
          type: 'object',
          properties: {
            label: { type: 'string' },
            score: { type: 'number' },
            box: { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' }, w: { type: 'number' }, h: { type: 'number' } } },
            rule: { type: 'string' },
            effect: { enum: ['reject', 'inconclusive', 'info'] },
            rejectCode: { type: 'integer' },
          },
        },
        Inspection: {
          type: 'object',
          properties: {
            id: { type: 'integer' },
            stationId: { type: 'string' },
            triggerCount: { type: ['integer', 'null'] },
            partId: { type: ['string', 'null'] },
            batchId: { type: ['string', 'null'] },
            recipeIndex: { type: ['integer', 'null'] },
            recipeName: { type: ['string', 'null'], description: 'name of the recipe the part was inspected with, when it has one' },
            frameOrigin: { type: ['string', 'null'], description: 'where the frame came from: the file name for folder and replay sources; for a cleaning check the views\' files, space-separated' },
            requestedBy: { type: ['string', 'null'], description: 'cleaning checks: the user who asked for it on the page, or PLC for the PLC\'s CleanCheckRequest; null for other inspections' },
            faceBlur: { type: ['string', 'null'], description: 'zone stations: how faces were found and blurred in the evidence image and live view (face model, PPE head boxes, or whole frame)' },
            verdict: { enum: ['pass', 'reject', 'inconclusive', 'not_inspected'] },
            reason: { type: ['string', 'null'] },
            rejectCode: { type: 'integer' },
            score: { type: 'number' },
            startedAt: { type: 'string', format: 'date-time' },
            timings: { type: 'object', additionalProperties: { type: 'number' }, description: 'milliseconds per stage: acquireMs, preprocessMs, inferMs, decodeMs, rulesMs, totalMs' },
            modelVersions: { type: 'object', additionalProperties: { type: 'string' }, description: 'model → name@version+sha256 prefix' },
            findings: { type: 'array', items: { $ref: '#/components/schemas/Finding' } },
            evidenceUrl: { type: ['string', 'null'] },
          },
        },
        Signature: {
          type: 'object',
          description: 'An electronic signature: who (printed name), when, what it means, and the hash of the record signed',
          properties: {
            id: { type: 'integer' },
            meaning: { enum: ['reviewed', 'approved', 'verified', 'responsible'] },
            printedName: { type: 'string' },
            username: { type: 'string' },
            role: { type: 'string' },
            signedAt: { type: 'string', format: 'date-time' },
            contentSha256: { type: 'string' },
            valid: { type: 'boolean', description: 'false when the signed record no longer matches its hash' },
            invalidReason: { type: 'string' },
          },
        },
        Record: {
          allOf: [
            ref('Inspection'),
            {
              type: 'object',
              properties: {
                reviews: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      id: { type: 'integer' },
                      decision: { enum: ['pass', 'reject'] },
                      reason: { type: 'string' },
                      reviewer: { type: 'string' },
                      reviewedAt: { type: 'string', format: 'date-time' },
                      signatures: { type: 'array', items: ref('Signature') },
                    },
                  },
                },
                signatures: { type: 'array', items: ref('Signature'), description: 'signatures on the inspection itself (cleaning: second verifier)' },
                decision: { type: ['string', 'null'], description: 'the latest review decision; the inspection row itself never changes' },
              },
            },
          ],
        },
        AuditEntry: {
          type: 'object',
          properties: {
            seq: { type: 'integer' },
            at: { type: 'string', format: 'date-time' },
            user: { type: 'string' },
            role: { type: 'string' },
            action: { type: 'string' },
            objectType: { type: 'string' },
            objectId: { type: 'string' },
            oldValue: {},
            newValue: {},
            reason: { type: ['string', 'null'] },
            client: { type: ['string', 'null'] },
            hash: { type: 'string', description: 'this row\'s link in the SHA-256 chain' },
          },
        },
        User: {
          type: 'object',
          properties: {
            username: { type: 'string' },
            fullName: { type: 'string' },
            role: { enum: ['viewer', 'operator', 'supervisor', 'qa', 'admin'] },
            disabled: { type: 'boolean' },
            locked: { type: 'boolean' },
            mustChangePassword: { enum: ['oneTime', 'expired', null] },
          },
        },
        Model: {
          type: 'object',
          properties: {
            key: { type: 'string' },
            name: { type: 'string' },
            version: { type: 'string' },
            sha256: { type: 'string' },
            path: { type: 'string' },
            task: { type: 'string' },
            health: { type: 'string' },
            usedBy: { type: 'array', items: { type: 'string' } },
            approvals: { type: 'array', items: ref('Signature') },
            active: { type: 'boolean', description: 'a valid approval signature exists for this exact file' },
            validation: { type: ['object', 'null'], description: 'headline figures of the validation report beside the model' },
          },
        },
        Session: {
          type: 'object',
          properties: {
            username: { type: 'string' },
            fullName: { type: 'string' },
            role: { enum: ['viewer', 'operator', 'supervisor', 'qa', 'admin'] },
            mustChangePassword: { enum: ['oneTime', 'expired', null] },
            may: { type: 'array', items: { type: 'string' }, description: 'the permissions of this role, so the page offers only what the user may do' },
          },
        },
      },
    },
    paths: {
      '/': { get: { summary: 'The supervisor page (HTML)', responses: { 200: { description: 'HTML page' } } } },
      '/docs': { get: { summary: 'This API description, readable (HTML)', responses: { 200: { description: 'HTML page' } } } },
      '/docs/openapi.json': { get: { summary: 'This API description (OpenAPI 3.1)', responses: { 200: json({ type: 'object' }) } } },
      '/healthz': {
        get: {
          summary: 'Health of every component',
          responses: {
            200: json({ type: 'object', properties: { status: { const: 'ok' }, components: { type: 'object' } } }, 'every component healthy'),
            503: json({ type: 'object', properties: { status: { const: 'unhealthy' }, components: { type: 'object' } } }, 'at least one component is not'),
          },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics (text exposition format)', responses: { 200: { description: 'text/plain metrics' } } } },
      '/api/login': {
        post: {
          summary: 'Sign in; sets the session cookie',
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string' } } } } } },
          responses: {
            200: json({ type: 'object', properties: { session: { $ref: '#/components/schemas/Session' }, csrfToken: { type: 'string' } } }),
            401: error('user name or password not accepted, account locked or disabled'),
            429: error('too many failed sign-ins from this address; see Retry-After'),
          },
        },
      },
      '/api/session': {
        get: {
          summary: 'The signed-in user and the CSRF token for this session',
          security: [{ session: [] }],
          responses: { 200: json({ type: 'object', properties: { session: { $ref: '#/components/schemas/Session' }, csrfToken: { type: 'string' } } }), ...signedIn },
        },
      },
      '/api/logout': { post: { summary: 'Sign out', security: [{ session: [] }], parameters: [csrf], responses: { 200: json({ type: 'object' }), 403: changes[403] } } },
      '/api/password': {
        post: {
          summary: 'Change the own password (the current one re-entered)',
          security: [{ session: [] }],
          parameters: [csrf],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['current', 'next'], properties: { current: { type: 'string' }, next: { type: 'string' } } } } } },
          responses: { 200: json({ type: 'object', properties: { session: { $ref: '#/components/schemas/Session' } } }), 400: error('the new password breaks a password rule'), ...changes },
        },
      },
      '/api/stations': {
        get: {
          summary: 'Every station: counters, last inspection, health, alarm word, camera',
          security: [{ session: [] }],
          responses: {
            200: json({
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  id: { type: 'string' },
                  name: { type: 'string' },
                  kind: { enum: ['part', 'zone', 'cleaning'] },
                  counters: { $ref: '#/components/schemas/Counters' },
                  health: { type: 'object' },
                  alarmWord: { type: 'integer', description: 'the AlarmWord the PLC sees (bit map in the README)' },
                  lastInspection: { oneOf: [{ $ref: '#/components/schemas/Inspection' }, { type: 'null' }] },
                  lastEvidence: { oneOf: [{ $ref: '#/components/schemas/Inspection' }, { type: 'null' }] },
                  camera: { type: ['object', 'null'] },
                },
              },
            }),
            ...signedIn,
          },
        },
      },
      '/api/stations/{id}/check': {
        post: {
          summary: 'Run a cleaning verification of one piece of equipment now (recorded with the equipment ID as its part ID; audited checkRequested)',
          security: [{ session: [] }],
          parameters: [idParam('id', 'station id'), csrf],
          requestBody: body(['equipmentId'], { equipmentId: text('the equipment verified, e.g. its asset tag') }),
          responses: { 201: json({ oneOf: [{ $ref: '#/components/schemas/Inspection' }, { type: 'null' }] }), 404: error('no such station'), ...changes },
        },
      },
      '/api/stations/{id}/reference': {
        post: {
          summary: "Make the camera's latest frame its reference view (after re-aiming it)",
          security: [{ session: [] }],
          parameters: [idParam('id', 'station id'), csrf],
          responses: { 201: json({ type: 'object' }), 400: error('the camera has no frame yet'), 404: error('no such station'), ...changes },
        },
      },
      '/api/inspections/{id}': {
        get: {
          summary: 'One inspection with findings, timings and model versions',
          security: [{ session: [] }],
          parameters: [idParam('id', 'inspection id', 'integer')],
          responses: { 200: json({ $ref: '#/components/schemas/Inspection' }), 400: error('not a positive integer'), 404: error('no such inspection'), ...signedIn },
        },
      },
      '/api/inspections/{id}/evidence.jpg': {
        get: {
          summary: 'Its evidence image (x-evidence-sha256 header)',
          security: [{ session: [] }],
          parameters: [idParam('id', 'inspection id', 'integer')],
          responses: { 200: { description: 'image/jpeg' }, 404: error('no evidence image, or no longer on disk'), ...signedIn },
        },
      },
      '/api/alarms': {
        get: {
          summary: 'The active alarm list: active alarms and cleared ones not yet acknowledged, oldest first (shelved ones with shelved=1)',
          security: [{ session: [] }],
          parameters: [{ name: 'shelved', in: 'query', required: false, description: '1 to include shelved alarms', schema: { type: 'string', enum: ['0', '1', 'true', 'false'] } }],
          responses: { 200: json({ type: 'array', items: { $ref: '#/components/schemas/Alarm' } }), ...signedIn },
        },
      },
      '/api/alarms/history': {
        get: {
          summary: 'Alarms with any transition in the window, newest first, each with its whole history',
          security: [{ session: [] }],
          parameters: [
            { name: 'from', in: 'query', required: false, description: 'ISO 8601; default 24 h before `to`', schema: { type: 'string', format: 'date-time' } },
            { name: 'to', in: 'query', required: false, description: 'ISO 8601; default now', schema: { type: 'string', format: 'date-time' } },
            { name: 'station', in: 'query', required: false, description: 'only this source (station id, `*` for the appliance)', schema: { type: 'string' } },
          ],
          responses: {
            200: json({
              type: 'array',
              items: {
                allOf: [
                  { $ref: '#/components/schemas/Alarm' },
                  {
                    type: 'object',
                    properties: {
                      events: {
                        type: 'array',
                        items: {
                          type: 'object',
                          properties: {
                            kind: { type: 'string', enum: ['raised', 'acknowledged', 'shelved', 'unshelved', 'cleared'] },
                            at: { type: 'string', format: 'date-time' },
                            by: { type: 'string' },
                            role: { type: 'string' },
                            comment: { type: ['string', 'null'] },
                            until: { type: ['string', 'null'], format: 'date-time' },
                          },
                        },
                      },
                    },
                  },
                ],
              },
            }),
            400: error('a time that is not ISO 8601, or from not before to'),
            ...signedIn,
          },
        },
      },
      ...recordsPaths,
      '/api/events': {
        get: {
          summary: 'Server-Sent Events: inspection, alarm, health (resume with Last-Event-ID; reset when too much was missed)',
          security: [{ session: [] }],
          parameters: [{ name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'integer' } }],
          responses: { 200: { description: 'text/event-stream' }, ...signedIn },
        },
      },
      '/api/batches': {
        get: {
          summary: 'The 20 most recent batches with their report links',
          security: [{ session: [] }],
          responses: {
            200: json({
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  batchId: { type: 'string' },
                  from: { type: 'string', format: 'date-time' },
                  to: { type: 'string', format: 'date-time' },
                  inspections: { type: 'integer' },
                  reports: { type: 'object', properties: { pdf: { type: 'string' }, csv: { type: 'string' }, json: { type: 'string' } } },
                },
              },
            }),
            ...signedIn,
          },
        },
      },
      '/api/batches/{batchId}/report': {
        get: {
          summary: 'The batch report as a download (recorded in the audit trail)',
          security: [{ session: [] }],
          parameters: [idParam('batchId', 'batch id'), { name: 'format', in: 'query', schema: { enum: ['pdf', 'csv', 'json'], default: 'pdf' } }],
          responses: { 200: { description: 'application/pdf, text/csv or application/json' }, 400: error('unknown format'), 404: error('no inspection in that batch'), ...changes },
        },
      },
    },
  };
}

/** `/docs`: the same description as a plain page, for a reader without tools. */
export function renderDocs(doc: Record<string, unknown>): string {
  const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const paths = doc.paths as Record<string, Record<string, { summary?: string; parameters?: Array<{ name: string; in: string }>; responses: Record<string, { description: string }> }>>;
  const rows = Object.entries(paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(
        ([method, op]) =>
          `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${esc(path)}</code></td><td>${esc(op.summary)}${
            op.parameters?.length ? `<br><small>${op.parameters.map((p) => `${esc(p.name)} (${esc(p.in)})`).join(', ')}</small>` : ''
          }</td><td>${Object.entries(op.responses)
            .map(([code, r]) => `<b>${code}</b> ${esc(r.description)}`)
            .join('<br>')}</td></tr>`,
      ),
    )
    .join('\n');
  const info = doc.info as { title: string; version: string; description: string };
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(info.title)} API</title>
<style>body{font:15px/1.4 system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccd;padding:.4rem;vertical-align:top;text-align:left}code{white-space:nowrap}</style>
</head><body><h1>${esc(info.title)} ${esc(info.version)} — JSON API</h1><p>${esc(info.description)}</p>
<p>Machine-readable: <a href="/docs/openapi.json">/docs/openapi.json</a> (OpenAPI 3.1).</p>
<table><tr><th>method</th><th>path</th><th>what</th><th>responses</th></tr>
${rows}
</table></body></html>`;
}
