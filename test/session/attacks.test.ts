/**
 * Each attack on the sign-in flow and the session cookie, refused, against the Cognito-like
 * provider and an Express app on loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RevocationList } from '../../src/revocation/index.ts';
import { CognitoSession, type SessionOptions } from '../../src/session/index.ts';
import {
  SECRET,
  type SessionFixture,
  otherSession as sharedOtherSession,
  startSessionApp,
} from '../helpers/session-app.ts';
import { ScriptedBrowser } from '../helpers/sign-in-client.ts';

let fixture: SessionFixture;
before(async () => {
  fixture = await startSessionApp();
});
after(() => fixture.close());

const browser = () => new ScriptedBrowser(fixture.appOrigin, fixture.listenOrigin);

async function signedIn(user = `user-${Math.random().toString(36).slice(2)}`): Promise<ScriptedBrowser> {
  const b = browser();
  fixture.op.signInAs({ sub: user, groups: ['users'] });
  const { response } = await b.follow('/page');
  assert.equal(response.status, 200);
  return b;
}

/** Run a sign-in up to the callback, without calling it: the callback URL and the browser. */
async function untilCallback(): Promise<{ b: ScriptedBrowser; callback: string }> {
  const b = browser();
  fixture.op.signInAs({ sub: 'user-cb', groups: [] });
  let response = await b.request('/auth/sign-in?return_to=/page');
  let url = new URL('/auth/sign-in', fixture.appOrigin).href;
  while (response.status === 303 || response.status === 302) {
    url = new URL(response.headers.get('location') as string, url).href;
    await response.arrayBuffer();
    if (url.startsWith(`${fixture.appOrigin}/auth/callback`)) return { b, callback: url };
    response = await b.request(url);
  }
  throw new Error(`the flow stopped at ${url} with ${response.status}`);
}

async function code(response: Response): Promise<string> {
  return ((await response.json()) as { code: string }).code;
}

const otherSession = (overrides: Partial<SessionOptions> = {}) => sharedOtherSession(fixture, overrides);

const reading = (cookie: string) => ({
  method: 'GET',
  url: '/api/me',
  header: (name: string) => (name === 'cookie' ? cookie : undefined),
});

