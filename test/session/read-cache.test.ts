/**
 * The session read cache: a repeat read of the same cookie value skips decryption and the
 * signature, and still refuses everything a full read refuses. Each test reads a cookie until it is
 * served from the cache (no `verify` call), then changes what a cached answer must notice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CognitoVerifier } from '../../src/index.ts';
import { RevocationList } from '../../src/revocation/index.ts';
import type { CognitoSession, SessionOptions, SessionVerifier } from '../../src/session/index.ts';
import type { CognitoClaims } from '../../src/token/claims.ts';
import { otherSession, type SessionFixture, startSessionApp } from '../helpers/session-app.ts';
import { ScriptedBrowser } from '../helpers/sign-in-client.ts';

let fixture: SessionFixture;
before(async () => {
  fixture = await startSessionApp();
});
after(() => fixture.close());

/** A signed-in browser's `Cookie` header. */
async function signedInCookie(user = `user-${Math.random().toString(36).slice(2)}`): Promise<string> {
  const b = new ScriptedBrowser(fixture.appOrigin, fixture.listenOrigin);
  fixture.op.signInAs({ sub: user, groups: ['users'] });
  const { response } = await b.follow('/page');
  assert.equal(response.status, 200);
  return b.cookieHeader();
}

const reading = (cookie: string, method = 'GET', origin?: string) => ({
  method,
  url: '/api/me',
  header: (name: string) => (name === 'cookie' ? cookie : name === 'origin' ? origin : undefined),
});

/** The fixture's access-token verifier, counting the reads that reach `verify` (the cache's misses). */
function countingVerifier(options: ConstructorParameters<typeof CognitoVerifier>[1] = {}) {
  const { op } = fixture;
  const verifier = new CognitoVerifier(
    { userPoolId: op.userPoolId, clientId: op.clientId, tokenUse: 'access', issuer: op.issuer },
    options,
  );
  const counted = {
    verifies: 0,
    verify(token: string) {
      counted.verifies++;
      return verifier.verify(token);
    },
    checkRevoked: (claims: CognitoClaims) => verifier.checkRevoked(claims),
  } satisfies SessionVerifier & { verifies: number };
  return counted;
}

/** Another process's session whose verifier counts `verify` calls. */
function countedSession(
  overrides: Partial<SessionOptions> = {},
  verifierOptions: ConstructorParameters<typeof CognitoVerifier>[1] = {},
) {
  const verifier = countingVerifier(verifierOptions);
  const { op } = fixture;
  const session = otherSession(fixture, {
    verifier,
    idTokenVerifier: { userPoolId: op.userPoolId, clientId: op.clientId, tokenUse: 'id', issuer: op.issuer },
    ...overrides,
  });
  return { session, verifier };
}

/**
 * Read `cookie` until it is served from the cache: it enters at its second read (the first is not
 * kept), so the third call skips `verify` and answers what the second did.
 */
async function cached(session: CognitoSession, verifier: { verifies: number }, cookie: string) {
  const start = verifier.verifies;
  await session.read(reading(cookie));
  const second = await session.read(reading(cookie));
  assert.equal(verifier.verifies, start + 2, 'a cookie read once is not kept: its second read is full');
  const again = await session.read(reading(cookie));
  assert.equal(verifier.verifies, start + 2, 'the third read is served from the cache');
  assert.equal(again.claims, second.claims);
  return second;
}

