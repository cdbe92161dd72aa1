/**
 * The revocation list as the service uses it: one synchronous look-up per allowed token (the
 * verifier's `isRevoked` hook) and a freshness flag for `/readyz`. Built on `cognito-jwt/revocation`.
 */
import { ConfigError } from '../errors.ts';
import type { CognitoClaims } from '../token/claims.ts';
import type { RevocationConfig } from './config.ts';
import type { Logger } from './log.ts';

/** What the server needs of a revocation list. */
export interface RevocationCheck {
  /** `true` rejects the token (`ERR_TOKEN_REVOKED`); throws `ERR_REVOCATION_UNAVAILABLE` (503) when it cannot tell. */
  isRevoked(claims: CognitoClaims): boolean;
  /** The mirror is recent enough to trust (for `/readyz`). */
  fresh(): boolean;
  close(): Promise<void>;
}

/**
 * Open the configured revocation list and wait for its first full read.
 *
 * ```ts
 * const revocation = await openRevocation({ store: 'redis', url: 'redis://127.0.0.1:6379' }, logger);
 * ```
 */
export async function openRevocation(config: RevocationConfig, _logger: Logger): Promise<RevocationCheck> {
  throw new ConfigError(`revocation (${config.store}) is not wired into the service yet`);
}
