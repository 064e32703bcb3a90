import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption for values at rest: AES-256-GCM, a random 96-bit nonce per value and
 * the key id in the envelope. The associated data binds the version, the key id, the column
 * (`table.column`) and the row's owner (the key the row is identified by, e.g. its user id), so a
 * value copied to another column or another row fails its integrity check.
 *
 * Envelope: `v2:<keyId>:<base64url(nonce | ciphertext | tag)>`
 *
 * `v1` envelopes (the first release: associated data `v1:<keyId>:<table.column>`, no owner) are
 * only ever opened by the upgrade to v2 (see KeyRotationService), never by a request.
 */
export const CURRENT_VERSION = 'v2';
export const LEGACY_VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface CipherKey {
  id: string;
  key: Buffer;
}

/** Where a sealed value belongs: its column and the owner key of its row. */
export interface Binding {
  column: string;
  owner: string;
}

type FindKey = (id: string) => Buffer | undefined;

/** A stored value that cannot be turned back into its plaintext; `keyId` is safe to log, the value never is. */
export class UndecryptableError extends Error {
  override name = 'UndecryptableError';
  constructor(
    message: string,
    readonly keyId: string | undefined,
  ) {
    super(message);
  }
}

export class EncryptionKeyMissingError extends UndecryptableError {
  override name = 'EncryptionKeyMissingError';
  constructor(keyId: string) {
    super(`No encryption key with id "${keyId}" is configured in ENCRYPTION_KEYS`, keyId);
  }
}

/** Not an envelope, damaged, or sealed for another column or row. */
export class DecryptionError extends UndecryptableError {
  override name = 'DecryptionError';
}

export interface Envelope {
  version: string;
  keyId: string;
  payload: string;
}

/** The parts of an envelope of any known version, or undefined when the value is not one. */
export function parseEnvelope(value: string): Envelope | undefined {
  const parts = value.split(':');
  if (parts.length !== 3 || (parts[0] !== CURRENT_VERSION && parts[0] !== LEGACY_VERSION) || !parts[1]) return undefined;
  return { version: parts[0], keyId: parts[1], payload: parts[2] };
}

/** The key id an envelope was sealed with, or undefined when the value is not an envelope. */
export function envelopeKeyId(value: string): string | undefined {
  return parseEnvelope(value)?.keyId;
}

// JSON keeps the fields apart whatever they contain.
const associatedData = (keyId: string, binding: Binding) => Buffer.from(JSON.stringify([CURRENT_VERSION, keyId, binding.column, binding.owner]));
const legacyAssociatedData = (keyId: string, column: string) => Buffer.from(`${LEGACY_VERSION}:${keyId}:${column}`);

export function seal(plaintext: string, key: CipherKey, binding: Binding): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
  cipher.setAAD(associatedData(key.id, binding));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${CURRENT_VERSION}:${key.id}:${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/** Opens a v2 envelope sealed for exactly this column and owner. */
export function open(value: string, findKey: FindKey, binding: Binding): string {
  const envelope = parseEnvelope(value);
  if (!envelope) throw new DecryptionError(`Not an encrypted value (${binding.column})`, undefined);
  if (envelope.version !== CURRENT_VERSION) {
    throw new DecryptionError(`A ${envelope.version} value is not accepted in ${binding.column} (key ${envelope.keyId})`, envelope.keyId);
  }
  return decipher(envelope, findKey, associatedData(envelope.keyId, binding), binding.column);
}

/** Opens a v1 envelope of this column: for the one-time upgrade to v2 only. */
export function openLegacy(value: string, findKey: FindKey, column: string): string {
  const envelope = parseEnvelope(value);
  if (!envelope || envelope.version !== LEGACY_VERSION) throw new DecryptionError(`Not a ${LEGACY_VERSION} value (${column})`, envelope?.keyId);
  return decipher(envelope, findKey, legacyAssociatedData(envelope.keyId, column), column);
}

function decipher(envelope: Envelope, findKey: FindKey, aad: Buffer, column: string): string {
  const key = findKey(envelope.keyId);
  if (!key) throw new EncryptionKeyMissingError(envelope.keyId);
  const raw = Buffer.from(envelope.payload, 'base64url');
  if (raw.length < NONCE_BYTES + TAG_BYTES) throw new DecryptionError(`Truncated encrypted value (${column}, key ${envelope.keyId})`, envelope.keyId);
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptionError(`Encrypted value failed its integrity check (${column}, key ${envelope.keyId})`, envelope.keyId);
  }
}
