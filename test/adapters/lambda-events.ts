/**
 * The events of every AWS door, typed by `@types/aws-lambda` where it has a type: API Gateway's, after
 * the examples in the API Gateway developer guide ("Input to an API Gateway Lambda authorizer",
 * "Working with AWS Lambda authorizers for HTTP APIs", the Lambda proxy integration input formats);
 * then, after AWS's own samples, the AppSync Lambda authorizer ("Configuring AWS_LAMBDA
 * authorization"), the WebSocket `$connect` REQUEST authorizer ("Controlling access to WebSocket
 * APIs with AWS Lambda REQUEST authorizers"), IAM-authorized REST and HTTP API integrations, and
 * the CloudFront viewer-request event.
 */
import type {
  APIGatewayEventIdentity,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewayTokenAuthorizerEvent,
  AppSyncAuthorizerEvent,
  CloudFrontRequestEvent,
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

/** The request context of a REST API call, `GET /pets/42`, carrying `authorizer`. */
function restRequestContext<Authorizer>(authorizer: Authorizer) {
  return {
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
  };
}

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
    requestContext: restRequestContext(undefined),
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
    requestContext: restRequestContext(authorizer),
  };
}

/** An HTTP API (payload 2.0) integration event, `GET /orders/7`, whose request context carries `authorizer`. */
function integrationEventV2<Authorizer>(authorizer: Authorizer) {
  return {
    version: '2.0',
    routeKey: 'GET /orders/{id}',
    rawPath: '/orders/7',
    rawQueryString: '',
    headers: { accept: '*/*' },
    isBase64Encoded: false,
    requestContext: { ...requestContextV2, authorizer },
  };
}

/** An HTTP API (payload 2.0) integration event behind a JWT authorizer. */
export function jwtIntegrationEvent(
  claims: Record<string, string | number | boolean | string[]>,
  scopes: string[] | null = null,
): APIGatewayProxyEventV2WithJWTAuthorizer {
  return integrationEventV2({ principalId: '', integrationLatency: 0, jwt: { claims, scopes } });
}

/** An HTTP API (payload 2.0) integration event behind a Lambda authorizer. */
export function lambdaIntegrationEventV2<Context>(
  context: Context,
): APIGatewayProxyEventV2WithLambdaAuthorizer<Context> {
  return integrationEventV2({ lambda: context });
}

/** Whether an IAM policy `Resource` pattern (`*` and `?` wildcards) matches an ARN. */
export function resourceMatches(pattern: string, arn: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${regex}$`).test(arn);
}

// --- The doors beyond API Gateway's REST and HTTP authorizers ---------------------------------

export const APPSYNC_API_ID = 'giy7kumfmvcqvbedntjwjvagii';

/** An AppSync operation: what the rules may read from the event. */
export interface GraphQlCall {
  operationName: string;
  queryString: string;
  variables?: Record<string, unknown>;
}

export const QUERY: GraphQlCall = {
  operationName: 'GetOrder',
  queryString: 'query GetOrder($id: ID!) {\n  order(id: $id) {\n    id\n    total\n  }\n}\n',
  variables: { id: '7' },
};
export const MUTATION: GraphQlCall = {
  operationName: 'DeleteOrder',
  queryString: 'mutation DeleteOrder($id: ID!) {\n  deleteOrder(id: $id) {\n    id\n  }\n}\n',
  variables: { id: '7' },
};

/** AppSync's authorizer event: the `Authorization` header's value as `authorizationToken`. */
export function appSyncEvent(authorizationToken: string, call: GraphQlCall = QUERY): AppSyncAuthorizerEvent {
  return {
    authorizationToken,
    requestContext: {
      apiId: APPSYNC_API_ID,
      accountId: ACCOUNT,
      requestId: 'b80ed838-14c6-4500-b4c3-b694c7bef086',
      queryString: call.queryString,
      operationName: call.operationName,
      variables: call.variables ?? {},
    },
    requestHeaders: {
      accept: 'application/json, text/plain, */*',
      authorization: authorizationToken,
      'content-type': 'application/json',
      host: `${APPSYNC_API_ID}.appsync-api.us-east-1.amazonaws.com`,
      'x-forwarded-for': '203.0.113.7',
    },
  };
}

export const WS_API_ID = 'abcdef123';
export const WS_CONNECT_ARN = `arn:aws:execute-api:us-east-1:${ACCOUNT}:${WS_API_ID}/default/$connect`;

/** What a browser's `new WebSocket(url, protocols)` sends, as API Gateway hands it to a `$connect` authorizer. */
export function webSocketConnectEvent(
  options: { query?: Record<string, string[]>; protocols?: string[]; headers?: Record<string, string> } = {},
): APIGatewayRequestAuthorizerEvent {
  const headers: Record<string, string> = {
    Connection: 'upgrade',
    'content-length': '0',
    Host: `${WS_API_ID}.execute-api.us-east-1.amazonaws.com`,
    'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
    Upgrade: 'websocket',
    'X-Amzn-Trace-Id': 'Root=1-635080f2-4a0a4bd21cf1a8cd6a0f2bde',
    'X-Forwarded-For': '203.0.113.7',
    'X-Forwarded-Port': '443',
    'X-Forwarded-Proto': 'https',
    ...(options.protocols ? { 'Sec-WebSocket-Protocol': options.protocols.join(', ') } : {}),
    ...options.headers,
  };
  const query = options.query;
  return {
    type: 'REQUEST',
    methodArn: WS_CONNECT_ARN,
    resource: '',
    path: '',
    httpMethod: '',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: query
      ? Object.fromEntries(Object.entries(query).map(([name, values]) => [name, values.at(-1) ?? '']))
      : null,
    multiValueQueryStringParameters: query ?? null,
    pathParameters: null,
    stageVariables: {},
    requestContext: {
      routeKey: '$connect',
      eventType: 'CONNECT',
      extendedRequestId: 'aFLX_FaxIAMFjBw=',
      requestTime: '20/Oct/2022:02:36:02 +0000',
      messageDirection: 'IN',
      stage: 'default',
      connectedAt: 1_666_233_362_046,
      requestTimeEpoch: 1_666_233_362_046,
      identity: { sourceIp: '203.0.113.7' },
      requestId: 'aFLX_FaxIAMFjBw=',
      domainName: `${WS_API_ID}.execute-api.us-east-1.amazonaws.com`,
      connectionId: 'aFLX_c2eoAMCK-A=',
      apiId: WS_API_ID,
    } as unknown as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

/** The `$connect` route's integration event (a proxy event with the WebSocket request context). */
export function webSocketConnectIntegrationEvent(protocols: string[] | undefined): APIGatewayProxyEvent {
  const event = restIntegrationEvent({});
  const headers = protocols ? { 'Sec-WebSocket-Protocol': protocols.join(', ') } : {};
  return {
    ...event,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    requestContext: {
      ...event.requestContext,
      routeKey: '$connect',
      eventType: 'CONNECT',
      connectionId: 'aFLX_c2eoAMCK-A=',
    } as APIGatewayProxyEvent['requestContext'],
  };
}

export const IDENTITY_POOL_ID = 'us-east-1:8b3ae4f0-5a8b-4f44-93a9-7f3f3a3b1c2d';
export const IDENTITY_ID = 'us-east-1:1f2e3d4c-aaaa-bbbb-cccc-0123456789ab';
export const SIGNED_IN_SUB = '9a8b7c6d-1111-2222-3333-444455556666';

/** `cognitoAuthenticationProvider` as API Gateway writes it for a user-pool user signed in through an identity pool. */
export function authenticationProvider(userPoolId: string, sub: string): string {
  const region = userPoolId.split('_')[0];
  const provider = `cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  return `${provider},${provider}:CognitoSignIn:${sub}`;
}

