/**
 * The revocation list as the service uses it: `cognito-jwt/revocation`'s `RevocationList`, whose
 * `isRevoked` runs on every token the verifier accepts (cache hits included), and whose status
 * feeds `/readyz`. While the list cannot be trusted, `onUnavailable: "reject"` makes `isRevoked`
 * throw `ERR_REVOCATION_UNAVAILABLE`, which the service answers with 503.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ConfigError } from '../errors.ts';
import { REVOCATION_EVENTS, type RevocationEventMessages } from '../revocation/events.ts';
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
  /** Entries in this process's mirror. */
  size(): number;
  /** Entries per pool (`''`: sessions revoked without their pool), for the entries gauge. */
  pools(): { userPoolId: string; entries: number }[];
  close(): Promise<void>;
  /** The list itself: browser sign-out adds the session's `origin_jti` values to it. */
  readonly list: RevocationList;
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
  // Every change of trust is one line: current → stale (with the store's error) → current.
  const onState = (message: unknown) => {
    const { trusted, stalenessMs, reason, cause, source } = message as RevocationEventMessages['state'];
    if (source !== list) return;
    logger.log(trusted ? 'info' : 'warn', trusted ? 'revocation list current' : 'revocation list stale', {
      reason,
      ...(cause === undefined ? {} : { cause }),
      stalenessMs: Math.round(stalenessMs),
      size: list.size,
    });
  };
  subscribe(REVOCATION_EVENTS.state, onState);
  list.ready.then(
    () => {
      logger.log('info', 'revocation list ready', { store: list.status.store, size: list.size });
      for (const warning of list.status.storeWarnings)
        logger.log('warn', 'revocation store settings', { warning });
    },
    (error: Error) => logger.log('error', 'revocation list cannot start', { detail: error.message }),
  );
  return {
    list,
    isRevoked: list.isRevoked,
    fresh: () => list.status.state === 'current',
    size: () => list.size,
    pools: () => list.status.pools,
    close: () => {
      unsubscribe(REVOCATION_EVENTS.state, onState);
      return list.close();
    },
  };
}
