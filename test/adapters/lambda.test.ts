import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  type APIGatewayAuthorizerResult,
  apiWideResource,
  authorizerContext,
  createHttpApiAuthorizer,
  createRequestAuthorizer,
  createTokenAuthorizer,
  getCallerClaims,
} from '../../src/adapters/lambda.ts';
import {
  type CognitoJwtError,
  CognitoVerifier,
  requireGroups,
  requirePredicate,
  requireScopes,
} from '../../src/index.ts';
import {
  buildJwks,
  mintAccessToken,
  mintClientCredentialsToken,
  startJwksServer,
} from '../../src/testing/index.ts';
import { listen } from '../helpers/adapter-suite.ts';
import { rejectsUnauthorized } from '../helpers/assert-error.ts';
import { loopbackPool } from '../helpers/loopback-pool.ts';
import { noFetch } from '../helpers/no-fetch.ts';
import {
  httpApiEvent,
  lambdaIntegrationEventV2,
  methodArn,
  requestEvent,
  resourceMatches,
  restIntegrationEvent,
  tokenEvent,
} from './lambda-events.ts';

const POOL = 'local_pool1';
const CLIENT = 'lambda-client';
const pool = loopbackPool(POOL, CLIENT, { username: 'ada' });
const { key, mint } = pool;

function statementOf(result: APIGatewayAuthorizerResult) {
  assert.equal(result.policyDocument.Version, '2012-10-17');
  assert.equal(result.policyDocument.Statement.length, 1);
  const [statement] = result.policyDocument.Statement;
  assert.ok(statement && 'Action' in statement && 'Resource' in statement);
  assert.equal(statement.Action, 'execute-api:Invoke');
  return statement as { Effect: string; Resource: string };
}

