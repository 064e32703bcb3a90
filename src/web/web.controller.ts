import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/decorators';
import { AppConfig } from '../config/app-config';
import { WebAsset, WebAssets } from './web-assets';

/**
 * The page allows nothing but its own files: no inline script or style, no third-party origin.
 * It overrides the service-wide policy for these responses only.
 */
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** The users/me page (served only when FRONTEND_URL is this service; see WebModule). */
@ApiExcludeController()
@Public()
@Controller()
export class WebController {
  constructor(
    private readonly assets: WebAssets,
    private readonly config: AppConfig,
  ) {}

  /** Local mode's front door: `npm start` names http://localhost:3000, which should lead to the page. */
  @Get()
  home(@Res() reply: FastifyReply): void {
    if (!this.config.google.emulator) throw new NotFoundException();
    reply.header('cache-control', 'no-store').redirect('/users/me', 302);
  }

  @Get('users/me')
  page(@Res() reply: FastifyReply): void {
    this.send(reply, this.assets.get('/users/me')!);
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() reply: FastifyReply): void {
    const asset = this.assets.get(`/assets/${file}`);
    if (!asset) throw new NotFoundException();
    this.send(reply, asset);
  }

  private send(reply: FastifyReply, asset: WebAsset): void {
    reply
      .status(200)
      .header('content-type', asset.contentType)
      .header('cache-control', asset.cacheControl)
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', PAGE_CSP)
      .send(asset.body);
  }
}
