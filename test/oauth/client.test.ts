import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CognitoJwtError } from '../../src/errors.ts';
import { TokenEndpointClient, TokenEndpointError } from '../../src/oauth/index.ts';
import { decodeUnverified } from '../../src/token/decode.ts';
import {
  BASIC_CLIENT,
  FORBIDDEN_SCOPE,
  POST_CLIENT,
  PUBLIC_CLIENT,
  RESOURCE_SCOPES,
} from '../helpers/oidc-provider.ts';
import { countingFetch, manualClock, withProvider } from './fixtures.ts';

/** Assert the rejection's code and that its message does not echo any of the secrets. */
async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  secrets: string[],
): Promise<TokenEndpointError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}, but the call succeeded`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof TokenEndpointError, `expected a TokenEndpointError, got ${String(error)}`);
  assert.ok(error instanceof CognitoJwtError);
  assert.equal(error.code, code, error.message);
  for (const secret of secrets) {
    assert.ok(!error.message.includes(secret), 'the message must not contain a token or secret');
    assert.ok(!String(error.stack).includes(secret), 'the stack must not contain a token or secret');
  }
  return error;
}

test('refresh: client_secret_basic gets new ID and access tokens over the real /oauth2/token', async () => {
  await withProvider({}, async (op) => {
    const counter = countingFetch();
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT, fetch: counter.fetch });
    assert.equal(client.tokenEndpoint, `${op.origin}/oauth2/token`);
    const refreshToken = await op.issueRefreshToken(BASIC_CLIENT.clientId, 'user-basic');

    const tokens = await client.refresh(refreshToken);

    assert.equal(tokens.tokenType, 'Bearer');
    assert.equal(tokens.expiresIn, 3600);
    assert.equal(tokens.refreshToken, undefined, 'no rotation: no new refresh token is reported');
    const access = decodeUnverified(tokens.accessToken).payload;
    assert.equal(access.sub, 'user-basic');
    assert.equal(access.client_id, BASIC_CLIENT.clientId);
    assert.ok(tokens.idToken, 'the openid scope yields an ID token');
    const id = decodeUnverified(tokens.idToken).payload;
    assert.equal(id.aud, BASIC_CLIENT.clientId);
    assert.equal(op.tokenRequests('refresh_token'), 1);
    assert.equal(counter.count('/oauth2/token'), 1);
  });
});

test('refresh: client_secret_post and a public client (client_id only) both work', async () => {
  await withProvider({}, async (op) => {
    const post = new TokenEndpointClient({
      domain: op.origin,
      ...POST_CLIENT,
      authMethod: 'client_secret_post',
    });
    const fromPost = await post.refresh(await op.issueRefreshToken(POST_CLIENT.clientId));
    assert.equal(decodeUnverified(fromPost.accessToken).payload.client_id, POST_CLIENT.clientId);

    const pub = new TokenEndpointClient({ domain: op.origin, ...PUBLIC_CLIENT });
    const fromPublic = await pub.refresh(await op.issueRefreshToken(PUBLIC_CLIENT.clientId));
    assert.equal(decodeUnverified(fromPublic.accessToken).payload.client_id, PUBLIC_CLIENT.clientId);
    assert.equal(op.tokenRequests('refresh_token'), 2);
  });
});

test('refresh: a server that rotates refresh tokens hands back the new one', async () => {
  await withProvider({ rotateRefreshToken: true }, async (op) => {
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT });
    const first = await op.issueRefreshToken(BASIC_CLIENT.clientId);
    const { refreshToken: second } = await client.refresh(first);
    assert.ok(second && second !== first, 'a new refresh token');
    await rejectsWith(client.refresh(first), 'ERR_OAUTH_INVALID_GRANT', [first]);
  });
});

test('refresh: a bogus refresh token is invalid_grant, with the description kept and the token not echoed', async () => {
  await withProvider({}, async (op) => {
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT });
    const bogus = 'bogus-refresh-token-0123456789abcdefghijklmnopqrstuvwxyz';
    const error = await rejectsWith(client.refresh(bogus), 'ERR_OAUTH_INVALID_GRANT', [bogus]);
    assert.equal(error.oauthError, 'invalid_grant');
    assert.equal(typeof error.errorDescription, 'string');
    assert.ok(error.message.includes(error.errorDescription!), error.message);
    assert.equal(error.httpStatus, 400);
    assert.equal(error.status, 400);
  });
});

test('refresh: a refresh token of another client is invalid_grant', async () => {
  await withProvider({}, async (op) => {
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT });
    const foreign = await op.issueRefreshToken(PUBLIC_CLIENT.clientId);
    await rejectsWith(client.refresh(foreign), 'ERR_OAUTH_INVALID_GRANT', [foreign]);
  });
});

test('refresh: an empty refresh token is refused before any request', async () => {
  await withProvider({}, async (op) => {
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT });
    await rejectsWith(client.refresh(''), 'ERR_OAUTH_INVALID_REQUEST', []);
    await rejectsWith(client.refresh(undefined as unknown as string), 'ERR_OAUTH_INVALID_REQUEST', []);
    assert.equal(op.tokenRequests(), 0);
  });
});

test('a wrong secret is invalid_client, by Basic header and by POST body, and the secret is not echoed', async () => {
  await withProvider({}, async (op) => {
    const wrong = 'wrong-secret-value-42';
    const refreshToken = await op.issueRefreshToken(BASIC_CLIENT.clientId);
    const basic = new TokenEndpointClient({
      domain: op.origin,
      clientId: BASIC_CLIENT.clientId,
      clientSecret: wrong,
    });
    const fromBasic = await rejectsWith(basic.refresh(refreshToken), 'ERR_OAUTH_INVALID_CLIENT', [
      wrong,
      refreshToken,
    ]);
    assert.equal(fromBasic.httpStatus, 401);
    assert.equal(fromBasic.status, 401);

    const post = new TokenEndpointClient({
      domain: op.origin,
      clientId: POST_CLIENT.clientId,
      clientSecret: wrong,
      authMethod: 'client_secret_post',
    });
    await rejectsWith(post.clientCredentials({ scopes: ['orders/read'] }), 'ERR_OAUTH_INVALID_CLIENT', [
      wrong,
    ]);
  });
});

test('client credentials: the requested scopes are granted, in a JWT access token', async () => {
  await withProvider({}, async (op) => {
    const clock = manualClock();
    for (const credentials of [BASIC_CLIENT, POST_CLIENT]) {
      const client = new TokenEndpointClient({
        tokenEndpoint: op.tokenEndpoint,
        clock: clock.now,
        ...credentials,
        authMethod: credentials === POST_CLIENT ? 'client_secret_post' : 'client_secret_basic',
      });
      const token = await client.clientCredentials({ scopes: ['orders/read'] });
      assert.equal(token.scope, 'orders/read');
      assert.equal(token.tokenType, 'Bearer');
      const claims = decodeUnverified(token.accessToken).payload;
      assert.equal(claims.client_id, credentials.clientId);
      assert.equal(claims.scope, 'orders/read');
      assert.equal((claims.exp as number) - (claims.iat as number), 3600);
      assert.equal(
        token.expiresAt.getTime(),
        clock.now() + 3_600_000,
        'expiry counts from the request, locally',
      );

      const both = await client.clientCredentials({ scopes: ['orders/write', 'orders/read'] });
      assert.equal(both.scope, RESOURCE_SCOPES.join(' '));
      assert.notEqual(both.accessToken, token.accessToken, 'another scope set is another token');
    }
    assert.equal(op.tokenRequests('client_credentials'), 4);
  });
});

test('client credentials: a scope the client may not have is invalid_scope', async () => {
  await withProvider({}, async (op) => {
    const client = new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT });
    const error = await rejectsWith(
      client.clientCredentials({ scopes: [FORBIDDEN_SCOPE] }),
      'ERR_OAUTH_INVALID_SCOPE',
      [BASIC_CLIENT.clientSecret],
    );
    assert.equal(error.oauthError, 'invalid_scope');
  });
});

test('client credentials: a public client is told it needs a secret, without a request', async () => {
  await withProvider({}, async (op) => {
    const client = new TokenEndpointClient({ domain: op.origin, ...PUBLIC_CLIENT });
    await assert.rejects(client.clientCredentials(), { code: 'ERR_CONFIG_INVALID' });
    await assert.rejects(
      new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT }).clientCredentials({ scopes: ['a b'] }),
      {
        code: 'ERR_CONFIG_INVALID',
      },
    );
    assert.equal(op.tokenRequests(), 0);
  });
});

test('revoke, then refresh fails with invalid_grant (confidential and public clients)', async () => {
  await withProvider({}, async (op) => {
    for (const credentials of [BASIC_CLIENT, PUBLIC_CLIENT]) {
      const client = new TokenEndpointClient({ domain: op.origin, ...credentials });
      assert.equal(client.revocationEndpoint, `${op.origin}/oauth2/revoke`);
      const refreshToken = await op.issueRefreshToken(credentials.clientId);
      await client.refresh(refreshToken);
      await client.revoke(refreshToken);
      await rejectsWith(client.refresh(refreshToken), 'ERR_OAUTH_INVALID_GRANT', [refreshToken]);
      await client.revoke(refreshToken); // already revoked: still 200, like Cognito
    }
    assert.equal(op.revocationRequests, 4);
    assert.equal(op.tokenRequests('refresh_token'), 4);
  });
});

test('revoke with a wrong secret is invalid_client', async () => {
  await withProvider({}, async (op) => {
    const refreshToken = await op.issueRefreshToken(BASIC_CLIENT.clientId);
    const client = new TokenEndpointClient({
      domain: op.origin,
      clientId: BASIC_CLIENT.clientId,
      clientSecret: 'nope',
    });
    await rejectsWith(client.revoke(refreshToken), 'ERR_OAUTH_INVALID_CLIENT', [refreshToken, 'nope']);
    await new TokenEndpointClient({ domain: op.origin, ...BASIC_CLIENT }).refresh(refreshToken); // still valid
  });
});

test('tokenEndpoint without /oauth2/token has no revocation endpoint unless one is given', async () => {
  const client = new TokenEndpointClient({ tokenEndpoint: 'https://idp.example.com/token', clientId: 'c' });
  assert.equal(client.revocationEndpoint, undefined);
  await assert.rejects(client.revoke('some-refresh-token'), { code: 'ERR_CONFIG_INVALID' });
  const explicit = new TokenEndpointClient({
    tokenEndpoint: 'https://idp.example.com/token',
    revocationEndpoint: 'https://idp.example.com/revoke',
    clientId: 'c',
  });
  assert.equal(explicit.revocationEndpoint, 'https://idp.example.com/revoke');
});
