import type { FastifyReply } from 'fastify';
import type { EmulatorResponse } from './emulator.types';

/** Writes an EmulatorResponse out as JSON, its headers as given. */
export function sendJson(reply: FastifyReply, response: EmulatorResponse): void {
  reply
    .status(response.status)
    .headers(response.headers ?? {})
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(response.body));
}

/**
 * A local-mode HTML page: never cached, never framed, no referrer, no script; `formAction` lists
 * where its forms may post (browsers hold a form's redirects to form-action too).
 */
export function sendHtml(reply: FastifyReply, status: number, body: string, formAction: string[] = ["'self'"]): void {
  reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header(
      'content-security-policy',
      `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction.join(' ')}; frame-ancestors 'none'; base-uri 'none'`,
    )
    .send(body);
}
