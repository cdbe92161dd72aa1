/**
 * The Redis session store on a real Redis Cluster (3 masters + 3 replicas on loopback, one cluster
 * for this file): the tests every store passes (two processes, one refresh across them, sessions
 * listed and ended per user, sign-out everywhere), each user's keys in one slot and users spread
 * over the masters, and a failover that loses writes: the store works again once the client has
 * read the new topology, a lost sign-in means signing in again, and a lost sign-out brings the
 * session back into the store but the revocation list still refuses it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CognitoJwtError } from '../../src/errors.ts';
import { rejectsCode } from '../helpers/assert-error.ts';
import { startRedisCluster } from '../helpers/redis-cluster.ts';
import { sharedSessionStoreSuite } from '../helpers/session-store-suite.ts';
import type { ScriptedBrowser } from '../helpers/sign-in-client.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The keys of a user's session, as the store names them (default prefix; the sub is the hash tag). */
const keysOf = (sub: string, sid: string) => ({
  session: `cognito-jwt:session:{${sub}}:s:${sid}`,
  index: `cognito-jwt:session:{${sub}}:index`,
  lock: `cognito-jwt:session:{${sub}}:lock:${sid}`,
});

const codeOf = async (response: Response) => ((await response.json()) as { code: string }).code;

describe('sessions kept in a Redis Cluster: two processes share them', () => {
  const suite = sharedSessionStoreSuite(async () => {
    const cluster = await startRedisCluster();
    return {
      backend: cluster,
      options: { cluster: { rootNodes: cluster.urls }, commandTimeoutMs: 500, connectTimeoutMs: 500 },
      // The other process knows one seed only, a replica: the client discovers the rest.
      otherOptions: {
        cluster: { rootNodes: [cluster.urls[5] as string] },
        commandTimeoutMs: 500,
        connectTimeoutMs: 500,
      },
      stop: () => cluster.stop(),
    };
  });
  const { signIn } = suite;
  const sidOf = async (sub: string) => {
    const [one] = await suite.other.listSessions(sub);
    assert.ok(one, `${sub} has a session`);
    return one.sid;
  };

  test("each user's keys share one slot; users' slots spread over the three masters", async () => {
    const cluster = suite.backend;
    const masters = new Set<number>();
    for (const sub of ['slot-user-a', 'slot-user-b', 'slot-user-d']) {
      await signIn(sub);
      const keys = keysOf(sub, await sidOf(sub));
      const slots = new Set<string>();
      for (const key of Object.values(keys))
        slots.add(await cluster.cli(cluster.nodes[0]?.port as number, 'CLUSTER', 'KEYSLOT', key));
      assert.equal(slots.size, 1, `every key of ${sub} in one slot`);
      const master = await cluster.masterOf(keys.session);
      assert.equal(
        await cluster.cli(master, 'EXISTS', keys.session, keys.index),
        '2',
        `${sub}'s keys live on ${master}`,
      );
      masters.add(master);
    }
    assert.equal(masters.size, 3, 'three users on three masters');
  });

  // A failover that loses writes, forced: the replication of one master is cut, so what is written
  // next is acknowledged by the master alone; the master is killed and its replica, which lacks
  // it, takes over. Redis Cluster can lose acknowledged writes this way on any failover.
  test('a failover: lost sign-in → sign in again; lost sign-out → back in the store, still refused; the store works again', async (t) => {
    const cluster = suite.backend;
    const [kept, lost] = ['failover-a', 'failover-e'];
    const keptBrowser = await signIn(kept);
    const keptKeys = keysOf(kept, await sidOf(kept));
    const master = await cluster.masterOf(keptKeys.session);
    assert.equal(await cluster.masterOf(keysOf(lost, 'x').index), master, 'both users on one master');
    const replica = await cluster.replicaOf(master);
    for (let i = 0; (await cluster.readReplica(replica, 'EXISTS', keptKeys.session)) !== '1'; i++) {
      assert.ok(i < 200, 'the replica got the session before the cut');
      await sleep(25);
    }

    await cluster.cutReplication(keptKeys.session);
    // Acknowledged by the master alone: the sign-out of one user, the sign-in of another.
    const oldCookie = suite.asRequest(keptBrowser);
    const signOut = await keptBrowser.request('/auth/sign-out', {
      method: 'POST',
      headers: { origin: suite.fixture.appOrigin },
    });
    assert.equal(signOut.status, 303);
    assert.equal(await cluster.cli(master, 'EXISTS', keptKeys.session), '0');
    assert.equal(
      await cluster.readReplica(replica, 'EXISTS', keptKeys.session),
      '1',
      'the replica still has it',
    );
    const lostBrowser = await signIn(lost);
    const lostKeys = keysOf(lost, await sidOf(lost));
    assert.equal(await cluster.readReplica(replica, 'EXISTS', lostKeys.session), '0', 'the replica lacks it');

    const killedAt = performance.now();
    await cluster.killMasterOf(keptKeys.session);
    // While the slot has no master, a read answers 503 and keeps the cookie: no accept, no sign-out.
    const during = await lostBrowser.request('/api/me');
    assert.equal(during.status, 503);
    assert.equal(await codeOf(during), 'ERR_SESSION_STORE_UNAVAILABLE');
    const takeover = await cluster.cli(replica, 'CLUSTER', 'FAILOVER', 'TAKEOVER');
    // (On a very slow machine the cluster may have promoted it by itself meanwhile.)
    if (takeover !== 'OK') assert.match(await cluster.cli(replica, 'ROLE'), /^master/, takeover);
    await cluster.waitForOk(keptKeys.session);
    assert.equal(await cluster.masterOf(keptKeys.session), replica);
    await cluster.cli(replica, 'CONFIG', 'SET', 'masterauth', '');
    const okMs = performance.now() - killedAt;

    // Both processes' clients find the promoted replica (topologyRefreshMs, default 500 ms).
    let listed: Awaited<ReturnType<typeof suite.other.listSessions>> | undefined;
    while (listed === undefined) {
      listed = await suite.other.listSessions(kept).catch((error: unknown) => {
        assert.ok(error instanceof CognitoJwtError, String(error));
        assert.equal(error.code, 'ERR_SESSION_STORE_UNAVAILABLE');
        return undefined;
      });
      assert.ok(performance.now() - killedAt < 30_000, 'the store answers again within 30 s');
      if (listed === undefined) await sleep(50);
    }
    const otherBackMs = performance.now() - killedAt;
    const answer = async (b: ScriptedBrowser) => {
      for (;;) {
        const response = await b.request('/api/me');
        if (response.status !== 503) return response;
        assert.ok(performance.now() - killedAt < 30_000, 'the app answers again within 30 s');
        await sleep(50);
      }
    };

    // The lost sign-in: the store forgot the session; the user signs in again (fails closed).
    const afterLost = await answer(lostBrowser);
    const appBackMs = performance.now() - killedAt;
    assert.equal(afterLost.status, 401);
    assert.equal(await codeOf(afterLost), 'ERR_SESSION_ENDED');
    // The lost sign-out: the session is back in the store, but its tokens are in the revocation list.
    assert.equal(listed.length, 1, 'the promoted replica brought the signed-out session back');
    await rejectsCode(suite.other.read(oldCookie), 'ERR_TOKEN_REVOKED');
    // (The app's own process also remembers the sign-out it made.)
    const resurrected = await keptBrowser.request('/api/me', {
      headers: { cookie: oldCookie.header('cookie') as string },
    });
    assert.equal(resurrected.status, 401);

    // The store works again on the promoted master: a new sign-in, read by the other process.
    const again = await signIn(lost);
    assert.equal((await again.request('/api/me')).status, 200);
    assert.equal((await suite.other.read(suite.asRequest(again))).claims.sub, lost);
    assert.equal((await suite.other.listSessions(lost)).length, 1);
    t.diagnostic(
      `master killed; replica promoted (TAKEOVER) and cluster_state:ok ${Math.round(okMs)} ms after the kill; the other process's store answered ${Math.round(otherBackMs)} ms after it, the app's ${Math.round(appBackMs)} ms`,
    );
  });
});
