import { Controller, Get, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../common/decorators';
import { AppConfig, EMULATOR_PATH } from '../config/app-config';
import { SECEVENT_MEDIA_TYPE } from '../risc/risc.controller';
import { isEmail } from './emulator-account';
import { sendHtml, sendJson } from './emulator-replies';
import { renderChooserPage, renderConsentPage, renderErrorPage, renderRiscPage } from './emulator-pages';
import { EMULATOR_RISC_EVENTS, emulatorRiscAccounts, findRiscAccount, isEmulatorRiscEvent, signSecurityEvent } from './emulator-risc';
import { EmulatorResponse, Params } from './emulator.types';
import { GoogleEmulator } from './google-emulator';

const first = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
const all = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item) => typeof item === 'string') : typeof value === 'string' ? [value] : []);
const params = (source: unknown): Params =>
  Object.fromEntries(Object.entries(typeof source === 'object' && source !== null ? source : {}).map(([name, value]) => [name, first(value)]));

/** The query string as sent, repeats included (Calendar's eventTypes). */
const searchParams = (request: FastifyRequest) => new URL(request.url, 'http://emulator.invalid').searchParams;

const EXPIRED = 'This sign-in request has expired or was already used. Go back to the app and start again.';

/**
 * The built-in Google (local mode only; EmulatorModule is never loaded with real credentials or in
 * production): the HTML account chooser and consent screen around the shared protocol core.
 */
@ApiExcludeController()
@Public()
@Controller(EMULATOR_PATH.slice(1))
export class EmulatorController {
  constructor(
    private readonly emulator: GoogleEmulator,
    private readonly config: AppConfig,
  ) {}

  @Get('o/oauth2/v2/auth')
  authorize(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    const outcome = this.emulator.authorize(params(request.query));
    if (outcome.kind === 'error-page') return this.html(reply, 400, renderErrorPage(outcome.error, outcome.description));
    if (outcome.kind === 'redirect') return this.redirect(reply, 302, outcome.location);
    const pending = this.emulator.authorization.park(outcome.request, outcome.account);
    // An account already signed in here goes straight to consent, as at Google.
    if (pending.email) return this.redirect(reply, 302, this.consentPath(pending.id));
    this.html(reply, 200, renderChooserPage(pending, `${EMULATOR_PATH}/signin`));
  }

  /** "Use another account" on the consent screen: the chooser again, for the same request. */
  @Get('signin')
  chooserPage(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    const pending = this.emulator.authorization.pending(params(request.query).request);
    if (!pending) return this.html(reply, 400, renderErrorPage('invalid_request', EXPIRED));
    this.html(reply, 200, renderChooserPage(pending, `${EMULATOR_PATH}/signin`, undefined, { email: '' }));
  }

  @Post('signin')
  chooseAccount(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    const form = params(request.body);
    const pending = this.emulator.authorization.pending(form.request);
    if (!pending) return this.html(reply, 400, renderErrorPage('invalid_request', EXPIRED));
    const email = form.email?.trim().toLowerCase() ?? '';
    const name = form.name?.trim().slice(0, 100);
    if (!isEmail(email)) {
      return this.html(reply, 400, renderChooserPage(pending, `${EMULATOR_PATH}/signin`, 'Enter a valid email address', { email, name }));
    }
    this.emulator.authorization.choose(pending, email, name || undefined);
    // Post/redirect/get: reloading the consent page does not resubmit the chooser.
    this.redirect(reply, 303, this.consentPath(pending.id));
  }

  @Get('consent')
  consentPage(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    const pending = this.emulator.authorization.pending(params(request.query).request);
    if (!pending?.email) return this.html(reply, 400, renderErrorPage('invalid_request', EXPIRED));
    const otherAccount = `${EMULATOR_PATH}/signin?request=${encodeURIComponent(pending.id)}`;
    this.html(reply, 200, renderConsentPage(pending, `${EMULATOR_PATH}/consent`, otherAccount), new URL(pending.request.redirectUri).origin);
  }

  @Post('consent')
  consent(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const form = params(body);
    const pending = this.emulator.authorization.pending(form.request);
    if (!pending?.email) return this.html(reply, 400, renderErrorPage('invalid_request', EXPIRED));
    // Only the pending record decides where the browser goes: nothing in the form can change the redirect URI.
    const location = this.emulator.authorization.decidePending(pending.id, {
      email: pending.email,
      name: pending.name,
      cancel: form.action !== 'allow',
      grantScopes: all(body.scope),
    });
    if (!location) return this.html(reply, 400, renderErrorPage('invalid_request', EXPIRED));
    this.redirect(reply, 302, location);
  }

  @Post('token')
  token(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.send(reply, this.emulator.token(params(request.body), request.headers.authorization));
  }

