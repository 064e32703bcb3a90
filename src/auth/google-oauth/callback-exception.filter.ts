import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SESSION_COOKIE } from '../../common/request-context';
import type { AppRequest } from '../../common/request-context';
import { AppConfig } from '../../config/app-config';
import { sendCallbackAnswer } from './callback-outcome';

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
    this.logger.error({ err: exception }, 'The Google callback failed');
    const flow = request.cookies?.[SESSION_COOKIE] ? 'link' : 'login';
    sendCallbackAnswer(host.switchToHttp().getResponse<FastifyReply>(), this.config, { flow, reason: 'google_error' });
  }
}
