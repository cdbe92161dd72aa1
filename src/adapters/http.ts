/**
 * What every HTTP adapter does, written once: find the bearer token, verify it, run the guards'
 * rules, and turn a {@link CognitoJwtError} into an RFC 6750 response. Knows no framework.
 */
import { ALB_HEADERS, AlbVerifier, type HeaderSource } from '../alb/verifier.ts';
import type { AuthClaims } from '../authz/request-claims.ts';
import { type AuthzRule, authorize } from '../authz/rule.ts';
import {
  CognitoJwtError,
  ConfigError,
  clientMessage,
  type ErrorCode,
  ScopeMissingError,
  StepUpRequiredError,
} from '../errors.ts';
import type { RequestContext } from '../keys/jwks-cache.ts';
import { checkBoolean, checkFunction, checkOptions, type OptionKeys, optionKeys } from '../options.ts';
import { configKeysBelongIn, type VerifierConfig } from '../verify/config.ts';
import { CognitoVerifier, VERIFIER_OPTIONS } from '../verify/verifier.ts';
import {
  challengeScope,
  type ProtectedResource,
  type ProtectedResourceOptions,
  protectedResource,
} from './protected-resource.ts';

/** Anything that verifies a token into claims; a {@link CognitoVerifier} is one. */
export interface TokenVerifier<Claims = AuthClaims> {
  /** `context` lends the request's `waitUntil` to a key fetch that may outlive it (Workers). */
  verify(token: string, context?: RequestContext): Promise<Claims>;
}

/** A verifier, or the config (or configs) to build one from when the adapter is created. */
export type VerifierInput<Claims = AuthClaims> =
  | TokenVerifier<Claims>
  | VerifierConfig
  | readonly VerifierConfig[];

/** Options shared by the Express, Fastify and Hono adapters; `Context` is the framework's request. */
export interface HttpAuthOptions<Context> {
  /** A `CognitoVerifier` (shares its key cache), or its config: checked when the adapter is created. */
  verifier: VerifierInput;
  /** Where the token is; default: the `Authorization: Bearer` header. Return `undefined` when there is none. */
  getToken?: (context: Context) => string | null | undefined | Promise<string | null | undefined>;
  /** `false` lets requests without a token through with no claims (a bad token is still refused). Default `true`. */
  credentialsRequired?: boolean;
  /** `realm` of the `WWW-Authenticate` challenge: printable ASCII, no `"` or `\`. */
  realm?: string;
  /** Hand errors to the framework's error handling instead of answering them. Default `false`. */
  forwardErrors?: boolean;
  /**
   * Told of every error the adapter meets, with the framework's request, before it answers or
   * forwards it: log the detailed `error.message` here (the client only gets the code and a fixed
   * sentence). Runs synchronously; an error it throws goes to the framework's error handling.
   */
  onError?: (error: unknown, request: Context) => void;
  /**
   * Development only: send the detailed `error.message` to the client (JSON body and
   * `error_description`) instead of the fixed sentence. It names accepted issuers, client ids,
   * groups, scopes and the JWKS URL. Default `false`.
   */
  exposeErrorDetail?: boolean;
  /**
   * Behind an Application Load Balancer that authenticates users: read the `x-amzn-oidc-*`
   * headers instead of `Authorization`. This `AlbVerifier` checks `x-amzn-oidc-data` (and
   * `x-amzn-oidc-identity`); `verifier` checks `x-amzn-oidc-accesstoken`, whose `sub` and client
   * must match, and its claims (with groups and scopes) become the request's. Without the data
   * header a request counts as carrying no token (`credentialsRequired: false` lets it through).
   */
  loadBalancer?: AlbVerifier;
  /**
   * Publish OAuth protected-resource metadata (RFC 9728) for OAuth and MCP clients: `resource` is
   * the public URL clients call. The adapter serves the document at
   * `/.well-known/oauth-protected-resource{path}` (Express and Hono: `auth.resourceMetadata()`),
   * its 401 and 403 challenges name it in `resource_metadata`, and a 403 for a missing scope
   * carries `scope`.
   */
  protectedResource?: ProtectedResourceOptions;
}

/** The answer to a failed request: status, headers (`www-authenticate` for 401 and 403) and JSON body. */
export interface HttpErrorResponse {
  status: number;
  headers: Record<string, string>;
  /** `message` is `clientMessage(code)`, a fixed sentence, unless `exposeErrorDetail` is on. */
  body: { code: ErrorCode; message: string };
}

