import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  Validate,
  validateSync,
  ValidationError,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { parseTrustProxy } from './trust-proxy';
import { POOL_MODES } from '../database/pool-mode';

const URL_OPTIONS = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };
const PROMPTS = ['consent', 'select_account', 'none', ''];
const EMPTY_ALLOWED = new Set(['GOOGLE_LINK_PROMPT', 'GOOGLE_LOGIN_PROMPT']);

@ValidatorConstraint({ name: 'trustProxy' })
class IsTrustProxy implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && parseTrustProxy(value) !== undefined;
  }
  defaultMessage(): string {
    return 'must be false, true (one hop), a number of hops, or a comma list of proxy addresses or CIDRs';
  }
}

const toBoolean = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === true) return true;
  if (value === 'false' || value === false) return false;
  return value; // left as is so that @IsBoolean names the variable
};
const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
const toList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(/[\s,]+/)
        .map((item) => item.trim())
        .filter(Boolean)
    : value;

/** Every variable of the SPEC's configuration table, as the process receives it. */
export class Environment {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a number (a TCP port, 0 to 65535)' })
  @Min(0, { message: 'must be a number (a TCP port, 0 to 65535)' })
  @Max(65535, { message: 'must be a number (a TCP port, 0 to 65535)' })
  PORT?: number;

  @IsOptional()
  @IsUrl(URL_OPTIONS)
  PUBLIC_URL?: string;

  @IsOptional()
  @IsUrl(URL_OPTIONS)
  FRONTEND_URL?: string;

  @IsOptional()
  @IsUrl(URL_OPTIONS)
  LOGIN_FAILED_URL?: string;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// connection string' })
  DATABASE_URL?: string;

  @IsOptional()
  @IsIn(POOL_MODES, { message: `must be one of ${POOL_MODES.join(', ')}` })
  DATABASE_POOL_MODE?: string;

  @IsOptional()
  @IsString()
  DATA_DIR?: string;

  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// URL' })
  REDIS_URL?: string;

  @IsOptional()
  @IsString()
  ENCRYPTION_KEYS?: string;

  @IsOptional()
  @IsString()
  @Matches(/\S/, { message: 'must not be blank' })
  GOOGLE_CLIENT_ID?: string;

  @IsOptional()
  @IsString()
  @Matches(/\S/, { message: 'must not be blank' })
  GOOGLE_CLIENT_SECRET?: string;

  @IsOptional()
  @Transform(toList)
  @IsString({ each: true })
  GOOGLE_ADDITIONAL_CLIENT_IDS?: string[];

  @IsOptional()
  @IsUrl(URL_OPTIONS)
  GOOGLE_AUTHORIZATION_URL?: string;

  @IsOptional()
  @IsUrl(URL_OPTIONS)
  GOOGLE_TOKEN_URL?: string;

  @IsOptional()
  @IsUrl(URL_OPTIONS)
  GOOGLE_USERINFO_URL?: string;

  @IsOptional()
  @IsUrl(URL_OPTIONS)
  GOOGLE_REVOKE_URL?: string;

  @IsOptional()
  @IsUrl(URL_OPTIONS)
  GOOGLE_JWKS_URL?: string;

  @IsOptional()
  @IsString()
  GOOGLE_ISSUER?: string;

  @IsOptional()
  @IsUrl(URL_OPTIONS)
  GOOGLE_CALENDAR_API_URL?: string;

  @IsOptional()
  @IsString()
  @Matches(/\S/, { message: 'must not be blank' })
  GOOGLE_RISC_ISSUER?: string;

  @IsOptional()
  @IsUrl(URL_OPTIONS)
  GOOGLE_RISC_JWKS_URL?: string;

  @IsOptional()
  @Transform(toList)
  @IsString({ each: true })
  GOOGLE_LINK_SCOPES?: string[];

  @IsOptional()
  @Transform(toList)
  @IsString({ each: true })
  GOOGLE_REQUIRED_SCOPES?: string[];

  @IsOptional()
  @IsIn(PROMPTS)
  GOOGLE_LINK_PROMPT?: string;

  @IsOptional()
  @IsIn(PROMPTS)
  GOOGLE_LOGIN_PROMPT?: string;

  @IsOptional()
  @Transform(toList)
  @Matches(/^[a-z0-9.-]+\.[a-z]{2,}$/i, { each: true, message: 'must list domain names' })
  GOOGLE_ALLOWED_DOMAINS?: string[];

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  GOOGLE_AUTO_CREATE_USERS?: boolean;

