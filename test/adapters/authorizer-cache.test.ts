/**
 * API Gateway caches an authorizer's answer by its identity sources for the TTL and replays it on
 * every request with the same key, whatever the route. A small simulation of that cache runs each
 * authorizer configuration over requests on two routes (and two paths of one route) with a
 * route-dependent rule, and compares every cached answer with a fresh one: an accepted
 * configuration shows no over-grant and no lock-out, and the refused ones are exactly those where
 * the simulation finds one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewayTokenAuthorizerEvent,
} from '../../src/adapters/lambda.ts';
import {
  type AuthorizerCache,
  createHttpApiAuthorizer,
  createRequestAuthorizer,
  createTokenAuthorizer,
} from '../../src/adapters/lambda.ts';
import {
  type AuthzRule,
  type CognitoClaims,
  CognitoJwtError,
  groupsOf,
  readsRequest,
  requireGroups,
  requirePredicate,
  type VerifierConfig,
} from '../../src/index.ts';
import {
  generateKeyPair,
  type JwksServer,
  mintAccessToken,
  startJwksServer,
} from '../../src/testing/index.ts';
import { httpApiEvent, methodArn, requestEvent, resourceMatches, tokenEvent } from './lambda-events.ts';

/** One request to the API: the route template, the concrete path and the caller's token. */
interface Call {
  method: 'GET' | 'DELETE';
  resource: '/orders/{id}';
  id: string;
  token: string;
}

type Kind = 'token' | 'request' | 'http-simple' | 'http-iam';
type Outcome = 'allow' | 'deny' | 'unauthorized';
type Handler = (call: Call) => Promise<unknown>;

const arnOf = (call: Call) => methodArn(call.method, `/orders/${call.id}`);
const routeArnOf = (call: Call) =>
  `arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$default/${call.method}/orders/${call.id}`;

/** The event each kind of authorizer receives for a call, as API Gateway builds it. */
function eventOf(kind: Kind, call: Call) {
  const authorization = `Bearer ${call.token}`;
  if (kind === 'token') return tokenEvent(authorization, arnOf(call));
  if (kind === 'request') {
    const base = requestEvent({ Authorization: authorization }, arnOf(call));
    return {
      ...base,
      httpMethod: call.method,
      resource: call.resource,
      path: `/orders/${call.id}`,
      pathParameters: { id: call.id },
      requestContext: { ...base.requestContext, httpMethod: call.method, resourcePath: call.resource },
    } satisfies APIGatewayRequestAuthorizerEvent;
  }
  const base = httpApiEvent({ authorization });
  return {
    ...base,
    routeArn: routeArnOf(call),
    routeKey: `${call.method} ${call.resource}`,
    rawPath: `/orders/${call.id}`,
    pathParameters: { id: call.id },
    requestContext: {
      ...base.requestContext,
      http: { ...base.requestContext.http, method: call.method, path: `/orders/${call.id}` },
      routeKey: `${call.method} ${call.resource}`,
    },
  } satisfies APIGatewayRequestAuthorizerEventV2;
}

/** The HTTP method a rule reads from each kind of event. */
function methodOf(event: unknown): string {
  const e = event as {
    httpMethod?: string;
    requestContext?: { http?: { method?: string } };
    methodArn?: string;
  };
  return e.httpMethod ?? e.requestContext?.http?.method ?? e.methodArn?.split('/')[2] ?? '';
}

/** What API Gateway does with an authorizer's answer for this call. */
async function outcomeOf(kind: Kind, answer: Promise<unknown>, call: Call): Promise<Outcome> {
  let result: unknown;
  try {
    result = await answer;
  } catch (error) {
    assert.equal((error as Error).message, 'Unauthorized');
    return 'unauthorized';
  }
  if (kind === 'http-simple') return (result as { isAuthorized: boolean }).isAuthorized ? 'allow' : 'deny';
  const arn = kind === 'http-iam' ? routeArnOf(call) : arnOf(call);
  const statements = (result as APIGatewayAuthorizerResult).policyDocument.Statement as {
    Effect: string;
    Resource: string;
  }[];
  const matching = statements.filter((statement) => resourceMatches(statement.Resource, arn));
  if (matching.some((statement) => statement.Effect === 'Deny')) return 'deny';
  return matching.some((statement) => statement.Effect === 'Allow') ? 'allow' : 'deny';
}

