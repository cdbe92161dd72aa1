/**
 * Step-up rules (requireAcr, requireAmr, maxAuthAge) and their RFC 9470 challenge, and today's
 * token options (audience, groupsClaim, acrLevels, claims) through every door: the three HTTP
 * adapters, the Lambda authorizers and `serve`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearerChallenge, httpErrorResponse } from '../../src/adapters/http.ts';
import {
  createHttpApiAuthorizer,
  createRequestAuthorizer,
  createTokenAuthorizer,
} from '../../src/adapters/lambda.ts';
import {
  anyOf,
  type CognitoAccessTokenClaims,
  CognitoVerifier,
  maxAuthAge,
  maxAuthAgeOf,
  readsRequest,
  requireAcr,
  requireAmr,
  requireGroups,
  StepUpRequiredError,
} from '../../src/index.ts';
import {
  generateKeyPair,
  type JwksServer,
  mintAccessToken,
  startJwksServer,
} from '../../src/testing/index.ts';
import { httpApiEvent, requestEvent, tokenEvent } from '../adapters/lambda-events.ts';
import { type GuardTable, guardedApps } from '../helpers/adapter-apps.ts';
import { rejectsCode, throwsCode } from '../helpers/assert-error.ts';
import { nginxAsk, startHarness } from '../service/harness.ts';

const NOW = 1_900_000_000;

function claims(overrides: Partial<CognitoAccessTokenClaims> = {}): CognitoAccessTokenClaims {
  return {
    sub: 'u1',
    iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example',
    exp: NOW + 3600,
    iat: NOW - 60,
    auth_time: NOW - 60,
    token_use: 'access',
    client_id: 'client',
    ...overrides,
  };
}

describe('requireAcr', () => {
  test('the level reached or a higher one passes; lower, absent or unknown values are refused with acr_values', () => {
    const level2 = requireAcr(2);
    level2(claims({ acr: 'urn:cognito:loa:2' }));
    level2(claims({ acr: 'urn:cognito:loa:4' }));
    requireAcr('urn:cognito:loa:3')(claims({ acr: 'urn:cognito:loa:3' }));
    for (const acr of ['urn:cognito:loa:1', undefined, 'urn:cognito:loa:5', 'gold', 'URN:COGNITO:LOA:2']) {
      const error = throwsCode(
        () => level2(claims(acr === undefined ? {} : { acr })),
        'ERR_STEP_UP_REQUIRED',
        {
          status: 401,
          claim: 'acr',
        },
      );
      assert.ok(error instanceof StepUpRequiredError);
      assert.deepEqual(error.acrValues, ['urn:cognito:loa:2']);
      assert.equal(error.maxAge, undefined);
    }
  });

  test('levels outside the four are refused when the rule is made', () => {
    for (const level of [0, 5, 2.5, 'urn:cognito:loa:5', 'urn:cognito:loa:0', '', 'a b', 'say "hi"']) {
      throwsCode(() => requireAcr(level as 2), 'ERR_CONFIG_INVALID');
    }
  });

  test('reads claims only: safe under any authorizer cache', () => {
    assert.equal(readsRequest(requireAcr(2)), false);
    assert.equal(requireAcr(2).maxAuthAgeSeconds, undefined);
  });

  test("a pool's own level names (acrLevels) order acr; the defaults become unknown", async () => {
    const key = generateKeyPair();
    const jwks = await startJwksServer({ keys: [key] });
    try {
      const issuer = jwks.issuer('local_levels');
      const verifier = new CognitoVerifier({
        userPoolId: 'local_levels',
        issuer,
        clientId: null,
        tokenUse: 'access',
        acrLevels: ['bronze', 'silver', 'gold', 'platinum'],
      });
      const gold = await verifier.verify(mintAccessToken({ key, issuer, acr: 'gold' }));
      requireAcr(2)(gold);
      requireAcr('silver')(gold);
      const error = throwsCode(() => requireAcr('platinum')(gold), 'ERR_STEP_UP_REQUIRED');
      assert.deepEqual((error as StepUpRequiredError).acrValues, ['platinum']);
      const renamed = await verifier.verify(mintAccessToken({ key, issuer, acr: 'urn:cognito:loa:4' }));
      throwsCode(() => requireAcr(1)(renamed), 'ERR_STEP_UP_REQUIRED', { message: 'not one of the pool' });
      // A name the pool does not have is the configuration's mistake, not the token's.
      throwsCode(() => requireAcr('urn:cognito:loa:2')(gold), 'ERR_CONFIG_INVALID', { message: 'acrLevels' });
    } finally {
      await jwks.close();
    }
  });
});

describe('requireAmr', () => {
  test('every method is needed; the challenge has no acr_values or max_age', () => {
    requireAmr('mfa')(claims({ amr: ['pwd', 'mfa'] }));
    requireAmr('pwd', 'mfa')(claims({ amr: ['pwd', 'otp', 'mfa'] }));
    for (const amr of [['pwd'], [], undefined]) {
      const error = throwsCode(
        () => requireAmr('pwd', 'mfa')(claims(amr === undefined ? {} : { amr })),
        'ERR_STEP_UP_REQUIRED',
        { claim: 'amr', message: 'lacks' },
      );
      assert.equal((error as StepUpRequiredError).acrValues, undefined);
    }
    throwsCode(() => requireAmr(), 'ERR_CONFIG_INVALID');
    throwsCode(() => requireAmr(''), 'ERR_CONFIG_INVALID');
  });
});

describe('maxAuthAge', () => {
  test("uses the verifier's clock and tolerance; refused with max_age", async () => {
    const key = generateKeyPair();
    const jwks = await startJwksServer({ keys: [key] });
    try {
      const issuer = jwks.issuer('local_age');
      let now = NOW * 1000;
      const config = { userPoolId: 'local_age', issuer, clientId: null, tokenUse: 'access' } as const;
      const strict = new CognitoVerifier(config, { clock: () => now });
      const lenient = new CognitoVerifier({ ...config, clockToleranceSeconds: 30 }, { clock: () => now });
      const token = mintAccessToken({ key, issuer, now: (NOW - 250) * 1000 });
      const rule = maxAuthAge(300);
      rule(await strict.verify(token));
      now = (NOW + 51) * 1000; // 301 s after sign-in
      const error = throwsCode(() => rule(strict.verifySync(token)), 'ERR_STEP_UP_REQUIRED', {
        claim: 'auth_time',
        status: 401,
      });
      assert.equal((error as StepUpRequiredError).maxAge, 300);
      rule(await lenient.verify(token)); // within 300 + 30
      now = (NOW + 81) * 1000;
      throwsCode(() => rule(lenient.verifySync(token)), 'ERR_STEP_UP_REQUIRED');
    } finally {
      await jwks.close();
    }
  });

  test('a token without auth_time is refused; claims from no verifier use Date.now', () => {
    throwsCode(
      () => maxAuthAge(60)({ ...claims(), auth_time: undefined } as unknown as CognitoAccessTokenClaims),
      'ERR_STEP_UP_REQUIRED',
      {
        message: 'no auth_time',
      },
    );
    maxAuthAge(60)(claims({ auth_time: Math.floor(Date.now() / 1000) - 5 }));
    throwsCode(() => maxAuthAge(60)(claims({ auth_time: 1_000_000_000 })), 'ERR_STEP_UP_REQUIRED');
  });

  test('declares the window it reads; bad values are refused', () => {
    assert.equal(maxAuthAge(300).maxAuthAgeSeconds, 300);
    assert.equal(readsRequest(maxAuthAge(300)), false);
    assert.equal(maxAuthAgeOf([requireGroups('a'), maxAuthAge(600), maxAuthAge(300)]), 300);
    assert.equal(maxAuthAgeOf([anyOf(requireGroups('a'), maxAuthAge(120))]), 120);
    for (const seconds of [-1, 1.5, Number.NaN, Infinity, '300']) {
      throwsCode(() => maxAuthAge(seconds as number), 'ERR_CONFIG_INVALID');
    }
  });
});

describe('anyOf with step-up alternatives', () => {
  test('a step-up refusal lets the next alternative try; when all refuse, the step-up challenge wins', async () => {
    const rule = anyOf(requireGroups('admins'), requireAcr(3));
    await rule(claims({ 'cognito:groups': ['admins'] }), undefined);
    await rule(claims({ acr: 'urn:cognito:loa:3' }), undefined);
    const error = await rejectsCode(
      Promise.resolve(rule(claims({ acr: 'urn:cognito:loa:1' }), undefined)),
      'ERR_STEP_UP_REQUIRED',
    );
    assert.deepEqual((error as StepUpRequiredError).acrValues, ['urn:cognito:loa:3']);
    await rejectsCode(
      Promise.resolve(anyOf(requireGroups('a'), requireGroups('b'))(claims(), undefined)),
      'ERR_FORBIDDEN',
    );
  });
});

describe('the RFC 9470 challenge', () => {
  test('bearerChallenge writes acr_values and max_age', () => {
    assert.equal(
      bearerChallenge({
        error: 'insufficient_user_authentication',
        acrValues: ['urn:cognito:loa:2'],
        maxAge: 300,
      }),
      'Bearer error="insufficient_user_authentication", acr_values="urn:cognito:loa:2", max_age="300"',
    );
  });

  test('httpErrorResponse answers a step-up refusal with 401 and the challenge', () => {
    const error = throwsCode(() => maxAuthAge(300)(claims({ auth_time: 1 })), 'ERR_STEP_UP_REQUIRED');
    const answer = httpErrorResponse(error, { realm: 'api' })!;
    assert.equal(answer.status, 401);
    assert.equal(
      answer.headers['www-authenticate'],
      'Bearer realm="api", error="insufficient_user_authentication", error_description="this request needs a stronger or more recent sign-in", max_age="300"',
    );
    assert.equal(answer.body.code, 'ERR_STEP_UP_REQUIRED');
  });
});

const API = 'https://api.example.com';

describe('every HTTP adapter', () => {
  const key = generateKeyPair();
  let jwks: JwksServer;
  let issuer: string;
  before(async () => {
    jwks = await startJwksServer({ keys: [key] });
    issuer = jwks.issuer('local_doors');
  });
  after(() => jwks.close());

  const guards: GuardTable = {
    '/level2': [requireAcr(2)],
    '/fresh': [maxAuthAge(300), requireAcr('urn:cognito:loa:2')],
    '/mfa': [requireAmr('mfa')],
    '/staff': [requireGroups('staff')],
  };

  for (const framework of Object.keys(guardedApps) as (keyof typeof guardedApps)[]) {
    test(`${framework}: audience, groupsClaim, and step-up answered with RFC 9470`, async () => {
      const app = await guardedApps[framework](
        {
          verifier: {
            userPoolId: 'local_doors',
            issuer,
            clientId: null,
            tokenUse: 'access',
            audience: API,
            groupsClaim: { claim: 'custom:groups', format: 'bracketed' },
          },
        },
        guards,
      );
      try {
        const get = (path: string, token: string) =>
          fetch(`${app.origin}${path}`, { headers: { authorization: `Bearer ${token}` } });
        const bound = (options: Partial<Parameters<typeof mintAccessToken>[0]> = {}) =>
          mintAccessToken({ key, issuer, resource: API, ...options });

        assert.equal((await get('/me', bound())).status, 200);
        const unbound = await get('/me', mintAccessToken({ key, issuer }));
        assert.equal(unbound.status, 401);
        assert.equal(((await unbound.json()) as { code: string }).code, 'ERR_AUDIENCE_MISMATCH');
        assert.match(unbound.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

        const weak = await get('/level2', bound({ acr: 'urn:cognito:loa:1' }));
        assert.equal(weak.status, 401);
        assert.equal(
          weak.headers.get('www-authenticate'),
          'Bearer error="insufficient_user_authentication", error_description="this request needs a stronger or more recent sign-in", acr_values="urn:cognito:loa:2"',
        );
        assert.equal((await get('/level2', bound({ acr: 'urn:cognito:loa:2' }))).status, 200);

        const old = await get('/fresh', bound({ acr: 'urn:cognito:loa:2', now: Date.now() - 600_000 }));
        assert.equal(old.status, 401);
        assert.match(
          old.headers.get('www-authenticate') ?? '',
          /insufficient_user_authentication.*max_age="300"$/,
        );
        assert.equal((await get('/fresh', bound({ acr: 'urn:cognito:loa:3' }))).status, 200);

        assert.equal((await get('/mfa', bound({ amr: ['pwd'] }))).status, 401);
        assert.equal((await get('/mfa', bound({ amr: ['pwd', 'mfa'] }))).status, 200);

        assert.equal(
          (await get('/staff', bound({ claims: { 'custom:groups': '[admins, staff]' } }))).status,
          200,
        );
        const notStaff = await get(
          '/staff',
          bound({ groups: ['staff'], claims: { 'custom:groups': '[admins]' } }),
        );
        assert.equal(notStaff.status, 403);
        const malformed = await get('/me', bound({ claims: { 'custom:groups': 'staff' } }));
        assert.equal(malformed.status, 401);
        assert.equal(((await malformed.json()) as { code: string }).code, 'ERR_CLAIM_INVALID');
      } finally {
        await app.close();
      }
    });
  }
});

describe('Lambda authorizers', () => {
  const key = generateKeyPair();
  let jwks: JwksServer;
  let issuer: string;
  let verifier: CognitoVerifier;
  before(async () => {
    jwks = await startJwksServer({ keys: [key] });
    issuer = jwks.issuer('local_lambda');
    verifier = new CognitoVerifier({
      userPoolId: 'local_lambda',
      issuer,
      clientId: null,
      tokenUse: 'access',
      audience: API,
      groupsClaim: { claim: 'custom:groups', format: 'json' },
      claims: { tenant: 'string' },
    });
  });
  after(() => jwks.close());

  test('a cache TTL above maxAuthAge is refused by every factory; at most it, or caching off, is accepted', () => {
    const rules = [maxAuthAge(300)];
    throwsCode(() => createTokenAuthorizer({ verifier, rules }), 'ERR_CONFIG_INVALID', {
      message: 'state the authorizer',
    });
    throwsCode(() => createTokenAuthorizer({ verifier, rules, cacheTtlSeconds: 301 }), 'ERR_CONFIG_INVALID', {
      message: 'cacheTtlSeconds 301 is above it',
    });
    assert.ok(createTokenAuthorizer({ verifier, rules, cacheTtlSeconds: 300 }));
    assert.ok(createTokenAuthorizer({ verifier, rules, cacheTtlSeconds: 0 }));
    throwsCode(() => createRequestAuthorizer({ verifier, rules, cache: 'per-route' }), 'ERR_CONFIG_INVALID');
    throwsCode(
      () => createRequestAuthorizer({ verifier, rules, cache: 'per-route', cacheTtlSeconds: 3600 }),
      'ERR_CONFIG_INVALID',
    );
    assert.ok(createRequestAuthorizer({ verifier, rules, cache: 'off' }));
    assert.ok(
      createHttpApiAuthorizer({
        verifier,
        rules: [anyOf(requireGroups('a'), maxAuthAge(60))],
        cacheTtlSeconds: 60,
      }),
    );
    throwsCode(
      () =>
        createHttpApiAuthorizer({
          verifier,
          rules: [anyOf(requireGroups('a'), maxAuthAge(60))],
          cacheTtlSeconds: 61,
        }),
      'ERR_CONFIG_INVALID',
    );
    // Claims-only step-up rules need nothing.
    assert.ok(createTokenAuthorizer({ verifier, rules: [requireAcr(2), requireAmr('mfa')] }));
    for (const cacheTtlSeconds of [-1, 3601, 1.5, '300']) {
      throwsCode(
        () => createTokenAuthorizer({ verifier, cacheTtlSeconds: cacheTtlSeconds as number }),
        'ERR_CONFIG_INVALID',
      );
    }
    throwsCode(
      () => createRequestAuthorizer({ verifier, cache: 'off', cacheTtlSeconds: 30 }),
      'ERR_CONFIG_INVALID',
    );
  });

  test('audience, groupsClaim, the schema and step-up decide as in the adapters', async () => {
    const handler = createTokenAuthorizer({
      verifier,
      rules: [requireAcr(2), requireGroups('staff')],
      cacheTtlSeconds: 300,
    });
    const token = (options: Partial<Parameters<typeof mintAccessToken>[0]> = {}) =>
      mintAccessToken({
        key,
        issuer,
        resource: API,
        acr: 'urn:cognito:loa:2',
        claims: { tenant: 't1', 'custom:groups': '["staff"]' },
        ...options,
      });
    const allowed = await handler(tokenEvent(token()));
    assert.equal(allowed.policyDocument.Statement[0]?.Effect, 'Allow');
    assert.equal(allowed.context?.groups, 'staff');
    // Not bound, a weak sign-in, a missing schema claim: 401 (API Gateway's Unauthorized).
    for (const bad of [
      mintAccessToken({
        key,
        issuer,
        acr: 'urn:cognito:loa:2',
        claims: { tenant: 't1', 'custom:groups': '["staff"]' },
      }),
      token({ acr: 'urn:cognito:loa:1' }),
      token({ claims: { 'custom:groups': '["staff"]' } }),
    ]) {
      await assert.rejects(handler(tokenEvent(bad)), /^Error: Unauthorized$/);
    }
    const denied = await handler(
      tokenEvent(token({ claims: { tenant: 't1', 'custom:groups': '["guests"]' } })),
    );
    assert.equal(denied.policyDocument.Statement[0]?.Effect, 'Deny');

    const request = createRequestAuthorizer({ verifier, rules: [maxAuthAge(300)], cache: 'off' });
    assert.equal(
      (await request(requestEvent({ Authorization: `Bearer ${token()}` }))).policyDocument.Statement[0]
        ?.Effect,
      'Allow',
    );
    await assert.rejects(
      request(requestEvent({ Authorization: `Bearer ${token({ now: Date.now() - 900_000 })}` })),
      /Unauthorized/,
    );
    const httpApi = createHttpApiAuthorizer({ verifier, rules: [requireAcr(2)] });
    assert.equal((await httpApi(httpApiEvent({ authorization: `Bearer ${token()}` }))).isAuthorized, true);
  });
});

describe('serve', () => {
  test('pool options from the config, step-up routes, the challenge and X-Auth-Request-Groups', async (t) => {
    const started = await startHarnessWithPool(t);
    const ask = (uri: string, token: string) =>
      nginxAsk(started, 'GET', uri, { authorization: `Bearer ${token}` });
    const token = (options: Partial<Parameters<typeof mintAccessToken>[0]> = {}) =>
      started.access({
        resource: API,
        claims: { 'custom:groups': '[admins, staff]', plan: 'pro' },
        ...options,
      });

    const ok = await ask('/home', token());
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-auth-request-groups'), 'admins,staff');
    assert.equal(
      (await ask('/home', started.access({ claims: { 'custom:groups': '[a]', plan: 'pro' } }))).status,
      401,
    );
    assert.equal(
      (await ask('/home', token({ claims: { 'custom:groups': '[a]', plan: 'gold' } }))).status,
      401,
    );

    const weak = await ask('/pay/now', token({ acr: 'bronze' }));
    assert.equal(weak.status, 401);
    assert.match(
      weak.headers.get('www-authenticate') ?? '',
      /error="insufficient_user_authentication".*acr_values="silver"/,
    );
    assert.equal((await ask('/pay/now', token({ acr: 'gold' }))).status, 200);

    const stale = await ask('/account/close', token({ amr: ['mfa'], now: Date.now() - 600_000 }));
    assert.equal(stale.status, 401);
    assert.match(stale.headers.get('www-authenticate') ?? '', /max_age="300"/);
    assert.equal((await ask('/account/close', token({ amr: ['pwd', 'mfa'] }))).status, 200);
  });
});

test('serve: pool options at the top level say where they belong; bad ones are refused when the config is read', async () => {
  const { checkServiceConfig } = await import('../../src/service/config.ts');
  const pool = { userPoolId: 'us-east-1_AbC123', clientId: ['app'], tokenUse: 'access' };
  const check = (config: Record<string, unknown>) => () =>
    checkServiceConfig(config, { baseDir: '/', env: {} });
  for (const name of ['audience', 'groupsClaim', 'acrLevels', 'claims']) {
    throwsCode(check({ pools: [pool], [name]: 'x' }), 'ERR_CONFIG_INVALID', {
      message: 'put it in an entry of "pools"',
    });
  }
  throwsCode(check({ pools: [{ ...pool, tokenUse: 'id', audience: API }] }), 'ERR_CONFIG_INVALID', {
    message: "pools[0]: audience needs tokenUse: 'access'",
  });
  throwsCode(check({ pools: [{ ...pool, claims: { tenant: 'text' } }] }), 'ERR_CONFIG_INVALID', {
    message: 'unknown type',
  });
  throwsCode(check({ pools: [pool], routes: [{ path: '/**', require: { acr: 7 } }] }), 'ERR_CONFIG_INVALID', {
    message: 'routes[0]',
  });
  throwsCode(
    check({ pools: [pool], routes: [{ path: '/**', require: { maxAuthAge: -1 } }] }),
    'ERR_CONFIG_INVALID',
  );
  throwsCode(check({ pools: [pool], routes: [{ path: '/**', require: { amr: [] } }] }), 'ERR_CONFIG_INVALID');
});

async function startHarnessWithPool(t: import('node:test').TestContext) {
  // The harness's loopback pool, with today's options: the issuer is only known once it started.
  const probe = await startHarness(t);
  const issuer = probe.jwks.issuer('local_service1');
  const harness = await startHarness(t, {
    pools: [
      {
        userPoolId: 'local_service1',
        issuer,
        clientId: ['web-client'],
        tokenUse: 'access',
        audience: API,
        groupsClaim: { claim: 'custom:groups', format: 'bracketed' },
        acrLevels: ['bronze', 'silver', 'gold', 'platinum'],
        claims: { plan: ['free', 'pro'] },
      },
    ],
    routes: [
      { path: '/pay/**', require: { acr: 2 } },
      { path: '/account/**', require: { maxAuthAge: 300, amr: ['mfa'] } },
      { path: '/**', require: 'authenticated' },
    ],
  });
  return { ...harness, access: probe.access };
}
