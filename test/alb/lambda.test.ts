import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type ALBEvent, albErrorResult, verifyAlbEvent, withAlbIdentity } from '../../src/alb/index.ts';
import { CognitoJwtError, clientMessage } from '../../src/errors.ts';
import { mintAlbToken } from '../../src/testing/index.ts';
import { type AlbFixture, startAlbFixture } from './fixture.ts';

let fixture: AlbFixture;
before(async () => {
  fixture = await startAlbFixture();
});
after(() => fixture.close());

/** An ALB event for a Lambda target, as the load balancer sends it (single- or multi-value headers). */
function albEvent(headers: Record<string, string>, multiValue = false): ALBEvent {
  return {
    requestContext: {
      elb: {
        targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/0123456789abcdef',
      },
    },
    httpMethod: 'GET',
    path: '/me',
    queryStringParameters: {},
    body: '',
    isBase64Encoded: false,
    ...(multiValue
      ? {
          multiValueHeaders: Object.fromEntries(
            Object.entries(headers).map(([name, value]) => [name, [value]]),
          ),
        }
      : { headers }),
  };
}

test('verifyAlbEvent reads the headers of an ALB event, single- or multi-value', async () => {
  const data = mintAlbToken({ key: fixture.key, sub: 'user-1' });
  const headers = { 'x-amzn-oidc-data': data, 'x-amzn-oidc-identity': 'user-1', host: 'example.com' };
  assert.equal((await verifyAlbEvent(fixture.verifier, albEvent(headers))).claims.sub, 'user-1');
  assert.equal((await verifyAlbEvent(fixture.verifier, albEvent(headers, true))).claims.sub, 'user-1');
});

test('withAlbIdentity runs the handler with the identity, or answers the error with its client-safe text', async () => {
  let calls = 0;
  const handler = withAlbIdentity(fixture.verifier, async (_event, { claims }) => {
    calls++;
    return { statusCode: 200, body: claims.sub };
  });
  const ok = await handler(
    albEvent({ 'x-amzn-oidc-data': mintAlbToken({ key: fixture.key, sub: 'user-1' }) }),
  );
  assert.deepEqual([ok.statusCode, ok.body, calls], [200, 'user-1', 1]);

  const missing = await handler(albEvent({ 'x-amzn-oidc-identity': 'admin' }));
  assert.equal(missing.statusCode, 401);
  assert.deepEqual(JSON.parse(missing.body ?? ''), {
    error: 'ERR_ALB_DATA_MISSING',
    message: clientMessage('ERR_ALB_DATA_MISSING'),
  });
  const spoofed = await handler(
    albEvent({
      'x-amzn-oidc-data': mintAlbToken({ key: fixture.key, sub: 'user-1' }),
      'x-amzn-oidc-identity': 'admin',
    }),
  );
  assert.equal(JSON.parse(spoofed.body ?? '').error, 'ERR_ALB_IDENTITY_MISMATCH');
  const otherSigner = await handler(
    albEvent({
      'x-amzn-oidc-data': mintAlbToken({
        key: fixture.key,
        albArn: 'arn:aws:elasticloadbalancing:us-east-1:999999999999:loadbalancer/app/evil/0123456789abcdef',
      }),
    }),
  );
  assert.equal(otherSigner.statusCode, 401);
  assert.ok(!otherSigner.body?.includes('123456789012'), 'the configured ARN is never told to the client');
  assert.equal(calls, 1);
});

test('albErrorResult: 503 for key trouble, 500 without detail for anything else', () => {
  const unavailable = albErrorResult(new CognitoJwtError('ERR_JWKS_FETCH_FAILED', 'secret detail https://x'));
  assert.equal(unavailable.statusCode, 503);
  assert.ok(!unavailable.body?.includes('secret'));
  const bug = albErrorResult(new TypeError('x is undefined'));
  assert.equal(bug.statusCode, 500);
  assert.ok(!bug.body?.includes('undefined'));
});
