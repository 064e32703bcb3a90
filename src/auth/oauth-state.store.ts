import { Injectable } from '@nestjs/common';
import { OAuthFlow, OAuthRequest } from './oauth-flow';
import { isConsumed, NewState, OAuthStatesService } from './oauth-states.service';

type Stored = (error: Error | null, state?: string) => void;
type Verified = (error: Error | null, codeVerifier?: string | false, info?: { message: string }) => void;

/**
 * passport-oauth2's state store (with `pkce: true`): `store` persists a new state with its PKCE
 * verifier; `verify` hands back the verifier of the state the StateTokenGuard already consumed.
 * (The guard consumes first so that even a cancelled or failed callback uses the state up.)
 */
@Injectable()
export class OAuthStateStore {
  constructor(private readonly states: OAuthStatesService) {}

  // Arity 5 tells passport-oauth2 to pass the PKCE verifier.
  store(_request: unknown, codeVerifier: string, state: Omit<NewState, 'codeVerifier'>, _meta: unknown, done: Stored): void {
    this.states.create({ ...state, codeVerifier }).then(
      (token) => done(null, token),
      (error: Error) => done(error),
    );
  }

  verify(request: OAuthRequest, _providedState: string, done: Verified): void {
    const flow: OAuthFlow | undefined = request.oauthFlow;
    if (flow && isConsumed(flow.state)) done(null, flow.state.codeVerifier);
    else done(null, false, { message: 'invalid_state' });
  }
}
