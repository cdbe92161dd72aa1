/**
 * A stranger cannot lock the load balancer door (issue 20): an attacker streams forged
 * x-amzn-oidc-data tokens with fresh made-up kids at 10 and at 100 per second, against a real key
 * endpoint on loopback, while real users arrive with a kid the verifier does not hold yet (at cold
 * start, and right after a rotation). The real kid is served within one refill interval plus one
 * fetch, and the endpoint is asked at most at the configured rate. Real time, a few seconds a case.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { AlbVerifier } from '../../src/alb/index.ts';
import {
  type AlbTestKey,
  DEFAULT_TEST_ALB_ARN,
  generateAlbKeyPair,
  mintAlbToken,
  startAlbKeyServer,
} from '../../src/testing/index.ts';

const FETCHES_PER_SECOND = 1;
const REFILL_MS = 1_000 / FETCHES_PER_SECOND;
/** The attack runs this long before real users come: the bucket is empty and 32 made-up kids wait. */
const WARM_UP_MS = 1_100;
/** Real users send requests with the new kid this often (20 per second, a quiet service). */
const REAL_EVERY_MS = 50;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const attackPerSecond of [10, 100]) {
  for (const scenario of ['cold start', 'rotation'] as const) {
    test(`${attackPerSecond} made-up kids per second: a real new kid at ${scenario} is served within ${REFILL_MS} ms plus one fetch`, async () => {
      const old = generateAlbKeyPair();
      const fresh = generateAlbKeyPair();
      const server = await startAlbKeyServer({ keys: scenario === 'rotation' ? [old] : [fresh] });
      try {
        const began = performance.now();
        const verifier = new AlbVerifier(
          { albArn: DEFAULT_TEST_ALB_ARN, issuer: null, clientId: null, keysUrl: server.keysUrl },
          { fetchesPerSecond: FETCHES_PER_SECOND, fetchBurst: 1, cooldownMs: 30_000 },
        );
        if (scenario === 'rotation') {
          await verifier.verify(mintAlbToken({ key: old })); // the key in use before the rotation
          server.setKeys([old, fresh]); // AWS publishes the new key; the load balancer signs with it
        }

        // The attacker: fresh made-up kids at a steady rate, never awaited one by one.
        const forged: Promise<unknown>[] = [];
        const codes = new Set<string>();
        let attacking = true;
        const attacker = (async () => {
          const start = performance.now();
          let sent = 0;
          while (attacking) {
            const due = Math.floor(((performance.now() - start) * attackPerSecond) / 1000);
            for (; sent < due; sent++) {
              const key: AlbTestKey = { ...fresh, kid: randomUUID() };
              forged.push(
                verifier.verify(mintAlbToken({ key })).then(
                  () => assert.fail('a made-up kid was accepted'),
                  (error: { code: string }) => codes.add(error.code),
                ),
              );
            }
            await sleep(5);
          }
        })();
        await sleep(WARM_UP_MS);

        // Real users: a request with the new kid every 50 ms until one is verified.
        const firstAt = performance.now();
        let servedAt: number | undefined;
        const real: Promise<unknown>[] = [];
        while (servedAt === undefined && performance.now() - firstAt < 3 * REFILL_MS) {
          real.push(
            verifier.verify(mintAlbToken({ key: fresh })).then(
              () => {
                servedAt ??= performance.now();
              },
              () => {},
            ),
          );
          await sleep(REAL_EVERY_MS);
        }
        assert.ok(servedAt !== undefined, 'the real kid was never served');
        const waitedMs = servedAt - firstAt;
        assert.ok(waitedMs <= REFILL_MS + 500, `the real kid waited ${Math.round(waitedMs)} ms`);
        // Held from now on: verified without a request, whatever the attacker does.
        for (let i = 0; i < 5; i++) assert.ok(verifier.verifySync(mintAlbToken({ key: fresh })));
        if (scenario === 'rotation') assert.ok(verifier.verifySync(mintAlbToken({ key: old })));

        attacking = false;
        await attacker;
        await Promise.all([...forged, ...real]); // made-up kids left waiting are given up within 2 refills
        const elapsedMs = performance.now() - began;
        const requests = server.requestCount;
        // The configured rate, plus the one fetch the full bucket holds at the start.
        const limit = Math.floor((elapsedMs * FETCHES_PER_SECOND) / 1000) + 1;
        assert.ok(
          requests <= limit,
          `${requests} key requests in ${Math.round(elapsedMs)} ms (limit ${limit})`,
        );
        const realFetches = server.paths.filter((path) => path.endsWith(fresh.kid)).length;
        assert.equal(realFetches, 1, 'the real kid was fetched once');
        assert.ok(codes.has('ERR_KEY_NOT_FOUND') && codes.has('ERR_KID_COOLDOWN'), [...codes].join());
        console.log(
          `# ${attackPerSecond}/s, ${scenario}: real kid served after ${Math.round(waitedMs)} ms; ` +
            `${forged.length} forged tokens, ${requests} key requests in ${Math.round(elapsedMs)} ms`,
        );
      } finally {
        await server.close();
      }
    });
  }
}
