/**
 * `cognito-jwt/lambda`: API Gateway Lambda authorizers (REST TOKEN and REQUEST, HTTP API payload
 * 2.0) and a reader for the caller's claims in the integration Lambda. No runtime dependency;
 * the event and result types come from `@types/aws-lambda` and are re-exported here.
 */
import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  APIGatewayTokenAuthorizerEvent,
} from 'aws-lambda';
import { groupsOf, scopesOf } from '../authz/rights.ts';
import { type AuthzRule, authorize, checkRules } from '../authz/rule.ts';
import { CognitoJwtError, ConfigError, describeValue, type ErrorCode } from '../errors.ts';
import { checkFunction, checkOptions, type OptionKeys, optionKeys, typeName } from '../options.ts';
import type { CognitoClaims, TokenUse } from '../token/claims.ts';
import { type AuthorizerCache, checkCacheSafety } from './authorizer-cache.ts';
import { BELONGS_TO_VERIFIER, bearerToken, toVerifier, type VerifierInput } from './http.ts';

export type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  APIGatewayTokenAuthorizerEvent,
  PolicyDocument,
} from 'aws-lambda';
export {
  APPSYNC_MAX_TOKEN_LENGTH,
  type AppSyncAuthorizerEvent,
  type AppSyncAuthorizerOptions,
  type AppSyncAuthorizerResult,
  type AppSyncResolverContext,
  createAppSyncAuthorizer,
  MAX_APPSYNC_TTL_SECONDS,
  MAX_RESOLVER_CONTEXT_LENGTH,
  type ResolverContextValue,
} from './appsync.ts';
export type { AuthorizerCache } from './authorizer-cache.ts';
export {
  type CallerClaims,
  type ClaimsSource,
  type EventWithAuthorizer,
  getCallerClaims,
} from './caller-claims.ts';
export {
  type CloudFrontRequestEvent,
  type CloudFrontRequestResult,
  createViewerRequestHandler,
  VIEWER_REQUEST_TIMEOUT_MS,
  type ViewerRequestOptions,
} from './cloudfront.ts';
export {
  getIamCaller,
  type IamAuthorizedEvent,
  type IamCaller,
  type IamCallerOptions,
} from './iam-caller.ts';
export {
  createWebSocketAuthorizer,
  type WebSocketAuthorizerContext,
  type WebSocketAuthorizerOptions,
  type WebSocketConnectEvent,
  type WebSocketConnectResponseOptions,
  webSocketConnectResponse,
} from './websocket.ts';

/**
 * What an allowing authorizer passes to the integration: the caller's identity, as strings
 * (API Gateway passes nothing else through). `groups` and `scope` are space-separated (neither
 * a Cognito group name nor a scope can contain a space); absent values are empty strings.
 */
export interface CognitoAuthorizerContext {
  sub: string;
  /** `username` of an access token, `cognito:username` of an ID token; empty for client-credentials tokens. */
  username: string;
  groups: string;
  scope: string;
  token_use: TokenUse;
  /** `client_id` of an access token, `aud` of an ID token. */
  client_id: string;
  [extra: string]: string | number | boolean;
}

/** What a refusing authorizer passes on (API Gateway can show it in a gateway response). */
export interface DeniedAuthorizerContext {
  error: ErrorCode;
}

/** Options shared by every authorizer; `Event` is the event the authorizer receives. */
export interface AuthorizerOptions<Event> {
  /** A `CognitoVerifier` or its config. Create the authorizer at module scope: one verifier per container. */
  verifier: VerifierInput<CognitoClaims>;
  /** Rules over the claims (and the event); a refusal becomes an explicit Deny (403). */
  rules?: readonly AuthzRule<CognitoClaims, Event>[];
  /**
   * The resource of the policy. `'api'` (default): every method and path of the API stage, because
   * API Gateway replays a cached answer on every request with the same identity sources. `'method'`:
   * only the method ARN called; allowed only with `cache: 'off'` (REQUEST and HTTP API authorizers).
   */
  resource?: 'api' | 'method';
  /** More context entries (strings, numbers, booleans); the standard ones win over them. */
  context?: (claims: CognitoClaims) => Record<string, string | number | boolean>;
  /** Told of every refusal and failure (API Gateway shows the client none of it): log here. Must not throw. */
  onError?: (error: unknown, event: Event) => void;
  /**
   * The authorizer's result TTL as configured in API Gateway (`authorizerResultTtlInSeconds`,
   * 0–3600). Required with a rule that reads the clock (`maxAuthAge(seconds)`), and then at most
   * `seconds`: API Gateway replays a cached Allow for the whole TTL, so a longer one would let a
   * sign-in older than the rule allows through. A cached Allow may still outlive the window by up
   * to the TTL; 0 makes the window exact.
   */
  cacheTtlSeconds?: number;
}

