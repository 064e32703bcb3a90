import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { sessionCookieName } from './auth/sessions/session-cookie';
import { AppConfig } from './config/app-config';

/** The day the DTOs' date examples are written around; served documents move them to today (relativeExampleDates). */
export const EXAMPLES_WRITTEN_FOR = '2026-12-01';
const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4}-\d{2}-\d{2})(T.*)?$/;

/** Swagger UI at /api/docs, the OpenAPI document at /api/docs-json. */
export function setupSwagger(app: INestApplication, config: AppConfig): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('google-link API')
      .setDescription(
        'Sign in with Google, connect a Google account (offline Calendar access) and disconnect it. ' +
          'To try the routes here: `npm run cli -- sessions:create --email you@example.com`, then paste the token under Authorize. ' +
          'Routes marked browser-only answer a redirect: open them in a browser tab.',
      )
      .setVersion(packageVersion())
      .addServer(config.publicUrl)
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A session token (from sign-in, the token exchange or `sessions:create`)' })
      .addCookieAuth(sessionCookieName(config))
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/docs-json',
    yamlDocumentUrl: 'api/docs-yaml',
    patchDocumentOnRequest: (_request, _reply, built) => relativeExampleDates(built, Date.now()),
    swaggerOptions: { requestInterceptor: stopAtRedirects, responseInterceptor: describeRedirect },
  });
}

/** The service's version (package.json beside the working directory, as for public/). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * A copy of the document whose example dates are moved from EXAMPLES_WRITTEN_FOR to today, keeping
 * their distances: Try it out on out-of-office pre-fills the coming 30 days, never a window long past.
 */
export function relativeExampleDates(document: OpenAPIObject, now: number): OpenAPIObject {
  const shift = Math.floor(now / DAY_MS) - Date.parse(EXAMPLES_WRITTEN_FOR) / DAY_MS;
  const move = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const match = ISO_DATE.exec(value);
      return match ? new Date(Date.parse(match[1]) + shift * DAY_MS).toISOString().slice(0, 10) + (match[2] ?? '') : value;
    }
    if (Array.isArray(value)) return value.map(move);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, move(inner)]));
    return value;
  };
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== 'object') return node;
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, key === 'example' || key === 'examples' ? move(value) : walk(value)]));
  };
  return walk(document) as OpenAPIObject;
}

// The two interceptors run in the browser, inside Swagger UI: they are serialised as source, so they
// use nothing from this module. An API route never redirects, so only browser-only routes are affected.

/** Do not follow redirects: a browser-only route's 302 would otherwise fetch Google's page. */
function stopAtRedirects(request: { redirect?: string }) {
  request.redirect = 'manual';
  return request;
}

/** A stopped redirect reaches Swagger UI as status 0 with no headers: show it as the 302 it was. */
function describeRedirect(response: { status: number; url: string }) {
  if (response.status !== 0) return response;
  const text = `302 Found. ${response.url} is browser-only: it sends the browser on (see Location below). Open it in a browser tab to follow it.`;
  return { ...response, ok: true, status: 302, statusText: 'Found', headers: { 'content-type': 'text/plain' }, text, body: text, data: text };
}
