// The listener as an operator runs it: limits for slow and greedy clients, a separate admin
// listener, and 404s that name nothing.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { checkServiceConfig } from '../../src/service/config.ts';
import { throwsCode } from '../helpers/assert-error.ts';
import { nginxAsk, startHarness } from './harness.ts';

/** A raw connection that records what it receives and when it closes. */
function rawSocket(url: string) {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    received += chunk;
  });
  socket.on('error', () => {}); // a reset is one of the ways a refused connection ends
  const closed = new Promise<number>((resolve) => {
    const opened = performance.now();
    socket.once('close', () => resolve(performance.now() - opened));
  });
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, connected, closed, received: () => received };
}

const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms),
    ),
  ]);

test('a client that dribbles its headers is answered 408 and cut off after listen.headersTimeoutMs', async (t) => {
  const harness = await startHarness(t, {
    listen: { host: '127.0.0.1', port: 0, headersTimeoutMs: 300, requestTimeoutMs: 1_000 },
  });
  assert.equal(harness.service.server.headersTimeout, 300);
  assert.equal(harness.service.server.requestTimeout, 1_000);
  const slow = rawSocket(harness.service.url);
  await slow.connected;
  slow.socket.write('GET /auth/nginx HTTP/1.1\r\nHost: x\r\n');
  // One header line every 100 ms: never done, always active.
  const drip = setInterval(() => !slow.socket.destroyed && slow.socket.write('X-Slow: 1\r\n'), 100);
  t.after(() => clearInterval(drip));
  const ms = await within(slow.closed, 3_000, 'the slow client was not cut off');
  clearInterval(drip);
  assert.ok(ms >= 250, `cut off after ${ms} ms, before the limit`);
  assert.match(slow.received(), /^HTTP\/1\.1 408 /);
  // Others are served meanwhile and after.
  assert.equal((await harness.request('/healthz')).status, 200);
});

test('a client that sends its headers and dribbles the body is cut off after listen.requestTimeoutMs; others are served', async (t) => {
  const harness = await startHarness(t, {
    listen: { host: '127.0.0.1', port: 0, headersTimeoutMs: 200, requestTimeoutMs: 1_000 },
  });
  const slow = rawSocket(harness.service.url);
  await slow.connected;
  // Complete headers at once (the headers limit is met), then a body far longer than it will send.
  slow.socket.write(
    'POST /auth/nginx HTTP/1.1\r\nHost: x\r\nX-Original-Method: GET\r\nX-Original-URI: /public/page\r\n' +
      'Content-Length: 100000\r\n\r\n',
  );
  // One byte every 100 ms: never done, always active, so no idle timeout ends it.
  const drip = setInterval(() => !slow.socket.destroyed && slow.socket.write('x'), 100);
  t.after(() => clearInterval(drip));
  // Others are served while it dribbles.
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal(slow.socket.destroyed, false, 'still open well within the limit');
  assert.equal((await nginxAsk(harness, 'GET', '/public/page')).status, 200);
  const ms = await within(slow.closed, 10_000, 'the slow body was not cut off');
  clearInterval(drip);
  // Past the headers limit: the request limit cut it off.
  assert.ok(ms >= 900, `cut off after ${ms} ms, before listen.requestTimeoutMs`);
  // The decision needs the headers only (nginx sends no body), so Node has answered it already;
  // the unread body still holds the connection, and at the limit Node answers 408 and closes it.
  const received = slow.received();
  assert.match(
    received,
    /^(HTTP\/1\.1 200 OK\r\n(?:(?!HTTP\/1\.1 ).)*)?(HTTP\/1\.1 408 Request Timeout\r\n.*)?$/s,
    JSON.stringify(received),
  );
  assert.equal((await harness.request('/healthz')).status, 200);
});