/** Options of {@link httpErrorResponse}. */
export interface HttpErrorResponseOptions {
  /** `realm` of the `WWW-Authenticate` challenge. */
  realm?: string | undefined;
  /** Send the error's detailed message instead of the fixed client sentence (development only). */
  exposeErrorDetail?: boolean | undefined;
  /**
   * The absolute URL of the API's protected-resource metadata (RFC 9728): 401 and 403 challenges
   * name it in `resource_metadata`, and a 403 for a missing scope ({@link ScopeMissingError})
   * carries `scope`: the token's scopes and the ones the check asked for.
   */
  resourceMetadata?: string | undefined;
}

/** What the core does with an error: answer it, or pass `error` on to the framework. */
export type HttpErrorOutcome = { answer: HttpErrorResponse } | { forward: unknown };

/** The framework-free core an adapter wraps. */
export interface HttpAuth<Context> {
  readonly forwardErrors: boolean;
  /** The verified claims, `undefined` for an anonymous request allowed by `credentialsRequired: false`. */
  authenticate(context: Context): Promise<AuthClaims | undefined>;
  /** The checked `protectedResource` option: its document, path and URL. */
  readonly protectedResource: ProtectedResource | undefined;
  /** Check `rules` against the claims a middleware put on the request; no claims means 401. */
  authorize(
    claims: AuthClaims | null | undefined,
    rules: readonly AuthzRule<AuthClaims, Context>[],
    context: Context,
  ): Promise<void>;
  /**
   * Tell `onError`, then: the response for `error`, or what goes to the framework (forwarding on,
   * an error that is not ours, or what `onError` threw).
   */
  respond(error: unknown, context: Context): HttpErrorOutcome;
}

// RFC 6750 §3: error_description and realm-like values are limited to %x20-21 / %x23-5B / %x5D-7E.
const CHALLENGE_TEXT = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;
const MAX_DESCRIPTION_LENGTH = 200;

// The keys of the helpers' options, checked at run time; the compiler keeps them complete.
const BEARER_TOKEN_OPTIONS = optionKeys<{ allowBareToken?: boolean }>('bearerToken options', {
  allowBareToken: true,
});
const ERROR_RESPONSE_OPTIONS = optionKeys<HttpErrorResponseOptions>('httpErrorResponse options', {
  realm: true,
  exposeErrorDetail: true,
  resourceMetadata: true,
});

/**
 * The token in an `Authorization` header value. `undefined` when there is no header or it uses
 * another scheme (it is not ours to judge); `ERR_TOKEN_MALFORMED` for a `Bearer` header without
 * exactly one token. `allowBareToken` also accepts a header that is just the token, as API
 * Gateway's Cognito authorizers do.
 *
 * ```ts
 * bearerToken('Bearer eyJ...'); // 'eyJ...'
 * bearerToken('Basic dXNlcjpwYXNz'); // undefined
 * ```
 */
export function bearerToken(
  authorization: string | null | undefined,
  options: { allowBareToken?: boolean } = {},
): string | undefined {
  checkOptions(BEARER_TOKEN_OPTIONS, options);
  const value = authorization?.trim();
  if (!value) return undefined;
  const [scheme = '', ...rest] = value.split(/[ \t]+/);
  if (scheme.toLowerCase() !== 'bearer') {
    return options.allowBareToken && rest.length === 0 ? scheme : undefined;
  }
  if (rest.length !== 1) {
    throw new CognitoJwtError(
      'ERR_TOKEN_MALFORMED',
      rest.length === 0
        ? 'the Authorization header names the Bearer scheme but holds no token'
        : `the Authorization header must hold one bearer token, found ${rest.length} space-separated parts`,
    );
  }
  return rest[0];
}

/** Make any text safe as an RFC 6750 `error_description`: no quotes, backslashes, controls or non-ASCII. */
function challengeText(text: string): string {
  const safe = text
    .replace(/[\r\n\t]+/g, ' ')
    .replaceAll('"', "'")
    .replaceAll('\\', '')
    .replace(/[^\x20-\x7E]/g, '?');
  return safe.length > MAX_DESCRIPTION_LENGTH ? `${safe.slice(0, MAX_DESCRIPTION_LENGTH - 3)}...` : safe;
}

