import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CognitoJwtError, CognitoVerifier } from '../../src/index.ts';
import { httpsFetch } from '../../src/platform/https-fetch.ts';
import { generateKeyPair, mintAccessToken, startJwksServer } from '../../src/testing/index.ts';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

const routes: Record<string, Handler> = {
  '/json': (_request, _body, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
    response.end('{"keys":[]}');
  },
  '/missing': (_request, _body, response) => {
    response.writeHead(404, 'Not Here', { 'content-type': 'text/plain' });
    response.end('no');
  },
  '/redirect': (_request, _body, response) => {
    response.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' });
    response.end();
  },
  '/cookies': (_request, _body, response) => {
    response.setHeader('set-cookie', ['a=1', 'b=2']);
    response.end('ok');
  },
  '/echo': (request, body, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ method: request.method, headers: request.headers, body }));
  },
  '/hang': () => {},
  '/half': (_request, _body, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.write('{"keys":');
  },
};

let server: Server;
let origin: string;
before(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => (routes[request.url ?? ''] ?? routes['/missing']!)(request, body, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function readAll(body: unknown): Promise<string> {
  let text = '';
  for await (const chunk of body as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString('utf8');
  return text;
}

describe('httpsFetch', () => {
  test('answers like fetch: status, headers, and the body as text, JSON or bytes', async () => {
    const response = await httpsFetch(`${origin}/json`);
    assert.equal(response.status, 200);
    assert.equal(response.ok, true);
    assert.equal(response.url, `${origin}/json`);
    assert.equal(response.headers.get('Content-Type'), 'application/json');
    assert.equal(response.headers.get('x-absent'), null);
    assert.equal(response.headers.has('cache-control'), true);
    assert.deepEqual(await response.json(), { keys: [] });
    assert.equal(await (await httpsFetch(new URL(`${origin}/json`))).text(), '{"keys":[]}');
    const bytes = await (await httpsFetch(`${origin}/json`)).arrayBuffer();
    assert.equal(Buffer.from(bytes).toString(), '{"keys":[]}');
  });

  test('the body is an async iterable of bytes, as fetchJwks reads it', async () => {
    const response = await httpsFetch(`${origin}/json`);
    assert.equal(await readAll(response.body), '{"keys":[]}');
  });

  test('an error status resolves (ok false) and repeated headers are joined', async () => {
    const missing = await httpsFetch(`${origin}/missing`);
    assert.equal(missing.status, 404);
    assert.equal(missing.ok, false);
    assert.equal(missing.statusText, 'Not Here');
    await missing.text();
    const cookies = await httpsFetch(`${origin}/cookies`);
    assert.equal(cookies.headers.get('set-cookie'), 'a=1, b=2');
    await cookies.text();
  });

  test('never follows a redirect; redirect: "error" rejects it', async () => {
    for (const redirect of [undefined, 'manual', 'follow'] as const) {
      const response = await httpsFetch(`${origin}/redirect`, redirect ? { redirect } : {});
      assert.equal(response.status, 302);
      assert.equal(response.headers.get('location'), 'http://127.0.0.1:1/elsewhere');
      await response.text();
    }
    await assert.rejects(httpsFetch(`${origin}/redirect`, { redirect: 'error' }), TypeError);
  });

  test('sends the method, headers (object, pairs or Headers) and a string or form body', async () => {
    const form = await httpsFetch(`${origin}/echo`, {
      method: 'POST',
      headers: { 'X-One': '1' },
      body: new URLSearchParams({ grant_type: 'refresh_token', token: 'a b' }),
    });
    const sent = (await form.json()) as { method: string; headers: Record<string, string>; body: string };
    assert.equal(sent.method, 'POST');
    assert.equal(sent.headers['x-one'], '1');
    assert.equal(sent.headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8');
    assert.equal(sent.body, 'grant_type=refresh_token&token=a+b');

    const pairs = await httpsFetch(`${origin}/echo`, {
      method: 'PUT',
      headers: [['X-Two', '2']],
      body: 'plain',
    });
    const echoed = (await pairs.json()) as { headers: Record<string, string>; body: string };
    assert.equal(echoed.headers['x-two'], '2');
    assert.equal(echoed.body, 'plain');

    const headers = new Headers({ 'x-three': '3' });
    const viaHeaders = (await (await httpsFetch(`${origin}/echo`, { headers })).json()) as {
      headers: Record<string, string>;
    };
    assert.equal(viaHeaders.headers['x-three'], '3');

    await assert.rejects(
      httpsFetch(`${origin}/echo`, { method: 'POST', body: new Blob(['x']) }),
      /string, bytes or URLSearchParams/,
    );
  });

  test('an abort rejects with the signal reason: before, while waiting, while reading', async () => {
    const reason = new Error('stop');
    await assert.rejects(httpsFetch(`${origin}/json`, { signal: AbortSignal.abort(reason) }), (error) => {
      return error === reason;
    });

    const waiting = new AbortController();
    const pending = httpsFetch(`${origin}/hang`, { signal: waiting.signal });
    setTimeout(() => waiting.abort(reason), 20);
    await assert.rejects(pending, (error) => error === reason);

    const reading = new AbortController();
    const response = await httpsFetch(`${origin}/half`, { signal: reading.signal });
    setTimeout(() => reading.abort(reason), 20);
    await assert.rejects(readAll(response.body), (error) => error === reason);
  });

  test('an abort with nobody reading the body does not crash the process', async () => {
    const controller = new AbortController();
    const response = await httpsFetch(`${origin}/half`, { signal: controller.signal });
    assert.equal(response.status, 200);
    controller.abort(new Error('not reading'));
    await new Promise((resolve) => setTimeout(resolve, 20));
  });

  test('network failures reject with a TypeError that carries the cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      httpsFetch(`http://127.0.0.1:${port}/`),
      (error: unknown) =>
        error instanceof TypeError && (error.cause as NodeJS.ErrnoException).code === 'ECONNREFUSED',
    );
    await assert.rejects(httpsFetch('ftp://127.0.0.1/'), /ftp: is not supported/);
  });
});

describe('httpsFetch behind the JWKS cache', () => {
  test('a verifier fetches its keys with it', async () => {
    const key = generateKeyPair();
    const jwks = await startJwksServer({ keys: [key] });
    try {
      const issuer = jwks.issuer('local_pool1');
      const verifier = new CognitoVerifier(
        { userPoolId: 'local_pool1', issuer, clientId: 'c1', tokenUse: 'access' },
        { fetch: httpsFetch },
      );
      const claims = await verifier.verify(mintAccessToken({ key, issuer, clientId: 'c1' }));
      assert.equal(claims.client_id, 'c1');
      assert.equal(jwks.requestCount, 1);
    } finally {
      await jwks.close();
    }
  });

  test('the cache deadline and size cap still apply', async () => {
    const slow = new CognitoVerifier(
      {
        userPoolId: 'local_pool1',
        issuer: origin,
        jwksUri: `${origin}/hang`,
        clientId: 'c1',
        tokenUse: 'access',
      },
      { fetch: httpsFetch, timeoutMs: 100 },
    );
    const started = performance.now();
    await assert.rejects(slow.hydrate(), (error: unknown) => {
      return error instanceof CognitoJwtError && error.code === 'ERR_JWKS_FETCH_FAILED';
    });
    assert.ok(performance.now() - started < 5_000);

    const small = new CognitoVerifier(
      {
        userPoolId: 'local_pool1',
        issuer: origin,
        jwksUri: `${origin}/json`,
        clientId: 'c1',
        tokenUse: 'access',
      },
      { fetch: httpsFetch, maxBytes: 4 },
    );
    await assert.rejects(small.hydrate(), (error: unknown) => {
      return error instanceof CognitoJwtError && error.code === 'ERR_JWKS_FETCH_FAILED';
    });
  });
});

// Regression: the unknown-kid flood test failed under load with ERR_JWKS_FETCH_FAILED (ECONNRESET)
// and no request at the server. While the process was busy (minting tokens) the server closed the
// kept-alive socket of the first fetch; the next fetch was written on it and reset.
describe('httpsFetch on a kept-alive socket the server closed while this process was busy', () => {
  // The server runs in another process, so it closes the idle socket while this one is blocked.
  const SERVER = `
    const server = require('node:http').createServer((request, response) => {
      server.count = (server.count ?? 0) + 1;
      response.setHeader('x-count', String(server.count));
      response.end(request.method);
      // It promises to keep the connection (Keep-Alive: timeout=5), then drops it early, as a
      // proxy or a server under pressure may.
      response.on('finish', () => setTimeout(() => request.socket.destroy(), 200));
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;

  async function closingServer(t: import('node:test').TestContext) {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill());
    const port = await new Promise<string>((resolve) =>
      child.stdout.once('data', (data) => resolve(String(data).trim())),
    );
    return `http://127.0.0.1:${port}/`;
  }
  const blockFor = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

  test('a GET is sent again on a new connection, once', async (t) => {
    const url = await closingServer(t);
    assert.equal(await (await httpsFetch(url)).text(), 'GET');
    blockFor(1000);
    const second = await httpsFetch(url);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-count'), '2', 'the server saw exactly two requests');
  });

  // What must hold on every Node: the POST is never sent twice. Node 20 writes it on the dead
  // socket and fails like fetch; Node 22 and later notice the socket closed before writing and
  // send it once, on a new connection.
  test('a POST is never sent twice: it fails like fetch, with the cause, or goes out once on a new connection', async (t) => {
    const url = await closingServer(t);
    assert.equal(await (await httpsFetch(url, { method: 'POST', body: 'a' })).text(), 'POST');
    blockFor(1000);
    const outcome = await httpsFetch(url, { method: 'POST', body: 'b' }).then(
      (response) => response,
      (error: unknown) => error,
    );
    // httpsFetch answers with a Response-shaped object, not an instance of the global Response.
    if (!(outcome instanceof Error)) {
      assert.equal((outcome as Response).status, 200);
      assert.equal((outcome as Response).headers.get('x-count'), '2', 'the server saw the POST once');
      assert.ok(Number(process.versions.node.split('.')[0]) >= 22, 'Node 20 writes it on the dead socket');
    } else {
      assert.ok(outcome instanceof TypeError, String(outcome));
      assert.match(String((outcome.cause as NodeJS.ErrnoException).code), /^(ECONNRESET|EPIPE)$/);
    }
  });
});
