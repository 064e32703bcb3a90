import { randomUUID } from 'node:crypto';
import { RISC_EVENT_TYPES } from '../risc/risc-events.service';
import { subForEmail } from './emulator-account';
import type { GoogleEmulator } from './google-emulator';

/** The events the emulator sends, by the last segment of their type URI (what scripts and buttons name). */
export const EMULATOR_RISC_EVENTS = {
  'sessions-revoked': RISC_EVENT_TYPES.sessionsRevoked,
  'tokens-revoked': RISC_EVENT_TYPES.tokensRevoked,
  'account-disabled': RISC_EVENT_TYPES.accountDisabled,
  'account-enabled': RISC_EVENT_TYPES.accountEnabled,
  'account-credential-change-required': RISC_EVENT_TYPES.credentialChangeRequired,
} as const;

export type EmulatorRiscEvent = keyof typeof EMULATOR_RISC_EVENTS;

export const isEmulatorRiscEvent = (value: unknown): value is EmulatorRiscEvent =>
  typeof value === 'string' && Object.prototype.hasOwnProperty.call(EMULATOR_RISC_EVENTS, value);

export interface EmulatorRiscAccount {
  email: string;
  sub: string;
}

/** Every account the emulator has seen (chosen at its chooser, or holding a grant), with its Google sub. */
export function emulatorRiscAccounts(emulator: GoogleEmulator): EmulatorRiscAccount[] {
  const accounts = new Map<string, EmulatorRiscAccount>();
  for (const account of emulator.grants.knownAccounts()) accounts.set(account.email, { email: account.email, sub: subForEmail(account.email) });
  for (const account of emulator.grants.grantedAccounts()) accounts.set(account.email, { email: account.email, sub: account.sub });
  return [...accounts.values()].sort((a, b) => a.email.localeCompare(b.email));
}

export function findRiscAccount(emulator: GoogleEmulator, who: { email?: string; sub?: string }): EmulatorRiscAccount | undefined {
  const email = who.email?.trim().toLowerCase();
  return emulatorRiscAccounts(emulator).find((account) => (email ? account.email === email : account.sub === who.sub));
}

/**
 * A security event token as Google's Cross-Account Protection sends it (RFC 8417): signed by the
 * emulator's key (the one its JWKS publishes), `iss` its base URL, `aud` the client id, one event
 * whose subject is the account's iss-sub.
 */
export function signSecurityEvent(
  emulator: GoogleEmulator,
  account: EmulatorRiscAccount,
  event: EmulatorRiscEvent,
  audience: string,
): { jti: string; token: string } {
  const jti = randomUUID();
  const payload: Record<string, unknown> = { subject: { subject_type: 'iss-sub', iss: emulator.baseUrl, sub: account.sub } };
  if (event === 'account-disabled') payload.reason = 'hijacking';
  const token = emulator.signingKey.sign({
    iss: emulator.baseUrl,
    aud: audience,
    iat: Math.floor(Date.now() / 1000),
    jti,
    events: { [EMULATOR_RISC_EVENTS[event]]: payload },
  });
  return { jti, token };
}