/** The parts of a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3). */
export interface BearerChallenge {
  realm?: string | undefined;
  error?:
    | 'invalid_request'
    | 'invalid_token'
    | 'insufficient_scope'
    | 'insufficient_user_authentication'
    | undefined;
  /** Any text: it is reduced to the characters RFC 6750 allows, and shortened. */
  description?: string | undefined;
  /** `scope` (RFC 6750 §3): space-separated scope tokens. */
  scope?: string | undefined;
  /** `resource_metadata` (RFC 9728 §5.1): the absolute URL of the protected-resource metadata. */
  resourceMetadata?: string | undefined;
  /** RFC 9470: the authentication levels that would do, in order of preference (names without spaces). */
  acrValues?: readonly string[] | undefined;
  /** RFC 9470: the most seconds since sign-in accepted. */
  maxAge?: number | undefined;
}

/**
 * A `WWW-Authenticate` value for the Bearer scheme. The description is made safe for a header
 * (an attacker-chosen claim can end up in an error message): quotes become `'`, backslashes are
 * dropped, line breaks become spaces and other characters outside printable ASCII become `?`.
 *
 * ```ts
 * bearerChallenge({ realm: 'api', error: 'invalid_token', description: 'token expired' });
 * // 'Bearer realm="api", error="invalid_token", error_description="token expired"'
 * ```
 */
export function bearerChallenge(challenge: BearerChallenge): string {
  const params: string[] = [];
  if (challenge.realm !== undefined) params.push(`realm="${checkRealm(challenge.realm)}"`);
  if (challenge.error !== undefined) params.push(`error="${challenge.error}"`);
  if (challenge.description !== undefined) {
    params.push(`error_description="${challengeText(challenge.description)}"`);
  }
  if (challenge.scope !== undefined) params.push(`scope="${checkChallengeValue('scope', challenge.scope)}"`);
  if (challenge.resourceMetadata !== undefined) {
    params.push(
      `resource_metadata="${checkChallengeValue('resource_metadata', challenge.resourceMetadata)}"`,
    );
  }
  if (challenge.acrValues !== undefined && challenge.acrValues.length > 0) {
    params.push(`acr_values="${challengeText(challenge.acrValues.join(' '))}"`);
  }
  if (challenge.maxAge !== undefined && Number.isInteger(challenge.maxAge) && challenge.maxAge >= 0) {
    params.push(`max_age="${challenge.maxAge}"`);
  }
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}

function checkChallengeValue(name: string, value: unknown): string {
  if (typeof value !== 'string' || !CHALLENGE_TEXT.test(value)) {
    throw new ConfigError(`${name} must be printable ASCII without " or \\`);
  }
  return value;
}

function checkRealm(realm: unknown): string {
  if (typeof realm !== 'string' || !CHALLENGE_TEXT.test(realm)) {
    throw new ConfigError('realm must be printable ASCII without " or \\');
  }
  return realm;
}

/**
 * How an error answers an HTTP request, from the status in `ERROR_STATUS`: 401 with
 * `error="invalid_token"` (no error code when the token is simply missing, as RFC 6750 §3.1
 * asks), 401 with RFC 9470's `error="insufficient_user_authentication"` and its `acr_values` /
 * `max_age` for a step-up rule's refusal, 403 with `error="insufficient_scope"`, 503 when keys
 * cannot be fetched. The client is
 * told the code and {@link clientMessage}: a fixed sentence that names no configuration and
 * repeats nothing from the token (the detailed `error.message` is for your logs; pass
 * `exposeErrorDetail: true` to send it while developing). `undefined` for errors that are not a
 * {@link CognitoJwtError}: those belong to the framework.
 *
 * ```ts
 * import { Hono } from 'hono';
 * import { httpErrorResponse } from 'cognito-jwt/hono';
 *
 * const app = new Hono();
 * app.onError((err, c) => {
 *   const answer = httpErrorResponse(err, { realm: 'orders-api' });
 *   if (!answer) return c.text('Internal Server Error', 500);
 *   return Response.json(answer.body, { status: answer.status, headers: answer.headers });
 * });
 * ```
 */
