import { ValueTransformer } from 'typeorm';
import { KeyRing } from './key-ring';
import { SealedSecret } from './sealed-secret';

/**
 * TypeORM builds column transformers when entity classes load, before Nest's container exists,
 * so the adapter reads the key ring that CryptoModule installs here at start-up.
 */
let installedKeyRing: KeyRing | undefined;

export function installKeyRing(keyRing: KeyRing): void {
  installedKeyRing = keyRing;
}

function keyRing(): KeyRing {
  if (!installedKeyRing) throw new Error('No key ring installed: CryptoModule must load before encrypted columns are used');
  return installedKeyRing;
}

export interface EncryptedColumnTransformer extends ValueTransformer {
  /** The `table.column` bound into every value; key rotation finds encrypted columns by it. */
  readonly encryptionContext: string;
  /** The column of the same row whose value (as text) is the owner key bound into every value. */
  readonly ownerColumn: string;
}

/**
 * A text column holding SealedSecret values: sealed on write for `table.column` and the row's owner
 * (`boundTo`: the column whose value identifies the row, e.g. `user_id`), returned sealed on read.
 */
export function encryptedColumn(context: string, options: { boundTo: string }): EncryptedColumnTransformer {
  return {
    encryptionContext: context,
    ownerColumn: options.boundTo,
    to: (value: unknown) => {
      if (value === null || value === undefined) return value;
      if (!(value instanceof SealedSecret)) throw new TypeError(`${context} stores SealedSecret values only (never a plain value, never a query filter)`);
      return value.sealIn(context, keyRing());
    },
    from: (value: string | null) => (value === null ? value : SealedSecret.stored(value, context, keyRing())),
  };
}
