import { Controller, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiErrors } from '../../common/api-errors.decorator';
import { CurrentPrincipal } from '../../common/decorators';
import type { Principal } from '../../common/request-context';
import { AppConfig } from '../../config/app-config';
import { clearSessionCookie } from './session-cookie';
import { SessionsService } from './sessions.service';

@ApiTags('auth')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller()
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly config: AppConfig,
  ) {}

  @Post('api/v1/auth/logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out: revoke the current session and clear the cookie' })
  @ApiNoContentResponse()
  @ApiErrors(401, 'csrf_rejected', 'rate_limited')
  async logout(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.sessions.revoke(principal.sessionId);
    clearSessionCookie(reply, this.config);
  }

  @Post('api/v1/auth/logout-all')
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out everywhere: revoke every session of the current user' })
  @ApiNoContentResponse()
  @ApiErrors(401, 'csrf_rejected', 'rate_limited')
  async logoutAll(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.sessions.revokeAll(principal.userId);
    clearSessionCookie(reply, this.config);
  }
}