export function httpErrorResponse(
  error: unknown,
  options: HttpErrorResponseOptions = {},
): HttpErrorResponse | undefined {
  checkOptions(ERROR_RESPONSE_OPTIONS, options);
  if (!(error instanceof CognitoJwtError)) return undefined;
  const message = options.exposeErrorDetail ? challengeText(error.message) : clientMessage(error.code);
  const headers: Record<string, string> = {};
  const { resourceMetadata } = options;
  if (error instanceof StepUpRequiredError) {
    // RFC 9470: the token is fine, the sign-in behind it is too weak or too old.
    headers['www-authenticate'] = bearerChallenge({
      realm: options.realm,
      error: 'insufficient_user_authentication',
      description: message,
      acrValues: error.acrValues,
      maxAge: error.maxAge,
      resourceMetadata,
    });
  } else if (error.status === 401) {
    headers['www-authenticate'] =
      error.code === 'ERR_TOKEN_MISSING'
        ? bearerChallenge({ realm: options.realm, resourceMetadata })
        : bearerChallenge({
            realm: options.realm,
            error: 'invalid_token',
            description: message,
            resourceMetadata,
          });
  } else if (error.status === 403) {
    headers['www-authenticate'] = bearerChallenge({
      realm: options.realm,
      error: 'insufficient_scope',
      description: message,
      scope:
        resourceMetadata !== undefined && error instanceof ScopeMissingError
          ? challengeScope(error.granted, error.required)
          : undefined,
      resourceMetadata,
    });
  }
  return { status: error.status, headers, body: { code: error.code, message } };
}

function isVerifier(value: unknown): value is TokenVerifier {
  return typeof (value as Partial<TokenVerifier> | null)?.verify === 'function';
}

/**
 * A verifier from an adapter's `verifier` option: used as is when it has a `verify` method,
 * otherwise built from the config now, so a bad config throws at start-up.
 *
 * ```ts
 * const verifier = toVerifier({ userPoolId: 'eu-west-1_AbC123', clientId: 'app', tokenUse: 'access' });
 * ```
 */
export function toVerifier<Claims = AuthClaims>(
  input: VerifierInput<Claims>,
  where: string,
): TokenVerifier<Claims> {
  if (isVerifier(input)) return input as TokenVerifier<Claims>;
  if (typeof input !== 'object' || input === null) {
    throw new ConfigError(`${where}: verifier must be a CognitoVerifier or a verifier config`);
  }
  return new CognitoVerifier(input as VerifierConfig) as unknown as TokenVerifier<Claims>;
}

// Another scheme (Basic, ...) counts as no bearer token, so `credentialsRequired: false` can
// hand such requests on; the detail says what was expected either way.
function missingToken(): CognitoJwtError {
  return new CognitoJwtError(
    'ERR_TOKEN_MISSING',
    'the request carries no bearer token: an "Authorization: Bearer <token>" header is expected',
  );
}

/**
 * The keys of {@link HttpAuthOptions}, checked at run time by every HTTP adapter; the compiler
 * keeps the list complete (an adapter with more options adds its own to these).
 */
export const HTTP_AUTH_OPTION_NAMES = {
  verifier: true,
  getToken: true,
  credentialsRequired: true,
  realm: true,
  forwardErrors: true,
  onError: true,
  exposeErrorDetail: true,
  loadBalancer: true,
  protectedResource: true,
} as const satisfies Record<keyof HttpAuthOptions<unknown>, true>;

/**
 * Advice for a key of the verifier (its config, or its options) given to an adapter or an
 * authorizer next to `verifier`: say where it goes instead of "unknown option".
 *
 * ```ts
 * optionKeys<MyOptions>('myAdapter() options', { verifier: true }, BELONGS_TO_VERIFIER);
 * ```
 */
export const BELONGS_TO_VERIFIER: Readonly<Record<string, string>> = {
  ...Object.fromEntries(
    [...VERIFIER_OPTIONS.keys].map((name) => [
      name,
      `it is a CognitoVerifier option: pass verifier: new CognitoVerifier(config, { ${name} })`,
    ]),
  ),
  ...configKeysBelongIn('the verifier config: { verifier: { userPoolId, clientId, tokenUse, ... } }'),
};

/**
 * The run-time key list of an HTTP adapter's options: `names` lists them all (the compiler holds
 * it to the options type); verifier keys say they belong in `verifier`.
 *
 * ```ts
 * const KEYS = httpAuthOptionKeys<FastifyAuthOptions>('the cognito-jwt plugin', { ...HTTP_AUTH_OPTION_NAMES, global: true });
 * ```
 */
export function httpAuthOptionKeys<Options>(
  where: string,
  names: Record<keyof Options, true>,
): OptionKeys<Options> {
  return optionKeys<Options>(`${where} options`, names, {
    rules: 'guards are per route: auth.authorize(...rules)',
    ...BELONGS_TO_VERIFIER,
  });
}

/** How an adapter reads one request header (lower-case name) from the framework's request. */
export type ReadHeader<Context> = (
  context: Context,
  name: string,
) => string | readonly string[] | null | undefined;

