const CALENDAR = 'https://www.googleapis.com/auth/calendar';

/** Broader Google scopes that include a narrower one (Google's scope hierarchy for Calendar). */
const INCLUDED_BY: Record<string, string[]> = {
  [`${CALENDAR}.events.readonly`]: [`${CALENDAR}.events`, `${CALENDAR}.readonly`, CALENDAR],
  [`${CALENDAR}.events`]: [CALENDAR],
  [`${CALENDAR}.readonly`]: [CALENDAR],
  // Google reports the short OpenID scopes by their URLs.
  email: ['https://www.googleapis.com/auth/userinfo.email'],
  profile: ['https://www.googleapis.com/auth/userinfo.profile'],
};

export const parseScopes = (scope: string | undefined | null): string[] => (scope ?? '').split(/\s+/).filter(Boolean);

/** True when a granted scope is the required one or a broader scope that contains it. */
export function grants(granted: readonly string[], required: string): boolean {
  return granted.includes(required) || (INCLUDED_BY[required] ?? []).some((broader) => granted.includes(broader));
}

/** The required scopes that the grant does not cover. */
export function missingScopes(granted: readonly string[], required: readonly string[]): string[] {
  return required.filter((scope) => !grants(granted, scope));
}