describe('the session cookie', () => {
  test('tampered (one character) or truncated: 401 ERR_SESSION_INVALID, and the cookies are cleared', async () => {
    const b = await signedIn();
    const chunk0 = b.jar(fixture.appOrigin).get('session.0') as string;
    const middle = chunk0.length >> 1;
    const flipped = `${chunk0.slice(0, middle)}${chunk0[middle] === 'A' ? 'B' : 'A'}${chunk0.slice(middle + 1)}`;
    const rest = b.cookieHeader().replace(/^session\.0=[^;]*;?\s*/, '');
    for (const cookie of [
      `session.0=${flipped}${rest ? `; ${rest}` : ''}`,
      `session.0=${chunk0.slice(0, -10)}${rest ? `; ${rest}` : ''}`,
      `session.0=${chunk0}`, // the second chunk dropped (when there is one) ...
      `session.0=${chunk0}=`, // ... or junk appended
    ]) {
      if (cookie === `session.0=${chunk0}` && rest === '') continue;
      const response = await fetch(`${fixture.listenOrigin}/api/me`, { headers: { cookie } });
      assert.equal(response.status, 401, cookie.slice(0, 40));
      assert.equal(await code(response), 'ERR_SESSION_INVALID');
      assert.ok(response.headers.getSetCookie().some((line) => /^session\.0=; .*Max-Age=0/.test(line)));
    }
  });

  test('sealed with a secret this app does not have: refused; with the old secret still listed: accepted (rotation)', async () => {
    const b = await signedIn();
    const cookie = b.cookieHeader();
    await assert.rejects(
      otherSession({ secrets: ['another-secret-of-more-than-32-characters'] }).read(reading(cookie)),
      {
        code: 'ERR_SESSION_INVALID',
      },
    );
    const rotated = otherSession({ secrets: ['the-new-secret-of-more-than-32-characters', SECRET] });
    assert.equal((await rotated.read(reading(cookie))).claims.sub.startsWith('user-'), true);
  });

  test('a repeated read, cached by the cookie, still asks the revocation list every time, and never serves an altered header', async () => {
    const b = await signedIn();
    const cookie = b.cookieHeader();
    const revocations = new RevocationList({});
    const session = otherSession({ revocationList: revocations });
    const first = await session.read(reading(cookie));
    // The same header again, then the same session among other cookies.
    assert.deepEqual((await session.read(reading(cookie))).claims, first.claims);
    assert.deepEqual((await session.read(reading(`theme=dark; ${cookie}`))).claims, first.claims);
    const chunk0 = b.jar(fixture.appOrigin).get('session.0') as string;
    const at = chunk0.length - 20; // past the part that keys the cache
    const altered = cookie.replace(
      chunk0,
      `${chunk0.slice(0, at)}${chunk0[at] === 'A' ? 'B' : 'A'}${chunk0.slice(at + 1)}`,
    );
    await assert.rejects(session.read(reading(altered)), { code: 'ERR_SESSION_INVALID' });
    await revocations.revokeSession(first.claims.origin_jti as string);
    for (const header of [cookie, `theme=dark; ${cookie}`])
      await assert.rejects(session.read(reading(header)), { code: 'ERR_TOKEN_REVOKED' });
    await revocations.close();
  });

  test('chunks mixed from two sessions are refused', async () => {
    const [a, b] = [await signedIn(), await signedIn()];
    const chunksOf = (x: ScriptedBrowser) =>
      [...x.jar(fixture.appOrigin)].filter(([name]) => name.startsWith('session.'));
    const [a0, a1] = chunksOf(a);
    const [b0, b1] = chunksOf(b);
    assert.ok(a0 && b0);
    const mixed =
      a1 && b1
        ? `session.0=${a0[1]}; session.1=${b1[1]}`
        : `session.0=${a0[1].slice(0, 100)}${b0[1].slice(100)}`;
    await assert.rejects(fixture.session.read(reading(mixed)), { code: 'ERR_SESSION_INVALID' });
  });

  test('an oversized jar: more chunks than the bound, a chunk sent twice, a huge Cookie header', async () => {
    const b = await signedIn();
    const good = b.cookieHeader();
    for (const cookie of [
      `${good}; session.2=AAAA; session.3=AAAA`,
      `${good}; session.9=AAAA`,
      `${good}; ${good}`,
    ]) {
      const response = await fetch(`${fixture.listenOrigin}/api/me`, { headers: { cookie } });
      assert.equal(response.status, 401);
      assert.equal(await code(response), 'ERR_SESSION_INVALID');
    }
  });

  test('a Cookie header beyond 64 KiB is not parsed (Node itself answers 431 above 16 KiB)', async () => {
    const b = await signedIn();
    await assert.rejects(fixture.session.read(reading(`${b.cookieHeader()}; filler=${'x'.repeat(70_000)}`)), {
      code: 'ERR_SESSION_INVALID',
    });
  });

  test('a bearer token wins over the session cookie (a bad one is refused even with a good cookie)', async () => {
    const b = await signedIn();
    const response = await fetch(`${fixture.listenOrigin}/api/me`, {
      headers: { cookie: b.cookieHeader(), authorization: 'Bearer not.a.token' },
    });
    assert.equal(response.status, 401);
    assert.equal(await code(response), 'ERR_TOKEN_MALFORMED');
  });

  test('a session larger than the bound fails the sign-in with ERR_SESSION_TOO_LARGE, naming the bound', async () => {
    const b = browser();
    fixture.op.signInAs({
      sub: 'many-groups',
      groups: Array.from({ length: 300 }, (_, i) => `group-with-a-long-name-${i}`),
    });
    const { response } = await b.follow('/page');
    assert.equal(response.status, 500);
    assert.equal(await code(response), 'ERR_SESSION_TOO_LARGE');
  });
});

