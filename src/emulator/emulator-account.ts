import { createHash } from 'node:crypto';
import { ConsentDecision, EmulatedAccount } from './emulator.types';

const CONSUMER_DOMAINS = new Set(['gmail.com', 'googlemail.com']);
const EMAIL = /^[^\s@<>"']{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

export const isEmail = (value: string): boolean => value.length <= 254 && EMAIL.test(value);

/** Google's `sub` is 21 digits, stable for an account: derive it from the email so restarts agree. */
export function subForEmail(email: string): string {
  const digest = createHash('sha256').update(email.toLowerCase()).digest();
  const digits = (digest.readBigUInt64BE(0) * 10_000n + BigInt(digest.readUInt16BE(8))).toString().padStart(20, '0').slice(-20);
  return `1${digits}`;
}

/** "ada.lovelace@example.com" → "Ada Lovelace", as a display name when the person typed none. */
export function nameFromEmail(email: string): string {
  return email
    .split('@')[0]
    .split(/[._+-]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join(' ');
}

/** Workspace accounts carry `hd`; consumer (gmail.com) accounts do not. */
export function hostedDomain(email: string): string | undefined {
  const domain = email.split('@')[1]?.toLowerCase();
  return domain && !CONSUMER_DOMAINS.has(domain) ? domain : undefined;
}

export function accountFor(decision: ConsentDecision): EmulatedAccount {
  const email = decision.email.trim().toLowerCase();
  const hd = decision.hd === undefined ? hostedDomain(email) : (decision.hd ?? undefined);
  return {
    sub: decision.sub ?? subForEmail(email),
    email,
    name: decision.name?.trim() || nameFromEmail(email),
    emailVerified: decision.emailVerified ?? true,
    ...(hd ? { hd } : {}),
    picture: 'https://lh3.googleusercontent.com/a/default-user=s96-c',
  };
}

export function givenAndFamilyName(name: string): { given_name: string; family_name?: string } {
  const [given, ...rest] = name.split(/\s+/);
  return rest.length ? { given_name: given, family_name: rest.join(' ') } : { given_name: given };
}
