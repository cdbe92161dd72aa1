/**
 * `cognito-jwt config http-api-authorizer`: the printed CloudFormation holds exactly the properties
 * ../shared/COGNITO-FACTS.md (Part 7) lists for AWS::ApiGatewayV2::Authorizer (JWT) and
 * AWS::ApiGatewayV2::Route, and its warnings are true: a model of the HTTP API JWT authorizer,
 * run over that config with real tokens, shows each blind spot the output names.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeUnverified } from '../../src/index.ts';
import { generateKeyPair, mintAccessToken, mintIdToken } from '../../src/testing/index.ts';
import { errorLine, runCli } from './run-cli.ts';

const POOL = 'eu-west-1_AbC123';
const CLIENT = '1example23456789';
const ISSUER = `https://cognito-idp.eu-west-1.amazonaws.com/${POOL}`;

// The documented property names of each resource type (CloudFormation template reference).
const AUTHORIZER_PROPERTIES = [
  'ApiId',
  'AuthorizerCredentialsArn',
  'AuthorizerPayloadFormatVersion',
  'AuthorizerResultTtlInSeconds',
  'AuthorizerType',
  'AuthorizerUri',
  'EnableSimpleResponses',
  'IdentitySource',
  'IdentityValidationExpression',
  'JwtConfiguration',
  'Name',
];
const ROUTE_PROPERTIES = [
  'ApiId',
  'ApiKeyRequired',
  'AuthorizationScopes',
  'AuthorizationType',
  'AuthorizerId',
  'ModelSelectionExpression',
  'OperationName',
  'RequestModels',
  'RequestParameters',
  'RouteKey',
  'RouteResponseSelectionExpression',
  'Target',
];

interface Template {
  Description: string;
  Metadata: { 'cognito-jwt': { warnings: string[] } };
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

async function print(...args: string[]): Promise<{ template: Template; stderr: string }> {
  const result = await runCli([
    'config',
    'http-api-authorizer',
    '--user-pool-id',
    POOL,
    '--client-id',
    CLIENT,
    ...args,
  ]);
  assert.equal(result.code, 0, result.stderr);
  return { template: JSON.parse(result.stdout) as Template, stderr: result.stderr };
}

/**
 * API Gateway's HTTP API JWT authorizer as COGNITO-FACTS Part 7 describes it: `iss` equal to
 * Issuer; `aud` in Audience when the token has one, else `client_id` in Audience; at least one
 * route scope in `scope` when the route has scopes; `token_use` and groups never read.
 * (Signature, `exp`, `nbf`, `iat` are checked too; these tokens are all validly signed and fresh.)
 */
function gatewayAccepts(template: Template, route: string, token: string): boolean {
  const authorizer = template.Resources.CognitoJwtAuthorizer!.Properties;
  const { Issuer, Audience } = authorizer.JwtConfiguration as { Issuer: string; Audience: string[] };
  const claims = decodeUnverified<Record<string, unknown>>(token).payload;
  if (claims.iss !== Issuer) return false;
  const aud = claims.aud;
  if (aud !== undefined) {
    const list = Array.isArray(aud) ? aud : [aud];
    if (!list.some((item) => Audience.includes(item as string))) return false;
  } else if (!Audience.includes(claims.client_id as string)) return false;
  const routeResource = Object.values(template.Resources).find(
    (resource) => resource.Type === 'AWS::ApiGatewayV2::Route' && resource.Properties.RouteKey === route,
  );
  const scopes = (routeResource?.Properties.AuthorizationScopes as string[] | undefined) ?? [];
  if (scopes.length === 0) return true;
  const granted = String(claims.scope ?? '').split(' ');
  return scopes.some((scope) => granted.includes(scope));
}

const key = generateKeyPair();
const idToken = mintIdToken({ key, issuer: ISSUER, clientId: CLIENT });
const accessToken = mintAccessToken({ key, issuer: ISSUER, clientId: CLIENT, scope: 'orders/read' });
const boundToken = mintAccessToken({
  key,
  issuer: ISSUER,
  clientId: CLIENT,
  scope: 'orders/read',
  claims: { aud: 'https://api.example.com' },
});
const otherClientBound = mintAccessToken({
  key,
  issuer: ISSUER,
  clientId: 'someotherclient',
  scope: 'orders/read',
  claims: { aud: 'https://api.example.com' },
});