/** Options of the REQUEST authorizers: where the token is, and how API Gateway caches the answers. */
export interface RequestAuthorizerOptions<Event> extends AuthorizerOptions<Event> {
  /** Default: the `Authorization` header (any case), with or without `Bearer `. */
  getToken?: (event: Event) => string | null | undefined;
  /**
   * How API Gateway caches this authorizer's answers, as configured there: `'per-route'` (the route
   * is an identity source) or `'off'` (TTL 0). Required when a rule may read the event (one without
   * `readsRequest: false`); `'off'` is required for `resource: 'method'`. See {@link AuthorizerCache}.
   */
  cache?: AuthorizerCache;
}

/** Options of {@link createHttpApiAuthorizer}. */
export interface HttpApiAuthorizerOptions
  extends RequestAuthorizerOptions<APIGatewayRequestAuthorizerEventV2> {
  /** `'simple'` (default): `{ isAuthorized, context }`, needs "simple responses" enabled. `'iam'`: a policy. */
  response?: 'simple' | 'iam';
}

/** A simple response of an HTTP API authorizer. */
export type HttpApiSimpleResult = APIGatewaySimpleAuthorizerWithContextResult<
  CognitoAuthorizerContext | DeniedAuthorizerContext
>;

type Decision =
  | { allowed: true; claims: CognitoClaims }
  | { allowed: false; principalId: string; error: CognitoJwtError };

const UNAUTHORIZED = 'Unauthorized';

/**
 * The identity of verified claims as an authorizer context.
 *
 * ```ts
 * authorizerContext(claims); // { sub, username, groups: 'admins editors', scope, token_use, client_id }
 * ```
 */
export function authorizerContext(claims: CognitoClaims): CognitoAuthorizerContext {
  const username = claims.token_use === 'id' ? claims['cognito:username'] : claims.username;
  return {
    sub: claims.sub,
    username: typeof username === 'string' ? username : '',
    groups: groupsOf(claims).join(' '),
    scope: scopesOf(claims).join(' '),
    token_use: claims.token_use,
    client_id: claims.token_use === 'id' ? claims.aud : claims.client_id,
  };
}

/**
 * The policy resource that covers every method and path of the API stage a method ARN belongs to:
 * `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/GET/pets` →
 * `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/*`. An ARN of another shape is returned
 * unchanged (narrower, never wider).
 *
 * ```ts
 * apiWideResource('arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets'); // '.../abc123/prod/*'
 * ```
 */
export function apiWideResource(methodArn: string): string {
  const stage = /^(arn:[\w-]+:execute-api:[\w-]+:\d{12}:\w+\/[^/]+)\//.exec(methodArn);
  return stage ? `${stage[1]}/*` : methodArn;
}

function headerValue(headers: Record<string, string | undefined> | null | undefined, name: string) {
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name) return value;
  return undefined;
}

function fromAuthorizationHeader(event: { headers?: Record<string, string | undefined> | null }) {
  return bearerToken(headerValue(event.headers, 'authorization'), { allowBareToken: true });
}

const AUTHORIZER_OPTION_NAMES = {
  verifier: true,
  rules: true,
  resource: true,
  context: true,
  onError: true,
  cacheTtlSeconds: true,
} as const satisfies Record<keyof AuthorizerOptions<unknown>, true>;

// The keys of each factory's options, checked at run time; the compiler keeps each list complete.
const TOKEN_AUTHORIZER_OPTIONS = optionKeys<AuthorizerOptions<APIGatewayTokenAuthorizerEvent>>(
  'createTokenAuthorizer() options',
  AUTHORIZER_OPTION_NAMES,
  {
    ...BELONGS_TO_VERIFIER,
    getToken:
      'a TOKEN authorizer gets the token API Gateway read from its identity source; use createRequestAuthorizer() to read it elsewhere',
    response: 'only createHttpApiAuthorizer() chooses a response format',
    cache:
      "a TOKEN authorizer is cached by the token alone, so its answers must hold for every route; for route-dependent rules use createRequestAuthorizer() with cache: 'per-route' or 'off'",
  },
);
const REQUEST_AUTHORIZER_OPTIONS = optionKeys<RequestAuthorizerOptions<APIGatewayRequestAuthorizerEvent>>(
  'createRequestAuthorizer() options',
  { ...AUTHORIZER_OPTION_NAMES, getToken: true, cache: true },
  { ...BELONGS_TO_VERIFIER, response: 'only createHttpApiAuthorizer() chooses a response format' },
);
const HTTP_API_AUTHORIZER_OPTIONS = optionKeys<HttpApiAuthorizerOptions>(
  'createHttpApiAuthorizer() options',
  { ...AUTHORIZER_OPTION_NAMES, getToken: true, cache: true, response: true },
  BELONGS_TO_VERIFIER,
);

