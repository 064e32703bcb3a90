import { jest } from '@jest/globals';
import { dataSourceOptions, PoolExtra } from './data-source.options';
import { TransactionTimeoutSubscriber } from './transaction-timeout.subscriber';

describe('dataSourceOptions per DATABASE_POOL_MODE', () => {
  const extra = (options: ReturnType<typeof dataSourceOptions>) => options.extra as PoolExtra & { statement_timeout?: number };

  it('direct: the statement timeout is a startup parameter and statements are prepared by name', () => {
    const options = dataSourceOptions('postgres://db/x', 'direct');

    expect(extra(options).statement_timeout).toBe(15000);
    expect(extra(options).namedStatements).toBe(true);
    expect(options.subscribers).toEqual([]);
  });

  it('session: no startup parameter (PgBouncer refuses it), timeouts per transaction, named statements kept', () => {
    const options = dataSourceOptions('postgres://pgbouncer/x', 'session');

    expect(extra(options).statement_timeout).toBeUndefined();
    expect(extra(options).namedStatements).toBe(true);
    expect(options.subscribers).toEqual([TransactionTimeoutSubscriber]);
  });

  it('transaction: no startup parameter, timeouts per transaction, no named prepared statements', () => {
    const options = dataSourceOptions('postgres://pgbouncer/x', 'transaction');

    expect(extra(options).statement_timeout).toBeUndefined();
    expect(extra(options).namedStatements).toBe(false);
    expect(options.subscribers).toEqual([TransactionTimeoutSubscriber]);
  });
});

describe('TransactionTimeoutSubscriber', () => {
  const event = (transactionDepth: number) => {
    const query = jest.fn<(sql: string) => Promise<void>>().mockResolvedValue(undefined);
    return { query, event: { queryRunner: { transactionDepth, query } } as never };
  };

  it('sets the statement timeout for the outer transaction with SET LOCAL', async () => {
    const { query, event: started } = event(1);

    await new TransactionTimeoutSubscriber().afterTransactionStart(started);

    expect(query).toHaveBeenCalledWith('SET LOCAL statement_timeout = 15000');
  });

  it('leaves a savepoint alone', async () => {
    const { query, event: started } = event(2);

    await new TransactionTimeoutSubscriber().afterTransactionStart(started);

    expect(query).not.toHaveBeenCalled();
  });
});
