import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'pg';

/**
 * The floors under GET /health/live: the same fixed JSON answer from bare Fastify, and from a bare
 * NestJS application on the Fastify adapter (one controller, no middleware, guards, logger or
 * hooks), and that NestJS application reading one row through node-postgres per request (a named
 * prepared statement on a pool, as the service's session read is). Run as processes of their own like the baseline, so the table shows how much of a probe's
 * CPU the frameworks themselves take before any of the service's own work.
 */
const BODY = { status: 'ok' };

@Controller()
class FloorController {
  @Get()
  live(): typeof BODY {
    return BODY;
  }
}

@Module({ controllers: [FloorController] })
class FloorModule {}

const pool = new Pool({ connectionString: process.argv[3], max: 10 });

@Controller()
class FloorQueryController {
  @Get()
  async row(): Promise<unknown> {
    const result = await pool.query({ name: 'floor_row', text: 'SELECT $1::text AS status, now() AS at', values: ['ok'] });
    return result.rows[0];
  }
}

@Module({ controllers: [FloorQueryController] })
class FloorQueryModule {}

async function listen(kind: string): Promise<number> {
  if (kind === 'fastify') {
    // The adapter's own Fastify instance (the version the service runs), used without NestJS.
    const fastify = new FastifyAdapter().getInstance();
    fastify.get('/', () => BODY);
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const address = fastify.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }
  const app = await NestFactory.create<NestFastifyApplication>(kind === 'nest-pg' ? FloorQueryModule : FloorModule, new FastifyAdapter(), { logger: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  return typeof address === 'object' && address ? address.port : 0;
}

listen(process.argv[2] ?? 'nest').then(
  (port) => process.send?.({ port }),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
process.on('disconnect', () => process.exit(0));
