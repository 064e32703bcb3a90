import { Module } from '@nestjs/common';
import { GoogleHttpClient } from './google-http.client';
import { GoogleIdTokenVerifier } from './google-id-token.verifier';
import { GoogleOAuthClient } from './google-oauth.client';

/** Thin clients for Google's endpoints; no business rules. */
@Module({
  providers: [GoogleHttpClient, GoogleOAuthClient, GoogleIdTokenVerifier],
  exports: [GoogleOAuthClient, GoogleIdTokenVerifier, GoogleHttpClient],
})
export class GoogleModule {}
