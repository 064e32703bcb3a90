import { createHash, createHmac, createPrivateKey, createPublicKey, createSign, generateKeyPairSync, KeyObject } from 'node:crypto';

export interface PublicJwk {
  kty: string;
  n: string;
  e: string;
  alg: 'RS256';
  use: 'sig';
  kid: string;
}

const base64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');
const RSA_HASHES: Record<string, string> = { RS256: 'RSA-SHA256', RS384: 'RSA-SHA384', RS512: 'RSA-SHA512' };

/** The RSA key that signs ID tokens, published (public half only) at /oauth2/v3/certs. */
export class EmulatorSigningKey {
  readonly kid: string;
  private readonly publicKey: KeyObject;

  private constructor(private readonly privateKey: KeyObject) {
    this.publicKey = createPublicKey(privateKey);
    const { n } = this.publicKey.export({ format: 'jwk' });
    this.kid = createHash('sha256').update(String(n)).digest('hex').slice(0, 40);
  }

  static generate(): EmulatorSigningKey {
    return new EmulatorSigningKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  }

  static fromPem(pem: string): EmulatorSigningKey {
    return new EmulatorSigningKey(createPrivateKey(pem));
  }

  toPem(): string {
    return this.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  jwk(): PublicJwk {
    const { kty, n, e } = this.publicKey.export({ format: 'jwk' });
    return { kty: String(kty), n: String(n), e: String(e), alg: 'RS256', use: 'sig', kid: this.kid };
  }

  /**
   * A compact JWS. Tests may ask for another header `alg`: `none` leaves it unsigned, `HS*` signs
   * with the public key as an HMAC secret (the classic algorithm-confusion forgery).
   */
  sign(claims: Record<string, unknown>, header: { kid?: string; alg?: string } = {}): string {
    const alg = header.alg ?? 'RS256';
    const input = `${base64url(JSON.stringify({ alg, kid: header.kid ?? this.kid, typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
    if (alg === 'none') return `${input}.`;
    if (alg.startsWith('HS')) {
      const secret = this.publicKey.export({ format: 'pem', type: 'spki' });
      return `${input}.${createHmac(`sha${alg.slice(2)}`, secret)
        .update(input)
        .digest('base64url')}`;
    }
    const signature = createSign(RSA_HASHES[alg] ?? 'RSA-SHA256')
      .update(input)
      .sign(this.privateKey);
    return `${input}.${base64url(signature)}`;
  }
}
