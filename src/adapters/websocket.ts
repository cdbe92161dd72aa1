/**
 * API Gateway WebSocket APIs: the `$connect` REQUEST authorizer, and the answer of the `$connect`
 * integration. A browser cannot set `Authorization` on a WebSocket, so the token travels in a
 * query parameter or as one value of `Sec-WebSocket-Protocol` (`new WebSocket(url, [protocol,
 * token])`). In the second case the `$connect` answer must name one protocol the client offered,
 * never the token, or the browser drops the connection.
 */
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyResult,
  APIGatewayRequestAuthorizerEvent,
} from 'aws-lambda';
import type { AuthzRule } from '../authz/rule.ts';
import { CognitoJwtError, ConfigError, describeValue } from '../errors.ts';
import { checkOptions, optionKeys, stringList } from '../options.ts';
import type { CognitoClaims } from '../token/claims.ts';
import { type CallerIdentity, checkDoorParts, checkFlatContext, decide, identityOf } from './door.ts';
import { BELONGS_TO_VERIFIER, toVerifier, type VerifierInput } from './http.ts';

/** The part of a `$connect` event the token and protocol readers look at. */
export interface WebSocketConnectEvent {
  headers?: Record<string, string | undefined> | null;
  multiValueHeaders?: Record<string, string[] | undefined> | null;
  queryStringParameters?: Record<string, string | undefined> | null;
  multiValueQueryStringParameters?: Record<string, string[] | undefined> | null;
}

/** Options of {@link createWebSocketAuthorizer}. */
export interface WebSocketAuthorizerOptions {
  /** A `CognitoVerifier` or its config. Create the authorizer at module scope: one verifier per container. */
  verifier: VerifierInput<CognitoClaims>;
  /**
   * Where the browser puts the token. `'query'`: the query parameter `queryParameter` (identity
   * source `route.request.querystring.<name>`); it ends up in access logs. `'protocol'`: the one
   * `Sec-WebSocket-Protocol` value that is not among `protocols` (identity source
   * `route.request.header.Sec-WebSocket-Protocol`).
   */
  tokenFrom: 'query' | 'protocol';
  /** With `tokenFrom: 'query'`: the parameter's name. Default `token`. */
  queryParameter?: string;
  /**
   * With `tokenFrom: 'protocol'`: the subprotocols your API speaks (`graphql-ws`, `v1.chat`);
   * every other offered value is taken as the token, and more than one other is refused.
   */
  protocols?: readonly string[];
  /** Rules over the claims and the `$connect` event; a refusal becomes an explicit Deny (403). */
  rules?: readonly AuthzRule<CognitoClaims, APIGatewayRequestAuthorizerEvent>[];
  /** More context entries (strings, numbers, booleans); the standard ones win over them. */
  context?: (claims: CognitoClaims) => Record<string, string | number | boolean>;
  /** Told of every refusal and failure (API Gateway shows the client none of it): log here. Must not throw. */
  onError?: (error: unknown, event: APIGatewayRequestAuthorizerEvent) => void;
}

/** The context an allowing `$connect` authorizer hands to every route of the connection. */
export interface WebSocketAuthorizerContext extends CallerIdentity {
  [extra: string]: string | number | boolean;
}

const WEBSOCKET_OPTIONS = optionKeys<WebSocketAuthorizerOptions>(
  'createWebSocketAuthorizer() options',
  {
    verifier: true,
    tokenFrom: true,
    queryParameter: true,
    protocols: true,
    rules: true,
    context: true,
    onError: true,
  },
  {
    ...BELONGS_TO_VERIFIER,
    getToken:
      "say where the token is with tokenFrom: 'query' (and queryParameter) or 'protocol' (and protocols)",
    cache: 'API Gateway does not cache WebSocket authorizers: every $connect calls the authorizer',
    resource: 'the policy always names the $connect route it was asked for',
  },
);

