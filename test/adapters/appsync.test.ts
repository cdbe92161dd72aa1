/**
 * The AppSync Lambda authorizer: AppSync's event shape, every refusal, client-safe answers, and a
 * simulation of AppSync's answer cache (keyed by `authorizationToken`, kept `ttlOverride` seconds)
 * that replays answers across operations and past a token's expiry.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type AppSyncAuthorizerEvent,
  type AppSyncAuthorizerOptions,
  type AppSyncAuthorizerResult,
  createAppSyncAuthorizer,
} from '../../src/adapters/lambda.ts';
import {
  type AuthzRule,
  anyOf,
  type CognitoClaims,
  CognitoJwtError,
  CognitoVerifier,
  groupsOf,
  maxAuthAge,
  readsRequest,
  requireGroups,
  requirePredicate,
} from '../../src/index.ts';
import { generateKeyPair } from '../../src/testing/index.ts';
import { loopbackPool } from '../helpers/loopback-pool.ts';
import { appSyncEvent, type GraphQlCall, MUTATION, QUERY } from './lambda-events.ts';

const POOL = 'local_appsync';
const CLIENT = 'appsync-client';
const pool = loopbackPool(POOL, CLIENT, { username: 'ada' });
const { key, mint } = pool;

describe('AppSync authorizer', () => {
  test('allows a valid token, with or without Bearer: identity as resolverContext, deniedFields and ttlOverride', async () => {
    const handler = createAppSyncAuthorizer({
      verifier: pool.config,
      rules: [requireGroups('staff')],
      ttlSeconds: 600,
      resolverContext: (claims) => ({ tenant: String(claims['custom:tenant']), sub: 'spoofed', level: 2 }),
      deniedFields: (claims) => (groupsOf(claims).includes('payroll') ? [] : ['Employee.salary']),
    });
    const token = mint({
      sub: 'u-1',
      groups: ['staff'],
      scope: 'openid orders/read',
      claims: { 'custom:tenant': 'acme' },
    });
    for (const authorization of [token, `Bearer ${token}`, `bearer ${token}`]) {
      const result = await handler(appSyncEvent(authorization));
      assert.deepEqual(result, {
        isAuthorized: true,
        resolverContext: {
          tenant: 'acme',
          level: 2,
          sub: 'u-1',
          username: 'ada',
          groups: 'staff',
          scope: 'openid orders/read',
          token_use: 'access',
          client_id: CLIENT,
        },
        deniedFields: ['Employee.salary'],
        ttlOverride: 600,
      });
    }
  });

  test('ID tokens: username from cognito:username, client_id from aud', async () => {
    const handler = createAppSyncAuthorizer({ verifier: { ...pool.config, tokenUse: 'id' } });
    const token = pool.mintId({ username: 'grace' });
    const result = await handler(appSyncEvent(token));
    assert.equal(result.resolverContext?.username, 'grace');
    assert.equal(result.resolverContext?.client_id, CLIENT);
    assert.equal(result.resolverContext?.token_use, 'id');
  });

  test('every refusal: isAuthorized false, ttlOverride 0, nothing else; onError hears the code', async () => {
    const reported: unknown[] = [];
    const handler = createAppSyncAuthorizer({
      verifier: pool.config,
      rules: [requireGroups('staff')],
      onError: (error) => reported.push(error),
    });
    const cases: [string, string][] = [
      ['', 'ERR_TOKEN_MISSING'],
      ['Bearer', 'ERR_TOKEN_MALFORMED'],
      ['Bearer a b', 'ERR_TOKEN_MALFORMED'],
      ['not-a-jwt', 'ERR_TOKEN_MALFORMED'],
      [mint({ groups: ['staff'], expiresIn: -5 }), 'ERR_TOKEN_EXPIRED'],
      [mint({ groups: ['staff'], issuer: pool.jwks.issuer('local_other') }), 'ERR_ISSUER_MISMATCH'],
      [mint({ groups: ['staff'], clientId: 'other-client' }), 'ERR_CLIENT_MISMATCH'],
      [pool.mintId({ groups: ['staff'] }), 'ERR_TOKEN_USE_MISMATCH'],
      [mint({ groups: ['staff'], key: generateKeyPair({ kid: key.kid }) }), 'ERR_SIGNATURE_INVALID'],
      [mint({ groups: ['readers'] }), 'ERR_GROUP_MISSING'],
      ['Basic dXNlcjpwYXNz', 'ERR_TOKEN_MISSING'],
    ];
    for (const [authorization, code] of cases) {
      const result = await handler(appSyncEvent(authorization));
      assert.deepEqual(result, { isAuthorized: false, ttlOverride: 0 }, code);
      const error = reported.pop();
      assert.ok(error instanceof CognitoJwtError, code);
      assert.equal(error.code, code, authorization.slice(0, 20));
    }
  });

  test('client-safe: an answer names no pool, client, issuer, group or key URL', async () => {
    const handler = createAppSyncAuthorizer({
      verifier: pool.config,
      rules: [requireGroups('secret-group')],
    });
    const answers = [
      await handler(appSyncEvent(mint({ groups: ['readers'] }))),
      await handler(appSyncEvent(mint({ clientId: 'other-client' }))),
      await handler(appSyncEvent('garbage')),
    ];
    const text = JSON.stringify(answers);
    for (const secret of [
      POOL,
      CLIENT,
      pool.jwks.issuer(POOL),
      'secret-group',
      '127.0.0.1',
      'other-client',
    ]) {
      assert.ok(!text.includes(secret), `${secret} in ${text}`);
    }
  });

  test('ttlOverride never outlives the token: cut to the seconds it has left', async () => {
    let now = Math.floor(Date.now() / 1000) * 1000;
    const verifier = new CognitoVerifier(pool.config, { clock: () => now });
    const handler = createAppSyncAuthorizer({ verifier, ttlSeconds: 3600, clock: () => now });
    const token = mint({ expiresIn: 90, now });
    assert.equal((await handler(appSyncEvent(token))).ttlOverride, 90);
    now += 60_500;
    assert.equal((await handler(appSyncEvent(token))).ttlOverride, 29);
  });

  test('with maxAuthAge, ttlOverride is cut to the seconds the sign-in stays fresh enough (with the clock tolerance)', async () => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    const token = mint({ now: now - 250_000 }); // signed in 250 s ago, valid for an hour
    for (const [tolerance, ttl, expected] of [
      [0, 3600, 50],
      [30, 3600, 80],
      [0, 20, 20],
    ] as const) {
      const verifier = new CognitoVerifier(
        { ...pool.config, clockToleranceSeconds: tolerance },
        { clock: () => now },
      );
      const handler = createAppSyncAuthorizer({
        verifier,
        rules: [requireGroups(['readers', 'admins']), maxAuthAge(300)],
        ttlSeconds: ttl,
        clock: () => now,
      });
      const answer = await handler(appSyncEvent(mint({ now: now - 250_000, groups: ['readers'] })));
      assert.equal(answer.ttlOverride, expected, `tolerance ${tolerance}, ttlSeconds ${ttl}`);
    }
    // anyOf() may allow without auth_time: nothing is cached then.
    const handler = createAppSyncAuthorizer({
      verifier: new CognitoVerifier(pool.config, { clock: () => now }),
      rules: [anyOf(requireGroups('admins'), maxAuthAge(300))],
      clock: () => now,
    });
    const noAuthTime = mint({ now, groups: ['admins'], claims: { auth_time: undefined } });
    assert.deepEqual(
      [
        (await handler(appSyncEvent(noAuthTime))).ttlOverride,
        (await handler(appSyncEvent(token))).ttlOverride,
      ],
      [0, 50],
    );
  });

  test('keys that cannot be fetched: a refusal with ttlOverride 0, so AppSync asks again', async () => {
    const reported: unknown[] = [];
    const handler = createAppSyncAuthorizer({
      verifier: { ...pool.config, jwksUri: 'http://127.0.0.1:9/jwks.json' },
      onError: (error) => reported.push(error),
    });
    assert.deepEqual(await handler(appSyncEvent(mint())), { isAuthorized: false, ttlOverride: 0 });
    assert.equal((reported[0] as CognitoJwtError).code, 'ERR_JWKS_FETCH_FAILED');
  });

  test('a resolverContext that AppSync would reject (nested values) is an error, not an answer', async () => {
    const handler = createAppSyncAuthorizer({
      verifier: pool.config,
      resolverContext: () => ({ nested: { a: 1 } as never }),
    });
    await assert.rejects(handler(appSyncEvent(mint())), {
      code: 'ERR_CONFIG_INVALID',
      message: /flat key-value pairs/,
    });
  });

  test('options are checked when the authorizer is created', () => {
    const bad: [unknown, RegExp][] = [
      [{ verifier: pool.config, ttlSeconds: 3601 }, /ttlSeconds must be between 0 and 3600/],
      [{ verifier: pool.config, ttlSeconds: -1 }, /ttlSeconds/],
      [{ verifier: pool.config, ttlSeconds: 1.5 }, /whole number/],
      [{ verifier: pool.config, ttlOverride: 0 }, /"ttlOverride" does not belong here/],
      [{ verifier: pool.config, context: () => ({}) }, /resolverContext/],
      [{ verifier: pool.config, ttlSecond: 0 }, /did you mean "ttlSeconds"/],
      [{ verifier: pool.config, groups: 'admins' }, /verifier config/],
      [{ verifier: pool.config, rules: 'staff' }, /rules must be an array/],
      [{ verifier: pool.config, deniedFields: ['Employee.salary'] }, /deniedFields must be a function/],
      [{ verifier: { ...pool.config, userPoolId: 'nope' } }, /./],
    ];
    for (const [options, message] of bad) {
      assert.throws(() => createAppSyncAuthorizer(options as AppSyncAuthorizerOptions), {
        code: 'ERR_CONFIG_INVALID',
        message,
      });
    }
  });
});

// --- AppSync's cache -------------------------------------------------------------------------

type Outcome = 'allow' | 'deny';
type Handler = (event: AppSyncAuthorizerEvent) => Promise<AppSyncAuthorizerResult<unknown>>;

/**
 * AppSync's answer cache as documented: keyed by `authorizationToken`, an answer kept for its
 * `ttlOverride` (else the API's TTL). The authorizer must always say `ttlOverride`, so the API's
 * TTL (whose default the docs disagree on) never matters: the model fails when it is missing.
 */
