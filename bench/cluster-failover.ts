/**
 * What a failover costs the revocation list on a Redis Cluster (`npm run bench:cluster-failover`,
 * or `tsx bench/cluster-failover.ts [--rounds N] [--refresh MS,MS]`). Each round starts a real
 * cluster on loopback (3 masters + 3 replicas, `cluster-node-timeout` 1 000 ms), SIGKILLs the master
 * of the list's slot and times, from the moment the killed process exited:
 * - `ok`: every live node reports `cluster_state:ok` with the replica promoted (Redis's own part);
 * - `write`: the first revocation a writer kept open across the failover gets accepted (the
 *   first-write gap: how soon the client finds the new master, `topologyRefreshMs`);
 * - `message`: the first sharded message (SSUBSCRIBE) delivered again to a subscriber built like
 *   the store's (the subscription's recovery: it must move to the promoted replica);
 * - `mirror`: the first revocation written after the kill that a RevocationList mirror holds (by
 *   message or by the full read it makes when its node connection comes back).
 * The writer writes a new revocation every 50 ms until all of these are seen.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createRedisCluster } from '../src/net/redis-cluster.ts';
import { redisSocket } from '../src/net/redis-connection.ts';
import { RevocationList } from '../src/revocation/index.ts';
import { startRedisCluster } from '../test/helpers/redis-cluster.ts';

const PREFIX = '{cognito-jwt:revocation}:';
const ENTRIES = `${PREFIX}entries`;
const CHANNEL = `${PREFIX}changes:2`;
const TIMEOUT_MS = 500;
const GIVE_UP_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One round's times in ms after the kill (`undefined`: not seen within a minute). */
export interface FailoverRound {
  topologyRefreshMs: number;
  ok: number | undefined;
  write: number | undefined;
  message: number | undefined;
  mirror: number | undefined;
}

/** Start a cluster, kill the master of the list's slot, time the recovery; stop the cluster. */
export async function measureFailover(topologyRefreshMs: number): Promise<FailoverRound> {
  const cluster = await startRedisCluster();
  const redis = {
    cluster: { rootNodes: cluster.urls, topologyRefreshMs },
    commandTimeoutMs: TIMEOUT_MS,
    connectTimeoutMs: TIMEOUT_MS,
  };
  const writer = new RevocationList({ redis, onUnavailable: 'reject' });
  const mirror = new RevocationList({
    redis,
    onUnavailable: 'reject',
    heartbeatMs: 100,
    maxStalenessMs: 1_000,
  });
  const subscriber = createRedisCluster(
    { rootNodes: cluster.urls, topologyRefreshMs },
    redisSocket(TIMEOUT_MS),
  );
  subscriber.on('error', () => {}); // it reconnects by itself; the round times it
  const round: FailoverRound = {
    topologyRefreshMs,
    ok: undefined,
    write: undefined,
    message: undefined,
    mirror: undefined,
  };
  try {
    await Promise.all([writer.ready, mirror.ready, subscriber.connect()]);
    let killedAt = Number.POSITIVE_INFINITY;
    /** Revocations written after the kill: a message or a mirror entry for one of them counts. */
    const afterKill = new Set<string>();
    await subscriber.sSubscribe(CHANNEL, (message) => {
      if (round.message !== undefined) return;
      const ids = message
        .split('\n')
        .slice(2)
        .map((member) => member.split('\t')[1]);
      if (ids.some((id) => id !== undefined && afterKill.has(id)))
        round.message = performance.now() - killedAt;
    });
    await writer.revokeSession('before-the-kill');
    await cluster.killMasterOf(ENTRIES);
    killedAt = performance.now();
    void cluster.waitForOk(ENTRIES, GIVE_UP_MS).then(
      () => {
        round.ok = performance.now() - killedAt;
      },
      () => {},
    );
    for (let i = 0; ; i++) {
      const id = `after-the-kill-${i}`;
      afterKill.add(id);
      const wrote = await writer.revokeSession(id).then(
        () => true,
        () => false,
      );
      const now = performance.now() - killedAt;
      if (wrote) round.write ??= now;
      if (
        round.mirror === undefined &&
        mirror.entries().some((entry) => entry.kind === 'session' && afterKill.has(entry.originJti))
      ) {
        round.mirror = now;
      }
      if (
        round.ok !== undefined &&
        round.write !== undefined &&
        round.message !== undefined &&
        round.mirror !== undefined
      )
        break;
      if (now > GIVE_UP_MS) break;
      await sleep(50);
    }
    return round;
  } finally {
    await Promise.allSettled([writer.close(), mirror.close(), subscriber.close()]);
    await cluster.stop();
  }
}

const median = (values: (number | undefined)[]) => {
  const seen = values.filter((value): value is number => value !== undefined).sort((a, b) => a - b);
  return seen.length === 0 ? undefined : (seen[Math.floor((seen.length - 1) / 2)] as number);
};
const ms = (value: number | undefined) => (value === undefined ? 'not seen' : `${Math.round(value)} ms`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '3' }, refresh: { type: 'string', default: '500,5000' } },
  });
  const rounds = Number(values.rounds);
  const refreshes = values.refresh.split(',').map(Number);
  if (!Number.isInteger(rounds) || rounds < 1 || refreshes.some((one) => !Number.isInteger(one) || one < 1)) {
    console.error('usage: tsx bench/cluster-failover.ts [--rounds N] [--refresh MS,MS] (whole numbers > 0)');
    process.exit(2);
  }
  for (const topologyRefreshMs of refreshes) {
    const results: FailoverRound[] = [];
    for (let i = 0; i < rounds; i++) {
      const round = await measureFailover(topologyRefreshMs);
      results.push(round);
      console.log(
        `topologyRefreshMs ${topologyRefreshMs}, round ${i + 1}: cluster_state:ok ${ms(round.ok)}, first write ${ms(round.write)}, first sharded message ${ms(round.message)}, mirror holds a new revocation ${ms(round.mirror)} after the kill`,
      );
    }
    console.log(
      `topologyRefreshMs ${topologyRefreshMs}, median of ${rounds}: cluster_state:ok ${ms(median(results.map((r) => r.ok)))}, first write ${ms(median(results.map((r) => r.write)))}, first sharded message ${ms(median(results.map((r) => r.message)))}, mirror ${ms(median(results.map((r) => r.mirror)))}`,
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
