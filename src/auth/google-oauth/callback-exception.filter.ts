import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { AppRequest } from '../../common/request-context';
import { AppConfig } from '../../config/app-config';
import { cookieValues } from '../host-cookies';
import { sessionCookieName } from '../sessions/session-cookie';
import { sendCallbackAnswer } from './callback-outcome';
import { serializeError } from '../../database/database-error';

/**
 * The callback is a browser navigation: whatever fails (the database, say), it answers with a
 * redirect to the outcome page, never JSON or a 5xx. Without the database the flow cannot be
 * known, so a browser holding a session cookie is sent to the link outcome, others to sign-in's.
 */
@Catch()
export class CallbackExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('GoogleCallback');

  constructor(private readonly config: AppConfig) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<AppRequest>();
    this.logger.error({ err: serializeError(exception) }, 'The Google callback failed');
    const flow = cookieValues(request, sessionCookieName(this.config)).length > 0 ? 'link' : 'login';
    sendCallbackAnswer(host.switchToHttp().getResponse<FastifyReply>(), this.config, { flow, reason: 'google_error' });
  }
}
