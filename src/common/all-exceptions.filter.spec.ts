import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AllExceptionsFilter } from './all-exceptions.filter';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('AllExceptionsFilter: a database that is down is a 503, not a 500', () => {
  const filter = new AllExceptionsFilter();
  beforeAll(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterAll(() => {
    jest.restoreAllMocks();
  });

  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset connection', withCode('read ECONNRESET', 'ECONNRESET')],
    ['an unreachable host', withCode('connect EHOSTUNREACH 10.0.0.9:5432', 'EHOSTUNREACH')],
    ['a server shutting down (57P01)', withCode('terminating connection due to administrator command', '57P01')],
    ['a server starting up (57P03)', withCode('the database system is starting up', '57P03')],
    ['too many connections (53300)', withCode('sorry, too many clients already', '53300')],
    ['a connection cut mid-query', new Error('Connection terminated unexpectedly')],
    ['the pool timing out', new Error('timeout exceeded when trying to connect')],
    ['a client broken by an earlier error', new Error('Client has encountered a connection error and is not queryable')],
    ['a query wrapped by TypeORM', new QueryFailedError('SELECT 1', [], withCode('terminating connection due to administrator command', '57P01'))],
    ['a refused connection wrapped by TypeORM', new QueryFailedError('SELECT 1', [], withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))],
    ['a wrapper whose cause is a lost connection', new Error('Transaction failed', { cause: withCode('read ECONNRESET', 'ECONNRESET') })],
  ])('maps %s to 503 service_unavailable', (_, error) => {
    expect(filter.toBody(error)).toEqual({ statusCode: 503, code: 'service_unavailable', message: expect.any(String) });
  });

  it.each([
    ['a unique violation', new QueryFailedError('INSERT', [], withCode('duplicate key value violates unique constraint', '23505'))],
    ['a syntax error', new QueryFailedError('SELEC', [], withCode('syntax error at or near "SELEC"', '42601'))],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
  ])('still maps %s to 500 internal_error', (_, error) => {
    expect(filter.toBody(error)).toEqual({ statusCode: 500, code: 'internal_error', message: 'Something went wrong on our side' });
  });
});