class AppSyncCache {
  readonly #entries = new Map<string, { answer: AppSyncAuthorizerResult<unknown>; until: number }>();

  async answer(
    event: AppSyncAuthorizerEvent,
    now: number,
    invoke: Handler,
  ): Promise<AppSyncAuthorizerResult<unknown>> {
    const cached = this.#entries.get(event.authorizationToken);
    if (cached && now < cached.until) return cached.answer;
    const answer = await invoke(event);
    assert.equal(typeof answer.ttlOverride, 'number', 'every answer carries ttlOverride');
    if (answer.ttlOverride! > 0)
      this.#entries.set(event.authorizationToken, { answer, until: now + answer.ttlOverride! * 1000 });
    return answer;
  }
}

// Queries for every reader; mutations for admins only. The rule reads the operation.
const operationRule = (flag: boolean | undefined) =>
  requirePredicate<CognitoClaims, AppSyncAuthorizerEvent>(
    (claims, event) =>
      event.requestContext.operationName === 'GetOrder' || groupsOf(claims).includes('admins'),
    flag === undefined ? 'queries for readers, mutations for admins' : { readsRequest: flag },
  );

const RULE_SETS: Record<string, () => AuthzRule<CognitoClaims, AppSyncAuthorizerEvent>[]> = {
  'claims only': () => [requireGroups(['readers', 'admins'])],
  'operation rule, flagged': () => [operationRule(true)],
  'operation rule, no flag': () => [operationRule(undefined)],
};

