import { Controller, Get, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiErrors } from '../../common/api-errors.decorator';
import { ApiRedirect } from '../../common/api-redirect.decorator';
import { Public } from '../../common/decorators';
import { AppConfig } from '../../config/app-config';
import { MetricsService } from '../../metrics/metrics.service';
import { LinkCallbackService } from '../linking/link-callback.service';
import { SignInService } from '../sign-in/sign-in.service';
import { CallbackExceptionFilter } from './callback-exception.filter';
import { sendCallbackAnswer } from './callback-outcome';
import type { CallbackAnswer, CallbackOutcome } from './callback-outcome';
import { Outcome, StateTokenGuard } from './state-token.guard';

@ApiTags('auth')
@Controller()
export class GoogleCallbackController {
  constructor(
    private readonly linkCallback: LinkCallbackService,
    private readonly signIn: SignInService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  @Public()
  @Get('api/v1/auth/google/callback')
  @UseGuards(StateTokenGuard)
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
  async callback(@Outcome() outcome: CallbackOutcome, @Res() reply: FastifyReply): Promise<void> {
    const answer = await this.answer(outcome);
    if (answer.flow === 'link') this.metrics.linkOutcome(answer.reason);
    else this.metrics.loginOutcome(answer.reason);
    sendCallbackAnswer(reply, this.config, answer);
  }

  /** A consumed state's flow completes it; an unusable one is answered in the flow it names. */
  private async answer(outcome: CallbackOutcome): Promise<CallbackAnswer> {
    if (outcome.kind === 'invalid_state') return { flow: outcome.flow, reason: 'invalid_state' };
    return outcome.state.purpose === 'link' ? this.linkCallback.complete(outcome) : this.signIn.completeCallback(outcome);
  }
}
