import { DatabaseError } from 'pg';
import { EntityNotFoundError, QueryFailedError } from 'typeorm';
import { databaseErrorLog, describeError, isDatabaseError, serializeError } from './database-error';
import { DatabaseLogger } from './database.logger';

/** An error as pg builds it from PostgreSQL's ErrorResponse (its class, its fields). */
function postgresError(message: string, fields: Partial<DatabaseError>): DatabaseError {
  return Object.assign(new DatabaseError(message, message.length, 'error'), { severity: 'ERROR', ...fields });
}

const SECRET = 'v2:test1:c2VhbGVkLXZlcmlmaWVyLWNpcGhlcnRleHQ';
const uniqueViolation = () =>
  new QueryFailedError(
    'INSERT INTO "oauth_states"("state_hash", "code_verifier") VALUES ($1, $2)',
    [Buffer.from('state-hash'), SECRET],
    postgresError('duplicate key value violates unique constraint "oauth_states_state_hash_key"', {
      code: '23505',
      detail: `Key (code_verifier)=(${SECRET}) already exists.`,
      schema: 'public',
      table: 'oauth_states',
      constraint: 'oauth_states_state_hash_key',
    }),
  );

describe('databaseErrorLog: what a log line says about a database error', () => {
  it('keeps the SQLSTATE, table and constraint; drops the query, its parameters and the detail', () => {
    const log = databaseErrorLog(uniqueViolation());

    expect(log).toMatchObject({
      type: 'QueryFailedError',
      code: '23505',
      schema: 'public',
      table: 'oauth_states',
      constraint: 'oauth_states_state_hash_key',
      message: 'duplicate key value violates unique constraint "oauth_states_state_hash_key"',
    });
    expect(JSON.stringify(log)).not.toMatch(/"query"|parameters|detail|INSERT|state-hash|Key \(/i);
    expect(JSON.stringify(log)).not.toContain(SECRET);
  });

  it('redacts values PostgreSQL quotes in its message, not the identifiers it names', () => {
    const badInput = postgresError(`invalid input syntax for type uuid: "${SECRET}"`, { code: '22P02' });
    const notNull = postgresError('null value in column "nonce" of relation "oauth_states" violates not-null constraint', {
      code: '23502',
      table: 'oauth_states',
      column: 'nonce',
      detail: `Failing row contains (${SECRET}, null).`,
    });

    expect(databaseErrorLog(badInput).message).toBe('invalid input syntax for type uuid: "[Redacted]"');
    expect(databaseErrorLog(notNull)).toMatchObject({
      column: 'nonce',
      message: 'null value in column "nonce" of relation "oauth_states" violates not-null constraint',
    });
    expect(JSON.stringify(databaseErrorLog(notNull))).not.toContain(SECRET);
  });

  it('keeps the stack frames but not a first line repeating the raw message', () => {
    const error = new QueryFailedError('SELECT $1::uuid', [SECRET], postgresError(`invalid input syntax for type uuid: "${SECRET}"`, { code: '22P02' }));

    const { stack } = databaseErrorLog(error);

    expect(stack).toMatch(/^QueryFailedError: invalid input syntax for type uuid: "\[Redacted\]"\n {4}at /);
    expect(stack).not.toContain(SECRET);
  });

  it('keeps only the entity of a findOneOrFail miss, not the criteria', () => {
    const error = new EntityNotFoundError('User', { email: 'ada@example.com' });

    expect(databaseErrorLog(error).message).toBe('Could not find any entity of type "User"');
  });

  it('recognises the plain copy pg-boss emits for a failed worker', () => {
    const error = postgresError(`value "${SECRET}" is out of range for type integer`, { code: '22003' });
    const copy = { ...error, message: error.message, stack: error.stack, queue: 'webhooks', worker: 'w1' };

    expect(isDatabaseError(copy)).toBe(true);
    expect(databaseErrorLog(copy)).toMatchObject({ type: 'DatabaseError', code: '22003', message: 'value "[Redacted]" is out of range for type integer' });
  });
});

describe('serializeError: every logged error', () => {
  it('shows a database error that is the cause of another safely, and the wrapper as pino does', () => {
    const wrapped = new Error('Transaction failed', { cause: uniqueViolation() });

    const serialized = serializeError(wrapped) as { type: string; message: string; cause: { code: string; table: string } };

    expect(serialized).toMatchObject({ type: 'Error', message: 'Transaction failed', cause: { code: '23505', table: 'oauth_states' } });
    expect(JSON.stringify(serialized)).not.toMatch(/parameters|"query"|detail/);
    expect(JSON.stringify(serialized)).not.toContain(SECRET);
  });

  it('leaves other errors in pino’s standard form, and is idempotent', () => {
    const plain = serializeError(new Error('boom')) as { type: string; message: string };
    const once = serializeError(uniqueViolation());

    expect(plain).toMatchObject({ type: 'Error', message: 'boom' });
    expect(serializeError(once)).toBe(once);
  });

  it('describes a database error in words with its code, table and constraint', () => {
    expect(describeError(uniqueViolation())).toBe(
      'QueryFailedError 23505 (table oauth_states, constraint oauth_states_state_hash_key): duplicate key value violates unique constraint "oauth_states_state_hash_key"',
    );
    expect(describeError(new Error('plain'))).toBe('plain');
  });
});

describe('DatabaseLogger: TypeORM’s logger', () => {
  it('never writes a statement or its parameters, failed or slow', () => {
    const written: unknown[] = [];
    const logger = new DatabaseLogger();
    const sink = (...args: unknown[]) => void written.push(args);
    Object.assign((logger as unknown as { logger: object }).logger, { warn: sink, log: sink, debug: sink, error: sink });

    logger.logQuery('SELECT $1', [SECRET]);
    logger.logQueryError(uniqueViolation(), 'INSERT INTO "oauth_states" VALUES ($1)', [SECRET]);
    logger.logQuerySlow(1500, 'UPDATE "google_oauth2_users" SET "access_token" = $1', [SECRET]);

    expect(written).toEqual([[{ durationMs: 1500 }, 'A database statement took 1500 ms']]);
  });
});
