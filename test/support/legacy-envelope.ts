import { createCipheriv, randomBytes } from 'node:crypto';

/**
 * A v1 envelope exactly as the first release sealed one (src/crypto/token-cipher.ts before row
 * binding): AES-256-GCM, the column alone as associated data. Written independently of today's
 * code, so the upgrade is tested against the old format itself, not against our idea of it.
 */
export function sealV1(plaintext: string, key: { id: string; key: Buffer }, column: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
  cipher.setAAD(Buffer.from(`v1:${key.id}:${column}`));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1:${key.id}:${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`;
}
