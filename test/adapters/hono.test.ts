import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Hono } from 'hono';
import { cognitoAuth, httpErrorResponse } from '../../src/adapters/hono.ts';
import { CognitoVerifier, requireScopes } from '../../src/index.ts';
import { generateKeyPair, mintAccessToken, startJwksServer } from '../../src/testing/index.ts';
import { serveHono, startHonoApp } from '../helpers/adapter-apps.ts';
import { runAdapterSuite } from '../helpers/adapter-suite.ts';

runAdapterSuite('hono', startHonoApp);

test('hono: httpErrorResponse lets app.onError answer forwarded errors like the middleware would', async () => {
  const key = generateKeyPair();
  const jwks = await startJwksServer({ keys: [key] });
  const issuer = jwks.issuer('local_pool1');
  const auth = cognitoAuth({
    verifier: new CognitoVerifier({ userPoolId: 'local_pool1', issuer, clientId: 'c', tokenUse: 'access' }),
    forwardErrors: true,
  });
  const app = new Hono();
  app.onError((error) => {
    const answer = httpErrorResponse(error, { realm: 'shop' });
    if (!answer) return new Response('internal', { status: 500 });
    return Response.json(answer.body, { status: answer.status, headers: answer.headers });
  });
  app.get('/orders', auth, auth.authorize(requireScopes('orders/read')), (c) => c.json({ ok: true }));
  const running = await serveHono(app);
  try {
    const token = mintAccessToken({ key, issuer, clientId: 'c', scope: 'orders/write' });
    const response = await fetch(`${running.origin}/orders`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(response.status, 403);
    assert.match(
      response.headers.get('www-authenticate') ?? '',
      /^Bearer realm="shop", error="insufficient_scope"/,
    );
    assert.equal(((await response.json()) as { code: string }).code, 'ERR_SCOPE_MISSING');
  } finally {
    await running.close();
    await jwks.close();
  }
});
