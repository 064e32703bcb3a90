import { Controller, Get, HttpCode, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/decorators';

/** Longer than a healthy ping ever takes, shorter than a load balancer's probe timeout (the image's is 3 s). */
const DATABASE_PING_TIMEOUT_MS = 2000;

/** Liveness checks nothing: it is probed every few seconds and is a hot path (BENCHMARKS.md). */
const LIVE: HealthCheckResult = Object.freeze({ status: 'ok', info: {}, error: {}, details: {} });

/** Terminus's standard body; readiness pings the database only, never Google, so a slow Google leaves it 200. */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
  ) {}

  @Get('live')
  @HttpCode(200)
  @ApiOperation({ summary: 'The process is up' })
  @ApiOkResponse({ schema: { example: LIVE } })
  live(): HealthCheckResult {
    return LIVE;
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'The service can serve requests: the database answers within 2 s' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.database.pingCheck('database').withTimeout(DATABASE_PING_TIMEOUT_MS)]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      reply.status(503);
      return withoutMessages(error.getResponse() as HealthCheckResult);
    }
  }
}

/** A driver's message names hosts and ports: the public probe says only which check is down (the log has the rest). */
function withoutMessages(result: HealthCheckResult): HealthCheckResult {
  const statuses = (indicators: HealthCheckResult['info']) =>
    Object.fromEntries(Object.entries(indicators ?? {}).map(([key, indicator]) => [key, { status: indicator?.status ?? 'down' }]));
  return { status: result.status, info: statuses(result.info), error: statuses(result.error), details: statuses(result.details) };
}
