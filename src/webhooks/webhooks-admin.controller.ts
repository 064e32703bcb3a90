import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator';
import { AdminOnly } from '../common/decorators';
import { PageQuery } from '../users/admin.dto';
import { uuidParam } from '../users/uuid.pipe';
import { FailedWebhooksService } from './failed-webhooks.service';
import { FailedWebhookPage } from './failed-webhooks.view';

const DEFAULT_LIMIT = 50;

/** Webhook deliveries that ran out of retries (SPEC "Webhooks"): list them, send one again. */
@AdminOnly()
@Controller()
export class WebhooksAdminController {
  constructor(private readonly failed: FailedWebhooksService) {}

  @Get('api/v1/admin/webhooks/failed')
  @ApiOperation({ summary: 'Webhook deliveries that ran out of retries, most recently failed first' })
  @ApiOkResponse({ type: FailedWebhookPage })
  @ApiErrors({ invalid_request: 'limit must be a whole number from 1 to 100' }, 400, 401, 403)
  list(@Query() query: PageQuery): Promise<FailedWebhookPage> {
    return this.failed.list({ limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor });
  }

  @Post('api/v1/admin/webhooks/failed/:id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue one more attempt of a failed delivery (the same webhook-id, so receivers can deduplicate)' })
  @ApiAcceptedResponse({ description: 'Queued: it is attempted within seconds, and retried no further if it fails again' })
  @ApiErrors({ invalid_request: 'id must be a UUID' }, 400, 401, 403, 'webhook_not_found', 'webhook_not_failed', 'csrf_rejected')
  async retry(@Param('id', uuidParam('id')) id: string): Promise<void> {
    await this.failed.retry(id);
  }
}
