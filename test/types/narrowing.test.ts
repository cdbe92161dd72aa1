/**
 * verify() and verifySync() return claims narrowed by `tokenUse`. The `expectType` and `expectTrue`
 * lines are checked by `npx tsc -p tsconfig.json`; the asserts check the same claims at run time
 * with real tokens, so the types describe what actually comes back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CognitoAccessTokenClaims,
  type CognitoClaims,
  type CognitoIdTokenClaims,
  CognitoVerifier,
  type ErrorCode,
} from '../../src/index.ts';
import {
  buildJwks,
  DEFAULT_TEST_POOL_ID,
  generateKeyPair,
  mintAccessToken,
  mintClientCredentialsToken,
  mintIdToken,
} from '../../src/testing/index.ts';
import { type Equals, expectTrue, expectType } from '../helpers/expect-type.ts';
import { noFetch } from '../helpers/no-fetch.ts';

const key = generateKeyPair();
const jwks = buildJwks(key);
const userPoolId = DEFAULT_TEST_POOL_ID;
const options = () => ({ fetch: noFetch().fetch });

test("tokenUse 'id': claims are CognitoIdTokenClaims, aud is a string", async () => {
  const verifier = new CognitoVerifier({ userPoolId, clientId: 'web', tokenUse: 'id', jwks }, options());
  const claims = await verifier.verify(mintIdToken({ key, clientId: 'web', username: 'alice' }));
  expectTrue<Equals<typeof claims, CognitoIdTokenClaims>>();
  const aud: string = claims.aud;
  const username: string = claims['cognito:username'];
  assert.equal(aud, 'web');
  assert.equal(username, 'alice');
  assert.equal(expectType<'id'>(claims.token_use), 'id');
  expectTrue<Equals<ReturnType<typeof verifier.verifySync>, CognitoIdTokenClaims>>();
});

test("tokenUse 'access': claims are CognitoAccessTokenClaims, client_id is a string", async () => {
  const verifier = new CognitoVerifier({ userPoolId, clientId: 'api', tokenUse: 'access', jwks }, options());
  const claims = verifier.verifySync(mintAccessToken({ key, clientId: 'api', scope: 'a/read' }));
  expectTrue<Equals<typeof claims, CognitoAccessTokenClaims>>();
  const clientId: string = claims.client_id;
  const scope: string | undefined = claims.scope;
  assert.equal(clientId, 'api');
  assert.equal(scope, 'a/read');
  const m2m = await verifier.verify(mintClientCredentialsToken({ key, clientId: 'api' }));
  const username: string | undefined = m2m.username;
  assert.equal(username, undefined);
});

test('tokenUse null: the union, narrowed by checking token_use', async () => {
  const verifier = new CognitoVerifier({ userPoolId, clientId: null, tokenUse: null, jwks }, options());
  for (const token of [mintIdToken({ key, clientId: 'web' }), mintAccessToken({ key, clientId: 'api' })]) {
    const claims = await verifier.verify(token);
    expectTrue<Equals<typeof claims, CognitoClaims>>();
    if (claims.token_use === 'id') {
      const aud: string = claims.aud;
      assert.equal(aud, 'web');
    } else {
      const clientId: string = claims.client_id;
      assert.equal(clientId, 'api');
    }
  }
});

test('a list of configs returns the union of their claims', async () => {
  const verifier = new CognitoVerifier(
    [
      { userPoolId, clientId: 'web', tokenUse: 'id', jwks },
      {
        userPoolId: 'local_other',
        issuer: 'http://127.0.0.1:9/local_other',
        clientId: 'api',
        tokenUse: 'access',
        jwks,
      },
    ],
    options(),
  );
  const claims = await verifier.verify(mintIdToken({ key, clientId: 'web' }));
  expectTrue<Equals<typeof claims, CognitoIdTokenClaims | CognitoAccessTokenClaims>>();
  assert.equal(claims.token_use, 'id');
});

test('error codes are a union that switch narrows', async () => {
  const verifier = new CognitoVerifier({ userPoolId, clientId: 'web', tokenUse: 'id', jwks }, options());
  const code = await verifier.verify(mintAccessToken({ key, clientId: 'web' })).then(
    () => undefined,
    (error: { code: ErrorCode }) => error.code,
  );
  expectType<ErrorCode | undefined>(code);
  assert.equal(code, 'ERR_TOKEN_USE_MISMATCH');
});
