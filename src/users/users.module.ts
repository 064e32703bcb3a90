import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GoogleModule } from '../google/google.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AdminController } from './admin.controller';
import { AuditEvent } from './audit-event.entity';
import { AuditService } from './audit.service';
import { GoogleAccessTokensService } from './google-access-tokens.service';
import { GoogleLinksService } from './google-links.service';
import { GoogleOAuth2User } from './google-oauth2-user.entity';
import { GoogleRefreshLeasesService } from './google-refresh-leases.service';
import { GoogleRevocation } from './google-revocation.entity';
import { GoogleRevocationsService } from './google-revocations.service';
import { LinkHealthService } from './link-health.service';
import { UserProfilesService } from './user-profiles.service';
import { User } from './user.entity';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [TypeOrmModule.forFeature([User, AuditEvent, GoogleOAuth2User, GoogleRevocation]), GoogleModule, WebhooksModule],
  controllers: [UsersController, AdminController],
  providers: [
    UsersService,
    AuditService,
    UserProfilesService,
    GoogleLinksService,
    GoogleRevocationsService,
    GoogleRefreshLeasesService,
    GoogleAccessTokensService,
    LinkHealthService,
  ],
  exports: [UsersService, AuditService, UserProfilesService, GoogleLinksService, GoogleRevocationsService, GoogleAccessTokensService],
})
export class UsersModule {}
