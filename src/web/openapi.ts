/**
 * The JSON API as OpenAPI 3.1, served at `/docs/openapi.json` and readable at `/docs`. Written by
 * hand next to the routes; a test fails when a route is missing here.
 */

const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json({ $ref: '#/components/schemas/Error' }, description);
const idParam = (name: string, description: string, type: 'string' | 'integer' = 'string') => ({ name, in: 'path', required: true, description, schema: { type } });
const signedIn = { 401: error('not signed in') };
const changes = { 401: error('not signed in'), 403: error("the user's role may not do this, or the CSRF token is missing or wrong") };
const csrf = { name: 'x-csrf-token', in: 'header', required: true, description: 'the csrfToken returned by /api/login or /api/session', schema: { type: 'string' } };

const body = (required: readonly string[], properties: Record<string, object>) => ({
  required: true,
  content: { 'application/json': { schema: { type: 'object', required, properties } } },
});
const text = (description: string) => ({ type: 'string', minLength: 1, description });
const password = text('the signed-in user\'s own password, re-entered at the moment of signing');
const query = (name: string, description: string, schema: object = { type: 'string' }) => ({ name, in: 'query', required: false, description, schema });
const time = (name: string, description: string) => query(name, description, { type: 'string', format: 'date-time' });
const signing = { 400: error('a required field is missing or empty'), 401: error('not signed in, or the password re-entered for the signature was not accepted'), 403: changes[403] };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

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
