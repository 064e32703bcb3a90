import { Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { FastifyInstance } from 'fastify';
import { UsersModule } from '../users/users.module';
import { GoogleAccountBlock } from './google-account-block.entity';
import { GoogleAccountBlocksService } from './google-account-blocks.service';
import { RiscEvent } from './risc-event.entity';
import { RiscEventsService } from './risc-events.service';
import { RiscController, SECEVENT_MEDIA_TYPE } from './risc.controller';
import { SecurityEventTokenVerifier } from './security-event-token.verifier';

/** Cross-Account Protection: Google's security events about its accounts, received and acted on. */
@Module({
  imports: [TypeOrmModule.forFeature([RiscEvent, GoogleAccountBlock]), UsersModule],
  controllers: [RiscController],
  providers: [SecurityEventTokenVerifier, RiscEventsService, GoogleAccountBlocksService],
  exports: [GoogleAccountBlocksService],
})
export class RiscModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    // The CLI runs the modules without an HTTP server: nothing to receive there.
    const adapter = this.adapterHost.httpAdapter as HttpAdapterHost['httpAdapter'] | null;
    if (!adapter) return;
    const fastify = adapter.getInstance<FastifyInstance>();
    // The SET arrives as the raw compact JWS; the service-wide body limit applies.
    if (!fastify.hasContentTypeParser(SECEVENT_MEDIA_TYPE)) {
      fastify.addContentTypeParser(SECEVENT_MEDIA_TYPE, { parseAs: 'string' }, (_request, body, done) => done(null, body));
    }
  }
}
