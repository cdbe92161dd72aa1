/**
 * IdentityPoolVerifier, one test per rule (docs/testing.md), and the key set's own profile: the
 * identity pools' RS512 keys with a standard-base64 modulus are accepted for that key set alone,
 * while the user-pool path keeps refusing both.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  CognitoJwtError,
  CognitoVerifier,
  IDENTITY_POOL_ISSUER,
  IDENTITY_POOL_JWKS_URI,
  IdentityPoolVerifier,
  type IdentityPoolVerifierConfig,
  JwksCache,
} from '../../src/index.ts';
import { IDENTITY_POOL_KEYS, importJwk, importJwks, USER_POOL_KEYS } from '../../src/keys/jwk.ts';
import {
  generateKeyPair,
  type JwksServer,
  mintAccessToken,
  startJwksServer,
} from '../../src/testing/index.ts';
import { noFetch } from '../helpers/no-fetch.ts';
import { IDENTITY_POOL, identityJwks, identityKey, mintIdentityToken } from './identity-pool-kit.ts';

const key = identityKey('us-east-11');
const otherRegionKey = identityKey('eu-west-21');
let server: JwksServer;
let issuer: string;
let base: IdentityPoolVerifierConfig;

before(async () => {
  server = await startJwksServer({ keys: identityJwks(key, otherRegionKey) });
  issuer = `${server.origin}/identity`;
  base = { identityPoolId: IDENTITY_POOL, issuer, jwksUri: server.jwksUri('identity') };
});
after(() => server.close());

async function refused(promise: Promise<unknown>, code: string, claim?: string): Promise<CognitoJwtError> {
  let caught: unknown;
  await promise.catch((error: unknown) => {
    caught = error;
  });
  assert.ok(caught instanceof CognitoJwtError, `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (claim !== undefined) assert.equal(caught.claim, claim);
  return caught;
}

describe('IdentityPoolVerifier: a valid token', () => {
  test('an authenticated identity verifies; the claims say so', async () => {
    const verifier = new IdentityPoolVerifier(base);
    const token = mintIdentityToken(key, issuer, {
      claims: { sub: 'us-east-1:1f2e3d4c-aaaa-bbbb-cccc-0123456789ab' },
    });
    const claims = await verifier.verify(token);
    assert.equal(claims.sub, 'us-east-1:1f2e3d4c-aaaa-bbbb-cccc-0123456789ab');
    assert.equal(claims.aud, IDENTITY_POOL);
    assert.equal(claims.authenticated, true);
    assert.equal(claims.amr[0], 'authenticated');
    assert.ok(Object.isFrozen(claims));
  });

  test('region-prefixed kids: a key of another region in the same key set verifies too', async () => {
    const verifier = new IdentityPoolVerifier(base);
    assert.equal((await verifier.verify(mintIdentityToken(otherRegionKey, issuer))).authenticated, true);
  });

  test('the defaults are the real issuer and key set URL', () => {
    const verifier = new IdentityPoolVerifier({ identityPoolId: IDENTITY_POOL });
    assert.equal(verifier.jwksUri, IDENTITY_POOL_JWKS_URI);
    assert.equal(IDENTITY_POOL_ISSUER, 'https://cognito-identity.amazonaws.com');
    assert.equal(IDENTITY_POOL_JWKS_URI, 'https://cognito-identity.amazonaws.com/.well-known/jwks_uri');
  });
});

describe('IdentityPoolVerifier: one test per rule', () => {
  test('iss: another issuer is refused before any key request', async () => {
    const network = noFetch();
    const verifier = new IdentityPoolVerifier(base, { fetch: network.fetch });
    await refused(
      verifier.verify(
        mintIdentityToken(key, 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123xyz'),
      ),
      'ERR_ISSUER_MISMATCH',
      'iss',
    );
    await refused(
      verifier.verify(mintIdentityToken(key, IDENTITY_POOL_ISSUER)),
      'ERR_ISSUER_MISMATCH',
      'iss',
    );
    assert.deepEqual(network.urls, []);
  });

  test('alg: only RS512 (RS256, none, HS512 refused before any key is used)', async () => {
    const verifier = new IdentityPoolVerifier(base);
    for (const alg of ['RS256', 'none', 'HS512', 'PS512', undefined]) {
      await refused(
        verifier.verify(mintIdentityToken(key, issuer, { header: { alg } })),
        'ERR_ALG_UNSUPPORTED',
        'alg',
      );
    }
  });

  test('header: a kid is required; crit and b64 are refused', async () => {
    const verifier = new IdentityPoolVerifier(base);
    await refused(
      verifier.verify(mintIdentityToken(key, issuer, { header: { kid: undefined } })),
      'ERR_TOKEN_MALFORMED',
      'kid',
    );
    await refused(
      verifier.verify(mintIdentityToken(key, issuer, { header: { crit: ['exp'] } })),
      'ERR_HEADER_UNSUPPORTED',
      'crit',
    );
    await refused(
      verifier.verify(mintIdentityToken(key, issuer, { header: { b64: false } })),
      'ERR_HEADER_UNSUPPORTED',
      'b64',
    );
  });

  test('signature: another key with the same kid, a SHA-256 signature under an RS512 header, a changed payload', async () => {
    const verifier = new IdentityPoolVerifier(base);
    const impostor = identityKey('us-east-11');
    await refused(verifier.verify(mintIdentityToken(impostor, issuer)), 'ERR_SIGNATURE_INVALID');
    await refused(
      verifier.verify(mintIdentityToken(key, issuer, { hash: 'sha256' })),
      'ERR_SIGNATURE_INVALID',
    );
    const [header, , signature] = mintIdentityToken(key, issuer).split('.');
    const forged = Buffer.from(
      JSON.stringify({
        aud: IDENTITY_POOL,
        iss: issuer,
        sub: 'us-east-1:00000000-0000-0000-0000-000000000000',
        amr: ['authenticated'],
        exp: 2e9,
        iat: 1,
      }),
    ).toString('base64url');
    await refused(verifier.verify(`${header}.${forged}.${signature}`), 'ERR_SIGNATURE_INVALID');
  });

  test('kid: an unknown kid fetches once, then fails fast during the cooldown', async () => {
    const verifier = new IdentityPoolVerifier(base);
    await verifier.verify(mintIdentityToken(key, issuer));
    const before = server.requestCount;
    await refused(
      verifier.verify(mintIdentityToken(identityKey('ap-south-11'), issuer)),
      'ERR_KEY_NOT_FOUND',
      'kid',
    );
    await refused(
      verifier.verify(mintIdentityToken(identityKey('ap-south-12'), issuer)),
      'ERR_KID_COOLDOWN',
      'kid',
    );
    assert.equal(server.requestCount - before, 1);
  });

  test('aud: must be a configured identity pool id, as a string', async () => {
    const verifier = new IdentityPoolVerifier(base);
    await refused(
      verifier.verify(
        mintIdentityToken(key, issuer, { claims: { aud: 'us-east-1:00000000-0000-0000-0000-000000000000' } }),
      ),
      'ERR_CLIENT_MISMATCH',
      'aud',
    );
    await refused(
      verifier.verify(mintIdentityToken(key, issuer, { claims: { aud: [IDENTITY_POOL] } })),
      'ERR_CLAIM_INVALID',
      'aud',
    );
    await refused(
      verifier.verify(mintIdentityToken(key, issuer, { claims: { aud: undefined } })),
      'ERR_CLAIM_INVALID',
      'aud',
    );
  });

  test('sub: an identity id ("<region>:<uuid>")', async () => {
    const verifier = new IdentityPoolVerifier(base);
    for (const sub of [undefined, 42, '', '9a8b7c6d-1111-2222-3333-444455556666', 'us-east-1:not-a-uuid']) {
      await refused(
        verifier.verify(mintIdentityToken(key, issuer, { claims: { sub } })),
        'ERR_CLAIM_INVALID',
        'sub',
      );
    }
  });

  test('amr: a non-empty list saying authenticated or unauthenticated, not both, not neither', async () => {
    const verifier = new IdentityPoolVerifier(base);
    for (const amr of [
      undefined,
      'authenticated',
      [],
      [1],
      ['graph.facebook.com'],
      ['authenticated', 'unauthenticated'],
    ]) {
      await refused(
        verifier.verify(mintIdentityToken(key, issuer, { claims: { amr } })),
        'ERR_CLAIM_INVALID',
        'amr',
      );
    }
  });

  test('guests: refused unless their identity pool is named in allowUnauthenticated', async () => {
    const guest = () => mintIdentityToken(key, issuer, { claims: { amr: ['unauthenticated'] } });
    await refused(new IdentityPoolVerifier(base).verify(guest()), 'ERR_IDENTITY_UNAUTHENTICATED', 'amr');
    const other = 'eu-west-1:11111111-2222-3333-4444-555555555555';
    const allowingOther = new IdentityPoolVerifier({
      ...base,
      identityPoolId: [IDENTITY_POOL, other],
      allowUnauthenticated: [other],
    });
    await refused(allowingOther.verify(guest()), 'ERR_IDENTITY_UNAUTHENTICATED');
    const allowing = new IdentityPoolVerifier({ ...base, allowUnauthenticated: [IDENTITY_POOL] });
    assert.equal((await allowing.verify(guest())).authenticated, false);
    assert.throws(() => new IdentityPoolVerifier({ ...base, allowUnauthenticated: [other] }), {
      code: 'ERR_CONFIG_INVALID',
      message: /not one of identityPoolId/,
    });
  });

  test('time: exp required and checked, nbf, iat, tolerance', async () => {
    let now = Date.now();
    const verifier = new IdentityPoolVerifier(base, { clock: () => now });
    const token = mintIdentityToken(key, issuer, { now });
    now += 600_000;
    const expired = await refused(verifier.verify(token), 'ERR_TOKEN_EXPIRED', 'exp');
    assert.ok('expiredAt' in expired);
    now -= 600_000;
    await refused(
      verifier.verify(mintIdentityToken(key, issuer, { claims: { exp: undefined } })),
      'ERR_CLAIM_INVALID',
      'exp',
    );
    await refused(
      verifier.verify(mintIdentityToken(key, issuer, { claims: { nbf: Math.floor(now / 1000) + 60 } })),
      'ERR_TOKEN_NOT_YET_VALID',
      'nbf',
    );
    await refused(
      verifier.verify(mintIdentityToken(key, issuer, { claims: { iat: Math.floor(now / 1000) + 3600 } })),
      'ERR_TOKEN_ISSUED_IN_FUTURE',
      'iat',
    );
    await refused(
      verifier.verify(mintIdentityToken(key, issuer, { claims: { iat: undefined } })),
      'ERR_CLAIM_INVALID',
      'iat',
    );
    const tolerant = new IdentityPoolVerifier(
      { ...base, clockToleranceSeconds: 30 },
      { clock: () => now + 610_000 },
    );
    assert.ok(await tolerant.verify(mintIdentityToken(key, issuer, { now })));
  });

  test('size: the same token length bound as the user-pool verifier', async () => {
    const verifier = new IdentityPoolVerifier(base, { maxTokenLength: 256 });
    await refused(verifier.verify(mintIdentityToken(key, issuer)), 'ERR_TOKEN_MALFORMED');
  });

  test('config and options are checked at construction', () => {
    const bad: [unknown, unknown, RegExp][] = [
      [{ identityPoolId: 'pool' }, {}, /not an identity pool id/],
      [{}, {}, /identityPoolId must be/],
      [{ ...base, clientId: 'x' }, {}, /"clientId" does not belong here/],
      [{ ...base, userPoolId: 'us-east-1_X' }, {}, /CognitoVerifier/],
      [{ ...base, clockToleranceSeconds: 301 }, {}, /clockToleranceSeconds/],
      [{ ...base, issuer: 'http://example.com/identity' }, {}, /loopback/],
      [base, { isRevoked: () => false }, /unknown option/],
      [base, { jwksCache: new JwksCache(), timeoutMs: 100 }, /belongs to the shared jwksCache/],
    ];
    for (const [config, options, message] of bad) {
      assert.throws(() => new IdentityPoolVerifier(config as IdentityPoolVerifierConfig, options as never), {
        code: 'ERR_CONFIG_INVALID',
        message,
      });
    }
  });
});

describe("the identity pools' key set, and the user-pool path", () => {
  test('the published shape imports under the identity profile, and the user-pool profile refuses it', () => {
    const jwk = key.publicJwk;
    assert.match(jwk.n as string, /^A[A-P]/, 'a leading zero byte');
    assert.match(jwk.n as string, /[+/]/, 'standard base64');
    assert.match(jwk.n as string, /=$/, 'padded');
    const imported = importJwk(jwk, IDENTITY_POOL_KEYS);
    assert.equal(imported.alg, 'RS512');
    assert.equal(imported.signatureLength, 256);
    assert.equal(imported.jwk.n, jwk.n, 'snapshots keep n as published');
    assert.throws(() => importJwk(jwk), { code: 'ERR_KEY_INVALID', message: /alg must be "RS256"/ });
    assert.throws(() => importJwk(jwk, USER_POOL_KEYS), { code: 'ERR_KEY_INVALID' });
    // Without the alg member the encoding alone is refused on the user-pool path.
    assert.throws(() => importJwk({ ...jwk, alg: undefined }), {
      code: 'ERR_KEY_INVALID',
      message: /base64url/,
    });
    // And an RS256 user-pool key is refused on the identity path.
    assert.throws(() => importJwk(generateKeyPair().publicJwk, IDENTITY_POOL_KEYS), {
      code: 'ERR_KEY_INVALID',
      message: /RS512/,
    });
  });

  test('the leniency is standard base64 only: mixed alphabets, bad padding and junk are refused even for identity keys', () => {
    const n = key.publicJwk.n as string;
    const mixed = n.includes('+') ? n.replace('+', '-') : n.replace('/', '_');
    for (const spelling of [
      mixed,
      `${n}=`,
      ` ${n}`,
      `${n.slice(0, 10)}=${n.slice(10)}`,
      `${n.slice(0, -1)}*`,
    ]) {
      assert.throws(
        () => importJwk({ ...key.publicJwk, n: spelling }, IDENTITY_POOL_KEYS),
        { code: 'ERR_KEY_INVALID' },
        spelling,
      );
    }
    // The same modulus in canonical base64url imports too (and is the same key).
    const canonical = Buffer.from(n, 'base64').subarray(1).toString('base64url');
    assert.equal(importJwk({ ...key.publicJwk, n: canonical }, IDENTITY_POOL_KEYS).signatureLength, 256);
  });

  test('a user-pool verifier against a JWKS of identity-shaped keys finds no usable key', async () => {
    const served = await startJwksServer({ keys: identityJwks(key) });
    try {
      const issuerUrl = served.issuer('local_pool');
      const verifier = new CognitoVerifier({
        userPoolId: 'local_pool',
        issuer: issuerUrl,
        clientId: null,
        tokenUse: null,
      });
      const token = mintAccessToken({
        key: generateKeyPair({ kid: key.kid }),
        issuer: issuerUrl,
        clientId: 'c',
      });
      await refused(verifier.verify(token), 'ERR_JWKS_INVALID');
      const { keys, rejected } = importJwks(identityJwks(key));
      assert.equal(keys.size, 0);
      assert.match(rejected[0]!.message, /alg must be "RS256"/);
    } finally {
      await served.close();
    }
  });

  test('a shared key cache keeps one profile per JWKS URL', async () => {
    const cache = new JwksCache();
    const pool = await startJwksServer({ keys: [generateKeyPair()] });
    try {
      const userPool = new CognitoVerifier(
        { userPoolId: 'local_p', issuer: pool.issuer('local_p'), clientId: null, tokenUse: null },
        { jwksCache: cache },
      );
      await userPool.hydrate();
      assert.throws(
        () => new IdentityPoolVerifier({ ...base, jwksUri: pool.jwksUri('local_p') }, { jwksCache: cache }),
        { code: 'ERR_CONFIG_INVALID', message: /already holds user pool keys/ },
      );
      // Both on one cache, each with its own URL: each verifies its own tokens.
      const identity = new IdentityPoolVerifier(base, { jwksCache: cache });
      assert.ok(await identity.verify(mintIdentityToken(key, issuer)));
    } finally {
      await pool.close();
    }
  });

  test('a snapshot of the identity key set loads at construction: no request', async () => {
    const network = noFetch();
    const verifier = new IdentityPoolVerifier({ ...base, jwks: identityJwks(key) }, { fetch: network.fetch });
    assert.ok(await verifier.verify(mintIdentityToken(key, issuer)));
    assert.deepEqual(network.urls, []);
    const saved = verifier.jwksCache.snapshot(base.jwksUri!);
    assert.equal(saved.keys[0]?.n, key.publicJwk.n);
  });
});

describe('on Web Crypto', () => {
  const run = promisify(execFile);
  const ROOT = resolve(import.meta.dirname, '../..');

  test('the built package under the worker condition (Web Crypto RSASSA-PKCS1-v1_5 SHA-512) verifies and refuses alike', async (t) => {
    if (!existsSync(resolve(ROOT, 'dist/platform/web.js'))) {
      t.skip('needs npm run build');
      return;
    }
    const good = mintIdentityToken(key, issuer);
    const impostor = mintIdentityToken(identityKey('us-east-11'), issuer);
    const script = `
      import { IdentityPoolVerifier, CognitoVerifier } from 'cognito-jwt';
      const config = ${JSON.stringify(base)};
      const verifier = new IdentityPoolVerifier(config);
      const out = {};
      try { new CognitoVerifier({ userPoolId: 'local_x', issuer: config.issuer, clientId: null, tokenUse: null }).verifySync('a.b.c'); }
      catch (error) { out.platform = error.code; }
      out.good = (await verifier.verify(${JSON.stringify(good)})).authenticated;
      out.impostor = await verifier.verify(${JSON.stringify(impostor)}).catch((error) => error.code);
      console.log(JSON.stringify(out));`;
    const { stdout } = await run(
      process.execPath,
      ['--conditions=worker', '--input-type=module', '-e', script],
      { cwd: ROOT },
    );
    assert.deepEqual(JSON.parse(stdout), {
      platform: 'ERR_SYNC_UNSUPPORTED',
      good: true,
      impostor: 'ERR_SIGNATURE_INVALID',
    });
  });
});
