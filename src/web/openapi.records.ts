/**
 * The OpenAPI paths of the records, users, models and system routes and of acting on alarms
 * (`records.routes.ts`, `system.routes.ts`, `alarm.routes.ts`); `openapi.ts` holds the rest.
 */
import { json, error, idParam, signedIn, changes, csrf, body, text, password, query, time, signing, ref } from './openapi.parts.js';

export const recordsPaths: Record<string, unknown> = {
  '/api/inspections': {
    get: {
      summary: 'Search inspections, newest first (at most 500)',
      security: [{ session: [] }],
      parameters: [
        query('station', 'station id'),
        query('batch', 'batch id'),
        query('verdict', 'verdict', { enum: ['pass', 'reject', 'inconclusive', 'not_inspected'] }),
        query('defect', 'a finding label (defect class) the inspection must contain'),
        time('from', 'ISO 8601'),
        time('to', 'ISO 8601'),
        query('limit', 'default 100, at most 500', { type: 'integer' }),
      ],
      responses: { 200: json({ type: 'array', items: ref('Inspection') }), 400: error('an unknown verdict or a time that is not ISO 8601'), ...signedIn },
    },
  },
  '/api/stations/{id}/summary': {
    get: {
      summary: "A station's counters for its current batch and since `from` (the shift), reject-rate trend over the last hour in 5-minute buckets, defect Pareto, median latency per stage",
      security: [{ session: [] }],
      parameters: [idParam('id', 'station id'), time('from', 'start of the shift; default 8 h ago')],
      responses: {
        200: json({
          type: 'object',
          properties: {
            batch: { type: ['object', 'null'], properties: { batchId: { type: 'string' }, counters: ref('Counters') } },
            since: { type: 'object', properties: { from: { type: 'string', format: 'date-time' }, counters: ref('Counters') } },
            trend: { type: 'array', items: { type: 'object', properties: { at: { type: 'string', format: 'date-time' }, total: { type: 'integer' }, rejects: { type: 'integer' } } } },
            pareto: { type: 'array', items: { type: 'object', properties: { label: { type: 'string' }, inspections: { type: 'integer' } } } },
            latencyMs: { type: 'object', additionalProperties: { type: 'number' } },
            latencySample: { type: 'integer' },
          },
        }),
        404: error('no such station'),
        ...signedIn,
      },
    },
  },
  '/api/inspections/{id}/record': {
    get: {
      summary: 'The full record: the inspection, its reviews and signatures',
      security: [{ session: [] }],
      parameters: [idParam('id', 'inspection id', 'integer')],
      responses: { 200: json(ref('Record')), 400: error('not a positive integer'), 404: error('no such inspection'), ...signedIn },
    },
  },
  '/api/inspections/{id}/review': {
    post: {
      summary: 'Decide an inspection pass or reject with a reason and an electronic signature (meaning reviewed); a new record linked to the original',
      security: [{ session: [] }],
      parameters: [idParam('id', 'inspection id', 'integer'), csrf],
      requestBody: body(['decision', 'reason', 'password'], { decision: { enum: ['pass', 'reject'] }, reason: text('why'), password }),
      responses: { 201: json(ref('Record')), 404: error('no such inspection'), ...signing },
    },
  },
  '/api/inspections/{id}/sign': {
    post: {
      summary: "Sign a cleaning verification as second verifier (meaning verified)",
      security: [{ session: [] }],
      parameters: [idParam('id', 'inspection id', 'integer'), csrf],
      requestBody: body(['password'], { password }),
      responses: { 201: json(ref('Record')), 404: error('no such inspection'), ...signing },
    },
  },
  '/api/reviews/pending': {
    get: {
      summary: 'The review queue: inconclusive inspections nobody has decided yet, newest first',
      security: [{ session: [] }],
      responses: { 200: json({ type: 'array', items: ref('Inspection') }), ...signedIn },
    },
  },
  '/api/audit': {
    get: {
      summary: 'The audit trail, newest first (supervisor, QA, admin)',
      security: [{ session: [] }],
      parameters: [time('from', 'ISO 8601'), time('to', 'ISO 8601'), query('action', 'e.g. alarmAcknowledged, reviewRecorded, login'), query('user', 'user name'), query('limit', 'default 200', { type: 'integer' })],
      responses: { 200: json({ type: 'array', items: ref('AuditEntry') }), 400: error('a bad time or limit'), ...changes },
    },
  },
  '/api/audit/export.csv': {
    get: {
      summary: 'The filtered audit trail as CSV (the export itself is audited)',
      security: [{ session: [] }],
      parameters: [time('from', 'ISO 8601'), time('to', 'ISO 8601'), query('action', 'action'), query('user', 'user name'), query('limit', 'default 10000', { type: 'integer' })],
      responses: { 200: { description: 'text/csv' }, 400: error('a bad time or limit'), ...changes },
    },
  },
  '/api/users': {
    get: { summary: 'Every user account (admin)', security: [{ session: [] }], responses: { 200: json({ type: 'array', items: ref('User') }), ...changes } },
    post: {
      summary: 'Create a user; the one-time password is returned once (admin)',
      security: [{ session: [] }],
      parameters: [csrf],
      requestBody: body(['username', 'fullName', 'role'], { username: text('sign-in name'), fullName: text('printed name on signatures'), role: { enum: ['viewer', 'operator', 'supervisor', 'qa', 'admin'] }, reason: { type: 'string' } }),
      responses: { 201: json({ type: 'object', properties: { user: ref('User'), oneTimePassword: { type: 'string' } } }), 400: error('bad or duplicate user name, unknown role'), ...changes },
    },
  },
  '/api/users/{username}/role': {
    post: {
      summary: "Change a user's role, with a reason (admin)",
      security: [{ session: [] }],
      parameters: [idParam('username', 'user name'), csrf],
      requestBody: body(['role', 'reason'], { role: { enum: ['viewer', 'operator', 'supervisor', 'qa', 'admin'] }, reason: text('why') }),
      responses: { 200: json(ref('User')), 400: error('unknown role or missing reason'), 404: error('no such user'), ...changes },
    },
  },
  '/api/users/{username}/disable': {
    post: {
      summary: 'Disable a user account, with a reason; its sessions end (admin)',
      security: [{ session: [] }],
      parameters: [idParam('username', 'user name'), csrf],
      requestBody: body(['reason'], { reason: text('why') }),
      responses: { 200: json(ref('User')), 404: error('no such user'), ...changes },
    },
  },
  '/api/users/{username}/reset-password': {
    post: {
      summary: 'Give a user a new one-time password, returned once (admin)',
      security: [{ session: [] }],
      parameters: [idParam('username', 'user name'), csrf],
      requestBody: body(['reason'], { reason: text('why') }),
      responses: { 200: json({ type: 'object', properties: { user: ref('User'), oneTimePassword: { type: 'string' } } }), 404: error('no such user'), ...changes },
    },
  },
  '/api/system': { get: { summary: 'Versions, data directory and disk, links to the PLC and cameras', security: [{ session: [] }], responses: { 200: json({ type: 'object' }), ...signedIn } } },
  '/api/models': { get: { summary: 'Loaded models: version, hash, validation, approvals', security: [{ session: [] }], responses: { 200: json({ type: 'array', items: ref('Model') }), ...signedIn } } },
  '/api/recipes': {
    get: {
      summary: 'Recipes per station and the active one',
      security: [{ session: [] }],
      responses: {
        200: json({ type: 'array', items: { type: 'object', properties: { stationId: { type: 'string' }, active: { type: ['integer', 'null'] }, recipes: { type: 'array', items: { type: 'object' } } } } }),
        ...signedIn,
      },
    },
  },
  '/api/models/{key}/approve': {
    post: {
      summary: 'Approve (activate) this exact model file with an electronic signature (meaning approved); audited modelActivated (QA)',
      security: [{ session: [] }],
      parameters: [idParam('key', 'model key'), csrf],
      requestBody: body(['password'], { password }),
      responses: { 201: json(ref('Model')), 404: error('no such model'), ...signing },
    },
  },
  '/api/stations/{id}/live.jpg': {
    get: {
      summary: "The station camera's newest frame (the live view polls it; x-captured-at header)",
      security: [{ session: [] }],
      parameters: [idParam('id', 'station id')],
      responses: { 200: { description: 'image/jpeg' }, 404: error('no such station, or no frame yet'), ...signedIn },
    },
  },
  '/api/alarms/{id}/acknowledge': {
    post: {
      summary: 'Acknowledge an alarm with a comment (operator and up); audited',
      security: [{ session: [] }],
      parameters: [idParam('id', 'alarm id', 'integer'), csrf],
      requestBody: body(['comment'], { comment: text('what was found or done') }),
      responses: { 200: json(ref('Alarm')), 400: error('missing comment or already acknowledged'), 404: error('no such alarm'), ...changes },
    },
  },
  '/api/alarms/{id}/shelve': {
    post: {
      summary: 'Shelve an alarm for a time with a reason (supervisor and up); its PLC bit stays; audited',
      security: [{ session: [] }],
      parameters: [idParam('id', 'alarm id', 'integer'), csrf],
      requestBody: body(['reason', 'minutes'], { reason: text('why'), minutes: { type: 'number', exclusiveMinimum: 0, description: 'up to the configured longest shelving' } }),
      responses: { 200: json(ref('Alarm')), 400: error('missing reason, or a duration beyond the longest allowed'), 404: error('no such alarm'), ...changes },
    },
  },
  '/api/alarms/{id}/unshelve': {
    post: {
      summary: 'Return a shelved alarm to the list, with a reason; audited',
      security: [{ session: [] }],
      parameters: [idParam('id', 'alarm id', 'integer'), csrf],
      requestBody: body(['reason'], { reason: text('why') }),
      responses: { 200: json(ref('Alarm')), 400: error('missing reason or not shelved'), 404: error('no such alarm'), ...changes },
    },
  },
};
