import { verify as cryptoVerify } from 'node:crypto';
import { CognitoJwtError, describeValue } from '../errors.ts';
import { isKid, type VerificationKey } from '../keys/jwk.ts';
import type { ParsedToken } from '../token/decode.ts';

/**
 * Check the header before any key is looked up: RS256 only (so `none` and HMAC-with-a-public-key
 * never reach a key), a `kid`, and no `crit` or `b64` (RFC 7515 §4.1.11, RFC 7797). `jku`, `x5u`,
 * `jwk` and `x5c` are never read: keys come from the configured JWKS only.
 */
export function checkHeader(header: Record<string, unknown>): string {
  if (header.alg !== 'RS256') {
    throw new CognitoJwtError(
      'ERR_ALG_UNSUPPORTED',
      `alg must be "RS256", found ${describeValue(header.alg)}`,
      {
        claim: 'alg',
      },
    );
  }
  if (header.crit !== undefined || header.b64 !== undefined) {
    const member = header.crit !== undefined ? 'crit' : 'b64';
    throw new CognitoJwtError('ERR_HEADER_UNSUPPORTED', `the header member "${member}" is not supported`, {
      claim: member,
    });
  }
  if (!isKid(header.kid)) {
    throw new CognitoJwtError(
      'ERR_TOKEN_MALFORMED',
      `the header needs a kid (a string of 1 to 256 characters), found ${describeValue(header.kid)}`,
      {
        claim: 'kid',
      },
    );
  }
  return header.kid;
}

function invalidSignature(): CognitoJwtError {
  return new CognitoJwtError('ERR_SIGNATURE_INVALID', 'the signature does not match the token');
}

/** RSASSA-PKCS1-v1_5 with SHA-256 over `header.payload`, synchronously. */
export function verifySignature(token: ParsedToken, key: VerificationKey): void {
  if (
    token.signature.length !== key.signatureLength ||
    !cryptoVerify('sha256', token.signingInput, key.key, token.signature)
  ) {
    throw invalidSignature();
  }
}

/** Signatures being checked on libuv's thread pool right now, by every verifier in the process. */
let pooled = 0;
/** A signature was checked in this synchronous stretch already (callers started in one tick). */
let burst = false;
const endBurst = (): void => {
  burst = false;
};

/** The same check on libuv's thread pool, so several verifications can use several cores. */
export function verifySignatureAsync(token: ParsedToken, key: VerificationKey): Promise<void> {
  if (token.signature.length !== key.signatureLength) return Promise.reject(invalidSignature());
  pooled++;
  return new Promise((resolve, reject) => {
    cryptoVerify('sha256', token.signingInput, key.key, token.signature, (error, valid) => {
      pooled--;
      if (error || !valid) reject(invalidSignature());
      else resolve();
    });
  });
}

/**
 * The check for `verify()`: on the calling thread when no other verification is under way (a
 * thread-pool round trip would only add latency), on the thread pool while others are (then the
 * cores verify at once). Returns `undefined` when the check is already done.
 */
export function verifySignatureShared(token: ParsedToken, key: VerificationKey): Promise<void> | undefined {
  if (pooled > 0 || burst) return verifySignatureAsync(token, key);
  burst = true;
  queueMicrotask(endBurst);
  verifySignature(token, key);
  return undefined;
}
