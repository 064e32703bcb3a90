import { randomBytes } from 'node:crypto';
import { accountFor } from './emulator-account';
import { EmulatorGrantStore, KnownAccount } from './emulator-grant.store';
import { BASIC_SCOPES, Clock, ConsentDecision, EmulatorClient, Params } from './emulator.types';

/** A validated GET /o/oauth2/v2/auth. */
export interface AuthorizationRequest {
  clientId: string;
  /** What the pages call the app: the client's name, else its id. */
  appName: string;
  redirectUri: string;
  scopes: string[];
  state?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'plain' | 'S256';
  nonce?: string;
  offline: boolean;
  prompts: string[];
  loginHint?: string;
  includeGrantedScopes: boolean;
}

/** A request waiting for the person at the chooser and consent pages, known by an unguessable id. */
export interface PendingAuthorization {
  id: string;
  request: AuthorizationRequest;
  email?: string;
  name?: string;
  expiresAt: number;
}

export type AuthorizeOutcome =
  /** Google shows an error page and never redirects: the redirect URI itself is not trusted. */
  | { kind: 'error-page'; error: string; description: string }
  | { kind: 'redirect'; location: string }
  /** `account`: login_hint names an account already signed in here, so Google skips the chooser. */
  | { kind: 'valid'; request: AuthorizationRequest; account?: KnownAccount };

const PENDING_TTL_MS = 10 * 60_000;
const PROMPTS = new Set(['none', 'consent', 'select_account']);
const PKCE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;
const PKCE_METHODS = new Set(['plain', 'S256']);

const union = (first: string[], second: string[]) => [...new Set([...first, ...second])];

/** The authorization endpoint's rules: which requests are valid, and what a consent turns into. */
export class EmulatorAuthorizer {
  private readonly pendingRequests = new Map<string, PendingAuthorization>();

  constructor(
    private readonly clientFor: (clientId: string) => EmulatorClient | undefined,
    private readonly grants: EmulatorGrantStore,
    private readonly now: Clock,
    private readonly issuer: string,
  ) {}

  validate(query: Params): AuthorizeOutcome {
    const client = query.client_id ? this.clientFor(query.client_id) : undefined;
    if (!client) return { kind: 'error-page', error: 'invalid_client', description: 'The OAuth client was not found.' };
    const redirectUri = query.redirect_uri;
    if (!redirectUri) return { kind: 'error-page', error: 'invalid_request', description: 'Missing required parameter: redirect_uri' };
    if (!this.redirectAllowed(client, redirectUri)) {
      return {
        kind: 'error-page',
        error: 'redirect_uri_mismatch',
        description: `The redirect URI in the request does not match the ones authorized for the OAuth client.`,
      };
    }
    const fail = (error: string) => ({ kind: 'redirect' as const, location: this.errorLocation(redirectUri, error, query.state) });
    if (query.response_type !== 'code') return fail('unsupported_response_type');
    const scopes = (query.scope ?? '').split(/\s+/).filter(Boolean);
    if (scopes.length === 0) return fail('invalid_request');
    // Google: PKCE is optional; the method defaults to plain when a challenge comes without one.
    const method = query.code_challenge_method ?? (query.code_challenge === undefined ? undefined : 'plain');
    if (method !== undefined && (!PKCE_METHODS.has(method) || !PKCE_CHALLENGE.test(query.code_challenge ?? ''))) return fail('invalid_request');
    if (query.access_type !== undefined && query.access_type !== 'online' && query.access_type !== 'offline') return fail('invalid_request');
    const prompts = (query.prompt ?? '').split(/\s+/).filter(Boolean);
    if (prompts.some((prompt) => !PROMPTS.has(prompt)) || (prompts.includes('none') && prompts.length > 1)) return fail('invalid_request');
    const request: AuthorizationRequest = {
      clientId: client.clientId,
      appName: client.name ?? client.clientId,
      redirectUri,
      scopes: [...new Set(scopes)],
      state: query.state,
      ...(method ? { codeChallenge: query.code_challenge, codeChallengeMethod: method as 'plain' | 'S256' } : {}),
      nonce: query.nonce,
      offline: query.access_type === 'offline',
      prompts,
      loginHint: query.login_hint,
      includeGrantedScopes: query.include_granted_scopes === 'true',
    };
    if (prompts.includes('none')) return { kind: 'redirect', location: this.silently(request) };
    const account = request.loginHint && !prompts.includes('select_account') ? this.grants.knownAccount(request.loginHint) : undefined;
    return { kind: 'valid', request, ...(account ? { account } : {}) };
  }

