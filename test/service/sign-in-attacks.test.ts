/**
 * The attacks on the sign-in flow and the session cookie (test/session/attacks.test.ts, part 1),
 * run through `serve` itself: the service is the app's origin, its `/oauth2/*` endpoints answer the
 * browser, and `/auth/forward` reads the session cookie as a proxy would ask it to. Each refusal has
 * its status and code, and nothing the client is told names the configuration. In both session
 * modes.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { CLIENT_MESSAGES, type ErrorCode } from '../../src/errors.ts';
import { freePort } from '../helpers/proxy-process.ts';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.ts';
import { SECRET } from '../helpers/session-app.ts';
import { ScriptedBrowser } from '../helpers/sign-in-client.ts';
import { type SignInService, startSignInService } from '../helpers/sign-in-service.ts';

/** The fleet of the running mode: each mode's `before` starts its own. */
let redis: RedisServer;
let fleet: SignInService;
let listenOrigin: string;

const browser = () => new ScriptedBrowser(fleet.appOrigin, listenOrigin);

/**
 * A refusal: its status, its code, the fixed sentence of the code as the message, and no
 * configuration anywhere in what the client gets (body, headers).
 */
async function assertRefused(response: Response, status: number, code: ErrorCode, what = ''): Promise<void> {
  const text = await response.text();
  const told = `${text}\n${[...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n')}`;
  assert.equal(response.status, status, `${what} ${text}`);
  const body = JSON.parse(text) as { code: string; message: string };
  assert.equal(body.code, code, what);
  assert.equal(body.message, CLIENT_MESSAGES[code], what);
  const { op } = fleet;
  for (const configured of [
    op.clientId,
    op.clientSecret,
    op.userPoolId,
    op.issuer,
    new URL(op.origin).host,
    SECRET,
    redis.url,
    'admins',
  ])
    assert.ok(!told.includes(configured), `${what}: the answer names ${configured}`);
}

/** Sign in through the service's endpoints; the browser then holds the session cookie. */
async function signedIn(sub = `user-${Math.random().toString(36).slice(2)}`): Promise<ScriptedBrowser> {
  const b = browser();
  fleet.op.signInAs({ sub, groups: ['users'] });
  const { visited } = await b.follow('/oauth2/start?rd=/page');
  assert.equal(visited.at(-1), `${fleet.appOrigin}/page`, visited.join('\n'));
  assert.ok(b.jar(fleet.appOrigin).has('session.0'));
  return b;
}

/** Run a sign-in up to the callback, without calling it: the callback's path and query, and the browser. */
async function untilCallback(): Promise<{ b: ScriptedBrowser; callback: string }> {
  const b = browser();
  fleet.op.signInAs({ sub: 'user-cb', groups: [] });
  let url = `${fleet.appOrigin}/oauth2/start?rd=/page`;
  let response = await b.request(url);
  while (response.status === 302 || response.status === 303) {
    url = new URL(response.headers.get('location') as string, url).href;
    await response.arrayBuffer();
    if (url.startsWith(`${fleet.appOrigin}/oauth2/callback?`)) {
      const { pathname, search } = new URL(url);
      return { b, callback: `${pathname}${search}` };
    }
    response = await b.request(url);
  }
  throw new Error(`the flow stopped at ${url} with ${response.status}`);
}

/** The auth request a proxy sends for `GET /page` with the browser's `cookie`. */
const forwardAuth = (cookie: string) =>
  fetch(`${listenOrigin}/auth/forward`, {
    headers: { 'x-forwarded-method': 'GET', 'x-forwarded-uri': '/page', cookie },
  });

/** The same auth request with raw header lines (a name may repeat), answered as a `Response`. */
function rawForwardAuth(lines: readonly string[]): Promise<Response> {
  const headers = [
    'host',
    new URL(listenOrigin).host,
    'x-forwarded-method',
    'GET',
    'x-forwarded-uri',
    '/page',
    ...lines,
  ];
  return new Promise((resolve, reject) => {
    const sent = request(`${listenOrigin}/auth/forward`, { headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const answered = new Headers();
        for (let i = 0; i < answer.rawHeaders.length; i += 2)
          answered.append(answer.rawHeaders[i] as string, answer.rawHeaders[i + 1] as string);
        resolve(
          new Response(Buffer.concat(chunks), { status: answer.statusCode as number, headers: answered }),
        );
      });
      answer.on('error', reject);
    });
    sent.on('error', reject);
    sent.end();
  });
}

