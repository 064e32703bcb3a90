import { applyDecorators } from '@nestjs/common';
import { ApiExtension, ApiResponse } from '@nestjs/swagger';

/**
 * A browser-only route that answers 302: documents where it sends the browser (the Location header).
 * Swagger UI's Try it out stops at the redirect and says so (swagger.ts) instead of fetching the page
 * it leads to and showing that HTML as an undocumented 200.
 */
export function ApiRedirect(options: { location: string; description: string }) {
  return applyDecorators(
    ApiExtension('x-browser-only', true),
    ApiResponse({
      status: 302,
      description: options.description,
      headers: { Location: { description: options.location, schema: { type: 'string', format: 'uri' } } },
    }),
  );
}
