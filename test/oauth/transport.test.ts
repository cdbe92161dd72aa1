import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { TokenEndpointClient, TokenEndpointError } from '../../src/oauth/index.ts';
import { closedPortOrigin, startScriptedServer } from './fixtures.ts';

const CLIENT = { clientId: 'client 1:é', clientSecret: 'secret+/=:x' };

interface Captured {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingMessage['headers'];
  form: URLSearchParams;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** A server that records each request and answers with a fixed status and JSON body. */
async function startJsonServer(status: number, body: unknown) {
  const captured: Captured[] = [];
  const server = await startScriptedServer((request, response) => {
    readBody(request).then((text) => {
      captured.push({
        method: request.method,
        url: request.url,
        headers: request.headers,
        form: new URLSearchParams(text),
      });
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(typeof body === 'string' ? body : JSON.stringify(body));
    });
  });
  return { server, captured };
}

const TOKEN_ANSWER = { access_token: 'a.b.c', id_token: 'd.e.f', token_type: 'Bearer', expires_in: 3600 };

test('wire format: Basic header with form-encoded id and secret, client_id in the body, nothing secret elsewhere', async () => {
  const { server, captured } = await startJsonServer(200, TOKEN_ANSWER);
  try {
    const client = new TokenEndpointClient({ domain: server.origin, ...CLIENT });
    await client.refresh('the-refresh-token');
    const [request] = captured;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.url, '/oauth2/token');
    assert.equal(request?.headers['content-type'], 'application/x-www-form-urlencoded');
    const expected = Buffer.from('client+1%3A%C3%A9:secret%2B%2F%3D%3Ax').toString('base64');
    assert.equal(request?.headers.authorization, `Basic ${expected}`);
    assert.deepEqual(Object.fromEntries(request!.form), {
      grant_type: 'refresh_token',
      refresh_token: 'the-refresh-token',
      client_id: CLIENT.clientId,
    });
  } finally {
    await server.close();
  }
});

test('wire format: client_secret_post puts the secret in the body; a public client sends only client_id', async () => {
  const { server, captured } = await startJsonServer(200, TOKEN_ANSWER);
  try {
    const post = new TokenEndpointClient({
      domain: server.origin,
      ...CLIENT,
      authMethod: 'client_secret_post',
    });
    await post.clientCredentials({ scopes: ['orders/write', 'orders/read'] });
    const pub = new TokenEndpointClient({ domain: server.origin, clientId: 'public' });
    await pub.refresh('rt');
    assert.equal(captured[0]?.headers.authorization, undefined);
    assert.deepEqual(Object.fromEntries(captured[0]!.form), {
      grant_type: 'client_credentials',
      scope: 'orders/read orders/write',
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    });
    assert.equal(captured[1]?.headers.authorization, undefined);
    assert.deepEqual(Object.fromEntries(captured[1]!.form), {
      grant_type: 'refresh_token',
      refresh_token: 'rt',
      client_id: 'public',
    });
  } finally {
    await server.close();
  }
});

test('timeout: a server that accepts the connection and never answers gives ERR_OAUTH_TIMEOUT', async () => {
  const server = await startScriptedServer(() => {});
  try {
    const client = new TokenEndpointClient({ domain: server.origin, ...CLIENT, timeoutMs: 300 });
    const started = performance.now();
    const error = await client.refresh('the-refresh-token').then(
      () => assert.fail('expected a timeout'),
      (caught: unknown) => caught as TokenEndpointError,
    );
    const elapsed = performance.now() - started;
    assert.ok(error instanceof TokenEndpointError);
    assert.equal(error.code, 'ERR_OAUTH_TIMEOUT');
    assert.equal(error.status, 504);
    assert.ok(!error.message.includes('the-refresh-token'));
    assert.ok(elapsed >= 250 && elapsed < 5_000, `gave up after ${Math.round(elapsed)} ms`);
    assert.equal(server.requests, 1);
    await assert.rejects(client.revoke('the-refresh-token'), { code: 'ERR_OAUTH_TIMEOUT' });
    await assert.rejects(client.clientCredentials(), { code: 'ERR_OAUTH_TIMEOUT' });
  } finally {
    await server.close();
  }
});

test('timeout: headers sent but the body never finishes is a timeout too', async () => {
  const server = await startScriptedServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.write('{"access_token":');
  });
  try {
    const client = new TokenEndpointClient({ domain: server.origin, ...CLIENT, timeoutMs: 300 });
    await assert.rejects(client.refresh('rt'), { code: 'ERR_OAUTH_TIMEOUT' });
  } finally {
    await server.close();
  }
});

test('network: nothing listening gives ERR_OAUTH_NETWORK with the reason', async () => {
  const client = new TokenEndpointClient({ domain: await closedPortOrigin(), ...CLIENT });
  const error = await client.refresh('rt').then(
    () => assert.fail('expected a network error'),
    (caught: unknown) => caught as TokenEndpointError,
  );
  assert.equal(error.code, 'ERR_OAUTH_NETWORK');
  assert.equal(error.status, 503);
  assert.match(error.message, /ECONNREFUSED/);
});

