/**
 * The error catalogue. Every error the appliance raises on purpose has a stable code, so logs,
 * HTTP answers and the records can be searched for it.
 */
export const ErrorCode = {
  config: 'LINESIDE_ERR_CONFIG',
  modelLoad: 'LINESIDE_ERR_MODEL_LOAD',
  modelRun: 'LINESIDE_ERR_MODEL_RUN',
  modelUnhealthy: 'LINESIDE_ERR_MODEL_UNHEALTHY',
  imageDecode: 'LINESIDE_ERR_IMAGE_DECODE',
  sourceUnavailable: 'LINESIDE_ERR_SOURCE_UNAVAILABLE',
  frameStale: 'LINESIDE_ERR_FRAME_STALE',
  queueFull: 'LINESIDE_ERR_QUEUE_FULL',
  plcWrite: 'LINESIDE_ERR_PLC_WRITE',
  plcNotConnected: 'LINESIDE_ERR_PLC_NOT_CONNECTED',
  storage: 'LINESIDE_ERR_STORAGE',
  notFound: 'LINESIDE_ERR_NOT_FOUND',
  badRequest: 'LINESIDE_ERR_BAD_REQUEST',
  stopped: 'LINESIDE_ERR_STOPPED',
  unauthenticated: 'LINESIDE_ERR_UNAUTHENTICATED',
  forbidden: 'LINESIDE_ERR_FORBIDDEN',
  tampered: 'LINESIDE_ERR_TAMPERED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class LinesideError extends Error {
  readonly code: ErrorCode;
  /** Extra structured context for logs (never secrets). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LinesideError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isLinesideError(e: unknown, code?: ErrorCode): e is LinesideError {
  return e instanceof LinesideError && (code === undefined || e.code === code);
}

/** A short human reason for the record, from any thrown value. */
export function reasonOf(e: unknown): string {
  if (e instanceof LinesideError) return `${e.code}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
