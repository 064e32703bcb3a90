import { helmetHeaders } from './security-headers';

describe('helmetHeaders', () => {
  it('computes helmet’s headers once, lower-cased, from the configuration', () => {
    const headers = helmetHeaders({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'self'"], frameAncestors: ["'none'"] } },
      xFrameOptions: { action: 'deny' },
      strictTransportSecurity: false,
    });

    expect(headers['content-security-policy']).toBe("default-src 'self';frame-ancestors 'none'");
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers).not.toHaveProperty('strict-transport-security');
  });

  it('keeps HSTS when it is asked for', () => {
    const headers = helmetHeaders({ strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true } });

    expect(headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });
});
