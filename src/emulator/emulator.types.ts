/** What an endpoint answers; the in-app controller and the test fake both write it out as is. */
export interface EmulatorResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** Query string or form fields, one value each (the adapters flatten repeats). */
export type Params = Record<string, string | undefined>;

export interface EmulatorClient {
  clientId: string;
  clientSecret: string;
  /** Registered redirect URIs; undefined accepts any (the test fake before a test sets one). */
  redirectUris?: string[];
  /** What the account chooser and consent screen call the app (Google's "app name"); default: the client id. */
  name?: string;
}

/** The Google account a person chose at the account chooser, as the grant remembers it. */
export interface EmulatedAccount {
  sub: string;
  email: string;
  name: string;
  emailVerified: boolean;
  hd?: string;
  picture: string;
}

/** What the person does at the consent screen (the test fake scripts every field). */
export interface ConsentDecision {
  email: string;
  name?: string;
  /** Default: every requested scope. openid/email/profile are always granted when requested. */
  grantScopes?: string[];
  cancel?: boolean;
  emailVerified?: boolean;
  /** null: no hd claim; undefined: the email's domain unless it is gmail.com. */
  hd?: string | null;
  noRefreshToken?: boolean;
  sub?: string;
}

export type Clock = () => number;

export const BASIC_SCOPES = ['openid', 'email', 'profile'];

const AUTH = 'https://www.googleapis.com/auth/';
/** Any of these lets a token read the primary calendar's events. */
export const CALENDAR_READ_SCOPES = [`${AUTH}calendar.events.readonly`, `${AUTH}calendar.readonly`, `${AUTH}calendar.events`, `${AUTH}calendar`];

export const json = (status: number, body: unknown, headers?: Record<string, string>): EmulatorResponse => ({
  status,
  body,
  headers: { 'cache-control': 'no-store', ...headers },
});

/** OAuth endpoints answer errors flat: `{ error, error_description }`. */
export const oauthError = (status: number, error: string, description?: string): EmulatorResponse =>
  json(status, description === undefined ? { error } : { error, error_description: description });

/** RFC 6750 §3: Google names its realm, and the error only once a token was sent. */
export const bearerChallenge = (error?: 'invalid_token' | 'insufficient_scope', scope?: string): Record<string, string> => ({
  'www-authenticate': ['Bearer realm="https://accounts.google.com/"', error && `error="${error}"`, scope && `scope="${scope}"`].filter(Boolean).join(', '),
});

/** Google APIs (Calendar) nest errors: `{ error: { code, message, status, errors } }`. */
export const apiError = (code: number, status: string, message: string, reason: string): EmulatorResponse =>
  json(code, { error: { code, message, errors: [{ message, domain: 'global', reason }], status } });
