import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PoolMode } from '../database/pool-mode';
import { asciiLowerCase, normalizeEmail } from '../common/email-address';
import { EmulatorConfig, GOOGLE_ACCOUNTS_ISSUER, loadEmulatorConfig } from './emulator-config';
import { ConfigurationError, Environment, validateEnvironment } from './environment';
import { parseTrustProxy, TrustProxy } from './trust-proxy';

export interface EncryptionKeyConfig {
  id: string;
  key: Buffer;
}

export interface GoogleConfig {
  /** True when the built-in emulator stands in for Google (no client credentials given). */
  emulator: boolean;
  clientId: string;
  clientSecret: string;
  /** Accepted ID-token audiences: the client id first, then the additional ones. */
  audiences: string[];
  callbackUrl: string;
  authorizationUrl: string;
  tokenUrl: string;
  userinfoUrl: string;
  revokeUrl: string;
  jwksUrl: string;
  issuers: string[];
  calendarApiUrl: string;
  linkScopes: string[];
  loginScopes: string[];
  requiredScopes: string[];
  linkPrompt: string;
  loginPrompt: string;
  allowedDomains: string[];
  autoCreateUsers: boolean;
  httpTimeoutMs: number;
  /** Cross-Account Protection: who signs the security event tokens, and where their keys are. */
  riscIssuer: string;
  riscJwksUrl: string;
}

/** The validated, typed configuration. Built once, by loadConfig(); nothing else reads the environment. */
export interface WebhookConfig {
  url: string;
  secret: string;
  /** The first retry's delay; each further one doubles (pg-boss retryBackoff). */
  retryDelaySeconds: number;
  /** Retries after the first attempt; then the delivery is failed, for an admin to retry. */
  retryLimit: number;
  /** Local mode with no WEBHOOK_URL: the built-in receiver page (LOCAL_WEBHOOKS_PATH) gets them. */
  local: boolean;
}

export class AppConfig {
  readonly production: boolean;
  readonly port: number;
  readonly publicUrl: string;
  readonly frontendUrl: string;
  readonly loginFailedUrl: string;
  /** The users/me page is served by this service when the front end is the service itself. */
  readonly servesFrontend: boolean;
  readonly secureCookies: boolean;
  readonly databaseUrl: string | undefined;
  /** What stands between the service and PostgreSQL (DATABASE_POOL_MODE): see src/database/pool-mode.ts. */
  readonly databasePoolMode: PoolMode;
  readonly dataDir: string;
  readonly redisUrl: string | undefined;
  readonly encryptionKeys: EncryptionKeyConfig[];
  readonly google: GoogleConfig;
  readonly adminEmails: string[];
  readonly stateTtlSeconds: number;
  readonly sessionTtlSeconds: number;
  readonly corsOrigins: string[];
  /** Origins a cookie-authenticated, state-changing request may come from. */
  readonly trustedOrigins: string[];
  readonly authRateLimit: number;
  /** Requests a minute per user on the routes that call Google for that user. */
  readonly googleApiRateLimit: number;
  /** Fastify's `trustProxy`: false, a number of hops, or the proxies' addresses/CIDRs (TRUST_PROXY). */
  readonly trustProxy: TrustProxy;
  readonly revocationRetrySeconds: number;
  /** Time a client has to send its whole request, and that an idle keep-alive connection is kept (HTTP_REQUEST_TIMEOUT_MS). */
  readonly requestTimeoutMs: number;
  /** Where audit events are POSTed, signed (Standard Webhooks); undefined: no webhooks. */
  readonly webhook: WebhookConfig | undefined;
  /** Links not refreshed for this many days are checked in the background; 0: never. */
  readonly grantCheckDays: number;
  /** How often the link-health sweep runs (across all instances). */
  readonly grantCheckIntervalSeconds: number;
  readonly logFormat: 'json' | 'pretty';
  readonly logLevel: string;
  /** When set, /metrics needs it as a Bearer token; unset in production, /metrics is not served. */
  readonly metricsToken: string | undefined;
  /** Serve Swagger UI and the OpenAPI document. */
  readonly apiDocs: boolean;
  /** The built-in Google emulator; undefined unless google.emulator. */
  readonly emulator: EmulatorConfig | undefined;

