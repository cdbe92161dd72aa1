/**
 * The revocation benchmark (`npm run bench` runs it; alone: `tsx bench/revocation.ts [--quick] [--json FILE]`):
 * - propagation from the revoker's `revokeSession()` call to refusal in every verifier process;
 * - `isRevoked` per call on a Redis-backed list's mirror (CPU time);
 * - distinct-token verification with the check on and off, interleaved in one run (CPU time);
 * - RSS and full-read (reconcile) time of a mirror of a million revoked sessions.
 * Every Redis here is a private `redis-server` on loopback.
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import { CognitoVerifier, decodeUnverified } from '../src/index.ts';
import { RevocationList } from '../src/revocation/index.ts';
import { buildJwks, generateKeyPair, mintAccessToken } from '../src/testing/index.ts';
import { startRedisCluster } from '../test/helpers/redis-cluster.ts';
import { startRedisServer } from '../test/helpers/redis-server.ts';
import { cpuMs } from './measure.ts';
import { startFleet } from './revocation-fleet.ts';

export interface RevocationSettings {
  /** Revocations timed for propagation. */
  revocations: number;
  /** Verifier processes that must all refuse each one. */
  processes: number;
  /** Entries in the mirror while `isRevoked` is timed. */
  mirrorEntries: number;
  isRevokedCalls: number;
  /** Distinct tokens per verification round, and rounds per variant. */
  distinctTokens: number;
  rounds: number;
  /** Revoked sessions for the memory and reconcile measure. */
  largeEntries: number;
}

export const REVOCATION_SETTINGS: Record<'quick' | 'full', RevocationSettings> = {
  quick: {
    revocations: 20,
    processes: 2,
    mirrorEntries: 1_000,
    isRevokedCalls: 200_000,
    distinctTokens: 100,
    rounds: 2,
    largeEntries: 10_000,
  },
  full: {
    revocations: 200,
    processes: 4,
    mirrorEntries: 100_000,
    isRevokedCalls: 10_000_000,
    distinctTokens: 2_000,
    rounds: 7,
    largeEntries: 1_000_000,
  },
};

type Propagation = { processes: number; revocations: number; p50Ms: number; p99Ms: number; maxMs: number };

export interface RevocationBench {
  propagation: Propagation;
  /** The same on a Redis Cluster of 3 masters + 3 replicas (sharded pub/sub). */
  clusterPropagation: Propagation;
  /** `mapHasNsPerCall`: a plain `Map.has(origin_jti)` on the same sessions, timed in the same rounds. */
  isRevoked: { mirrorEntries: number; calls: number; nsPerCall: number; mapHasNsPerCall: number };
  verification: { tokens: number; rounds: number; offOpsPerSec: number; onOpsPerSec: number; ratio: number };
  /** `largeOwned`: the same with every session revoked with its owner, each a user of its own. */
  large: LargeMirror;
  largeOwned: LargeMirror;
}

interface LargeMirror {
  entries: number;
  rssMb: number;
  heapMb: number;
  /** Wall time of the full read at start, and of a periodic reconcile. */
  firstReadMs: number;
  reconcileMs: number;
  /** The same in CPU time of the reading process (less distorted by a busy machine). */
  firstReadCpuMs: number;
  reconcileCpuMs: number;
}

