/**
 * Opens the Redis session store. The store's module imports the `redis` package, an optional
 * peer: it is loaded here, on demand, so importing `cognito-jwt/session` never loads a Redis
 * client, and a missing package is named with the command that installs it.
 */
import { ConfigError, describeValue } from '../errors.ts';
import {
  isMissingPackage,
  type RedisClusterOptions,
  type RedisOptionsPlace,
  resolveRedisTarget,
} from '../net/redis-connection.ts';
import { checkNumber, checkOptions, optionKeys } from '../options.ts';
import type { ResolvedSessionStoreSettings, SessionStore } from './store.ts';

/** Options of {@link openRedisSessionStore}. */
export interface RedisSessionStoreOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. Leave it out with `cluster`. */
  url?: string;
  /**
   * A Redis Cluster (ElastiCache or MemoryDB in cluster mode, ElastiCache Serverless) instead of `url`,
   * as the revocation list takes it. Each user's keys share one slot; users spread over the shards.
   */
  cluster?: RedisClusterOptions;
  /**
   * Start of every key. Default `cognito-jwt:session:`. Each user's keys then carry the user as a
   * `{…}` hash tag (`cognito-jwt:session:{sub}:…`), so they share one Redis Cluster slot.
   */
  keyPrefix?: string;
  /** Deadline of the connection. Default 5 000 ms. */
  connectTimeoutMs?: number;
  /** Deadline of one command. Default 2 000 ms. */
  commandTimeoutMs?: number;
}

export const REDIS_SESSION_STORE_KEYS = optionKeys<RedisSessionStoreOptions>('session store options', {
  url: true,
  cluster: true,
  keyPrefix: true,
  connectTimeoutMs: true,
  commandTimeoutMs: true,
});

/** What is said when node-redis is not installed. */
export const SESSION_REDIS_PACKAGE_MISSING =
  "the Redis session store needs the 'redis' package (node-redis 5 or 6), an optional peer dependency of cognito-jwt: npm install redis";

/** Where the store's options sit, for the messages of the checks it shares with the revocation list. */
const REDIS_PLACE: RedisOptionsPlace = { path: '', owner: 'the Redis session store', prefix: '' };

/** Check the options now (nothing connects); every mistake is a {@link ConfigError}. */
export function resolveRedisSessionStore(options: RedisSessionStoreOptions): ResolvedSessionStoreSettings {
  if (options === undefined) {
    throw new ConfigError('the Redis session store needs its options: { url } or { cluster: { rootNodes } }');
  }
  checkOptions(REDIS_SESSION_STORE_KEYS, options);
  const target = resolveRedisTarget(options, REDIS_PLACE);
  const keyPrefix = options.keyPrefix ?? 'cognito-jwt:session:';
  // The user's hash tag must be the first {…} of every key: the prefix may hold no brace.
  if (typeof keyPrefix !== 'string' || !/^[\w:.-]{0,64}$/.test(keyPrefix)) {
    throw new ConfigError(
      `keyPrefix must be up to 64 letters, digits, _ : . or - (no braces), got ${describeValue(keyPrefix)}`,
    );
  }
  const ms = (name: string, value: unknown, fallback: number) =>
    value === undefined ? fallback : checkNumber(name, value, { min: 1, max: 600_000, integer: true });
  return {
    ...target,
    keyPrefix,
    connectTimeoutMs: ms('connectTimeoutMs', options.connectTimeoutMs, 5_000),
    commandTimeoutMs: ms('commandTimeoutMs', options.commandTimeoutMs, 2_000),
  };
}

/**
 * A server-side session store in Redis, for `new CognitoSession({ store })`: the browser's cookie
 * then holds only a sealed session id, the tokens stay in Redis until the session ends, refreshes
 * happen once per session across processes, and sessions can be listed and ended per user.
 *
 * ```ts
 * import { CognitoSession, openRedisSessionStore } from 'cognito-jwt/session';
 *
 * const store = await openRedisSessionStore({ url: 'redis://127.0.0.1:6379' });
 * const session = new CognitoSession({ ...options, store });
 * // or on a Redis Cluster: openRedisSessionStore({ cluster: { rootNodes: ['rediss://clustercfg.…:6379'] } })
 * ```
 */
export async function openRedisSessionStore(options: RedisSessionStoreOptions): Promise<SessionStore> {
  const settings = resolveRedisSessionStore(options);
  let module: typeof import('./redis-store.ts');
  try {
    module = await import('./redis-store.ts');
  } catch (error) {
    if (isMissingPackage(error, 'redis'))
      throw new ConfigError(SESSION_REDIS_PACKAGE_MISSING, { cause: error });
    throw error;
  }
  return new module.RedisSessionStore(settings);
}
