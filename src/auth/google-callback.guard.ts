import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { AppConfig } from '../config/app-config';
import { CallbackResult, GoogleGrant, OAuthRequest } from './oauth-flow';
import { isConsumed } from './oauth-states.service';

/**
 * Runs the Google strategy on the callback once StateTokenGuard has accepted the state: Google's
 * `error=access_denied`, then the code exchange with the PKCE verifier. Failures become a result
 * on the request instead of an exception, so the controller can always redirect.
 */
@Injectable()
export class GoogleCallbackGuard extends AuthGuard('google') {
  constructor(private readonly config: AppConfig) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<OAuthRequest>();
    if (!request.oauthFlow || !isConsumed(request.oauthFlow.state)) {
      request.oauthResult = { kind: 'skipped' };
      return true;
    }
    // RFC 9207: Google names itself in the authorization response (`iss`); an answer that names
    // another issuer is a mix-up, and its code is never sent to Google's token endpoint.
    const { iss } = request.query as Record<string, unknown>;
    if (iss !== undefined && !this.config.google.issuers.includes(iss as string)) {
      request.oauthResult = { kind: 'failed', error: new Error('the authorization response names another issuer (iss)') };
      return true;
    }
    await super.canActivate(context);
    return true;
  }

  override handleRequest<TUser = CallbackResult>(error: unknown, grant: GoogleGrant | false, _info: unknown, context: ExecutionContext): TUser {
    const request = context.switchToHttp().getRequest<OAuthRequest>();
    const query = request.query as Record<string, unknown>;
    let result: CallbackResult;
    if (error) result = { kind: 'failed', error: (error as { oauthError?: unknown }).oauthError ?? error };
    else if (grant) result = { kind: 'grant', grant };
    else if (query.error === 'access_denied') result = { kind: 'denied' };
    else result = { kind: 'failed', error: new Error('Google returned neither a code nor an error') };
    request.oauthResult = result;
    return result as TUser;
  }
}
