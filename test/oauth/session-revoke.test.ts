/**
 * `TokenSession.revoke()` with a revocation list adds the `origin_jti` of tokens its verifier
 * verified, never of tokens it was merely handed (regression: it used to read them unverified).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CognitoVerifier } from '../../src/index.ts';
import { TokenEndpointClient, TokenSession } from '../../src/oauth/index.ts';
import { RevocationList } from '../../src/revocation/index.ts';
import { buildJwks, generateKeyPair, mintAccessToken, mintRefreshToken } from '../../src/testing/index.ts';
import { startScriptedServer } from './fixtures.ts';

const POOL = 'eu-west-1_Revoke1';
const CLIENT = 'client-1';
const issuer = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`;
const key = generateKeyPair();

test('forged tokens (another key, the same kid) are refused before anything is revoked or listed', async (t) => {
  let requests = 0;
  const server = await startScriptedServer((request, response) => {
    requests++;
    request.resume().on('end', () => response.writeHead(200).end());
  });
  t.after(() => server.close());
  const client = new TokenEndpointClient({ domain: server.origin, clientId: CLIENT });
  const list = new RevocationList({ store: 'memory' });
  const verifier = new CognitoVerifier({
    userPoolId: POOL,
    clientId: CLIENT,
    tokenUse: 'access',
    jwks: buildJwks(key),
  });
  const forger = generateKeyPair({ kid: key.kid });
  const forged = mintAccessToken({
    key: forger,
    issuer,
    clientId: CLIENT,
    claims: { origin_jti: 'someone-elses-session' },
  });
  const session = new TokenSession(
    client,
    { accessToken: forged, refreshToken: mintRefreshToken() },
    { revocationList: list, verifier },
  );
  await assert.rejects(session.revoke(), { code: 'ERR_SIGNATURE_INVALID' });
  assert.equal(list.size, 0);
  assert.equal(requests, 0);

  const genuine = mintAccessToken({ key, issuer, clientId: CLIENT, claims: { origin_jti: 'my-session' } });
  await new TokenSession(
    client,
    { accessToken: genuine, refreshToken: mintRefreshToken() },
    { revocationList: list, verifier },
  ).revoke();
  assert.equal(list.isRevoked({ origin_jti: 'my-session' }), true);
  assert.equal(requests, 1);
});

test('a revocationList without a verifier is a configuration error', () => {
  const client = new TokenEndpointClient({
    domain: 'myapp.auth.eu-west-1.amazoncognito.com',
    clientId: CLIENT,
  });
  assert.throws(
    () =>
      new TokenSession(
        client,
        { accessToken: mintAccessToken({ key, issuer, clientId: CLIENT }), refreshToken: mintRefreshToken() },
        { revocationList: new RevocationList({ store: 'memory' }) },
      ),
    { code: 'ERR_CONFIG_INVALID', message: /verifier/ },
  );
});
