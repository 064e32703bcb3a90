import { Logger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/**
 * TypeORM's logger, set explicitly so that no `logging` option can print a statement's parameters:
 * its own loggers write a failed or slow query with them (a state hash, sealed tokens). Failed
 * statements are not logged here at all: the error reaches its caller, whose log line goes through
 * serializeError (database-error.ts); a slow one is reported by its duration only.
 */
export class DatabaseLogger implements TypeOrmLogger {
  private readonly logger = new Logger('Database');

  logQuery(_query: string, _parameters?: unknown[]): void {
    // Statements are never logged: their parameters are secrets.
  }

  logQueryError(_error: string | Error, _query: string, _parameters?: unknown[]): void {
    // The caller gets the error and logs it, safely serialized.
  }

  logQuerySlow(time: number, _query: string, _parameters?: unknown[]): void {
    this.logger.warn({ durationMs: time }, `A database statement took ${time} ms`);
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    const text = typeof message === 'string' ? message : 'TypeORM reported a non-text message';
    if (level === 'warn') this.logger.warn(text);
    else this.logger.log(text);
  }
}
