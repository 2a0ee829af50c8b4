import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, LinesideError } from '../domain/errors.js';
import type { Logger } from '../observability/logger.js';

/** The one place that maps errors to HTTP statuses. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.badRequest]: 400,
  [ErrorCode.config]: 400,
  [ErrorCode.unauthenticated]: 401,
  [ErrorCode.forbidden]: 403,
  [ErrorCode.notFound]: 404,
  [ErrorCode.queueFull]: 429,
  [ErrorCode.sourceUnavailable]: 503,
  [ErrorCode.plcNotConnected]: 503,
  [ErrorCode.modelUnhealthy]: 503,
  [ErrorCode.stopped]: 503,
};

export function errorHandler(logger: Logger) {
  return (err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void => {
    if (err instanceof LinesideError) {
      const status = STATUS[err.code] ?? 500;
      if (status >= 500) logger.error({ err, url: req.url }, 'request failed');
      else logger.debug({ code: err.code, url: req.url }, err.message);
      void reply.code(status).send({ error: err.code, message: err.message });
      return;
    }
    const status = 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : 500;
    if (status >= 500) logger.error({ err, url: req.url }, 'request failed');
    void reply.code(status).send({ error: status >= 500 ? 'LINESIDE_ERR_INTERNAL' : ErrorCode.badRequest, message: status >= 500 ? 'internal error' : err.message });
  };
}