  constructor(values: Omit<AppConfig, never>) {
    Object.assign(this, values);
    Object.freeze(this);
  }
}

export const DEFAULT_LINK_SCOPES = ['openid', 'email', 'profile', 'https://www.googleapis.com/auth/calendar.events.readonly'];
export const DEFAULT_REQUIRED_SCOPES = ['https://www.googleapis.com/auth/calendar.events.readonly'];
export const EMULATOR_PATH = '/_emulator/google';
/** Local mode's webhook receiver and the page listing what it received (src/emulator/local-webhooks.controller.ts). */
export const LOCAL_WEBHOOKS_PATH = '/_emulator/webhooks';
/** 12 retries doubling from 30 s: at least 34 hours (SPEC: at least 24). */
const WEBHOOK_RETRY_LIMIT = 12;
const WEBHOOK_RETRY_SPAN_SECONDS = 24 * 60 * 60;
const EMULATOR_CLIENT_ID = 'google-link-emulator.apps.googleusercontent.com';

const trimSlash = (url: string) => url.replace(/\/+$/, '');
const origin = (url: string) => new URL(url).origin;

export function parseEncryptionKeys(value: string): EncryptionKeyConfig[] {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new ConfigurationError('Invalid configuration: ENCRYPTION_KEYS must list at least one keyId:base64key');
  const seen = new Set<string>();
  return entries.map((entry) => {
    const match = /^([A-Za-z0-9_-]{1,32}):([A-Za-z0-9+/=_-]+)$/.exec(entry);
    const key = match ? Buffer.from(match[2], 'base64') : Buffer.alloc(0);
    if (!match || key.length !== 32) {
      throw new ConfigurationError('Invalid configuration: ENCRYPTION_KEYS entries must be keyId:base64key with a 32-byte key');
    }
    if (seen.has(match[1])) throw new ConfigurationError(`Invalid configuration: ENCRYPTION_KEYS repeats key id ${match[1]}`);
    seen.add(match[1]);
    return { id: match[1], key };
  });
}

export function generateEncryptionKey(): string {
  const id = `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}${randomBytes(3).toString('hex')}`;
  return `${id}:${randomBytes(32).toString('base64')}`;
}

interface LocalSecrets {
  encryptionKeys: string;
  emulatorClientSecret: string;
  /** The local webhook receiver's signing secret (added to files written before it existed). */
  webhookSecret: string;
}

/** A Standard Webhooks secret, as its libraries generate them: whsec_ and the base64 of 32 random bytes. */
export const generateWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** Local mode keeps its generated secrets in DATA_DIR so that a restart can still decrypt. */
function localSecrets(dataDir: string): LocalSecrets {
  const file = join(dataDir, 'local-secrets.json');
  const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>) : undefined;
  if (stored?.encryptionKeys && stored.emulatorClientSecret && stored.webhookSecret) return stored as LocalSecrets;
  const secrets: LocalSecrets = {
    encryptionKeys: stored?.encryptionKeys ?? generateEncryptionKey(),
    emulatorClientSecret: stored?.emulatorClientSecret ?? randomBytes(24).toString('base64url'),
    webhookSecret: stored?.webhookSecret ?? generateWebhookSecret(),
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return secrets;
}

function refuseInProduction(env: Environment, what: string, variable: string): void {
  if (env.NODE_ENV === 'production') {
    throw new ConfigurationError(`Invalid configuration: ${variable} is required when NODE_ENV=production (${what} is for local use only)`);
  }
}

/**
 * WEBHOOK_URL's receiver and retries; in production the retries must span 24 hours (SPEC). In local
 * mode with no WEBHOOK_URL, the built-in receiver page gets them, so they can be seen without writing one.
 */
