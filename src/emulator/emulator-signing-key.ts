import { createHash, createHmac, createPrivateKey, createPublicKey, createSign, createVerify, generateKeyPairSync, KeyObject, randomBytes } from 'node:crypto';
import forge from 'node-forge';

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
const DAY_MS = 86_400_000;
// Google's /oauth2/v1/certs are self-signed under this name and replaced every couple of weeks.
const CERTIFICATE_NAME = [{ name: 'commonName', value: 'federated-signon.system.gserviceaccount.com' }];
const CERTIFICATE_DAYS = 14;

const decodeJson = (segment: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

export interface VerifiedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** The RSA key that signs ID tokens, published (public half only) at /oauth2/v3/certs (JWK) and /oauth2/v1/certs (PEM). */
export class EmulatorSigningKey {
  readonly kid: string;
  private readonly publicKey: KeyObject;
  private certificate?: { pem: string; renewAt: number };

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

  /** The public key as Google's PEM format publishes it (/oauth2/v1/certs): an X.509 certificate, renewed before it expires. */
  certificatePem(now: number): string {
    if (this.certificate && now < this.certificate.renewAt) return this.certificate.pem;
    const key = forge.pki.privateKeyFromPem(this.toPem());
    const certificate = forge.pki.createCertificate();
    certificate.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
    // A positive serial number (RFC 5280 §4.1.2.2): the first byte's high bit clear.
    certificate.serialNumber = `01${randomBytes(15).toString('hex')}`;
    certificate.validity.notBefore = new Date(now - DAY_MS);
    certificate.validity.notAfter = new Date(now + CERTIFICATE_DAYS * DAY_MS);
    certificate.setSubject(CERTIFICATE_NAME);
    certificate.setIssuer(CERTIFICATE_NAME);
    certificate.sign(key, forge.md.sha256.create());
    this.certificate = { pem: forge.pki.certificateToPem(certificate), renewAt: now + (CERTIFICATE_DAYS - 1) * DAY_MS };
    return this.certificate.pem;
  }

  /** The header and claims of a JWS this key signed (RS256, this kid); undefined for anything else. Claims are not checked. */
  verify(jwt: string): VerifiedJwt | undefined {
    const [encodedHeader, encodedClaims, signature, ...rest] = jwt.split('.');
    if (rest.length > 0 || !signature) return undefined;
    const header = decodeJson(encodedHeader);
    const claims = decodeJson(encodedClaims);
    if (!header || !claims || header.alg !== 'RS256' || header.kid !== this.kid) return undefined;
    const valid = createVerify('RSA-SHA256').update(`${encodedHeader}.${encodedClaims}`).verify(this.publicKey, Buffer.from(signature, 'base64url'));
    return valid ? { header, claims } : undefined;
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
