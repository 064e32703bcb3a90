import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { sessionCookieName } from './auth/sessions/session-cookie';
import { AppConfig } from './config/app-config';

/** Swagger UI at /api/docs, the OpenAPI document at /api/docs-json. */
export function setupSwagger(app: INestApplication, config: AppConfig): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('google-link')
      .setDescription(
        'Sign in with Google, connect a Google account (offline Calendar access) and disconnect it. ' +
          'To try the routes here: `npm run cli -- sessions:create --email you@example.com`, then paste the token under Authorize.',
      )
      .setVersion('1')
      .addServer(config.publicUrl)
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A session token (from sign-in, the token exchange or `sessions:create`)' })
      .addCookieAuth(sessionCookieName(config))
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json', yamlDocumentUrl: 'api/docs-yaml' });
}
