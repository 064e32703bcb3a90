import { KeyRing } from './key-ring';
import { Binding, EncryptionKeyMissingError, LEGACY_VERSION, parseEnvelope, UndecryptableError } from './token-cipher';

/** Why a stored value was left as it is: its key is not configured, it is damaged, or it is a v1 value no longer accepted. */
export type SkipReason = 'key_missing' | 'damaged' | 'legacy_refused';

/** What a skipped value's reason means, for operators. */
export const SKIP_REASONS: Record<SkipReason, string> = {
  key_missing: 'its key id is not in ENCRYPTION_KEYS',
  damaged: 'it is damaged, not an envelope, or sealed for another row',
  legacy_refused: 'a v1 value that is no longer accepted (copied from another row, or written after the upgrade to v2 completed)',
};

export type Resealed = { sealed: string; upgraded: boolean } | { skipped: SkipReason; keyId: string | undefined };

/**
 * A stored value sealed again under the primary key for its row. A v1 value (bound to its column
 * only) is upgraded to v2 only while `upgradeLegacy` holds; afterwards it is refused like damage.
 */
export function reseal(keyRing: KeyRing, value: string, binding: Binding, upgradeLegacy: boolean): Resealed {
  const envelope = parseEnvelope(value);
  if (!envelope) return { skipped: 'damaged', keyId: undefined };
  const legacy = envelope.version === LEGACY_VERSION;
  if (legacy && !upgradeLegacy) return { skipped: 'legacy_refused', keyId: envelope.keyId };
  try {
    const plaintext = legacy ? keyRing.openLegacy(value, binding.column) : keyRing.open(value, binding);
    return { sealed: keyRing.seal(plaintext, binding), upgraded: legacy };
  } catch (error) {
    if (!(error instanceof UndecryptableError)) throw error;
    return { skipped: error instanceof EncryptionKeyMissingError ? 'key_missing' : 'damaged', keyId: envelope.keyId };
  }
}
