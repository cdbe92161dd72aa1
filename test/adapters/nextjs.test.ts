/**
 * The Next.js helper over Web `Request`s (what `proxy.ts` and edge `middleware.ts` receive): a
 * bearer header, Amplify's cookies, each refusal as a client-safe `Response`, and an expired but
 * validly signed token refused (Amplify's own server-side check accepts one).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { amplifyToken, createNextAuth, type NextAuthOptions } from '../../src/adapters/nextjs.ts';
import { type CognitoJwtError, requireGroups } from '../../src/index.ts';
import { loopbackPool } from '../helpers/loopback-pool.ts';

const POOL = 'local_next';
const CLIENT = 'nextclient123';
const pool = loopbackPool(POOL, CLIENT);
const { mint } = pool;

/** The cookies Amplify's Next.js adapter writes for a signed-in user. */
function amplifyCookies(username: string, tokens: { accessToken?: string; idToken?: string }): string {
  const base = `CognitoIdentityServiceProvider.${CLIENT}`;
  const user = encodeURIComponent(username);
  return [
    `${base}.LastAuthUser=${user}`,
    ...Object.entries(tokens).map(([name, value]) => `${base}.${user}.${name}=${value}`),
    `${base}.${user}.refreshToken=eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.x.y.z.w`,
  ].join('; ');
}

const request = (headers: Record<string, string>) => new Request('http://127.0.0.1/account', { headers });

describe('Next.js helper', () => {
  test('a bearer header, or the LastAuthUser access token cookie (username URL-encoded)', async () => {
    const auth = createNextAuth({ verifier: pool.config, amplifyClientId: CLIENT });
    const header = await auth.claims(request({ authorization: `Bearer ${mint({ sub: 'u-1' })}` }));
    assert.equal(header.sub, 'u-1');
    const cookie = await auth.claims(
      request({ cookie: amplifyCookies('ada+test@example.com', { accessToken: mint({ sub: 'u-2' }) }) }),
    );
    assert.equal(cookie.sub, 'u-2');
    assert.equal(
      await auth.guard(request({ cookie: amplifyCookies('ada', { accessToken: mint() }) })),
      undefined,
    );
  });

  test('an expired token with a valid signature is refused (Amplify accepts it)', async () => {
    const auth = createNextAuth({ verifier: pool.config, amplifyClientId: CLIENT });
    const expired = mint({ expiresIn: -60 });
    const answer = await auth.guard(request({ cookie: amplifyCookies('ada', { accessToken: expired }) }));
    assert.equal(answer?.status, 401);
    assert.deepEqual(await answer?.json(), { code: 'ERR_TOKEN_EXPIRED', message: 'the token has expired' });
  });

  test('every refusal: status, challenge, fixed sentence; nothing of the configuration', async () => {
    const reported: CognitoJwtError[] = [];
    const auth = createNextAuth({
      verifier: pool.config,
      amplifyClientId: CLIENT,
      rules: [requireGroups('members')],
      onError: (error) => reported.push(error as CognitoJwtError),
    });
    const cases: [Record<string, string>, number, string][] = [
      [{}, 401, 'ERR_TOKEN_MISSING'],
      [{ cookie: `CognitoIdentityServiceProvider.${CLIENT}.LastAuthUser=ada` }, 401, 'ERR_TOKEN_MISSING'],
      [{ cookie: amplifyCookies('ada', { accessToken: 'not-a-jwt' }) }, 401, 'ERR_TOKEN_MALFORMED'],
      [
        {
          cookie: `${amplifyCookies('ada', { accessToken: mint() })}; ${amplifyCookies('ada', { accessToken: mint() })}`,
        },
        401,
        'ERR_TOKEN_AMBIGUOUS',
      ],
      [
        { authorization: `Bearer ${mint({ groups: ['members'], clientId: 'other' })}` },
        401,
        'ERR_CLIENT_MISMATCH',
      ],
      [
        {
          authorization: `Bearer ${pool.mintId({ groups: ['members'] })}`,
        },
        401,
        'ERR_TOKEN_USE_MISMATCH',
      ],
      [{ authorization: `Bearer ${mint({ groups: ['guests'] })}` }, 403, 'ERR_GROUP_MISSING'],
    ];
    for (const [headers, status, code] of cases) {
      const answer = await auth.guard(request(headers));
      assert.equal(answer?.status, status, code);
      assert.equal(reported.pop()?.code, code);
      const body = (await answer?.json()) as { code: string };
      assert.equal(body.code, code);
      assert.match(answer?.headers.get('www-authenticate') ?? '', /^Bearer error=/);
      assert.equal(answer?.headers.get('cache-control'), 'no-store');
      const text = JSON.stringify(body);
      for (const secret of [POOL, CLIENT, 'members', pool.jwks.origin])
        assert.ok(!text.includes(secret), secret);
    }
  });

  test('cookies of another app client, or without amplifyClientId, are not read', async () => {
    assert.equal(
      amplifyToken(request({ cookie: amplifyCookies('ada', { accessToken: 'x.y.z' }) }), 'otherclient'),
      undefined,
    );
    assert.equal(
      amplifyToken(request({ cookie: amplifyCookies('ada', { accessToken: 'x.y.z' }) }), undefined),
      undefined,
    );
    assert.equal(
      amplifyToken(request({ cookie: amplifyCookies('ada', { idToken: 'i.d.t' }) }), CLIENT, 'idToken'),
      'i.d.t',
    );
  });

  test('options are checked when the helper is created', () => {
    for (const [options, message] of [
      [{ verifier: pool.config, amplifyClientId: 'a.b' }, /amplifyClientId/],
      [{ verifier: pool.config, tokenCookie: 'refreshToken' }, /tokenCookie/],
      [{ verifier: pool.config, getToken: () => '' }, /"getToken" does not belong here/],
      [{ verifier: pool.config, rules: 'x' }, /rules must be an array/],
    ] as const) {
      assert.throws(() => createNextAuth(options as unknown as NextAuthOptions), {
        code: 'ERR_CONFIG_INVALID',
        message,
      });
    }
  });
});

describe('on Web Crypto (a deprecated edge middleware.ts)', () => {
  test('the built package under the edge-light/worker conditions checks cookies the same way', async (t) => {
    const root = new URL('../..', import.meta.url);
    if (!existsSync(new URL('dist/adapters/nextjs.js', root))) {
      t.skip('needs npm run build');
      return;
    }
    const valid = mint({ sub: 'edge-user' });
    const expired = mint({ expiresIn: -60 });
    const script = `
      import { createNextAuth } from 'cognito-jwt/nextjs';
      import { CognitoVerifier } from 'cognito-jwt';
      const out = {};
      try { new CognitoVerifier(${JSON.stringify(pool.config)}).verifySync('a.b.c'); } catch (error) { out.platform = error.code; }
      const auth = createNextAuth({ verifier: ${JSON.stringify(pool.config)}, amplifyClientId: '${CLIENT}' });
      const ask = (token) => new Request('http://127.0.0.1/account', { headers: { cookie: ${JSON.stringify(amplifyCookies('ada', { accessToken: '@' }))}.replace('@', token) } });
      out.valid = (await auth.claims(ask(${JSON.stringify(valid)}))).sub;
      out.expired = (await auth.guard(ask(${JSON.stringify(expired)})))?.status;
      console.log(JSON.stringify(out));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=edge-light', '--conditions=worker', '--input-type=module', '-e', script],
      { cwd: root },
    );
    assert.deepEqual(JSON.parse(stdout), {
      platform: 'ERR_SYNC_UNSUPPORTED',
      valid: 'edge-user',
      expired: 401,
    });
  });
});
