import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { WebhookOutboxService } from '../webhooks/webhook-outbox.service';
import { AuditAction, AuditEvent } from './audit-event.entity';
import { Page, pageQuery, PageRequest } from './pagination';

export interface AuditRecord {
  action: AuditAction;
  userId: string | null;
  actorId?: string | null;
  googleUserId?: string | null;
}

@Injectable()
export class AuditService {
  constructor(
    @InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>,
    private readonly webhooks: WebhookOutboxService,
  ) {}

  /**
   * Records an event; pass the transaction's manager so the event commits (or not) with the change.
   * An event that names a user also queues its webhook in that same transaction (the outbox). Given
   * no manager, or one outside a transaction (whose statements would each commit on their own, so
   * an instance dying between them would leave an event with no webhook), it opens its own.
   */
  async record(event: AuditRecord, manager?: EntityManager): Promise<void> {
    if (!manager?.queryRunner?.isTransactionActive) return this.events.manager.transaction((own) => this.record(event, own));
    const inserted = await manager.getRepository(AuditEvent).insert({
      action: event.action,
      userId: event.userId,
      // No actorId means the user acted themselves; null means the system did.
      actorId: event.actorId === undefined ? event.userId : event.actorId,
      googleUserId: event.googleUserId ?? null,
    });
    if (event.userId === null) return;
    const generated = inserted.generatedMaps[0] as Pick<AuditEvent, 'id' | 'createdAt'>;
    await this.webhooks.enqueue({ ...generated, action: event.action, userId: event.userId, googleUserId: event.googleUserId ?? null }, manager);
  }

  async list(filter: { userId?: string }, page: PageRequest): Promise<Page<AuditEvent>> {
    const query = this.events.createQueryBuilder('event');
    if (filter.userId) query.where('event.user_id = :userId', { userId: filter.userId });
    return pageQuery(query, 'event', page);
  }
}