  @Get('.well-known/openid-configuration')
  discovery(@Res() reply: FastifyReply): void {
    this.send(reply, this.emulator.discovery());
  }

  @Get(['v1/userinfo', 'oauth2/v3/userinfo'])
  userinfo(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.send(reply, this.emulator.userinfo(request.headers.authorization));
  }

  @Post('revoke')
  revoke(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.send(reply, this.emulator.revoke({ ...params(request.query), ...params(request.body) }));
  }

  @Get('oauth2/v3/certs')
  jwks(@Res() reply: FastifyReply): void {
    this.send(reply, this.emulator.jwks());
  }

  @Get('oauth2/v1/certs')
  pemCerts(@Res() reply: FastifyReply): void {
    this.send(reply, this.emulator.pemCerts());
  }

  /** Google takes the token from the query, the form or a Bearer header, by GET or POST. */
  @Get(['tokeninfo', 'oauth2/v3/tokeninfo'])
  tokeninfo(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.send(reply, this.emulator.tokeninfo(params(request.query), request.headers.authorization));
  }

  @Post(['tokeninfo', 'oauth2/v3/tokeninfo'])
  tokeninfoByPost(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.send(reply, this.emulator.tokeninfo({ ...params(request.query), ...params(request.body) }, request.headers.authorization));
  }

  @Get('calendar/v3/calendars/:calendarId/events')
  events(@Param('calendarId') calendarId: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.send(reply, this.emulator.events(request.headers.authorization, calendarId, searchParams(request)));
  }

  /** For scripts: `{ email | sub, event }` → the SET posted to the service's receiver; answers what the receiver answered. */
  @Post('risc/send')
  async sendSecurityEvent(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const outcome = await this.deliverSecurityEvent(params(request.body));
    this.send(reply, outcome.response);
  }

  /** For people: a button per event type for each account the emulator knows. */
  @Get('risc')
  riscPage(@Res() reply: FastifyReply): void {
    this.html(reply, 200, renderRiscPage(emulatorRiscAccounts(this.emulator), `${EMULATOR_PATH}/risc`));
  }

  @Post('risc')
  async riscButton(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const outcome = await this.deliverSecurityEvent(params(request.body));
    const result = { ok: outcome.response.status === 200, message: outcome.message };
    this.html(reply, outcome.response.status === 200 ? 200 : 400, renderRiscPage(emulatorRiscAccounts(this.emulator), `${EMULATOR_PATH}/risc`, result));
  }

  private async deliverSecurityEvent(form: Params): Promise<{ response: EmulatorResponse; message: string }> {
    const refuse = (status: number, code: string, message: string) => ({ response: { status, body: { statusCode: status, code, message } }, message });
    if (!isEmulatorRiscEvent(form.event)) {
      return refuse(400, 'validation_failed', `event must be one of: ${Object.keys(EMULATOR_RISC_EVENTS).join(', ')}`);
    }
    if (!form.email && !form.sub) return refuse(400, 'validation_failed', 'Name the account: email or sub');
    const account = findRiscAccount(this.emulator, { email: form.email, sub: form.sub });
    if (!account) return refuse(404, 'not_found', 'The emulator knows no such account: sign in or link it through the emulator first');
    const { jti, token } = signSecurityEvent(this.emulator, account, form.event, this.config.google.clientId);
    const receiver = `${this.config.publicUrl}/api/v1/google/risc`;
    let status: number;
    try {
      const answer = await fetch(receiver, {
        method: 'POST',
        headers: { 'content-type': SECEVENT_MEDIA_TYPE, accept: 'application/json' },
        body: token,
        signal: AbortSignal.timeout(this.config.google.httpTimeoutMs),
      });
      status = answer.status;
      await answer.arrayBuffer();
    } catch {
      return refuse(502, 'receiver_unreachable', `The security event could not be delivered to ${receiver}`);
    }
    const message =
      status === 202 ? `Sent ${form.event} for ${account.email}: the app accepted it` : `Sent ${form.event} for ${account.email}: the app answered ${status}`;
    return { response: { status: 200, body: { event: form.event, email: account.email, sub: account.sub, jti, receiverStatus: status } }, message };
  }

  private consentPath(requestId: string): string {
    return `${EMULATOR_PATH}/consent?request=${encodeURIComponent(requestId)}`;
  }

  private send(reply: FastifyReply, response: EmulatorResponse): void {
    sendJson(reply, response);
  }

  private redirect(reply: FastifyReply, status: 302 | 303, location: string): void {
    reply.status(status).header('location', location).header('cache-control', 'no-store').send();
  }

  /** `formTarget`: the consent form's answer redirects there, and browsers hold redirects to form-action too. */
  private html(reply: FastifyReply, status: number, body: string, formTarget?: string): void {
    sendHtml(reply, status, body, ["'self'", ...(formTarget ? [formTarget] : [])]);
  }
}
