import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GoogleStrategy } from './google.strategy';
import { StartOptions } from './oauth-flow';

type StrategyAttempt = GoogleStrategy & {
  redirect(url: string): void;
  error(error: Error): void;
  fail(): void;
  success(): void;
  pass(): void;
};

/**
 * Builds the URL that sends a browser to Google's consent screen, by running the Google strategy's
 * authorization step with its redirect captured (what passport.authenticate does, minus the
 * Express response it would write to).
 */
@Injectable()
export class GoogleAuthorizationService {
  constructor(
    private readonly strategy: GoogleStrategy,
    private readonly config: AppConfig,
  ) {}

  authorizationUrl(browserSecret: string, start: StartOptions): Promise<string> {
    const link = start.purpose === 'link';
    const google = this.config.google;
    const prompt = link ? google.linkPrompt : google.loginPrompt;
    const options = {
      scope: link ? google.linkScopes : google.loginScopes,
      accessType: link ? 'offline' : 'online',
      includeGrantedScopes: link,
      prompt: prompt || undefined,
      loginHint: start.loginHint,
      nonce: randomBytes(16).toString('base64url'),
      state: undefined as unknown,
    };
    options.state = { purpose: start.purpose, userId: start.userId, browserSecret, nonce: options.nonce, nextPath: start.nextPath ?? null };
    return new Promise((resolve, reject) => {
      const attempt = Object.create(this.strategy) as StrategyAttempt;
      attempt.redirect = resolve;
      attempt.error = reject;
      const refuse = () => reject(new Error('The Google strategy refused to start an authorization request'));
      attempt.fail = refuse;
      attempt.success = refuse;
      attempt.pass = refuse;
      // A blank request: passport-oauth2 treats any `code` or `error` in the query as a callback,
      // and nothing from the start request belongs in the authorization request anyway.
      attempt.authenticate({ query: {}, body: {} } as never, options);
    });
  }
}
