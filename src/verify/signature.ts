import { verifyRs256, verifyRs256Sync } from '#platform';
import { CognitoJwtError, describeValue } from '../errors.ts';
import { isKid, keyNotImported, type VerificationKey } from '../keys/jwk.ts';
import type { ParsedToken } from '../token/decode.ts';

/**
 * Check the header before any key is looked up: RS256 only (RS512 for identity-pool tokens; so `none` and HMAC-with-a-public-key
 * never reach a key), a `kid`, and no `crit` or `b64` (RFC 7515 §4.1.11, RFC 7797). `jku`, `x5u`,
 * `jwk` and `x5c` are never read: keys come from the configured JWKS only.
 */
export function checkHeader(header: Record<string, unknown>, alg: 'RS256' | 'RS512' = 'RS256'): string {
  if (header.alg !== alg) {
    throw new CognitoJwtError(
      'ERR_ALG_UNSUPPORTED',
      `alg must be "${alg}", found ${describeValue(header.alg)}`,
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

/** RSASSA-PKCS1-v1_5 with SHA-256 over `header.payload`, synchronously (Node and Bun only). */
export function verifySignature(token: ParsedToken, key: VerificationKey): void {
  if (
    token.signature.length !== key.signatureLength ||
    !verifyRs256Sync(token.signingInput, token.signature, key.key)
  ) {
    throw invalidSignature();
  }
}

async function settle(checking: Promise<boolean>, kid: string): Promise<void> {
  let valid: boolean;
  try {
    valid = await checking;
  } catch (cause) {
    // Web Crypto imports a key at its first use; one it refuses is an unusable key, like on Node.
    throw keyNotImported(kid, cause);
  }
  if (!valid) throw invalidSignature();
}

/**
 * The check for `verify()`. Node checks on the calling thread when no other verification is
 * under way and on the thread pool while others are; Web Crypto always answers later. Returns
 * `undefined` when the check is already done.
 */
export function verifySignatureShared(token: ParsedToken, key: VerificationKey): Promise<void> | undefined {
  if (token.signature.length !== key.signatureLength) throw invalidSignature();
  const valid = verifyRs256(token.signingInput, token.signature, key.key);
  if (valid === true) return undefined;
  if (valid === false) throw invalidSignature();
  return settle(valid, key.kid);
}
