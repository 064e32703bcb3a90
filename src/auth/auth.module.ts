import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GoogleModule } from '../google/google.module';
import { RiscModule } from '../risc/risc.module';
import { UsersModule } from '../users/users.module';
import { GoogleCallbackController } from './google-oauth/google-callback.controller';
import { GoogleStrategy } from './google-oauth/google.strategy';
import { OAuthState } from './google-oauth/oauth-state.entity';
import { OAuthStateStore } from './google-oauth/oauth-state.store';
import { OAuthStateWriter } from './google-oauth/oauth-state.writer';
import { StateTokenGuard } from './google-oauth/state-token.guard';
import { LinkCallbackService } from './linking/link-callback.service';
import { LinkController } from './linking/link.controller';
import { PurgeScheduler } from './purge.scheduler';
import { RolesGuard } from './sessions/roles.guard';
import { Session } from './sessions/session.entity';
import { SessionGuard } from './sessions/session.guard';
import { SessionsController } from './sessions/sessions.controller';
import { SessionsService } from './sessions/sessions.service';
import { SignInController } from './sign-in/sign-in.controller';
import { SignInService } from './sign-in/sign-in.service';

@Module({
  imports: [TypeOrmModule.forFeature([Session, OAuthState]), PassportModule, UsersModule, GoogleModule, RiscModule],
  controllers: [SessionsController, SignInController, LinkController, GoogleCallbackController],
  providers: [
    SessionsService,
    OAuthStateStore,
    OAuthStateWriter,
    GoogleStrategy,
    StateTokenGuard,
    LinkCallbackService,
    SignInService,
    PurgeScheduler,
    { provide: APP_GUARD, useClass: SessionGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [SessionsService],
})
export class AuthModule {}
