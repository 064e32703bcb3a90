import fastifyCookie from '@fastify/cookie';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { HelmetOptions } from 'helmet';
import { Logger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { registerBodyDepthLimit } from './common/body-depth';
import { answerClientError, frameworkErrorAnswer, requestTimeLimits } from './common/http-layer';
import { QuietStartupLogger } from './common/quiet-startup.logger';
import { requestId } from './common/logging';
import { helmetHeaders, registerSecurityHeaders } from './common/security-headers';
import { createValidationPipe } from './common/validation.pipe';
import { AppModule } from './app.module';
import { AppConfig } from './config/app-config';
import { registerHttpMetrics } from './metrics/http-metrics.hook';
import { MetricsService } from './metrics/metrics.service';
import { setupSwagger } from './swagger';

const BODY_LIMIT_BYTES = 64 * 1024;
/** No body of ours nests deeper than 2; class-transformer recurses, and 3,000 levels overflow its stack. */
const MAX_BODY_DEPTH = 32;

/** Builds the whole application; main.ts and the e2e tests share it, so tests run what production runs. */
export interface CreateAppOptions {
  /** Where log lines go (stdout when unset); tests capture them. */
  logStream?: DestinationStream;
}

export async function createApp(config: AppConfig, databaseUrl: string, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const { trustProxy } = config;
  const adapter = new FastifyAdapter({
    // A hop count as proxy-addr's function form (the nearest `trustProxy` hops are proxies): never the
    // left-most, client-written X-Forwarded-For entry.
    trustProxy: typeof trustProxy === 'number' ? (_address: string, hop: number) => hop < trustProxy : trustProxy,
    genReqId: requestId,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // A client that stalls its headers or trickles its body is answered 408 and disconnected.
    ...requestTimeLimits(config.requestTimeoutMs),
    // What Node's parser and Fastify's router refuse, in our error shape rather than theirs.
    clientErrorHandler: answerClientError,
    frameworkErrors: frameworkErrorAnswer(helmetHeaders(securityHeaders(config))),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, databaseUrl, options.logStream), adapter, {
    bufferLogs: true,
    abortOnError: false,
    // The local webhook receiver verifies signatures over the body as sent (request.rawBody); Nest's
    // parsers read every body as a Buffer anyway, so this keeps a reference, not a copy.
    rawBody: config.google.emulator,
  });
  app.useLogger(new QuietStartupLogger(app.get(Logger)));
  // Before any route exists, so every route (and the 404 handler) is counted.
  registerHttpMetrics(adapter.getInstance(), app.get(MetricsService));
  registerBodyDepthLimit(adapter.getInstance(), MAX_BODY_DEPTH);
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(createValidationPipe());
  await app.register(fastifyCookie);
  registerSecurityHeaders(adapter.getInstance(), securityHeaders(config));
  // Only the listed origins, with cookies; no CORS headers at all when CORS_ORIGINS is empty.
  if (config.corsOrigins.length > 0) {
    app.enableCors({ origin: config.corsOrigins, credentials: true, methods: ['GET', 'HEAD', 'POST', 'DELETE'], maxAge: 600 });
  }
  if (config.apiDocs) setupSwagger(app, config);
  return app;
}

/**
 * The service-wide default; the users/me page and the emulator pages send stricter policies of
 * their own. Swagger UI loads its scripts as files but styles itself inline, with data: icons.
 */
function securityHeaders(config: AppConfig): HelmetOptions {
  const https = config.publicUrl.startsWith('https:');
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // On plain-http local mode this would send the browser to an https port that is not there.
        upgradeInsecureRequests: https ? [] : null,
      },
    },
    xFrameOptions: { action: 'deny' },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  };
}