/**
 * The cache: key = the identity sources' values, entry = the authorizer's answer, kept `ttl`
 * seconds. An answer that threw is not kept (API Gateway answers 401 and calls again).
 */
class GatewayCache {
  readonly #entries = new Map<string, { answer: unknown; until: number }>();
  constructor(
    private readonly identity: (call: Call) => string[],
    private readonly ttl: number,
  ) {}

  async answer(call: Call, now: number, invoke: () => Promise<unknown>): Promise<unknown> {
    const key = JSON.stringify(this.identity(call));
    const cached = this.#entries.get(key);
    if (cached && now < cached.until) return cached.answer;
    const answer = await invoke();
    if (this.ttl > 0) this.#entries.set(key, { answer, until: now + this.ttl });
    return answer;
  }
}

/** The API Gateway settings the README prescribes for a `cache` statement (none: the defaults). */
function gatewaySettings(kind: Kind, cache: AuthorizerCache | undefined) {
  if (cache === 'off') return { identity: () => [], ttl: 0 };
  const header = (call: Call) => `Bearer ${call.token}`;
  if (cache === undefined || kind === 'token') return { identity: (call: Call) => [header(call)], ttl: 300 };
  return kind === 'request'
    ? // method.request.header.Authorization, context.httpMethod, context.resourcePath
      { identity: (call: Call) => [header(call), call.method, call.resource], ttl: 300 }
    : // $request.header.Authorization, $context.routeKey
      { identity: (call: Call) => [header(call), `${call.method} ${call.resource}`], ttl: 300 };
}

/** Every order of the calls, each replayed within one TTL; `faults` lists each wrong answer. */
async function simulate(
  kind: Kind,
  cache: AuthorizerCache | undefined,
  handler: Handler,
  calls: Call[],
): Promise<string[]> {
  const faults: string[] = [];
  for (const order of permutations(calls)) {
    const { identity, ttl } = gatewaySettings(kind, cache);
    const gateway = new GatewayCache(identity, ttl);
    let now = 0;
    for (const call of order) {
      now += 1;
      const seen = await outcomeOf(
        kind,
        gateway.answer(call, now, () => handler(call)),
        call,
      );
      const truth = await outcomeOf(kind, handler(call), call);
      if (seen !== truth) {
        const what = seen === 'allow' ? 'over-grant' : 'lock-out';
        faults.push(`${what}: ${call.method} /orders/${call.id} answered ${seen}, should be ${truth}`);
      }
    }
  }
  return faults;
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}

const key = generateKeyPair();
let jwks: JwksServer;
let config: VerifierConfig;
let tokens: { reader: string; admin: string };

before(async () => {
  jwks = await startJwksServer({ keys: [key] });
  const issuer = jwks.issuer('local_pool1');
  config = { userPoolId: 'local_pool1', issuer, clientId: 'cache-client', tokenUse: 'access' };
  const mint = (groups: string[]) => mintAccessToken({ key, issuer, clientId: 'cache-client', groups });
  tokens = { reader: mint(['readers']), admin: mint(['admins']) };
});
after(() => jwks.close());

// GET is open to every reader; DELETE needs admins. The rule reads the method, so it depends on the route.
const routeRule = (flag: boolean | undefined): AuthzRule<CognitoClaims, unknown> =>
  requirePredicate(
    (claims, event) => methodOf(event) === 'GET' || groupsOf(claims).includes('admins'),
    flag === undefined ? 'GET for readers, DELETE for admins' : { readsRequest: flag },
  );

