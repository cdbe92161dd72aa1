import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import express, { type ErrorRequestHandler } from 'express';
import { cognitoAuth } from '../../src/adapters/express.ts';
import { CognitoVerifier, requirePredicate } from '../../src/index.ts';
import { generateKeyPair, mintAccessToken, startJwksServer } from '../../src/testing/index.ts';
import { startExpressApp } from '../helpers/adapter-apps.ts';
import { listen, runAdapterSuite } from '../helpers/adapter-suite.ts';

runAdapterSuite('express', startExpressApp);

test('express: an error thrown by a predicate reaches the error handler unchanged', async () => {
  const key = generateKeyPair();
  const jwks = await startJwksServer({ keys: [key] });
  const issuer = jwks.issuer('local_pool1');
  const auth = cognitoAuth({
    verifier: new CognitoVerifier({ userPoolId: 'local_pool1', issuer, clientId: 'c', tokenUse: 'access' }),
  });
  const app = express();
  app.get(
    '/boom',
    auth,
    auth.authorize(
      requirePredicate(() => {
        throw new Error('database down');
      }),
    ),
    (_req, res) => {
      res.json({ reached: true });
    },
  );
  const seen: unknown[] = [];
  const handler: ErrorRequestHandler = (error, _req, res, _next) => {
    seen.push(error);
    res.status(500).json({ error: 'internal' });
  };
  app.use(handler);
  const running = await listen(createServer(app));
  try {
    const token = mintAccessToken({ key, issuer, clientId: 'c' });
    const response = await fetch(`${running.origin}/boom`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 500);
    assert.deepEqual(await response.json(), { error: 'internal' });
    assert.equal((seen[0] as Error).message, 'database down');
  } finally {
    await running.close();
    await jwks.close();
  }
});