describe('the sign-in flow', () => {
  test('a callback without the pre-sign-in cookie (another browser): 400 ERR_SIGN_IN_STATE_INVALID', async () => {
    const { callback } = await untilCallback();
    const response = await browser().request(callback);
    assert.equal(response.status, 400);
    assert.equal(await code(response), 'ERR_SIGN_IN_STATE_INVALID');
  });

  test('a reused state is refused, though the pre-sign-in cookie is sent again', async () => {
    const { b, callback } = await untilCallback();
    const preSignIn = [...b.jar(fixture.appOrigin)].find(([name]) => name.includes('signin')) as [
      string,
      string,
    ];
    assert.equal((await b.request(callback)).status, 303);
    const replay = await fetch(
      new URL(new URL(callback).pathname + new URL(callback).search, fixture.listenOrigin),
      {
        headers: { cookie: `${preSignIn[0]}=${preSignIn[1]}` },
        redirect: 'manual',
      },
    );
    assert.equal(replay.status, 400);
    assert.equal(await code(replay), 'ERR_SIGN_IN_STATE_INVALID');
  });

  test('a replayed code is refused by the provider (another process, where the state is new)', async () => {
    const { b, callback } = await untilCallback();
    const preSignIn = [...b.jar(fixture.appOrigin)].find(([name]) => name.includes('signin')) as [
      string,
      string,
    ];
    assert.equal((await b.request(callback)).status, 303);
    const url = new URL(callback);
    await assert.rejects(
      otherSession().callback({
        method: 'GET',
        url: `${url.pathname}${url.search}`,
        header: (name) => (name === 'cookie' ? `${preSignIn[0]}=${preSignIn[1]}` : undefined),
      }),
      { code: 'ERR_OAUTH_INVALID_GRANT' },
    );
  });

  test('an ID token with another nonce: 401 ERR_SIGN_IN_NONCE_MISMATCH, and no session', async () => {
    const { b, callback } = await untilCallback();
    fixture.op.forgeNextNonce('an-attackers-nonce');
    const response = await b.request(callback);
    assert.equal(response.status, 401);
    assert.equal(await code(response), 'ERR_SIGN_IN_NONCE_MISMATCH');
    assert.equal(
      [...b.jar(fixture.appOrigin).keys()].filter((name) => name.startsWith('session.')).length,
      0,
    );
  });

  test('open redirects in the return-to address are refused', async () => {
    const port = new URL(fixture.appOrigin).port;
    for (const target of [
      '//evil.example/',
      '///evil.example/',
      'https://evil.example/',
      '/\\evil.example',
      '\\\\evil.example',
      '/\tevil',
      `http://localhost:${port}.evil.example/`,
      `http://localhost:${port}@evil.example/`,
      'javascript:alert(1)',
      'http://127.0.0.1/',
      'evil.example',
    ]) {
      const response = await browser().request(`/auth/sign-in?${new URLSearchParams({ return_to: target })}`);
      assert.equal(response.status, 400, target);
      assert.equal(await code(response), 'ERR_REDIRECT_INVALID', target);
    }
    const restricted = otherSession({ returnToPaths: ['/app'] });
    assert.equal(restricted.checkReturnTo('/app/orders?id=1'), '/app/orders?id=1');
    assert.equal(restricted.checkReturnTo(`${fixture.appOrigin}/app`), '/app');
    for (const target of ['/application', '/', '/app/../admin', '/other']) {
      assert.throws(() => restricted.checkReturnTo(target), { code: 'ERR_REDIRECT_INVALID' }, target);
    }
  });
});