const RULE_SETS = {
  'claims only': () => [requireGroups(['readers', 'admins'])],
  'route rule, flagged': () => [routeRule(true)],
  'route rule, no flag': () => [routeRule(undefined)],
} as const;

interface Config {
  kind: Kind;
  rules: keyof typeof RULE_SETS;
  resource: 'api' | 'method' | undefined;
  cache: AuthorizerCache | undefined;
}

function configurations(): Config[] {
  const list: Config[] = [];
  for (const kind of ['token', 'request', 'http-simple', 'http-iam'] as const) {
    for (const rules of Object.keys(RULE_SETS) as (keyof typeof RULE_SETS)[]) {
      for (const resource of kind === 'http-simple' ? [undefined] : ([undefined, 'api', 'method'] as const)) {
        for (const cache of kind === 'token' ? [undefined] : ([undefined, 'per-route', 'off'] as const)) {
          list.push({ kind, rules, resource, cache });
        }
      }
    }
  }
  return list;
}

/** Build the authorizer of a configuration; `bypass` builds one that behaves the same but passes the checks. */
function build(c: Config, bypass = false): Handler {
  // The statements (a rule's flag, `cache`) change nothing at run time, so a refused configuration
  // behaves like the same one with a flag that lies, `cache: 'off'`, and a policy narrowed by hand.
  const rules = RULE_SETS[c.rules]().map((rule) =>
    bypass && c.kind === 'token' && readsRequest(rule) ? routeRule(false) : rule,
  );
  const narrow = bypass && c.resource === 'method';
  const resource = narrow ? 'api' : c.resource;
  const cache = bypass && c.kind !== 'token' ? 'off' : c.cache;
  const common = {
    verifier: config,
    rules,
    ...(resource === undefined ? {} : { resource }),
  };
  const withCache = cache === undefined ? common : { ...common, cache };
  let handler: Handler;
  if (c.kind === 'token') {
    const authorizer = createTokenAuthorizer(common);
    handler = (call) => authorizer(eventOf('token', call) as APIGatewayTokenAuthorizerEvent);
  } else if (c.kind === 'request') {
    const authorizer = createRequestAuthorizer(withCache);
    handler = (call) => authorizer(eventOf('request', call) as APIGatewayRequestAuthorizerEvent);
  } else if (c.kind === 'http-simple') {
    const authorizer = createHttpApiAuthorizer(withCache);
    handler = (call) => authorizer(eventOf('http-simple', call) as APIGatewayRequestAuthorizerEventV2);
  } else {
    const authorizer = createHttpApiAuthorizer({ ...withCache, response: 'iam' });
    handler = (call) => authorizer(eventOf('http-iam', call) as APIGatewayRequestAuthorizerEventV2);
  }
  if (!narrow) return handler;
  // What resource: 'method' returns: the same answer, for the called ARN only (checked below).
  return async (call) => {
    const result = (await handler(call)) as APIGatewayAuthorizerResult;
    const arn = c.kind === 'http-iam' ? routeArnOf(call) : arnOf(call);
    const [statement] = result.policyDocument.Statement as { Effect: string; Resource: string }[];
    return {
      ...result,
      policyDocument: { ...result.policyDocument, Statement: [{ ...statement, Resource: arn }] },
    };
  };
}

function callsFor(token: string): Call[] {
  return [
    { method: 'GET', resource: '/orders/{id}', id: '7', token },
    { method: 'DELETE', resource: '/orders/{id}', id: '7', token },
    { method: 'GET', resource: '/orders/{id}', id: '8', token },
  ];
}

