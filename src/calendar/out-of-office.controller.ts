import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator';
import { CurrentPrincipal } from '../common/decorators';
import type { Principal } from '../common/request-context';
import { GoogleApiRateLimited } from '../rate-limit/google-api-rate-limit.guard';
import { OutOfOfficeQuery, OutOfOfficeResponse } from './out-of-office.dto';
import { outOfOfficeWindow, OutOfOfficeService } from './out-of-office.service';

@ApiTags('users')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('api/v1/users/me/google/out-of-office')
export class OutOfOfficeController {
  constructor(private readonly outOfOffice: OutOfOfficeService) {}

  @Get()
  @GoogleApiRateLimited()
  @ApiOperation({ summary: 'My upcoming out-of-office events, read from Google Calendar with the linked account' })
  @ApiOkResponse({ type: OutOfOfficeResponse })
  @ApiErrors(
    { invalid_request: 'to must be at most 90 days after from' },
    400,
    401,
    'google_not_linked',
    'missing_scopes',
    'google_reauth_required',
    'encryption_key_missing',
    'google_unavailable',
    'rate_limited',
    { rate_limited: 'Too many requests to Google for this user; retry after the Retry-After seconds' },
  )
  async list(@CurrentPrincipal() principal: Principal, @Query() query: OutOfOfficeQuery): Promise<OutOfOfficeResponse> {
    const window = outOfOfficeWindow(query.from, query.to);
    return { events: await this.outOfOffice.events(principal.userId, window) };
  }
}