  @IsOptional()
  @Transform(toList)
  @IsEmail({}, { each: true })
  ADMIN_EMAILS?: string[];

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(30)
  @Max(3600)
  STATE_TTL_SECONDS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(60)
  SESSION_TTL_SECONDS?: number;

  @IsOptional()
  @Transform(toList)
  @IsUrl(URL_OPTIONS, { each: true })
  CORS_ORIGINS?: string[];

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120000)
  GOOGLE_HTTP_TIMEOUT_MS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  AUTH_RATE_LIMIT?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  GOOGLE_API_RATE_LIMIT?: number;

  @IsOptional()
  @Validate(IsTrustProxy)
  TRUST_PROXY?: string;

  /**
   * Not in the SPEC table: the whole request (headers and body) must arrive within it, and an idle
   * keep-alive connection is closed after it. At most 29 s: the server checks once a second, and the
   * SPEC allows a stalled client 30 s at most.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(29000)
  HTTP_REQUEST_TIMEOUT_MS?: number;

  /** Not in the SPEC table: how soon a failed revocation at Google is retried (doubling after each failure). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  REVOCATION_RETRY_SECONDS?: number;

  @IsOptional()
  @IsUrl(URL_OPTIONS)
  WEBHOOK_URL?: string;

  @IsOptional()
  @IsString()
  @Matches(/^whsec_[A-Za-z0-9+/]+={0,2}$/, { message: 'must be a Standard Webhooks secret: whsec_ followed by base64' })
  WEBHOOK_SECRET?: string;

  /** Test-only knob: the first webhook retry delay in seconds (doubling after each failure). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  WEBHOOK_RETRY_DELAY_SECONDS?: number;

  /** Test-only knob: retries after the first attempt; in production they must still span 24 hours. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(16)
  WEBHOOK_RETRY_LIMIT?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3650)
  GOOGLE_GRANT_CHECK_DAYS?: number;

  /** Test-only knob: how often the link-health sweep looks for links due a check. */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86400)
  GOOGLE_GRANT_CHECK_INTERVAL_SECONDS?: number;

  @IsOptional()
  @IsIn(['json', 'pretty'])
  LOG_FORMAT?: string;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  // Local mode and the service's internals (issue 12).
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  GOOGLE_EMULATOR?: boolean;

  @IsOptional()
  @IsString()
  @Matches(/^\S+$/, { message: 'must be a token without spaces' })
  METRICS_TOKEN?: string;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  API_DOCS?: boolean;

  // The built-in Google emulator (local mode); see emulator-config.ts.

  @IsOptional()
  @IsString()
  @MaxLength(100)
  GOOGLE_EMULATOR_APP_NAME?: string;

  @IsOptional()
  @IsIn(['emulator', 'google'])
  GOOGLE_EMULATOR_ISSUER?: string;

  /** A JSON array of further clients, parsed and checked by loadEmulatorConfig. */
  @IsOptional()
  @IsString()
  GOOGLE_EMULATOR_CLIENTS?: string;
}

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

function describe(error: ValidationError): string {
  const reasons = Object.values(error.constraints ?? {});
  return `${error.property}: ${reasons[0] ?? 'is invalid'}`;
}

/** Validates the raw environment; throws one line naming the first bad variable. */
export function validateEnvironment(raw: Record<string, string | undefined>): Environment {
  // An empty variable counts as unset (VAR= in a compose file), except where empty has a meaning.
  const present = Object.fromEntries(Object.entries(raw).filter(([name, value]) => value !== undefined && (value !== '' || EMPTY_ALLOWED.has(name))));
  const environment = plainToInstance(Environment, present, { exposeDefaultValues: true });
  const errors = validateSync(environment, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) throw new ConfigurationError(`Invalid configuration: ${describe(errors[0])}`);
  if (environment.GOOGLE_CLIENT_ID && !environment.GOOGLE_CLIENT_SECRET) {
    throw new ConfigurationError('Invalid configuration: GOOGLE_CLIENT_SECRET is required when GOOGLE_CLIENT_ID is set');
  }
  if (environment.GOOGLE_CLIENT_SECRET && !environment.GOOGLE_CLIENT_ID) {
    throw new ConfigurationError('Invalid configuration: GOOGLE_CLIENT_ID is required when GOOGLE_CLIENT_SECRET is set');
  }
  if (environment.WEBHOOK_URL && !environment.WEBHOOK_SECRET) {
    throw new ConfigurationError('Invalid configuration: WEBHOOK_SECRET is required when WEBHOOK_URL is set');
  }
  return environment;
}
