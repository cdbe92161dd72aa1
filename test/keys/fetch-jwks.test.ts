import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CognitoJwtError } from '../../src/errors.ts';
import { type FetchJwksOptions, fetchJwks, JwksFetchError } from '../../src/keys/fetch-jwks.ts';
import { buildJwks, generateKeyPair } from '../../src/testing/index.ts';
import { type FaultServer, startFaultServer } from '../helpers/fault-server.ts';

const key = generateKeyPair();
const MiB = 1024 * 1024;
const options: FetchJwksOptions = { fetch, timeoutMs: 5_000, maxBytes: MiB };
let server: FaultServer;
let uri: string;

before(async () => {
  server = await startFaultServer({ keys: [key] });
  uri = server.jwksUri('local_pool');
});
after(() => server.close());

async function failure(promise: Promise<unknown>): Promise<CognitoJwtError> {
  const error = await promise.then(
    () => assert.fail('expected the fetch to fail'),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof CognitoJwtError, `expected a CognitoJwtError, got ${error}`);
  return error;
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

describe('fetchJwks', () => {
  test('reads a JWKS and the Cache-Control max-age', async () => {
    server.behaveOnce({ kind: 'jwks', headers: { 'cache-control': 'public, max-age=300, must-revalidate' } });
    const { body, maxAgeSeconds } = await fetchJwks(uri, options);
    assert.deepEqual(body, buildJwks(key));
    assert.equal(maxAgeSeconds, 300);
  });

  test('ignores s-maxage and a missing max-age', async () => {
    server.behaveOnce({ kind: 'jwks', headers: { 'cache-control': 's-maxage=99, no-cache' } });
    assert.equal((await fetchJwks(uri, options)).maxAgeSeconds, undefined);
  });

  test('accepts application/jwk-set+json and a missing content type', async () => {
    const text = JSON.stringify(buildJwks(key));
    server.behaveOnce(
      { kind: 'body', body: text, contentType: 'application/jwk-set+json; charset=utf-8' },
      { kind: 'body', body: text, contentType: null },
    );
    assert.deepEqual((await fetchJwks(uri, options)).body, buildJwks(key));
    assert.deepEqual((await fetchJwks(uri, options)).body, buildJwks(key));
  });

  test('a server that never answers: timeout error within the configured time', async () => {
    server.behaveOnce({ kind: 'hang' });
    const before = server.requestCount;
    const { value: error, ms } = await timed(() => failure(fetchJwks(uri, { ...options, timeoutMs: 400 })));
    assert.ok(error instanceof JwksFetchError, 'a JwksFetchError');
    assert.equal(error.code, 'ERR_JWKS_FETCH_FAILED');
    assert.equal(error.status, 503);
    assert.match(error.message, /no complete answer within 400 ms/);
    assert.ok(ms >= 390 && ms < 400 + 1_500, `timed out after ${ms} ms`);
    assert.equal(server.requestCount - before, 1);
  });

  test('a body dripped one byte at a time: timeout, even though bytes keep coming', async () => {
    server.behaveOnce({ kind: 'drip', body: JSON.stringify(buildJwks(key)), intervalMs: 20 });
    const sentBefore = server.bytesSent;
    const { value: error, ms } = await timed(() => failure(fetchJwks(uri, { ...options, timeoutMs: 500 })));
    assert.equal(error.code, 'ERR_JWKS_FETCH_FAILED');
    assert.match(error.message, /no complete answer within 500 ms/);
    assert.ok(ms >= 490 && ms < 500 + 1_500, `timed out after ${ms} ms`);
    const dripped = server.bytesSent - sentBefore;
    assert.ok(dripped > 3 && dripped < 100, `${dripped} bytes dripped before the deadline`);
  });

  for (const status of [500, 503, 404, 401, 429]) {
    test(`HTTP ${status}: a fetch error carrying the status`, async () => {
      server.behaveOnce({ kind: 'status', status });
      const error = await failure(fetchJwks(uri, options));
      assert.ok(error instanceof JwksFetchError, 'a JwksFetchError');
      assert.equal(error.code, 'ERR_JWKS_FETCH_FAILED');
      assert.equal(error.httpStatus, status);
      assert.match(error.message, new RegExp(`HTTP ${status}`));
    });
  }

  test('an HTML page (a captive portal, an error page): refused by content type', async () => {
    server.behaveOnce({
      kind: 'body',
      body: '<html><body>Sign in to the Wi-Fi</body></html>',
      contentType: 'text/html',
    });
    const error = await failure(fetchJwks(uri, options));
    assert.equal(error.code, 'ERR_JWKS_INVALID');
    assert.match(error.message, /content type "text\/html", expected application\/json/);
  });

  test('an HTML body labelled application/json: invalid JSON', async () => {
    server.behaveOnce({ kind: 'body', body: '<html>oops</html>', contentType: 'application/json' });
    const error = await failure(fetchJwks(uri, options));
    assert.equal(error.code, 'ERR_JWKS_INVALID');
    assert.match(error.message, /not valid JSON/);
  });

  test('invalid JSON, an empty body and invalid UTF-8: ERR_JWKS_INVALID', async () => {
    const badUtf8 = Buffer.concat([Buffer.from('{"keys": "'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    for (const body of ['{"keys": [', '', badUtf8]) {
      server.behaveOnce({ kind: 'body', body, contentType: 'application/json' });
      const error = await failure(fetchJwks(uri, options));
      assert.equal(error.code, 'ERR_JWKS_INVALID', `body ${JSON.stringify(body)}`);
    }
  });

  test('a redirect to another host is refused and the other host sees no request', async () => {
    const elsewhere = await startFaultServer({ keys: [generateKeyPair()], host: '127.0.0.2' });
    try {
      for (const status of [301, 302, 307, 308]) {
        server.behaveOnce({ kind: 'redirect', status, location: elsewhere.jwksUri('local_pool') });
        const error = await failure(fetchJwks(uri, options));
        assert.ok(error instanceof JwksFetchError, 'a JwksFetchError');
        assert.equal(error.code, 'ERR_JWKS_FETCH_FAILED');
        assert.equal(error.httpStatus, status);
        assert.match(error.message, /redirects are refused/);
      }
      assert.equal(elsewhere.requestCount, 0);
    } finally {
      await elsewhere.close();
    }
  });

  test('a redirect to the same host is refused too', async () => {
    server.behaveOnce({ kind: 'redirect', location: '/other/.well-known/jwks.json' });
    const before = server.requestCount;
    const error = await failure(fetchJwks(uri, options));
    assert.match(error.message, /redirects are refused \(HTTP 302\)/);
    assert.equal(server.requestCount - before, 1);
  });

  test('the connection reset mid-body: a fetch error, and the next fetch works', async () => {
    server.behaveOnce({ kind: 'reset', afterBytes: 100 });
    const error = await failure(fetchJwks(uri, options));
    assert.ok(error instanceof JwksFetchError, 'a JwksFetchError');
    assert.equal(error.code, 'ERR_JWKS_FETCH_FAILED');
    assert.match(error.message, /reading the body failed/);
    assert.deepEqual((await fetchJwks(uri, options)).body, buildJwks(key));
  });

  test('a declared content-length over the cap is refused before the body is read', async () => {
    server.behaveOnce({ kind: 'huge', bytes: 8 * MiB, declareLength: true });
    const error = await failure(fetchJwks(uri, options));
    assert.match(error.message, /the body is 8388608 bytes, larger than the 1048576 bytes allowed/);
  });

  test('a JWKS just under the cap is read; one byte over is refused', async () => {
    const text = JSON.stringify(buildJwks(key));
    server.behaveOnce({ kind: 'body', body: text, contentType: 'application/json' });
    assert.deepEqual((await fetchJwks(uri, { ...options, maxBytes: text.length })).body, buildJwks(key));
    server.behaveOnce({ kind: 'body', body: text, contentType: 'application/json' });
    const error = await failure(fetchJwks(uri, { ...options, maxBytes: text.length - 1 }));
    assert.equal(error.code, 'ERR_JWKS_FETCH_FAILED');
  });

  test('a 64 MiB body is abandoned at the 1 MiB cap without being buffered', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const sample = () => {
      const usage = process.memoryUsage();
      return { rss: usage.rss, buffers: usage.heapUsed + usage.arrayBuffers };
    };
    server.behaveOnce({ kind: 'huge', bytes: 64 * MiB });
    gc();
    const start = sample();
    const peak = { ...start };
    const sampler = setInterval(() => {
      const now = sample();
      peak.rss = Math.max(peak.rss, now.rss);
      peak.buffers = Math.max(peak.buffers, now.buffers);
    }, 2);
    const sentBefore = server.bytesSent;
    const { value: error, ms } = await timed(() => failure(fetchJwks(uri, options)));
    clearInterval(sampler);
    const end = sample();
    peak.rss = Math.max(peak.rss, end.rss);
    peak.buffers = Math.max(peak.buffers, end.buffers);
    const sent = server.bytesSent - sentBefore;
    const growth = { rss: (peak.rss - start.rss) / MiB, buffers: (peak.buffers - start.buffers) / MiB };
    console.log(
      `64 MiB body: refused after ${ms.toFixed(0)} ms; server wrote ${(sent / MiB).toFixed(1)} MiB; ` +
        `peak growth rss ${growth.rss.toFixed(1)} MiB, heap+buffers ${growth.buffers.toFixed(1)} MiB`,
    );
    assert.equal(error.code, 'ERR_JWKS_FETCH_FAILED');
    assert.match(error.message, /larger than the 1048576 bytes allowed/);
    assert.ok(growth.buffers < 6, `heap + array buffers grew by ${growth.buffers} MiB`);
    assert.ok(growth.rss < 16, `rss grew by ${growth.rss} MiB`);
    assert.ok(sent < 16 * MiB, `the server could write ${sent} bytes before the client hung up`);
  });

  test('a fetch that throws (network error) is a fetch error with its cause', async () => {
    const refused = await startFaultServer({ keys: [key] });
    const deadUri = refused.jwksUri('local_pool');
    await refused.close();
    const error = await failure(fetchJwks(deadUri, options));
    assert.ok(error instanceof JwksFetchError, 'a JwksFetchError');
    assert.match(error.message, /the request failed/);
    assert.ok(error.cause instanceof Error, 'the network error is the cause');
  });
});
