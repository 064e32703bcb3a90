import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { sessionCredential } from './session.guard';
import { BINDING_COOKIE, OAuthRequest } from './oauth-flow';
import { OAuthStatesService } from './oauth-states.service';
import { SessionsService } from './sessions.service';

/**
 * The callback's first gate: consumes the `state` (single use, whatever the outcome), checks it
 * against the browser-binding cookie and, for a link, the signed-in user, and records the flow on
 * the request. It never rejects: the callback always answers with a redirect.
 */
@Injectable()
export class StateTokenGuard implements CanActivate {
  constructor(
    private readonly states: OAuthStatesService,
    private readonly sessions: SessionsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<OAuthRequest>();
    const query = request.query as Record<string, unknown>;
    const sessionUserId = await this.sessionUserId(request);
    const state = await this.states.consume(query.state, request.cookies?.[BINDING_COOKIE], sessionUserId);
    request.oauthFlow = { state, sessionUserId };
    return true;
  }

  private async sessionUserId(request: OAuthRequest): Promise<string | null> {
    const credential = sessionCredential(request);
    if (!credential || credential === 'malformed') return null;
    return (await this.sessions.resolve(credential.token, credential.via))?.userId ?? null;
  }
}
