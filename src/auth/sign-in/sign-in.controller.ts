import { Body, Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiErrors } from '../../common/api-errors.decorator';
import { ApiRedirect } from '../../common/api-redirect.decorator';
import { Public } from '../../common/decorators';
import type { AppRequest } from '../../common/request-context';
import { AppConfig } from '../../config/app-config';
import { bindBrowser } from '../google-oauth/browser-binding';
import { GoogleStrategy } from '../google-oauth/google.strategy';
import { safeNextPath } from './next-path';
import { SessionTokenResponse, TokenExchangeRequest } from './sign-in.dto';
import { SignInService } from './sign-in.service';

@ApiTags('auth')
@Controller()
export class SignInController {
  constructor(
    private readonly strategy: GoogleStrategy,
    private readonly signIn: SignInService,
    private readonly config: AppConfig,
  ) {}

  @Public()
  @Get('api/v1/auth/google')
  @ApiOperation({
    summary: 'Sign in with Google (browser-only: a link or a navigation, not a fetch)',
    description:
      '`next`, a relative path, is where the browser lands after signing in. Try it in a browser tab: [/api/v1/auth/google?next=/users/me](/api/v1/auth/google?next=/users/me).',
  })
  @ApiQuery({ name: 'next', required: false, example: '/users/me' })
  @ApiRedirect({
    description: "Found: the browser goes on to Google's consent screen (and sets the short-lived flow-binding cookie)",
    location: "Google's consent screen: `https://accounts.google.com/o/oauth2/v2/auth?client_id=…&code_challenge=…&state=…`",
  })
  @ApiErrors('rate_limited')
  async startSignIn(@Query('next') next: unknown, @Req() request: AppRequest, @Res() reply: FastifyReply): Promise<void> {
    const url = await this.strategy.authorizationUrl({
      purpose: 'login',
      userId: null,
      browserSecret: bindBrowser(request, reply, this.config),
      nextPath: safeNextPath(next),
    });
    reply.header('cache-control', 'no-store').redirect(url, 302);
  }

  @Public()
  @Post('api/v1/auth/google/token')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a Google ID token (native clients) for a session token' })
  @ApiOkResponse({ type: SessionTokenResponse })
  @ApiErrors(
    { invalid_request: 'idToken must be a JWT' },
    400,
    'invalid_id_token',
    'domain_not_allowed',
    'signup_disabled',
    'email_not_verified',
    'google_account_mismatch',
    'google_account_disabled',
    'google_unavailable',
    'rate_limited',
  )
  async exchange(@Body() body: TokenExchangeRequest): Promise<SessionTokenResponse> {
    const session = await this.signIn.exchangeIdToken(body.idToken);
    return { accessToken: session.token, tokenType: 'Bearer', expiresIn: session.expiresIn };
  }
}