describe('REST TOKEN authorizer', () => {
  test('allows a valid token for the whole API stage, with the identity as string context', async () => {
    const handler = createTokenAuthorizer({ verifier: pool.config });
    const token = mint({ sub: 'user-1', groups: ['admins', 'editors'], scope: 'openid orders/read' });
    const result = await handler(tokenEvent(`Bearer ${token}`, methodArn('GET', '/pets/42')));
    assert.equal(result.principalId, 'user-1');
    const statement = statementOf(result);
    assert.equal(statement.Effect, 'Allow');
    assert.equal(statement.Resource, `arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*`);
    assert.deepEqual(result.context, {
      sub: 'user-1',
      username: 'ada',
      groups: 'admins editors',
      scope: 'openid orders/read',
      token_use: 'access',
      client_id: CLIENT,
    });
    for (const value of Object.values(result.context ?? {})) assert.equal(typeof value, 'string');
  });

  test('the Allow resource covers every other method and path of the same API stage, and nothing else', async () => {
    const handler = createTokenAuthorizer({ verifier: pool.config });
    const { Resource } = statementOf(
      await handler(tokenEvent(`Bearer ${mint()}`, methodArn('GET', '/pets/42'))),
    );
    for (const [method, path] of [
      ['GET', '/pets/42'],
      ['POST', '/orders'],
      ['DELETE', '/pets/42/photos/1'],
      ['GET', '/'],
    ] as const) {
      assert.ok(resourceMatches(Resource, methodArn(method, path)), `${method} ${path}`);
    }
    assert.ok(!resourceMatches(Resource, methodArn('GET', '/pets/42', 'staging')), 'another stage');
    assert.ok(!resourceMatches(Resource, methodArn('GET', '/pets/42', 'prod', 'otherapi99')), 'another API');
  });

  test("resource: 'method' is refused (a TOKEN answer is cached per token and replayed on every route)", () => {
    assert.throws(() => createTokenAuthorizer({ verifier: pool.config, resource: 'method' }), {
      code: 'ERR_CONFIG_INVALID',
      message: /resource: 'method'.*cache: 'off'/,
    });
  });

  test("REQUEST authorizer, resource: 'method' with cache: 'off' allows only the method called", async () => {
    const handler = createRequestAuthorizer({ verifier: pool.config, resource: 'method', cache: 'off' });
    const arn = methodArn('GET', '/pets/42');
    const { Resource } = statementOf(await handler(requestEvent({ authorization: `Bearer ${mint()}` }, arn)));
    assert.equal(Resource, arn);
    assert.ok(!resourceMatches(Resource, methodArn('POST', '/pets/42')));
  });

  test('a bare token (no Bearer prefix) is accepted, as API Gateway Cognito authorizers do', async () => {
    const handler = createTokenAuthorizer({ verifier: pool.config });
    assert.equal(statementOf(await handler(tokenEvent(mint()))).Effect, 'Allow');
  });

  test("bad tokens throw exactly Error('Unauthorized') (API Gateway's 401) and are reported to onError", async () => {
    const reported: unknown[] = [];
    const handler = createTokenAuthorizer({
      verifier: pool.config,
      onError: (error) => reported.push(error),
    });
    const idToken = pool.mintId();
    const bad = [
      '',
      'Bearer',
      'Bearer not-a-jwt',
      `Bearer ${mint({ expiresIn: -5 })}`,
      `Bearer ${mint({ issuer: pool.jwks.issuer('local_other') })}`,
      `Bearer ${mint({ clientId: 'other-client' })}`,
      `Bearer ${idToken}`,
      'Basic dXNlcjpwYXNz',
    ];
    for (const header of bad) await rejectsUnauthorized(handler(tokenEvent(header)));
    assert.deepEqual(
      reported.map((error) => (error as CognitoJwtError).code),
      [
        'ERR_TOKEN_MISSING',
        'ERR_TOKEN_MALFORMED',
        'ERR_TOKEN_MALFORMED',
        'ERR_TOKEN_EXPIRED',
        'ERR_ISSUER_MISMATCH',
        'ERR_CLIENT_MISMATCH',
        'ERR_TOKEN_USE_MISMATCH',
        'ERR_TOKEN_MISSING',
      ],
    );
  });

  test('a valid token lacking a group gets an explicit Deny (403) with the reason in the context', async () => {
    const handler = createTokenAuthorizer({ verifier: pool.config, rules: [requireGroups('admins')] });
    const result = await handler(tokenEvent(`Bearer ${mint({ sub: 'user-2', groups: ['readers'] })}`));
    assert.equal(result.principalId, 'user-2');
    const statement = statementOf(result);
    assert.equal(statement.Effect, 'Deny');
    assert.equal(statement.Resource, apiWideResource(methodArn('GET', '/pets/42')));
    assert.deepEqual(result.context, { error: 'ERR_GROUP_MISSING' });
    const admin = await handler(tokenEvent(`Bearer ${mint({ groups: ['admins'] })}`));
    assert.equal(statementOf(admin).Effect, 'Allow');
  });

  test('a group required by the verifier config is a Deny as well', async () => {
    const handler = createTokenAuthorizer({ verifier: { ...pool.config, groups: 'admins' } });
    const result = await handler(tokenEvent(`Bearer ${mint({ groups: ['readers'] })}`));
    assert.equal(statementOf(result).Effect, 'Deny');
    assert.equal(result.principalId, 'anonymous');
  });

  test('keys that cannot be fetched surface as an error (API Gateway 500), not as a 401', async () => {
    const failing = await listen(
      createServer((_request, response) => {
        response.writeHead(500);
        response.end();
      }),
    );
    try {
      const handler = createTokenAuthorizer({
        verifier: { ...pool.config, jwksUri: `${failing.origin}/pool.jwks.json` },
      });
      await assert.rejects(handler(tokenEvent(`Bearer ${mint()}`)), { code: 'ERR_JWKS_FETCH_FAILED' });
    } finally {
      await failing.close();
    }
  });

  test('extra context entries are added; the standard ones cannot be overridden', async () => {
    const handler = createTokenAuthorizer({
      verifier: pool.config,
      context: (claims) => ({
        tenant: String(claims['custom:tenant']),
        sub: 'spoofed',
        premium: true,
        level: 3,
      }),
    });
    const result = await handler(
      tokenEvent(`Bearer ${mint({ sub: 'user-5', claims: { 'custom:tenant': 'acme' } })}`),
    );
    assert.equal(result.context?.tenant, 'acme');
    assert.equal(result.context?.sub, 'user-5');
    assert.equal(result.context?.premium, true);
    assert.equal(result.context?.level, 3);
    const invalid = createTokenAuthorizer({
      verifier: pool.config,
      context: () => ({ nested: {} as never }),
    });
    await assert.rejects(invalid(tokenEvent(`Bearer ${mint()}`)), { code: 'ERR_CONFIG_INVALID' });
  });

  test('options are checked when the authorizer is created', () => {
    assert.throws(() => createTokenAuthorizer({ verifier: { ...pool.config, userPoolId: 'nope' } }), {
      code: 'ERR_CONFIG_INVALID',
    });
    assert.throws(() => createTokenAuthorizer({ verifier: pool.config, resource: 'stage' as never }), {
      code: 'ERR_CONFIG_INVALID',
    });
    assert.throws(() => createTokenAuthorizer({ verifier: pool.config, rules: ['admins' as never] }), {
      code: 'ERR_CONFIG_INVALID',
    });
    assert.throws(() => createTokenAuthorizer({ verifier: pool.config, onError: 'log' as never }), {
      code: 'ERR_CONFIG_INVALID',
    });
  });
});

