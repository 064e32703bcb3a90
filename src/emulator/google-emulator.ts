import { createHash, timingSafeEqual } from 'node:crypto';
import { givenAndFamilyName } from './emulator-account';
import { AuthorizeOutcome, EmulatorAuthorizer } from './emulator-authorization';
import { EmulatorCalendar } from './emulator-calendar';
import { discoveryDocument } from './emulator-discovery';
import { AuthorizationCode, EmulatorGrantStore, Grant, GrantSnapshot } from './emulator-grant.store';
import { EmulatorSigningKey, PublicJwk } from './emulator-signing-key';
import {
  apiError,
  BASIC_SCOPES,
  bearerChallenge,
  CALENDAR_READ_SCOPES,
  Clock,
  EmulatorClient,
  EmulatorResponse,
  json,
  oauthError,
  Params,
} from './emulator.types';

/** What the in-app emulator keeps on disk so that a linked account survives a restart. */
export interface EmulatorState {
  signingKeyPem: string;
  grants: GrantSnapshot;
}

export interface GoogleEmulatorOptions {
  /** The `iss` of ID tokens and authorization responses. */
  issuer: string;
  /** Where the endpoints are served (the discovery document names them); default: the issuer. */
  baseUrl?: string;
  clients: EmulatorClient[];
  now?: Clock;
  accessTokenTtlSeconds?: number;
  rotateRefreshTokens?: boolean;
  /** Restores a previous run: its signing key and grants. */
  state?: EmulatorState;
  onStateChange?: (state: EmulatorState) => void;
}

const ID_TOKEN_TTL_SECONDS = 3600;
const REVOKED = 'Token has been expired or revoked.';
const KEYS_MAX_AGE = 'public, max-age=3600, must-revalidate, no-transform';
const GOOGLE_API_HELP = 'See https://developers.google.com/identity/sign-in/web/devconsole-project.';

const bearer = (authorization: string | undefined) => /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
const formDecode = (value: string) => {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
};
const sameSecret = (given: string, expected: string) => {
  const a = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, createHash('sha256').update(expected).digest());
};
const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/**
 * Google's OAuth 2.0 / OpenID Connect provider and Calendar events API, as a protocol core with no
 * HTTP framework: the in-app emulator (local mode) and the e2e tests' fake Google both wrap it, so
 * the service meets the same behaviour in both.
 */
export class GoogleEmulator {
  readonly issuer: string;
  readonly baseUrl: string;
  readonly clients: EmulatorClient[];
  readonly signingKey: EmulatorSigningKey;
  readonly grants: EmulatorGrantStore;
  readonly authorization: EmulatorAuthorizer;
  readonly calendar = new EmulatorCalendar();
  accessTokenTtlSeconds: number;
  rotateRefreshTokens: boolean;
  private readonly now: Clock;

  constructor(options: GoogleEmulatorOptions) {
    this.issuer = options.issuer;
    this.baseUrl = options.baseUrl ?? options.issuer;
    this.clients = options.clients;
    this.now = options.now ?? Date.now;
    this.accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? 3599;
    this.rotateRefreshTokens = options.rotateRefreshTokens ?? false;
    this.signingKey = options.state ? EmulatorSigningKey.fromPem(options.state.signingKeyPem) : EmulatorSigningKey.generate();
    const save = options.onStateChange;
    this.grants = new EmulatorGrantStore(this.now, save && (() => save(this.state())));
    if (options.state) this.grants.restore(options.state.grants);
    this.authorization = new EmulatorAuthorizer((clientId) => this.clientFor(clientId), this.grants, this.now, this.issuer);
  }

  state(): EmulatorState {
    return { signingKeyPem: this.signingKey.toPem(), grants: this.grants.snapshot() };
  }

  clientFor(clientId: string): EmulatorClient | undefined {
    return this.clients.find((client) => client.clientId === clientId);
  }

  /** GET /o/oauth2/v2/auth: an error page, a redirect, or a valid request for the person to decide on. */
  authorize(query: Params): AuthorizeOutcome {
    return this.authorization.validate(query);
  }

