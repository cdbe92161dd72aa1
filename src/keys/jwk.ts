import { base64urlBytes, importRsaKey, type RsaKey } from '#platform';
import { CognitoJwtError, describeValue } from '../errors.ts';

/** A JSON Web Key as found in a JWKS; every member is untrusted until {@link importJwk} checks it. */
export interface Jwk {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  n?: string;
  e?: string;
  [member: string]: unknown;
}

/** A JSON Web Key Set: `{ "keys": [...] }`. */
export interface Jwks {
  keys: Jwk[];
}

/** A public key that passed every check, imported once and reused for every token it signed. */
export interface VerificationKey {
  readonly kid: string;
  /** The imported key: a node:crypto `KeyObject` on Node and Bun, a Web Crypto key being imported elsewhere. */
  readonly key: RsaKey;
  /** RSA signatures made with this key are exactly this many bytes. */
  readonly signatureLength: number;
  /** The JWK it was imported from (public members only), for snapshots and inspection. */
  readonly jwk: Readonly<Jwk>;
  /** The one algorithm this key verifies: RS256 for user pools, RS512 for the identity pools' key set. */
  readonly alg: 'RS256' | 'RS512';
}

/**
 * What one key set publishes. User pools: RS256 keys with a base64url modulus, nothing else. The
 * identity pools' key set (`https://cognito-identity.amazonaws.com/.well-known/jwks_uri`): RS512
 * keys whose `n` is standard base64 (`+`, `/`, maybe `=`) with a leading zero byte. Each key set has
 * one profile, so the leniency the second needs never reaches a user pool's keys.
 */
export interface KeyProfile {
  readonly name: string;
  readonly alg: 'RS256' | 'RS512';
  /**
   * Reads an `n` that is not base64url as canonical base64url, or `undefined` when it is not a
   * spelling the profile accepts; absent: base64url only. A function rather than a flag, so a
   * bundle without identity pools leaves the conversion out.
   */
  readonly otherModulus?: (n: string) => string | undefined;
}

/** The keys of a user pool: RS256, base64url. */
export const USER_POOL_KEYS: KeyProfile = Object.freeze({ name: 'user pool', alg: 'RS256' });

/** The keys of Cognito identity pools' OpenID tokens: RS512, `n` in standard base64 accepted. */
export const IDENTITY_POOL_KEYS: KeyProfile = /* @__PURE__ */ Object.freeze({
  name: 'identity pool',
  alg: 'RS512',
  otherModulus: standardBase64Modulus,
});

export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 8192;
/** Cognito kids are 44 characters; anything far longer is not a key id. */
export const MAX_KID_LENGTH = 256;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
// Standard base64, padded to a multiple of 4 or not padded at all; never a mix of alphabets.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Bytes as unpadded base64url. */
function toBase64url(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const chunk = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < chars; j++) out += BASE64URL_ALPHABET[(chunk >> (18 - 6 * j)) & 63];
  }
  return out;
}

/** A standard base64 modulus as canonical base64url (no leading zero byte). */
function standardBase64Modulus(n: string): string | undefined {
  if (n.length === 0 || !BASE64.test(n)) return undefined;
  const bytes = base64urlBytes(n); // the platform decoder reads '+' and '/' as '-' and '_', stops at '='
  let first = 0;
  while (first < bytes.length - 1 && bytes[first] === 0) first++;
  return toBase64url(bytes.subarray(first));
}

function invalidKey(kid: unknown, reason: string): CognitoJwtError {
  return new CognitoJwtError('ERR_KEY_INVALID', `JWK ${describeValue(kid)} is not usable: ${reason}`, {
    claim: 'kid',
  });
}

/** A key the platform refused to import: at once on Node, at its first use with Web Crypto. */
export function keyNotImported(kid: unknown, cause: unknown): CognitoJwtError {
  return new CognitoJwtError('ERR_KEY_INVALID', `JWK ${describeValue(kid)} could not be imported`, {
    claim: 'kid',
    cause,
  });
}

/** Bits of a big-endian unsigned integer, leading zero bytes aside. */
function bitLength(bytes: Uint8Array): number {
  let first = 0;
  while (first < bytes.length && bytes[first] === 0) first++;
  if (first === bytes.length) return 0;
  return (bytes.length - first - 1) * 8 + (32 - Math.clz32(bytes[first]!));
}

