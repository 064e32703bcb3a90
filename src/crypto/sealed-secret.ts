import { inspect } from 'node:util';
import type { KeyRing } from './key-ring';
import { DecryptionError, envelopeKeyId } from './token-cipher';

type State = { kind: 'stored'; envelope: string; column: string; keyRing: KeyRing } | { kind: 'new'; plaintext: string; owner: string };

/**
 * The value of an encrypted column. Read from the database it stays sealed: nothing is decrypted
 * until `open` is called with the row's owner key (read from that same row), so reads that need no
 * token decrypt none, and a row whose secret can no longer be decrypted still loads and deletes.
 * Written, it carries the plaintext and its owner until the column transformer seals it.
 */
export class SealedSecret {
  private constructor(private readonly state: State) {}

  /** A plaintext to store in the row whose owner key is `owner`. */
  static for(owner: string, plaintext: string): SealedSecret {
    return new SealedSecret({ kind: 'new', plaintext, owner });
  }

  /** A value as stored in `column` (the transformer's side). */
  static stored(envelope: string, column: string, keyRing: KeyRing): SealedSecret {
    return new SealedSecret({ kind: 'stored', envelope, column, keyRing });
  }

  /** The id of the key it is sealed with, safe to log; undefined until stored, or when not an envelope. */
  get keyId(): string | undefined {
    return this.state.kind === 'stored' ? envelopeKeyId(this.state.envelope) : undefined;
  }

  /**
   * The plaintext. Throws an UndecryptableError when its key is not configured, the value is damaged,
   * or it was sealed for another column or another row.
   */
  open(owner: string): string {
    if (this.state.kind === 'stored') return this.state.keyRing.open(this.state.envelope, { column: this.state.column, owner });
    if (owner !== this.state.owner) throw new DecryptionError('A secret was opened for another row than its own', undefined);
    return this.state.plaintext;
  }

  /** The envelope to store in `column` (the transformer's side): a stored value stays as it is. */
  sealIn(column: string, keyRing: KeyRing): string {
    if (this.state.kind === 'new') return keyRing.seal(this.state.plaintext, { column, owner: this.state.owner });
    if (this.state.column !== column) throw new Error(`A value of ${this.state.column} cannot be stored in ${column}`);
    return this.state.envelope;
  }

  // Logged or serialised by mistake, it shows nothing.
  toJSON(): string {
    return '[sealed]';
  }

  toString(): string {
    return '[sealed]';
  }

  [inspect.custom](): string {
    return 'SealedSecret [sealed]';
  }
}
