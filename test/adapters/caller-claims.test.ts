import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getCallerClaims } from '../../src/adapters/lambda.ts';
import { throwsCode } from '../helpers/assert-error.ts';
import { jwtIntegrationEvent, lambdaIntegrationEventV2, restIntegrationEvent } from './lambda-events.ts';

// What API Gateway's REST Cognito user-pool authorizer hands on: every claim as a string, dates
// rewritten, `cognito:groups` flattened to "a,b" (a single group: just "a").
const restPoolClaims = {
  sub: '8a7c3b2e-1f0d-4e5a-9b6c-7d8e9f0a1b2c',
  'cognito:groups': 'admins,editors',
  iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example',
  'cognito:username': 'ada',
  origin_jti: '5f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b',
  aud: '7abcdefghijklmnopqrstu1234',
  event_id: '1c2d3e4f-5a6b-7c8d-9e0f-a1b2c3d4e5f6',
  token_use: 'id',
  auth_time: '1700000000',
  exp: 'Tue Nov 14 23:13:20 UTC 2023',
  iat: 'Tue Nov 14 22:13:20 UTC 2023',
  jti: '2d3e4f5a-6b7c-8d9e-0f1a-b2c3d4e5f6a7',
  email: 'ada@example.com',
};

test('REST Cognito user-pool authorizer: requestContext.authorizer.claims', () => {
  const caller = getCallerClaims(restIntegrationEvent({ claims: restPoolClaims }));
  assert.deepEqual(
    { ...caller, raw: undefined },
    {
      sub: restPoolClaims.sub,
      username: 'ada',
      groups: ['admins', 'editors'],
      scopes: [],
      tokenUse: 'id',
      clientId: restPoolClaims.aud,
      source: 'cognito-user-pools',
      raw: undefined,
    },
  );
  assert.equal(caller.raw.email, 'ada@example.com');
});

test('REST Cognito authorizer with an access token and a single group', () => {
  const caller = getCallerClaims(
    restIntegrationEvent({
      claims: {
        sub: 'user-1',
        'cognito:groups': 'admins',
        token_use: 'access',
        scope: 'orders/read orders/write',
        client_id: 'client-1',
        username: 'ada',
      },
    }),
  );
  assert.deepEqual(
    [caller.groups, caller.scopes, caller.clientId, caller.tokenUse],
    [['admins'], ['orders/read', 'orders/write'], 'client-1', 'access'],
  );
});

test('HTTP API JWT authorizer: requestContext.authorizer.jwt.claims with groups flattened to "[a b]"', () => {
  const caller = getCallerClaims(
    jwtIntegrationEvent({
      sub: 'user-2',
      'cognito:groups': '[admins editors]',
      token_use: 'access',
      scope: 'openid orders/read',
      client_id: 'client-2',
      username: 'grace',
      exp: 1_700_003_600,
    }),
  );
  assert.equal(caller.source, 'jwt');
  assert.deepEqual(caller.groups, ['admins', 'editors']);
  assert.deepEqual(caller.scopes, ['openid', 'orders/read']);
  assert.equal(caller.username, 'grace');
  assert.equal(caller.clientId, 'client-2');
  assert.equal(caller.raw.exp, 1_700_003_600);
});

test('HTTP API JWT authorizer: a one-group list, a real array, and scopes from jwt.scopes', () => {
  assert.deepEqual(getCallerClaims(jwtIntegrationEvent({ sub: 's', 'cognito:groups': '[admins]' })).groups, [
    'admins',
  ]);
  assert.deepEqual(getCallerClaims(jwtIntegrationEvent({ sub: 's', 'cognito:groups': ['a', 'b'] })).groups, [
    'a',
    'b',
  ]);
  const caller = getCallerClaims(jwtIntegrationEvent({ sub: 's' }, ['orders/read']));
  assert.deepEqual(
    [caller.groups, caller.scopes, caller.username, caller.tokenUse],
    [[], ['orders/read'], undefined, undefined],
  );
});

test('our HTTP API Lambda authorizer context: requestContext.authorizer.lambda', () => {
  const caller = getCallerClaims(
    lambdaIntegrationEventV2({
      sub: 'user-3',
      username: '',
      groups: '',
      scope: 'orders/read',
      token_use: 'access',
      client_id: 'client-3',
    }),
  );
  assert.deepEqual(
    [caller.source, caller.username, caller.groups, caller.scopes],
    ['lambda', undefined, [], ['orders/read']],
  );
});

test('no authorizer, or an authorizer of another kind: ERR_TOKEN_MISSING', () => {
  throwsCode(() => getCallerClaims(restIntegrationEvent({})), 'ERR_TOKEN_MISSING');
  throwsCode(
    () => getCallerClaims({ requestContext: { authorizer: { iam: { userArn: 'arn' } } } }),
    'ERR_TOKEN_MISSING',
  );
  throwsCode(() => getCallerClaims({ requestContext: null }), 'ERR_TOKEN_MISSING');
  throwsCode(() => getCallerClaims({}), 'ERR_TOKEN_MISSING');
});

test('claims without a sub are refused', () => {
  throwsCode(
    () => getCallerClaims(restIntegrationEvent({ claims: { token_use: 'id' } })),
    'ERR_CLAIM_INVALID',
    {
      claim: 'sub',
    },
  );
});
