/** Building blocks of the OpenAPI document, shared by its parts. */
export const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
export const error = (description: string) => json({ $ref: '#/components/schemas/Error' }, description);
export const idParam = (name: string, description: string, type: 'string' | 'integer' = 'string') => ({ name, in: 'path', required: true, description, schema: { type } });
export const signedIn = { 401: error('not signed in') };
export const changes = { 401: error('not signed in'), 403: error("the user's role may not do this, or the CSRF token is missing or wrong") };
export const csrf = { name: 'x-csrf-token', in: 'header', required: true, description: 'the csrfToken returned by /api/login or /api/session', schema: { type: 'string' } };

export const body = (required: readonly string[], properties: Record<string, object>) => ({
  required: true,
  content: { 'application/json': { schema: { type: 'object', required, properties } } },
});
export const text = (description: string) => ({ type: 'string', minLength: 1, description });
export const password = text('the signed-in user\'s own password, re-entered at the moment of signing');
export const query = (name: string, description: string, schema: object = { type: 'string' }) => ({ name, in: 'query', required: false, description, schema });
export const time = (name: string, description: string) => query(name, description, { type: 'string', format: 'date-time' });
export const signing = { 400: error('a required field is missing or empty'), 401: error('not signed in, or the password re-entered for the signature was not accepted'), 403: changes[403] };
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
