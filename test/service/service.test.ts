// The service's own HTTP contracts, spoken the way each proxy's documentation describes them:
// nginx auth_request, Traefik forwardAuth, Caddy forward_auth, Envoy ext_authz (HTTP service).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientMessage } from '../../src/errors.ts';
import { createMetrics } from '../../src/service/metrics.ts';
import { generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';
import { startFaultServer } from '../helpers/fault-server.ts';
import { startRedisServer } from '../helpers/redis-server.ts';
import { CLIENT, nginxAsk, POOL, rawRequest, startHarness } from './harness.ts';

test('Envoy ext_authz: the original path after the prefix, the original method; only 200 allows', async (t) => {
  const harness = await startHarness(t);
  const writer = harness.access({ scope: 'orders/write', sub: 'w-1' });
  const reader = harness.access({ scope: 'orders/read' });
  // Envoy sends the original method and path (prefixed), Host and Authorization, no body.
  let answer = await rawRequest(harness.service.url, 'POST', '/envoy/orders/9?confirm=1', {
    host: 'shop.example.com',
    authorization: `Bearer ${writer}`,
    'content-length': '0',
  });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['x-auth-request-sub'], 'w-1');
  answer = await rawRequest(harness.service.url, 'POST', '/envoy/orders/9', {
    authorization: `Bearer ${reader}`,
  });
  assert.equal(answer.status, 403);
  assert.equal(
    answer.headers['www-authenticate'],
    `Bearer error="insufficient_scope", error_description="${clientMessage('ERR_SCOPE_MISSING')}"`,
  );
  // GET on /orders/* is not restricted to writers: the catch-all "authenticated" rule applies.
  answer = await rawRequest(harness.service.url, 'GET', '/envoy/orders/9', {
    authorization: `Bearer ${reader}`,
  });
  assert.equal(answer.status, 200);
  answer = await rawRequest(harness.service.url, 'GET', '/envoy/public/%2e%2e/admin', {
    authorization: `Bearer ${reader}`,
  });
  assert.equal(answer.status, 403, 'the Envoy path is normalised like every other');
});

test('Traefik forwardAuth and Caddy forward_auth: X-Forwarded-Method and -Uri; a client-sent X-Original-URI is ignored there', async (t) => {
  const harness = await startHarness(t);
  const token = harness.access();
  const forwarded = (method: string, uri: string, extra: Record<string, string> = {}) =>
    harness.request('/auth/forward', {
      headers: {
        'x-forwarded-method': method,
        'x-forwarded-uri': uri,
        'x-forwarded-host': 'app.example.com',
        'x-forwarded-proto': 'https',
        'x-forwarded-for': '203.0.113.9',
        authorization: `Bearer ${token}`,
        ...extra,
      },
    });
  assert.equal((await forwarded('GET', '/orders/1')).status, 200);
  assert.equal((await forwarded('GET', '/admin/users')).status, 403);
  // Traefik and Caddy copy the client's headers into the auth request: X-Original-URI is the client's here.
  assert.equal((await forwarded('GET', '/admin/users', { 'x-original-uri': '/public/x' })).status, 403);
  // And the nginx endpoint reads only its own headers.
  const viaNginx = await nginxAsk(harness, 'GET', '/admin/users', {
    authorization: `Bearer ${token}`,
    'x-forwarded-uri': '/public/x',
  });
  assert.equal(viaNginx.status, 403);
});

test('a proxy that sends no original URI gets a 500 (every proxy denies on it), not a guess', async (t) => {
  const harness = await startHarness(t);
  const answer = await harness.request('/auth/nginx', {
    headers: { authorization: `Bearer ${harness.access()}` },
  });
  assert.equal(answer.status, 500);
  assert.deepEqual(await answer.json(), {
    code: 'ERR_CONFIG_INVALID',
    message: clientMessage('ERR_CONFIG_INVALID'),
  });
  const decision = harness.logLines.find((line) => line.includes('"msg":"decision"'));
  assert.match(decision!, /x-original-method header; see docs\/service.md/);
});

