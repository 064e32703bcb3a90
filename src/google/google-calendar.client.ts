import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GoogleUnavailableError } from './google-errors';
import { GoogleHttpClient } from './google-http.client';

export interface GoogleEventTime {
  date?: string;
  dateTime?: string;
  timeZone?: string;
}

export interface GoogleCalendarEvent {
  id: string;
  summary?: string;
  eventType?: string;
  start: GoogleEventTime;
  end: GoogleEventTime;
}

interface EventsPage {
  items?: GoogleCalendarEvent[];
  nextPageToken?: string;
}

const MAX_PAGES = 20;
const PAGE_SIZE = 250;

/** Google Calendar's events list, for the primary calendar's out-of-office events. */
@Injectable()
export class GoogleCalendarClient {
  constructor(
    private readonly http: GoogleHttpClient,
    private readonly config: AppConfig,
  ) {}

  async outOfOfficeEvents(accessToken: string, timeMin: Date, timeMax: Date): Promise<GoogleCalendarEvent[]> {
    const events: GoogleCalendarEvent[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const query = new URLSearchParams({
        eventTypes: 'outOfOffice',
        singleEvents: 'true',
        orderBy: 'startTime',
        timeMin: timeMin.toISOString(),
        timeMax: timeMax.toISOString(),
        maxResults: String(PAGE_SIZE),
      });
      if (pageToken) query.set('pageToken', pageToken);
      const result = await this.http.json<EventsPage>('calendar', {
        method: 'GET',
        url: `${this.config.google.calendarApiUrl}/calendars/primary/events?${query.toString()}`,
        bearer: accessToken,
      });
      if (result.items !== undefined && !Array.isArray(result.items)) throw new GoogleUnavailableError('calendar', 'items is not a list');
      events.push(...(result.items ?? []));
      pageToken = typeof result.nextPageToken === 'string' && result.nextPageToken ? result.nextPageToken : undefined;
      if (!pageToken) return events;
    }
    throw new GoogleUnavailableError('calendar', `more than ${MAX_PAGES} pages of events`);
  }
}