/** Check an authorizer's options at construction: known keys only, each of the right type. */
function checkAuthorizerOptions<Options extends AuthorizerOptions<never> & { getToken?: unknown }>(
  known: OptionKeys<Options>,
  options: Options,
  where: string,
): void {
  if (options === undefined) throw new ConfigError(`${where} needs an options object`);
  checkOptions(known, options);
  const { resource = 'api', context, onError, getToken, rules = [] } = options;
  if (resource !== 'api' && resource !== 'method') {
    throw new ConfigError(`${where}: resource must be 'api' or 'method', got ${describeValue(resource)}`);
  }
  for (const [name, value] of Object.entries({ context, onError, getToken })) {
    if (value !== undefined) checkFunction(`${where}: ${name}`, value);
  }
  if (!Array.isArray(rules))
    throw new ConfigError(`${where}: rules must be an array, got ${typeName(rules)}`);
  checkRules(rules, where);
}

/** Verify, then authorize: a bad token throws `Unauthorized` (401), a refused one is a Deny (403). */
function createDecider<Event>(
  options: AuthorizerOptions<Event>,
  tokenOf: (event: Event) => string | null | undefined,
  where: string,
): (event: Event) => Promise<Decision> {
  const verifier = toVerifier(options.verifier, where);
  const rules = options.rules ?? [];
  return async (event) => {
    let claims: CognitoClaims | undefined;
    try {
      const token = tokenOf(event);
      if (!token) throw new CognitoJwtError('ERR_TOKEN_MISSING', 'the request carries no bearer token');
      claims = await verifier.verify(token);
      await authorize(claims, rules, event);
      return { allowed: true, claims };
    } catch (error) {
      options.onError?.(error, event);
      if (!(error instanceof CognitoJwtError)) throw error;
      // API Gateway answers 401 only to this exact message; any other error becomes a 500.
      if (error.status === 401) throw new Error(UNAUTHORIZED);
      if (error.status === 403) return { allowed: false, principalId: claims?.sub ?? 'anonymous', error };
      throw error;
    }
  };
}

function contextOf(
  claims: CognitoClaims,
  extra: AuthorizerOptions<unknown>['context'],
): CognitoAuthorizerContext {
  const added = extra?.(claims) ?? {};
  for (const [key, value] of Object.entries(added)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ConfigError(
        `the authorizer context entry "${key}" is ${describeValue(value)}; API Gateway passes only strings, numbers and booleans`,
      );
    }
  }
  return { ...added, ...authorizerContext(claims) };
}

function policyFor<Event>(
  decision: Decision,
  methodArn: string,
  options: AuthorizerOptions<Event>,
): APIGatewayAuthorizerResult {
  const resource = options.resource === 'method' ? methodArn : apiWideResource(methodArn);
  const statement = (effect: 'Allow' | 'Deny') => ({
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
  });
  if (!decision.allowed) {
    const context: DeniedAuthorizerContext = { error: decision.error.code };
    return { principalId: decision.principalId, policyDocument: statement('Deny'), context: { ...context } };
  }
  return {
    principalId: decision.claims.sub,
    policyDocument: statement('Allow'),
    context: contextOf(decision.claims, options.context),
  };
}

/**
 * A REST API `TOKEN` authorizer. Verifies the token (the identity source header, with or without
 * `Bearer `), runs the rules, and returns an IAM policy: Allow for the whole API stage with the
 * caller's identity as context; an explicit Deny (403) when a rule refuses; a bad or missing token
 * throws `Error('Unauthorized')` (401); keys that cannot be fetched throw the error (500).
 *
 * ```ts
 * import { requireGroups } from 'cognito-jwt';
 * import { createTokenAuthorizer } from 'cognito-jwt/lambda';
 *
 * export const handler = createTokenAuthorizer({
 *   verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'access' },
 *   rules: [requireGroups('staff')],
 * });
 * ```
 */
