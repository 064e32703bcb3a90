import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator';
import { AdminOnly, CurrentPrincipal } from '../common/decorators';
import { DomainError } from '../common/domain-error';
import type { Principal } from '../common/request-context';
import { AdminUsersQuery, AuditEventsQuery } from './admin.dto';
import { AuditEventPage, UserPage } from './admin.view';
import { AuditService } from './audit.service';
import { GoogleLinksService } from './google-links.service';
import { UserProfilesService } from './user-profiles.service';
import { UsersService } from './users.service';
import { uuidParam } from './uuid.pipe';

const DEFAULT_LIMIT = 50;

@AdminOnly()
@Controller()
export class AdminController {
  constructor(
    private readonly profiles: UserProfilesService,
    private readonly users: UsersService,
    private readonly links: GoogleLinksService,
    private readonly audit: AuditService,
  ) {}

  @Get('api/v1/admin/users')
  @ApiOperation({ summary: 'List users with their Google link status, newest first' })
  @ApiOkResponse({ type: UserPage })
  @ApiErrors({ invalid_request: 'linked must be true or false' }, 400, 401, 403)
  listUsers(@Query() query: AdminUsersQuery): Promise<UserPage> {
    return this.profiles.list({ linked: query.linked }, { limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor });
  }

  @Delete('api/v1/admin/users/:id/google')
  @HttpCode(204)
  @ApiOperation({ summary: "Disconnect a user's Google account: revoke the grant at Google and delete the link" })
  @ApiNoContentResponse()
  @ApiErrors({ invalid_request: 'id must be a UUID' }, 400, 401, 403, 'user_not_found', 'google_not_linked', 'csrf_rejected')
  async unlinkUser(@Param('id', uuidParam('id')) id: string, @CurrentPrincipal() admin: Principal): Promise<void> {
    if (!(await this.users.findById(id))) throw new DomainError('user_not_found', 'No user with that id');
    await this.links.unlink(id, admin.userId);
  }

  @Get('api/v1/admin/audit-events')
  @ApiOperation({ summary: 'Audit events, newest first, optionally for one user' })
  @ApiOkResponse({ type: AuditEventPage })
  @ApiErrors({ invalid_request: 'limit must be a whole number from 1 to 100' }, 400, 401, 403)
  async listAuditEvents(@Query() query: AuditEventsQuery): Promise<AuditEventPage> {
    const page = await this.audit.list({ userId: query.userId }, { limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor });
    return {
      items: page.items.map((event) => ({
        id: event.id,
        action: event.action,
        userId: event.userId,
        actorId: event.actorId,
        googleUserId: event.googleUserId,
        createdAt: event.createdAt.toISOString(),
      })),
      nextCursor: page.nextCursor,
    };
  }
}
