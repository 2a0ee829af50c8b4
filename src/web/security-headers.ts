import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyReply {
    /** Nonce for the page's own inline script under the Content-Security-Policy. */
    cspNonce: string;
  }
}

/**
 * Security headers on every response: nothing loads from outside the box, nothing frames the
 * page, no MIME sniffing or referrer leaks; HSTS when served over HTTPS. The page's inline script
 * runs by nonce, so an injected one would not.
 */
export function registerSecurityHeaders(app: FastifyInstance, opts: { secure: boolean }): void {
  app.decorateReply('cspNonce', '');
  app.addHook('onRequest', async (_req, reply) => {
    reply.cspNonce = randomBytes(16).toString('base64');
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header(
      'content-security-policy',
      [
        "default-src 'self'",
        `script-src 'nonce-${reply.cspNonce}'`,
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
      ].join('; '),
    );
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-resource-policy', 'same-origin');
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
    if (opts.secure) reply.header('strict-transport-security', 'max-age=31536000');
    return payload;
  });
}
