import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CognitoVerifier } from '../src/index.ts';
import { generateKeyPair, mintAccessToken, mintIdToken, startJwksServer } from '../src/testing/index.ts';

test('smoke: id and access tokens verify over a loopback JWKS', async () => {
  const key = generateKeyPair();
  const server = await startJwksServer({ keys: [key] });
  try {
    const issuer = server.issuer('local_pool1');
    const ids = new CognitoVerifier({ userPoolId: 'local_pool1', issuer, clientId: 'c1', tokenUse: 'id' });
    const claims = await ids.verify(mintIdToken({ key, issuer, clientId: 'c1' }));
    assert.equal(claims.token_use, 'id');
    const access = new CognitoVerifier({
      userPoolId: 'local_pool1',
      issuer,
      clientId: 'c1',
      tokenUse: 'access',
    });
    const a = await access.verify(mintAccessToken({ key, issuer, clientId: 'c1' }));
    assert.equal(a.client_id, 'c1');
    assert.equal(access.verifySync(mintAccessToken({ key, issuer, clientId: 'c1' })).token_use, 'access');
    await assert.rejects(access.verify(mintIdToken({ key, issuer, clientId: 'c1' })), {
      code: 'ERR_TOKEN_USE_MISMATCH',
    });
  } finally {
    await server.close();
  }
});
