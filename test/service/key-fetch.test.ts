// The service verifies synchronously when a token's key is loaded and falls back to verify() only
// where verify() would fetch: a rotated-in key (unknown kid) is fetched once, then used in place.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';
import { CLIENT, nginxAsk, POOL, startHarness } from './harness.ts';

async function untilReady(ready: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !ready(); attempt++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(ready(), 'the service loaded its keys');
}

test('a token signed with a rotated-in key: one JWKS fetch, then verified without another', async (t) => {
  const harness = await startHarness(t);
  await untilReady(harness.service.ready);
  const fetchesAtStart = harness.jwks.requestCount;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  // The loaded key: answered without touching the JWKS server.
  assert.equal((await nginxAsk(harness, 'GET', '/orders/1', bearer(harness.access()))).status, 200);
  assert.equal(harness.jwks.requestCount, fetchesAtStart);

  // A new key published after start-up: the first token signed with it makes the one fetch.
  const rotated = generateKeyPair();
  harness.jwks.setKeys([harness.key, rotated]);
  const mint = (sub: string) =>
    mintAccessToken({ key: rotated, issuer: harness.jwks.issuer(POOL), clientId: CLIENT, sub });
  const first = await nginxAsk(harness, 'GET', '/orders/1', bearer(mint('rotated-1')));
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('x-auth-request-sub'), 'rotated-1');
  assert.equal(harness.jwks.requestCount, fetchesAtStart + 1);

  // Another token of that key: the key is loaded now, so no fetch.
  const second = await nginxAsk(harness, 'GET', '/orders/1', bearer(mint('rotated-2')));
  assert.equal(second.status, 200);
  assert.equal(second.headers.get('x-auth-request-sub'), 'rotated-2');
  assert.equal(harness.jwks.requestCount, fetchesAtStart + 1);

  // A key the pool never published: refused with 401 by verify()'s own rule (a kid-miss fetch was
  // made moments ago, so it is not repeated), not by verifySync()'s ERR_KEY_NOT_FOUND.
  const stranger = mintAccessToken({
    key: generateKeyPair(),
    issuer: harness.jwks.issuer(POOL),
    clientId: CLIENT,
  });
  const refused = await nginxAsk(harness, 'GET', '/orders/1', bearer(stranger));
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer /);
  assert.match(harness.logLines.at(-1) ?? '', /"status":401,"outcome":"deny","code":"ERR_KID_COOLDOWN"/);
  assert.equal(harness.jwks.requestCount, fetchesAtStart + 1);
});
