import { Body, Controller, Get, HttpCode, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiErrors } from '../common/api-errors.decorator';
import { ApiRedirect } from '../common/api-redirect.decorator';
import { CurrentPrincipal, Public } from '../common/decorators';
import type { AppRequest, Principal } from '../common/request-context';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { CallbackExceptionFilter } from './callback-exception.filter';
import { AuthorizationUrlResponse, SessionTokenResponse, TokenExchangeRequest } from './auth.dto';
import { GoogleAuthorizationService } from './google-authorization.service';
import { GoogleCallbackGuard } from './google-callback.guard';
import { GoogleLoginService } from './google-login.service';
import { LinkCallbackService } from './link-callback.service';
import { safeNextPath } from './next-path';
import { BINDING_COOKIE, BINDING_COOKIE_PATH } from './oauth-flow';
import type { OAuthRequest } from './oauth-flow';
import { isConsumed, newSecret } from './oauth-states.service';
import { setSessionCookie } from './session-cookie';
import { StateTokenGuard } from './state-token.guard';

const BINDING_PATTERN = /^[A-Za-z0-9_-]{43}$/;

@ApiTags('auth')
@Controller('api/v1/auth/google')
export class GoogleAuthController {
  constructor(
    private readonly authorization: GoogleAuthorizationService,
    private readonly linkCallback: LinkCallbackService,
    private readonly login: GoogleLoginService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  @Get('link')
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
    const url = await this.authorization.authorizationUrl(this.bindBrowser(request, reply), {
      purpose: 'link',
      userId: principal.userId,
      loginHint: principal.email,
    });
    reply.header('cache-control', 'no-store');
    return { url };
  }

  @Public()
  @Get()
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
    const url = await this.authorization.authorizationUrl(this.bindBrowser(request, reply), {
      purpose: 'login',
      userId: null,
      nextPath: safeNextPath(next),
    });
    reply.header('cache-control', 'no-store').redirect(url, 302);
  }

  @Public()
  @Get('callback')
  @UseGuards(StateTokenGuard, GoogleCallbackGuard)
  @UseFilters(CallbackExceptionFilter)
  @ApiOperation({
    summary: "Google's redirect URI for both sign-in and linking (browser-only: Google sends the browser here)",
    description: 'Always answers 302 to the users/me page (or LOGIN_FAILED_URL) with `google_link` or `google_login` and a reason code.',
  })
  @ApiRedirect({
    description: 'Found, whatever happened: the browser goes back to the web app with the outcome',
    location:
      'A link: `${FRONTEND_URL}/users/me?google_link=success` or `/users/me?google_link=error&reason=CODE`. A sign-in: `${FRONTEND_URL}${next}`, or `${LOGIN_FAILED_URL}?google_login=error&reason=CODE`',
  })
  @ApiErrors('rate_limited')
  async callback(@Req() request: OAuthRequest, @Res() reply: FastifyReply): Promise<void> {
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    reply.redirect(await this.destination(request, reply), 302);
  }

  @Public()
  @Post('token')
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
    'google_unavailable',
    'rate_limited',
  )
  async exchange(@Body() body: TokenExchangeRequest): Promise<SessionTokenResponse> {
    const session = await this.login.exchange(body.idToken);
    return { accessToken: session.token, tokenType: 'Bearer', expiresIn: session.expiresIn };
  }

  private async destination(request: OAuthRequest, reply: FastifyReply): Promise<string> {
    const flow = request.oauthFlow!;
    const frontend = this.config.frontendUrl;
    const linkPage = (outcome: string) =>
      outcome === 'success' ? `${frontend}/users/me?google_link=success` : `${frontend}/users/me?google_link=error&reason=${outcome}`;
    const loginFailed = (reason: string) => `${this.config.loginFailedUrl}?google_login=error&reason=${reason}`;

    if (!isConsumed(flow.state)) {
      const purpose = flow.state.purpose ?? (flow.sessionUserId ? 'link' : 'login');
      if (purpose === 'link') this.metrics.linkOutcome('invalid_state');
      else this.metrics.loginOutcome('invalid_state');
      return purpose === 'link' ? linkPage('invalid_state') : loginFailed('invalid_state');
    }
    const result = request.oauthResult ?? { kind: 'skipped' as const };
    if (flow.state.purpose === 'link') return linkPage(await this.linkCallback.complete(flow.state, result));
    const outcome = await this.login.completeCallback(flow.state, result);
    if (!outcome.ok) return loginFailed(outcome.reason);
    setSessionCookie(reply, this.config, outcome.session.token);
    return `${frontend}${outcome.nextPath ?? '/users/me'}`;
  }

  /** The browser-binding secret: reused while the cookie lives, so parallel tabs keep working. */
  private bindBrowser(request: AppRequest, reply: FastifyReply): string {
    const existing = request.cookies?.[BINDING_COOKIE];
    const secret = existing && BINDING_PATTERN.test(existing) ? existing : newSecret();
    reply.setCookie(BINDING_COOKIE, secret, {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.config.secureCookies,
      path: BINDING_COOKIE_PATH,
      maxAge: this.config.stateTtlSeconds,
    });
    return secret;
  }
}
