import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WebAsset {
  body: Buffer;
  contentType: string;
  cacheControl: string;
}

/** The page must always be fresh (it reflects the session); its assets may be cached for a few minutes. */
const PAGE_CACHE = 'no-store';
const ASSET_CACHE = 'public, max-age=300';

/** URL path → file under public/. Only these are served: nothing else in the folder is reachable. */
const FILES: Record<string, { file: string; contentType: string; cacheControl: string }> = {
  '/users/me': { file: 'users-me.html', contentType: 'text/html; charset=utf-8', cacheControl: PAGE_CACHE },
  '/assets/users-me.css': { file: 'assets/users-me.css', contentType: 'text/css; charset=utf-8', cacheControl: ASSET_CACHE },
  '/assets/users-me.js': { file: 'assets/users-me.js', contentType: 'text/javascript; charset=utf-8', cacheControl: ASSET_CACHE },
  '/assets/favicon.svg': { file: 'assets/favicon.svg', contentType: 'image/svg+xml', cacheControl: ASSET_CACHE },
};

/**
 * The static users/me page, read once at start-up and served from memory. `public/` is found from
 * the working directory: the service always starts from the repository root (`npm start`, the
 * Dockerfile's WORKDIR).
 */
export class WebAssets {
  private constructor(private readonly assets: Map<string, WebAsset>) {}

  static load(publicDir = join(process.cwd(), 'public')): WebAssets {
    const assets = new Map<string, WebAsset>();
    for (const [path, { file, contentType, cacheControl }] of Object.entries(FILES)) {
      let body: Buffer;
      try {
        body = readFileSync(join(publicDir, file));
      } catch {
        throw new Error(`The users/me page file ${join(publicDir, file)} is missing: start the service from the repository root`);
      }
      assets.set(path, { body, contentType, cacheControl });
    }
    return new WebAssets(assets);
  }

  get(path: string): WebAsset | undefined {
    return this.assets.get(path);
  }
}
