import { Module } from '@nestjs/common';
import { FailedWebhooksService } from './failed-webhooks.service';
import { WebhookDeliveryWorker } from './webhook-delivery.worker';
import { WebhookOutboxService } from './webhook-outbox.service';
import { WebhooksAdminController } from './webhooks-admin.controller';

/** Audit events to the web app (SPEC "Webhooks"): the outbox (used by AuditService), the delivery worker, the admin routes for failed deliveries. */
@Module({
  controllers: [WebhooksAdminController],
  providers: [WebhookOutboxService, WebhookDeliveryWorker, FailedWebhooksService],
  exports: [WebhookOutboxService],
})
export class WebhooksModule {}
