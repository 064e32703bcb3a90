import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBadRequestResponse, ApiBody, ApiConsumes, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrors } from '../common/api-errors.decorator';
import { Public } from '../common/decorators';
import { RiscEventsService } from './risc-events.service';
import { RiscRefusal } from './risc-refusal';
import { SecurityEventTokenVerifier } from './security-event-token.verifier';

export const SECEVENT_MEDIA_TYPE = 'application/secevent+jwt';

class RiscErrorResponse {
  @ApiProperty({ enum: ['invalid_request', 'invalid_key', 'invalid_issuer', 'invalid_audience'], example: 'invalid_key' })
  err: string;

  @ApiProperty({ example: 'The SET is not signed (RS256) by a key of Google Cross-Account Protection' })
  description: string;
}

const mediaType = (request: FastifyRequest) => (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();

/** Google's Cross-Account Protection pushes security event tokens here (RFC 8935 push delivery). */
@ApiTags('google')
@Controller()
export class RiscController {
  constructor(
    private readonly verifier: SecurityEventTokenVerifier,
    private readonly events: RiscEventsService,
  ) {}

  @Post('api/v1/google/risc')
  @Public()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Receive a Cross-Account Protection security event token (Google calls this)',
    description:
      'The body is the SET itself (RFC 8417), `Content-Type: application/secevent+jwt`. Accepted (or seen before): 202, empty. ' +
      'Refused: 400 with the RFC 8935 error object; nothing is applied.',
  })
  @ApiConsumes(SECEVENT_MEDIA_TYPE)
  @ApiBody({ schema: { type: 'string', example: 'eyJhbGciOiJSUzI1NiIsImtpZCI6Ii4uLiJ9.eyJpc3MiOiJodHRwczovL2FjY291bnRzLmdvb2dsZS5jb20vIn0.c2lnbmF0dXJl' } })
  @ApiAcceptedResponse({ description: 'Received; applied once (a jti seen before is not applied again)' })
  @ApiBadRequestResponse({ type: RiscErrorResponse, description: 'err: invalid_request | invalid_key | invalid_issuer | invalid_audience (RFC 8935 §2.3)' })
  @ApiErrors({ google_unavailable: "Google's signing keys could not be fetched; deliver the SET again later" }, 'google_unavailable')
  async receive(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    try {
      if (mediaType(request) !== SECEVENT_MEDIA_TYPE || typeof request.body !== 'string') {
        throw new RiscRefusal('invalid_request', `Send the SET as the body, with Content-Type: ${SECEVENT_MEDIA_TYPE}`);
      }
      await this.events.apply(await this.verifier.verify(request.body.trim()));
    } catch (error) {
      if (!(error instanceof RiscRefusal)) throw error;
      await reply.status(400).header('content-type', 'application/json').send(error.body());
      return;
    }
    await reply.status(202).send();
  }
}