function webhookConfig(env: Environment, localReceiver: { url: string; secret: string } | undefined): WebhookConfig | undefined {
  const retryDelaySeconds = env.WEBHOOK_RETRY_DELAY_SECONDS ?? 30;
  const retryLimit = env.WEBHOOK_RETRY_LIMIT ?? WEBHOOK_RETRY_LIMIT;
  // pg-boss waits at least delay × 2^(n-1) before retry n.
  if (env.NODE_ENV === 'production' && env.WEBHOOK_URL && retryDelaySeconds * (2 ** retryLimit - 1) < WEBHOOK_RETRY_SPAN_SECONDS) {
    throw new ConfigurationError('Invalid configuration: WEBHOOK_RETRY_DELAY_SECONDS and WEBHOOK_RETRY_LIMIT must retry for at least 24 hours in production');
  }
  if (env.WEBHOOK_URL) return { url: env.WEBHOOK_URL, secret: env.WEBHOOK_SECRET!, retryDelaySeconds, retryLimit, local: false };
  return localReceiver ? { ...localReceiver, retryDelaySeconds, retryLimit, local: true } : undefined;
}

export function loadConfig(raw: Record<string, string | undefined> = process.env): AppConfig {
  const env = validateEnvironment(raw);
  const production = env.NODE_ENV === 'production';
  const port = env.PORT ?? 3000;
  const publicUrl = trimSlash(env.PUBLIC_URL ?? `http://localhost:${port}`);
  const frontendUrl = trimSlash(env.FRONTEND_URL ?? publicUrl);
  const dataDir = resolve(env.DATA_DIR ?? './.data');

  if (!env.DATABASE_URL) refuseInProduction(env, 'the embedded PostgreSQL', 'DATABASE_URL');
  if (!env.GOOGLE_CLIENT_ID) refuseInProduction(env, 'the Google emulator', 'GOOGLE_CLIENT_ID');
  if (!env.ENCRYPTION_KEYS) refuseInProduction(env, 'a generated key', 'ENCRYPTION_KEYS');
  // The emulator signs in whoever types an email: never over a real user table unless asked to.
  if (!env.GOOGLE_CLIENT_ID && env.DATABASE_URL && !env.GOOGLE_EMULATOR) {
    throw new ConfigurationError(
      'Invalid configuration: GOOGLE_CLIENT_ID is required with DATABASE_URL (the built-in Google emulator signs in anyone; set GOOGLE_EMULATOR=true to use it with a real database, as tests do)',
    );
  }

  const emulator = !env.GOOGLE_CLIENT_ID;
  const local = emulator || !env.ENCRYPTION_KEYS ? localSecrets(dataDir) : undefined;
  const encryptionKeys = parseEncryptionKeys(env.ENCRYPTION_KEYS ?? local!.encryptionKeys);
  const clientId = env.GOOGLE_CLIENT_ID ?? EMULATOR_CLIENT_ID;
  const emulatorUrl = `${publicUrl}${EMULATOR_PATH}`;
  const emulatorConfig = emulator ? loadEmulatorConfig(env, emulatorUrl, clientId, local!.emulatorClientSecret) : undefined;
  const googleUrl = (configured: string | undefined, real: string, emulated: string) => (emulator ? `${emulatorUrl}${emulated}` : (configured ?? real));
  const issuer = emulatorConfig?.issuer ?? env.GOOGLE_ISSUER ?? GOOGLE_ACCOUNTS_ISSUER;
  const corsOrigins = (env.CORS_ORIGINS ?? []).map(origin);

  return new AppConfig({
    production,
    port,
    publicUrl,
    frontendUrl,
    loginFailedUrl: trimSlash(env.LOGIN_FAILED_URL ?? `${frontendUrl}/users/me`),
    servesFrontend: origin(frontendUrl) === origin(publicUrl),
    secureCookies: publicUrl.startsWith('https:'),
    databaseUrl: env.DATABASE_URL,
    // The embedded PostgreSQL is always reached directly.
    databasePoolMode: env.DATABASE_URL ? ((env.DATABASE_POOL_MODE as PoolMode | undefined) ?? 'direct') : 'direct',
    dataDir,
    redisUrl: env.REDIS_URL,
    encryptionKeys,
    google: {
      emulator,
      clientId,
      clientSecret: env.GOOGLE_CLIENT_SECRET ?? local!.emulatorClientSecret,
      audiences: [clientId, ...(env.GOOGLE_ADDITIONAL_CLIENT_IDS ?? [])],
      callbackUrl: `${publicUrl}/api/v1/auth/google/callback`,
      authorizationUrl: googleUrl(env.GOOGLE_AUTHORIZATION_URL, 'https://accounts.google.com/o/oauth2/v2/auth', '/o/oauth2/v2/auth'),
      tokenUrl: googleUrl(env.GOOGLE_TOKEN_URL, 'https://oauth2.googleapis.com/token', '/token'),
      userinfoUrl: googleUrl(env.GOOGLE_USERINFO_URL, 'https://openidconnect.googleapis.com/v1/userinfo', '/v1/userinfo'),
      revokeUrl: googleUrl(env.GOOGLE_REVOKE_URL, 'https://oauth2.googleapis.com/revoke', '/revoke'),
      jwksUrl: googleUrl(env.GOOGLE_JWKS_URL, 'https://www.googleapis.com/oauth2/v3/certs', '/oauth2/v3/certs'),
      issuers: issuer === 'https://accounts.google.com' || issuer === 'accounts.google.com' ? ['https://accounts.google.com', 'accounts.google.com'] : [issuer],
      calendarApiUrl: trimSlash(googleUrl(env.GOOGLE_CALENDAR_API_URL, 'https://www.googleapis.com/calendar/v3', '/calendar/v3')),
      linkScopes: env.GOOGLE_LINK_SCOPES ?? DEFAULT_LINK_SCOPES,
      loginScopes: ['openid', 'email', 'profile'],
      requiredScopes: env.GOOGLE_REQUIRED_SCOPES ?? DEFAULT_REQUIRED_SCOPES,
      linkPrompt: env.GOOGLE_LINK_PROMPT ?? 'consent',
      loginPrompt: env.GOOGLE_LOGIN_PROMPT ?? 'select_account',
      allowedDomains: (env.GOOGLE_ALLOWED_DOMAINS ?? []).map(asciiLowerCase),
      autoCreateUsers: env.GOOGLE_AUTO_CREATE_USERS ?? true,
      httpTimeoutMs: env.GOOGLE_HTTP_TIMEOUT_MS ?? 5000,
      // In local mode the emulator signs the security events, with the key of its ID tokens.
      riscIssuer: emulatorConfig ? emulatorConfig.url : (env.GOOGLE_RISC_ISSUER ?? 'https://accounts.google.com/'),
      riscJwksUrl: googleUrl(env.GOOGLE_RISC_JWKS_URL, 'https://www.googleapis.com/oauth2/v3/certs', '/oauth2/v3/certs'),
    },
    adminEmails: (env.ADMIN_EMAILS ?? []).map(normalizeEmail),
    stateTtlSeconds: env.STATE_TTL_SECONDS ?? 600,
    sessionTtlSeconds: env.SESSION_TTL_SECONDS ?? 86400,
    corsOrigins,
    trustedOrigins: [...new Set([origin(publicUrl), origin(frontendUrl), ...corsOrigins])],
    authRateLimit: env.AUTH_RATE_LIMIT ?? 60,
    googleApiRateLimit: env.GOOGLE_API_RATE_LIMIT ?? 60,
    trustProxy: parseTrustProxy(env.TRUST_PROXY ?? 'false') ?? false,
    revocationRetrySeconds: env.REVOCATION_RETRY_SECONDS ?? 30,
    requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS ?? 20_000,
    webhook: webhookConfig(env, emulator ? { url: `${publicUrl}${LOCAL_WEBHOOKS_PATH}`, secret: local!.webhookSecret } : undefined),
    grantCheckDays: env.GOOGLE_GRANT_CHECK_DAYS ?? 7,
    grantCheckIntervalSeconds: env.GOOGLE_GRANT_CHECK_INTERVAL_SECONDS ?? 3600,
    logFormat: env.LOG_FORMAT === 'pretty' ? 'pretty' : 'json',
    logLevel: env.LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'warn' : 'info'),
    metricsToken: env.METRICS_TOKEN,
    apiDocs: env.API_DOCS ?? !production,
    emulator: emulatorConfig,
  });
}