function unsignedInteger(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** Check that a `kid` (from a token or a JWK) is a usable key id. */
export function isKid(kid: unknown): kid is string {
  return typeof kid === 'string' && kid.length > 0 && kid.length <= MAX_KID_LENGTH;
}

/**
 * Check a JWK and import it as an RS256 verification key. Refuses anything that is not an RSA
 * signing key of 2048 to 8192 bits with a sane exponent, and any key that carries private members.
 */
export function importJwk(jwk: unknown, profile: KeyProfile = USER_POOL_KEYS): VerificationKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw invalidKey(undefined, 'not an object');
  const { kty, kid, alg, use, key_ops: keyOps, n, e } = jwk as Jwk;
  if (!isKid(kid)) throw invalidKey(kid, `kid must be a string of 1 to ${MAX_KID_LENGTH} characters`);
  if (kty !== 'RSA') throw invalidKey(kid, `kty must be "RSA", found ${describeValue(kty)}`);
  if (alg !== undefined && alg !== profile.alg)
    throw invalidKey(kid, `alg must be "${profile.alg}", found ${describeValue(alg)}`);
  if (use !== undefined && use !== 'sig')
    throw invalidKey(kid, `use must be "sig", found ${describeValue(use)}`);
  if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.includes('verify'))) {
    throw invalidKey(kid, 'key_ops does not include "verify"');
  }
  for (const member of PRIVATE_MEMBERS) {
    if (member in jwk)
      throw invalidKey(kid, `it carries the private member "${member}": a JWKS must hold public keys only`);
  }
  const modulus = typeof n !== 'string' ? undefined : BASE64URL.test(n) ? n : profile.otherModulus?.(n);
  if (modulus === undefined || typeof e !== 'string' || !BASE64URL.test(e)) {
    throw invalidKey(
      kid,
      profile.otherModulus
        ? 'n must be base64 or base64url, e base64url'
        : 'n and e must be base64url strings',
    );
  }

  // Size and exponent are read from the JWK's own bytes, so both platforms apply the same rule
  // before any key is imported (Web Crypto imports asynchronously).
  const bits = bitLength(base64urlBytes(modulus));
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    throw invalidKey(kid, `the modulus has ${bits} bits, expected ${MIN_RSA_BITS} to ${MAX_RSA_BITS}`);
  }
  const exponent = e.length > 12 ? 0n : unsignedInteger(base64urlBytes(e)); // 12 characters: 9 bytes
  if (exponent < 3n || exponent % 2n === 0n)
    throw invalidKey(kid, `the public exponent ${e.length > 12 ? 'is too long' : exponent} is not sane`);

  let key: RsaKey;
  try {
    key = importRsaKey(modulus, e, profile.alg);
  } catch (cause) {
    throw keyNotImported(kid, cause);
  }

  // `n` as published, so a snapshot holds what the key set serves.
  const publicJwk: Jwk = {
    kty: 'RSA',
    kid,
    n: n as string,
    e,
    ...(alg ? { alg } : {}),
    ...(use ? { use } : {}),
  };
  return Object.freeze({
    kid,
    key,
    signatureLength: Math.ceil(bits / 8),
    jwk: Object.freeze(publicJwk),
    alg: profile.alg,
  });
}

/** The outcome of reading a JWKS: the usable keys, and why each other key was refused. */
export interface ImportedJwks {
  keys: Map<string, VerificationKey>;
  rejected: CognitoJwtError[];
  /** The refused keys that had a usable kid: a token naming one is told why its key is refused. */
  refusedKids: Map<string, CognitoJwtError>;
}

export const MAX_KEYS_PER_JWKS = 100;

/**
 * Import every usable key of a JWKS. One bad key does not spoil the others; a kid that appears
 * twice is refused both times (which one would be meant is ambiguous).
 */
export function importJwks(
  jwks: unknown,
  maxKeys = MAX_KEYS_PER_JWKS,
  profile: KeyProfile = USER_POOL_KEYS,
): ImportedJwks {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as Jwks).keys)) {
    throw new CognitoJwtError('ERR_JWKS_INVALID', 'a JWKS must be a JSON object with a "keys" array');
  }
  const list = (jwks as Jwks).keys;
  const keys = new Map<string, VerificationKey>();
  const rejected: CognitoJwtError[] = [];
  const refusedKids = new Map<string, CognitoJwtError>();
  const refuse = (kid: unknown, error: CognitoJwtError) => {
    rejected.push(error);
    if (isKid(kid)) refusedKids.set(kid, error);
  };
  for (const [index, jwk] of list.entries()) {
    if (index >= maxKeys) {
      rejected.push(
        new CognitoJwtError('ERR_JWKS_INVALID', `the JWKS has ${list.length} keys; only ${maxKeys} are kept`),
      );
      break;
    }
    try {
      const key = importJwk(jwk, profile);
      if (keys.has(key.kid) || refusedKids.has(key.kid)) {
        keys.delete(key.kid);
        refuse(key.kid, invalidKey(key.kid, 'the kid appears more than once in the JWKS'));
      } else keys.set(key.kid, key);
    } catch (error) {
      refuse((jwk as Jwk | null)?.kid, error as CognitoJwtError);
    }
  }
  return { keys, rejected, refusedKids };
}