describe('cognito-jwt config http-api-authorizer', () => {
  test('prints the Authorizer (JWT) and the Route with exactly the Part 7 properties', async () => {
    const { template } = await print('--scopes', 'orders/read,orders/write', '--route', 'GET /orders');
    const authorizer = template.Resources.CognitoJwtAuthorizer!;
    assert.equal(authorizer.Type, 'AWS::ApiGatewayV2::Authorizer');
    assert.deepEqual(authorizer.Properties, {
      ApiId: { Ref: 'HttpApi' },
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: ISSUER, Audience: [CLIENT] },
      Name: 'cognito-jwt',
    });
    const route = template.Resources.CognitoJwtRoute1!;
    assert.equal(route.Type, 'AWS::ApiGatewayV2::Route');
    assert.deepEqual(route.Properties, {
      ApiId: { Ref: 'HttpApi' },
      RouteKey: 'GET /orders',
      AuthorizationType: 'JWT',
      AuthorizerId: { Ref: 'CognitoJwtAuthorizer' },
      AuthorizationScopes: ['orders/read', 'orders/write'],
    });
    for (const name of Object.keys(authorizer.Properties))
      assert.ok(AUTHORIZER_PROPERTIES.includes(name), name);
    for (const name of Object.keys(route.Properties)) assert.ok(ROUTE_PROPERTIES.includes(name), name);
    assert.deepEqual(Object.keys(template).sort(), ['Description', 'Metadata', 'Resources']);
  });

  test("several clients, audiences and routes; the China partition's issuer", async () => {
    const { template } = await print(
      '--client-id',
      'secondclient1',
      '--audience',
      'https://api.example.com',
      '--route',
      'GET /a',
      '--route',
      'POST /a',
      '--api-ref',
      'MyApi',
      '--name',
      'users',
    );
    const properties = template.Resources.CognitoJwtAuthorizer!.Properties;
    assert.deepEqual(properties.JwtConfiguration, {
      Issuer: ISSUER,
      Audience: [CLIENT, 'secondclient1', 'https://api.example.com'],
    });
    assert.deepEqual(properties.ApiId, { Ref: 'MyApi' });
    assert.equal(properties.Name, 'users');
    assert.deepEqual(
      Object.values(template.Resources)
        .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
        .map((r) => r.Properties.RouteKey),
      ['GET /a', 'POST /a'],
    );
    const china = await runCli([
      'config',
      'http-api-authorizer',
      '--user-pool-id',
      'cn-north-1_AbC123',
      '--client-id',
      CLIENT,
    ]);
    const chinaAuthorizer = (JSON.parse(china.stdout) as Template).Resources.CognitoJwtAuthorizer!;
    assert.deepEqual(chinaAuthorizer.Properties.JwtConfiguration, {
      Issuer: 'https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbC123',
      Audience: [CLIENT],
    });
  });

  test('without scopes it warns that an ID token passes, and the model shows it does', async () => {
    const { template, stderr } = await print();
    const [idWarning] = template.Metadata['cognito-jwt'].warnings;
    assert.match(idWarning!, /No route scopes: API Gateway then accepts an ID token/);
    assert.match(stderr, /^warning No route scopes/m);
    assert.equal(gatewayAccepts(template, '$default', idToken), true, 'the ID token passes');
    const scoped = (await print('--scopes', 'orders/read')).template;
    assert.ok(!scoped.Metadata['cognito-jwt'].warnings.some((w) => w.startsWith('No route scopes')));
    assert.equal(gatewayAccepts(scoped, '$default', idToken), false);
    assert.equal(gatewayAccepts(scoped, '$default', accessToken), true);
  });

  test('a resource-bound access token is refused unless --audience names the resource; then any client passes', async () => {
    const plain = (await print('--scopes', 'orders/read')).template;
    assert.ok(
      plain.Metadata['cognito-jwt'].warnings.some((w) =>
        /bound to a resource .* is refused.*--audience/.test(w),
      ),
    );
    assert.equal(gatewayAccepts(plain, '$default', boundToken), false);
    const bound = (await print('--scopes', 'orders/read', '--audience', 'https://api.example.com')).template;
    assert.equal(gatewayAccepts(bound, '$default', boundToken), true);
    assert.ok(bound.Metadata['cognito-jwt'].warnings.some((w) => /passes whatever its client_id/.test(w)));
    assert.equal(gatewayAccepts(bound, '$default', otherClientBound), true, 'another client, same resource');
  });

  test('it always warns that token_use, groups and revocation are never read', async () => {
    for (const args of [[], ['--scopes', 'a/b', '--audience', 'https://api.example.com']]) {
      const { template } = await print(...args);
      assert.ok(
        template.Metadata['cognito-jwt'].warnings.some((w) =>
          /never reads token_use, cognito:groups or a revocation list/.test(w),
        ),
      );
    }
  });

  test('usage mistakes: exit 2 with one line', async () => {
    for (const [args, message] of [
      [['--client-id', CLIENT], /--user-pool-id is required/],
      [['--user-pool-id', POOL], /--client-id is required/],
      [['--user-pool-id', 'nope', '--client-id', CLIENT], /not a user pool id|userPoolId/],
      [['--user-pool-id', POOL, '--client-id', CLIENT, '--scopes', 'a"b'], /not a scope/],
      [['--user-pool-id', POOL, '--client-id', CLIENT, '--audience', 'http://api.example.com'], /https/],
      [['--user-pool-id', POOL, '--client-id', CLIENT, '--scope', 'x'], /did you mean '--scopes'/],
    ] as const) {
      const result = await runCli(['config', 'http-api-authorizer', ...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(errorLine(result.stderr).message, message);
    }
  });
});