/**
 * Check an adapter's options and build its core. `readHeader` reads a header from the framework's
 * request: `Authorization` is the default token source (the `x-amzn-oidc-*` headers with
 * `loadBalancer`). `requestContext`, where the framework has one, gives the request's `waitUntil`
 * (Hono's `c.executionCtx` on Workers), handed to `verify()` so a shared key fetch outlives the
 * request that started it.
 *
 * ```ts
 * const core = createHttpAuth(options, (req: IncomingMessage, name) => req.headers[name], 'cognitoAuth()');
 * const claims = await core.authenticate(req);
 * ```
 */
export function createHttpAuth<Context>(
  options: HttpAuthOptions<Context>,
  readHeader: ReadHeader<Context>,
  where: string,
  known: OptionKeys<HttpAuthOptions<Context>> = httpAuthOptionKeys<HttpAuthOptions<Context>>(
    where,
    HTTP_AUTH_OPTION_NAMES,
  ),
  requestContext?: (context: Context) => RequestContext | undefined,
): HttpAuth<Context> {
  if (options === undefined) throw new ConfigError(`${where} needs an options object`);
  checkOptions(known, options);
  const {
    getToken,
    credentialsRequired = true,
    realm,
    forwardErrors = false,
    onError,
    exposeErrorDetail = false,
    loadBalancer,
  } = options;
  const verifier = toVerifier(options.verifier, where);
  if (getToken !== undefined) checkFunction(`${where}: getToken`, getToken);
  checkBoolean(`${where}: credentialsRequired`, credentialsRequired);
  checkBoolean(`${where}: forwardErrors`, forwardErrors);
  if (onError !== undefined) checkFunction(`${where}: onError`, onError);
  checkBoolean(`${where}: exposeErrorDetail`, exposeErrorDetail);
  if (realm !== undefined) checkRealm(realm);
  if (loadBalancer !== undefined) {
    if (!(loadBalancer instanceof AlbVerifier))
      throw new ConfigError(`${where}: loadBalancer must be an AlbVerifier`);
    if (getToken !== undefined) {
      throw new ConfigError(
        `${where}: loadBalancer reads the x-amzn-oidc-* headers; getToken cannot be used with it`,
      );
    }
  }
  if (loadBalancer !== undefined && options.protectedResource !== undefined) {
    throw new ConfigError(
      `${where}: protectedResource tells clients to bring a bearer token; with loadBalancer the load balancer signs users in instead`,
    );
  }
  const described =
    options.protectedResource === undefined
      ? undefined
      : protectedResource(
          options.protectedResource,
          verifier instanceof CognitoVerifier ? verifier.issuers.map((entry) => entry.issuer) : undefined,
          where,
        );
  const challenge = described === undefined ? {} : { resourceMetadata: described.url };
  const headersOf = (context: Context): HeaderSource & { get(name: string): string | null | undefined } => ({
    get: (name) => {
      const value = readHeader(context, name);
      if (typeof value === 'string' || value === null || value === undefined) return value;
      if (value.length > 1)
        throw new CognitoJwtError('ERR_TOKEN_MALFORMED', `the ${name} header is sent ${value.length} times`);
      return value[0];
    },
  });
  const tokenOf = getToken ?? ((context: Context) => bearerToken(headersOf(context).get('authorization')));

  return {
    forwardErrors,
    protectedResource: described,
    async authenticate(context) {
      if (loadBalancer !== undefined) {
        const headers = headersOf(context);
        if (!headers.get(ALB_HEADERS.data) && !credentialsRequired) return undefined;
        const accessToken = verifier as unknown as { verify(token: string): Promise<AuthClaims> };
        return (await loadBalancer.verifyRequest<AuthClaims>(headers, { accessToken })).accessToken;
      }
      const token = await tokenOf(context);
      if (token === undefined || token === null || token === '') {
        if (credentialsRequired) throw missingToken();
        return undefined;
      }
      return requestContext === undefined
        ? verifier.verify(token)
        : verifier.verify(token, requestContext(context));
    },
    async authorize(claims, rules, context) {
      if (!claims) throw missingToken();
      await authorize(claims, rules, context);
    },
    respond(error, context) {
      try {
        onError?.(error, context);
      } catch (hookError) {
        return { forward: hookError };
      }
      const answer = forwardErrors
        ? undefined
        : httpErrorResponse(error, { realm, exposeErrorDetail, ...challenge });
      return answer ? { answer } : { forward: error };
    },
  };
}
