import { missingScopes, parseScopes } from './google-scopes';

const EVENTS_READONLY = 'https://www.googleapis.com/auth/calendar.events.readonly';

describe('missingScopes', () => {
  it('accepts the exact scope', () => {
    expect(missingScopes([EVENTS_READONLY], [EVENTS_READONLY])).toEqual([]);
  });

  it.each(['calendar.events', 'calendar.readonly', 'calendar'])('accepts the broader %s for calendar.events.readonly', (broader) => {
    expect(missingScopes([`https://www.googleapis.com/auth/${broader}`], [EVENTS_READONLY])).toEqual([]);
  });

  it('refuses an unrelated or narrower scope, and a look-alike', () => {
    const granted = ['openid', 'https://www.googleapis.com/auth/calendar.events.owned', 'https://www.googleapis.com/auth/calendar.events.readonlyX'];

    expect(missingScopes(granted, [EVENTS_READONLY])).toEqual([EVENTS_READONLY]);
  });

  it('does not let calendar.events.readonly stand in for calendar.readonly', () => {
    expect(missingScopes([EVENTS_READONLY], ['https://www.googleapis.com/auth/calendar.readonly'])).toHaveLength(1);
  });

  it('parses space-separated scopes, tolerating extra whitespace', () => {
    expect(parseScopes('  openid   email\nprofile ')).toEqual(['openid', 'email', 'profile']);
    expect(parseScopes(undefined)).toEqual([]);
  });
});
