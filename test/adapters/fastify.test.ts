import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { cognitoJwt } from '../../src/adapters/fastify.ts';
import { CognitoVerifier } from '../../src/index.ts';
import { generateKeyPair, mintAccessToken, startJwksServer } from '../../src/testing/index.ts';
import { startFastify, startFastifyApp } from '../helpers/adapter-apps.ts';
import { runAdapterSuite } from '../helpers/adapter-suite.ts';

runAdapterSuite('fastify', startFastifyApp);

test('fastify: global: false authenticates only the routes that ask for it', async () => {
  const key = generateKeyPair();
  const jwks = await startJwksServer({ keys: [key] });
  const issuer = jwks.issuer('local_pool1');
  const app = Fastify();
  await app.register(cognitoJwt, {
    verifier: new CognitoVerifier({ userPoolId: 'local_pool1', issuer, clientId: 'c', tokenUse: 'access' }),
    global: false,
  });
  app.get('/public', async (request) => ({ auth: request.auth }));
  app.get('/private', { onRequest: app.cognito.authenticate }, async (request) => ({
    sub: request.auth?.sub,
  }));
  const running = await startFastify(app);
  try {
    const open = await fetch(`${running.origin}/public`);
    assert.deepEqual([open.status, await open.json()], [200, { auth: null }]);
    const refused = await fetch(`${running.origin}/private`);
    assert.equal(refused.status, 401);
    const token = mintAccessToken({ key, issuer, clientId: 'c', sub: 'user-9' });
    const allowed = await fetch(`${running.origin}/private`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.deepEqual([allowed.status, await allowed.json()], [200, { sub: 'user-9' }]);
  } finally {
    await running.close();
    await jwks.close();
  }
});

test('fastify: the plugin decorates the registering scope, once', async () => {
  const app = Fastify();
  const verifier = {
    userPoolId: 'local_pool1',
    issuer: 'http://127.0.0.1:1/local_pool1',
    clientId: 'c',
    tokenUse: 'id',
  } as const;
  await app.register(cognitoJwt, { verifier });
  try {
    assert.equal(typeof app.cognito.authorize, 'function');
    assert.equal(app.hasRequestDecorator('auth'), true);
    app.register(cognitoJwt, { verifier });
    await assert.rejects(
      async () => {
        await app.ready();
      },
      { code: 'FST_ERR_DEC_ALREADY_PRESENT' },
    );
  } finally {
    await app.close();
  }
});
