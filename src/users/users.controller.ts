import { Controller, Delete, Get, HttpCode } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator';
import { CurrentPrincipal } from '../common/decorators';
import type { Principal } from '../common/request-context';
import { SessionProfile, WithProfile } from '../auth/sessions/session-profile';
import { GoogleLinksService } from './google-links.service';
import { type ProfileRow, UserProfilesService } from './user-profiles.service';
import { MeView } from './user.view';

@ApiTags('users')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller()
export class UsersController {
  constructor(
    private readonly profiles: UserProfilesService,
    private readonly links: GoogleLinksService,
  ) {}

  @Get('api/v1/users/me')
  @ApiOperation({ summary: 'The signed-in user and the status of their Google link' })
  @ApiOkResponse({ type: MeView })
  @ApiErrors(401)
  @WithProfile()
  async me(@CurrentPrincipal() principal: Principal, @SessionProfile() profile: ProfileRow | undefined): Promise<MeView> {
    // The session guard read the profile with the session (one statement); without it (a guard that did not), read it now.
    return profile ? this.profiles.viewOf(profile) : this.profiles.view(principal.userId);
  }

  @Delete('api/v1/users/me/google')
  @HttpCode(204)
  @ApiOperation({ summary: 'Disconnect my Google account: revoke the grant at Google and delete the link' })
  @ApiNoContentResponse()
  @ApiErrors(401, 'google_not_linked', 'csrf_rejected')
  unlinkGoogle(@CurrentPrincipal() principal: Principal): Promise<void> {
    return this.links.unlink(principal.userId, principal.userId);
  }
}