export function createTokenAuthorizer(
  options: AuthorizerOptions<APIGatewayTokenAuthorizerEvent>,
): (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult> {
  checkAuthorizerOptions(TOKEN_AUTHORIZER_OPTIONS, options, 'createTokenAuthorizer()');
  checkCacheSafety(
    {
      kind: 'token',
      rules: options.rules ?? [],
      resource: options.resource,
      cache: undefined,
      ttlSeconds: options.cacheTtlSeconds,
    },
    'createTokenAuthorizer()',
  );
  const decide = createDecider(
    options,
    (event) => bearerToken(event.authorizationToken, { allowBareToken: true }),
    'createTokenAuthorizer()',
  );
  return async (event) => policyFor(await decide(event), event.methodArn, options);
}

/**
 * A REST API `REQUEST` authorizer: like {@link createTokenAuthorizer}, reading the token from the
 * `Authorization` header (any case) or from `getToken(event)`; rules see the whole event.
 *
 * ```ts
 * export const handler = createRequestAuthorizer({
 *   verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'access' },
 *   rules: [requirePredicate((claims, event) => event.pathParameters?.tenant === claims['custom:tenant'])],
 *   resource: 'method', // the rule depends on the path: cache per method (or turn caching off)
 * });
 * ```
 */
export function createRequestAuthorizer(
  options: RequestAuthorizerOptions<APIGatewayRequestAuthorizerEvent>,
): (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult> {
  checkAuthorizerOptions(REQUEST_AUTHORIZER_OPTIONS, options, 'createRequestAuthorizer()');
  checkCacheSafety(
    {
      kind: 'request',
      rules: options.rules ?? [],
      resource: options.resource,
      cache: options.cache,
      ttlSeconds: options.cacheTtlSeconds,
    },
    'createRequestAuthorizer()',
  );
  const decide = createDecider(
    options,
    options.getToken ?? fromAuthorizationHeader,
    'createRequestAuthorizer()',
  );
  return async (event) => policyFor(await decide(event), event.methodArn, options);
}

/**
 * An HTTP API Lambda authorizer (payload format 2.0). By default it gives the simple response
 * `{ isAuthorized, context }` (enable simple responses on the authorizer): `true` with the caller's
 * identity, `false` (403) when a rule refuses; a bad or missing token throws `Error('Unauthorized')`
 * (401). With `response: 'iam'` it returns an IAM policy for the route's API stage instead.
 *
 * ```ts
 * export const handler = createHttpApiAuthorizer({
 *   verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'access' },
 *   rules: [requireScopes('orders/read')],
 * });
 * ```
 */
export function createHttpApiAuthorizer(
  options: HttpApiAuthorizerOptions & { response?: 'simple' },
): (event: APIGatewayRequestAuthorizerEventV2) => Promise<HttpApiSimpleResult>;
export function createHttpApiAuthorizer(
  options: HttpApiAuthorizerOptions & { response: 'iam' },
): (event: APIGatewayRequestAuthorizerEventV2) => Promise<APIGatewayAuthorizerResult>;
export function createHttpApiAuthorizer(
  options: HttpApiAuthorizerOptions,
): (event: APIGatewayRequestAuthorizerEventV2) => Promise<HttpApiSimpleResult | APIGatewayAuthorizerResult> {
  const where = 'createHttpApiAuthorizer()';
  checkAuthorizerOptions(HTTP_API_AUTHORIZER_OPTIONS, options, where);
  if (options.resource !== undefined && (options.response ?? 'simple') === 'simple') {
    throw new ConfigError(
      `${where}: resource shapes an IAM policy, and the simple response has none; use response: 'iam' or drop resource`,
    );
  }
  checkCacheSafety(
    {
      kind: 'http-api',
      rules: options.rules ?? [],
      resource: options.resource,
      cache: options.cache,
      ttlSeconds: options.cacheTtlSeconds,
    },
    where,
  );
  const decide = createDecider(options, options.getToken ?? fromAuthorizationHeader, where);
  const { response = 'simple' } = options;
  if (response === 'iam') return async (event) => policyFor(await decide(event), event.routeArn, options);
  if (response !== 'simple') {
    throw new ConfigError(`${where}: response must be 'simple' or 'iam', got ${describeValue(response)}`);
  }
  return async (event) => {
    const decision = await decide(event);
    return decision.allowed
      ? { isAuthorized: true, context: contextOf(decision.claims, options.context) }
      : { isAuthorized: false, context: { error: decision.error.code } };
  };
}
