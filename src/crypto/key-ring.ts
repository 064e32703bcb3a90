import { CipherKey, decrypt, encrypt, envelopeKeyId } from './token-cipher';

/** The configured keys: the first encrypts, every one decrypts. */
export class KeyRing {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: readonly CipherKey[]) {
    if (keys.length === 0) throw new Error('A key ring needs at least one key');
    this.byId = new Map(keys.map((key) => [key.id, key.key]));
  }

  get primaryKeyId(): string {
    return this.keys[0].id;
  }

  encrypt(plaintext: string, context: string): string {
    return encrypt(plaintext, this.keys[0], context);
  }

  decrypt(envelope: string, context: string): string {
    return decrypt(envelope, (id) => this.byId.get(id), context);
  }

  /** True when the value was sealed with a key other than the primary one. */
  needsRotation(envelope: string): boolean {
    return envelopeKeyId(envelope) !== this.primaryKeyId;
  }
}
