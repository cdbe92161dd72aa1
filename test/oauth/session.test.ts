import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { CognitoJwtError } from '../../src/errors.ts';
import { type SessionTokens, TokenEndpointClient, TokenSession } from '../../src/oauth/index.ts';
import { generateKeyPair, mintAccessToken, mintIdToken } from '../../src/testing/index.ts';
import { BASIC_CLIENT, type TestOidcProvider } from '../helpers/oidc-provider.ts';
import { manualClock, startScriptedServer, withProvider } from './fixtures.ts';

/** Sign a user in: a refresh token made through the provider's models, exchanged once for ID and access tokens. */
async function signIn(op: TestOidcProvider, client: TokenEndpointClient): Promise<SessionTokens> {
  const refreshToken = await op.issueRefreshToken(BASIC_CLIENT.clientId);
  const { accessToken, idToken } = await client.refresh(refreshToken);
  return { accessToken, refreshToken, ...(idToken === undefined ? {} : { idToken }) };
}

/** Record every event a session emits, by name. */
function recordEvents(session: TokenSession): Record<'refreshed' | 'failed' | 'ended', unknown[]> {
  const seen = { refreshed: [] as unknown[], failed: [] as unknown[], ended: [] as unknown[] };
  session.on('refreshed', (info) => seen.refreshed.push(info));
  session.on('failed', (error) => seen.failed.push(error));
  session.on('ended', (error) => seen.ended.push(error));
  return seen;
}

test('session: serves held tokens until the margin before exp, then refreshes them', async () => {
  await withProvider({}, async (op) => {
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT });
    const tokens = await signIn(op, client);
    const clock = manualClock();
    const session = new TokenSession(client, tokens, { clock: clock.now });
    const events = recordEvents(session);
    const exp = session.expiresAt.getTime();
    assert.ok(exp > Date.now() + 3_500_000, 'expiry read from the tokens themselves');

    assert.equal(await session.getAccessToken(), tokens.accessToken);
    assert.equal(await session.getIdToken(), tokens.idToken);
    clock.set(exp - 60_001);
    assert.equal(await session.getAccessToken(), tokens.accessToken);
    assert.equal(op.tokenRequests('refresh_token'), 1, 'only the sign-in');

    clock.set(exp - 60_000);
    const refreshed = await session.getTokens();
    assert.notEqual(refreshed.accessToken, tokens.accessToken);
    assert.ok(refreshed.idToken);
    assert.equal(refreshed.refreshToken, tokens.refreshToken, 'no rotation: the refresh token stays');
    assert.equal(refreshed.expiresAt.getTime(), exp - 60_000 + 3_600_000);
    assert.equal(op.tokenRequests('refresh_token'), 2);
    assert.deepEqual(events.refreshed, [{ expiresAt: refreshed.expiresAt, refreshTokenRotated: false }]);
    assert.equal(events.failed.length, 0);
    assert.equal(await session.getAccessToken(), refreshed.accessToken);
    assert.equal(op.tokenRequests('refresh_token'), 2);
  });
});

test('session: 50 concurrent callers in the margin share one refresh', async () => {
  await withProvider({}, async (op) => {
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT });
    const clock = manualClock();
    const session = new TokenSession(client, await signIn(op, client), { clock: clock.now });
    clock.set(session.expiresAt.getTime() - 1_000);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => session.getAccessToken()));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(op.tokenRequests('refresh_token'), 2, 'sign-in + one refresh');
  });
});

test('session: autoRefresh refreshes in the background ahead of expiry (real timers, 4 s tokens)', async () => {
  await withProvider({ accessTokenTtlSeconds: 4 }, async (op) => {
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT });
    const tokens = await signIn(op, client);
    const session = new TokenSession(client, tokens, { autoRefresh: true });
    try {
      const expiresAt = session.expiresAt.getTime();
      const [info] = await once(session, 'refreshed', { signal: AbortSignal.timeout(15_000) });
      assert.ok(Date.now() < expiresAt, 'the refresh happened before the old tokens expired');
      assert.ok((info as { expiresAt: Date }).expiresAt.getTime() > expiresAt);
      assert.equal(op.tokenRequests('refresh_token'), 2);
      // Already fresh: asking does not refresh again.
      assert.notEqual(await session.getAccessToken(), tokens.accessToken);
      assert.equal(op.tokenRequests('refresh_token'), 2);
    } finally {
      session.close();
    }
  });
});

