import { createHmac } from 'node:crypto';
import { ConfigurationError, Environment } from './environment';

export const GOOGLE_ACCOUNTS_ISSUER = 'https://accounts.google.com';
const DEFAULT_APP_NAME = 'google-link';
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const PRINTABLE = /^[\x21-\x7e]+$/;
const EXAMPLE = '[{"clientId":"my-app","redirectUris":["http://localhost:5173/auth/callback"]}]';

/** Another app on this machine that signs in through the emulator (GOOGLE_EMULATOR_CLIENTS). */
export interface EmulatorClientConfig {
  clientId: string;
  /** As configured, or derived from DATA_DIR's local secret so that it stays the same across restarts. */
  clientSecret: string;
  redirectUris: string[];
  /** What the account chooser and consent screen call the app. */
  name: string;
}

/** The built-in Google emulator's settings (used in local mode only). */
export interface EmulatorConfig {
  /** Where it is mounted: `${PUBLIC_URL}/_emulator/google`; its discovery document is under it. */
  url: string;
  /** The `iss` of its ID tokens: its own URL, or Google's for clients that accept no other (GOOGLE_EMULATOR_ISSUER=google). */
  issuer: string;
  /** What its pages call google-link. */
  appName: string;
  clients: EmulatorClientConfig[];
}

/** Google's rule for a web client's redirect URI: https, or http on a loopback host; never a fragment. */
function allowedRedirectUri(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.hash === '' && !value.includes('#') && (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)));
  } catch {
    return false;
  }
}

function parseClients(value: string | undefined, reservedClientId: string, secretFor: (clientId: string) => string): EmulatorClientConfig[] {
  if (!value) return [];
  const fail = (why: string) => new ConfigurationError(`Invalid configuration: GOOGLE_EMULATOR_CLIENTS ${why}`);
  let entries: unknown;
  try {
    entries = JSON.parse(value);
  } catch {
    throw fail(`must be JSON, e.g. ${EXAMPLE}`);
  }
  if (!Array.isArray(entries)) throw fail(`must be a JSON array, e.g. ${EXAMPLE}`);
  const taken = new Set([reservedClientId]);
  return entries.map((entry: unknown, index) => {
    const at = `[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw fail(`${at} must be an object`);
    const { clientId, clientSecret, redirectUris, name, ...others } = entry as Record<string, unknown>;
    const unknown = Object.keys(others)[0];
    if (unknown !== undefined) throw fail(`${at} has an unknown field "${unknown}" (clientId, clientSecret, redirectUris, name)`);
    if (typeof clientId !== 'string' || clientId.length > 200 || !PRINTABLE.test(clientId)) throw fail(`${at}.clientId must be a string without spaces`);
    if (taken.has(clientId)) throw fail(`${at}.clientId "${clientId}" is already registered`);
    taken.add(clientId);
    if (clientSecret !== undefined && (typeof clientSecret !== 'string' || clientSecret.length < 8 || !PRINTABLE.test(clientSecret))) {
      throw fail(`${at}.clientSecret must be at least 8 characters without spaces (or left out to have one generated)`);
    }
    if (!Array.isArray(redirectUris) || redirectUris.length === 0) throw fail(`${at}.redirectUris must list at least one URI`);
    const refused: unknown = (redirectUris as unknown[]).find((uri) => !allowedRedirectUri(uri));
    if (refused !== undefined) {
      throw fail(`${at}.redirectUris: ${JSON.stringify(refused)} must be https, or http on localhost, 127.0.0.1 or [::1], without a fragment`);
    }
    if (name !== undefined && (typeof name !== 'string' || !name.trim() || name.length > 100)) throw fail(`${at}.name must be 1 to 100 characters`);
    return { clientId, clientSecret: clientSecret ?? secretFor(clientId), redirectUris: redirectUris as string[], name: name?.trim() ?? clientId };
  });
}

/**
 * GOOGLE_EMULATOR_* validated and typed. `localSecret` is DATA_DIR's generated secret: a client
 * registered without a secret gets one derived from it, stable for as long as DATA_DIR is kept.
 */
export function loadEmulatorConfig(env: Environment, url: string, ownClientId: string, localSecret: string): EmulatorConfig {
  const secretFor = (clientId: string) => `GOCSPX-${createHmac('sha256', localSecret).update(`emulator-client:${clientId}`).digest('base64url').slice(0, 28)}`;
  return {
    url,
    issuer: env.GOOGLE_EMULATOR_ISSUER === 'google' ? GOOGLE_ACCOUNTS_ISSUER : url,
    appName: env.GOOGLE_EMULATOR_APP_NAME?.trim() || DEFAULT_APP_NAME,
    clients: parseClients(env.GOOGLE_EMULATOR_CLIENTS, ownClientId, secretFor),
  };
}