const POOL = 'eu-west-1_BenchPool';
const CLIENT = 'bench-client';
const ISSUER = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`;
const ENTRIES_KEY = 'cognito-jwt:revocation:entries';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

const now = () => performance.timeOrigin + performance.now();

/** Write `count` revoked sessions straight into the sorted set (ZADD in batches), as a long-lived fleet would have. */
async function fill(url: string, count: number, owned: boolean): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  const expiresAt = String(Date.now() + 86_400_000);
  for (let start = 0; start < count; start += 10_000) {
    const args = ['ZADD', ENTRIES_KEY];
    for (let i = start; i < Math.min(count, start + 10_000); i++) {
      const originJti = `${i.toString(16).padStart(8, '0')}-0000-4000-8000-${'0'.repeat(12)}`;
      const sub = `${i.toString(16).padStart(8, '0')}-1111-4000-8000-${'0'.repeat(12)}`;
      args.push(
        expiresAt,
        owned ? `o\t${POOL}\t${sub}\t${originJti}\t${expiresAt}` : `s\t${originJti}\t${expiresAt}`,
      );
    }
    await client.sendCommand(args);
  }
  await client.close();
}

/** Propagation p50/p99 from `revokeSession()` to refusal in every process, on one node or a cluster. */
export async function measurePropagation(
  settings: RevocationSettings,
  key: ReturnType<typeof generateKeyPair>,
  onCluster = false,
): Promise<Propagation> {
  const redis = onCluster
    ? await startRedisCluster().then((cluster) => ({
        url: cluster.urls[0] as string,
        cluster,
        stop: cluster.stop,
      }))
    : await startRedisServer().then((server) => ({ url: server.url, cluster: undefined, stop: server.stop }));
  const jwks = buildJwks(key);
  const fleet = await startFleet(settings.processes, {
    redisUrl: redis.url,
    ...(redis.cluster ? { redisCluster: redis.cluster.urls } : {}),
    userPoolId: POOL,
    clientId: CLIENT,
    jwks,
    onUnavailable: 'reject',
  });
  const revoker = new RevocationList({
    redis: redis.cluster ? { cluster: { rootNodes: redis.cluster.urls } } : { url: redis.url },
    onUnavailable: 'reject',
  });
  try {
    await revoker.ready;
    const delays: number[] = [];
    for (let i = 0; i < settings.revocations; i++) {
      const token = mintAccessToken({ key, issuer: ISSUER, clientId: CLIENT });
      const watches = await Promise.all(fleet.members.map((member) => member.watch(token)));
      const calledAt = now();
      await revoker.revokeSession(decodeUnverified(token).payload.origin_jti as string);
      const refusedAt = await Promise.all(watches.map((watch) => watch.refused));
      delays.push(Math.max(...refusedAt) - calledAt);
    }
    delays.sort((a, b) => a - b);
    return {
      processes: settings.processes,
      revocations: settings.revocations,
      p50Ms: percentile(delays, 50),
      p99Ms: percentile(delays, 99),
      maxMs: delays.at(-1) ?? Number.NaN,
    };
  } finally {
    await revoker.close();
    await fleet.stop();
    await redis.stop();
  }
}

async function measureHotPath(settings: RevocationSettings, key: ReturnType<typeof generateKeyPair>) {
  const redis = await startRedisServer();
  await fill(redis.url, settings.mirrorEntries, false);
  const list = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  try {
    await list.ready;
    for (let i = 0; i < 100; i++) await list.revokeUser({ userPoolId: POOL, sub: `cut-${i}` });
    // Rounds run without yielding; past maxStalenessMs without a heartbeat the list would rightly
    // refuse (it reads the clock), so each round starts just after a confirmation.
    const afterConfirmation = async () => {
      while (list.status.stalenessMs > 300) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    // A mix: misses (most traffic), revoked sessions, and users with and without a cut-off.
    const claims = Array.from({ length: 1024 }, (_, i) => ({
      iss: ISSUER,
      sub: i % 8 === 0 ? `cut-${i % 100}` : `user-${i}`,
      iat: Math.floor(Date.now() / 1000) + 10,
      origin_jti:
        i % 16 === 0
          ? `${(i % settings.mirrorEntries).toString(16).padStart(8, '0')}-0000-4000-8000-${'0'.repeat(12)}`
          : `miss-${i}`,
    }));
    // The baseline, timed in the same rounds: one plain Map lookup of the origin_jti in a Map of as
    // many session ids, the least any deny-list check can cost here.
    const plain = new Map<string, number>();
    for (const entry of list.entries())
      if (entry.kind === 'session') plain.set(entry.originJti, entry.expiresAt);
    const samples: number[] = [];
    const baseline: number[] = [];
    let revoked = 0;
    let found = 0;
    for (let round = 0; round < 5; round++) {
      await afterConfirmation();
      let started = cpuMs();
      for (let i = 0; i < settings.isRevokedCalls; i++) if (list.isRevoked(claims[i & 1023]!)) revoked++;
      samples.push(((cpuMs() - started) * 1e6) / settings.isRevokedCalls);
      started = cpuMs();
      for (let i = 0; i < settings.isRevokedCalls; i++) if (plain.has(claims[i & 1023]!.origin_jti)) found++;
      baseline.push(((cpuMs() - started) * 1e6) / settings.isRevokedCalls);
    }
    if (revoked === 0 || found === 0) throw new Error('the isRevoked benchmark never hit a revoked entry');
    const isRevoked = {
      mirrorEntries: list.size,
      calls: settings.isRevokedCalls,
      nsPerCall: median(samples),
      mapHasNsPerCall: median(baseline),
    };

    // Distinct tokens, each verified once per round by a new verifier: full signature checks.
    const jwks = buildJwks(key);
    const tokens = Array.from({ length: settings.distinctTokens }, () =>
      mintAccessToken({ key, issuer: ISSUER, clientId: CLIENT }),
    );
    const config = { userPoolId: POOL, clientId: CLIENT, tokenUse: 'access', jwks } as const;
    // Both verifiers go through the same tokens in alternating chunks of 50, so a busy machine
    // slows both alike; each token is new to each verifier (a full signature check).
    const round = (): { on: number; off: number } => {
      const withCheck = new CognitoVerifier(config, { isRevoked: list.isRevoked });
      const without = new CognitoVerifier(config, {});
      let onMs = 0;
      let offMs = 0;
      for (let start = 0; start < tokens.length; start += 50) {
        const chunk = tokens.slice(start, start + 50);
        const order = (start / 50) % 2 === 0 ? [without, withCheck] : [withCheck, without];
        for (const verifier of order) {
          const started = cpuMs();
          for (const token of chunk) verifier.verifySync(token);
          const elapsed = cpuMs() - started;
          if (verifier === withCheck) onMs += elapsed;
          else offMs += elapsed;
        }
      }
      return { on: tokens.length / (onMs / 1000), off: tokens.length / (offMs / 1000) };
    };
    await afterConfirmation();
    round();
    const on: number[] = [];
    const off: number[] = [];
    for (let i = 0; i < settings.rounds; i++) {
      await afterConfirmation();
      const result = round();
      on.push(result.on);
      off.push(result.off);
    }
    const verification = {
      tokens: tokens.length,
      rounds: settings.rounds,
      offOpsPerSec: median(off),
      onOpsPerSec: median(on),
      ratio: median(on) / median(off),
    };
    return { isRevoked, verification };
  } finally {
    await list.close();
    await redis.stop();
  }
}

export async function measureLarge(settings: RevocationSettings, owned: boolean): Promise<LargeMirror> {
  const redis = await startRedisServer();
  try {
    await fill(redis.url, settings.largeEntries, owned);
    const child = fork(fileURLToPath(new URL('./revocation-memory-child.ts', import.meta.url)), [redis.url], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const result = await new Promise<LargeMirror>((resolve, reject) => {
      child.once('message', (message) => resolve(message as RevocationBench['large']));
      child.once('exit', (code) => reject(new Error(`the memory child exited with ${code}`)));
    });
    child.kill();
    if (result.entries !== settings.largeEntries) {
      throw new Error(`the mirror holds ${result.entries} entries, expected ${settings.largeEntries}`);
    }
    return result;
  } finally {
    await redis.stop();
  }
}

/** Run every revocation measure. */
export async function measureRevocation(
  settings: RevocationSettings,
  log: (message: string) => void = () => {},
): Promise<RevocationBench> {
  const key = generateKeyPair();
  log(`revocation: propagation to ${settings.processes} processes × ${settings.revocations} revocations`);
  const propagation = await measurePropagation(settings, key);
  log(`revocation: the same on a Redis Cluster (3 masters + 3 replicas)`);
  const clusterPropagation = await measurePropagation(settings, key, true);
  log(
    `revocation: isRevoked on a ${settings.mirrorEntries}-entry mirror; verification with the check on and off`,
  );
  const { isRevoked, verification } = await measureHotPath(settings, key);
  log(`revocation: memory and reconcile with ${settings.largeEntries} revoked sessions`);
  const large = await measureLarge(settings, false);
  log(`revocation: the same with each session revoked with its owner (pool and sub)`);
  const largeOwned = await measureLarge(settings, true);
  return { propagation, clusterPropagation, isRevoked, verification, large, largeOwned };
}

/** The issue's targets, measured. */
export function revocationTargets(
  result: RevocationBench,
): { target: string; measured: string; met: boolean }[] {
  const { propagation, clusterPropagation, isRevoked, verification, large, largeOwned } = result;
  return [
    {
      target: `revocation propagation p99 to every process ≤ 1000 ms`,
      measured: `p50 ${propagation.p50Ms.toFixed(2)} ms, p99 ${propagation.p99Ms.toFixed(2)} ms`,
      met: propagation.p99Ms <= 1000,
    },
    {
      target: `revocation propagation p99 to every process on a Redis Cluster ≤ 1000 ms`,
      measured: `p50 ${clusterPropagation.p50Ms.toFixed(2)} ms, p99 ${clusterPropagation.p99Ms.toFixed(2)} ms`,
      met: clusterPropagation.p99Ms <= 1000,
    },
    {
      target: 'isRevoked on the Redis mirror ≤ 100 ns/call',
      measured: `${isRevoked.nsPerCall.toFixed(1)} ns (a plain Map.has: ${isRevoked.mapHasNsPerCall.toFixed(1)} ns)`,
      met: isRevoked.nsPerCall <= 100,
    },
    {
      target: 'distinct-token verification with the check ≥ 0.98 × without',
      measured: `${verification.ratio.toFixed(3)} ×`,
      met: verification.ratio >= 0.98,
    },
    {
      target: `mirror of ${large.entries} revoked sessions ≤ 256 MB RSS`,
      measured: `${large.rssMb.toFixed(0)} MB`,
      met: large.rssMb <= 256,
    },
    {
      target: `reconcile of ${large.entries} entries ≤ 2 s`,
      measured: `${(large.reconcileMs / 1000).toFixed(2)} s`,
      met: large.reconcileMs <= 2000,
    },
    {
      target: `full read of ${large.entries} entries at start ≤ 2 s`,
      measured: `${(large.firstReadMs / 1000).toFixed(2)} s`,
      met: large.firstReadMs <= 2000,
    },
    // The same million as TokenSession.revoke() and sign-outs write them: each with its owner.
    {
      target: `mirror of ${largeOwned.entries} sessions revoked with their owners ≤ 256 MB RSS`,
      measured: `${largeOwned.rssMb.toFixed(0)} MB`,
      met: largeOwned.rssMb <= 256,
    },
    {
      target: `full read of ${largeOwned.entries} sessions revoked with their owners at start ≤ 2 s`,
      measured: `${(largeOwned.firstReadMs / 1000).toFixed(2)} s`,
      met: largeOwned.firstReadMs <= 2000,
    },
  ];
}

/** The results as a table: plain text or Markdown. */
export function formatRevocation(result: RevocationBench, style: 'text' | 'markdown' = 'text'): string {
  const { propagation, clusterPropagation, isRevoked, verification, large, largeOwned } = result;
  const mirror = (read: LargeMirror) =>
    `RSS +${read.rssMb.toFixed(0)} MB (heap +${read.heapMb.toFixed(0)} MB) · full read at start ${read.firstReadMs.toFixed(0)} ms (CPU ${read.firstReadCpuMs.toFixed(0)} ms) · reconcile ${read.reconcileMs.toFixed(0)} ms (CPU ${read.reconcileCpuMs.toFixed(0)} ms)`;
  const rows: [string, string][] = [
    [
      `propagation, revokeSession() → refused in all ${propagation.processes} processes (${propagation.revocations} revocations)`,
      `p50 ${propagation.p50Ms.toFixed(2)} ms · p99 ${propagation.p99Ms.toFixed(2)} ms · max ${propagation.maxMs.toFixed(2)} ms`,
    ],
    [
      `the same on a Redis Cluster, 3 masters + 3 replicas (${clusterPropagation.processes} processes)`,
      `p50 ${clusterPropagation.p50Ms.toFixed(2)} ms · p99 ${clusterPropagation.p99Ms.toFixed(2)} ms · max ${clusterPropagation.maxMs.toFixed(2)} ms`,
    ],
    [
      `isRevoked on the Redis mirror (${isRevoked.mirrorEntries} entries)`,
      `${isRevoked.nsPerCall.toFixed(1)} ns/call (a plain Map.has of the origin_jti, same rounds: ${isRevoked.mapHasNsPerCall.toFixed(1)} ns)`,
    ],
    [
      `${verification.tokens} distinct access tokens, check off → on (median of ${verification.rounds})`,
      `${verification.offOpsPerSec.toFixed(0)} → ${verification.onOpsPerSec.toFixed(0)} ops/s (${verification.ratio.toFixed(3)} ×)`,
    ],
    [`mirror of ${large.entries} revoked sessions`, mirror(large)],
    [`the same, each revoked with its owner (a user of its own)`, mirror(largeOwned)],
  ];
  if (style === 'markdown') {
    return [
      '#### Revocation',
      '',
      '| measure | result |',
      '| --- | --- |',
      ...rows.map(([a, b]) => `| ${a} | ${b} |`),
    ].join('\n');
  }
  const width = Math.max(...rows.map(([a]) => a.length));
  return ['Revocation', ...rows.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`)].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, json: { type: 'string' } },
  });
  const result = await measureRevocation(REVOCATION_SETTINGS[values.quick ? 'quick' : 'full'], (message) =>
    process.stderr.write(`${message}\n`),
  );
  console.log(formatRevocation(result));
  for (const target of revocationTargets(result)) {
    console.log(`  ${target.met ? '✔' : '✘'} ${target.target}: ${target.measured}`);
  }
  if (values.json)
    writeFileSync(values.json, `${JSON.stringify({ quick: values.quick, ...result }, null, 2)}\n`);
}
