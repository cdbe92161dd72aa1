/**
 * The WebSocket `$connect` authorizer and the `$connect` answer, over the event API Gateway sends
 * for a browser's `new WebSocket(url, protocols)`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type APIGatewayAuthorizerResult,
  createWebSocketAuthorizer,
  getCallerClaims,
  type WebSocketAuthorizerOptions,
  webSocketConnectResponse,
} from '../../src/adapters/lambda.ts';
import { type CognitoJwtError, requireGroups, requirePredicate } from '../../src/index.ts';
import { rejectsUnauthorized } from '../helpers/assert-error.ts';
import { loopbackPool } from '../helpers/loopback-pool.ts';
import {
  restIntegrationEvent,
  WS_CONNECT_ARN,
  webSocketConnectEvent,
  webSocketConnectIntegrationEvent,
} from './lambda-events.ts';

const POOL = 'local_ws';
const CLIENT = 'ws-client';
const pool = loopbackPool(POOL, CLIENT, { username: 'ada' });
const { mint } = pool;

function effectOf(result: APIGatewayAuthorizerResult) {
  const [statement] = result.policyDocument.Statement as {
    Effect: string;
    Resource: string;
    Action: string;
  }[];
  assert.equal(result.policyDocument.Statement.length, 1);
  assert.equal(statement?.Action, 'execute-api:Invoke');
  assert.equal(statement?.Resource, WS_CONNECT_ARN);
  return statement?.Effect;
}

describe('WebSocket $connect authorizer, token in a query parameter', () => {
  test('allows a valid token: Allow for the $connect route, identity as context', async () => {
    const handler = createWebSocketAuthorizer({ verifier: pool.config, tokenFrom: 'query' });
    const result = await handler(
      webSocketConnectEvent({ query: { token: [mint({ sub: 'u-1', groups: ['staff'] })] } }),
    );
    assert.equal(effectOf(result), 'Allow');
    assert.equal(result.principalId, 'u-1');
    assert.deepEqual(result.context, {
      sub: 'u-1',
      username: 'ada',
      groups: 'staff',
      scope: 'aws.cognito.signin.user.admin',
      token_use: 'access',
      client_id: CLIENT,
    });
    // Every later route of the connection reads it back like a REST Lambda authorizer's context.
    assert.equal(getCallerClaims(restIntegrationEvent({ principalId: 'u-1', ...result.context })).sub, 'u-1');
  });

  test('another parameter name; the header and the protocols are not read', async () => {
    const handler = createWebSocketAuthorizer({
      verifier: pool.config,
      tokenFrom: 'query',
      queryParameter: 'access_token',
    });
    const token = mint();
    assert.equal(
      effectOf(await handler(webSocketConnectEvent({ query: { access_token: [token] } }))),
      'Allow',
    );
    await rejectsUnauthorized(handler(webSocketConnectEvent({ query: { token: [token] } })));
    await rejectsUnauthorized(handler(webSocketConnectEvent({ protocols: [token] })));
    await rejectsUnauthorized(
      handler(webSocketConnectEvent({ headers: { Authorization: `Bearer ${token}` } })),
    );
  });

  test('every bad token is Unauthorized (401), reported to onError with its code', async () => {
    const reported: CognitoJwtError[] = [];
    const handler = createWebSocketAuthorizer({
      verifier: pool.config,
      tokenFrom: 'query',
      onError: (error) => reported.push(error as CognitoJwtError),
    });
    const cases: [Record<string, string[]> | undefined, string][] = [
      [undefined, 'ERR_TOKEN_MISSING'],
      [{ token: [''] }, 'ERR_TOKEN_MISSING'],
      [{ token: [mint(), mint({ sub: 'other' })] }, 'ERR_TOKEN_AMBIGUOUS'],
      [{ token: ['not-a-jwt'] }, 'ERR_TOKEN_MALFORMED'],
      [{ token: [mint({ expiresIn: -1 })] }, 'ERR_TOKEN_EXPIRED'],
      [{ token: [mint({ clientId: 'other' })] }, 'ERR_CLIENT_MISMATCH'],
      [{ token: [mint({ issuer: pool.jwks.issuer('local_other') })] }, 'ERR_ISSUER_MISMATCH'],
    ];
    for (const [query, code] of cases) {
      await rejectsUnauthorized(handler(webSocketConnectEvent(query ? { query } : {})));
      assert.equal(reported.pop()?.code, code);
    }
  });

  test('a rule that refuses is an explicit Deny (403) carrying only the code; rules may read the event', async () => {
    const handler = createWebSocketAuthorizer({
      verifier: pool.config,
      tokenFrom: 'query',
      rules: [
        requireGroups('chat'),
        requirePredicate((_claims, event) => event.queryStringParameters?.room !== 'admins-only'),
      ],
    });
    const denied = await handler(webSocketConnectEvent({ query: { token: [mint({ groups: ['other'] })] } }));
    assert.equal(effectOf(denied), 'Deny');
    assert.deepEqual(denied.context, { error: 'ERR_GROUP_MISSING' });
    const room = await handler(
      webSocketConnectEvent({ query: { token: [mint({ groups: ['chat'] })], room: ['admins-only'] } }),
    );
    assert.deepEqual(room.context, { error: 'ERR_FORBIDDEN' });
    // Client-safe: nothing of the configuration in what API Gateway may show.
    const text = JSON.stringify([denied, room]);
    for (const secret of [POOL, CLIENT, 'chat', pool.jwks.issuer(POOL)])
      assert.ok(!text.includes(secret), secret);
  });
});

describe('WebSocket $connect authorizer, token in Sec-WebSocket-Protocol', () => {
  const options = (): WebSocketAuthorizerOptions => ({
    verifier: pool.config,
    tokenFrom: 'protocol',
    protocols: ['graphql-ws', 'graphql-transport-ws'],
  });

  test('the one value that is not a known protocol is the token, whatever the order', async () => {
    const handler = createWebSocketAuthorizer(options());
    const token = mint({ sub: 'u-2' });
    for (const protocols of [
      ['graphql-ws', token],
      [token, 'graphql-ws'],
      ['graphql-transport-ws', token, 'graphql-ws'],
    ]) {
      const result = await handler(webSocketConnectEvent({ protocols }));
      assert.equal(effectOf(result), 'Allow');
      assert.equal(result.principalId, 'u-2');
    }
  });

  test('no token, two unknown values, or the token only in the query: Unauthorized', async () => {
    const reported: CognitoJwtError[] = [];
    const handler = createWebSocketAuthorizer({
      ...options(),
      onError: (error) => reported.push(error as CognitoJwtError),
    });
    await rejectsUnauthorized(handler(webSocketConnectEvent({ protocols: ['graphql-ws'] })));
    await rejectsUnauthorized(handler(webSocketConnectEvent({ protocols: ['graphql-ws', mint(), 'chat'] })));
    await rejectsUnauthorized(handler(webSocketConnectEvent({ query: { token: [mint()] } })));
    assert.deepEqual(
      reported.map((error) => error.code),
      ['ERR_TOKEN_MISSING', 'ERR_TOKEN_AMBIGUOUS', 'ERR_TOKEN_MISSING'],
    );
  });

  test('the $connect answer names one protocol the client offered, and never the token', () => {
    const token = mint();
    const answer = (protocols: string[] | undefined) =>
      webSocketConnectResponse(webSocketConnectIntegrationEvent(protocols), {
        protocols: ['graphql-ws', 'graphql-transport-ws'],
      });
    for (const offered of [
      [token, 'graphql-transport-ws'],
      ['graphql-transport-ws', token, 'graphql-ws'],
    ]) {
      const result = answer(offered);
      assert.deepEqual(result, {
        statusCode: 200,
        headers: { 'Sec-WebSocket-Protocol': 'graphql-transport-ws' },
        body: '',
      });
      assert.ok(!JSON.stringify(result).includes(token));
    }
    // No protocol offered (the query-string variant): no header, as RFC 6455 wants.
    assert.deepEqual(answer(undefined), { statusCode: 200, body: '' });
    // Only a token, no protocol of ours: the browser would drop the connection anyway; say 400, echo nothing.
    const refused = answer([token]);
    assert.equal(refused.statusCode, 400);
    assert.ok(!JSON.stringify(refused).includes(token));
  });

  test('options are checked when the authorizer is created', () => {
    const bad: [unknown, RegExp][] = [
      [{ verifier: pool.config }, /tokenFrom must be 'query' or 'protocol'/],
      [{ verifier: pool.config, tokenFrom: 'header' }, /tokenFrom must be/],
      [{ verifier: pool.config, tokenFrom: 'protocol' }, /needs protocols/],
      [{ verifier: pool.config, tokenFrom: 'protocol', protocols: [] }, /protocols must be a non-empty/],
      [
        { verifier: pool.config, tokenFrom: 'protocol', protocols: ['a b'] },
        /not a valid WebSocket subprotocol/,
      ],
      [
        { verifier: pool.config, tokenFrom: 'protocol', protocols: ['x'], queryParameter: 't' },
        /queryParameter goes with/,
      ],
      [{ verifier: pool.config, tokenFrom: 'query', protocols: ['x'] }, /protocols goes with/],
      [{ verifier: pool.config, tokenFrom: 'query', getToken: () => '' }, /"getToken" does not belong here/],
      [{ verifier: pool.config, tokenFrom: 'query', cache: 'off' }, /does not cache WebSocket authorizers/],
      [{ verifier: pool.config, tokenFrom: 'query', rules: {} }, /rules must be an array/],
    ];
    for (const [value, message] of bad) {
      assert.throws(() => createWebSocketAuthorizer(value as WebSocketAuthorizerOptions), {
        code: 'ERR_CONFIG_INVALID',
        message,
      });
    }
    assert.throws(() => webSocketConnectResponse({}, { protocols: ['ok'], extra: 1 } as never), {
      code: 'ERR_CONFIG_INVALID',
    });
  });
});