describe('REST REQUEST authorizer', () => {
  test('reads the Authorization header in any case and lets rules see the event', async () => {
    const handler = createRequestAuthorizer({
      verifier: pool.config,
      rules: [requirePredicate((claims, event) => event.pathParameters?.petId === claims['custom:pet'])],
      resource: 'method',
      cache: 'off',
    });
    for (const name of ['Authorization', 'authorization', 'AUTHORIZATION']) {
      const token = mint({ claims: { 'custom:pet': '42' } });
      const result = await handler(requestEvent({ [name]: `Bearer ${token}` }));
      assert.equal(statementOf(result).Effect, 'Allow', name);
    }
    const other = await handler(
      requestEvent({ Authorization: `Bearer ${mint({ claims: { 'custom:pet': '7' } })}` }),
    );
    assert.equal(statementOf(other).Effect, 'Deny');
    assert.deepEqual(other.context, { error: 'ERR_FORBIDDEN' });
  });

  test('no Authorization header: Unauthorized', async () => {
    const handler = createRequestAuthorizer({ verifier: pool.config });
    await rejectsUnauthorized(handler(requestEvent({})));
  });

  test('a custom getToken reads another identity source', async () => {
    const handler = createRequestAuthorizer({
      verifier: pool.config,
      getToken: (event) => event.queryStringParameters?.access_token ?? event.headers?.['X-Api-Token'],
    });
    const result = await handler(requestEvent({ 'X-Api-Token': mint() }));
    assert.equal(statementOf(result).Effect, 'Allow');
  });
});

