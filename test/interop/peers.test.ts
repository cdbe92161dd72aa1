/**
 * Differential tests: the same tokens through cognito-jwt, aws-jwt-verify and jose.
 *
 * aws-jwt-verify's `CognitoJwtVerifier` derives an https issuer and JWKS URL from the pool id and
 * its built-in fetcher speaks https only. So for Cognito issuers it gets a `SimpleJwksCache` whose
 * `Fetcher` serves the pool's JWKS URL from our loopback server (and refuses any other URL, so no
 * test reaches the internet), and for a loopback http issuer its generic `JwtVerifier` gets a
 * `Fetcher` on top of the global fetch.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  JwtExpiredError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  KidNotFoundInJwksError,
  ParameterValidationError,
} from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache, SimplePenaltyBox } from 'aws-jwt-verify/jwk';
import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  type JWTVerifyGetKey,
  generateKeyPair as joseKeyPair,
  jwtVerify,
  SignJWT,
} from 'jose';
import { CognitoVerifier, type ErrorCode, type Jwks, type TokenUse } from '../../src/index.ts';
import {
  buildJwks,
  generateKeyPair,
  type JwksServer,
  mintAccessToken,
  mintClientCredentialsToken,
  mintIdToken,
  mintRefreshToken,
  signJwt,
  startJwksServer,
} from '../../src/testing/index.ts';

const POOL = 'us-east-1_PeerPool1';
const ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${POOL}`;
const CLIENT = 'peerclient1234567890abcd';
const OTHER_CLIENT = 'otherclient0987654321dcba';
const LOOPBACK_POOL = 'local_PeerLoop';

const key = generateKeyPair();
const attacker = generateKeyPair({ kid: key.kid });
const stranger = generateKeyPair();

/** A verifier under test, reduced to "verify this token expecting this token use". */
interface Peer {
  verify(token: string, tokenUse: TokenUse): Promise<Record<string, unknown>>;
}

let server: JwksServer;
let peers: { ours: Peer; aws: Peer; jose: Peer };
let awsFetcher: ReturnType<typeof loopbackFetcher>;