/** A REST API integration event for a request signed with SigV4 by an identity-pool identity. */
export function iamRestEvent(identity: {
  provider: string | null;
  type?: string | null;
  identityPoolId?: string | null;
  identityId?: string | null;
}): APIGatewayProxyEvent {
  const event = restIntegrationEvent({});
  return {
    ...event,
    requestContext: {
      ...event.requestContext,
      authorizer: null,
      identity: {
        ...event.requestContext.identity,
        accessKey: 'ASIAEXAMPLEEXAMPLE00',
        accountId: ACCOUNT,
        caller: 'AROAEXAMPLEEXAMPLE00:CognitoIdentityCredentials',
        cognitoAuthenticationProvider: identity.provider,
        cognitoAuthenticationType: identity.type === undefined ? 'authenticated' : identity.type,
        cognitoIdentityId: identity.identityId === undefined ? IDENTITY_ID : identity.identityId,
        cognitoIdentityPoolId:
          identity.identityPoolId === undefined ? IDENTITY_POOL_ID : identity.identityPoolId,
        user: 'AROAEXAMPLEEXAMPLE00:CognitoIdentityCredentials',
        userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/Cognito_AuthRole/CognitoIdentityCredentials`,
      },
    },
  };
}

/** An HTTP API (payload 2.0) integration event behind IAM authorization. */
export function iamHttpApiEvent(
  cognitoIdentity: {
    amr: string[];
    identityId?: string;
    identityPoolId?: string;
  } | null,
): APIGatewayProxyEventV2WithIAMAuthorizer {
  return integrationEventV2({
    iam: {
      accessKey: 'ASIAEXAMPLEEXAMPLE00',
      accountId: ACCOUNT,
      callerId: 'AROAEXAMPLEEXAMPLE00:CognitoIdentityCredentials',
      // @types/aws-lambda types it as null; API Gateway fills it for identity-pool callers.
      cognitoIdentity: (cognitoIdentity
        ? {
            amr: cognitoIdentity.amr,
            identityId: cognitoIdentity.identityId ?? IDENTITY_ID,
            identityPoolId: cognitoIdentity.identityPoolId ?? IDENTITY_POOL_ID,
          }
        : null) as never,
      principalOrgId: null as never,
      userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/Cognito_AuthRole/CognitoIdentityCredentials`,
      userId: 'AROAEXAMPLEEXAMPLE00:CognitoIdentityCredentials',
    },
  });
}

/** A CloudFront viewer-request event (Lambda@Edge), after the sample in the CloudFront developer guide. */
export function viewerRequestEvent(
  headers: Record<string, string | string[]>,
  request: { uri?: string; querystring?: string; method?: string } = {},
): CloudFrontRequestEvent {
  const cfHeaders: Record<string, { key: string; value: string }[]> = {
    host: [{ key: 'Host', value: 'd111111abcdef8.cloudfront.net' }],
    'user-agent': [{ key: 'User-Agent', value: 'curl/8.5.0' }],
  };
  for (const [name, value] of Object.entries(headers)) {
    cfHeaders[name.toLowerCase()] = (Array.isArray(value) ? value : [value]).map((item) => ({
      key: name,
      value: item,
    }));
  }
  return {
    Records: [
      {
        cf: {
          config: {
            distributionDomainName: 'd111111abcdef8.cloudfront.net',
            distributionId: 'EDFDVBD6EXAMPLE',
            eventType: 'viewer-request',
            requestId: '4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==',
          },
          request: {
            clientIp: '203.0.113.178',
            headers: cfHeaders,
            method: request.method ?? 'GET',
            querystring: request.querystring ?? '',
            uri: request.uri ?? '/reports/2026.pdf',
          },
        },
      },
    ],
  };
}
