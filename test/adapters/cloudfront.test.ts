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
import { type CognitoJwtError, requireGroups, type VerifierConfig } from '../../src/index.ts';
import {
  buildJwks,
  generateKeyPair,
  type JwksServer,
  type MintOptions,
  mintAccessToken,
  startJwksServer,
} from '../../src/testing/index.ts';
import { listen } from '../helpers/adapter-suite.ts';
import { viewerRequestEvent } from './aws-door-events.ts';

const POOL = 'local_edge';
const CLIENT = 'edge-client';
const key = generateKeyPair();
let jwks: JwksServer;
let config: VerifierConfig;
let mint: (options?: Partial<MintOptions>) => string;

before(async () => {
  jwks = await startJwksServer({ keys: [key] });
  // The snapshot `cognito-jwt keys fetch` would have written at deploy time.
  config = {
    userPoolId: POOL,
    issuer: jwks.issuer(POOL),
    clientId: CLIENT,
    tokenUse: 'access',
    jwks: buildJwks(key),
  };
  mint = (options = {}) => mintAccessToken({ key, issuer: jwks.issuer(POOL), clientId: CLIENT, ...options });
});
after(() => jwks.close());

function asResponse(result: unknown): CloudFrontResultResponse {
  assert.ok(result && typeof result === 'object' && 'status' in result, 'an answer, not the request');
  return result as CloudFrontResultResponse;
}

describe('CloudFront viewer-request handler', () => {
  test('a valid bearer token: the request goes on unchanged, and the bundled snapshot made no request', async () => {
    const handler = createViewerRequestHandler({ verifier: config });
    const event = viewerRequestEvent({ Authorization: `Bearer ${mint()}` });
    const request = event.Records[0]!.cf.request;
    const copy = structuredClone(request);
    assert.equal(await handler(event), request);
    assert.deepEqual(request, copy);
    assert.equal(jwks.requestCount, 0, 'the cold start used the bundled snapshot');
  });

  test('every refusal: status, Bearer challenge, a fixed sentence, no-store; nothing of the configuration', async () => {
    const reported: CognitoJwtError[] = [];
    const handler = createViewerRequestHandler({
      verifier: config,
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
      for (const secret of [POOL, CLIENT, 'subscribers', jwks.origin])
        assert.ok(!text.includes(secret), `${secret} in ${text}`);
    }
  });

  test('redirectTo: a viewer without a valid token goes to sign in (302); a refused one still gets 403', async () => {
    const handler = createViewerRequestHandler({
      verifier: config,
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
      const handler = createViewerRequestHandler({ verifier: { ...config, issuer: server.issuer(POOL) } });
      const token = mintAccessToken({ key: rotated, issuer: server.issuer(POOL), clientId: CLIENT });
      const result = await handler(viewerRequestEvent({ Authorization: `Bearer ${token}` }));
      assert.ok(!('status' in result!), 'allowed');
      assert.equal(server.requestCount, 1);
    } finally {
      await server.close();
    }
  });

  test('an unknown kid while the JWKS endpoint hangs: 503 within the fetch deadline, well under 5 s', async () => {
    const hanging = await listen(createServer(() => {})); // accepts, never answers
    try {
      const handler = createViewerRequestHandler({
        verifier: { ...config, jwksUri: `${hanging.origin}/jwks.json` },
        keyFetchTimeoutMs: 300,
      });
      const token = mint({ key: generateKeyPair() });
      const started = performance.now();
      const answer = asResponse(await handler(viewerRequestEvent({ Authorization: `Bearer ${token}` })));
      const elapsed = performance.now() - started;
      assert.equal(answer.status, '503');
      assert.deepEqual(JSON.parse(answer.body!), {
        code: 'ERR_JWKS_FETCH_FAILED',
        message: 'the service cannot check tokens right now',
      });
      assert.ok(elapsed < 2_500, `answered after ${Math.round(elapsed)} ms`);
    } finally {
      await hanging.close();
    }
  });

  test('options are checked when the handler is created', () => {
    const bad: [unknown, RegExp][] = [
      [{ verifier: config, keyFetchTimeoutMs: 5_000 }, /keyFetchTimeoutMs must be between 1 and 4000/],
      [{ verifier: config, timeoutMs: 100 }, /keyFetchTimeoutMs/],
      [{ verifier: config, redirectTo: 'http://example.com/sign-in' }, /https/],
      [{ verifier: config, redirectTo: 'javascript:alert(1)' }, /https/],
      [{ verifier: config, rules: 'admins' }, /rules must be an array/],
      [{ verifier: { ...config, userPoolId: 'nope' } }, /./],
      [{ verifier: config, getToken: () => '' }, /"getToken" does not belong here/],
    ];
    for (const [options, message] of bad) {
      assert.throws(() => createViewerRequestHandler(options as ViewerRequestOptions), {
        code: 'ERR_CONFIG_INVALID',
        message,
      });
    }
  });
});
