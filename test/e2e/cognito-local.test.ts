import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CognitoVerifier, decodeUnverified } from '../../src/index.ts';
import { mintRefreshToken } from '../../src/testing/index.ts';
import {
  type CognitoLocal,
  type LocalPool,
  type LocalTokens,
  type LocalUser,
  startCognitoLocal,
} from '../helpers/cognito-local.ts';

const PASSWORD = 'Corr3ct-Horse!';

interface Tenant {
  pool: LocalPool;
  clientId: string;
  user: LocalUser;
  tokens: LocalTokens;
}

let cognito: CognitoLocal;
let main: Tenant;
let other: Tenant;
let groupless: LocalTokens;

async function tenant(name: string, groups: string[]): Promise<Tenant> {
  const pool = await cognito.createPool(name);
  const clientId = await cognito.createClient(pool.userPoolId);
  for (const group of groups) await cognito.createGroup(pool.userPoolId, group);
  const user = await cognito.createUser(pool.userPoolId, `ada@${name}.example.com`, PASSWORD, groups);
  const tokens = await cognito.signIn(clientId, user.username, PASSWORD);
  return { pool, clientId, user, tokens };
}

/** A verifier for one tenant's pool whose fetches are recorded, so a test can see the JWKS come over HTTP. */
function verifierFor(
  { pool, clientId }: Tenant,
  tokenUse: 'id' | 'access' | null,
  extra: { groups?: string; scopes?: string; clientId?: string } = {},
  clock?: () => number,
) {
  const fetched: string[] = [];
  const verifier = new CognitoVerifier(
    { userPoolId: pool.userPoolId, issuer: pool.issuer, clientId, tokenUse, ...extra },
    {
      fetch: (input, init) => {
        fetched.push(String(input));
        return fetch(input, init);
      },
      ...(clock ? { clock } : {}),
    },
  );
  return { verifier, fetched };
}

before(async () => {
  cognito = await startCognitoLocal();
  main = await tenant('main', ['admins']);
  other = await tenant('other', []);
  const lonely = await cognito.createUser(main.pool.userPoolId, 'grace@main.example.com', PASSWORD);
  groupless = await cognito.signIn(main.clientId, lonely.username, PASSWORD);
});

after(async () => {
  await cognito?.stop();
});

test('the emulator issues tokens with its own loopback issuer and pool id', () => {
  assert.match(main.pool.userPoolId, /^local_\w+$/);
  const { header, payload } = decodeUnverified(main.tokens.idToken);
  assert.equal(header.kid, 'CognitoLocal');
  assert.equal(payload.iss, `${cognito.endpoint}/${main.pool.userPoolId}`);
});

test('a real ID token verifies with the JWKS fetched over HTTP from the emulator', async () => {
  const { verifier, fetched } = verifierFor(main, 'id');
  const claims = await verifier.verify(main.tokens.idToken);
  assert.equal(claims.token_use, 'id');
  assert.equal(claims.sub, main.user.sub);
  assert.equal(claims.aud, main.clientId);
  assert.equal(claims['cognito:username'], main.user.username);
  assert.equal(claims.email, main.user.email);
  assert.deepEqual(claims['cognito:groups'], ['admins']);
  assert.equal(claims.iss, main.pool.issuer);
  assert.deepEqual(fetched, [main.pool.jwksUri]);
  assert.deepEqual(verifier.jwksCache.inspect(main.pool.jwksUri).kids, ['CognitoLocal']);
});

test('a real access token verifies, and verifySync works once the keys are loaded', async () => {
  const { verifier, fetched } = verifierFor(main, 'access');
  assert.throws(() => verifier.verifySync(main.tokens.accessToken), { code: 'ERR_KEYS_NOT_LOADED' });
  await verifier.hydrate();
  const claims = verifier.verifySync(main.tokens.accessToken);
  assert.equal(claims.token_use, 'access');
  assert.equal(claims.sub, main.user.sub);
  assert.equal(claims.client_id, main.clientId);
  assert.equal(claims.username, main.user.username);
  assert.equal(claims.scope, 'aws.cognito.signin.user.admin');
  assert.deepEqual(claims['cognito:groups'], ['admins']);
  assert.deepEqual(fetched, [main.pool.jwksUri]);
});

test('tokenUse null accepts both real tokens; a fixed tokenUse rejects the other kind', async () => {
  const either = verifierFor(main, null).verifier;
  assert.equal((await either.verify(main.tokens.idToken)).token_use, 'id');
  assert.equal((await either.verify(main.tokens.accessToken)).token_use, 'access');
  await assert.rejects(verifierFor(main, 'id').verifier.verify(main.tokens.accessToken), {
    code: 'ERR_TOKEN_USE_MISMATCH',
    claim: 'token_use',
  });
  await assert.rejects(verifierFor(main, 'access').verifier.verify(main.tokens.idToken), {
    code: 'ERR_TOKEN_USE_MISMATCH',
    claim: 'token_use',
  });
});

