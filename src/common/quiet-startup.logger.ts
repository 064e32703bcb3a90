import type { LoggerService } from '@nestjs/common';

/** Nest's start-up chatter, a line per module and per route: debugging detail, not news at every start. */
const STARTUP_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/** Passes everything on to the app's logger, start-up chatter at `debug` instead of `info`. */
export class QuietStartupLogger implements LoggerService {
  constructor(private readonly logger: LoggerService) {}

  log(message: unknown, ...params: unknown[]): void {
    const context = params[params.length - 1];
    if (typeof context === 'string' && STARTUP_CONTEXTS.has(context)) this.logger.debug?.(message, ...params);
    else this.logger.log(message, ...params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.logger.error(message, ...params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.logger.warn(message, ...params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.logger.debug?.(message, ...params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.logger.verbose?.(message, ...params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    (this.logger.fatal ?? this.logger.error).call(this.logger, message, ...params);
  }
}
