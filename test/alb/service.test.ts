/**
 * The verification service in ALB mode (`"alb": { albArn, issuer, clientId }`): the proxy in
 * front of it forwards the load balancer's x-amzn-oidc-* headers, asked the way nginx asks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALB_HEADERS } from '../../src/alb/index.ts';
import { checkServiceConfig } from '../../src/service/config.ts';
import {
  DEFAULT_TEST_ALB_ARN,
  generateAlbKeyPair,
  mintAlbToken,
  startAlbKeyServer,
} from '../../src/testing/index.ts';
import { throwsCode } from '../helpers/assert-error.ts';
import { CLIENT, nginxAsk, startHarness } from '../service/harness.ts';

test('ALB mode: the load balancer headers are verified and the access token claims drive the routes', async (t) => {
  const albKey = generateAlbKeyPair();
  const keys = await startAlbKeyServer({ keys: [albKey] });
  t.after(() => keys.close());
  const harness = await startHarness(t, {
    alb: { albArn: DEFAULT_TEST_ALB_ARN, issuer: null, clientId: CLIENT, keysUrl: keys.keysUrl },
  });
  const headers = (
    sub: string,
    options: { groups?: string[]; identity?: string; accessSub?: string } = {},
  ) => ({
    [ALB_HEADERS.data]: mintAlbToken({ key: albKey, sub, clientId: CLIENT }),
    [ALB_HEADERS.identity]: options.identity ?? sub,
    [ALB_HEADERS.accessToken]: harness.access({
      sub: options.accessSub ?? sub,
      ...(options.groups ? { groups: options.groups } : {}),
    }),
  });

  const allowed = await nginxAsk(harness, 'GET', '/admin/x', headers('user-1', { groups: ['admins'] }));
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers.get('x-auth-request-user'), 'user-1');
  // The access token has no email: the header comes from the load balancer's signed userinfo.
  assert.equal(allowed.headers.get('x-auth-request-email'), 'user-1@example.com');
  const noEmail = await nginxAsk(harness, 'GET', '/me', {
    ...headers('user-3'),
    [ALB_HEADERS.data]: mintAlbToken({
      key: albKey,
      sub: 'user-3',
      clientId: CLIENT,
      claims: { email: undefined, email_verified: undefined },
    }),
  });
  assert.equal(noEmail.status, 200);
  assert.equal(noEmail.headers.get('x-auth-request-email'), '');
  const unverified = await nginxAsk(harness, 'GET', '/me', {
    ...headers('user-4'),
    [ALB_HEADERS.data]: mintAlbToken({
      key: albKey,
      sub: 'user-4',
      clientId: CLIENT,
      claims: { email_verified: 'false' },
    }),
  });
  assert.equal(unverified.status, 200);
  assert.equal(unverified.headers.get('x-auth-request-email'), '');
  assert.equal((await nginxAsk(harness, 'GET', '/admin/x', headers('user-2'))).status, 403);
  assert.equal((await nginxAsk(harness, 'GET', '/public/x')).status, 200);

  const bearerOnly = await nginxAsk(harness, 'GET', '/me', {
    authorization: `Bearer ${harness.access({ sub: 'user-1' })}`,
  });
  assert.equal(bearerOnly.status, 401);
  const spoofed = await nginxAsk(harness, 'GET', '/me', headers('user-1', { identity: 'admin' }));
  assert.equal(spoofed.status, 401);
  const swapped = await nginxAsk(harness, 'GET', '/me', headers('user-1', { accessSub: 'admin' }));
  assert.equal(swapped.status, 401);
  assert.ok(harness.logLines.some((line) => line.includes('ERR_ALB_IDENTITY_MISMATCH')));
  assert.ok(harness.logLines.some((line) => line.includes('ERR_ALB_ACCESS_TOKEN_MISMATCH')));
  assert.ok(
    !harness.logLines.some((line) => line.includes(headers('user-1')[ALB_HEADERS.data].slice(0, 40))),
  );
});

test('ALB mode config: checked at load (a bad ARN, a typo, with a token cookie)', () => {
  const base = { pools: [{ userPoolId: 'us-east-1_Abc', clientId: 'c', tokenUse: 'access' as const }] };
  const check =
    (alb: unknown, extra: object = {}) =>
    () =>
      checkServiceConfig({ ...base, ...extra, alb }, { baseDir: process.cwd(), env: {} });
  throwsCode(check({ albArn: 'arn:nope', issuer: null, clientId: null }), 'ERR_CONFIG_INVALID', {
    message: 'alb: ',
  });
  throwsCode(check({ albArn: DEFAULT_TEST_ALB_ARN, issuer: null, clientID: null }), 'ERR_CONFIG_INVALID', {
    message: 'clientID',
  });
  throwsCode(
    check({ albArn: DEFAULT_TEST_ALB_ARN, issuer: null, clientId: null }, { token: { cookie: 'id' } }),
    'ERR_CONFIG_INVALID',
    {
      message: 'token.cookie',
    },
  );
  assert.ok(check({ albArn: DEFAULT_TEST_ALB_ARN, issuer: null, clientId: null })().alb);
});