test('a token from a second pool is rejected by issuer before any key request', async () => {
  const { verifier, fetched } = verifierFor(main, 'id');
  await assert.rejects(verifier.verify(other.tokens.idToken), { code: 'ERR_ISSUER_MISMATCH', claim: 'iss' });
  await assert.rejects(verifier.verify(other.tokens.accessToken), {
    code: 'ERR_ISSUER_MISMATCH',
    claim: 'iss',
  });
  assert.deepEqual(fetched, []);
});

test('a verifier configured for both pools accepts each pool with its own client', async () => {
  const verifier = new CognitoVerifier([
    { userPoolId: main.pool.userPoolId, issuer: main.pool.issuer, clientId: main.clientId, tokenUse: 'id' },
    {
      userPoolId: other.pool.userPoolId,
      issuer: other.pool.issuer,
      clientId: other.clientId,
      tokenUse: 'id',
    },
  ]);
  assert.equal((await verifier.verify(main.tokens.idToken)).sub, main.user.sub);
  assert.equal((await verifier.verify(other.tokens.idToken)).sub, other.user.sub);
});

test('a real token for another app client is rejected on aud and on client_id', async () => {
  const idVerifier = verifierFor(main, 'id', { clientId: other.clientId }).verifier;
  await assert.rejects(idVerifier.verify(main.tokens.idToken), { code: 'ERR_CLIENT_MISMATCH', claim: 'aud' });
  const accessVerifier = verifierFor(main, 'access', { clientId: other.clientId }).verifier;
  await assert.rejects(accessVerifier.verify(main.tokens.accessToken), {
    code: 'ERR_CLIENT_MISMATCH',
    claim: 'client_id',
  });
});

test('tokens obtained through REFRESH_TOKEN_AUTH verify', async () => {
  const fresh = await cognito.refresh(main.clientId, main.tokens.refreshToken);
  assert.notEqual(fresh.accessToken, main.tokens.accessToken);
  const ids = verifierFor(main, 'id').verifier;
  const access = verifierFor(main, 'access').verifier;
  const idClaims = await ids.verify(fresh.idToken);
  const accessClaims = await access.verify(fresh.accessToken);
  assert.equal(idClaims.sub, main.user.sub);
  assert.equal(accessClaims.sub, main.user.sub);
  assert.equal(accessClaims.client_id, main.clientId);
  assert.notEqual(accessClaims.jti, decodeUnverified(main.tokens.accessToken).payload.jti);
});

test('groups and scopes configs are enforced on real tokens (403 when missing)', async () => {
  assert.deepEqual(
    (await verifierFor(main, 'id', { groups: 'admins' }).verifier.verify(main.tokens.idToken))[
      'cognito:groups'
    ],
    ['admins'],
  );
  await assert.rejects(verifierFor(main, 'id', { groups: 'auditors' }).verifier.verify(main.tokens.idToken), {
    code: 'ERR_GROUP_MISSING',
    status: 403,
  });
  await assert.rejects(
    verifierFor(main, 'access', { groups: 'admins' }).verifier.verify(groupless.accessToken),
    {
      code: 'ERR_GROUP_MISSING',
      status: 403,
    },
  );
  const scoped = verifierFor(main, 'access', { scopes: 'aws.cognito.signin.user.admin' }).verifier;
  assert.equal((await scoped.verify(main.tokens.accessToken)).scope, 'aws.cognito.signin.user.admin');
  await assert.rejects(
    verifierFor(main, 'access', { scopes: 'orders/read' }).verifier.verify(main.tokens.accessToken),
    { code: 'ERR_SCOPE_MISSING', status: 403 },
  );
});

test('a real token with a changed claim fails the signature check', async () => {
  const [header, , signature] = main.tokens.accessToken.split('.');
  const payload = { ...decodeUnverified(main.tokens.accessToken).payload, 'cognito:groups': ['superusers'] };
  const forged = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
  await assert.rejects(verifierFor(main, 'access').verifier.verify(forged), {
    code: 'ERR_SIGNATURE_INVALID',
  });
});

test('a real token is rejected once its exp has passed (ERR_TOKEN_EXPIRED)', async () => {
  const { exp } = decodeUnverified(main.tokens.idToken).payload;
  assert.equal(typeof exp, 'number');
  const { verifier } = verifierFor(main, 'id', {}, () => exp! * 1000);
  await assert.rejects(verifier.verify(main.tokens.idToken), { code: 'ERR_TOKEN_EXPIRED', claim: 'exp' });
});

test("the emulator's refresh token (a signed 3-part JWT without kid) is rejected as malformed", async () => {
  const refresh = main.tokens.refreshToken;
  const { header, payload } = decodeUnverified(refresh);
  // Unlike Cognito's 5-part JWE, cognito-local signs its refresh token as a JWT, with no kid and no token_use.
  assert.equal(refresh.split('.').length, 3);
  assert.equal(header.kid, undefined);
  assert.equal(payload.token_use, undefined);
  for (const tokenUse of ['id', 'access', null] as const) {
    await assert.rejects(verifierFor(main, tokenUse).verifier.verify(refresh), {
      code: 'ERR_TOKEN_MALFORMED',
      claim: 'kid',
    });
  }
  await assert.rejects(verifierFor(main, null).verifier.verify(mintRefreshToken()), {
    code: 'ERR_REFRESH_TOKEN_PRESENTED',
  });
});