test('refusals: 401 with a Bearer challenge, 403 insufficient_scope, client-safe text only, realm', async (t) => {
  const harness = await startHarness(t, { realm: 'shop' });
  let answer = await nginxAsk(harness, 'GET', '/orders/1');
  assert.equal(answer.status, 401);
  assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="shop"');
  answer = await nginxAsk(harness, 'GET', '/orders/1', {
    authorization: `Bearer ${harness.access({ clientId: 'other' })}`,
  });
  assert.equal(answer.status, 401);
  const body = await answer.json();
  assert.deepEqual(body, { code: 'ERR_CLIENT_MISMATCH', message: clientMessage('ERR_CLIENT_MISMATCH') });
  assert.ok(!answer.headers.get('www-authenticate')!.includes(CLIENT), 'the accepted client is not revealed');
  answer = await nginxAsk(harness, 'GET', '/admin', { authorization: `Bearer ${harness.access()}` });
  assert.equal(answer.status, 403);
  assert.match(answer.headers.get('www-authenticate')!, /^Bearer realm="shop", error="insufficient_scope"/);
  assert.ok(!(await answer.text()).includes('admins'), 'the required group is not revealed');
  // No rule matches: refused.
  const narrow = await startHarness(t, { routes: [{ path: '/only', require: 'authenticated' }] });
  answer = await nginxAsk(narrow, 'GET', '/other', { authorization: `Bearer ${narrow.access()}` });
  assert.equal(answer.status, 403);
  // A method that is not an upper-case token is refused rather than matched against no rule's method list.
  answer = await nginxAsk(harness, 'get', '/admin', {});
  assert.equal(answer.status, 403);
});

test('the token may come from a named cookie; Authorization wins; the claims header is opt-in', async (t) => {
  const harness = await startHarness(t, { token: { cookie: 'id_token' }, claimsHeader: true });
  const id = harness.id({ sub: 'cookie-user' });
  let answer = await nginxAsk(harness, 'GET', '/x', { cookie: `theme=dark; id_token=${id}; other=1` });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get('x-auth-request-sub'), 'cookie-user');
  assert.equal(answer.headers.get('x-auth-request-token-use'), 'id');
  assert.equal(answer.headers.get('x-auth-request-email'), 'cookie-user@example.com');
  const claims = JSON.parse(
    Buffer.from(answer.headers.get('x-auth-request-claims')!, 'base64url').toString(),
  );
  assert.equal(claims.sub, 'cookie-user');
  assert.equal(claims.aud, CLIENT);
  answer = await nginxAsk(harness, 'GET', '/x', {
    cookie: `id_token=${id}`,
    authorization: `Bearer ${harness.access({ sub: 'header-user' })}`,
  });
  assert.equal(answer.headers.get('x-auth-request-sub'), 'header-user');
  answer = await nginxAsk(harness, 'GET', '/x', { cookie: `other_token=${id}` });
  assert.equal(answer.status, 401);
});

test('anonymous routes never read the token: identity headers are present and empty', async (t) => {
  const harness = await startHarness(t);
  const answer = await nginxAsk(harness, 'GET', '/public/index.html', { authorization: 'Bearer garbage' });
  assert.equal(answer.status, 200);
  for (const name of ['user', 'sub', 'groups', 'scope', 'client-id', 'token-use', 'email']) {
    assert.equal(answer.headers.get(`x-auth-request-${name}`), '', name);
  }
});

