import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
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
  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  /** Records an event; pass the transaction's manager so the event commits (or not) with the change. */
  async record(event: AuditRecord, manager?: EntityManager): Promise<void> {
    const repository = manager ? manager.getRepository(AuditEvent) : this.events;
    await repository.insert({
      action: event.action,
      userId: event.userId,
      // No actorId means the user acted themselves; null means the system did.
      actorId: event.actorId === undefined ? event.userId : event.actorId,
      googleUserId: event.googleUserId ?? null,
    });
  }

  async list(filter: { userId?: string }, page: PageRequest): Promise<Page<AuditEvent>> {
    const query = this.events.createQueryBuilder('event');
    if (filter.userId) query.where('event.user_id = :userId', { userId: filter.userId });
    return pageQuery(query, 'event', page);
  }
}
