import { KeyRing } from './key-ring';
import { DecryptionError, EncryptionKeyMissingError } from './token-cipher';

const key = (id: string, fill: number) => ({ id, key: Buffer.alloc(32, fill) });
const CONTEXT = 'google_oauth2_users.refresh_token';

describe('KeyRing', () => {
  const ring = new KeyRing([key('new', 1), key('old', 2)]);

  it('round-trips, with a fresh nonce each time and no plaintext in the envelope', () => {
    const secret = '1//0gLongRefreshToken-' + 'x'.repeat(40);

    const first = ring.encrypt(secret, CONTEXT);
    const second = ring.encrypt(secret, CONTEXT);

    expect(first).not.toEqual(second);
    expect(first).not.toContain(secret);
    expect(first.startsWith('v1:new:')).toBe(true);
    expect(ring.decrypt(first, CONTEXT)).toBe(secret);
  });

  it('stores tokens far longer than 223 characters', () => {
    const long = 'ya29.' + 'a'.repeat(4096);

    expect(ring.decrypt(ring.encrypt(long, CONTEXT), CONTEXT)).toBe(long);
  });

  it('refuses a value moved to another column', () => {
    const sealed = ring.encrypt('token', CONTEXT);

    expect(() => ring.decrypt(sealed, 'google_oauth2_users.access_token')).toThrow(DecryptionError);
  });

  it('refuses a tampered value instead of returning garbage', () => {
    const sealed = ring.encrypt('token', CONTEXT);
    const payload = Buffer.from(sealed.split(':')[2], 'base64url');
    payload[14] ^= 1;

    expect(() => ring.decrypt(`v1:new:${payload.toString('base64url')}`, CONTEXT)).toThrow(DecryptionError);
  });

  it('refuses a raw, unencrypted value rather than passing it through', () => {
    expect(() => ring.decrypt('ya29.plaintext', CONTEXT)).toThrow(DecryptionError);
  });

  it('decrypts with an older key and reports it for rotation', () => {
    const oldRing = new KeyRing([key('old', 2)]);
    const sealed = oldRing.encrypt('token', CONTEXT);

    expect(ring.decrypt(sealed, CONTEXT)).toBe('token');
    expect(ring.needsRotation(sealed)).toBe(true);
    expect(ring.needsRotation(ring.encrypt('token', CONTEXT))).toBe(false);
  });

  it('names the key id it does not have', () => {
    const sealed = new KeyRing([key('gone', 3)]).encrypt('token', CONTEXT);

    expect(() => ring.decrypt(sealed, CONTEXT)).toThrow(EncryptionKeyMissingError);
    expect(() => ring.decrypt(sealed, CONTEXT)).toThrow(/"gone"/);
  });
});
