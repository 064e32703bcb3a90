import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../common/decorators';
import { AppConfig, LOCAL_WEBHOOKS_PATH } from '../config/app-config';
import { renderWebhooksPage } from './emulator-pages';
import { sendHtml, sendJson } from './emulator-replies';
import { json } from './emulator.types';
import { LocalWebhookInbox } from './local-webhook-inbox';

/**
 * Local mode's webhook receiver (WEBHOOK_URL unset): where the service delivers its webhooks, and a
 * page listing them, so the feature can be tried with `npm start` alone. With a WEBHOOK_URL of one's
 * own, the page says where they go instead and the receiver refuses deliveries.
 */
@ApiExcludeController()
@Public()
@Controller(LOCAL_WEBHOOKS_PATH.slice(1))
export class LocalWebhooksController {
  constructor(
    private readonly config: AppConfig,
    private readonly inbox: LocalWebhookInbox,
  ) {}

  /** Answers as a web app's receiver should: 204 for a verified delivery, 400 for any other (which the service retries). */
  @Post()
  receive(@Req() request: RawBodyRequest<FastifyRequest>, @Res() reply: FastifyReply): void {
    if (!this.config.webhook?.local) {
      return sendJson(reply, json(404, { statusCode: 404, code: 'not_found', message: 'Webhooks go to WEBHOOK_URL, not to the local receiver' }));
    }
    const entry = this.inbox.receive(request.rawBody, request.headers);
    if (entry.verified) return void reply.status(204).header('cache-control', 'no-store').send();
    sendJson(reply, json(400, { statusCode: 400, code: 'invalid_signature', message: `The Standard Webhooks signature did not verify: ${entry.problem}` }));
  }

  @Get()
  page(@Res() reply: FastifyReply): void {
    sendHtml(reply, 200, renderWebhooksPage(this.inbox.list(), this.destination(), LOCAL_WEBHOOKS_PATH), ["'none'"]);
  }

  /** For scripts and tests: what the page shows. */
  @Get('received')
  list(@Res() reply: FastifyReply): void {
    sendJson(reply, json(200, { local: this.config.webhook?.local ?? false, deliveries: this.inbox.list() }));
  }

  /** Where webhooks go: here, the origin of one's own WEBHOOK_URL (its path and query may hold a token), or nowhere. */
  private destination(): { local: true } | { local: false; origin: string | null } {
    const webhook = this.config.webhook;
    if (webhook?.local) return { local: true };
    return { local: false, origin: webhook ? new URL(webhook.url).origin : null };
  }
}
