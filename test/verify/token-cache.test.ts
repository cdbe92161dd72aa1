import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CognitoJwtError, CognitoVerifier, TokenExpiredError } from '../../src/index.ts';
import type { VerificationKey } from '../../src/keys/jwk.ts';
import {
  buildJwks,
  generateKeyPair,
  mintAccessToken,
  mintIdToken,
  startJwksServer,
} from '../../src/testing/index.ts';
import {
  DEFAULT_TOKEN_CACHE_SIZE,
  freezeClaims,
  MAX_CACHED_TOKEN_LENGTH,
  VerifiedTokenCache,
} from '../../src/verify/token-cache.ts';

const POOL = 'us-east-1_CachePool1';
const CLIENT = 'cacheclient1';
const key = generateKeyPair();
const NOW = Date.parse('2030-06-01T12:00:00Z');

/** A verifier whose keys come from a snapshot (no network) and whose clock the test moves. */
function setUp(options: { maxEntries?: number; cache?: false; clockToleranceSeconds?: number } = {}) {
  const clock = { now: NOW };
  const verifier = new CognitoVerifier(
    {
      userPoolId: POOL,
      clientId: CLIENT,
      tokenUse: 'access',
      jwks: buildJwks(key),
      ...(options.clockToleranceSeconds === undefined
        ? {}
        : { clockToleranceSeconds: options.clockToleranceSeconds }),
    },
    {
      clock: () => clock.now,
      verifiedTokenCache:
        options.cache ?? (options.maxEntries === undefined ? true : { maxEntries: options.maxEntries }),
    },
  );
  const mint = (extra: Parameters<typeof mintAccessToken>[0]['claims'] = {}, expiresIn = 3600) =>
    mintAccessToken({ key, userPoolId: POOL, clientId: CLIENT, now: clock.now, expiresIn, claims: extra });
  return { clock, verifier, mint };
}

function rejectsWith(code: string) {
  return (error: unknown) => error instanceof CognitoJwtError && error.code === code;
}

