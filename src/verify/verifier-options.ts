import type { JwksCache, JwksCacheOptions } from '../keys/jwks-cache.ts';
import { JWKS_CACHE_OPTION_NAMES } from '../keys/jwks-cache.ts';
import type { CognitoClaims } from '../token/claims.ts';

/** How a verifier caches verified tokens: `false` turns the cache off. */
export type TokenCacheSetting = boolean | { maxEntries?: number };

/** How a verifier runs (its key cache, limits and hooks), as opposed to what tokens it accepts. */
export interface VerifierOptions extends JwksCacheOptions {
  /** A key cache shared with other verifiers. Without one the verifier owns a cache (no global state). */
  jwksCache?: JwksCache;
  /** Largest token accepted (characters). Default 16 KiB. */
  maxTokenLength?: number;
  /**
   * Remember verified tokens so a token seen again skips the signature (every hit still re-checks
   * `exp`/`nbf` and that its key is still served). Default on, 10 000 tokens; `false` turns it off.
   */
  verifiedTokenCache?: TokenCacheSetting;
  /**
   * A revocation check, run on every token that passed all other checks, cache hits included:
   * return `true` to reject it with `ERR_TOKEN_REVOKED`. Locally verified tokens stay valid until
   * `exp` even after sign-out; a deny-list of `origin_jti` (one entry per revoked session) closes
   * that gap. Synchronous, so it must be a fast local lookup (keep a remote list synced in memory:
   * `RevocationList` from `cognito-jwt/revocation` does).
   *
   * When the list itself cannot be trusted the hook may throw a `CognitoJwtError`, normally
   * `ERR_REVOCATION_UNAVAILABLE` (503); it reaches the caller as is, and anything else it throws
   * becomes `ERR_REVOCATION_UNAVAILABLE`. A throw also drops the token from the verified-token
   * cache, so once the list is back each such token pays one full verification again.
   *
   * ```ts
   * const revokedSessions = new Set<string>(); // fill on sign-out, expire after the token lifetime
   * new CognitoVerifier(config, { isRevoked: (claims) => revokedSessions.has(claims.origin_jti ?? '') });
   * ```
   */
  isRevoked?: (claims: CognitoClaims) => boolean;
}

/** The names of {@link VerifierOptions}, which the compiler keeps complete. */
export const VERIFIER_OPTION_NAMES = {
  ...JWKS_CACHE_OPTION_NAMES,
  jwksCache: true,
  maxTokenLength: true,
  verifiedTokenCache: true,
  isRevoked: true,
} as const satisfies Record<keyof VerifierOptions, true>;
