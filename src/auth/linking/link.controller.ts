import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiErrors } from '../../common/api-errors.decorator';
import { CurrentPrincipal } from '../../common/decorators';
import type { AppRequest, Principal } from '../../common/request-context';
import { AppConfig } from '../../config/app-config';
import { bindBrowser } from '../google-oauth/browser-binding';
import { GoogleStrategy } from '../google-oauth/google.strategy';
import { AuthorizationUrlResponse } from './link.dto';

@ApiTags('auth')
@Controller()
export class LinkController {
  constructor(
    private readonly strategy: GoogleStrategy,
    private readonly config: AppConfig,
  ) {}

  @Get('api/v1/auth/google/link')
  @ApiBearerAuth()
  @ApiCookieAuth()
  @ApiOperation({
    summary: 'Start connecting a Google account (offline Calendar access)',
    description:
      'Returns the Google consent URL; the web app navigates the browser there. Also sets a short-lived HttpOnly cookie binding the flow to this browser.',
  })
  @ApiOkResponse({ type: AuthorizationUrlResponse })
  @ApiErrors(401, 'rate_limited')
  async startLink(
    @CurrentPrincipal() principal: Principal,
    @Req() request: AppRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AuthorizationUrlResponse> {
    const url = await this.strategy.authorizationUrl({
      purpose: 'link',
      userId: principal.userId,
      browserSecret: bindBrowser(request, reply, this.config),
      loginHint: principal.email,
    });
    reply.header('cache-control', 'no-store');
    return { url };
  }
}