/** Every value of a header, in any case, from `multiValueHeaders` (else `headers`), comma lists split. */
function headerValues(event: WebSocketConnectEvent, name: string): string[] {
  const values: string[] = [];
  const multi = event.multiValueHeaders ?? {};
  const single = event.headers ?? {};
  const fromMulti = Object.entries(multi).filter(([key]) => key.toLowerCase() === name);
  const entries: [string, readonly (string | undefined)[] | undefined][] =
    fromMulti.length > 0
      ? fromMulti
      : Object.entries(single)
          .filter(([key]) => key.toLowerCase() === name)
          .map(([key, value]) => [key, [value]]);
  for (const [, list] of entries) {
    for (const value of list ?? []) {
      if (typeof value !== 'string') continue;
      for (const item of value.split(',')) if (item.trim() !== '') values.push(item.trim());
    }
  }
  return values;
}

/**
 * The `Sec-WebSocket-Protocol` values a client offered, in its order, split into the protocols
 * the API speaks and the rest (where a token travels).
 */
function offered(event: WebSocketConnectEvent, protocols: ReadonlySet<string>) {
  const values = headerValues(event, 'sec-websocket-protocol');
  return {
    known: values.filter((value) => protocols.has(value)),
    others: values.filter((value) => !protocols.has(value)),
  };
}

function tokenFromQuery(event: WebSocketConnectEvent, name: string): string | undefined {
  const multi = event.multiValueQueryStringParameters?.[name];
  const values =
    multi ?? (event.queryStringParameters?.[name] === undefined ? [] : [event.queryStringParameters[name]]);
  const present = values.filter((value): value is string => typeof value === 'string' && value !== '');
  if (present.length > 1) {
    throw new CognitoJwtError(
      'ERR_TOKEN_AMBIGUOUS',
      `the query parameter "${name}" appears ${present.length} times`,
    );
  }
  return present[0];
}

function tokenFromProtocol(event: WebSocketConnectEvent, protocols: ReadonlySet<string>): string | undefined {
  const { others } = offered(event, protocols);
  if (others.length > 1) {
    throw new CognitoJwtError(
      'ERR_TOKEN_AMBIGUOUS',
      `Sec-WebSocket-Protocol holds ${others.length} values that are not known protocols; exactly one (the token) is expected`,
    );
  }
  return others[0];
}

function checkProtocols(where: string, value: unknown): Set<string> {
  const list = stringList(`${where}: protocols`, value);
  for (const protocol of list) {
    // RFC 6455 §4.1: each protocol is an HTTP token (RFC 7230 tchar), no commas, no spaces.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(protocol)) {
      throw new ConfigError(`${where}: ${describeValue(protocol)} is not a valid WebSocket subprotocol name`);
    }
  }
  return new Set(list);
}

/**
 * A `$connect` REQUEST authorizer for an API Gateway WebSocket API. Reads the token from a query
 * parameter or from `Sec-WebSocket-Protocol` (`tokenFrom`), verifies it, runs the rules, and
 * returns a policy for the `$connect` route: Allow with the caller's identity as context (every
 * later message of the connection sees it as `requestContext.authorizer`), or an explicit Deny
 * (403) when a rule refuses; a bad or missing token throws `Error('Unauthorized')` (401).
 *
 * API Gateway does not cache WebSocket authorizers, so rules may read the event. A token in a
 * query string ends up in API Gateway's and CloudFront's access logs, and in browser history
 * when the URL is shown anywhere: prefer `'protocol'`, and keep such tokens short-lived.
 *
 * ```ts
 * import { createWebSocketAuthorizer } from 'cognito-jwt/lambda';
 *
 * export const handler = createWebSocketAuthorizer({
 *   verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'access' },
 *   tokenFrom: 'protocol',
 *   protocols: ['graphql-ws'], // the browser: new WebSocket(url, ['graphql-ws', accessToken])
 * });
 * ```
 */
