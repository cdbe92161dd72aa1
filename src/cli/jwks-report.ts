import { CognitoJwtError } from '../errors.ts';
import { importJwk, type Jwk, MAX_KEYS_PER_JWKS } from '../keys/jwk.ts';

/** One key of a JWKS as `keys show` lists it. */
export interface KeyReport {
  readonly kid: string | undefined;
  readonly kty: string | undefined;
  readonly alg: string | undefined;
  readonly use: string | undefined;
  /** RSA modulus length. */
  readonly bits: number | undefined;
  /** Whether a verifier of this library would use the key. */
  readonly usable: boolean;
  /** Why it would not: small key, private members, duplicate kid, wrong type… */
  readonly problems: readonly string[];
}

/** A JWKS (or snapshot) as `keys show` reports it. */
export interface JwksReport {
  /** From a snapshot saved by `keys fetch`. */
  readonly jwksUri: string | undefined;
  readonly fetchedAt: string | undefined;
  readonly keys: readonly KeyReport[];
  readonly usableKeys: number;
  readonly problemKeys: number;
}

/**
 * List the keys of a JWKS with what a verifier would think of each: it runs the library's own key
 * checks (`importJwk`), and flags kids that appear more than once.
 * Throws `ERR_JWKS_INVALID` when the value is not a JWKS at all.
 *
 * ```ts
 * const report = describeJwks(JSON.parse(readFileSync('jwks.json', 'utf8')));
 * for (const key of report.keys) console.log(key.kid, key.bits, key.problems);
 * ```
 */
export function describeJwks(jwks: unknown): JwksReport {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new CognitoJwtError('ERR_JWKS_INVALID', 'a JWKS must be a JSON object with a "keys" array');
  }
  const {
    keys: list,
    jwksUri,
    fetchedAt,
  } = jwks as { keys: unknown[]; jwksUri?: unknown; fetchedAt?: unknown };
  const kidCounts = new Map<unknown, number>();
  for (const jwk of list) {
    const kid = (jwk as Jwk | null)?.kid;
    kidCounts.set(kid, (kidCounts.get(kid) ?? 0) + 1);
  }
  const keys = list.map((jwk, index) => describeKey(jwk, index, kidCounts));
  const usableKeys = keys.filter((key) => key.usable).length;
  return {
    jwksUri: typeof jwksUri === 'string' ? jwksUri : undefined,
    fetchedAt: typeof fetchedAt === 'string' ? fetchedAt : undefined,
    keys,
    usableKeys,
    problemKeys: keys.length - usableKeys,
  };
}

function describeKey(value: unknown, index: number, kidCounts: Map<unknown, number>): KeyReport {
  const jwk: Jwk = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Jwk) : {};
  const problems: string[] = [];
  try {
    importJwk(value);
  } catch (error) {
    if (!(error instanceof CognitoJwtError)) throw error;
    problems.push(error.message);
  }
  const count = kidCounts.get(jwk.kid) ?? 0;
  if (typeof jwk.kid === 'string' && count > 1) {
    problems.push(`the kid appears ${count} times: verifiers refuse every key with this kid`);
  }
  if (index >= MAX_KEYS_PER_JWKS)
    problems.push(`only the first ${MAX_KEYS_PER_JWKS} keys of a JWKS are used`);
  return {
    kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
    kty: typeof jwk.kty === 'string' ? jwk.kty : undefined,
    alg: typeof jwk.alg === 'string' ? jwk.alg : undefined,
    use: typeof jwk.use === 'string' ? jwk.use : undefined,
    bits: typeof jwk.n === 'string' ? modulusBits(jwk.n) : undefined,
    usable: problems.length === 0,
    problems,
  };
}

/** Bit length of a base64url big-endian modulus, without importing it (small keys must be measured too). */
function modulusBits(n: string): number | undefined {
  const bytes = Buffer.from(n, 'base64url');
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  if (start === bytes.length) return undefined;
  return (bytes.length - start - 1) * 8 + (32 - Math.clz32(bytes[start]!));
}
