import { stdSerializers } from 'pino';
import { DatabaseError } from 'pg';
import { EntityNotFoundError, QueryFailedError } from 'typeorm';

/**
 * What a log line may say about a database error: enough for an operator to act (the SQLSTATE,
 * the table, constraint and column PostgreSQL names) and nothing a statement carried. TypeORM's
 * QueryFailedError holds the statement's `query` and `parameters` (a state hash, a sealed PKCE
 * verifier, a new access token's ciphertext), and PostgreSQL's `detail` quotes row values
 * (`Key (x)=(…) already exists`, `Failing row contains (…)`): none of them is ever logged.
 */
export interface DatabaseErrorLog {
  type: string;
  code?: string;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
  dataType?: string;
  message: string;
  stack?: string;
}

type DriverFields = Partial<Record<'code' | 'schema' | 'table' | 'column' | 'constraint' | 'dataType' | 'message', unknown>>;

const IDENTIFIER_FIELDS = ['schema', 'table', 'column', 'constraint', 'dataType'] as const;
const QUOTED = /"(?:[^"]|"")*"|'(?:[^']|'')*'/g;
const MAX_MESSAGE = 300;
const MAX_DEPTH = 4;

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * TypeORM's failed statement, an error PostgreSQL sent (pg's DatabaseError), or a copy of either
 * as a plain object: pg-boss reports a failed worker as `{ ...error, message, stack, queue }`.
 */
export function isDatabaseError(error: unknown): error is object {
  if (error instanceof QueryFailedError || error instanceof DatabaseError || error instanceof EntityNotFoundError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { code, severity, driverError } = error as { code?: unknown; severity?: unknown; driverError?: unknown };
  return (
    (typeof code === 'string' && SQLSTATE.test(code) && typeof severity === 'string') ||
    (typeof driverError === 'object' && driverError !== null && 'query' in error)
  );
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * The driver's message with every quoted literal replaced, unless it is one of the identifiers the
 * error names: PostgreSQL quotes values in messages too (`invalid input syntax for type uuid: "…"`,
 * `value "…" is out of range`). Class 42 (syntax, undefined objects, privileges) quotes only names
 * taken from the statement's text, never a bound value, so it is kept as it is.
 */
function safeMessage(message: string, code: string | undefined, names: string[]): string {
  const kept = code?.startsWith('42') ? message : message.replace(QUOTED, (quoted) => (names.includes(quoted.slice(1, -1)) ? quoted : '"[Redacted]"'));
  const firstLine = kept.split('\n')[0];
  return firstLine.length > MAX_MESSAGE ? `${firstLine.slice(0, MAX_MESSAGE)}…` : firstLine;
}

/** The stack's frames without its first line(s), which repeat the unredacted message. */
function framesOf(error: object): string | undefined {
  const { stack } = error as { stack?: unknown };
  const at = typeof stack === 'string' ? stack.indexOf('\n    at ') : -1;
  return at >= 0 ? (stack as string).slice(at + 1) : undefined;
}

/** The one serialization of a database error for logs (see DatabaseErrorLog). */
export function databaseErrorLog(error: object): DatabaseErrorLog {
  const type = error instanceof Error ? error.constructor.name : 'DatabaseError';
  const frames = framesOf(error);
  if (error instanceof EntityNotFoundError) {
    // Its message quotes the criteria searched for: keep the entity's name only.
    const message = error.message.replace(/ matching:[\s\S]*$/, '');
    return { type, message, ...(frames ? { stack: `${type}: ${message}\n${frames}` } : {}) };
  }
  const { driverError } = error as { driverError?: unknown };
  const driver = (typeof driverError === 'object' && driverError !== null ? driverError : error) as DriverFields;
  const code = text(driver.code);
  const fields: Partial<DatabaseErrorLog> = {};
  for (const key of IDENTIFIER_FIELDS) {
    const value = text(driver[key]);
    if (value) fields[key] = value;
  }
  const message = safeMessage(text(driver.message) ?? text((error as DriverFields).message) ?? 'A database error', code, Object.values(fields));
  return {
    type,
    ...(code ? { code } : {}),
    ...fields,
    message,
    ...(frames ? { stack: `${type}: ${message}\n${frames}` } : {}),
  };
}

function containsDatabaseError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > MAX_DEPTH) return false;
  if (isDatabaseError(error)) return true;
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  if (Array.isArray(errors) && errors.some((inner) => containsDatabaseError(inner, depth + 1))) return true;
  return containsDatabaseError(cause, depth + 1) || Object.values(error).some((value) => value instanceof Error && containsDatabaseError(value, depth + 1));
}

/**
 * Any error as a log line shows it (pino's `err` serializer uses this): pino's standard form,
 * except that a database error, itself or as a cause, is shown as databaseErrorLog has it.
 */
export function serializeError(error: unknown, depth = 0): unknown {
  if (isDatabaseError(error)) return databaseErrorLog(error);
  // Not an Error: a value logged as it is, or one this function already made (pino applies it again).
  if (!(error instanceof Error)) return error;
  const standard = stdSerializers.err(error) as unknown;
  if (!containsDatabaseError(error)) return standard;
  if (depth >= MAX_DEPTH) return { type: error.constructor.name, message: 'A database error (nested too deeply to show)' };
  // pino's form appends the causes' messages and stacks: rebuilt here with the causes serialized safely.
  const safe: Record<string, unknown> = { ...(standard as object), message: error.message, stack: error.stack };
  for (const [key, value] of Object.entries(error)) if (value instanceof Error) safe[key] = serializeError(value, depth + 1);
  if (error.cause !== undefined) safe.cause = serializeError(error.cause, depth + 1);
  const { errors } = error as { errors?: unknown };
  if (Array.isArray(errors)) safe.aggregateErrors = errors.map((inner) => serializeError(inner, depth + 1));
  return safe;
}

/** For a message that names an error in words: a database error's safe message, or the error's own. */
export function describeError(error: unknown): string {
  if (isDatabaseError(error)) {
    const log = databaseErrorLog(error);
    const where = [log.table && `table ${log.table}`, log.constraint && `constraint ${log.constraint}`].filter(Boolean).join(', ');
    return `${log.type}${log.code ? ` ${log.code}` : ''}${where ? ` (${where})` : ''}: ${log.message}`;
  }
  if (error instanceof Error && containsDatabaseError(error.cause)) return `${error.message} (caused by ${describeError(error.cause)})`;
  return error instanceof Error ? error.message : String(error);
}
