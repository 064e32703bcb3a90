import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { Logger as PinoNestLogger, PinoLogger } from 'nestjs-pino';
import { loggerParams } from './common/logging';
import { QuietStartupLogger } from './common/quiet-startup.logger';
import { ConfigurationError } from './config/environment';
import { loadConfig } from './config/app-config';
import { EmbeddedDatabase } from './database/embedded-postgres';
import { createApp } from './app.factory';
import { describeError } from './database/database-error';

const SHUTDOWN_GRACE_MS = 25_000;

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigurationError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  // Until the app's logger takes over, the same pino instance (nestjs-pino shares it) writes the lines, so
  // that every line has one shape from the first (the embedded database starts before the app).
  const params = loggerParams(config);
  Logger.overrideLogger(new QuietStartupLogger(new PinoNestLogger(new PinoLogger(params), params)));
  const embedded = config.databaseUrl ? undefined : new EmbeddedDatabase(config.dataDir);
  const databaseUrl = config.databaseUrl ?? (await embedded!.start());
  const app = await createApp(config, databaseUrl);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    new Logger('Bootstrap').log(`${signal}: finishing in-flight requests, then stopping`);
    // Fastify stops accepting and lets in-flight requests finish, then Nest closes the pool; only
    // then does the embedded database stop, so nothing is cut off mid-query. A keep-alive socket
    // that turns idle after its last response would hold close() open, so idle ones are swept
    // until it completes, and whatever is left after the grace period is cut.
    const server = app.getHttpServer();
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const deadline = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
    await app.close();
    clearInterval(sweep);
    clearTimeout(deadline);
    await embedded?.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen({ port: config.port, host: '0.0.0.0' });
  const docs = config.apiDocs ? `, API docs: ${config.publicUrl}/api/docs` : '';
  new Logger('Bootstrap').log(`google-link listening on ${config.publicUrl} (users/me page: ${config.frontendUrl}/users/me${docs})`);
}

void bootstrap().catch((error: unknown) => {
  console.error(`google-link failed to start: ${describeError(error)}`);
  process.exit(1);
});
