import { createHash, randomBytes } from 'node:crypto';
import { Clock, EmulatedAccount } from './emulator.types';

/** One consent turned into tokens: its refresh token (if offline) and every access token issued from it. */
export interface Grant {
  id: string;
  clientId: string;
  account: EmulatedAccount;
  scopes: string[];
  /** access_type=offline (tokeninfo's access_type); absent in grants saved before it was kept. */
  offline?: boolean;
  refreshTokenHash?: string;
  revoked: boolean;
  createdAt: number;
}

export interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  /** Undefined when the request sent none (PKCE is optional at Google). */
  codeChallenge?: string;
  codeChallengeMethod?: 'plain' | 'S256';
  nonce?: string;
  account: EmulatedAccount;
  scopes: string[];
  offline: boolean;
  issueRefreshToken: boolean;
  expiresAt: number;
  /** Set at the first exchange: a second exchange revokes what the first one issued. */
  used: boolean;
  grantId?: string;
}

interface AccessTokenRecord {
  grantId: string;
  expiresAt: number;
}

/** An account that signed in at the account chooser: like a Google session in the browser, it skips the chooser next time. */
export interface KnownAccount {
  email: string;
  name?: string;
}

/** What survives a restart of the in-app emulator: grants, live access tokens (by hash only) and known accounts. */
export interface GrantSnapshot {
  grants: Grant[];
  accessTokens: Array<[string, AccessTokenRecord]>;
  accounts?: KnownAccount[];
}

const CODE_TTL_MS = 10 * 60_000;
// Real Google access tokens run to ~200 characters; ours are longer on purpose, to catch columns
// or logs that cut tokens short (the prior art could not store more than 223).
const ACCESS_TOKEN_LENGTH = 300;

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');
const random = (bytes: number) => randomBytes(bytes).toString('base64url');

/** Codes, grants, tokens and known accounts. Tokens are kept as hashes, so a snapshot on disk holds nothing usable. */
export class EmulatorGrantStore {
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly grants = new Map<string, Grant>();
  private readonly refreshTokens = new Map<string, string>();
  private readonly accessTokens = new Map<string, AccessTokenRecord>();
  private readonly accounts = new Map<string, KnownAccount>();

  constructor(
    private readonly now: Clock,
    private readonly onChange: () => void = () => undefined,
  ) {}

  issueCode(code: Omit<AuthorizationCode, 'expiresAt' | 'used'>): string {
    this.pruneCodes();
    const value = `4/0${random(54)}`;
    this.codes.set(hash(value), { ...code, expiresAt: this.now() + CODE_TTL_MS, used: false });
    return value;
  }

  /** The code's record, marked used from now on; undefined when unknown or expired. */
  takeCode(value: string): AuthorizationCode | undefined {
    const code = this.codes.get(hash(value));
    if (!code || code.expiresAt <= this.now()) return undefined;
    const record = { ...code };
    code.used = true;
    return record;
  }

  attachGrant(codeValue: string, grant: Grant): void {
    const code = this.codes.get(hash(codeValue));
    if (code) code.grantId = grant.id;
  }

  grant(id: string): Grant | undefined {
    return this.grants.get(id);
  }

  createGrant(clientId: string, account: EmulatedAccount, scopes: string[], offline: boolean): Grant {
    const grant: Grant = { id: random(12), clientId, account, scopes, offline, revoked: false, createdAt: this.now() };
    this.grants.set(grant.id, grant);
    this.onChange();
    return grant;
  }

  issueAccessToken(grant: Grant, ttlSeconds: number): string {
    this.pruneAccessTokens();
    const prefix = 'ya29.';
    const token = prefix + random(ACCESS_TOKEN_LENGTH).slice(0, ACCESS_TOKEN_LENGTH - prefix.length);
    this.accessTokens.set(hash(token), { grantId: grant.id, expiresAt: this.now() + ttlSeconds * 1000 });
    this.onChange();
    return token;
  }

  /** Gives the grant a (new) refresh token; the previous one, if any, stops working. */
  issueRefreshToken(grant: Grant): string {
    const token = `1//0${random(75)}`;
    if (grant.refreshTokenHash) this.refreshTokens.delete(grant.refreshTokenHash);
    grant.refreshTokenHash = hash(token);
    this.refreshTokens.set(grant.refreshTokenHash, grant.id);
    this.onChange();
    return token;
  }

