import { sealV1 } from '../../test/support/legacy-envelope';
import { KeyRing } from './key-ring';
import { reseal } from './reseal';
import { DecryptionError, EncryptionKeyMissingError } from './token-cipher';

const key = (id: string, fill: number) => ({ id, key: Buffer.alloc(32, fill) });
const COLUMN = 'google_oauth2_users.refresh_token';
const ADA = { column: COLUMN, owner: '0b7e1f2a-0000-4000-8000-00000000000a' };
const BOB = { column: COLUMN, owner: '0b7e1f2a-0000-4000-8000-00000000000b' };

describe('KeyRing', () => {
  const ring = new KeyRing([key('new', 1), key('old', 2)]);

  it('round-trips, with a fresh nonce each time and no plaintext in the envelope', () => {
    const secret = '1//0gLongRefreshToken-' + 'x'.repeat(40);

    const first = ring.seal(secret, ADA);
    const second = ring.seal(secret, ADA);

    expect(first).not.toEqual(second);
    expect(first).not.toContain(secret);
    expect(first.startsWith('v2:new:')).toBe(true);
    expect(ring.open(first, ADA)).toBe(secret);
  });

  it('stores tokens far longer than 223 characters', () => {
    const long = 'ya29.' + 'a'.repeat(4096);

    expect(ring.open(ring.seal(long, ADA), ADA)).toBe(long);
  });

  it('refuses a value copied into another row (another owner)', () => {
    const sealed = ring.seal('token', ADA);

    expect(() => ring.open(sealed, BOB)).toThrow(DecryptionError);
  });

  it('refuses a value moved to another column', () => {
    const sealed = ring.seal('token', ADA);

    expect(() => ring.open(sealed, { ...ADA, column: 'google_oauth2_users.access_token' })).toThrow(DecryptionError);
  });

  it('refuses a value whose version or key id was rewritten', () => {
    const sealed = ring.seal('token', ADA);
    const [, , payload] = sealed.split(':');
    const sameKeyAsOld = new KeyRing([key('new', 1), key('alias', 1)]);

    expect(() => ring.openLegacy(`v1:new:${payload}`, COLUMN)).toThrow(DecryptionError);
    expect(() => sameKeyAsOld.open(`v2:alias:${payload}`, ADA)).toThrow(DecryptionError);
  });

  it('refuses a tampered value instead of returning garbage', () => {
    const sealed = ring.seal('token', ADA);
    const payload = Buffer.from(sealed.split(':')[2], 'base64url');
    payload[14] ^= 1;

    expect(() => ring.open(`v2:new:${payload.toString('base64url')}`, ADA)).toThrow(DecryptionError);
  });

  it('refuses a raw, unencrypted value rather than passing it through', () => {
    expect(() => ring.open('ya29.plaintext', ADA)).toThrow(DecryptionError);
  });

  it('never opens a v1 value as a current one; only the upgrade reads it, by column', () => {
    const legacy = sealV1('token', key('old', 2), COLUMN);

    expect(() => ring.open(legacy, ADA)).toThrow(/v1 value is not accepted/);
    expect(ring.openLegacy(legacy, COLUMN)).toBe('token');
    expect(() => ring.openLegacy(legacy, 'google_oauth2_users.access_token')).toThrow(DecryptionError);
  });

  it('opens with an older key and reports what needs rotating: another key, or v1', () => {
    const oldRing = new KeyRing([key('old', 2)]);

    expect(ring.open(oldRing.seal('token', ADA), ADA)).toBe('token');
    expect(ring.needsRotation(oldRing.seal('token', ADA))).toBe(true);
    expect(ring.needsRotation(sealV1('token', key('new', 1), COLUMN))).toBe(true);
    expect(ring.needsRotation(ring.seal('token', ADA))).toBe(false);
  });

  it('names the key id it does not have', () => {
    const sealed = new KeyRing([key('gone', 3)]).seal('token', ADA);

    expect(() => ring.open(sealed, ADA)).toThrow(EncryptionKeyMissingError);
    expect(() => ring.open(sealed, ADA)).toThrow(/"gone"/);
  });
});

describe('reseal (keys:rotate and the v1 upgrade, one value)', () => {
  const ring = new KeyRing([key('new', 1), key('old', 2)]);

  it('seals again under the primary key, bound to the same row', () => {
    const outcome = reseal(ring, new KeyRing([key('old', 2)]).seal('token', ADA), ADA, false);

    expect(outcome).toEqual({ sealed: expect.stringMatching(/^v2:new:/), upgraded: false });
    expect(ring.open((outcome as { sealed: string }).sealed, ADA)).toBe('token');
  });

  it('upgrades a v1 value to v2 bound to its row while the upgrade runs, and refuses it afterwards', () => {
    const legacy = sealV1('token', key('old', 2), COLUMN);

    const during = reseal(ring, legacy, ADA, true);
    const after = reseal(ring, legacy, ADA, false);

    expect(during).toEqual({ sealed: expect.stringMatching(/^v2:new:/), upgraded: true });
    expect(ring.open((during as { sealed: string }).sealed, ADA)).toBe('token');
    expect(() => ring.open((during as { sealed: string }).sealed, BOB)).toThrow(DecryptionError);
    expect(after).toEqual({ skipped: 'legacy_refused', keyId: 'old' });
  });

  it('skips, naming the key id, what it cannot decrypt', () => {
    const damaged = ring.seal('token', ADA).slice(0, -4) + 'AAAA';

    expect(reseal(ring, new KeyRing([key('gone', 3)]).seal('token', ADA), ADA, true)).toEqual({ skipped: 'key_missing', keyId: 'gone' });
    expect(reseal(ring, damaged, ADA, true)).toEqual({ skipped: 'damaged', keyId: 'new' });
    expect(reseal(ring, ring.seal('token', ADA), BOB, true)).toEqual({ skipped: 'damaged', keyId: 'new' });
    expect(reseal(ring, 'ya29.plaintext', ADA, true)).toEqual({ skipped: 'damaged', keyId: undefined });
  });
});
