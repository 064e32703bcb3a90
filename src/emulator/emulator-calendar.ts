import { createHash, randomBytes } from 'node:crypto';
import { apiError, EmulatorResponse, json } from './emulator.types';

export interface EventTime {
  dateTime?: string;
  date?: string;
  timeZone?: string;
}

export interface CalendarEvent {
  id?: string;
  summary: string;
  start: EventTime;
  end: EventTime;
  eventType?: string;
}

const DAY_MS = 86_400_000;
// events.list's eventTypes: repeated, one type each; unset means every type.
const EVENT_TYPES = new Set(['birthday', 'default', 'focusTime', 'fromGmail', 'outOfOffice', 'workingLocation']);
const DEFAULT_MAX_RESULTS = 250;
const MAX_MAX_RESULTS = 2500;
// Google refuses date-times without an offset: the service must send full RFC 3339.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const isoDateTime = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
/** All-day dates are read in UTC: the emulated calendars all live in UTC. */
const instant = (time: EventTime) => Date.parse(time.dateTime ?? `${time.date}T00:00:00Z`);

/** The primary calendar of every emulated account: a few upcoming out-of-office events, or what a test set. */
export class EmulatorCalendar {
  /** When set, caps maxResults so that pagination kicks in. */
  pageSize: number | undefined;
  private readonly events = new Map<string, CalendarEvent[]>();

  setEvents(email: string, events: CalendarEvent[]): void {
    this.events.set(
      email.toLowerCase(),
      events.map((event) => ({ ...event, id: event.id ?? randomBytes(13).toString('hex'), eventType: event.eventType ?? 'outOfOffice' })),
    );
  }

  list(email: string, query: URLSearchParams, now: number): EmulatorResponse {
    const timeMin = query.get('timeMin') ?? undefined;
    const timeMax = query.get('timeMax') ?? undefined;
    if ((timeMin !== undefined && !RFC3339.test(timeMin)) || (timeMax !== undefined && !RFC3339.test(timeMax))) {
      return apiError(400, 'INVALID_ARGUMENT', 'Bad Request', 'badRequest');
    }
    if (query.get('orderBy') === 'startTime' && query.get('singleEvents') !== 'true') {
      return apiError(400, 'INVALID_ARGUMENT', 'The requested ordering is not available for the particular query.', 'invalid');
    }
    const maxResults = query.has('maxResults') ? Number(query.get('maxResults')) : DEFAULT_MAX_RESULTS;
    if (!Number.isInteger(maxResults) || maxResults < 1) return apiError(400, 'INVALID_ARGUMENT', 'Invalid value for: maxResults', 'invalid');
    const offset = this.offsetOf(query.get('pageToken') ?? undefined);
    if (offset === undefined) return apiError(400, 'INVALID_ARGUMENT', 'Invalid page token value.', 'invalid');
    const requestedTypes = query.getAll('eventTypes');
    if (requestedTypes.some((type) => !EVENT_TYPES.has(type))) return apiError(400, 'INVALID_ARGUMENT', 'Invalid value for: eventTypes', 'invalid');

    const types = requestedTypes.length > 0 ? requestedTypes : undefined;
    const from = timeMin ? Date.parse(timeMin) : -Infinity;
    const to = timeMax ? Date.parse(timeMax) : Infinity;
    // Google's window: an event is in when it ends after timeMin and starts before timeMax.
    const matching = this.eventsOf(email, now)
      .filter((event) => !types || types.includes(event.eventType ?? 'default'))
      .filter((event) => instant(event.end) > from && instant(event.start) < to)
      .sort((a, b) => instant(a.start) - instant(b.start));
    const size = Math.min(maxResults, MAX_MAX_RESULTS, this.pageSize ?? Infinity);
    const page = matching.slice(offset, offset + size);
    const next = offset + size < matching.length ? Buffer.from(JSON.stringify({ o: offset + size })).toString('base64url') : undefined;
    return json(200, {
      kind: 'calendar#events',
      summary: email,
      updated: isoDateTime(now),
      timeZone: 'UTC',
      accessRole: 'owner',
      defaultReminders: [],
      items: page.map((event) => this.resource(event)),
      ...(next ? { nextPageToken: next } : {}),
    });
  }

  private offsetOf(pageToken: string | undefined): number | undefined {
    if (pageToken === undefined) return 0;
    try {
      const { o } = JSON.parse(Buffer.from(pageToken, 'base64url').toString('utf8')) as { o?: unknown };
      return typeof o === 'number' && Number.isInteger(o) && o >= 0 ? o : undefined;
    } catch {
      return undefined;
    }
  }

  private eventsOf(email: string, now: number): CalendarEvent[] {
    return this.events.get(email.toLowerCase()) ?? this.defaultEvents(email, now);
  }

  /** Relative to today, so that they are always upcoming: a timed half day, an all-day trip, a later week off. */
  private defaultEvents(email: string, now: number): CalendarEvent[] {
    const today = Date.parse(`${isoDate(now)}T00:00:00Z`);
    const id = (n: number) =>
      createHash('sha256')
        .update(`${email.toLowerCase()}:${n}:${isoDate(today)}`)
        .digest('hex')
        .slice(0, 26);
    const utc = (ms: number): EventTime => ({ dateTime: isoDateTime(ms), timeZone: 'UTC' });
    return [
      {
        id: id(1),
        summary: 'Out of office (afternoon)',
        eventType: 'outOfOffice',
        start: utc(today + 3 * DAY_MS + 13 * 3_600_000),
        end: utc(today + 3 * DAY_MS + 17 * 3_600_000),
      },
      {
        id: id(2),
        summary: 'Conference trip',
        eventType: 'outOfOffice',
        start: { date: isoDate(today + 10 * DAY_MS) },
        end: { date: isoDate(today + 12 * DAY_MS) },
      },
      {
        id: id(3),
        summary: 'Vacation',
        eventType: 'outOfOffice',
        start: utc(today + 40 * DAY_MS + 9 * 3_600_000),
        end: utc(today + 44 * DAY_MS + 17 * 3_600_000),
      },
    ];
  }

  private resource(event: CalendarEvent) {
    return {
      kind: 'calendar#event',
      id: event.id,
      status: 'confirmed',
      summary: event.summary,
      eventType: event.eventType ?? 'default',
      start: event.start,
      end: event.end,
      ...(event.eventType === 'outOfOffice' ? { transparency: 'opaque', outOfOfficeProperties: { autoDeclineMode: 'declineNone' } } : {}),
    };
  }
}