  /** Parks a valid request for the HTML pages; with a known account, as already chosen. */
  park(request: AuthorizationRequest, account?: KnownAccount): PendingAuthorization {
    const now = this.now();
    for (const [id, pending] of this.pendingRequests) if (pending.expiresAt <= now) this.pendingRequests.delete(id);
    const pending: PendingAuthorization = { id: randomBytes(24).toString('base64url'), request, expiresAt: now + PENDING_TTL_MS };
    if (account) Object.assign(pending, { email: account.email, name: account.name });
    this.pendingRequests.set(pending.id, pending);
    return pending;
  }

  /** The person signed in at the chooser: the account is known from now on (a name typed once is kept). */
  choose(pending: PendingAuthorization, email: string, name: string | undefined): void {
    this.grants.rememberAccount(email, name);
    pending.email = email.toLowerCase();
    pending.name = this.grants.knownAccount(email)?.name;
  }

  pending(id: string | undefined): PendingAuthorization | undefined {
    const pending = id ? this.pendingRequests.get(id) : undefined;
    return pending && pending.expiresAt > this.now() ? pending : undefined;
  }

  /** Ends a parked request with the person's decision; the id cannot be used twice. */
  decidePending(id: string, decision: ConsentDecision): string | undefined {
    const pending = this.pending(id);
    if (!pending) return undefined;
    this.pendingRequests.delete(id);
    return this.decide(pending.request, decision);
  }

  /** Where Google sends the browser after the consent screen. */
  decide(request: AuthorizationRequest, decision: ConsentDecision): string {
    if (decision.cancel) return this.errorLocation(request.redirectUri, 'access_denied', request.state);
    const account = accountFor(decision);
    const chosen = decision.grantScopes ?? request.scopes;
    let scopes = request.scopes.filter((scope) => BASIC_SCOPES.includes(scope) || chosen.includes(scope));
    if (scopes.length === 0) return this.errorLocation(request.redirectUri, 'access_denied', request.state);
    const earlier = this.grants.liveGrants(account.sub, request.clientId);
    if (request.includeGrantedScopes) scopes = earlier.reduce((all, grant) => union(all, grant.scopes), scopes);
    // Google hands out a refresh token on the first offline consent, and again only with prompt=consent.
    const issueRefreshToken =
      request.offline && !decision.noRefreshToken && (request.prompts.includes('consent') || !earlier.some((grant) => grant.refreshTokenHash));
    const code = this.grants.issueCode({ ...this.codeFields(request), account, scopes, offline: request.offline, issueRefreshToken });
    return this.location(request.redirectUri, { code, state: request.state, scope: scopes.join(' '), authuser: '0' });
  }

  /** prompt=none: a code only when the hinted account already granted every requested scope. */
  private silently(request: AuthorizationRequest): string {
    const earlier = request.loginHint ? this.grants.liveGrantsByEmail(request.loginHint, request.clientId) : [];
    const granted = earlier.reduce<string[]>((all, grant) => union(all, grant.scopes), []);
    if (earlier.length === 0 || !request.scopes.every((scope) => granted.includes(scope))) {
      return this.errorLocation(request.redirectUri, 'interaction_required', request.state);
    }
    const scopes = request.includeGrantedScopes ? granted : request.scopes;
    const account = earlier[earlier.length - 1].account;
    const code = this.grants.issueCode({ ...this.codeFields(request), account, scopes, offline: request.offline, issueRefreshToken: false });
    return this.location(request.redirectUri, { code, state: request.state, scope: scopes.join(' '), authuser: '0', prompt: 'none' });
  }

  private codeFields({ clientId, redirectUri, codeChallenge, codeChallengeMethod, nonce }: AuthorizationRequest) {
    return { clientId, redirectUri, codeChallenge, codeChallengeMethod, nonce };
  }

  private redirectAllowed(client: EmulatorClient, redirectUri: string): boolean {
    if (client.redirectUris) return client.redirectUris.includes(redirectUri);
    try {
      return ['http:', 'https:'].includes(new URL(redirectUri).protocol);
    } catch {
      return false;
    }
  }

  private errorLocation(redirectUri: string, error: string, state: string | undefined): string {
    return this.location(redirectUri, { error, state });
  }

  /** Like Google, names itself in every authorization response (RFC 9207 `iss`). */
  private location(redirectUri: string, params: Record<string, string | undefined>): string {
    const url = new URL(redirectUri);
    for (const [name, value] of Object.entries({ ...params, iss: this.issuer })) if (value !== undefined) url.searchParams.set(name, value);
    return url.toString();
  }
}
