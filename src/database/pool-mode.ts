/**
 * What sits between the service and PostgreSQL (DATABASE_POOL_MODE):
 * - `direct`: PostgreSQL itself (or a pooler in session mode that passes startup parameters on);
 * - `session`: PgBouncer in `pool_mode=session`: a server connection per client connection, but
 *   PgBouncer refuses startup parameters such as `statement_timeout`;
 * - `transaction`: PgBouncer in `pool_mode=transaction`: consecutive transactions of one client may
 *   run on different server connections, so nothing may outlive a transaction (no named prepared
 *   statements, no session `SET`, no session advisory locks, no LISTEN).
 */
export const POOL_MODES = ['direct', 'session', 'transaction'] as const;
export type PoolMode = (typeof POOL_MODES)[number];

/** Every statement of the service gives up after this long (the pool's `query_timeout` a little later). */
export const STATEMENT_TIMEOUT_MS = 15_000;

/** Named prepared statements live on a server connection: only usable where ours stays ours. */
export const namedStatementsAllowed = (mode: PoolMode): boolean => mode !== 'transaction';
