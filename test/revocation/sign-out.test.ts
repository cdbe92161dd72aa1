import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient } from 'redis';
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
import { startRedisServer } from '../helpers/redis-server.ts';
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

test('sign-outs through TokenSession and client.revoke name the session pool and user in Redis, so a full list folds them into one cut-off', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.stop());
  const { client, bodies } = await revokeEndpoint(t);
  const revoker = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  t.after(() => revoker.close());
  await revoker.ready;
  const verifier = new CognitoVerifier(
    { userPoolId: POOL, clientId: CLIENT, tokenUse: 'access', jwks: buildJwks(key) },
    { isRevoked: revoker.isRevoked },
  );
  const first = mintAccessToken({ key, issuer, clientId: CLIENT, sub: 'user-a' });
  await new TokenSession(
    client,
    { accessToken: first, refreshToken: mintRefreshToken() },
    { revocationList: revoker, verifier },
  ).revoke();
  // The caller of client.revoke passes what its verified claims say.
  const second = mintAccessToken({ key, issuer, clientId: CLIENT, sub: 'user-a' });
  const claims = verifier.verifySync(second);
  await client.revoke(mintRefreshToken(), {
    revocationList: revoker,
    originJti: claims.origin_jti as string,
    userPoolId: POOL,
    sub: claims.sub,
  });
  assert.equal(bodies.length, 2);

  const raw = createClient({ url: redis.url });
  await raw.connect();
  const members = await raw.zRange('cognito-jwt:revocation:entries', 0, -1);
  await raw.close();
  for (const token of [first, second]) {
    const originJti = decodeUnverified(token).payload.origin_jti as string;
    assert.ok(
      members.some((member) => member.startsWith(`o\t${POOL}\tuser-a\t${originJti}\t`)),
      `the store holds ${originJti} with its pool and user: ${members.join(' | ')}`,
    );
  }

  // A process started later with room for one entry per pool: the user's two sessions become one
  // cut-off (one entry, both sessions folded into it), and both stay refused.
  const small = new RevocationList({
    redis: { url: redis.url },
    onUnavailable: 'reject',
    maxEntriesPerPool: 1,
  });
  t.after(() => small.close());
  await small.ready;
  const pool = small.status.pools.find((one) => one.userPoolId === POOL);
  assert.deepEqual({ entries: pool?.entries, folded: pool?.folded }, { entries: 1, folded: 2 });
  assert.equal(small.status.pools.find((one) => one.userPoolId === '')?.entries ?? 0, 0);
  for (const token of [first, second]) {
    assert.equal(small.isRevoked(decodeUnverified(token).payload), true);
  }
  assert.equal(
    small.isRevoked({ iss: issuer, sub: 'user-b', iat: claims.iat, origin_jti: 'another-session' }),
    false,
    'another user of the pool is not touched',
  );
});

test('client.revoke checks the pool and user before anything is sent', async (t) => {
  const { client, bodies } = await revokeEndpoint(t);
  const list = new RevocationList({ store: 'memory' });
  await assert.rejects(
    client.revoke(mintRefreshToken(), { revocationList: list, originJti: 'o', sub: 'u' }),
    {
      code: 'ERR_CONFIG_INVALID',
      message: /sub needs userPoolId/,
    },
  );
  await assert.rejects(
    client.revoke(mintRefreshToken(), { revocationList: list, originJti: 'o', userPoolId: 'not a pool' }),
    { code: 'ERR_CONFIG_INVALID', message: /userPoolId must look like/ },
  );
  await assert.rejects(client.revoke(mintRefreshToken(), { userPoolId: POOL, sub: 'u' }), {
    code: 'ERR_CONFIG_INVALID',
    message: /go with a revocationList/,
  });
  assert.equal(bodies.length, 0, 'refused before anything was sent');
  assert.equal(list.size, 0);
});