  /** POST /token, with client credentials in the form or in HTTP Basic. */
  token(form: Params, authorization?: string): EmulatorResponse {
    const client = this.authenticate(form, authorization);
    if (!client) return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    if (form.grant_type === 'authorization_code') return this.exchangeCode(client, form);
    if (form.grant_type === 'refresh_token') return this.refresh(client, form);
    return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${form.grant_type ?? ''}`);
  }

  /** GET /.well-known/openid-configuration */
  discovery(): EmulatorResponse {
    return json(200, discoveryDocument(this.issuer, this.baseUrl), { 'cache-control': 'public, max-age=3600' });
  }

  /** GET /v1/userinfo */
  userinfo(authorization: string | undefined): EmulatorResponse {
    const token = bearer(authorization);
    const grant = token ? this.grants.grantForAccessToken(token) : undefined;
    if (!grant) {
      const unauthorized = oauthError(401, 'invalid_request', 'Invalid Credentials');
      return { ...unauthorized, headers: { ...unauthorized.headers, ...bearerChallenge(token ? 'invalid_token' : undefined) } };
    }
    const { account } = grant;
    return json(200, {
      sub: account.sub,
      ...(grant.scopes.includes('profile') ? { name: account.name, ...givenAndFamilyName(account.name), picture: account.picture } : {}),
      ...(grant.scopes.includes('email') ? { email: account.email, email_verified: account.emailVerified } : {}),
      ...(account.hd ? { hd: account.hd } : {}),
    });
  }

  /** POST /revoke: either token of a grant ends the whole grant. */
  revoke(params: Params): EmulatorResponse {
    if (!params.token) return oauthError(400, 'invalid_request', 'Bad Request');
    return this.grants.revokeToken(params.token) ? json(200, {}) : oauthError(400, 'invalid_token', 'Token expired or revoked');
  }

  /**
   * GET or POST /tokeninfo: what Google knows about an access token (query, form or Bearer) or an ID
   * token it signed, every value a string as Google sends it.
   */
  tokeninfo(params: Params, authorization?: string): EmulatorResponse {
    if (params.id_token !== undefined) return this.idTokenInfo(params.id_token);
    const token = params.access_token ?? bearer(authorization);
    if (token === undefined) return oauthError(400, 'invalid_token', 'Either access_token, id_token, or token_handle required');
    const issued = this.grants.accessToken(token);
    if (!issued) return oauthError(400, 'invalid_token', 'Invalid Value');
    const { grant, expiresAt } = issued;
    const identified = grant.scopes.some((scope) => BASIC_SCOPES.includes(scope));
    return json(200, {
      azp: grant.clientId,
      aud: grant.clientId,
      ...(identified ? { sub: grant.account.sub } : {}),
      scope: grant.scopes.join(' '),
      exp: String(Math.floor(expiresAt / 1000)),
      expires_in: String(Math.max(0, Math.floor((expiresAt - this.now()) / 1000))),
      ...(grant.scopes.includes('email') ? { email: grant.account.email, email_verified: String(grant.account.emailVerified) } : {}),
      access_type: (grant.offline ?? Boolean(grant.refreshTokenHash)) ? 'offline' : 'online',
    });
  }

  /** GET /oauth2/v3/certs */
  jwks(): EmulatorResponse {
    const keys: PublicJwk[] = [this.signingKey.jwk()];
    return json(200, { keys }, { 'cache-control': KEYS_MAX_AGE });
  }

  /** GET /oauth2/v1/certs: the same key as an X.509 certificate by kid (google-auth-library's verifyIdToken reads these). */
  pemCerts(): EmulatorResponse {
    return json(200, { [this.signingKey.kid]: this.signingKey.certificatePem(this.now()) }, { 'cache-control': KEYS_MAX_AGE });
  }

  /** GET /calendar/v3/calendars/{calendarId}/events; `query` keeps repeated parameters (eventTypes). */
  events(authorization: string | undefined, calendarId: string, query: URLSearchParams): EmulatorResponse {
    const token = bearer(authorization);
    const grant = token ? this.grants.grantForAccessToken(token) : undefined;
    if (!grant) {
      const message = token
        ? `Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. ${GOOGLE_API_HELP}`
        : `Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. ${GOOGLE_API_HELP}`;
      const unauthenticated = apiError(401, 'UNAUTHENTICATED', message, token ? 'authError' : 'required');
      return { ...unauthenticated, headers: { ...unauthenticated.headers, ...bearerChallenge(token ? 'invalid_token' : undefined) } };
    }
    if (!grant.scopes.some((scope) => CALENDAR_READ_SCOPES.includes(scope))) {
      const forbidden = apiError(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.', 'insufficientPermissions');
      return { ...forbidden, headers: { ...forbidden.headers, ...bearerChallenge('insufficient_scope', CALENDAR_READ_SCOPES.join(' ')) } };
    }
    if (calendarId !== 'primary' && calendarId.toLowerCase() !== grant.account.email) return apiError(404, 'NOT_FOUND', 'Not Found', 'notFound');
    return this.calendar.list(grant.account.email, query, this.now());
  }

  private exchangeCode(client: EmulatorClient, form: Params): EmulatorResponse {
    if (!form.code) return oauthError(400, 'invalid_request', 'Missing required parameter: code');
    const code = this.grants.takeCode(form.code);
    if (!code || code.clientId !== client.clientId) return oauthError(400, 'invalid_grant', 'Malformed auth code.');
    if (code.used) {
      // A replayed code may be stolen: like Google, withdraw what the first exchange issued.
      const issued = code.grantId ? this.grants.grant(code.grantId) : undefined;
      if (issued && !issued.revoked) this.grants.revoke(issued);
      return oauthError(400, 'invalid_grant', 'Bad Request');
    }
    if (form.redirect_uri !== code.redirectUri) return oauthError(400, 'redirect_uri_mismatch', 'Bad Request');
    const pkce = this.checkVerifier(code, form.code_verifier);
    if (pkce) return pkce;
    const grant = this.grants.createGrant(client.clientId, code.account, code.scopes, code.offline);
    this.grants.attachGrant(form.code, grant);
    const accessToken = this.grants.issueAccessToken(grant, this.accessTokenTtlSeconds);
    const refreshToken = code.issueRefreshToken ? this.grants.issueRefreshToken(grant) : undefined;
    return this.tokenResponse(grant, accessToken, refreshToken, code.nonce);
  }

  /** RFC 7636 §4.6; and RFC 9700 §2.1.1: a verifier for a code that had no challenge is refused too (no PKCE downgrade). */
  private checkVerifier(code: AuthorizationCode, verifier: string | undefined): EmulatorResponse | undefined {
    if (code.codeChallenge === undefined) return verifier === undefined ? undefined : oauthError(400, 'invalid_grant', 'Invalid code verifier.');
    if (!verifier) return oauthError(400, 'invalid_grant', 'Missing code verifier.');
    const derived = code.codeChallengeMethod === 'S256' ? s256(verifier) : verifier;
    return sameSecret(derived, code.codeChallenge) ? undefined : oauthError(400, 'invalid_grant', 'Invalid code verifier.');
  }

  private idTokenInfo(idToken: string): EmulatorResponse {
    const verified = this.signingKey.verify(idToken);
    const { claims, header } = verified ?? { claims: {}, header: {} };
    const unexpired = typeof claims.exp === 'number' && claims.exp * 1000 > this.now();
    if (!verified || claims.iss !== this.issuer || !unexpired) return oauthError(400, 'invalid_token', 'Invalid Value');
    const strings = Object.fromEntries(
      Object.entries({ ...claims, alg: header.alg, kid: header.kid, typ: header.typ }).map(([name, value]) => [name, String(value)]),
    );
    return json(200, strings);
  }

  private refresh(client: EmulatorClient, form: Params): EmulatorResponse {
    if (!form.refresh_token) return oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
    const grant = this.grants.grantForRefreshToken(form.refresh_token);
    if (!grant) return oauthError(400, 'invalid_grant', REVOKED);
    if (grant.clientId !== client.clientId) return oauthError(400, 'unauthorized_client', 'Unauthorized');
    const accessToken = this.grants.issueAccessToken(grant, this.accessTokenTtlSeconds);
    const rotated = this.rotateRefreshTokens ? this.grants.issueRefreshToken(grant) : undefined;
    return this.tokenResponse(grant, accessToken, rotated);
  }

  private tokenResponse(grant: Grant, accessToken: string, refreshToken: string | undefined, nonce?: string): EmulatorResponse {
    const idToken = grant.scopes.includes('openid') ? this.idToken(grant, accessToken, nonce) : undefined;
    return json(200, {
      access_token: accessToken,
      expires_in: this.accessTokenTtlSeconds,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      scope: grant.scopes.join(' '),
      token_type: 'Bearer',
      ...(idToken ? { id_token: idToken } : {}),
    });
  }

  private idToken(grant: Grant, accessToken: string, nonce: string | undefined): string {
    const { account } = grant;
    const issuedAt = Math.floor(this.now() / 1000);
    const digest = createHash('sha256').update(accessToken).digest();
    return this.signingKey.sign({
      iss: this.issuer,
      azp: grant.clientId,
      aud: grant.clientId,
      sub: account.sub,
      ...(account.hd ? { hd: account.hd } : {}),
      ...(grant.scopes.includes('email') ? { email: account.email, email_verified: account.emailVerified } : {}),
      at_hash: digest.subarray(0, digest.length / 2).toString('base64url'),
      ...(nonce !== undefined ? { nonce } : {}),
      ...(grant.scopes.includes('profile') ? { name: account.name, picture: account.picture, ...givenAndFamilyName(account.name) } : {}),
      iat: issuedAt,
      exp: issuedAt + ID_TOKEN_TTL_SECONDS,
    });
  }

  private authenticate(form: Params, authorization: string | undefined): EmulatorClient | undefined {
    let clientId = form.client_id;
    let secret = form.client_secret;
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      // RFC 6749 §2.3.1: both halves are form-encoded before being joined.
      const basicId = formDecode(decoded.slice(0, colon));
      if (form.client_id !== undefined && form.client_id !== basicId) return undefined;
      clientId = basicId;
      secret = formDecode(decoded.slice(colon + 1));
    }
    const client = clientId ? this.clientFor(clientId) : undefined;
    return client && secret !== undefined && sameSecret(secret, client.clientSecret) ? client : undefined;
  }
}