describe('HTTP API authorizer (payload 2.0)', () => {
  test('simple response: isAuthorized true with the context', async () => {
    const handler = createHttpApiAuthorizer({ verifier: pool.config, rules: [requireScopes('orders/read')] });
    const result = await handler(
      httpApiEvent({ authorization: `Bearer ${mint({ sub: 'u-9', scope: 'orders/read' })}` }),
    );
    assert.equal(result.isAuthorized, true);
    assert.deepEqual(result.context, {
      sub: 'u-9',
      username: 'ada',
      groups: '',
      scope: 'orders/read',
      token_use: 'access',
      client_id: CLIENT,
    });
  });

  test('simple response: a missing scope is isAuthorized false (403); a bad token is Unauthorized (401)', async () => {
    const handler = createHttpApiAuthorizer({ verifier: pool.config, rules: [requireScopes('orders/read')] });
    const refused = await handler(
      httpApiEvent({ authorization: `Bearer ${mint({ scope: 'orders/write' })}` }),
    );
    assert.deepEqual(refused, { isAuthorized: false, context: { error: 'ERR_SCOPE_MISSING' } });
    await rejectsUnauthorized(handler(httpApiEvent({ authorization: `Bearer ${mint({ expiresIn: -1 })}` })));
    await rejectsUnauthorized(handler(httpApiEvent({})));
  });

  test("response: 'iam' returns a policy for the whole API stage of the route", async () => {
    const handler = createHttpApiAuthorizer({ verifier: pool.config, response: 'iam' });
    const event = httpApiEvent({ authorization: `Bearer ${mint({ sub: 'u-3' })}` });
    const result = await handler(event);
    assert.equal(result.principalId, 'u-3');
    const { Effect, Resource } = statementOf(result);
    assert.equal(Effect, 'Allow');
    assert.equal(Resource, 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$default/*');
    assert.ok(resourceMatches(Resource, event.routeArn));
    assert.equal(result.context?.sub, 'u-3');
  });

  test('an unknown response kind is refused at creation', () => {
    assert.throws(() => createHttpApiAuthorizer({ verifier: pool.config, response: 'both' as never }), {
      code: 'ERR_CONFIG_INVALID',
    });
  });
});

describe('authorizer context', () => {
  test('ID tokens: username from cognito:username, client_id from aud, no scope', async () => {
    const verifier = new CognitoVerifier({ ...pool.config, tokenUse: 'id' });
    const claims = await verifier.verify(pool.mintId({ username: 'grace', groups: ['a'] }));
    assert.deepEqual(authorizerContext(claims), {
      sub: claims.sub,
      username: 'grace',
      groups: 'a',
      scope: '',
      token_use: 'id',
      client_id: CLIENT,
    });
  });

  test('client-credentials tokens: empty username, sub is the client', async () => {
    const verifier = new CognitoVerifier(pool.config);
    const claims = await verifier.verify(
      mintClientCredentialsToken({
        key,
        issuer: pool.jwks.issuer(POOL),
        clientId: CLIENT,
        scope: 'orders/read',
      }),
    );
    assert.deepEqual(authorizerContext(claims), {
      sub: CLIENT,
      username: '',
      groups: '',
      scope: 'orders/read',
      token_use: 'access',
      client_id: CLIENT,
    });
  });

  test('the context of our authorizers reads back through getCallerClaims (REST and HTTP API)', async () => {
    const token = mint({ sub: 'user-4', groups: ['admins', 'team:a,b'], scope: 'openid orders/read' });
    const rest = await createTokenAuthorizer({ verifier: pool.config })(tokenEvent(`Bearer ${token}`));
    // REST spreads the context on requestContext.authorizer, next to principalId and integrationLatency.
    const restCaller = getCallerClaims(
      restIntegrationEvent({ principalId: rest.principalId, integrationLatency: 12, ...rest.context }),
    );
    const http = await createHttpApiAuthorizer({ verifier: pool.config })(
      httpApiEvent({ authorization: `Bearer ${token}` }),
    );
    const httpCaller = getCallerClaims(lambdaIntegrationEventV2(http.context));
    for (const caller of [restCaller, httpCaller]) {
      assert.equal(caller.source, 'lambda');
      assert.equal(caller.sub, 'user-4');
      assert.equal(caller.username, 'ada');
      assert.deepEqual(caller.groups, ['admins', 'team:a,b']);
      assert.deepEqual(caller.scopes, ['openid', 'orders/read']);
      assert.equal(caller.tokenUse, 'access');
      assert.equal(caller.clientId, CLIENT);
    }
  });
});

describe('cold starts', () => {
  test('creating the authorizer fetches nothing; the first call fetches the JWKS once, later calls reuse it', async () => {
    const server = await startJwksServer({ keys: [key] });
    try {
      const issuer = server.issuer(POOL);
      const handler = createTokenAuthorizer({ verifier: { ...pool.config, issuer } });
      assert.equal(server.requestCount, 0);
      for (let i = 0; i < 3; i++) {
        const token = mintAccessToken({ key, issuer, clientId: CLIENT });
        assert.equal(statementOf(await handler(tokenEvent(`Bearer ${token}`))).Effect, 'Allow');
      }
      assert.equal(server.requestCount, 1);
    } finally {
      await server.close();
    }
  });

  test('a bundled JWKS snapshot file verifies without any network request', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'cognito-jwt-lambda-'));
    try {
      const file = join(folder, 'pool.jwks.json');
      await writeFile(file, JSON.stringify(buildJwks(key)));
      const network = noFetch();
      const verifier = new CognitoVerifier(
        { ...pool.config, jwksUri: 'http://127.0.0.1:9/never.json', jwks: file },
        { fetch: network.fetch },
      );
      const handler = createTokenAuthorizer({ verifier });
      assert.equal(statementOf(await handler(tokenEvent(`Bearer ${mint()}`))).Effect, 'Allow');
      assert.deepEqual(network.urls, []);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