describe('the session read cache', () => {
  test('a revoked session or user is refused at the next read of a cached cookie (the list, or the verifier hook)', async () => {
    const revocations = new RevocationList({});
    try {
      // The list given to the session.
      const bySession = countedSession({ revocationList: revocations });
      const cookieA = await signedInCookie();
      const a = await cached(bySession.session, bySession.verifier, cookieA);
      await revocations.revokeSession(a.claims.origin_jti as string);
      await assert.rejects(bySession.session.read(reading(cookieA)), { code: 'ERR_TOKEN_REVOKED' });

      // The same list as the verifier's isRevoked hook only (as `serve` sets it up).
      const byHook = countedSession({}, { isRevoked: revocations.isRevoked });
      const cookieB = await signedInCookie();
      const b = await cached(byHook.session, byHook.verifier, cookieB);
      await revocations.revokeUser({ userPoolId: fixture.op.userPoolId, sub: b.claims.sub });
      await assert.rejects(byHook.session.read(reading(cookieB)), { code: 'ERR_TOKEN_REVOKED' });
    } finally {
      await revocations.close();
    }
  });

  test('a cookie with one character changed, anywhere, is refused and never answered from the cache', async () => {
    const { session, verifier } = countedSession();
    const cookie = await signedInCookie();
    const good = await cached(session, verifier, cookie);
    const values = [...cookie.matchAll(/session\.(\d)=([^;]*)/g)].map((match) => match[2] as string);
    assert.ok(values.length > 0);
    const places: [chunk: number, at: number][] = [];
    for (const [chunk, value] of values.entries()) {
      // The version byte, the IV (the cache's key), past the key, the middle, near the end.
      for (const at of [0, 5, 23, 24, value.length >> 1, value.length - 4]) places.push([chunk, at]);
    }
    for (const [chunk, at] of places) {
      const value = values[chunk] as string;
      const changed = `${value.slice(0, at)}${value[at] === 'A' ? 'B' : 'A'}${value.slice(at + 1)}`;
      const altered = cookie.replace(`session.${chunk}=${value}`, `session.${chunk}=${changed}`);
      assert.notEqual(altered, cookie);
      await assert.rejects(session.read(reading(altered)), { code: 'ERR_SESSION_INVALID' }, `${chunk}:${at}`);
    }
    // The genuine cookie is still answered, from the cache.
    const before = verifier.verifies;
    assert.equal((await session.read(reading(cookie))).claims, good.claims);
    assert.equal(verifier.verifies, before);
  });

  test('bounded: past readCacheSize, the cookie least recently read is dropped first', async () => {
    const { session, verifier } = countedSession({ readCacheSize: 2 });
    const [a, b, c] = [await signedInCookie(), await signedInCookie(), await signedInCookie()];
    const verifiesOf = async (cookie: string) => {
      const before = verifier.verifies;
      await session.read(reading(cookie));
      return verifier.verifies - before;
    };
    for (const cookie of [a, b, a, b])
      assert.equal(await verifiesOf(cookie), 1, 'first and second reads are full');
    assert.equal(await verifiesOf(a), 0, 'a is cached, and now read more recently than b');
    assert.equal(await verifiesOf(c), 1);
    assert.equal(await verifiesOf(c), 1, 'c enters the cache at its second read: one of a and b must go');
    assert.equal(await verifiesOf(a), 0, 'a stayed');
    assert.equal(await verifiesOf(c), 0, 'c is cached');
    assert.equal(await verifiesOf(b), 1, 'b was dropped, so it is read in full');
  });

  test('a cookie read only once is not kept (its second read is full, its third is cached)', async () => {
    const { session, verifier } = countedSession({ readCacheSize: 3 });
    const cookies = [
      await signedInCookie(),
      await signedInCookie(),
      await signedInCookie(),
      await signedInCookie(),
    ];
    // Four cookies read once each, with room for three: the oldest fingerprint is forgotten.
    for (const cookie of cookies) await session.read(reading(cookie));
    assert.equal(verifier.verifies, 4);
    await session.read(reading(cookies[0] as string));
    await session.read(reading(cookies[0] as string));
    assert.equal(verifier.verifies, 6, 'its first read was forgotten: two more full reads before it is kept');
    await session.read(reading(cookies[3] as string));
    await session.read(reading(cookies[3] as string));
    assert.equal(verifier.verifies, 7, 'read once before: the second read admits it, the third is cached');
  });

  test('a signed-out session is not served from the cache, in this process or (through the list) in another', async () => {
    const revocations = new RevocationList({});
    try {
      const here = countedSession({ revocationList: revocations });
      const there = countedSession({ revocationList: revocations });
      const cookie = await signedInCookie();
      await cached(here.session, here.verifier, cookie);
      await cached(there.session, there.verifier, cookie);
      const out = await here.session.signOut({ ...reading(cookie, 'POST', fixture.appOrigin) });
      assert.deepEqual(out.errors, []);
      await assert.rejects(here.session.read(reading(cookie)), { code: 'ERR_SESSION_ENDED' });
      await assert.rejects(there.session.read(reading(cookie)), { code: 'ERR_TOKEN_REVOKED' });
    } finally {
      await revocations.close();
    }
  });

  test('a cached cookie near its token expiry is refreshed, and past its lifetime refused', async () => {
    let offset = 0;
    const clock = () => Date.now() + offset * 1000;
    const { session, verifier } = countedSession({ clock, idleLifetimeSeconds: 7200 });
    const cookie = await signedInCookie();
    const first = await cached(session, verifier, cookie);
    offset = 3600; // the access token (one hour) is due for renewal
    const refreshed = await session.read(reading(cookie));
    assert.ok(refreshed.cookies.length > 0, 'the refreshed session goes back as new cookies');
    assert.notEqual(refreshed.accessToken, first.accessToken);
    offset = 3600 + 7200; // past the idle lifetime
    await assert.rejects(session.read(reading(cookie)), { code: 'ERR_SESSION_EXPIRED' });
  });

  test('an unsafe method on a cached cookie still needs a same-origin request', async () => {
    const { session, verifier } = countedSession();
    const cookie = await signedInCookie();
    await cached(session, verifier, cookie);
    await assert.rejects(session.read(reading(cookie, 'POST')), { code: 'ERR_CROSS_SITE_REQUEST' });
    await assert.rejects(session.read(reading(cookie, 'post', 'https://evil.example')), {
      code: 'ERR_CROSS_SITE_REQUEST',
    });
    assert.ok((await session.read(reading(cookie, 'POST', fixture.appOrigin))).claims.sub);
  });
});
