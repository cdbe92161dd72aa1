/**
 * What every HTTP adapter does, written once: find the bearer token, verify it, run the guards'
 * rules, and turn a {@link CognitoJwtError} into an RFC 6750 response. Knows no framework.
 */
import type { AuthClaims } from '../authz/request-claims.ts';
import { type AuthzRule, authorize } from '../authz/rule.ts';
import { CognitoJwtError, ConfigError, type ErrorCode } from '../errors.ts';
import type { VerifierConfig } from '../verify/config.ts';
import { CognitoVerifier } from '../verify/verifier.ts';

/** Anything that verifies a token into claims; a {@link CognitoVerifier} is one. */
export interface TokenVerifier<Claims = AuthClaims> {
  verify(token: string): Promise<Claims>;
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
}

/** The answer to a failed request: status, headers (`www-authenticate` for 401 and 403) and JSON body. */
export interface HttpErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { code: ErrorCode; message: string };
}

/** The framework-free core an adapter wraps. */
export interface HttpAuth<Context> {
  readonly forwardErrors: boolean;
  /** The verified claims, `undefined` for an anonymous request allowed by `credentialsRequired: false`. */
  authenticate(context: Context): Promise<AuthClaims | undefined>;
  /** Check `rules` against the claims a middleware put on the request; no claims means 401. */
  authorize(
    claims: AuthClaims | null | undefined,
    rules: readonly AuthzRule<AuthClaims, Context>[],
    context: Context,
  ): Promise<void>;
  /** The response for `error`, or `undefined` when it must go to the framework (forwarding on, or not ours). */
  respond(error: unknown): HttpErrorResponse | undefined;
}

// RFC 6750 §3: error_description and realm-like values are limited to %x20-21 / %x23-5B / %x5D-7E.
const CHALLENGE_TEXT = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;
const MAX_DESCRIPTION_LENGTH = 200;

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
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | undefined;
  /** Any text: it is reduced to the characters RFC 6750 allows, and shortened. */
  description?: string | undefined;
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
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
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
 * asks), 403 with `error="insufficient_scope"`, 503 when keys cannot be fetched. `undefined`
 * for errors that are not a {@link CognitoJwtError}: those belong to the framework.
 *
 * ```ts
 * app.onError((err, c) => {
 *   const answer = httpErrorResponse(err);
 *   if (!answer) return c.text('Internal Server Error', 500);
 *   return Response.json(answer.body, { status: answer.status, headers: answer.headers });
 * });
 * ```
 */
export function httpErrorResponse(
  error: unknown,
  options: { realm?: string | undefined } = {},
): HttpErrorResponse | undefined {
  if (!(error instanceof CognitoJwtError)) return undefined;
  const message = challengeText(error.message);
  const headers: Record<string, string> = {};
  if (error.status === 401) {
    headers['www-authenticate'] =
      error.code === 'ERR_TOKEN_MISSING'
        ? bearerChallenge({ realm: options.realm })
        : bearerChallenge({ realm: options.realm, error: 'invalid_token', description: message });
  } else if (error.status === 403) {
    headers['www-authenticate'] = bearerChallenge({
      realm: options.realm,
      error: 'insufficient_scope',
      description: message,
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

function missingToken(): CognitoJwtError {
  return new CognitoJwtError('ERR_TOKEN_MISSING', 'a bearer token is required');
}

/**
 * Check an adapter's options and build its core. `readAuthorization` reads the `Authorization`
 * header from the framework's request; it is the default token source.
 *
 * ```ts
 * const core = createHttpAuth(options, (req: IncomingMessage) => req.headers.authorization, 'cognitoAuth()');
 * const claims = await core.authenticate(req);
 * ```
 */
export function createHttpAuth<Context>(
  options: HttpAuthOptions<Context>,
  readAuthorization: (context: Context) => string | null | undefined,
  where: string,
): HttpAuth<Context> {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError(`${where} needs an options object`);
  const { getToken, credentialsRequired = true, realm, forwardErrors = false } = options;
  const verifier = toVerifier(options.verifier, where);
  if (getToken !== undefined && typeof getToken !== 'function') {
    throw new ConfigError(`${where}: getToken must be a function of the request`);
  }
  if (typeof credentialsRequired !== 'boolean')
    throw new ConfigError(`${where}: credentialsRequired must be a boolean`);
  if (typeof forwardErrors !== 'boolean') throw new ConfigError(`${where}: forwardErrors must be a boolean`);
  if (realm !== undefined) checkRealm(realm);
  const tokenOf = getToken ?? ((context: Context) => bearerToken(readAuthorization(context)));

  return {
    forwardErrors,
    async authenticate(context) {
      const token = await tokenOf(context);
      if (token === undefined || token === null || token === '') {
        if (credentialsRequired) throw missingToken();
        return undefined;
      }
      return verifier.verify(token);
    },
    async authorize(claims, rules, context) {
      if (!claims) throw missingToken();
      await authorize(claims, rules, context);
    },
    respond: (error) => (forwardErrors ? undefined : httpErrorResponse(error, { realm })),
  };
}
