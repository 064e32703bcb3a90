import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC } from '../../common/decorators';
import { DomainError, SessionRevokedError } from '../../common/domain-error';
import type { AppRequest, Principal } from '../../common/request-context';
import { AppConfig } from '../../config/app-config';
import { sessionCredential } from './session-credential';
import { SESSION_REVOKED_MESSAGES } from './session-revoked-messages';
import { ProfiledRequest, WITH_PROFILE } from './session-profile';
import { SessionsService } from './sessions.service';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function requestOrigin(request: AppRequest): string | undefined {
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') return origin;
  const referer = request.headers.referer;
  if (typeof referer !== 'string') return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

/**
 * Global guard: every route needs a valid session unless marked @Public(). A cookie session that
 * changes state must come from a trusted origin (CSRF); bearer tokens are exempt, as browsers
 * never attach them on their own.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionsService,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<ProfiledRequest>();
    const credential = sessionCredential(request, this.config);
    if (credential === 'malformed') throw new DomainError('unauthenticated', 'The Authorization header must be "Bearer <session token>"');
    if (credential === 'ambiguous') throw new DomainError('unauthenticated', 'More than one session cookie was sent; sign in again');
    if (!credential) throw new DomainError('unauthenticated', 'Sign in first: send the session cookie or a Bearer session token');
    const principal = await this.resolve(request, credential.token, credential.via, this.reflector.getAllAndOverride<boolean>(WITH_PROFILE, targets));
    if (!principal) throw await this.unauthenticated(credential.token);
    if (principal.via === 'cookie' && !SAFE_METHODS.has(request.method)) this.checkOrigin(request);
    request.principal = principal;
    return true;
  }

  private async resolve(request: ProfiledRequest, token: string, via: Principal['via'], withProfile: boolean | undefined): Promise<Principal | null> {
    if (!withProfile) return this.sessions.resolve(token, via);
    const resolved = await this.sessions.resolveWithProfile(token, via);
    if (resolved) request.sessionProfile = resolved.profile;
    return resolved?.principal ?? null;
  }

  /** Only the holder of the token learns why Google ended its session; any other token gets the usual answer. */
  private async unauthenticated(token: string): Promise<DomainError> {
    const reason = await this.sessions.revokedReason(token);
    if (reason) return new SessionRevokedError(reason, SESSION_REVOKED_MESSAGES[reason]);
    return new DomainError('unauthenticated', 'The session is invalid or has expired; sign in again');
  }

  private checkOrigin(request: AppRequest): void {
    const origin = requestOrigin(request);
    if (!origin || !this.config.trustedOrigins.includes(origin)) {
      throw new DomainError('csrf_rejected', 'This request must come from the web app (Origin or Referer not trusted)');
    }
  }
}
