/**
 * The two crypto operations of the load balancer's tokens: import a PEM public key (P-256 only)
 * and check an ES256 signature in its raw R‖S form. Both go through `#platform`, so the ALB
 * verifier runs wherever the core does (Node's KeyObjects, or Web Crypto).
 */
import {
  base64Bytes,
  type EcKey,
  importEcP256Spki,
  SYNC_SIGNATURES,
  verifyEs256,
  verifyEs256Sync,
} from '#platform';
import { CognitoJwtError } from '../errors.ts';

const PEM = /^-----BEGIN PUBLIC KEY-----\r?\n((?:[A-Za-z0-9+/=]{1,76}\r?\n)+)-----END PUBLIC KEY-----\r?\n?$/;
const STANDARD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The order n of P-256, big-endian: a signature's r and s must lie in [1, n-1]. */
// Pure (its argument is a literal), so a bundle that never verifies an ALB header drops it.
const P256_ORDER = /* @__PURE__ */ hexBytes(
  'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551',
);

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!, (byte) => Number.parseInt(byte, 16));
}

function unusable(kid: string, reason: string, cause?: unknown): CognitoJwtError {
  return new CognitoJwtError('ERR_KEY_INVALID', `the load balancer key ${kid} is unusable: ${reason}`, {
    claim: 'kid',
    cause,
  });
}

/**
 * Import the PEM the key endpoint serves for one kid. Only a single `PUBLIC KEY` block (SPKI) is
 * read: no certificate, no private key (from which Node would quietly derive a public one), no
 * text around it. The key must be EC on P-256. Throws `ERR_KEY_INVALID` (on Web Crypto, where
 * imports are asynchronous, a key of another curve is refused by {@link settleAlbPublicKey}).
 *
 * ```ts
 * const key = importAlbPublicKey(pemText, kid);
 * ```
 */
export function importAlbPublicKey(pem: string, kid: string): EcKey {
  const match = PEM.exec(pem);
  const base64 = match?.[1]?.replace(/\r?\n/g, '');
  if (base64 === undefined || !STANDARD_BASE64.test(base64) || base64.length % 4 !== 0) {
    throw unusable(kid, 'the answer is not one PEM "PUBLIC KEY" block');
  }
  try {
    return importEcP256Spki(base64Bytes(base64));
  } catch (cause) {
    throw unusable(kid, (cause as Error)?.message ?? 'the PEM does not hold a P-256 public key', cause);
  }
}

/**
 * Wait for a key import the platform runs asynchronously (Web Crypto) and turn its failure into
 * `ERR_KEY_INVALID`, as Node's synchronous import does: a key of another curve is refused when it
 * is fetched, never as a raw `DOMException`. On Node the key is already imported.
 *
 * ```ts
 * const key = importAlbPublicKey(pemText, kid);
 * await settleAlbPublicKey(key, kid);
 * ```
 */
export async function settleAlbPublicKey(key: EcKey, kid: string): Promise<void> {
  try {
    await key;
  } catch (cause) {
    throw unusable(kid, `not a P-256 public key (${(cause as Error)?.message ?? String(cause)})`, cause);
  }
}

/** r and s as big-endian 32-byte numbers each in [1, n-1]: anything else is no ES256 signature. */
function inRange(signature: Uint8Array, offset: number): boolean {
  let zero = true;
  let below: boolean | undefined;
  for (let i = 0; i < 32; i++) {
    const byte = signature[offset + i]!;
    if (byte !== 0) zero = false;
    if (below === undefined && byte !== P256_ORDER[i]) below = byte < P256_ORDER[i]!;
  }
  return !zero && below === true;
}

/** 64 bytes (R‖S, not DER), r and s in range: checked before any crypto runs. */
function wellFormed(signature: Uint8Array): boolean {
  return signature.length === 64 && inRange(signature, 0) && inRange(signature, 32);
}

/**
 * Check an ES256 signature over `signingInput`, synchronously when the platform can (Node),
 * asynchronously otherwise. A DER signature has another length and fails; r or s of 0 or of the
 * curve order or more fail before any crypto runs. A key whose (Web Crypto) import failed is
 * `ERR_KEY_INVALID`.
 *
 * ```ts
 * if (!(await checkEs256(token.signingInput, token.signature, key, kid))) throw new Error('bad signature');
 * ```
 */
export function checkEs256(
  signingInput: Uint8Array,
  signature: Uint8Array,
  key: EcKey,
  kid: string,
): boolean | Promise<boolean> {
  if (!wellFormed(signature)) return false;
  if (SYNC_SIGNATURES) return verifyEs256Sync(signingInput, signature, key);
  return verifyEs256(signingInput, signature, key).catch((cause: unknown) => {
    throw unusable(kid, (cause as Error)?.message ?? 'the key cannot be imported', cause);
  });
}

/**
 * {@link checkEs256} for `verifySync()`: throws `ERR_SYNC_UNSUPPORTED` where the platform has no
 * synchronous signatures (Web Crypto).
 *
 * ```ts
 * if (!checkEs256Sync(token.signingInput, token.signature, key)) throw new Error('bad signature');
 * ```
 */
export function checkEs256Sync(signingInput: Uint8Array, signature: Uint8Array, key: EcKey): boolean {
  if (!wellFormed(signature)) return false;
  return verifyEs256Sync(signingInput, signature, key);
}
