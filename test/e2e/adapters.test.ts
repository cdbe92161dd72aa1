/**
 * End to end: tokens issued by the cognito-local emulator (a real sign-in over its API) go
 * through each framework adapter on loopback and through the Lambda authorizers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  createHttpApiAuthorizer,
  createTokenAuthorizer,
  getCallerClaims,
} from '../../src/adapters/lambda.ts';
import { CognitoVerifier, requireGroups, type VerifierConfig } from '../../src/index.ts';
import { httpApiEvent, lambdaIntegrationEventV2, methodArn, tokenEvent } from '../adapters/lambda-events.ts';
import { startExpressApp, startFastifyApp, startHonoApp } from '../helpers/adapter-apps.ts';
import type { StartApp } from '../helpers/adapter-suite.ts';
import {
  type CognitoLocal,
  type LocalPool,
  type LocalTokens,
  startCognitoLocal,
} from '../helpers/cognito-local.ts';

const PASSWORD = 'Corr3ct-Horse!';

let cognito: CognitoLocal;
let pool: LocalPool;
let clientId: string;
let admin: { sub: string; tokens: LocalTokens };
let reader: { sub: string; tokens: LocalTokens };
let otherPoolTokens: LocalTokens;

function config(tokenUse: 'id' | 'access'): VerifierConfig {
  return { userPoolId: pool.userPoolId, issuer: pool.issuer, clientId, tokenUse };
}

before(async () => {
  cognito = await startCognitoLocal();
  pool = await cognito.createPool('adapters');
  clientId = await cognito.createClient(pool.userPoolId);
  await cognito.createGroup(pool.userPoolId, 'admins');
  await cognito.createGroup(pool.userPoolId, 'readers');
  const ada = await cognito.createUser(pool.userPoolId, 'ada@adapters.example.com', PASSWORD, ['admins']);
  const bob = await cognito.createUser(pool.userPoolId, 'bob@adapters.example.com', PASSWORD, ['readers']);
  admin = { sub: ada.sub, tokens: await cognito.signIn(clientId, ada.username, PASSWORD) };
  reader = { sub: bob.sub, tokens: await cognito.signIn(clientId, bob.username, PASSWORD) };
  const otherPool = await cognito.createPool('elsewhere');
  const otherClient = await cognito.createClient(otherPool.userPoolId);
  const eve = await cognito.createUser(otherPool.userPoolId, 'eve@elsewhere.example.com', PASSWORD);
  otherPoolTokens = await cognito.signIn(otherClient, eve.username, PASSWORD);
});

after(() => cognito?.stop());

async function get(origin: string, path: string, token?: string) {
  const response = await fetch(
    `${origin}${path}`,
    token ? { headers: { authorization: `Bearer ${token}` } } : {},
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const frameworks: [string, StartApp][] = [
  ['express', startExpressApp],
  ['fastify', startFastifyApp],
  ['hono', startHonoApp],
];

for (const [name, startApp] of frameworks) {
  describe(`${name} with cognito-local tokens`, () => {
    test('access tokens: claims reach the handler; groups decide /admin; ID tokens and foreign pools are refused', async () => {
      const app = await startApp({ verifier: new CognitoVerifier(config('access')) });
      try {
        const me = await get(app.origin, '/me', admin.tokens.accessToken);
        assert.equal(me.status, 200, JSON.stringify(me.body));
        assert.equal(me.body.sub, admin.sub);
        assert.equal(me.body.tokenUse, 'access');
        assert.deepEqual(me.body.groups, ['admins']);
        assert.equal((await get(app.origin, '/admin', admin.tokens.accessToken)).status, 200);
        assert.equal((await get(app.origin, `/users/${reader.sub}`, reader.tokens.accessToken)).status, 200);

        const refused = await get(app.origin, '/admin', reader.tokens.accessToken);
        assert.deepEqual([refused.status, refused.body.code], [403, 'ERR_GROUP_MISSING']);
        const notOwner = await get(app.origin, `/users/${admin.sub}`, reader.tokens.accessToken);
        assert.deepEqual([notOwner.status, notOwner.body.code], [403, 'ERR_FORBIDDEN']);
        const idToken = await get(app.origin, '/me', admin.tokens.idToken);
        assert.deepEqual([idToken.status, idToken.body.code], [401, 'ERR_TOKEN_USE_MISMATCH']);
        const foreign = await get(app.origin, '/me', otherPoolTokens.accessToken);
        assert.deepEqual([foreign.status, foreign.body.code], [401, 'ERR_ISSUER_MISMATCH']);
        const refresh = await get(app.origin, '/me', admin.tokens.refreshToken);
        assert.equal(refresh.status, 401);
        const missing = await get(app.origin, '/me');
        assert.deepEqual([missing.status, missing.body.code], [401, 'ERR_TOKEN_MISSING']);
      } finally {
        await app.close();
      }
    });

    test('ID tokens on an ID-token app, built from a verifier config', async () => {
      const app = await startApp({ verifier: config('id') });
      try {
        const me = await get(app.origin, '/me', reader.tokens.idToken);
        assert.equal(me.status, 200, JSON.stringify(me.body));
        assert.deepEqual([me.body.sub, me.body.tokenUse, me.body.username], [reader.sub, 'id', reader.sub]);
      } finally {
        await app.close();
      }
    });
  });
}

describe('Lambda authorizers with cognito-local tokens', () => {
  test('REST TOKEN: Allow for admins with their identity, Deny for readers, Unauthorized for ID tokens', async () => {
    const handler = createTokenAuthorizer({ verifier: config('access'), rules: [requireGroups('admins')] });
    const allowed = await handler(
      tokenEvent(`Bearer ${admin.tokens.accessToken}`, methodArn('GET', '/pets')),
    );
    assert.equal(allowed.principalId, admin.sub);
    assert.equal(allowed.policyDocument.Statement[0]?.Effect, 'Allow');
    assert.equal(allowed.context?.groups, 'admins');
    assert.equal(allowed.context?.scope, 'aws.cognito.signin.user.admin');
    const denied = await handler(tokenEvent(`Bearer ${reader.tokens.accessToken}`));
    assert.equal(denied.policyDocument.Statement[0]?.Effect, 'Deny');
    await assert.rejects(handler(tokenEvent(`Bearer ${admin.tokens.idToken}`)), { message: 'Unauthorized' });
  });

  test('HTTP API simple response, read back by the integration with getCallerClaims', async () => {
    const handler = createHttpApiAuthorizer({ verifier: config('access') });
    const result = await handler(httpApiEvent({ authorization: `Bearer ${admin.tokens.accessToken}` }));
    assert.equal(result.isAuthorized, true);
    const caller = getCallerClaims(lambdaIntegrationEventV2(result.context));
    assert.deepEqual([caller.sub, caller.groups, caller.clientId], [admin.sub, ['admins'], clientId]);
  });
});
