import fastifyCookie from '@fastify/cookie';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { requestId } from './common/logging';
import { createValidationPipe } from './common/validation.pipe';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { setupSwagger } from './swagger';

const BODY_LIMIT_BYTES = 64 * 1024;

/** Builds the whole application; main.ts and the e2e tests share it, so tests run what production runs. */
export interface CreateAppOptions {
  /** Where log lines go (stdout when unset); tests capture them. */
  logStream?: DestinationStream;
}

export async function createApp(config: AppConfig, databaseUrl: string, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    trustProxy: config.trustProxy,
    genReqId: requestId,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, databaseUrl, options.logStream), adapter, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(createValidationPipe());
  await app.register(fastifyCookie);
  setupSwagger(app, config);
  return app;
}