test('listen.maxConnections: a connection beyond the cap is closed at once; those within it are served', async (t) => {
  const harness = await startHarness(t, { listen: { host: '127.0.0.1', port: 0, maxConnections: 2 } });
  assert.equal(harness.service.server.maxConnections, 2);
  const held = [rawSocket(harness.service.url), rawSocket(harness.service.url)];
  t.after(() => {
    for (const each of held) each.socket.destroy();
  });
  await Promise.all(held.map((each) => each.connected));
  // Let the server accept both before the third arrives.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const third = rawSocket(harness.service.url);
  third.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await within(third.closed, 2_000, 'the connection over the cap stayed open');
  assert.equal(third.received(), '', 'no answer over the cap');
  const first = held[0]!;
  first.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  for (let i = 0; i < 100 && !first.received().includes('"ok"'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.match(first.received(), /^HTTP\/1\.1 200 /);
  // Now, not after the service's close: a graceful close waits up to shutdownTimeoutMs for a
  // connection that never sent a request.
  for (const each of held) each.socket.destroy();
});

test('listen limits are checked: defaults are set, headers may not outlast the request, no zero (off)', () => {
  const base = { pools: [{ userPoolId: 'eu-west-1_AbC123', clientId: ['app'], tokenUse: 'access' }] };
  const settings = checkServiceConfig(base, { baseDir: '.', env: {} });
  assert.deepEqual(
    [settings.headersTimeoutMs, settings.requestTimeoutMs, settings.maxConnections, settings.admin],
    [10_000, 30_000, 4096, undefined],
  );
  const bad: [unknown, RegExp][] = [
    [{ headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 }, /must not exceed listen.requestTimeoutMs/],
    [{ requestTimeoutMs: 0 }, /listen.requestTimeoutMs must be between 1/],
    [{ maxConnections: 0 }, /listen.maxConnections must be between 1/],
    [{ headersTimeout: 1 }, /unknown option "headersTimeout"; did you mean "headersTimeoutMs"/],
  ];
  for (const [listen, message] of bad) {
    throwsCode(
      () => checkServiceConfig({ ...base, listen }, { baseDir: '.', env: {} }),
      'ERR_CONFIG_INVALID',
      {
        message,
      },
    );
  }
  for (const [admin, message] of [
    [{ port: 9181 }, /"port" does not belong here: set it as "admin": \{ "listen"/],
    [{}, /admin needs "listen"/],
    [{ listen: { port: 9180 } }, /must differ from listen.port/],
    [{ listen: { port: 9181, hots: 'x' } }, /did you mean "host"/],
  ] as [unknown, RegExp][]) {
    throwsCode(
      () => checkServiceConfig({ ...base, admin }, { baseDir: '.', env: {} }),
      'ERR_CONFIG_INVALID',
      {
        message,
      },
    );
  }
});

test('admin.listen: /healthz, /readyz and /metrics move there; the auth port answers auth requests only; 404s name nothing', async (t) => {
  const harness = await startHarness(t, {
    admin: { listen: { host: '127.0.0.1', port: 0 } },
    metrics: true,
  });
  const adminUrl = harness.service.adminUrl;
  assert.ok(adminUrl && adminUrl !== harness.service.url);
  for (const path of ['/healthz', '/readyz', '/metrics', '/', '/auth', '/nope']) {
    const answer = await harness.request(path);
    assert.equal(answer.status, 404, path);
    assert.deepEqual(await answer.json(), { code: 'ERR_NOT_FOUND', message: 'not found' }, path);
  }
  assert.equal((await fetch(`${adminUrl}/healthz`)).status, 200);
  let ready = 0;
  for (let i = 0; i < 200 && ready !== 200; i++) {
    ready = (await fetch(`${adminUrl}/readyz`)).status;
    if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(ready, 200);
  // Auth requests on the auth port; metrics counts them on the admin port.
  assert.equal(
    (await nginxAsk(harness, 'GET', '/x', { authorization: `Bearer ${harness.access()}` })).status,
    200,
  );
  const metrics = await fetch(`${adminUrl}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(
    await metrics.text(),
    /cognito_jwt_decisions_total\{outcome="allow",code="OK",contract="nginx"\} 1/,
  );
  // The admin port answers no auth request.
  const viaAdmin = await fetch(`${adminUrl}/auth/nginx`, {
    headers: { 'x-original-method': 'GET', 'x-original-uri': '/x' },
  });
  assert.equal(viaAdmin.status, 404);
  assert.deepEqual(await viaAdmin.json(), { code: 'ERR_NOT_FOUND', message: 'not found' });
});

test('without an admin listener a 404 also names no endpoint, and its code starts with ERR_', async (t) => {
  const harness = await startHarness(t);
  const answer = await harness.request('/auth');
  assert.equal(answer.status, 404);
  const text = await answer.text();
  assert.deepEqual(JSON.parse(text), { code: 'ERR_NOT_FOUND', message: 'not found' });
  assert.doesNotMatch(text, /\/auth|envoy|nginx/);
  assert.equal((await harness.request('/healthz')).status, 200);
});
