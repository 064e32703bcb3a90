import { Module } from '@nestjs/common';
import { GoogleCalendarClient } from './google-calendar.client';
import { GoogleHttpClient } from './google-http.client';
import { GoogleIdTokenVerifier } from './google-id-token.verifier';
import { GoogleOAuthClient } from './google-oauth.client';

/** Thin clients for Google's endpoints; no business rules. */
@Module({
  providers: [GoogleHttpClient, GoogleOAuthClient, GoogleIdTokenVerifier, GoogleCalendarClient],
  exports: [GoogleOAuthClient, GoogleIdTokenVerifier, GoogleHttpClient, GoogleCalendarClient],
})
export class GoogleModule {}
