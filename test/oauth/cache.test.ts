import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenEndpointClient } from '../../src/oauth/index.ts';
import { BASIC_CLIENT } from '../helpers/oidc-provider.ts';
import { countingFetch, manualClock, startScriptedServer, withProvider } from './fixtures.ts';

const SCOPES = ['orders/read'];

test('cache: 20 calls in a row make one request; scope order and duplicates do not matter', async () => {
  await withProvider({}, async (op) => {
    const counter = countingFetch();
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT, fetch: counter.fetch });
    const first = await client.clientCredentials({ scopes: ['orders/write', 'orders/read'] });
    for (let i = 0; i < 19; i++) {
      const again = await client.clientCredentials({
        scopes: ['orders/read', 'orders/write', 'orders/read'],
      });
      assert.equal(again.accessToken, first.accessToken);
    }
    assert.equal(counter.count('/oauth2/token'), 1);
    assert.equal(op.tokenRequests('client_credentials'), 1);
  });
});

test('cache: the token is renewed once the clock reaches the 60 s margin before exp, not before', async () => {
  await withProvider({}, async (op) => {
    const clock = manualClock();
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT, clock: clock.now });
    const first = await client.clientCredentials({ scopes: SCOPES });
    const exp = first.expiresAt.getTime();

    clock.set(exp - 60_001);
    assert.equal((await client.clientCredentials({ scopes: SCOPES })).accessToken, first.accessToken);
    assert.equal(op.tokenRequests('client_credentials'), 1);

    clock.set(exp - 60_000);
    const second = await client.clientCredentials({ scopes: SCOPES });
    assert.notEqual(second.accessToken, first.accessToken);
    assert.equal(op.tokenRequests('client_credentials'), 2);
    assert.equal((await client.clientCredentials({ scopes: SCOPES })).accessToken, second.accessToken);
    assert.equal(op.tokenRequests('client_credentials'), 2);
  });
});

test('cache: expiryMarginSeconds moves the renewal; the margin is capped at half the lifetime', async () => {
  await withProvider({}, async (op) => {
    const clock = manualClock();
    const client = new TokenEndpointClient({
      domain: op.origin,
      ...BASIC_CLIENT,
      clock: clock.now,
      expiryMarginSeconds: 300,
    });
    const first = await client.clientCredentials({ scopes: SCOPES });
    clock.set(first.expiresAt.getTime() - 300_001);
    await client.clientCredentials({ scopes: SCOPES });
    assert.equal(op.tokenRequests('client_credentials'), 1);
    clock.set(first.expiresAt.getTime() - 300_000);
    await client.clientCredentials({ scopes: SCOPES });
    assert.equal(op.tokenRequests('client_credentials'), 2);

    // A 60 s token with a 300 s margin would never be reused; it is kept for half its life.
    op.setAccessTokenTtl(60);
    const short = await client.clientCredentials({ scopes: SCOPES, forceRenewal: true });
    assert.equal(op.tokenRequests('client_credentials'), 3);
    clock.set(short.expiresAt.getTime() - 30_001);
    assert.equal((await client.clientCredentials({ scopes: SCOPES })).accessToken, short.accessToken);
    assert.equal(op.tokenRequests('client_credentials'), 3);
    clock.set(short.expiresAt.getTime() - 29_999);
    await client.clientCredentials({ scopes: SCOPES });
    assert.equal(op.tokenRequests('client_credentials'), 4);
  });
});

test('cache: 100 concurrent callers share one request, on first use and again at renewal', async () => {
  await withProvider({}, async (op) => {
    const clock = manualClock();
    const counter = countingFetch();
    const client = new TokenEndpointClient({
      domain: op.origin,
      ...BASIC_CLIENT,
      clock: clock.now,
      fetch: counter.fetch,
    });
    const burst = () =>
      Promise.all(Array.from({ length: 100 }, () => client.clientCredentials({ scopes: SCOPES })));

    const first = await burst();
    assert.equal(new Set(first.map((token) => token.accessToken)).size, 1);
    assert.equal(counter.count('/oauth2/token'), 1);
    assert.equal(op.tokenRequests('client_credentials'), 1);

    clock.set(first[0]!.expiresAt.getTime() - 59_000);
    const second = await burst();
    assert.equal(new Set(second.map((token) => token.accessToken)).size, 1);
    assert.notEqual(second[0]!.accessToken, first[0]!.accessToken);
    assert.equal(counter.count('/oauth2/token'), 2);
    assert.equal(op.tokenRequests('client_credentials'), 2);
  });
});

test('cache: forceRenewal and clearCache fetch a new token; scope sets are cached apart', async () => {
  await withProvider({}, async (op) => {
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT });
    const read = await client.clientCredentials({ scopes: ['orders/read'] });
    const write = await client.clientCredentials({ scopes: ['orders/write'] });
    assert.notEqual(read.accessToken, write.accessToken);
    assert.equal(op.tokenRequests('client_credentials'), 2);
    const forced = await client.clientCredentials({ scopes: ['orders/read'], forceRenewal: true });
    assert.notEqual(forced.accessToken, read.accessToken);
    assert.equal(op.tokenRequests('client_credentials'), 3);
    client.clearCache();
    await client.clientCredentials({ scopes: ['orders/write'] });
    assert.equal(op.tokenRequests('client_credentials'), 4);
  });
});

test('cache: a failure is shared by concurrent callers but not cached; opaque tokens expire by expires_in', async () => {
  let answerWithError = true;
  const server = await startScriptedServer((_request, response) => {
    if (answerWithError) {
      response.writeHead(503, { 'content-type': 'text/html' });
      response.end('<html>Service Unavailable</html>');
    } else {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ access_token: 'opaque-access-token', token_type: 'Bearer', expires_in: 900 }),
      );
    }
  });
  try {
    const clock = manualClock();
    const client = new TokenEndpointClient({ domain: server.origin, ...BASIC_CLIENT, clock: clock.now });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => client.clientCredentials({ scopes: SCOPES })),
    );
    assert.equal(server.requests, 1);
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.equal((result as PromiseRejectedResult).reason.code, 'ERR_OAUTH_SERVER_ERROR');
      assert.equal((result as PromiseRejectedResult).reason.httpStatus, 503);
    }

    answerWithError = false;
    const token = await client.clientCredentials({ scopes: SCOPES });
    assert.equal(server.requests, 2);
    assert.equal(token.expiresAt.getTime(), clock.now() + 900_000);
    clock.advance(900_000 - 60_001);
    await client.clientCredentials({ scopes: SCOPES });
    assert.equal(server.requests, 2);
    clock.advance(1);
    await client.clientCredentials({ scopes: SCOPES });
    assert.equal(server.requests, 3);
  } finally {
    await server.close();
  }
});
