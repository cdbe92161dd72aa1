import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CognitoVerifier, decodeUnverified } from '../../src/index.ts';
import { TokenEndpointClient, TokenSession } from '../../src/oauth/index.ts';
import { RevocationList } from '../../src/revocation/index.ts';
import {
  buildJwks,
  generateKeyPair,
  mintAccessToken,
  mintIdToken,
  mintRefreshToken,
} from '../../src/testing/index.ts';
import { startScriptedServer } from '../oauth/fixtures.ts';

const key = generateKeyPair();
const POOL = 'eu-west-1_SignOut1';
const CLIENT = 'client-1';
const issuer = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`;

async function revokeEndpoint(t: import('node:test').TestContext, status = 200) {
  const bodies: string[] = [];
  const server = await startScriptedServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      bodies.push(`${request.url} ${body}`);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(status === 200 ? '' : '{"error":"invalid_request"}');
    });
  });
  t.after(() => server.close());
  const client = new TokenEndpointClient({ domain: server.origin, clientId: CLIENT });
  return { client, bodies };
}

test('TokenSession.revoke signs out at /oauth2/revoke, then refuses the session everywhere the list is used', async (t) => {
  const { client, bodies } = await revokeEndpoint(t);
  const list = new RevocationList({ store: 'memory' });
  const verifier = new CognitoVerifier(
    { userPoolId: POOL, clientId: CLIENT, tokenUse: 'access', jwks: buildJwks(key) },
    { isRevoked: list.isRevoked },
  );
  const accessToken = mintAccessToken({ key, issuer, clientId: CLIENT, sub: 'u' });
  const idToken = mintIdToken({
    key,
    issuer,
    clientId: CLIENT,
    sub: 'u',
    claims: { origin_jti: decodeUnverified(accessToken).payload.origin_jti },
  });
  const otherSession = mintAccessToken({ key, issuer, clientId: CLIENT, sub: 'u' });
  const session = new TokenSession(
    client,
    { accessToken, idToken, refreshToken: mintRefreshToken() },
    { revocationList: list, verifier },
  );
  verifier.verifySync(accessToken);
  await session.revoke();
  assert.equal(bodies.length, 1);
  assert.match(bodies[0]!, /^\/oauth2\/revoke token=/);
  assert.throws(() => verifier.verifySync(accessToken), { code: 'ERR_TOKEN_REVOKED' });
  assert.equal(verifier.verifySync(otherSession).sub, 'u');
  assert.equal(session.ended, true);
});

test('client.revoke adds the origin_jti only after Cognito accepted the revocation, and needs it up front', async (t) => {
  const list = new RevocationList({ store: 'memory' });
  const failing = await revokeEndpoint(t, 400);
  await assert.rejects(
    failing.client.revoke(mintRefreshToken(), { revocationList: list, originJti: 'o-1' }),
    {
      code: 'ERR_OAUTH_INVALID_REQUEST',
    },
  );
  assert.equal(list.size, 0, 'nothing added when Cognito refused');
  const working = await revokeEndpoint(t);
  await assert.rejects(working.client.revoke(mintRefreshToken(), { revocationList: list }), {
    code: 'ERR_CONFIG_INVALID',
  });
  assert.equal(working.bodies.length, 0, 'refused before anything was sent');
  await working.client.revoke(mintRefreshToken(), { revocationList: list, originJti: 'o-2' });
  assert.equal(list.isRevoked({ origin_jti: 'o-2' }), true);
});

test('a session whose tokens carry no origin_jti is refused before signing out, naming revokeUser', async (t) => {
  const { client, bodies } = await revokeEndpoint(t);
  const accessToken = mintAccessToken({ key, issuer, clientId: CLIENT, claims: { origin_jti: undefined } });
  const session = new TokenSession(
    client,
    { accessToken, refreshToken: mintRefreshToken() },
    {
      revocationList: new RevocationList({ store: 'memory' }),
      verifier: new CognitoVerifier({
        userPoolId: POOL,
        clientId: CLIENT,
        tokenUse: 'access',
        jwks: buildJwks(key),
      }),
    },
  );
  await assert.rejects(session.revoke(), { code: 'ERR_CONFIG_INVALID', message: /revokeUser/ });
  assert.equal(bodies.length, 0);
});