describe('verified-token cache in the verifier', () => {
  test('is on by default with 10 000 entries, and a hit returns the very same claims', () => {
    const { verifier, mint } = setUp();
    assert.equal(verifier.tokenCache?.maxEntries, DEFAULT_TOKEN_CACHE_SIZE);
    const token = mint();
    const first = verifier.verifySync(token);
    assert.equal(verifier.tokenCache?.size, 1);
    assert.equal(verifier.verifySync(token), first);
  });

  test('verify() and verifySync() share the cache', async () => {
    const { verifier, mint } = setUp();
    const token = mint();
    const first = await verifier.verify(token);
    assert.equal(verifier.verifySync(token), first);
    assert.equal(await verifier.verify(token), first);
  });

  test('a hit after exp is rejected with the expired error and evicts the entry', async () => {
    const { clock, verifier, mint } = setUp();
    const token = mint({}, 60);
    const first = verifier.verifySync(token);
    clock.now += 59_000;
    assert.equal(verifier.verifySync(token), first);
    clock.now += 1_000; // exp == now is expired
    assert.throws(
      () => verifier.verifySync(token),
      (error: unknown) =>
        error instanceof TokenExpiredError &&
        error.code === 'ERR_TOKEN_EXPIRED' &&
        error.expiredAt.getTime() === first.exp * 1000,
    );
    assert.equal(verifier.tokenCache?.size, 0);
    await assert.rejects(verifier.verify(token), rejectsWith('ERR_TOKEN_EXPIRED'));
  });

  test('a hit honours the configured clock tolerance, like a fresh verification', () => {
    const { clock, verifier, mint } = setUp({ clockToleranceSeconds: 10 });
    const token = mint({}, 60);
    const first = verifier.verifySync(token);
    clock.now += 69_000;
    assert.equal(verifier.verifySync(token), first);
    clock.now += 1_000;
    assert.throws(() => verifier.verifySync(token), rejectsWith('ERR_TOKEN_EXPIRED'));
  });

  test('a hit re-checks nbf against the clock (a clock that went back)', () => {
    const { clock, verifier, mint } = setUp();
    const token = mint({ nbf: Math.floor(NOW / 1000) });
    verifier.verifySync(token);
    clock.now -= 60_000;
    assert.throws(() => verifier.verifySync(token), rejectsWith('ERR_TOKEN_NOT_YET_VALID'));
    assert.equal(verifier.tokenCache?.size, 0);
  });

  test('errors are never cached: a token rejected once verifies when it becomes valid', () => {
    const { clock, verifier, mint } = setUp();
    const token = mint({ nbf: Math.floor(NOW / 1000) + 120 });
    assert.throws(() => verifier.verifySync(token), rejectsWith('ERR_TOKEN_NOT_YET_VALID'));
    assert.throws(() => verifier.verifySync(token), rejectsWith('ERR_TOKEN_NOT_YET_VALID'));
    assert.equal(verifier.tokenCache?.size, 0);
    clock.now += 120_000;
    assert.equal(verifier.verifySync(token).client_id, CLIENT);
    assert.equal(verifier.tokenCache?.size, 1);
  });

  test('a bad signature is rejected every time and never enters the cache', async () => {
    const { verifier } = setUp();
    const forged = mintAccessToken({
      key: generateKeyPair({ kid: key.kid }),
      userPoolId: POOL,
      clientId: CLIENT,
      now: NOW,
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      assert.throws(() => verifier.verifySync(forged), rejectsWith('ERR_SIGNATURE_INVALID'));
      await assert.rejects(verifier.verify(forged), rejectsWith('ERR_SIGNATURE_INVALID'));
    }
    assert.equal(verifier.tokenCache?.size, 0);
  });

  test('no hit crosses configurations: other verifiers re-check client, token_use and groups', () => {
    const { verifier, mint } = setUp();
    const token = mint();
    verifier.verifySync(token);
    const shared = { jwksCache: verifier.jwksCache, clock: () => NOW };
    const otherClient = new CognitoVerifier(
      { userPoolId: POOL, clientId: 'another', tokenUse: 'access' },
      shared,
    );
    const idOnly = new CognitoVerifier({ userPoolId: POOL, clientId: CLIENT, tokenUse: 'id' }, shared);
    const admins = new CognitoVerifier(
      { userPoolId: POOL, clientId: CLIENT, tokenUse: 'access', groups: 'admins' },
      shared,
    );
    assert.throws(() => otherClient.verifySync(token), rejectsWith('ERR_CLIENT_MISMATCH'));
    assert.throws(() => idOnly.verifySync(token), rejectsWith('ERR_TOKEN_USE_MISMATCH'));
    assert.throws(() => admins.verifySync(token), rejectsWith('ERR_GROUP_MISSING'));
    assert.equal(verifier.verifySync(token).client_id, CLIENT);
  });

  test('claims are deep-frozen, from the cache or not, and cannot be changed by a caller', () => {
    for (const cache of [true, false] as const) {
      const { verifier, mint } = setUp(cache ? {} : { cache: false });
      const token = mint({ 'cognito:groups': ['readers'], address: { city: 'Lyon' } });
      const claims = verifier.verifySync(token);
      assert.ok(Object.isFrozen(claims));
      assert.ok(Object.isFrozen(claims['cognito:groups']));
      assert.ok(Object.isFrozen(claims.address));
      assert.throws(() => {
        (claims as Record<string, unknown>).client_id = 'someone-else';
      }, TypeError);
      assert.throws(() => claims['cognito:groups']?.push('admins'), TypeError);
      const again = verifier.verifySync(token);
      assert.equal(again.client_id, CLIENT);
      assert.deepEqual(again['cognito:groups'], ['readers']);
    }
  });

  test('the cache holds at most maxEntries tokens and drops the least recently used first', () => {
    const { verifier, mint } = setUp({ maxEntries: 2 });
    const [a, b, c] = [mint(), mint(), mint()];
    const claimsA = verifier.verifySync(a);
    const claimsB = verifier.verifySync(b);
    assert.equal(verifier.verifySync(a), claimsA); // a is now the most recently used
    verifier.verifySync(c); // drops b
    assert.equal(verifier.tokenCache?.size, 2);
    assert.equal(verifier.verifySync(a), claimsA);
    const bAgain = verifier.verifySync(b); // verified afresh: a new object
    assert.notEqual(bAgain, claimsB);
    assert.deepEqual(bAgain, claimsB);
    for (let i = 0; i < 20; i++) verifier.verifySync(mint());
    assert.equal(verifier.tokenCache?.size, 2);
  });

  test('verifiedTokenCache: false turns the cache off', () => {
    const { verifier, mint } = setUp({ cache: false });
    assert.equal(verifier.tokenCache, undefined);
    const token = mint();
    const first = verifier.verifySync(token);
    const second = verifier.verifySync(token);
    assert.notEqual(second, first);
    assert.deepEqual(second, first);
  });

  test('tokenCache.clear() forgets every token, and the view cannot add any', () => {
    const { verifier, mint } = setUp();
    const token = mint();
    const first = verifier.verifySync(token);
    const view = verifier.tokenCache!;
    assert.ok(Object.isFrozen(view));
    assert.equal('remember' in view, false);
    view.clear();
    assert.equal(view.size, 0);
    assert.notEqual(verifier.verifySync(token), first);
  });

  test('a token longer than MAX_CACHED_TOKEN_LENGTH is verified but not cached', () => {
    const { verifier, mint } = setUp();
    const token = mint({ padding: 'x'.repeat(MAX_CACHED_TOKEN_LENGTH) });
    assert.ok(token.length > MAX_CACHED_TOKEN_LENGTH);
    assert.equal(verifier.verifySync(token).client_id, CLIENT);
    assert.equal(verifier.tokenCache?.size, 0);
  });

  test('bad cache settings are refused at construction', () => {
    for (const setting of [{ maxEntries: 0 }, { maxEntries: 1.5 }, { maxEntries: -1 }, 'yes', null, 10, []]) {
      assert.throws(
        () =>
          new CognitoVerifier(
            { userPoolId: POOL, clientId: CLIENT, tokenUse: 'access' },
            { verifiedTokenCache: setting as never },
          ),
        rejectsWith('ERR_CONFIG_INVALID'),
        `setting ${JSON.stringify(setting)}`,
      );
    }
  });
});

describe('a hit is only served while its key is', () => {
  async function rotation() {
    const server = await startJwksServer({ keys: [key] });
    const issuer = server.issuer(POOL);
    const verifier = new CognitoVerifier({ userPoolId: POOL, issuer, clientId: CLIENT, tokenUse: 'id' });
    const token = mintIdToken({ key, issuer, clientId: CLIENT });
    const claims = await verifier.verify(token);
    return { server, verifier, token, claims, jwksUri: server.jwksUri(POOL) };
  }

  test('a key removed from the JWKS stops its cached tokens', async () => {
    const { server, verifier, token, jwksUri } = await rotation();
    try {
      server.setKeys([generateKeyPair()]);
      await verifier.jwksCache.refresh(jwksUri);
      assert.throws(() => verifier.verifySync(token), rejectsWith('ERR_KEY_NOT_FOUND'));
      assert.equal(verifier.tokenCache?.size, 0);
    } finally {
      await server.close();
    }
  });

  test('a kid now bound to another key sends the token through the signature again', async () => {
    const { server, verifier, token, jwksUri } = await rotation();
    try {
      server.setKeys([generateKeyPair({ kid: key.kid })]);
      await verifier.jwksCache.refresh(jwksUri);
      assert.throws(() => verifier.verifySync(token), rejectsWith('ERR_SIGNATURE_INVALID'));
    } finally {
      await server.close();
    }
  });

  test('a refresh that serves the same keys keeps the token a cache hit (the key object is kept)', async () => {
    const { server, verifier, token, claims, jwksUri } = await rotation();
    try {
      const before = verifier.jwksCache.getKeySync(jwksUri, key.kid);
      await verifier.jwksCache.refresh(jwksUri);
      assert.equal(verifier.jwksCache.getKeySync(jwksUri, key.kid), before);
      assert.equal(verifier.verifySync(token), claims, 'the very claims object the cache held');
    } finally {
      await server.close();
    }
  });
});

describe('verify() with many callers in flight', () => {
  test('every concurrent call gets its own outcome, cache on or off', async () => {
    for (const cache of [true, false] as const) {
      const { verifier, mint } = setUp(cache ? {} : { cache: false });
      const good = Array.from({ length: 24 }, (_, index) => mint({ sub: `user-${index}` }));
      const forged = mintAccessToken({
        key: generateKeyPair({ kid: key.kid }),
        userPoolId: POOL,
        clientId: CLIENT,
        now: NOW,
      });
      const tokens = [...good.slice(0, 12), forged, ...good.slice(12), forged];
      const outcomes = await Promise.allSettled(tokens.map((token) => verifier.verify(token)));
      outcomes.forEach((outcome, index) => {
        if (tokens[index] === forged) {
          assert.equal(outcome.status, 'rejected');
          assert.ok(rejectsWith('ERR_SIGNATURE_INVALID')((outcome as PromiseRejectedResult).reason));
        } else {
          assert.equal(outcome.status, 'fulfilled');
          const sub = (outcome as PromiseFulfilledResult<{ sub: string }>).value.sub;
          assert.equal(sub, `user-${good.indexOf(tokens[index]!)}`);
        }
      });
    }
  });
});

describe('VerifiedTokenCache', () => {
  const fakeKey = (kid: string) => ({ kid }) as unknown as VerificationKey;

  function entry(exp: number, verificationKey: VerificationKey, claims: Record<string, unknown> = {}) {
    return {
      claims: freezeClaims({ exp, ...claims }),
      jwksUri: 'https://example.com/jwks.json',
      kid: verificationKey.kid,
      key: verificationKey,
      toleranceSeconds: 0,
    };
  }

  test('runs the recheck hook on every hit; a rejection drops the entry', () => {
    const k1 = fakeKey('k1');
    const seen: unknown[] = [];
    let revoked = false;
    const cache = new VerifiedTokenCache({
      clock: () => NOW,
      currentKey: () => k1,
      recheck: (claims) => {
        seen.push(claims);
        if (revoked) throw new CognitoJwtError('ERR_TOKEN_REVOKED', 'revoked');
      },
    });
    const cached = entry(NOW / 1000 + 60, k1, { jti: 'j1' });
    cache.remember('t1', cached);
    assert.equal(cache.lookup('t1'), cached.claims);
    assert.equal(cache.lookup('t1'), cached.claims);
    assert.deepEqual(seen, [cached.claims, cached.claims]);
    revoked = true;
    assert.throws(() => cache.lookup('t1'), rejectsWith('ERR_TOKEN_REVOKED'));
    assert.equal(cache.view.size, 0);
    assert.equal(cache.lookup('t1'), undefined);
  });

  test('a miss, a non-string, a replaced key and a missing key all return undefined', () => {
    const k1 = fakeKey('k1');
    let current: VerificationKey | undefined = k1;
    const cache = new VerifiedTokenCache({ clock: () => NOW, currentKey: () => current });
    assert.equal(cache.lookup('nothing'), undefined);
    assert.equal(cache.lookup(undefined as never), undefined);
    cache.remember('t1', entry(NOW / 1000 + 60, k1));
    current = fakeKey('k1');
    assert.equal(cache.lookup('t1'), undefined);
    assert.equal(cache.view.size, 0);
    cache.remember('t1', entry(NOW / 1000 + 60, k1));
    current = undefined;
    assert.equal(cache.lookup('t1'), undefined);
    assert.equal(cache.view.size, 0);
  });

  test('two tokens that share the key tail only miss each other', () => {
    const k1 = fakeKey('k1');
    const cache = new VerifiedTokenCache({ clock: () => NOW, currentKey: () => k1 });
    const tail = 'x'.repeat(100);
    const first = entry(NOW / 1000 + 60, k1, { n: 1 });
    cache.remember(`a.${tail}`, first);
    assert.equal(cache.lookup(`b.${tail}`), undefined);
    assert.equal(cache.lookup(`a.${tail}`), first.claims);
    const second = entry(NOW / 1000 + 60, k1, { n: 2 });
    cache.remember(`b.${tail}`, second);
    assert.equal(cache.lookup(`b.${tail}`), second.claims);
    assert.equal(cache.lookup(`a.${tail}`), undefined);
  });

  test('evicts in least-recently-used order at its bound', () => {
    const k1 = fakeKey('k1');
    const cache = new VerifiedTokenCache({ maxEntries: 3, clock: () => NOW, currentKey: () => k1 });
    for (const token of ['a', 'b', 'c']) cache.remember(token, entry(NOW / 1000 + 60, k1));
    cache.lookup('a');
    cache.remember('d', entry(NOW / 1000 + 60, k1));
    assert.equal(cache.lookup('b'), undefined);
    for (const token of ['a', 'c', 'd']) assert.notEqual(cache.lookup(token), undefined, token);
    assert.equal(cache.view.size, 3);
    cache.view.clear();
    assert.equal(cache.view.size, 0);
  });
});

describe('freezeClaims', () => {
  test('freezes nested objects and arrays, never Object.prototype', () => {
    const claims = freezeClaims(
      JSON.parse('{"a":{"b":[{"c":1}]},"__proto__":{"polluted":true},"constructor":{"x":[1]}}'),
    );
    assert.ok(Object.isFrozen(claims.a.b[0]));
    assert.ok(Object.isFrozen(Object.getOwnPropertyDescriptor(claims, '__proto__')?.value));
    assert.ok(Object.isFrozen(claims.constructor.x));
    assert.equal(Object.isFrozen(Object.prototype), false);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
