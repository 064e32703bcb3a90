import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import type { AppRequest } from '../../common/request-context';
import { AppConfig } from '../../config/app-config';
import { sessionCredential } from '../sessions/session-credential';
import { SessionsService } from '../sessions/sessions.service';
import { presentedBinding } from './browser-binding';
import type { CallbackOutcome } from './callback-outcome';
import { GoogleStrategy } from './google.strategy';
import { ConsumedState, OAuthStateStore } from './oauth-state.store';

type CallbackRequest = AppRequest & { callbackOutcome?: CallbackOutcome };

const failed = (state: ConsumedState, why: string): CallbackOutcome => ({ kind: 'google_failed', state, error: new Error(why) });

/**
 * The callback's one gate, and the only code that reads its `state`: consumes it (single use,
 * whatever follows), checks it against the browser and, for a link, the signed-in user, then reads
 * Google's answer: its issuer (RFC 9207), a refusal, or a code that the Google strategy exchanges
 * with the consumed state's PKCE verifier. All of it ends as one CallbackOutcome for the handler
 * (`@Outcome()`). It never refuses the request, as the callback always answers with a redirect
 * (an error thrown here too, through CallbackExceptionFilter).
 */
@Injectable()
export class StateTokenGuard implements CanActivate {
  constructor(
    private readonly states: OAuthStateStore,
    private readonly sessions: SessionsService,
    private readonly strategy: GoogleStrategy,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<CallbackRequest>();
    request.callbackOutcome = await this.outcomeOf(request);
    return true;
  }

  private async outcomeOf(request: CallbackRequest): Promise<CallbackOutcome> {
    const query = request.query as Record<string, unknown>;
    const sessionUserId = await this.sessionUserId(request);
    const check = await this.states.consume(query.state, presentedBinding(request), sessionUserId);
    if (check.kind === 'rejected') return { kind: 'invalid_state', flow: check.purpose ?? (sessionUserId ? 'link' : 'login'), problem: check.problem };
    const { state } = check;
    // RFC 9207: Google names itself in the authorization response (`iss`); an answer that names
    // another issuer is a mix-up, and its code is never sent to Google's token endpoint.
    if (query.iss !== undefined && !this.config.google.issuers.includes(query.iss as string)) {
      return failed(state, 'the authorization response names another issuer (iss)');
    }
    if (query.error === 'access_denied') return { kind: 'denied', state };
    if (query.error !== undefined) return failed(state, 'Google answered the authorization request with an error');
    if (typeof query.code !== 'string' || query.code === '') return failed(state, 'Google returned neither a code nor an error');
    try {
      return { kind: 'granted', state, grant: await this.strategy.exchange(query.code, state) };
    } catch (error) {
      return { kind: 'google_failed', state, error };
    }
  }

  /** The user signed in on this browser, if any: a link must come back to its starter, and an unknown state lands by it. */
  private async sessionUserId(request: CallbackRequest): Promise<string | null> {
    const credential = sessionCredential(request);
    if (!credential || credential === 'malformed') return null;
    return (await this.sessions.resolve(credential.token, credential.via))?.userId ?? null;
  }
}

/** The handler's parameter: the CallbackOutcome StateTokenGuard decided. */
export const Outcome = createParamDecorator((_: unknown, context: ExecutionContext): CallbackOutcome => {
  const outcome = context.switchToHttp().getRequest<CallbackRequest>().callbackOutcome;
  if (!outcome) throw new Error('StateTokenGuard did not run on this route');
  return outcome;
});