describe('cross-site requests', () => {
  test('a cross-site POST to an API route is refused; a same-origin one passes', async () => {
    const b = await signedIn();
    for (const headers of [
      { origin: 'https://evil.example' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: fixture.appOrigin, 'sec-fetch-site': 'cross-site' },
      {},
    ]) {
      const response = await b.request('/api/orders', { method: 'POST', headers });
      assert.equal(response.status, 403, JSON.stringify(headers));
      assert.equal(await code(response), 'ERR_CROSS_SITE_REQUEST');
    }
    const ok = await b.request('/api/orders', {
      method: 'POST',
      headers: { origin: fixture.appOrigin, 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(ok.status, 201);
  });

  test('a cross-site POST to sign-out, or a GET, signs nobody out', async () => {
    const b = await signedIn();
    const revocations = fixture.op.count('revoke');
    for (const [method, headers] of [
      ['POST', { origin: 'https://evil.example' }],
      ['POST', { 'sec-fetch-site': 'cross-site' }],
      ['GET', {}],
    ] as const) {
      const response = await b.request('/auth/sign-out', { method, headers });
      assert.equal(response.status, 403, `${method} ${JSON.stringify(headers)}`);
    }
    assert.equal(fixture.op.count('revoke'), revocations);
    assert.equal((await b.request('/api/me')).status, 200, 'still signed in');
  });
});

describe('cookie attributes', () => {
  const session = (overrides: Partial<SessionOptions>) =>
    new CognitoSession({
      domain: 'myapp.auth.eu-west-1.amazoncognito.com',
      clientId: 'client',
      verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'client', tokenUse: 'access' },
      appOrigin: 'https://app.example.com',
      secrets: SECRET,
      ...overrides,
    });
  const none = { method: 'GET', url: '/auth/sign-in', header: () => undefined };

  test('__Host- without a domain, __Secure- with one; HttpOnly, Secure, SameSite=Lax, short-lived', async () => {
    const [host] = (await session({}).signIn(none)).cookies;
    assert.match(
      host as string,
      /^__Host-session-signin\.[A-Za-z0-9_-]{16}=[A-Za-z0-9_-]+; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/,
    );
    const [secure] = (await session({ cookieDomain: 'example.com' }).signIn(none)).cookies;
    assert.match(secure as string, /^__Secure-session-signin\..*; Secure; Domain=example\.com$/);
  });

  test('the development switch serves http://localhost only', () => {
    assert.throws(() => session({ appOrigin: 'http://app.example.com' }), {
      code: 'ERR_CONFIG_INVALID',
      message: /https/,
    });
    assert.throws(() => session({ appOrigin: 'http://127.0.0.1:3000', insecureLocalhost: true }), {
      message: /localhost only/,
    });
    assert.doesNotThrow(() => session({ appOrigin: 'http://localhost:3000', insecureLocalhost: true }));
  });

  test('options reject unknown keys and short secrets', () => {
    assert.throws(() => session({ secret: SECRET } as never), {
      code: 'ERR_CONFIG_INVALID',
      message: /secrets/,
    });
    assert.throws(() => session({ cookeName: 'x' } as never), { message: /did you mean "cookieName"/ });
    assert.throws(() => session({ secrets: 'short' }), { message: /at least 32 characters/ });
  });

  test('the authorize request: PKCE S256, state, nonce, openid, and the managed-login options', async () => {
    const answer = await session({}).signIn(none, {
      identityProvider: 'Google',
      lang: 'fr',
      loginHint: 'a@b.c',
      maxAge: 0,
    });
    const url = new URL(answer.headers.location as string);
    assert.equal(
      url.origin + url.pathname,
      'https://myapp.auth.eu-west-1.amazoncognito.com/oauth2/authorize',
    );
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.match(url.searchParams.get('code_challenge') as string, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(url.searchParams.get('redirect_uri'), 'https://app.example.com/auth/callback');
    assert.equal(url.searchParams.get('identity_provider'), 'Google');
    assert.equal(url.searchParams.get('max_age'), '0');
    assert.equal(answer.headers['cache-control'], 'no-store');
  });
});