describe("the AppSync authorizer under AppSync's cache", () => {
  let now = 0;
  const clock = () => now;

  function build(rules: string, ttlSeconds: number, bypass = false): Handler {
    // A refused configuration behaves like the same one whose reading rule claims not to read.
    const list = RULE_SETS[rules]!().map((rule) =>
      bypass && readsRequest(rule) ? operationRule(false) : rule,
    );
    return createAppSyncAuthorizer({
      verifier: new CognitoVerifier(pool.config, { clock }),
      rules: list,
      ttlSeconds,
      clock,
    }) as Handler;
  }

  /** Each call at its time (ms after the start); `faults` lists each answer that differs from a fresh one. */
  async function simulate(handler: Handler, calls: { token: string; call: GraphQlCall; at: number }[]) {
    const start = Date.now();
    const cache = new AppSyncCache();
    const faults: string[] = [];
    const outcome = (answer: AppSyncAuthorizerResult<unknown>): Outcome =>
      answer.isAuthorized ? 'allow' : 'deny';
    for (const { token, call, at } of calls) {
      now = start + at;
      const event = appSyncEvent(`Bearer ${token}`, call);
      const seen = outcome(await cache.answer(event, now, handler));
      const truth = outcome(await handler(event));
      if (seen !== truth) {
        faults.push(
          `${seen === 'allow' ? 'over-grant' : 'lock-out'}: ${call.operationName} at ${at} ms answered ${seen}`,
        );
      }
    }
    return faults;
  }

  test('the simulation sees what it must: a replayed answer for another operation is wrong', async () => {
    const reader = mint({ groups: ['readers'], now: Date.now() });
    const faults = await simulate(build('operation rule, flagged', 300, true), [
      { token: reader, call: QUERY, at: 0 },
      { token: reader, call: MUTATION, at: 1000 },
    ]);
    assert.deepEqual(faults, ['over-grant: DeleteOrder at 1000 ms answered allow']);
  });

  test('every accepted configuration answers as a fresh call would; the refused ones are exactly the unsafe ones', async () => {
    const rows: string[] = [];
    for (const rules of Object.keys(RULE_SETS)) {
      for (const ttl of [0, 300]) {
        let refusal: unknown;
        try {
          build(rules, ttl);
        } catch (error) {
          refusal = error;
        }
        if (refusal !== undefined) {
          assert.ok(
            refusal instanceof CognitoJwtError && refusal.code === 'ERR_CONFIG_INVALID',
            String(refusal),
          );
          assert.match((refusal as Error).message, /ttlSeconds: 0/);
        }
        const handler = build(rules, ttl, refusal !== undefined);
        const faults: string[] = [];
        for (const groups of [['readers'], ['admins']]) {
          const token = mint({ groups, now: Date.now() });
          for (const order of [
            [QUERY, MUTATION, QUERY],
            [MUTATION, QUERY, MUTATION],
          ]) {
            faults.push(
              ...(await simulate(
                handler,
                order.map((call, i) => ({ token, call, at: i * 1000 })),
              )),
            );
          }
        }
        const name = `${rules}, ttlSeconds ${ttl}`;
        rows.push(`${refusal ? 'refused' : 'accepted'} ${faults.length ? 'unsafe' : 'safe'} ${name}`);
        if (refusal === undefined) assert.deepEqual(faults, [], `accepted but unsafe: ${name}`);
        else assert.notDeepEqual(faults, [], `refused but safe: ${name}`);
      }
    }
    assert.ok(rows.some((row) => row.startsWith('accepted')));
    assert.ok(rows.some((row) => row.startsWith('refused')));
  });

  test('with maxAuthAge, a cached Allow is never replayed after the sign-in is too old for it', async () => {
    const stepUp = createAppSyncAuthorizer({
      verifier: new CognitoVerifier(pool.config, { clock }),
      rules: [requireGroups('readers'), maxAuthAge(300)],
      ttlSeconds: 3600,
      clock,
    }) as Handler;
    // Signed in 250 s before the first call: the rule holds for 50 s more, the token for an hour.
    const token = mint({ groups: ['readers'], now: Date.now() - 250_000 });
    const calls = [0, 30_000, 45_000, 55_000, 120_000].map((at) => ({ token, call: QUERY, at }));
    assert.deepEqual(await simulate(stepUp, calls), []);
    // Cut to the token's lifetime alone, the model replays the Allow after the window closed:
    const uncut: Handler = async (event) => {
      const answer = await stepUp(event);
      return answer.isAuthorized ? { ...answer, ttlOverride: 3600 } : answer;
    };
    assert.deepEqual(await simulate(uncut, calls), [
      'over-grant: GetOrder at 55000 ms answered allow',
      'over-grant: GetOrder at 120000 ms answered allow',
    ]);
  });

  test('a cached Allow is never replayed after the token expired', async () => {
    const handler = build('claims only', 3600);
    const token = mint({ groups: ['readers'], expiresIn: 120, now: Date.now() });
    const calls = [0, 60_000, 119_000, 121_000, 600_000].map((at) => ({ token, call: QUERY, at }));
    assert.deepEqual(await simulate(handler, calls), []);
    // Without the cut to the token's lifetime, the model would replay the Allow after exp:
    const uncut: Handler = async (event) => ({ ...(await handler(event)), ttlOverride: 3600 });
    const faults = await simulate(uncut, calls);
    assert.deepEqual(faults, [
      'over-grant: GetOrder at 121000 ms answered allow',
      'over-grant: GetOrder at 600000 ms answered allow',
    ]);
  });
});
