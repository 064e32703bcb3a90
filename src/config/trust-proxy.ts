import { isIP } from 'node:net';

/**
 * Which proxies to believe about the client address, as Fastify's `trustProxy` takes it: `false`,
 * a number of hops (the address that many hops before the socket's), or the proxies' own
 * addresses/CIDRs. Never `true`: Fastify's `true` believes the left-most `X-Forwarded-For` entry,
 * which the client writes itself.
 */
export type TrustProxy = false | number | string[];

function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** TRUST_PROXY's value (`false`, `true` = 1 hop, a hop count, or a comma list); undefined when malformed. */
export function parseTrustProxy(value: string): TrustProxy | undefined {
  const text = value.trim();
  if (text === 'false' || text === '0') return false;
  if (text === 'true') return 1;
  if (/^\d{1,2}$/.test(text)) return Number(text);
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  return entries.length > 0 && entries.every(isAddressOrCidr) ? entries : undefined;
}