test('session: a revoked refresh token ends it with invalid_grant and events; later calls send nothing', async () => {
  await withProvider({}, async (op) => {
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT });
    const tokens = await signIn(op, client);
    const clock = manualClock();
    const session = new TokenSession(client, tokens, { clock: clock.now });
    const events = recordEvents(session);
    await client.revoke(tokens.refreshToken); // signed out elsewhere

    clock.set(session.expiresAt.getTime() - 30_000);
    const error = await session.getAccessToken().then(
      () => assert.fail('expected the session to end'),
      (caught: unknown) => caught as CognitoJwtError,
    );
    assert.ok(error instanceof CognitoJwtError);
    assert.equal(error.code, 'ERR_OAUTH_INVALID_GRANT');
    assert.ok(!error.message.includes(tokens.refreshToken));
    assert.equal(session.ended, true);
    assert.equal(events.failed.length, 1);
    assert.equal((events.failed[0] as CognitoJwtError).code, 'ERR_OAUTH_INVALID_GRANT');
    assert.deepEqual(events.ended, [error]);

    const requests = op.tokenRequests();
    await assert.rejects(session.getAccessToken(), { code: 'ERR_OAUTH_INVALID_GRANT' });
    await assert.rejects(session.refresh(), { code: 'ERR_OAUTH_INVALID_GRANT' });
    assert.equal(op.tokenRequests(), requests);
    assert.equal(events.ended.length, 1);
  });
});

test('session: revoke() signs out at the endpoint and ends the session', async () => {
  await withProvider({}, async (op) => {
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT });
    const tokens = await signIn(op, client);
    const session = new TokenSession(client, tokens);
    const events = recordEvents(session);
    await session.revoke();
    assert.equal(op.revocationRequests, 1);
    assert.equal(session.ended, true);
    assert.equal(events.ended.length, 1);
    await assert.rejects(session.getAccessToken(), { code: 'ERR_OAUTH_INVALID_GRANT' });
    await assert.rejects(client.refresh(tokens.refreshToken), { code: 'ERR_OAUTH_INVALID_GRANT' });
  });
});

test('session: with rotation it keeps the new refresh token and keeps refreshing', async () => {
  await withProvider({ rotateRefreshToken: true }, async (op) => {
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT });
    const first = await op.issueRefreshToken(BASIC_CLIENT.clientId);
    const clock = manualClock();
    // An opaque access token has no exp: the session refreshes on first use.
    const session = new TokenSession(
      client,
      { accessToken: 'opaque', refreshToken: first },
      { clock: clock.now },
    );
    const events = recordEvents(session);
    const second = (await session.getTokens()).refreshToken;
    assert.notEqual(second, first);
    await session.refresh();
    const third = (await session.getTokens()).refreshToken;
    assert.notEqual(third, second);
    assert.deepEqual(
      events.refreshed.map((info) => (info as { refreshTokenRotated: boolean }).refreshTokenRotated),
      [true, true],
    );
    assert.equal(op.tokenRequests('refresh_token'), 2);
  });
});

test('session: a transient failure is reported but keeps the session; the next call retries', async () => {
  const key = generateKeyPair();
  let failing = true;
  const server = await startScriptedServer((_request, response) => {
    if (failing) {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end('{"error":"server_error"}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        access_token: mintAccessToken({ key, expiresIn: 3600 }),
        id_token: mintIdToken({ key, expiresIn: 3600 }),
        token_type: 'Bearer',
        expires_in: 3600,
      }),
    );
  });
  try {
    const client = new TokenEndpointClient({ domain: server.origin, ...BASIC_CLIENT });
    const tokens = {
      accessToken: mintAccessToken({ key, expiresIn: 30 }),
      idToken: mintIdToken({ key, expiresIn: 30 }),
      refreshToken: 'held-refresh-token',
    };
    const clock = manualClock();
    const session = new TokenSession(client, tokens, { clock: clock.now });
    const events = recordEvents(session);
    clock.set(session.expiresAt.getTime() - 1_000);
    await assert.rejects(session.getAccessToken(), { code: 'ERR_OAUTH_SERVER_ERROR' });
    assert.equal(session.ended, false);
    assert.equal(events.failed.length, 1);
    assert.equal(events.ended.length, 0);

    failing = false;
    assert.notEqual(await session.getAccessToken(), tokens.accessToken);
    assert.equal(server.requests, 2);
    assert.equal(events.refreshed.length, 1);
  } finally {
    await server.close();
  }
});

test('session: logging it shows no token; bad arguments are ConfigErrors', async () => {
  const client = new TokenEndpointClient({ domain: 'myapp.auth.us-east-1.amazoncognito.com', clientId: 'c' });
  const tokens = {
    accessToken: 'secret-access-value',
    idToken: 'secret-id-value',
    refreshToken: 'secret-refresh-value',
  };
  const session = new TokenSession(client, tokens);
  const shown = `${inspect(session, { depth: 10, showHidden: true })} ${JSON.stringify(session)}`;
  for (const token of Object.values(tokens)) assert.ok(!shown.includes(token), shown);

  assert.throws(() => new TokenSession(client, { accessToken: 'a', refreshToken: '' }), {
    code: 'ERR_CONFIG_INVALID',
  });
  assert.throws(() => new TokenSession({} as TokenEndpointClient, tokens), { code: 'ERR_CONFIG_INVALID' });
  assert.throws(() => new TokenSession(client, tokens, { expiryMarginSeconds: -1 }), {
    code: 'ERR_CONFIG_INVALID',
  });
});
