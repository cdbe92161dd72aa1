/**
 * The revocation list as the service uses it: `cognito-jwt/revocation`'s `RevocationList`, whose
 * `isRevoked` runs on every token the verifier accepts (cache hits included), and whose status
 * feeds `/readyz`. While the list cannot be trusted, `onUnavailable: "reject"` makes `isRevoked`
 * throw `ERR_REVOCATION_UNAVAILABLE`, which the service answers with 503.
 */
import { ConfigError } from '../errors.ts';
import { RevocationList } from '../revocation/list.ts';
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
 * Create the configured revocation list (checking its options) and start its first full read in
 * the background: until it completes, `fresh()` is false and `/readyz` answers 503.
 *
 * ```ts
 * const revocation = openRevocation({ redis: { url: 'redis://127.0.0.1:6379' }, onUnavailable: 'reject' }, logger);
 * ```
 */
export function openRevocation(config: RevocationConfig, logger: Logger): RevocationCheck {
  let list: RevocationList;
  try {
    list = new RevocationList(config);
  } catch (error) {
    throw new ConfigError(`revocation: ${(error as Error).message}`, { cause: error });
  }
  list.ready.then(
    () => logger.log('info', 'revocation list ready', { store: list.status.store, size: list.size }),
    (error: Error) => logger.log('error', 'revocation list cannot start', { detail: error.message }),
  );
  return {
    isRevoked: list.isRevoked,
    fresh: () => list.status.state === 'current',
    close: () => list.close(),
  };
}
