import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption for values at rest: AES-256-GCM, a random 96-bit nonce per value,
 * the key id in the envelope, and a context (the table and column) bound in as associated
 * data so that a value copied to another column fails to decrypt.
 *
 * Envelope: `v1:<keyId>:<base64url(nonce | ciphertext | tag)>`
 */
const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface CipherKey {
  id: string;
  key: Buffer;
}

export class EncryptionKeyMissingError extends Error {
  override name = 'EncryptionKeyMissingError';
  constructor(readonly keyId: string) {
    super(`No encryption key with id "${keyId}" is configured in ENCRYPTION_KEYS`);
  }
}

export class DecryptionError extends Error {
  override name = 'DecryptionError';
}

export function encrypt(plaintext: string, key: CipherKey, context: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
  cipher.setAAD(Buffer.from(`${VERSION}:${key.id}:${context}`));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${VERSION}:${key.id}:${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/** The key id an envelope was sealed with, or undefined when the value is not an envelope. */
export function envelopeKeyId(value: string): string | undefined {
  const [version, keyId] = value.split(':', 2);
  return version === VERSION && keyId ? keyId : undefined;
}

export function decrypt(envelope: string, findKey: (id: string) => Buffer | undefined, context: string): string {
  const parts = envelope.split(':');
  if (parts.length !== 3 || parts[0] !== VERSION) throw new DecryptionError(`Not an encrypted value (${context})`);
  const [, keyId, payload] = parts;
  const key = findKey(keyId);
  if (!key) throw new EncryptionKeyMissingError(keyId);
  const raw = Buffer.from(payload, 'base64url');
  if (raw.length < NONCE_BYTES + TAG_BYTES) throw new DecryptionError(`Truncated encrypted value (${context})`);
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
  decipher.setAAD(Buffer.from(`${VERSION}:${keyId}:${context}`));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptionError(`Encrypted value failed its integrity check (${context}, key ${keyId})`);
  }
}
