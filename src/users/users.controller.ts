import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator';
import { CurrentPrincipal } from '../common/decorators';
import type { Principal } from '../common/request-context';
import { UserProfilesService } from './user-profiles.service';
import { UserView } from './user.view';

@ApiTags('users')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('api/v1/users/me')
export class UsersController {
  constructor(private readonly profiles: UserProfilesService) {}

  @Get()
  @ApiOperation({ summary: 'The signed-in user and the status of their Google link' })
  @ApiOkResponse({ type: UserView })
  @ApiErrors(401)
  me(@CurrentPrincipal() principal: Principal): Promise<UserView> {
    return this.profiles.view(principal.userId);
  }
}
