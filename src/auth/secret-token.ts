import { createHash, randomBytes } from 'node:crypto';

/**
 * The secrets this module hands out (session tokens, OAuth states, browser-binding cookies): 256
 * random bits in base64url, stored only as their SHA-256, so a database read never yields one.
 */
export const newSecretToken = (): string => randomBytes(32).toString('base64url');

export const hashSecretToken = (token: string): Buffer => createHash('sha256').update(token).digest();

/** The shape of a token this module issued; anything else was never one of ours. */
export const isSecretToken = (value: unknown): value is string => typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value);
