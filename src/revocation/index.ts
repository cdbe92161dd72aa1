/**
 * `cognito-jwt/revocation`: a deny-list of revoked sessions (`origin_jti`) and per-user cut-offs
 * that plugs into the verifier's `isRevoked` hook. In memory for one process; in Redis for a fleet
 * (the `redis` package, node-redis, is an optional peer dependency, loaded only for a Redis store).
 *
 * ```ts
 * import { CognitoVerifier } from 'cognito-jwt';
 * import { RevocationList } from 'cognito-jwt/revocation';
 *
 * const revocations = new RevocationList({ redis: { url: 'redis://127.0.0.1:6379' }, onUnavailable: 'reject' });
 * await revocations.ready;
 * const verifier = new CognitoVerifier(config, { isRevoked: revocations.isRevoked });
 * ```
 */
export { poolIdOfIssuer, type RevocationEntry } from './entries.ts';
export {
  REVOCATION_EVENTS,
  type ResyncReason,
  type RevocationEventMessages,
  type RevocationEventName,
} from './events.ts';
export {
  createRevocationList,
  DEFAULT_MAX_ENTRIES_PER_POOL,
  DEFAULT_TOKEN_LIFETIME_SECONDS,
  type MemoryRevocationListOptions,
  type RedisClusterOptions,
  type RedisRevocationListOptions,
  type RedisStoreOptions,
  RevocationList,
  type RevocationListOptions,
  type RevocationListStatus,
  type RevocationWrite,
  type RevokeSessionOptions,
  type RevokeUserInput,
  type UnavailableBehaviour,
} from './list.ts';
export type { CapacityLevel, CapacityReport, RevocationClaims } from './mirror.ts';
export type { StoreSettingsReport } from './store.ts';