describe("authorizers under API Gateway's cache", () => {
  test('the simulation sees what it must: a token-keyed cache replays a route-dependent answer', async () => {
    const c: Config = {
      kind: 'request',
      rules: 'route rule, flagged',
      resource: undefined,
      cache: undefined,
    };
    const faults = await simulate('request', undefined, build(c, true), callsFor(tokens.reader));
    assert.ok(
      faults.some((fault) => fault.startsWith('over-grant: DELETE')),
      faults.join('\n'),
    );
    assert.ok(
      faults.some((fault) => fault.startsWith('lock-out: GET')),
      faults.join('\n'),
    );
  });

  test('every accepted configuration: no over-grant, no lock-out; the refused ones are exactly the unsafe ones', async () => {
    const table: string[] = [];
    for (const c of configurations()) {
      let refusal: unknown;
      try {
        build(c);
      } catch (error) {
        refusal = error;
      }
      if (refusal !== undefined) {
        assert.ok(
          refusal instanceof CognitoJwtError && refusal.code === 'ERR_CONFIG_INVALID',
          String(refusal),
        );
      }
      const handler = build(c, refusal !== undefined);
      const faults = [
        ...(await simulate(c.kind, c.cache, handler, callsFor(tokens.reader))),
        ...(await simulate(c.kind, c.cache, handler, callsFor(tokens.admin))),
      ];
      const name = `${c.kind}, ${c.rules}, resource ${c.resource ?? '(default)'}, cache ${c.cache ?? '(not stated)'}`;
      table.push(`${refusal ? 'refused ' : 'accepted'} ${faults.length ? 'unsafe' : 'safe  '} ${name}`);
      if (refusal === undefined) assert.deepEqual(faults, [], `accepted but unsafe: ${name}`);
      else assert.notDeepEqual(faults, [], `refused but safe: ${name}\n${(refusal as Error).message}`);
    }
    // Both kinds occur, so neither assertion above is vacuous.
    assert.ok(table.some((row) => row.startsWith('accepted')));
    assert.ok(table.some((row) => row.startsWith('refused')));
  });

  test("the hand-narrowed policy is what resource: 'method' returns", async () => {
    const c: Config = { kind: 'request', rules: 'route rule, flagged', resource: 'method', cache: 'off' };
    for (const call of callsFor(tokens.admin)) {
      assert.deepEqual(await build(c)(call), await build(c, true)(call));
    }
  });

  test('the refusals give the API Gateway setting to change', () => {
    const reading = [routeRule(undefined)];
    assert.throws(() => createTokenAuthorizer({ verifier: config, rules: reading }), {
      code: 'ERR_CONFIG_INVALID',
      message: /rule 0 may read the event.*readsRequest: false.*createRequestAuthorizer\(\)/,
    });
    assert.throws(() => createRequestAuthorizer({ verifier: config, rules: reading }), {
      message:
        /cache: 'per-route' \(add context\.httpMethod and context\.resourcePath to the identity sources\) or cache: 'off'/,
    });
    assert.throws(() => createHttpApiAuthorizer({ verifier: config, rules: reading }), {
      message:
        /cache: 'per-route' \(add \$context\.routeKey to the identity sources\) or cache: 'off' \(authorizerResultTtlInSeconds: 0\)/,
    });
    assert.throws(() => createRequestAuthorizer({ verifier: config, cache: 'sometimes' as never }), {
      message: /cache must be 'per-route' or 'off', got "sometimes"/,
    });
    assert.throws(() => createHttpApiAuthorizer({ verifier: config, resource: 'api' }), {
      message: /simple response has none/,
    });
    assert.throws(() => createTokenAuthorizer({ verifier: config, cache: 'off' } as never), {
      message: /"cache" does not belong here: a TOKEN authorizer is cached by the token alone/,
    });
  });
});

describe('rules say whether they read the request', () => {
  test('group, scope and role rules read claims only; a predicate reads the request unless it says not', () => {
    assert.equal(readsRequest(requireGroups('admins')), false);
    assert.equal(readsRequest(routeRule(undefined)), true);
    assert.equal(readsRequest(routeRule(true)), true);
    assert.equal(readsRequest(routeRule(false)), false);
    assert.equal(readsRequest((() => undefined) as AuthzRule), true);
  });
});
