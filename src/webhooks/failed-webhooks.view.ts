import { ApiProperty } from '@nestjs/swagger';

export class FailedWebhookView {
  @ApiProperty({ format: 'uuid', example: '0b7c6d2e-1f3a-4b5c-9d8e-7f6a5b4c3d2e', description: 'The delivery (retry it by this id)' })
  id: string;

  @ApiProperty({ format: 'uuid', example: '0b7c6d2e-1f3a-4b5c-9d8e-7f6a5b4c3d2e', description: 'The audit event delivered: the webhook-id header' })
  eventId: string;

  @ApiProperty({ example: 'google.linked', description: 'The webhook type (the audit action)' })
  type: string;

  @ApiProperty({ format: 'uuid', example: '6f1c2a7e-3b4d-4c5e-8f90-1a2b3c4d5e6f' })
  userId: string;

  @ApiProperty({ example: 13, description: 'Attempts made, the first included' })
  attempts: number;

  @ApiProperty({ type: String, nullable: true, example: 'webhook receiver answered 503', description: "The last attempt's error, without the receiver's URL" })
  lastError: string | null;

  @ApiProperty({ example: '2026-11-26T19:30:00.000Z', description: 'When the last attempt failed' })
  failedAt: string;
}

export class FailedWebhookPage {
  @ApiProperty({ type: [FailedWebhookView] })
  items: FailedWebhookView[];

  @ApiProperty({ type: String, nullable: true, example: 'WyIyMDI2LTExLTI2VDE5OjMwOjAwLjAwMFoiLCIwYjdjIl0' })
  nextCursor: string | null;
}
