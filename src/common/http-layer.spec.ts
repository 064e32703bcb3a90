import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/app-config';
import { httpLayerError, requestTimeLimits } from './http-layer';

const SPEC_LIMIT_MS = 30_000;

describe('requestTimeLimits', () => {
  it('cuts a stalled client off within 30 s with the default config (limit plus one check interval)', () => {
    const config = loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'gl-http-')) });

    const limits = requestTimeLimits(config.requestTimeoutMs);

    expect(limits.requestTimeout).toBeGreaterThan(0);
    expect(limits.http?.headersTimeout).toBeGreaterThan(0);
    expect(limits.keepAliveTimeout).toBeGreaterThan(0);
    const interval = limits.http!.connectionsCheckingInterval!;
    expect(limits.requestTimeout! + interval).toBeLessThanOrEqual(SPEC_LIMIT_MS);
    expect(limits.http!.requestTimeout! + interval).toBeLessThanOrEqual(SPEC_LIMIT_MS);
    expect(limits.http!.headersTimeout! + interval).toBeLessThanOrEqual(SPEC_LIMIT_MS);
    expect(limits.keepAliveTimeout).toBeLessThanOrEqual(SPEC_LIMIT_MS);
  });

  it('refuses a configured limit a stalled client could outlast 30 s with', () => {
    expect(() => loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'gl-http-')), HTTP_REQUEST_TIMEOUT_MS: '30000' })).toThrow(/HTTP_REQUEST_TIMEOUT_MS/);
  });
});

describe('httpLayerError', () => {
  it.each([
    [{ code: 'FST_ERR_BAD_URL', statusCode: 400 }, 400, 'invalid_request'],
    [{ code: 'FST_ERR_MAX_PARAM_LENGTH', statusCode: 414 }, 414, 'uri_too_long'],
    [{ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }, 413, 'payload_too_large'],
    [{ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }, 415, 'unsupported_media_type'],
    [{ code: 'FST_ERR_SOMETHING_NEW', statusCode: 400 }, 400, 'invalid_request'],
    [Object.assign(new SyntaxError('Unexpected end of JSON input'), { statusCode: 400 }), 400, 'invalid_request'],
  ])('answers %p in our shape, with our words', (error, statusCode, code) => {
    const body = httpLayerError(error);

    expect(body).toEqual({ statusCode, code, message: expect.any(String) });
    expect(body!.message).not.toMatch(/FST_|JSON input/);
  });

  it('leaves anything else (no 4xx statusCode) to the rest of the filter', () => {
    expect(httpLayerError(new Error('boom'))).toBeUndefined();
    expect(httpLayerError({ statusCode: 500 })).toBeUndefined();
    expect(httpLayerError(null)).toBeUndefined();
  });
});
