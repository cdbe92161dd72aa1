/**
 * How a Redis store is reached, checked once for every store that speaks to Redis (the revocation
 * list, the session store): one node by URL, or a Redis Cluster by its seed nodes. Nothing here
 * loads the `redis` package (an optional peer): `redis-cluster.ts` builds the client, on demand.
 */
import { ConfigError } from '../errors.ts';
import { checkNumber, checkOptions, optionKeys, typeName } from '../options.ts';

/**
 * How a Redis Cluster is reached.
 *
 * ```ts
 * new RevocationList({
 *   redis: { cluster: { rootNodes: ['rediss://user:secret@clustercfg.my-cache.abc123.use1.cache.amazonaws.com:6379'] } },
 *   onUnavailable: 'reject',
 * });
 * ```
 */
export interface RedisClusterOptions {
  /**
   * Seed nodes, `redis://` or `rediss://` (all alike); one configuration endpoint is enough. The
   * first one's TLS and credentials apply to every node the client discovers.
   */
  rootNodes: string[];
  /**
   * How long after a node stops answering the client reads the cluster's topology again, so the first
   * write after a failover goes to the promoted replica. Default 500 ms (node-redis's own is 5 000).
   */
  topologyRefreshMs?: number;
}

/** {@link RedisClusterOptions}, checked, with the default filled in. */
export interface ResolvedRedisCluster {
  readonly rootNodes: string[];
  readonly topologyRefreshMs: number;
}

/**
 * Where the options sit, for messages: `path` leads each option's name (`redis.` for a revocation
 * list, `''` for the session store, whose options are the Redis ones), `owner` names what takes
 * them, `prefix` leads unknown-key messages as the owner's own checks do.
 */
export interface RedisOptionsPlace {
  readonly path: string;
  readonly owner: string;
  readonly prefix: string;
}

/** The one-node-or-cluster choice every Redis store takes. */
interface RedisTarget {
  url?: string | undefined;
  cluster?: RedisClusterOptions | undefined;
}

/** Either the URL of one node or the cluster's settings: checked, nothing connects. */
export function resolveRedisTarget(
  options: RedisTarget,
  place: RedisOptionsPlace,
): { url: string; cluster?: ResolvedRedisCluster } {
  if (options.cluster === undefined) return { url: checkRedisUrl(options.url, place) };
  const cluster = clusterSettings(options, place);
  return { url: cluster.rootNodes[0] as string, cluster };
}

/** `url`, checked: a redis:// or rediss:// URL. */
export function checkRedisUrl(value: unknown, place: RedisOptionsPlace, name = `${place.path}url`): string {
  if (value === undefined)
    throw new ConfigError(`${place.owner} needs url (one node) or cluster: { rootNodes }`);
  if (typeof value !== 'string') throw new ConfigError(`${name} must be a string, got ${typeName(value)}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a valid URL (expected redis://host:port or rediss://host:port)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(
      `${name} must start with redis:// or rediss://, got ${JSON.stringify(url.protocol)}`,
    );
  }
  return value;
}

/** `cluster`, checked: seed URLs alike in scheme, and no `url` beside it. */
function clusterSettings(options: RedisTarget, place: RedisOptionsPlace): ResolvedRedisCluster {
  if (options.url !== undefined) {
    throw new ConfigError(`${place.owner} takes url (one node) or cluster (a Redis Cluster), not both`);
  }
  const where = `${place.path}cluster`;
  checkOptions(
    optionKeys<RedisClusterOptions>(`${where} options`, CLUSTER_KEYS),
    options.cluster,
    place.prefix,
  );
  const cluster = options.cluster as RedisClusterOptions;
  if (!Array.isArray(cluster.rootNodes) || cluster.rootNodes.length === 0) {
    throw new ConfigError(
      `${where}.rootNodes must be a non-empty array of redis:// or rediss:// URLs, got ${typeName(cluster.rootNodes)}`,
    );
  }
  const rootNodes = cluster.rootNodes.map((url, i) => checkRedisUrl(url, place, `${where}.rootNodes[${i}]`));
  if (new Set(rootNodes.map((url) => new URL(url).protocol)).size > 1) {
    throw new ConfigError(`${where}.rootNodes mix redis:// and rediss://: a cluster is all TLS or none`);
  }
  const topologyRefreshMs =
    cluster.topologyRefreshMs === undefined
      ? 500
      : checkNumber(`${where}.topologyRefreshMs`, cluster.topologyRefreshMs, {
          min: 1,
          max: 2 ** 31 - 1,
          integer: true,
        });
  return { rootNodes, topologyRefreshMs };
}

const CLUSTER_KEYS: Record<keyof RedisClusterOptions, true> = { rootNodes: true, topologyRefreshMs: true };

/** The socket settings of every Redis client: a connection deadline, and reconnects backing off to 2 s. */
export function redisSocket(connectTimeoutMs: number) {
  return {
    connectTimeout: connectTimeoutMs,
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2_000),
  };
}

/** Whether `error` is Node's failure to find `name` (an ESM import or a require). */
export function isMissingPackage(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    (message.includes(`'${name}'`) || message.includes(`"${name}"`))
  );
}
