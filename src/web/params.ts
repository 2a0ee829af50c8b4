import { ErrorCode, LinesideError } from '../domain/errors.js';

/** UTC ISO 8601, or null. */
export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** An optional ISO 8601 query parameter as ms since the epoch; a bad one names the parameter. */
export function optionalTime(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new LinesideError(ErrorCode.badRequest, `"${name}" must be an ISO 8601 time, got "${raw}"`);
  return ms;
}

/** A required, non-blank text field of a request body, trimmed. */
export function requiredText(name: string, raw: unknown): string {
  const text = typeof raw === 'string' ? raw.trim() : '';
  if (text === '') throw new LinesideError(ErrorCode.badRequest, `"${name}" is required`);
  return text;
}

/** A positive integer id from the path; a bad one names what it is the id of. */
export function positiveId(raw: string, what: string): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id < 1) throw new LinesideError(ErrorCode.badRequest, `${what} id must be a positive integer, got "${raw}"`);
  return id;
}
