import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ROLES } from '../../common/decorators';
import { DomainError } from '../../common/domain-error';
import { AppRequest, Role } from '../../common/request-context';

/** Runs after SessionGuard: a route marked @Roles(...) needs one of those roles. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES, [context.getHandler(), context.getClass()]);
    if (!roles?.length) return true;
    const principal = context.switchToHttp().getRequest<AppRequest>().principal;
    if (!principal) throw new DomainError('unauthenticated', 'Sign in first');
    if (!roles.includes(principal.role)) throw new DomainError('forbidden', 'This needs the admin role');
    return true;
  }
}