export function createWebSocketAuthorizer(
  options: WebSocketAuthorizerOptions,
): (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult> {
  const where = 'createWebSocketAuthorizer()';
  if (options === undefined) throw new ConfigError(`${where} needs an options object`);
  checkOptions(WEBSOCKET_OPTIONS, options);
  const rules = checkDoorParts(where, options.rules, {
    context: options.context,
    onError: options.onError,
  }) as readonly AuthzRule<CognitoClaims, APIGatewayRequestAuthorizerEvent>[];
  const { tokenFrom } = options;
  let read: (event: WebSocketConnectEvent) => string | undefined;
  if (tokenFrom === 'query') {
    if (options.protocols !== undefined) {
      throw new ConfigError(`${where}: protocols goes with tokenFrom: 'protocol'`);
    }
    const name = options.queryParameter ?? 'token';
    if (typeof name !== 'string' || name === '') {
      throw new ConfigError(`${where}: queryParameter must be a non-empty string`);
    }
    read = (event) => tokenFromQuery(event, name);
  } else if (tokenFrom === 'protocol') {
    if (options.queryParameter !== undefined) {
      throw new ConfigError(`${where}: queryParameter goes with tokenFrom: 'query'`);
    }
    if (options.protocols === undefined) {
      throw new ConfigError(
        `${where}: tokenFrom: 'protocol' needs protocols, the subprotocols your API speaks, so the token can be told from them`,
      );
    }
    const protocols = checkProtocols(where, options.protocols);
    read = (event) => tokenFromProtocol(event, protocols);
  } else {
    throw new ConfigError(
      `${where}: tokenFrom must be 'query' or 'protocol', got ${describeValue(tokenFrom)}`,
    );
  }
  const verifier = toVerifier(options.verifier, where);
  return async (event) => {
    const decision = await decide(verifier, rules, () => read(event), event, options.onError);
    const statement = (effect: 'Allow' | 'Deny') => ({
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn }],
    });
    if (!decision.allowed) {
      const { error } = decision;
      // API Gateway answers 401 only to this exact message; any other error becomes a 500.
      if (error.status === 401) throw new Error('Unauthorized');
      if (error.status !== 403) throw error;
      return {
        principalId: decision.claims?.sub ?? 'anonymous',
        policyDocument: statement('Deny'),
        context: { error: error.code },
      };
    }
    const extra = options.context?.(decision.claims) ?? {};
    checkFlatContext(extra, 'authorizer context');
    const context: WebSocketAuthorizerContext = { ...extra, ...identityOf(decision.claims) };
    return { principalId: decision.claims.sub, policyDocument: statement('Allow'), context };
  };
}

/** Options of {@link webSocketConnectResponse}. */
export interface WebSocketConnectResponseOptions {
  /** The subprotocols your API speaks, as given to the authorizer. */
  protocols: readonly string[];
}

const CONNECT_RESPONSE_OPTIONS = optionKeys<WebSocketConnectResponseOptions>(
  'webSocketConnectResponse() options',
  {
    protocols: true,
  },
);

/**
 * The answer of the `$connect` route's integration. When the client offered subprotocols it names
 * exactly one: the first the client offered that `protocols` lists, never the token that travelled
 * beside it (a browser drops a connection whose answer names a protocol it did not offer, or none
 * when it offered some). When it offered none of yours the answer is a 400 without detail.
 *
 * ```ts
 * import { webSocketConnectResponse } from 'cognito-jwt/lambda';
 *
 * // the $connect integration, after the authorizer allowed the connection
 * export const connect = async (event: { headers?: Record<string, string | undefined> }) =>
 *   webSocketConnectResponse(event, { protocols: ['graphql-ws'] });
 * // { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'graphql-ws' }, body: '' }
 * ```
 */
export function webSocketConnectResponse(
  event: WebSocketConnectEvent,
  options: WebSocketConnectResponseOptions,
): APIGatewayProxyResult {
  const where = 'webSocketConnectResponse()';
  if (options === undefined) throw new ConfigError(`${where} needs { protocols }`);
  checkOptions(CONNECT_RESPONSE_OPTIONS, options);
  const protocols = checkProtocols(where, options.protocols);
  const { known, others } = offered(event, protocols);
  if (known.length === 0 && others.length === 0) return { statusCode: 200, body: '' };
  const [chosen] = known;
  if (chosen === undefined)
    return { statusCode: 400, body: 'no supported WebSocket subprotocol was offered' };
  return { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': chosen }, body: '' };
}
