import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GoogleModule } from '../google/google.module';
import { UsersModule } from '../users/users.module';
import { GoogleAuthController } from './google-auth.controller';
import { GoogleAuthorizationService } from './google-authorization.service';
import { GoogleCallbackGuard } from './google-callback.guard';
import { GoogleLoginService } from './google-login.service';
import { GoogleSignInService } from './google-sign-in.service';
import { GoogleStrategy } from './google.strategy';
import { LinkCallbackService } from './link-callback.service';
import { OAuthState } from './oauth-state.entity';
import { OAuthStateStore } from './oauth-state.store';
import { OAuthStatesService } from './oauth-states.service';
import { PurgeScheduler } from './purge.scheduler';
import { RolesGuard } from './roles.guard';
import { Session } from './session.entity';
import { SessionGuard } from './session.guard';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';
import { StateTokenGuard } from './state-token.guard';

@Module({
  imports: [TypeOrmModule.forFeature([Session, OAuthState]), PassportModule, UsersModule, GoogleModule],
  controllers: [SessionsController, GoogleAuthController],
  providers: [
    SessionsService,
    OAuthStatesService,
    OAuthStateStore,
    GoogleStrategy,
    GoogleAuthorizationService,
    StateTokenGuard,
    GoogleCallbackGuard,
    LinkCallbackService,
    GoogleSignInService,
    GoogleLoginService,
    PurgeScheduler,
    { provide: APP_GUARD, useClass: SessionGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [SessionsService, OAuthStatesService],
})
export class AuthModule {}
