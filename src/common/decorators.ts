import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiTags } from '@nestjs/swagger';
import { DomainError } from './domain-error';
import { AppRequest, Principal, Role } from './request-context';

export const IS_PUBLIC = 'isPublic';
export const ROLES = 'roles';

/** The route needs no session (it may still read one when present). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The route needs a session whose user has one of these roles. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES, roles);

/** An admin controller: every route needs an admin's session (cookie or Bearer), listed under "admin" in the API docs. */
export const AdminOnly = () => applyDecorators(ApiTags('admin'), ApiBearerAuth(), ApiCookieAuth(), Roles('admin'));

export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AppRequest>().principal;
  if (!principal) throw new DomainError('unauthenticated', 'Sign in first');
  return principal;
});
