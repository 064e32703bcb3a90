import { parseTrustProxy } from './trust-proxy';

describe('parseTrustProxy (TRUST_PROXY)', () => {
  it.each([
    ['false', false],
    ['0', false],
    ['true', 1],
    ['2', 2],
    ['10.0.0.1', ['10.0.0.1']],
    ['10.0.0.0/8, 192.168.1.1', ['10.0.0.0/8', '192.168.1.1']],
    ['::1,fd00::/8', ['::1', 'fd00::/8']],
  ])('reads %j', (value, expected) => {
    expect(parseTrustProxy(value)).toEqual(expected);
  });

  it.each(['yes', '', 'true,10.0.0.1', '10.0.0.0/33', '10.0.0.300', 'fd00::/129', '10.0.0.0/8/1', '-1', '1.5', 'loopback'])('refuses %j', (value) => {
    expect(parseTrustProxy(value)).toBeUndefined();
  });
});
