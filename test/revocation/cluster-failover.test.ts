/**
 * A failover on a real Redis Cluster (3 masters + 3 replicas, cluster-node-timeout 1 000 ms): the
 * master holding the list's slot is killed (SIGKILL) right after a revocation was written, its replica
 * is promoted. Replication is asynchronous, so the promoted replica may lack that revocation; the
 * mirrors that hold it must find the loss by content and write it back. Invariant: once the cluster
 * answers again and one heartbeat has passed, no process (a process started after the failover
 * included) accepts a session revoked before or after the failover.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startFleet } from '../../bench/revocation-fleet.ts';
import { RevocationList } from '../../src/revocation/index.ts';
import {
  clusterFleetSettings,
  ENTRIES,
  HEARTBEAT_MS,
  mint,
  originJti,
  REVOKED,
  sleep,
} from '../helpers/cluster-fleet.ts';
import { startRedisCluster } from '../helpers/redis-cluster.ts';

test('Redis Cluster failover: SIGKILL of the slot master just after a revocation; mirrors restore what the replica lacks', async (t) => {
  const cluster = await startRedisCluster();
  t.after(() => cluster.stop());
  const settings = clusterFleetSettings(cluster.urls);

  const early = await startFleet(3, settings);
  t.after(() => early.stop());
  const revoke = async (token: string) => {
    const writer = new RevocationList({
      redis: { cluster: { rootNodes: cluster.urls }, commandTimeoutMs: 500, connectTimeoutMs: 500 },
      onUnavailable: 'reject',
      readyTimeoutMs: 3_000,
    });
    try {
      await writer.ready;
      await writer.revokeSession(originJti(token));
    } finally {
      await writer.close();
    }
  };
  const old = mint();
  const before = mint();
  const after = mint();
  const untouched = mint();
  await revoke(old);
  await early.waitForAll(old, (code) => code === REVOKED, 5_000);

  // A writer that stays open across the failover: its first write after the kill measures the gap
  // node-redis's topology refresh leaves (500 ms here instead of its default 5 s).
  const writer = new RevocationList({
    redis: { cluster: { rootNodes: cluster.urls }, commandTimeoutMs: 500, connectTimeoutMs: 500 },
    onUnavailable: 'reject',
  });
  t.after(() => writer.close());
  await writer.ready;
  await writer.revokeSession(originJti(before));
  const killedAt = performance.now();
  const oldMaster = await cluster.killMasterOf(ENTRIES);
  await early.waitForAll(before, (code) => code === REVOKED, 5_000);

  // During: the mirrors keep what they hold (revoked stays refused); once stale, 'reject' refuses all.
  const duringStates = new Set<string>();
  let firstWriteMs: number | undefined;
  let clusterOkMs: number | undefined;
  const okWatch = cluster.waitForOk(ENTRIES, 30_000).then(() => {
    clusterOkMs = performance.now() - killedAt;
  });
  for (;;) {
    for (const outcome of await early.verifyAll(untouched)) duringStates.add(outcome);
    assert.deepEqual(await early.verifyAll(before), [REVOKED, REVOKED, REVOKED]);
    const wrote = await writer.revokeSession(originJti(after)).then(
      () => true,
      () => false,
    );
    if (wrote) {
      firstWriteMs = performance.now() - killedAt;
      break;
    }
    if (performance.now() - killedAt > 30_000) throw new Error('no write succeeded 30 s after the kill');
    await sleep(50);
  }
  await okWatch;
  const newMaster = await cluster.masterOf(ENTRIES);
  assert.notEqual(newMaster, oldMaster);
  t.diagnostic(
    `failover: master ${oldMaster} killed; cluster_state:ok with ${newMaster} as master after ${Math.round(clusterOkMs ?? -1)} ms; first write accepted ${Math.round(firstWriteMs)} ms after the kill; answers for an untouched token during it: ${[...duringStates].join(', ')}`,
  );
  const okAt = performance.now();
  await sleep(HEARTBEAT_MS * 2);

  const late = await startFleet(1, settings);
  t.after(() => late.stop());
  const everyone = [...early.members, ...late.members];
  const refusals = await Promise.all(
    everyone.map(async (member) => {
      for (;;) {
        const results = await member.verify([old, before, after]);
        if (results.every((code) => code === REVOKED)) return performance.now() - okAt;
        // The invariant: never an accept of a session that a surviving process held.
        assert.ok(!results.includes('ok'), `a revoked session was accepted: ${results}`);
        if (performance.now() - okAt > 10_000) throw new Error(`still ${results} 10 s after the failover`);
        await sleep(20);
      }
    }),
  );
  t.diagnostic(
    `after: all four processes (one started after the failover) refuse old, before and after within ${Math.round(Math.max(...refusals))} ms of cluster_state:ok`,
  );
  // The store holds all three again (written back by the mirrors if the promoted replica lacked one).
  const members = await cluster.cli(newMaster, 'ZRANGE', ENTRIES, '0', '-1');
  for (const token of [old, before, after]) assert.ok(members.includes(originJti(token)), members);
  for (const member of everyone) {
    const deadline = performance.now() + 5_000;
    while ((await member.verify([untouched]))[0] !== 'ok') {
      if (performance.now() > deadline) throw new Error('an untouched token is still refused 5 s after');
      await sleep(50);
    }
  }
});
