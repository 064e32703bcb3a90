import { Module } from '@nestjs/common';
import { WebAssets } from './web-assets';
import { WebController } from './web.controller';

/** The users/me page. AppModule imports it only when config.servesFrontend (FRONTEND_URL is this service). */
@Module({
  controllers: [WebController],
  providers: [{ provide: WebAssets, useFactory: () => WebAssets.load() }],
})
export class WebModule {}
