import { randomBytes } from 'node:crypto';
import { accountFor } from './emulator-account';
import { EmulatorGrantStore } from './emulator-grant.store';
import { BASIC_SCOPES, Clock, ConsentDecision, EmulatorClient, Params } from './emulator.types';

/** A validated GET /o/oauth2/v2/auth. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state?: string;
  codeChallenge: string;
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
  { kind: 'error-page'; error: string; description: string } | { kind: 'redirect'; location: string } | { kind: 'valid'; request: AuthorizationRequest };

const PENDING_TTL_MS = 10 * 60_000;
const PROMPTS = new Set(['none', 'consent', 'select_account']);
const PKCE_CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;

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
    if (query.code_challenge_method !== 'S256' || !PKCE_CHALLENGE.test(query.code_challenge ?? '')) return fail('invalid_request');
    if (query.access_type !== undefined && query.access_type !== 'online' && query.access_type !== 'offline') return fail('invalid_request');
    const prompts = (query.prompt ?? '').split(/\s+/).filter(Boolean);
    if (prompts.some((prompt) => !PROMPTS.has(prompt)) || (prompts.includes('none') && prompts.length > 1)) return fail('invalid_request');
    const request: AuthorizationRequest = {
      clientId: client.clientId,
      redirectUri,
      scopes: [...new Set(scopes)],
      state: query.state,
      codeChallenge: query.code_challenge!,
      nonce: query.nonce,
      offline: query.access_type === 'offline',
      prompts,
      loginHint: query.login_hint,
      includeGrantedScopes: query.include_granted_scopes === 'true',
    };
    return prompts.includes('none') ? { kind: 'redirect', location: this.silently(request) } : { kind: 'valid', request };
  }

  /** Parks a valid request for the HTML pages. */
  park(request: AuthorizationRequest): PendingAuthorization {
    const now = this.now();
    for (const [id, pending] of this.pendingRequests) if (pending.expiresAt <= now) this.pendingRequests.delete(id);
    const pending = { id: randomBytes(24).toString('base64url'), request, expiresAt: now + PENDING_TTL_MS };
    this.pendingRequests.set(pending.id, pending);
    return pending;
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
    const code = this.grants.issueCode({
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      nonce: request.nonce,
      account,
      scopes,
      issueRefreshToken,
    });
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
    const code = this.grants.issueCode({
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      nonce: request.nonce,
      account: earlier[earlier.length - 1].account,
      scopes,
      issueRefreshToken: false,
    });
    return this.location(request.redirectUri, { code, state: request.state, scope: scopes.join(' '), authuser: '0', prompt: 'none' });
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
