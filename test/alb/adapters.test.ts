/**
 * The `loadBalancer` option of the Express, Fastify and Hono adapters, through real apps on
 * loopback: the x-amzn-oidc-* headers are read instead of Authorization, the signed data is
 * verified against a real key endpoint, and the access token's claims (groups) drive the guards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ALB_HEADERS, AlbVerifier } from '../../src/alb/index.ts';
import { clientMessage } from '../../src/errors.ts';
import {
  type AlbKeyServer,
  buildJwks,
  DEFAULT_TEST_ALB_ARN,
  DEFAULT_TEST_ALB_CLIENT_ID,
  generateAlbKeyPair,
  generateKeyPair,
  mintAccessToken,
  mintAlbToken,
  startAlbKeyServer,
} from '../../src/testing/index.ts';
import { CognitoVerifier } from '../../src/verify/verifier.ts';
import { startExpressApp, startFastifyApp, startHonoApp } from '../helpers/adapter-apps.ts';
import type { RunningApp, StartApp } from '../helpers/adapter-suite.ts';

const albKey = generateAlbKeyPair();
const cognitoKey = generateKeyPair();
let keyServer: AlbKeyServer;
let loadBalancer: AlbVerifier;
let verifier: CognitoVerifier;

before(async () => {
  keyServer = await startAlbKeyServer({ keys: [albKey] });
  loadBalancer = new AlbVerifier({
    albArn: DEFAULT_TEST_ALB_ARN,
    issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1',
    clientId: DEFAULT_TEST_ALB_CLIENT_ID,
    keysUrl: keyServer.keysUrl,
  });
  verifier = new CognitoVerifier(
    {
      userPoolId: 'us-east-1_TestPool1',
      clientId: DEFAULT_TEST_ALB_CLIENT_ID,
      tokenUse: 'access',
      jwks: buildJwks(cognitoKey),
    },
    { offline: true },
  );
});
after(() => keyServer.close());

function albHeaders(sub: string, options: { groups?: string[]; identity?: string; accessSub?: string } = {}) {
  return {
    [ALB_HEADERS.data]: mintAlbToken({ key: albKey, sub }),
    [ALB_HEADERS.identity]: options.identity ?? sub,
    [ALB_HEADERS.accessToken]: mintAccessToken({
      key: cognitoKey,
      clientId: DEFAULT_TEST_ALB_CLIENT_ID,
      sub: options.accessSub ?? sub,
      ...(options.groups ? { groups: options.groups } : {}),
    }),
  };
}

const apps: Record<string, StartApp> = {
  express: startExpressApp,
  fastify: startFastifyApp,
  hono: startHonoApp,
};

for (const [name, start] of Object.entries(apps)) {
  describe(`${name}: loadBalancer`, () => {
    let app: RunningApp;
    before(async () => {
      app = await start({ verifier, loadBalancer });
    });
    after(() => app.close());

    test('the x-amzn-oidc-* headers authenticate; the access token claims are the request claims', async () => {
      const response = await fetch(`${app.origin}/me`, {
        headers: albHeaders('user-1', { groups: ['admins'] }),
      });
      assert.equal(response.status, 200);
      const body = (await response.json()) as { sub: string; tokenUse: string; groups: string[] };
      assert.equal(body.sub, 'user-1');
      assert.equal(body.tokenUse, 'access');
      assert.deepEqual(body.groups, ['admins']);
      assert.equal(
        (await fetch(`${app.origin}/admin`, { headers: albHeaders('user-1', { groups: ['admins'] }) }))
          .status,
        200,
      );
      assert.equal((await fetch(`${app.origin}/admin`, { headers: albHeaders('user-2') })).status, 403);
    });

    test('a bearer token alone does not authenticate: no x-amzn-oidc-data is a 401', async () => {
      const bearer = mintAccessToken({
        key: cognitoKey,
        clientId: DEFAULT_TEST_ALB_CLIENT_ID,
        sub: 'user-1',
      });
      const response = await fetch(`${app.origin}/me`, { headers: { authorization: `Bearer ${bearer}` } });
      assert.equal(response.status, 401);
      assert.deepEqual(await response.json(), {
        code: 'ERR_ALB_DATA_MISSING',
        message: clientMessage('ERR_ALB_DATA_MISSING'),
      });
    });

    test('a forged identity header, or an access token of someone else, is a 401 with its own code', async () => {
      const spoofed = await fetch(`${app.origin}/me`, {
        headers: albHeaders('user-1', { identity: 'admin' }),
      });
      assert.equal(spoofed.status, 401);
      assert.equal(((await spoofed.json()) as { code: string }).code, 'ERR_ALB_IDENTITY_MISMATCH');
      const swapped = await fetch(`${app.origin}/me`, {
        headers: albHeaders('user-1', { accessSub: 'admin' }),
      });
      assert.equal(swapped.status, 401);
      assert.equal(((await swapped.json()) as { code: string }).code, 'ERR_ALB_ACCESS_TOKEN_MISMATCH');
    });

    test('another load balancer signer is refused, and the client is not told which is configured', async () => {
      const headers = {
        ...albHeaders('user-1'),
        [ALB_HEADERS.data]: mintAlbToken({
          key: albKey,
          sub: 'user-1',
          albArn:
            'arn:aws:elasticloadbalancing:us-east-1:999999999999:loadbalancer/app/evil/0123456789abcdef',
        }),
      };
      const response = await fetch(`${app.origin}/me`, { headers });
      assert.equal(response.status, 401);
      const text = await response.text();
      assert.ok(text.includes('ERR_ALB_SIGNER_MISMATCH'));
      assert.ok(
        !text.includes('123456789012') &&
          !(response.headers.get('www-authenticate') ?? '').includes('123456789012'),
      );
    });
  });
}

test('credentialsRequired: false lets a request without the load balancer headers through anonymously', async () => {
  const app = await startExpressApp({ verifier, loadBalancer, credentialsRequired: false });
  try {
    assert.deepEqual(await (await fetch(`${app.origin}/me`)).json(), { anonymous: true });
    assert.equal(
      (await fetch(`${app.origin}/me`, { headers: albHeaders('user-1', { identity: 'x' }) })).status,
      401,
    );
  } finally {
    await app.close();
  }
});

test('loadBalancer must be an AlbVerifier, and excludes getToken', async () => {
  const { cognitoAuth } = await import('../../src/adapters/express.ts');
  assert.throws(
    () => cognitoAuth({ verifier, loadBalancer: {} as AlbVerifier }),
    /loadBalancer must be an AlbVerifier/,
  );
  assert.throws(
    () => cognitoAuth({ verifier, loadBalancer, getToken: () => 'x' }),
    /getToken cannot be used/,
  );
});
