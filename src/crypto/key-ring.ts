import { Binding, CipherKey, CURRENT_VERSION, open, openLegacy, parseEnvelope, seal } from './token-cipher';

/** The configured keys: the first seals, every one opens. */
export class KeyRing {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: readonly CipherKey[]) {
    if (keys.length === 0) throw new Error('A key ring needs at least one key');
    this.byId = new Map(keys.map((key) => [key.id, key.key]));
  }

  get primaryKeyId(): string {
    return this.keys[0].id;
  }

  seal(plaintext: string, binding: Binding): string {
    return seal(plaintext, this.keys[0], binding);
  }

  open(envelope: string, binding: Binding): string {
    return open(envelope, (id) => this.byId.get(id), binding);
  }

  /** A v1 value of `column`, for the upgrade to v2 only. */
  openLegacy(envelope: string, column: string): string {
    return openLegacy(envelope, (id) => this.byId.get(id), column);
  }

  /** True unless the value is a current envelope under the primary key. */
  needsRotation(envelope: string): boolean {
    const parsed = parseEnvelope(envelope);
    return parsed?.version !== CURRENT_VERSION || parsed.keyId !== this.primaryKeyId;
  }
}
