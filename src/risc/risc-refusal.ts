/** RFC 8935 §2.4's error codes this receiver answers with. */
export type RiscErrorCode = 'invalid_request' | 'invalid_key' | 'invalid_issuer' | 'invalid_audience';

/** A security event token the receiver refuses: answered 400 `{ err, description }` (RFC 8935 §2.3), nothing applied. */
export class RiscRefusal extends Error {
  override name = 'RiscRefusal';
  constructor(
    readonly err: RiscErrorCode,
    readonly description: string,
  ) {
    super(description);
  }

  body(): { err: RiscErrorCode; description: string } {
    return { err: this.err, description: this.description };
  }
}