for (const mode of ['redis', 'cookie'] as const)
  describe(`sessions in the ${mode}`, () => {
    before(async () => {
      redis = await startRedisServer();
      const port = await freePort();
      fleet = await startSignInService({ port, servicePort: port, mode, redisUrl: redis.url });
      listenOrigin = `http://127.0.0.1:${port}`;
    });
    after(async () => {
      await fleet?.close();
      await redis?.stop();
    });

    describe('the callback', () => {
      test('a state that matches no pre-sign-in cookie is refused: 400 ERR_SIGN_IN_STATE_INVALID', async () => {
        const { b, callback } = await untilCallback();
        // Another browser, without the pre-sign-in cookie.
        await assertRefused(await browser().request(callback), 400, 'ERR_SIGN_IN_STATE_INVALID', 'no cookie');
        // This browser, with its cookie, but another state.
        const other = new URL(callback, fleet.appOrigin);
        other.searchParams.set('state', 'A'.repeat((other.searchParams.get('state') as string).length));
        await assertRefused(
          await b.request(`${other.pathname}${other.search}`),
          400,
          'ERR_SIGN_IN_STATE_INVALID',
          'another state',
        );
        assert.ok(![...b.jar(fleet.appOrigin).keys()].some((name) => name.startsWith('session.')));
      });

      test('a replayed callback (same code and state) is refused the second time', async () => {
        const { b, callback } = await untilCallback();
        const preSignIn = [...b.jar(fleet.appOrigin)].find(([name]) => name.includes('signin')) as [
          string,
          string,
        ];
        const first = await b.request(callback);
        assert.equal(first.status, 303);
        assert.ok(b.jar(fleet.appOrigin).has('session.0'));
        const replay = await fetch(`${listenOrigin}${callback}`, {
          headers: { cookie: `${preSignIn[0]}=${preSignIn[1]}` },
          redirect: 'manual',
        });
        await assertRefused(replay, 400, 'ERR_SIGN_IN_STATE_INVALID');
        assert.equal(replay.headers.get('location'), null);
      });
    });

    test('a return address off the app is refused at /oauth2/start with a fixed message', async () => {
      const port = new URL(fleet.appOrigin).port;
      const starts = fleet.op.count('authorize');
      for (const rd of [
        'https://evil.example/',
        '//evil.example/',
        '///evil.example/',
        '/\\evil.example',
        '\\\\evil.example',
        '%2F%2Fevil.example%2F',
        '%2F%5Cevil.example',
        `http://localhost:${port}.evil.example/`,
        `http://localhost:${port}@evil.example/`,
        'javascript:alert(1)',
      ]) {
        const response = await browser().request(`/oauth2/start?rd=${rd}`);
        assert.equal(response.headers.get('location'), null, rd);
        assert.equal(response.headers.getSetCookie().length, 0, `${rd}: no sign-in started`);
        await assertRefused(response, 400, 'ERR_REDIRECT_INVALID', rd);
      }
      assert.equal(fleet.op.count('authorize'), starts, 'the provider was never asked');
    });

    test('a cross-origin or GET sign-out is refused, and the session lives on', async () => {
      const b = await signedIn();
      for (const [method, headers] of [
        ['POST', { origin: 'https://evil.example' }],
        ['POST', { 'sec-fetch-site': 'cross-site' }],
        ['POST', {}],
        ['GET', { origin: fleet.appOrigin }],
      ] as const) {
        const response = await b.request('/oauth2/sign_out', { method, headers });
        await assertRefused(response, 403, 'ERR_CROSS_SITE_REQUEST', `${method} ${JSON.stringify(headers)}`);
      }
      assert.equal((await forwardAuth(b.cookieHeader())).status, 200, 'still signed in');
    });

    describe('the session cookie', () => {
      test('tampered: 401 ERR_SESSION_INVALID that names nothing of the config', async () => {
        const b = await signedIn();
        const chunk = b.jar(fleet.appOrigin).get('session.0') as string;
        const middle = chunk.length >> 1;
        const flipped = `${chunk.slice(0, middle)}${chunk[middle] === 'A' ? 'B' : 'A'}${chunk.slice(middle + 1)}`;
        const response = await forwardAuth(`theme=dark; session.0=${flipped}`);
        await assertRefused(response, 401, 'ERR_SESSION_INVALID');
        // The untouched cookie still passes: the refusal was the tampering.
        assert.equal((await forwardAuth(`theme=dark; session.0=${chunk}`)).status, 200);
      });

      test("two cookies with the session's name are refused, in one Cookie header or two", async () => {
        const b = await signedIn();
        const mine = b.jar(fleet.appOrigin).get('session.0') as string;
        const theirs = (await signedIn()).jar(fleet.appOrigin).get('session.0') as string;
        for (const cookie of [
          `session.0=${mine}; session.0=${theirs}`,
          `session.0=${mine}; session.0=${mine}`,
        ]) {
          await assertRefused(await forwardAuth(cookie), 401, 'ERR_SESSION_INVALID', cookie.slice(0, 30));
        }
        // Two Cookie header lines (fetch would join them): Node joins them with "; " for the service.
        await assertRefused(
          await rawForwardAuth(['cookie', `session.0=${mine}`, 'cookie', `session.0=${theirs}`]),
          401,
          'ERR_SESSION_INVALID',
          'two Cookie lines',
        );
      });
    });
  });
