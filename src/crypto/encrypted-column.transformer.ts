import { ValueTransformer } from 'typeorm';
import { KeyRing } from './key-ring';

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
}

/** A transformer sealing a text column; `context` (table.column) is bound into every value. */
export function encryptedColumn(context: string): EncryptedColumnTransformer {
  return {
    encryptionContext: context,
    to: (value: string | null | undefined) => (value == null ? value : keyRing().encrypt(value, context)),
    from: (value: string | null) => (value == null ? value : keyRing().decrypt(value, context)),
  };
}
