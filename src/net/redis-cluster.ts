/**
 * The Redis Cluster client every cluster store uses. It imports the `redis` package, an optional
 * peer: only the stores' own modules, loaded on demand, import this one.
 */
import { createCluster } from 'redis';
import type { ResolvedRedisCluster } from './redis-connection.ts';

export type RedisClusterClient = ReturnType<typeof createCluster>;

/**
 * The cluster client. Discovered nodes take the seed's TLS and credentials (`defaults`): ElastiCache
 * and MemoryDB announce their nodes by host name, and a TLS-only service refuses a plain connection.
 * After a node stops answering, the client reads the topology again within `topologyRefreshMs`
 * (node-redis waits 5 s by default), so the first command after a failover finds the promoted replica.
 * Commands fail at once while their node is away (no offline queue): a caller sees the outage.
 */
export function createRedisCluster(
  cluster: ResolvedRedisCluster,
  socket: { connectTimeout: number; reconnectStrategy: (retries: number) => number },
): RedisClusterClient {
  const seed = new URL(cluster.rootNodes[0] as string);
  const tls = seed.protocol === 'rediss:';
  return createCluster({
    rootNodes: cluster.rootNodes.map((url) => ({ url })),
    defaults: {
      ...(seed.username ? { username: decodeURIComponent(seed.username) } : {}),
      ...(seed.password ? { password: decodeURIComponent(seed.password) } : {}),
      disableOfflineQueue: true,
      socket: tls ? { ...socket, tls: true as const } : socket,
    },
    topologyRefreshOnReconnectionAttemptStrategy: cluster.topologyRefreshMs,
  });
}
