/**
 * The two crypto operations of the load balancer's tokens, in one place: import a PEM public key
 * (P-256 only) and check an ES256 signature in its raw R‖S form. Written against `node:crypto`;
 * they move to the platform seam as they are.
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { CognitoJwtError } from '../errors.ts';

const PEM = /^-----BEGIN PUBLIC KEY-----\r?\n((?:[A-Za-z0-9+/=]{1,76}\r?\n)+)-----END PUBLIC KEY-----\r?\n?$/;
const STANDARD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The order n of P-256: a signature's r and s must lie in [1, n-1]. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function unusable(kid: string, reason: string): CognitoJwtError {
  return new CognitoJwtError('ERR_KEY_INVALID', `the load balancer key ${kid} is unusable: ${reason}`, {
    claim: 'kid',
  });
}

/**
 * Import the PEM the key endpoint serves for one kid. Only a single `PUBLIC KEY` block (SPKI) is
 * read: no certificate, no private key (from which Node would quietly derive a public one), no
 * text around it. The key must be EC on P-256. Throws `ERR_KEY_INVALID`.
 *
 * ```ts
 * const key = importAlbPublicKey(pemText, kid);
 * ```
 */
export function importAlbPublicKey(pem: string, kid: string): KeyObject {
  const match = PEM.exec(pem);
  const base64 = match?.[1]?.replace(/\r?\n/g, '');
  if (base64 === undefined || !STANDARD_BASE64.test(base64)) {
    throw unusable(kid, 'the answer is not one PEM "PUBLIC KEY" block');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw unusable(kid, 'the PEM does not hold a public key');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    const found =
      key.asymmetricKeyType === 'ec'
        ? `the curve ${key.asymmetricKeyDetails?.namedCurve}`
        : key.asymmetricKeyType;
    throw unusable(kid, `ES256 needs a P-256 key, found ${found}`);
  }
  return key;
}

/**
 * Check an ES256 signature over `signingInput`. The signature is the 64-byte R‖S form (IEEE
 * P1363): a DER signature has another length and fails; r or s of 0 or of the curve order or
 * more fail before any crypto runs.
 *
 * ```ts
 * if (!verifyEs256(token.signingInput, token.signature, key)) throw new Error('bad signature');
 * ```
 */
export function verifyEs256(signingInput: Uint8Array, signature: Uint8Array, key: KeyObject): boolean {
  if (signature.length !== 64) return false;
  const hex = Buffer.from(signature.buffer, signature.byteOffset, 64).toString('hex');
  const r = BigInt(`0x${hex.slice(0, 64)}`);
  const s = BigInt(`0x${hex.slice(64)}`);
  if (r === 0n || s === 0n || r >= P256_ORDER || s >= P256_ORDER) return false;
  return verify('sha256', signingInput, { key, dsaEncoding: 'ieee-p1363' }, signature);
}