  /** The live grant behind an unexpired, unrevoked access token. */
  grantForAccessToken(token: string): Grant | undefined {
    return this.accessToken(token)?.grant;
  }

  /** An unexpired, unrevoked access token's grant and expiry. */
  accessToken(token: string): { grant: Grant; expiresAt: number } | undefined {
    const record = this.accessTokens.get(hash(token));
    const grant = record && record.expiresAt > this.now() ? this.liveGrant(record.grantId) : undefined;
    return grant && { grant, expiresAt: record!.expiresAt };
  }

  grantForRefreshToken(token: string): Grant | undefined {
    const grantId = this.refreshTokens.get(hash(token));
    return grantId ? this.liveGrant(grantId) : undefined;
  }

  /** Revokes the grant the token belongs to; false when the token is unknown, expired or already revoked. */
  revokeToken(token: string): boolean {
    const grant = this.grantForRefreshToken(token) ?? this.grantForAccessToken(token);
    if (!grant) return false;
    this.revoke(grant);
    return true;
  }

  revoke(grant: Grant): void {
    grant.revoked = true;
    if (grant.refreshTokenHash) this.refreshTokens.delete(grant.refreshTokenHash);
    for (const [key, record] of this.accessTokens) if (record.grantId === grant.id) this.accessTokens.delete(key);
    this.onChange();
  }

  revokeAccount(email: string): void {
    for (const grant of this.grants.values()) if (!grant.revoked && grant.account.email === email.toLowerCase()) this.revoke(grant);
  }

  liveGrants(sub: string, clientId: string): Grant[] {
    return [...this.grants.values()].filter((grant) => !grant.revoked && grant.account.sub === sub && grant.clientId === clientId);
  }

  liveGrantsByEmail(email: string, clientId: string): Grant[] {
    return [...this.grants.values()].filter((grant) => !grant.revoked && grant.account.email === email.toLowerCase() && grant.clientId === clientId);
  }

  rememberAccount(email: string, name: string | undefined): void {
    const key = email.toLowerCase();
    this.accounts.set(key, { email: key, name: name ?? this.accounts.get(key)?.name });
    this.onChange();
  }

  knownAccount(email: string): KnownAccount | undefined {
    return this.accounts.get(email.trim().toLowerCase());
  }

  knownAccounts(): KnownAccount[] {
    return [...this.accounts.values()];
  }

  /** The accounts of every grant, revoked ones included (Google still knows the account). */
  grantedAccounts(): EmulatedAccount[] {
    return [...this.grants.values()].map((grant) => grant.account);
  }

  isLive(token: string): boolean {
    return this.grantForRefreshToken(token) !== undefined || this.grantForAccessToken(token) !== undefined;
  }

  snapshot(): GrantSnapshot {
    this.pruneAccessTokens();
    return {
      grants: [...this.grants.values()].filter((grant) => !grant.revoked),
      accessTokens: [...this.accessTokens],
      accounts: [...this.accounts.values()],
    };
  }

  restore(snapshot: GrantSnapshot): void {
    for (const grant of snapshot.grants) {
      this.grants.set(grant.id, grant);
      if (grant.refreshTokenHash) this.refreshTokens.set(grant.refreshTokenHash, grant.id);
    }
    for (const [key, record] of snapshot.accessTokens) if (this.grants.has(record.grantId)) this.accessTokens.set(key, record);
    for (const account of snapshot.accounts ?? []) this.accounts.set(account.email, account);
  }

  private liveGrant(id: string): Grant | undefined {
    const grant = this.grants.get(id);
    return grant && !grant.revoked ? grant : undefined;
  }

  private pruneCodes(): void {
    const now = this.now();
    for (const [key, code] of this.codes) if (code.expiresAt <= now) this.codes.delete(key);
  }

  private pruneAccessTokens(): void {
    const now = this.now();
    for (const [key, record] of this.accessTokens) if (record.expiresAt <= now) this.accessTokens.delete(key);
  }
}