async function fetchBody(uri: string): Promise<ArrayBuffer> {
  const response = await fetch(uri, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${uri} answered ${response.status}`);
  return response.arrayBuffer();
}

/** aws-jwt-verify's Fetcher on top of the global fetch, which (unlike its https-only default) speaks http. */
const globalFetcher: Fetcher = { fetch: (uri) => fetchBody(uri) };

/** A Fetcher that answers the Cognito pool's JWKS URLs from the loopback server, and nothing else. */
function loopbackFetcher(jwksUri: string): Fetcher & { requested: string[] } {
  const cognitoUris = [ISSUER, ISSUER.replace('//cognito-idp.', '//issuer-cognito-idp.')].map(
    (issuer) => `${issuer}/.well-known/jwks.json`,
  );
  const requested: string[] = [];
  return {
    requested,
    fetch(uri) {
      requested.push(uri);
      if (!cognitoUris.includes(uri)) return Promise.reject(new Error(`unexpected request to ${uri}`));
      return fetchBody(jwksUri);
    },
  };
}

before(async () => {
  server = await startJwksServer({ keys: [key] });
  const jwksUri = server.jwksUri(POOL);
  // No unknown-kid cooldown in any peer: an unknown kid then always means a refetch and "not found"
  // (within a cooldown it would be ERR_KID_COOLDOWN or WaitPeriodNotYetEndedJwkError, depending on test order).
  const ours = {
    id: new CognitoVerifier(
      { userPoolId: POOL, clientId: CLIENT, tokenUse: 'id', jwksUri },
      { cooldownMs: 0 },
    ),
    access: new CognitoVerifier(
      { userPoolId: POOL, clientId: CLIENT, tokenUse: 'access', jwksUri },
      { cooldownMs: 0 },
    ),
  };
  awsFetcher = loopbackFetcher(jwksUri);
  const jwksCache = new SimpleJwksCache({
    fetcher: awsFetcher,
    penaltyBox: new SimplePenaltyBox({ waitSeconds: 0 }),
  });
  const aws = {
    id: CognitoJwtVerifier.create({ userPoolId: POOL, clientId: CLIENT, tokenUse: 'id' }, { jwksCache }),
    access: CognitoJwtVerifier.create(
      { userPoolId: POOL, clientId: CLIENT, tokenUse: 'access' },
      { jwksCache },
    ),
  };
  const remote = createRemoteJWKSet(new URL(jwksUri), { cooldownDuration: 0 });
  peers = {
    ours: { verify: (token, use) => ours[use].verify(token) },
    aws: { verify: (token, use) => aws[use].verify(token) },
    jose: {
      // jose knows nothing of token_use or client_id; an ID token's client is its aud.
      verify: async (token, use) =>
        (
          await jwtVerify(token, remote, {
            issuer: ISSUER,
            algorithms: ['RS256'],
            requiredClaims: ['exp'],
            ...(use === 'id' ? { audience: CLIENT } : {}),
          })
        ).payload,
    },
  };
});

after(async () => {
  await server.close();
  assert.ok(awsFetcher.requested.length > 0, 'aws-jwt-verify fetched the JWKS through the loopback fetcher');
});

describe('tokens minted by the test kit verify under every peer with the same claims', () => {
  const cases: { name: string; use: TokenUse; token: () => string }[] = [
    { name: 'ID token', use: 'id', token: () => mintIdToken({ key, userPoolId: POOL, clientId: CLIENT }) },
    {
      name: 'access token with groups and scopes',
      use: 'access',
      token: () =>
        mintAccessToken({
          key,
          userPoolId: POOL,
          clientId: CLIENT,
          groups: ['admins', 'staff'],
          scope: ['openid', 'orders/read'],
        }),
    },
    {
      name: 'client-credentials access token',
      use: 'access',
      token: () => mintClientCredentialsToken({ key, userPoolId: POOL, clientId: CLIENT }),
    },
  ];
  for (const { name, use, token: make } of cases) {
    test(name, async () => {
      const token = make();
      const [ours, aws, jose] = await Promise.all(
        [peers.ours, peers.aws, peers.jose].map((peer) => peer.verify(token, use)),
      );
      assert.equal(ours?.token_use, use);
      assert.equal(ours?.iss, ISSUER);
      assert.deepEqual(aws, ours);
      assert.deepEqual(jose, ours);
    });
  }
});

test('on a loopback http issuer: aws-jwt-verify JwtVerifier (fetch-based Fetcher) and jose remote and local key sets', async () => {
  const issuer = server.issuer(LOOPBACK_POOL);
  const jwksUri = server.jwksUri(LOOPBACK_POOL);
  const idToken = mintIdToken({ key, issuer, clientId: CLIENT, groups: ['admins'] });
  const accessToken = mintAccessToken({ key, issuer, clientId: CLIENT });
  const before = server.requestCount;

  const aws = JwtVerifier.create(
    {
      issuer,
      audience: null,
      jwksUri,
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== 'access' || payload.client_id !== CLIENT)
          throw new Error('not an access token of this client');
      },
    },
    { jwksCache: new SimpleJwksCache({ fetcher: globalFetcher }) },
  );
  const awsClaims = await aws.verify(accessToken);
  await assert.rejects(aws.verify(idToken), /not an access token of this client/);
  const awsIds = JwtVerifier.create(
    { issuer, audience: CLIENT, jwksUri },
    { jwksCache: new SimpleJwksCache({ fetcher: globalFetcher }) },
  );
  const awsIdClaims = await awsIds.verify(idToken);

  const ours = new CognitoVerifier({ userPoolId: LOOPBACK_POOL, issuer, clientId: CLIENT, tokenUse: null });
  assert.deepEqual(await ours.verify(accessToken), awsClaims);
  assert.deepEqual(await ours.verify(idToken), awsIdClaims);

  const remote = createRemoteJWKSet(new URL(jwksUri));
  const local = createLocalJWKSet(buildJwks(key));
  for (const keys of [remote, local] as JWTVerifyGetKey[]) {
    const { payload } = await jwtVerify(idToken, keys, { issuer, audience: CLIENT, algorithms: ['RS256'] });
    assert.deepEqual(payload, awsIdClaims);
  }
  // aws-jwt-verify (twice), cognito-jwt and jose's remote set each fetched the JWKS over HTTP once.
  assert.equal(server.requestCount - before, 4);
});

describe("tokens signed by jose's SignJWT with a jose-generated key verify under cognito-jwt", () => {
  let joseServer: JwksServer;
  let privateKey: CryptoKey;
  const kid = 'jose-key-1';

  before(async () => {
    const pair = await joseKeyPair('RS256', { extractable: true });
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' };
    joseServer = await startJwksServer({ keys: { keys: [jwk] } as Jwks });
  });

  after(() => joseServer.close());

  const sign = (claims: Record<string, unknown>) => {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuer(joseServer.issuer(LOOPBACK_POOL))
      .setSubject('3f1e2d4c-5b6a-4789-8abc-def012345678')
      .setIssuedAt()
      .setExpirationTime('1h')
      .setJti(randomUUID());
    return (claims.token_use === 'id' ? jwt.setAudience(CLIENT) : jwt).sign(privateKey);
  };
  const verifier = (tokenUse: TokenUse | null) =>
    new CognitoVerifier({
      userPoolId: LOOPBACK_POOL,
      issuer: joseServer.issuer(LOOPBACK_POOL),
      clientId: CLIENT,
      tokenUse,
    });

  test('ID and access tokens', async () => {
    const idToken = await sign({
      token_use: 'id',
      'cognito:username': 'ada',
      'cognito:groups': ['admins'],
      email: 'ada@example.com',
      auth_time: Math.floor(Date.now() / 1000),
    });
    const id = await verifier('id').verify(idToken);
    assert.equal(id.aud, CLIENT);
    assert.deepEqual(id['cognito:groups'], ['admins']);

    const accessToken = await sign({
      token_use: 'access',
      client_id: CLIENT,
      username: 'ada',
      scope: 'openid orders/read',
    });
    const access = await verifier('access').verify(accessToken);
    assert.equal(access.client_id, CLIENT);
    assert.equal(access.scope, 'openid orders/read');
    await assert.rejects(verifier('id').verify(accessToken), { code: 'ERR_TOKEN_USE_MISMATCH' });
  });

  test('a jose-signed token with a claim cognito-jwt refuses is still rejected', async () => {
    await assert.rejects(verifier(null).verify(await sign({ client_id: CLIENT })), {
      code: 'ERR_TOKEN_USE_MISMATCH',
    });
    await assert.rejects(
      verifier(null).verify(await sign({ token_use: 'access', client_id: OTHER_CLIENT })),
      {
        code: 'ERR_CLIENT_MISMATCH',
      },
    );
  });
});

type AwsError = abstract new (...args: never[]) => Error;

/** How one bad token must fail under each peer; `'accepts'` records a check the peer cannot make. */
interface BadToken {
  name: string;
  use: TokenUse;
  token: string;
  ours: ErrorCode;
  aws: AwsError | 'accepts';
  jose: { code: string; claim?: string } | 'accepts';
}

function segmentJson(token: string, segment: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[segment]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

const payloadOf = (token: string) => segmentJson(token, 1);

/** The token with its header (0) or payload (1) changed and re-encoded, the signature kept. */
function reencode(token: string, change: (part: Record<string, unknown>) => void, segment: 0 | 1): string {
  const part = segmentJson(token, segment);
  change(part);
  const parts = token.split('.');
  parts[segment] = Buffer.from(JSON.stringify(part)).toString('base64url');
  return parts.join('.');
}

function hs256WithPublicKey(): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: key.kid, typ: 'JWT' })).toString(
    'base64url',
  );
  const payload = mintAccessToken({ key, userPoolId: POOL, clientId: CLIENT }).split('.')[1];
  const secret = key.publicKey.export({ type: 'spki', format: 'pem' });
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

function badTokens(): BadToken[] {
  const base = { key, userPoolId: POOL, clientId: CLIENT };
  const access = mintAccessToken(base);
  const [header, , signature] = access.split('.');
  const flipped = `${signature!.slice(0, 10)}${signature![10] === 'A' ? 'B' : 'A'}${signature!.slice(11)}`;
  const now = Math.floor(Date.now() / 1000);
  const claimFailed = (claim: string) => ({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim });
  const signatureFailed = { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' };
  return [
    {
      name: 'payload tampered (groups added, signature kept)',
      use: 'access',
      token: reencode(access, (payload) => Object.assign(payload, { 'cognito:groups': ['admins'] }), 1),
      ours: 'ERR_SIGNATURE_INVALID',
      aws: JwtInvalidSignatureError,
      jose: signatureFailed,
    },
    {
      name: 'signature tampered',
      use: 'access',
      token: `${access.split('.').slice(0, 2).join('.')}.${flipped}`,
      ours: 'ERR_SIGNATURE_INVALID',
      aws: JwtInvalidSignatureError,
      jose: signatureFailed,
    },
    {
      name: "signed by an attacker's key that reuses the pool's kid",
      use: 'access',
      token: mintAccessToken({ ...base, key: attacker }),
      ours: 'ERR_SIGNATURE_INVALID',
      aws: JwtInvalidSignatureError,
      jose: signatureFailed,
    },
    {
      name: 'kid not in the JWKS',
      use: 'access',
      token: mintAccessToken({ ...base, key: stranger }),
      ours: 'ERR_KEY_NOT_FOUND',
      aws: KidNotFoundInJwksError,
      jose: { code: 'ERR_JWKS_NO_MATCHING_KEY' },
    },
    {
      name: 'expired',
      use: 'id',
      token: mintIdToken({ ...base, now: Date.now() - 7200_000 }),
      ours: 'ERR_TOKEN_EXPIRED',
      aws: JwtExpiredError,
      jose: { code: 'ERR_JWT_EXPIRED', claim: 'exp' },
    },
    {
      name: 'not valid yet (nbf in an hour)',
      use: 'access',
      token: mintAccessToken({ ...base, claims: { nbf: now + 3600 } }),
      ours: 'ERR_TOKEN_NOT_YET_VALID',
      aws: JwtNotBeforeError,
      jose: claimFailed('nbf'),
    },
    {
      name: 'no exp at all',
      use: 'access',
      token: mintAccessToken({ ...base, claims: { exp: undefined } }),
      ours: 'ERR_CLAIM_INVALID',
      // aws-jwt-verify checks exp only when present; Cognito always sets it.
      aws: 'accepts',
      jose: { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'exp' },
    },
    {
      name: 'wrong iss (another pool, same key)',
      use: 'id',
      token: mintIdToken({ ...base, userPoolId: 'us-east-1_OtherPool9' }),
      ours: 'ERR_ISSUER_MISMATCH',
      // aws-jwt-verify selects the issuer config first, as cognito-jwt does, and reports a config miss.
      aws: ParameterValidationError,
      jose: claimFailed('iss'),
    },
    {
      name: 'ID token of another app client (aud)',
      use: 'id',
      token: mintIdToken({ ...base, clientId: OTHER_CLIENT }),
      ours: 'ERR_CLIENT_MISMATCH',
      aws: CognitoJwtInvalidClientIdError,
      jose: claimFailed('aud'),
    },
    {
      name: 'access token of another app client (client_id)',
      use: 'access',
      token: mintAccessToken({ ...base, clientId: OTHER_CLIENT }),
      ours: 'ERR_CLIENT_MISMATCH',
      aws: CognitoJwtInvalidClientIdError,
      jose: 'accepts',
    },
    {
      name: 'ID token where an access token is expected',
      use: 'access',
      token: mintIdToken(base),
      ours: 'ERR_TOKEN_USE_MISMATCH',
      aws: CognitoJwtInvalidTokenUseError,
      jose: 'accepts',
    },
    {
      name: 'access token where an ID token is expected (no aud)',
      use: 'id',
      token: access,
      ours: 'ERR_TOKEN_USE_MISMATCH',
      aws: CognitoJwtInvalidTokenUseError,
      jose: claimFailed('aud'),
    },
    {
      name: 'alg none, empty signature',
      use: 'access',
      token: `${reencode(access, (h) => Object.assign(h, { alg: 'none' }), 0)
        .split('.')
        .slice(0, 2)
        .join('.')}.`,
      ours: 'ERR_ALG_UNSUPPORTED',
      aws: JwtParseError,
      jose: { code: 'ERR_JOSE_ALG_NOT_ALLOWED' },
    },
    {
      name: 'alg none, RS256 signature kept',
      use: 'access',
      token: reencode(access, (h) => Object.assign(h, { alg: 'none' }), 0),
      ours: 'ERR_ALG_UNSUPPORTED',
      aws: JwtInvalidSignatureAlgorithmError,
      jose: { code: 'ERR_JOSE_ALG_NOT_ALLOWED' },
    },
    {
      name: 'HS256 signed with the public key as HMAC secret',
      use: 'access',
      token: hs256WithPublicKey(),
      ours: 'ERR_ALG_UNSUPPORTED',
      aws: JwtInvalidSignatureAlgorithmError,
      jose: { code: 'ERR_JOSE_ALG_NOT_ALLOWED' },
    },
    {
      name: "attacker's key embedded in the jwk header",
      use: 'access',
      token: signJwt(
        { alg: 'RS256', kid: stranger.kid, jwk: stranger.publicJwk },
        payloadOf(access),
        stranger.privateKey,
      ),
      ours: 'ERR_KEY_NOT_FOUND',
      aws: KidNotFoundInJwksError,
      jose: { code: 'ERR_JWKS_NO_MATCHING_KEY' },
    },
    {
      name: 'crit header naming an extension nobody understands',
      use: 'access',
      token: signJwt(
        { alg: 'RS256', kid: key.kid, crit: ['urn:example:policy'], 'urn:example:policy': 1 },
        payloadOf(access),
        key.privateKey,
      ),
      ours: 'ERR_HEADER_UNSUPPORTED',
      aws: 'accepts',
      jose: { code: 'ERR_JOSE_NOT_SUPPORTED' },
    },
    {
      name: 'refresh token (5-part JWE)',
      use: 'access',
      token: mintRefreshToken(),
      ours: 'ERR_REFRESH_TOKEN_PRESENTED',
      aws: JwtParseError,
      jose: { code: 'ERR_JWS_INVALID' },
    },
    {
      name: 'garbage header segment',
      use: 'id',
      token: `${header}x.e30.AAAA`,
      ours: 'ERR_TOKEN_MALFORMED',
      aws: JwtParseError,
      jose: { code: 'ERR_JWS_INVALID' },
    },
  ];
}

describe('a shared table of bad tokens is rejected by cognito-jwt, aws-jwt-verify and jose', () => {
  for (const bad of badTokens()) {
    test(bad.name, async () => {
      await assert.rejects(peers.ours.verify(bad.token, bad.use), { code: bad.ours });

      if (bad.aws === 'accepts') await peers.aws.verify(bad.token, bad.use);
      else await assert.rejects(peers.aws.verify(bad.token, bad.use), bad.aws);

      if (bad.jose === 'accepts') await peers.jose.verify(bad.token, bad.use);
      else await assert.rejects(peers.jose.verify(bad.token, bad.use), bad.jose);
    });
  }
});