test('redirects are refused: credentials are never sent to the redirect target', async () => {
  const target = await startScriptedServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(TOKEN_ANSWER));
  });
  const redirecting = await startScriptedServer((_request, response) => {
    response.writeHead(307, { location: `${target.origin}/oauth2/token` });
    response.end();
  });
  try {
    const client = new TokenEndpointClient({ domain: redirecting.origin, ...CLIENT });
    const error = await client.refresh('rt').then(
      () => assert.fail('expected the redirect to be refused'),
      (caught: unknown) => caught as TokenEndpointError,
    );
    assert.equal(error.code, 'ERR_OAUTH_SERVER_ERROR');
    assert.equal(error.httpStatus, 307);
    assert.equal(target.requests, 0);
  } finally {
    await redirecting.close();
    await target.close();
  }
});

test('every OAuth error of the endpoint maps to its own code; unknown ones by status', async () => {
  const cases: [number, unknown, string][] = [
    [400, { error: 'invalid_grant' }, 'ERR_OAUTH_INVALID_GRANT'],
    [401, { error: 'invalid_client' }, 'ERR_OAUTH_INVALID_CLIENT'],
    [
      400,
      { error: 'invalid_request', error_description: 'missing refresh_token' },
      'ERR_OAUTH_INVALID_REQUEST',
    ],
    [400, { error: 'unauthorized_client' }, 'ERR_OAUTH_UNAUTHORIZED_CLIENT'],
    [400, { error: 'unsupported_grant_type' }, 'ERR_OAUTH_UNSUPPORTED_GRANT_TYPE'],
    [400, { error: 'unsupported_token_type' }, 'ERR_OAUTH_UNSUPPORTED_TOKEN_TYPE'],
    [400, { error: 'invalid_scope' }, 'ERR_OAUTH_INVALID_SCOPE'],
    [503, { error: 'temporarily_unavailable' }, 'ERR_OAUTH_SERVER_ERROR'],
    [400, { error: 'invalid_target' }, 'ERR_OAUTH_INVALID_REQUEST'],
    [400, { error: '__proto__' }, 'ERR_OAUTH_INVALID_REQUEST'],
    [502, '<html>Bad Gateway</html>', 'ERR_OAUTH_SERVER_ERROR'],
    [429, '', 'ERR_OAUTH_SERVER_ERROR'],
    [200, { token_type: 'Bearer', expires_in: 3600 }, 'ERR_OAUTH_SERVER_ERROR'],
    [200, { access_token: 'a.b.c', expires_in: 0 }, 'ERR_OAUTH_SERVER_ERROR'],
    [200, { access_token: 'a.b.c', expires_in: 60, id_token: 42 }, 'ERR_OAUTH_SERVER_ERROR'],
    [200, 'not json', 'ERR_OAUTH_SERVER_ERROR'],
  ];
  for (const [status, body, code] of cases) {
    const { server } = await startJsonServer(status, body);
    try {
      const client = new TokenEndpointClient({ domain: server.origin, ...CLIENT });
      const error = await client.refresh('rt').then(
        () => assert.fail(`HTTP ${status} ${JSON.stringify(body)} should fail`),
        (caught: unknown) => caught as TokenEndpointError,
      );
      assert.ok(error instanceof TokenEndpointError);
      assert.equal(error.code, code, `HTTP ${status} ${JSON.stringify(body)}: ${error.message}`);
      assert.equal(error.httpStatus, status);
      const fields = typeof body === 'object' ? (body as { error?: string; error_description?: string }) : {};
      if (status !== 200) assert.equal(error.oauthError, fields.error);
      assert.equal(error.errorDescription, fields.error_description);
    } finally {
      await server.close();
    }
  }
});

test('revocation: 200 with an empty body is success; errors keep their codes', async () => {
  const ok = await startJsonServer(200, '');
  const refused = await startJsonServer(400, { error: 'unsupported_token_type' });
  try {
    await new TokenEndpointClient({ domain: ok.server.origin, ...CLIENT }).revoke('rt');
    assert.equal(ok.captured[0]?.url, '/oauth2/revoke');
    assert.deepEqual(Object.fromEntries(ok.captured[0]!.form), { token: 'rt', client_id: CLIENT.clientId });
    await assert.rejects(new TokenEndpointClient({ domain: refused.server.origin, ...CLIENT }).revoke('rt'), {
      code: 'ERR_OAUTH_UNSUPPORTED_TOKEN_TYPE',
    });
  } finally {
    await ok.server.close();
    await refused.server.close();
  }
});

test('an answer larger than 1 MiB is refused, whether announced or streamed', async () => {
  for (const announced of [true, false]) {
    const server = await startScriptedServer((_request, response) => {
      const body = JSON.stringify({ access_token: 'x'.repeat(1024 * 1024 + 1), expires_in: 60 });
      response.writeHead(200, {
        'content-type': 'application/json',
        ...(announced ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
      });
      if (announced) response.end(body);
      else for (let i = 0; i < body.length; i += 64 * 1024) response.write(body.slice(i, i + 64 * 1024));
    });
    try {
      const client = new TokenEndpointClient({ domain: server.origin, ...CLIENT });
      await assert.rejects(client.refresh('rt'), { code: 'ERR_OAUTH_SERVER_ERROR', message: /larger than/ });
    } finally {
      await server.close();
    }
  }
});

test('a numeric-string expires_in is accepted; a refresh token echoed back is not a rotation', async () => {
  const { server } = await startJsonServer(200, { ...TOKEN_ANSWER, expires_in: '300', refresh_token: 'rt' });
  try {
    const tokens = await new TokenEndpointClient({ domain: server.origin, ...CLIENT }).refresh('rt');
    assert.deepEqual(tokens, { idToken: 'd.e.f', accessToken: 'a.b.c', expiresIn: 300, tokenType: 'Bearer' });
  } finally {
    await server.close();
  }
});
