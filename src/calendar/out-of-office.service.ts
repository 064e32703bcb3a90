import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error';
import { GoogleCalendarClient, GoogleCalendarEvent } from '../google/google-calendar.client';
import { googleDomainError, GoogleRejectedError } from '../google/google-errors';
import { GoogleAccessTokensService } from '../users/google-access-tokens.service';
import { OutOfOfficeEventView } from './out-of-office.dto';

const DAY_MS = 86_400_000;
export const DEFAULT_WINDOW_DAYS = 30;
export const MAX_WINDOW_DAYS = 90;
const EARLIEST = Date.UTC(1900, 0, 1);
const LATEST = Date.UTC(9000, 0, 1);

export interface Window {
  from: Date;
  to: Date;
}

/** The window asked for: from defaults to now, to to from + 30 days; at most 90 days, to after from. */
export function outOfOfficeWindow(from: string | undefined, to: string | undefined, now = new Date()): Window {
  const start = from ? new Date(from) : now;
  const end = to ? new Date(to) : new Date(start.getTime() + DEFAULT_WINDOW_DAYS * DAY_MS);
  if (Number.isNaN(start.getTime())) throw new DomainError('invalid_request', 'from must be an ISO 8601 date or date-time');
  // Years PostgreSQL and Google both take, with room for the 90-day window (year 9999 + 30 days is not RFC 3339).
  if ([start, end].some((date) => date.getTime() < EARLIEST || date.getTime() > LATEST))
    throw new DomainError('invalid_request', 'from and to must lie between 1900 and 9000');
  if (Number.isNaN(end.getTime())) throw new DomainError('invalid_request', 'to must be an ISO 8601 date or date-time');
  if (end.getTime() <= start.getTime()) throw new DomainError('invalid_request', 'to must be after from');
  if (end.getTime() - start.getTime() > MAX_WINDOW_DAYS * DAY_MS)
    throw new DomainError('invalid_request', `to must be at most ${MAX_WINDOW_DAYS} days after from`);
  return { from: start, to: end };
}

/** All-day events come with `date` (end exclusive), timed ones with `dateTime`: both passed on as Google gives them. */
export function toView(event: GoogleCalendarEvent): OutOfOfficeEventView | null {
  const allDay = typeof event.start?.date === 'string' && typeof event.end?.date === 'string';
  const start = allDay ? event.start.date : event.start?.dateTime;
  const end = allDay ? event.end.date : event.end?.dateTime;
  if (typeof event.id !== 'string' || typeof start !== 'string' || typeof end !== 'string') return null;
  return { id: event.id, summary: typeof event.summary === 'string' ? event.summary : 'Out of office', start, end, allDay };
}

@Injectable()
export class OutOfOfficeService {
  constructor(
    private readonly tokens: GoogleAccessTokensService,
    private readonly calendar: GoogleCalendarClient,
  ) {}

  async events(userId: string, window: Window): Promise<OutOfOfficeEventView[]> {
    const token = await this.tokens.accessToken(userId);
    let events: GoogleCalendarEvent[];
    try {
      events = await this.calendar.outOfOfficeEvents(token, window.from, window.to);
    } catch (error) {
      if (!(error instanceof GoogleRejectedError && error.status === 401)) throw this.mapped(error);
      // Google no longer takes this access token (revoked, or expired early): refresh once and retry.
      const fresh = await this.tokens.accessToken(userId, { force: true, staleToken: token });
      events = await this.calendar.outOfOfficeEvents(fresh, window.from, window.to).catch((retryError: unknown) => {
        throw this.mapped(retryError);
      });
    }
    return events.filter((event) => event.eventType === undefined || event.eventType === 'outOfOffice').flatMap((event) => toView(event) ?? []);
  }

  private mapped(error: unknown): unknown {
    return googleDomainError(error) ?? error;
  }
}
