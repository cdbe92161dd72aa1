/**
 * Events shaped like the ones API Gateway sends, after the examples in the API Gateway developer
 * guide ("Input to an API Gateway Lambda authorizer", "Working with AWS Lambda authorizers for
 * HTTP APIs", the Lambda proxy integration input formats), typed by `@types/aws-lambda`.
 */
import type {
  APIGatewayEventIdentity,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda';

export const ACCOUNT = '123456789012';
export const API_ID = 'abcdef1234';
export const STAGE = 'prod';

/** `arn:aws:execute-api:us-east-1:{account}:{apiId}/{stage}/{method}{path}` */
export function methodArn(method: string, path: string, stage = STAGE, apiId = API_ID): string {
  return `arn:aws:execute-api:us-east-1:${ACCOUNT}:${apiId}/${stage}/${method}${path}`;
}

const identity: APIGatewayEventIdentity = {
  accessKey: null,
  accountId: null,
  apiKey: null,
  apiKeyId: null,
  caller: null,
  clientCert: null,
  cognitoAuthenticationProvider: null,
  cognitoAuthenticationType: null,
  cognitoIdentityId: null,
  cognitoIdentityPoolId: null,
  principalOrgId: null,
  sourceIp: '203.0.113.7',
  user: null,
  userAgent: 'curl/8.5.0',
  userArn: null,
};

/** REST API, TOKEN authorizer: the identity source header's value as `authorizationToken`. */
export function tokenEvent(
  authorizationToken: string,
  arn = methodArn('GET', '/pets/42'),
): APIGatewayTokenAuthorizerEvent {
  return { type: 'TOKEN', authorizationToken, methodArn: arn };
}

/** REST API, REQUEST authorizer, `GET /pets/{petId}`. */
export function requestEvent(
  headers: Record<string, string>,
  arn = methodArn('GET', '/pets/42'),
): APIGatewayRequestAuthorizerEvent {
  const multiValueHeaders = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, [value]]),
  );
  return {
    type: 'REQUEST',
    methodArn: arn,
    resource: '/pets/{petId}',
    path: '/pets/42',
    httpMethod: 'GET',
    headers: { Accept: '*/*', Host: `${API_ID}.execute-api.us-east-1.amazonaws.com`, ...headers },
    multiValueHeaders: {
      Accept: ['*/*'],
      Host: [`${API_ID}.execute-api.us-east-1.amazonaws.com`],
      ...multiValueHeaders,
    },
    pathParameters: { petId: '42' },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: ACCOUNT,
      apiId: API_ID,
      authorizer: undefined,
      httpMethod: 'GET',
      identity,
      path: `/${STAGE}/pets/42`,
      protocol: 'HTTP/1.1',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTimeEpoch: 1_700_000_000_000,
      resourceId: 'rs0urc',
      resourcePath: '/pets/{petId}',
      stage: STAGE,
    },
  };
}

const requestContextV2 = {
  accountId: ACCOUNT,
  apiId: API_ID,
  domainName: `${API_ID}.execute-api.us-east-1.amazonaws.com`,
  domainPrefix: API_ID,
  http: {
    method: 'GET',
    path: '/orders/7',
    protocol: 'HTTP/1.1',
    sourceIp: '203.0.113.7',
    userAgent: 'curl/8.5.0',
  },
  requestId: 'JKJaXmPLvHcESHA=',
  routeKey: 'GET /orders/{id}',
  stage: '$default',
  time: '12/Mar/2024:19:03:58 +0000',
  timeEpoch: 1_710_270_238_390,
};

/** HTTP API, Lambda authorizer with payload format 2.0 (headers arrive lower-cased). */
export function httpApiEvent(headers: Record<string, string>): APIGatewayRequestAuthorizerEventV2 {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:us-east-1:${ACCOUNT}:${API_ID}/$default/GET/orders/7`,
    identitySource: Object.values(headers),
    routeKey: 'GET /orders/{id}',
    rawPath: '/orders/7',
    rawQueryString: '',
    cookies: [],
    headers: { accept: '*/*', ...headers },
    requestContext: requestContextV2,
    pathParameters: { id: '7' },
  };
}

/** A REST API proxy integration event carrying `authorizer` in its request context. */
export function restIntegrationEvent(authorizer: Record<string, unknown>): APIGatewayProxyEvent {
  return {
    body: null,
    headers: {},
    multiValueHeaders: {},
    httpMethod: 'GET',
    isBase64Encoded: false,
    path: '/pets/42',
    pathParameters: { petId: '42' },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    resource: '/pets/{petId}',
    requestContext: {
      accountId: ACCOUNT,
      apiId: API_ID,
      authorizer,
      httpMethod: 'GET',
      identity,
      path: `/${STAGE}/pets/42`,
      protocol: 'HTTP/1.1',
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTimeEpoch: 1_700_000_000_000,
      resourceId: 'rs0urc',
      resourcePath: '/pets/{petId}',
      stage: STAGE,
    },
  };
}

/** An HTTP API (payload 2.0) integration event behind a JWT authorizer. */
export function jwtIntegrationEvent(
  claims: Record<string, string | number | boolean | string[]>,
  scopes: string[] | null = null,
): APIGatewayProxyEventV2WithJWTAuthorizer {
  return {
    version: '2.0',
    routeKey: 'GET /orders/{id}',
    rawPath: '/orders/7',
    rawQueryString: '',
    headers: { accept: '*/*' },
    isBase64Encoded: false,
    requestContext: {
      ...requestContextV2,
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes } },
    },
  };
}

/** An HTTP API (payload 2.0) integration event behind a Lambda authorizer. */
export function lambdaIntegrationEventV2<Context>(
  context: Context,
): APIGatewayProxyEventV2WithLambdaAuthorizer<Context> {
  return {
    version: '2.0',
    routeKey: 'GET /orders/{id}',
    rawPath: '/orders/7',
    rawQueryString: '',
    headers: { accept: '*/*' },
    isBase64Encoded: false,
    requestContext: { ...requestContextV2, authorizer: { lambda: context } },
  };
}

/** Whether an IAM policy `Resource` pattern (`*` and `?` wildcards) matches an ARN. */
export function resourceMatches(pattern: string, arn: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${regex}$`).test(arn);
}