test('keys unavailable: 503 on a protected route, /readyz 503, /healthz 200; ready once the keys load', async (t) => {
  const key = generateKeyPair();
  const fault = await startFaultServer({ keys: [key] });
  t.after(() => fault.close());
  fault.behave({ kind: 'status', status: 500 });
  const harness = await startHarness(t, {
    pools: [{ userPoolId: POOL, issuer: fault.issuer(POOL), clientId: [CLIENT], tokenUse: 'access' }],
    keys: { backoffMs: 10, maxBackoffMs: 10 },
  });
  const token = mintAccessToken({ key, issuer: fault.issuer(POOL), clientId: CLIENT });
  const answer = await nginxAsk(harness, 'GET', '/orders/1', { authorization: `Bearer ${token}` });
  assert.equal(answer.status, 503);
  assert.deepEqual(await answer.json(), {
    code: 'ERR_JWKS_FETCH_FAILED',
    message: clientMessage('ERR_JWKS_FETCH_FAILED'),
  });
  assert.equal((await harness.request('/healthz')).status, 200);
  const notReady = await harness.request('/readyz');
  assert.equal(notReady.status, 503);
  assert.deepEqual(((await notReady.json()) as { pools: unknown }).pools, [{ pool: POOL, keys: false }]);
  fault.behave({ kind: 'jwks' });
  let ready = false;
  for (let attempt = 0; attempt < 100 && !ready; attempt++) {
    ready = (await harness.request('/readyz')).status === 200;
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(ready, '/readyz turns 200 once the keys load');
  assert.equal(
    (await nginxAsk(harness, 'GET', '/orders/1', { authorization: `Bearer ${token}` })).status,
    200,
  );
});

test('one JSON log line per decision, with no token in it', async (t) => {
  const harness = await startHarness(t);
  const token = harness.access({ sub: 'log-user' });
  harness.logLines.length = 0;
  await nginxAsk(harness, 'GET', '/orders/1', { authorization: `Bearer ${token}` });
  await nginxAsk(harness, 'GET', '/admin', { authorization: `Bearer ${token}` });
  const otherSignature = harness.access().split('.')[2];
  const forged = `${token.split('.').slice(0, 2).join('.')}.${otherSignature}`;
  await nginxAsk(harness, 'GET', '/x', { authorization: `Bearer ${forged}` });
  const decisions = harness.logLines
    .map((line) => JSON.parse(line))
    .filter((line) => line.msg === 'decision');
  assert.equal(decisions.length, 3);
  assert.deepEqual(
    decisions.map((line) => [line.status, line.code, line.path, line.route]),
    [
      [200, 'OK', '/orders/1', 3],
      [403, 'ERR_GROUP_MISSING', '/admin', 1],
      [401, 'ERR_SIGNATURE_INVALID', '/x', 3],
    ],
  );
  assert.equal(decisions[0].sub, 'log-user');
  const signature = token.split('.')[2]!;
  for (const line of harness.logLines) {
    assert.ok(!line.includes(token.split('.')[1]!) && !line.includes(signature), 'no token part in the log');
  }
});

test('/metrics: decisions by outcome and code, latency, JWKS fetches, token-cache hits', async (t) => {
  const metrics = await createMetrics({ required: true });
  assert.ok(metrics);
  const harness = await startHarness(t, {}, { metrics });
  t.after(() => metrics.close());
  const token = harness.access();
  for (let i = 0; i < 3; i++)
    await nginxAsk(harness, 'GET', '/orders/1', { authorization: `Bearer ${token}` });
  await nginxAsk(harness, 'GET', '/admin', { authorization: `Bearer ${token}` });
  await nginxAsk(harness, 'GET', '/orders/1');
  const answer = await harness.request('/metrics');
  assert.equal(answer.status, 200);
  assert.match(answer.headers.get('content-type')!, /^text\/plain/);
  const text = await answer.text();
  assert.match(text, /cognito_jwt_decisions_total\{outcome="allow",code="OK",contract="nginx"\} 3/);
  assert.match(
    text,
    /cognito_jwt_decisions_total\{outcome="deny",code="ERR_GROUP_MISSING",contract="nginx"\} 1/,
  );
  assert.match(
    text,
    /cognito_jwt_decisions_total\{outcome="deny",code="ERR_TOKEN_MISSING",contract="nginx"\} 1/,
  );
  assert.match(text, /cognito_jwt_decision_duration_seconds_count\{outcome="allow"\} 3/);
  assert.match(text, /cognito_jwt_jwks_fetches_total\{result="success",reason="load"\} [1-9]/);
  // The first verification is a miss; the same token three more times comes from the cache.
  assert.match(text, /cognito_jwt_token_cache_lookups_total\{result="miss"\} 1\n/);
  assert.match(text, /cognito_jwt_token_cache_lookups_total\{result="hit"\} 3\n/);
});

test('close(): requests in flight finish, new connections are refused', async (t) => {
  const key = generateKeyPair();
  const fault = await startFaultServer({ keys: [key] });
  t.after(() => fault.close());
  fault.behave({ kind: 'jwks', delayMs: 400 });
  const harness = await startHarness(t, {
    pools: [{ userPoolId: POOL, issuer: fault.issuer(POOL), clientId: [CLIENT], tokenUse: 'access' }],
  });
  const token = mintAccessToken({ key, issuer: fault.issuer(POOL), clientId: CLIENT });
  const inFlight = rawRequest(harness.service.url, 'GET', '/auth/nginx', {
    'x-original-method': 'GET',
    'x-original-uri': '/orders/1',
    authorization: `Bearer ${token}`,
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const closing = harness.service.close();
  await assert.rejects(rawRequest(harness.service.url, 'GET', '/healthz'), /ECONNREFUSED/);
  assert.equal((await inFlight).status, 200, 'the request in flight was answered');
  await closing;
});

test('revocation list unavailable (Redis gone past maxStalenessMs): 503, and /readyz says so', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const harness = await startHarness(t, {
    revocation: { redis: { url: redis.url }, onUnavailable: 'reject', maxStalenessMs: 300, heartbeatMs: 50 },
  });
  const token = harness.access();
  const until = async (check: () => Promise<boolean>, what: string) => {
    for (let attempt = 0; attempt < 200; attempt++) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.fail(what);
  };
  await until(async () => (await harness.request('/readyz')).status === 200, 'ready with Redis up');
  assert.equal(
    (await nginxAsk(harness, 'GET', '/orders/1', { authorization: `Bearer ${token}` })).status,
    200,
  );
  await redis.kill();
  await until(
    async () =>
      (await nginxAsk(harness, 'GET', '/orders/1', { authorization: `Bearer ${token}` })).status === 503,
    '503 once the mirror is stale',
  );
  const answer = await nginxAsk(harness, 'GET', '/orders/1', { authorization: `Bearer ${token}` });
  assert.deepEqual(await answer.json(), {
    code: 'ERR_REVOCATION_UNAVAILABLE',
    message: clientMessage('ERR_REVOCATION_UNAVAILABLE'),
  });
  const readiness = await harness.request('/readyz');
  assert.equal(readiness.status, 503);
  assert.equal(((await readiness.json()) as { revocation: string }).revocation, 'stale');
  // Anonymous routes do not depend on the list.
  assert.equal((await nginxAsk(harness, 'GET', '/public/x')).status, 200);
});

test('ingress-nginx auth-url: X-Original-URL ($scheme://$http_host$request_uri) and X-Original-Method', async (t) => {
  const harness = await startHarness(t);
  const ask = (url: string, extra: Record<string, string> = {}) =>
    harness.request('/auth/ingress-nginx', {
      headers: {
        'x-original-method': 'GET',
        'x-original-url': url,
        authorization: `Bearer ${harness.access()}`,
        ...extra,
      },
    });
  assert.equal((await ask('https://shop.example.com/orders/1?x=1')).status, 200);
  assert.equal((await ask('https://shop.example.com/public/%2e%2e/admin')).status, 403);
  // A client's own X-Original-URI means nothing on this endpoint.
  assert.equal((await ask('https://shop.example.com/admin', { 'x-original-uri': '/public/x' })).status, 403);
  // A Host that would move the split between host and path is refused.
  assert.equal((await ask('https://evil?/admin')).status, 500);
  assert.equal((await ask('/orders/1')).status, 500);
});
