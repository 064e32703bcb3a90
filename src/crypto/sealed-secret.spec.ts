import { inspect } from 'node:util';
import { encryptedColumn, installKeyRing } from './encrypted-column.transformer';
import { KeyRing } from './key-ring';
import { SealedSecret } from './sealed-secret';
import { DecryptionError, EncryptionKeyMissingError } from './token-cipher';

const ring = new KeyRing([{ id: 'k1', key: Buffer.alloc(32, 4) }]);
const ADA = '0b7e1f2a-0000-4000-8000-00000000000a';
const BOB = '0b7e1f2a-0000-4000-8000-00000000000b';

describe('SealedSecret and the encrypted-column transformer', () => {
  const column = encryptedColumn('google_oauth2_users.refresh_token', { boundTo: 'user_id' });
  beforeAll(() => installKeyRing(ring));

  it('seals a value for its owner on write and opens it only for that owner on read', () => {
    const stored = column.to(SealedSecret.for(ADA, 'rt-ada')) as string;

    const read = column.from(stored) as SealedSecret;

    expect(stored).toMatch(/^v2:k1:/);
    expect(stored).not.toContain('rt-ada');
    expect(read.keyId).toBe('k1');
    expect(read.open(ADA)).toBe('rt-ada');
    expect(() => read.open(BOB)).toThrow(DecryptionError);
  });

  it('reads without decrypting: a value under a retired key or damaged loads, and fails only when opened', () => {
    const retired = new KeyRing([{ id: 'gone', key: Buffer.alloc(32, 5) }]).seal('rt', { column: 'google_oauth2_users.refresh_token', owner: ADA });

    const unreadable = column.from(retired) as SealedSecret;
    const damaged = column.from('v2:k1:AAAA') as SealedSecret;

    expect(unreadable.keyId).toBe('gone');
    expect(() => unreadable.open(ADA)).toThrow(EncryptionKeyMissingError);
    expect(() => damaged.open(ADA)).toThrow(DecryptionError);
  });

  it('keeps a stored value as it is when written back, and refuses it in another column', () => {
    const stored = column.to(SealedSecret.for(ADA, 'rt-ada')) as string;
    const other = encryptedColumn('google_oauth2_users.access_token', { boundTo: 'user_id' });

    expect(column.to(column.from(stored))).toBe(stored);
    expect(() => other.to(column.from(stored))).toThrow(/cannot be stored in google_oauth2_users.access_token/);
  });

  it('refuses a plain string or a query operator instead of storing it unsealed', () => {
    expect(() => column.to('ya29.plaintext')).toThrow(TypeError);
    expect(() => column.to({ _type: 'equal', _value: 'x' })).toThrow(TypeError);
    expect(column.to(null)).toBeNull();
    expect(column.from(null)).toBeNull();
  });

  it('shows nothing when logged or serialised, before or after storing', () => {
    const pending = SealedSecret.for(ADA, 'rt-ada');
    const read = column.from(column.to(pending)) as SealedSecret;

    for (const secret of [pending, read]) {
      expect(JSON.stringify({ secret })).toBe('{"secret":"[sealed]"}');
      expect(String(secret)).toBe('[sealed]');
      expect(inspect(secret)).not.toContain('rt-ada');
      expect(inspect(secret)).not.toContain('v2:');
    }
  });

  it('names the column and owner it is bound to, for key rotation', () => {
    expect(column.encryptionContext).toBe('google_oauth2_users.refresh_token');
    expect(column.ownerColumn).toBe('user_id');
  });
});
