import { Module } from '@nestjs/common';
import { WebhookDeliveryWorker } from './webhook-delivery.worker';
import { WebhookOutboxService } from './webhook-outbox.service';

/** Audit events to the web app (SPEC "Webhooks"): the outbox (used by AuditService) and the delivery worker. */
@Module({
  providers: [WebhookOutboxService, WebhookDeliveryWorker],
  exports: [WebhookOutboxService],
})
export class WebhooksModule {}
