/**
 * The Lambda@Edge viewer-request handler over CloudFront's event shape: keys from a bundled
 * snapshot (no request at a cold start), an unknown kid fetched within a deadline well under
 * Lambda@Edge's 5 s, each refusal as a client-safe answer. Timings are measured in
 * bench/edge-cold-start.ts, not asserted here.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { CloudFrontResultResponse } from 'aws-lambda';
import { createViewerRequestHandler, type ViewerRequestOptions } from '../../src/adapters/lambda.ts';
import { type CognitoJwtError, requireGroups } from '../../src/index.ts';
import { CognitoSession } from '../../src/session/index.ts';
import { generateKeyPair, mintAccessToken, startJwksServer } from '../../src/testing/index.ts';
import { listen } from '../helpers/adapter-suite.ts';
import { loopbackPool } from '../helpers/loopback-pool.ts';
import { SECRET, type SessionFixture, startSessionApp } from '../helpers/session-app.ts';
import { ScriptedBrowser } from '../helpers/sign-in-client.ts';
import { viewerRequestEvent } from './lambda-events.ts';

const POOL = 'local_edge';
const CLIENT = 'edge-client';
// The snapshot `cognito-jwt keys fetch` would have written at deploy time.
const pool = loopbackPool(POOL, CLIENT, { snapshot: true });
const { key, mint } = pool;

function asResponse(result: unknown): CloudFrontResultResponse {
  assert.ok(result && typeof result === 'object' && 'status' in result, 'an answer, not the request');
  return result as CloudFrontResultResponse;
}

describe('CloudFront viewer-request handler', () => {
  test('a valid bearer token: the request goes on unchanged, and the bundled snapshot made no request', async () => {
    const handler = createViewerRequestHandler({ verifier: pool.config });
    const event = viewerRequestEvent({ Authorization: `Bearer ${mint()}` });
    const request = event.Records[0]!.cf.request;
    const copy = structuredClone(request);
    assert.equal(await handler(event), request);
    assert.deepEqual(request, copy);
    assert.equal(pool.jwks.requestCount, 0, 'the cold start used the bundled snapshot');
  });

  test('every refusal: status, Bearer challenge, a fixed sentence, no-store; nothing of the configuration', async () => {
    const reported: CognitoJwtError[] = [];
    const handler = createViewerRequestHandler({
      verifier: pool.config,
      rules: [requireGroups('subscribers')],
      onError: (error) => reported.push(error as CognitoJwtError),
    });
    const cases: [Record<string, string | string[]>, string, string][] = [
      [{}, '401', 'ERR_TOKEN_MISSING'],
      [{ Authorization: 'Bearer' }, '401', 'ERR_TOKEN_MALFORMED'],
      [
        { Authorization: `Bearer ${mint({ groups: ['subscribers'], expiresIn: -1 })}` },
        '401',
        'ERR_TOKEN_EXPIRED',
      ],
      [
        { Authorization: `Bearer ${mint({ groups: ['subscribers'], clientId: 'other' })}` },
        '401',
        'ERR_CLIENT_MISMATCH',
      ],
      [
        { Authorization: [`Bearer ${mint({ groups: ['subscribers'] })}`, `Bearer ${mint()}`] },
        '401',
        'ERR_TOKEN_AMBIGUOUS',
      ],
      [{ Authorization: `Bearer ${mint({ groups: ['free'] })}` }, '403', 'ERR_GROUP_MISSING'],
    ];
    for (const [headers, status, code] of cases) {
      const answer = asResponse(await handler(viewerRequestEvent(headers)));
      assert.equal(answer.status, status, code);
      assert.equal(reported.pop()?.code, code);
      assert.deepEqual(JSON.parse(answer.body!), {
        code,
        message: answer.body && JSON.parse(answer.body).message,
      });
      const challenge = answer.headers?.['www-authenticate']?.[0]?.value ?? '';
      assert.match(
        challenge,
        status === '401' ? /^Bearer error="invalid_token"/ : /^Bearer error="insufficient_scope"/,
      );
      assert.equal(answer.headers?.['cache-control']?.[0]?.value, 'no-store');
      const text = JSON.stringify(answer);
      for (const secret of [POOL, CLIENT, 'subscribers', pool.jwks.origin])
        assert.ok(!text.includes(secret), `${secret} in ${text}`);
    }
  });

  test('redirectTo: a viewer without a valid token goes to sign in (302); a refused one still gets 403', async () => {
    const handler = createViewerRequestHandler({
      verifier: pool.config,
      rules: [requireGroups('subscribers')],
      redirectTo: 'https://app.example.com/sign-in',
    });
    const redirect = asResponse(await handler(viewerRequestEvent({})));
    assert.equal(redirect.status, '302');
    assert.deepEqual(redirect.headers?.location, [
      { key: 'Location', value: 'https://app.example.com/sign-in' },
    ]);
    assert.equal(
      asResponse(await handler(viewerRequestEvent({ Authorization: `Bearer ${mint()}` }))).status,
      '403',
    );
  });

  test('a rotation: an unknown kid fetches the JWKS once, and verifies', async () => {
    const rotated = generateKeyPair();
    const server = await startJwksServer({ keys: [key, rotated] });
    try {
      const handler = createViewerRequestHandler({
        verifier: { ...pool.config, issuer: server.issuer(POOL) },
      });
      const token = mintAccessToken({ key: rotated, issuer: server.issuer(POOL), clientId: CLIENT });
      const result = await handler(viewerRequestEvent({ Authorization: `Bearer ${token}` }));
      assert.ok(!('status' in result!), 'allowed');
      assert.equal(server.requestCount, 1);
    } finally {
      await server.close();
    }
  });

  // The server never answers, so only the fetch deadline can end the wait: without it the test
  // times out. (How long the deadline takes is bench/edge-cold-start.ts's business, not a test's.)
  test('an unknown kid while the JWKS endpoint hangs: 503 at the fetch deadline, not a hang', {
    timeout: 10_000,
  }, async () => {
    const hanging = await listen(createServer(() => {})); // accepts, never answers
    try {
      const handler = createViewerRequestHandler({
        verifier: { ...pool.config, jwksUri: `${hanging.origin}/jwks.json` },
        keyFetchTimeoutMs: 300,
      });
      const token = mint({ key: generateKeyPair() });
      const answer = asResponse(await handler(viewerRequestEvent({ Authorization: `Bearer ${token}` })));
      assert.equal(answer.status, '503');
      assert.deepEqual(JSON.parse(answer.body!), {
        code: 'ERR_JWKS_FETCH_FAILED',
        message: 'the service cannot check tokens right now',
      });
    } finally {
      await hanging.close();
    }
  });

  test('options are checked when the handler is created', () => {
    const bad: [unknown, RegExp][] = [
      [{ verifier: pool.config, keyFetchTimeoutMs: 5_000 }, /keyFetchTimeoutMs must be between 1 and 4000/],
      [{ verifier: pool.config, timeoutMs: 100 }, /keyFetchTimeoutMs/],
      [{ verifier: pool.config, redirectTo: 'http://example.com/sign-in' }, /https/],
      [{ verifier: pool.config, redirectTo: 'javascript:alert(1)' }, /https/],
      [{ verifier: pool.config, rules: 'admins' }, /rules must be an array/],
      [{ verifier: { ...pool.config, userPoolId: 'nope' } }, /./],
      [{ verifier: pool.config, getToken: () => '' }, /"getToken" does not belong here/],
      [{ verifier: pool.config, session: { secrets: [SECRET] } }, /session must be a CognitoSession/],
      [{ verifier: pool.config, secrets: [SECRET] }, /"secrets" does not belong here.*CognitoSession/],
    ];
    for (const [options, message] of bad) {
      assert.throws(() => createViewerRequestHandler(options as ViewerRequestOptions), {
        code: 'ERR_CONFIG_INVALID',
        message,
      });
    }
  });
});

describe('CloudFront viewer-request handler with the session cookie of cognito-jwt/session', () => {
  // An app signs a user in (cognito-jwt/session behind Express, a Cognito-like provider); the edge
  // function reads the cookie it set with a CognitoSession of its own built with the same secrets.
  let app: SessionFixture;
  let cookie: string;
  let offset = 0;
  /** Sign a browser in at the app; its `Cookie` header. */
  async function signIn(): Promise<string> {
    app.op.signInAs({ sub: 'user-1', groups: ['subscribers'] });
    const browser = new ScriptedBrowser(app.appOrigin, app.listenOrigin);
    const { response, visited } = await browser.follow('/page');
    assert.equal(response.status, 200, visited.join('\n'));
    return browser.cookieHeader();
  }
  before(async () => {
    app = await startSessionApp();
    cookie = await signIn();
  });
  after(() => app.close());

  function edgeSession(secrets = [SECRET]): CognitoSession {
    const { op } = app;
    return new CognitoSession({
      domain: op.origin,
      clientId: op.clientId,
      clientSecret: op.clientSecret,
      verifier: { userPoolId: op.userPoolId, clientId: op.clientId, tokenUse: 'access', issuer: op.issuer },
      appOrigin: app.appOrigin,
      secrets,
      insecureLocalhost: true,
      clock: () => Date.now() + offset * 1000,
    });
  }

  const withCookie = (value: string, headers: Record<string, string> = {}, request = {}) =>
    viewerRequestEvent({ Cookie: value, ...headers }, request);

  test('a valid session cookie lets the request through unchanged, with the rules run over its claims', async () => {
    const handler = createViewerRequestHandler({
      verifier: pool.config,
      session: edgeSession(),
      rules: [requireGroups('subscribers')],
    });
    const event = withCookie(cookie, {}, { querystring: 'page=2' });
    assert.equal(await handler(event), event.Records[0]!.cf.request);
    const refused = asResponse(
      await createViewerRequestHandler({
        verifier: pool.config,
        session: edgeSession(),
        rules: [requireGroups('admins')],
      })(withCookie(cookie)),
    );
    assert.equal(refused.status, '403');
    assert.equal(JSON.parse(refused.body!).code, 'ERR_GROUP_MISSING');
  });

  test('a cookie sealed with other secrets: 401 (or the redirect to sign in), and the cookie is cleared', async () => {
    const reported: CognitoJwtError[] = [];
    const other = createViewerRequestHandler({
      verifier: pool.config,
      session: edgeSession(['another-secret-of-more-than-32-characters-2']),
      onError: (error) => reported.push(error as CognitoJwtError),
    });
    const answer = asResponse(await other(withCookie(cookie)));
    assert.equal(answer.status, '401');
    assert.equal(reported.pop()?.code, 'ERR_SESSION_INVALID');
    assert.deepEqual(JSON.parse(answer.body!), {
      code: 'ERR_SESSION_INVALID',
      message: 'the session cookie is invalid; sign in again',
    });
    const cleared = answer.headers?.['set-cookie']?.map((header) => header.value) ?? [];
    assert.ok(cleared.length > 0 && cleared.every((value) => /Max-Age=0/i.test(value)), String(cleared));
    const redirecting = createViewerRequestHandler({
      verifier: pool.config,
      session: edgeSession(['another-secret-of-more-than-32-characters-2']),
      redirectTo: '/auth/sign-in',
    });
    const redirect = asResponse(await redirecting(withCookie(cookie)));
    assert.equal(redirect.status, '302');
    assert.equal(redirect.headers?.location?.[0]?.value, '/auth/sign-in');
    assert.ok((redirect.headers?.['set-cookie'] ?? []).length > 0);
    const text = JSON.stringify([answer, redirect]);
    for (const secret of [SECRET, app.op.clientId, app.op.issuer, app.op.userPoolId])
      assert.ok(!text.includes(secret), `${secret} in ${text}`);
  });

  test('a bearer header decides when there is one; without session, a cookie alone is no token', async () => {
    const handler = createViewerRequestHandler({ verifier: pool.config, session: edgeSession() });
    const bad = asResponse(await handler(withCookie(cookie, { Authorization: 'Bearer not-a-jwt' })));
    assert.equal(JSON.parse(bad.body!).code, 'ERR_TOKEN_MALFORMED');
    const event = withCookie(cookie, { Authorization: `Bearer ${mint()}` });
    assert.equal(await handler(event), event.Records[0]!.cf.request);
    const plain = createViewerRequestHandler({ verifier: pool.config });
    assert.equal(JSON.parse(asResponse(await plain(withCookie(cookie))).body!).code, 'ERR_TOKEN_MISSING');
  });

  /** The `Cookie` header a browser sends after it received `setCookie` lines. */
  function afterSetCookie(header: string, setCookie: readonly string[]): string {
    const jar = new Map(header.split('; ').map((pair) => [pair.slice(0, pair.indexOf('=')), pair] as const));
    for (const line of setCookie) {
      const pair = line.split(';')[0]!;
      const name = pair.slice(0, pair.indexOf('='));
      if (/;\s*max-age=0\s*(;|$)/i.test(line)) jar.delete(name);
      else jar.set(name, pair);
    }
    return [...jar.values()].join('; ');
  }

  test('a session refreshed at the edge: a 307 to the same URL (same method) sets the new cookies, which then pass', async () => {
    for (const [method, headers] of [
      ['GET', {}],
      ['POST', { Origin: app.appOrigin }],
    ] as const) {
      // A session of its own: the provider rotates refresh tokens, so a refresh uses one up.
      const signedIn = await signIn();
      const handler = createViewerRequestHandler({ verifier: pool.config, session: edgeSession() });
      const refreshes = app.op.count('token:refresh_token');
      offset = 3600; // past the access token's renewal time, by the edge session's clock
      let answer: CloudFrontResultResponse;
      try {
        const request = { method, uri: '/reports/2026.pdf', querystring: 'v=2' };
        answer = asResponse(await handler(withCookie(signedIn, headers, request)));
      } finally {
        offset = 0;
      }
      assert.equal(
        app.op.count('token:refresh_token'),
        refreshes + 1,
        `${method}: one refresh at the provider`,
      );
      assert.equal(answer.status, '307', method);
      assert.equal(answer.headers?.location?.[0]?.value, '/reports/2026.pdf?v=2');
      assert.equal(answer.headers?.['cache-control']?.[0]?.value, 'no-store');
      const set = answer.headers?.['set-cookie']?.map((header) => header.value) ?? [];
      assert.ok(set.length > 0, method);
      // The browser repeats the request with the new cookies (the provider's clock did not move,
      // so the refreshed token is not due again):
      const event = withCookie(afterSetCookie(signedIn, set), headers, { method });
      assert.equal(await handler(event), event.Records[0]!.cf.request, `${method} with the new cookies`);
    }
  });
});
