import type { EntitySubscriberInterface, TransactionStartEvent } from 'typeorm';
import { STATEMENT_TIMEOUT_MS } from './pool-mode';

/**
 * Behind PgBouncer the `statement_timeout` startup parameter is refused, and a session-level `SET`
 * would stick to a server connection that other clients then get: every transaction the service
 * opens sets its own timeout with `SET LOCAL`, which ends with the transaction. (Single statements
 * outside a transaction get the server-side default: `connect_query` in deploy/pgbouncer.ini.)
 */
export class TransactionTimeoutSubscriber implements EntitySubscriberInterface {
  async afterTransactionStart(event: TransactionStartEvent): Promise<void> {
    // Depth 1 is the outer transaction; a nested one (a savepoint) is already covered.
    if ((event.queryRunner as { transactionDepth?: number }).transactionDepth !== 1) return;
    await event.queryRunner.query(`SET LOCAL statement_timeout = ${STATEMENT_TIMEOUT_MS}`);
  }
}
