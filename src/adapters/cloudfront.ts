/**
 * CloudFront with Lambda@Edge: a viewer-request handler that verifies a bearer token (or the
 * session cookie of `cognito-jwt/session`) before CloudFront serves (or fetches) anything. Viewer-request functions have 5 s, 128 MB, a 1 MB
 * package and no environment variables: keys come from a JWKS snapshot bundled at deploy time
 * (`cognito-jwt keys fetch`), so a cold start never waits on the network; only an unknown kid (a
 * key rotation) fetches, with a deadline well under the 5 s.
 */
import type {
  CloudFrontRequest,
  CloudFrontRequestEvent,
  CloudFrontRequestResult,
  CloudFrontResultResponse,
} from 'aws-lambda';
import { type AuthzRule, authorize } from '../authz/rule.ts';
import { CognitoJwtError, ConfigError, clientMessage } from '../errors.ts';
import { checkNumber, checkOptions, optionKeys } from '../options.ts';
import { SessionError } from '../session/errors.ts';
import type { CognitoSession, SessionRequest } from '../session/session.ts';
import type { CognitoClaims } from '../token/claims.ts';
import type { VerifierConfig } from '../verify/config.ts';
import { CognitoVerifier } from '../verify/verifier.ts';
import { checkDoorParts, decide } from './door.ts';
import { BELONGS_TO_VERIFIER, bearerChallenge, bearerToken, type TokenVerifier } from './http.ts';

export type { CloudFrontRequestEvent, CloudFrontRequestResult } from 'aws-lambda';

/** Options of {@link createViewerRequestHandler}. */
export interface ViewerRequestOptions {
  /**
   * A `CognitoVerifier`, or its config. Give the config a `jwks` snapshot (the JSON that
   * `cognito-jwt keys fetch` writes, imported into the bundle): a cold start then makes no request.
   */
  verifier: TokenVerifier<CognitoClaims> | VerifierConfig;
  /**
   * With a config: the deadline of a JWKS fetch for an unknown kid, in ms (default 1 500, at most
   * 4 000), well inside the viewer-request limit of 5 s.
   */
  keyFetchTimeoutMs?: number;
  /**
   * The app's `CognitoSession` (`cognito-jwt/session`), built with the same `secrets`, cookie name
   * and verifier as the app that signs users in: a request without an `Authorization` header is
   * then let through on a valid session cookie. A session that the read refreshed or renewed is
   * answered with a 307 to the same URL that sets the new cookies (the viewer-request event cannot
   * set cookies on the origin's answer). The secrets sit in the function's package: see the guide.
   */
  session?: CognitoSession;
  /** Rules over the claims (of the token or the session) and the CloudFront request; a refusal answers 403. */
  rules?: readonly AuthzRule<CognitoClaims, CloudFrontRequestEvent>[];
  /**
   * Where to send a viewer without a valid token (302), for example the app's sign-in page. By
   * default the viewer gets a 401 with `WWW-Authenticate: Bearer`.
   */
  redirectTo?: string;
  /** Told of every refusal and failure (the viewer sees a fixed sentence): log here. Must not throw. */
  onError?: (error: unknown, event: CloudFrontRequestEvent) => void;
}

/** What a viewer-request Lambda@Edge function may wait for at most (CloudFront's limit). */
export const VIEWER_REQUEST_TIMEOUT_MS = 5_000;

const VIEWER_REQUEST_OPTIONS = optionKeys<ViewerRequestOptions>(
  'createViewerRequestHandler() options',
  { verifier: true, keyFetchTimeoutMs: true, session: true, rules: true, redirectTo: true, onError: true },
  {
    ...BELONGS_TO_VERIFIER,
    timeoutMs: 'at the edge it is keyFetchTimeoutMs (default 1 500 ms, at most 4 000)',
    getToken:
      'the viewer-request handler reads the Authorization header (and, with session, the session cookie)',
    secrets: 'give a CognitoSession built with them as session',
  },
);

type Headers = NonNullable<CloudFrontResultResponse['headers']>;

/** `Set-Cookie` values as CloudFront headers (none: no header). */
function setCookies(cookies: readonly string[]): Headers {
  return cookies.length === 0 ? {} : { 'set-cookie': cookies.map((value) => ({ key: 'Set-Cookie', value })) };
}

/** The CloudFront request as the session door reads one: its cookies joined as one `Cookie` header. */
function sessionRequestOf(request: CloudFrontRequest): SessionRequest {
  return {
    method: request.method,
    url: request.querystring ? `${request.uri}?${request.querystring}` : request.uri,
    header: (name) => {
      const values = request.headers?.[name]?.map((header) => header.value);
      if (values === undefined || values.length === 0) return undefined;
      return values.join(name === 'cookie' ? '; ' : ', ');
    },
  };
}

function answer(
  status: number,
  description: string,
  headers: Headers,
  body?: string,
): CloudFrontResultResponse {
  return {
    status: String(status),
    statusDescription: description,
    headers: {
      ...headers,
      'cache-control': [{ key: 'Cache-Control', value: 'no-store' }],
    },
    ...(body === undefined ? {} : { body }),
  };
}

function refusal(
  error: CognitoJwtError,
  redirectTo: string | undefined,
  cookies: readonly string[] = [],
): CloudFrontResultResponse {
  const message = clientMessage(error.code);
  if (error.status === 401 && redirectTo !== undefined) {
    return answer(302, 'Found', {
      location: [{ key: 'Location', value: redirectTo }],
      ...setCookies(cookies),
    });
  }
  const json = {
    'content-type': [{ key: 'Content-Type', value: 'application/json' }],
    ...setCookies(cookies),
  };
  const body = JSON.stringify({ code: error.code, message });
  if (error.status === 401 || error.status === 403) {
    const challenge = bearerChallenge(
      error.status === 401
        ? { error: 'invalid_token', description: message }
        : { error: 'insufficient_scope', description: message },
    );
    return answer(
      error.status,
      error.status === 401 ? 'Unauthorized' : 'Forbidden',
      {
        ...json,
        'www-authenticate': [{ key: 'WWW-Authenticate', value: challenge }],
      },
      body,
    );
  }
  return answer(
    error.status === 503 ? 503 : 500,
    error.status === 503 ? 'Service Unavailable' : 'Internal Server Error',
    json,
    body,
  );
}

/**
 * A Lambda@Edge viewer-request handler. Reads `Authorization: Bearer <token>` from the CloudFront
 * request (or, with `session` and no such header, the session cookie of `cognito-jwt/session`),
 * verifies it and runs the rules; a valid token lets the request through unchanged, a missing or
 * bad one is answered 401 (or a 302 to `redirectTo`), a refused one 403, keys that cannot be had
 * 503: each with a fixed sentence that names no configuration.
 *
 * Lambda@Edge has no environment variables: the pool id, client id and snapshot are in the
 * package, which anyone who can read the function can read. They are not secrets. The session's
 * `secrets` are, and they sit there too: whoever can read the function can open any session cookie
 * they get hold of (the refresh token inside included). Guard who can read the function, or read
 * the secrets at cold start from an access-controlled parameter (a request at every cold start).
 *
 * ```ts
 * import { createViewerRequestHandler } from 'cognito-jwt/lambda';
 * import jwks from './jwks.json' with { type: 'json' }; // cognito-jwt keys fetch --user-pool-id … -o jwks.json
 *
 * export const handler = createViewerRequestHandler({
 *   verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'access', jwks },
 * });
 * ```
 */
export function createViewerRequestHandler(
  options: ViewerRequestOptions,
): (event: CloudFrontRequestEvent) => Promise<CloudFrontRequestResult> {
  const where = 'createViewerRequestHandler()';
  if (options === undefined) throw new ConfigError(`${where} needs an options object`);
  checkOptions(VIEWER_REQUEST_OPTIONS, options);
  const rules = checkDoorParts(where, options.rules, { onError: options.onError }) as readonly AuthzRule<
    CognitoClaims,
    CloudFrontRequestEvent
  >[];
  const { redirectTo } = options;
  if (redirectTo !== undefined && (typeof redirectTo !== 'string' || !/^(https:\/\/|\/)/.test(redirectTo))) {
    throw new ConfigError(`${where}: redirectTo must be an https: URL or a path starting with /`);
  }
  const input = options.verifier;
  let verifier: TokenVerifier<CognitoClaims>;
  if (typeof (input as TokenVerifier<CognitoClaims>)?.verify === 'function') {
    if (options.keyFetchTimeoutMs !== undefined) {
      throw new ConfigError(
        `${where}: keyFetchTimeoutMs configures a verifier built from a config; set timeoutMs on your CognitoVerifier`,
      );
    }
    verifier = input as TokenVerifier<CognitoClaims>;
  } else {
    if (typeof input !== 'object' || input === null)
      throw new ConfigError(`${where}: verifier must be a CognitoVerifier or a verifier config`);
    const timeoutMs = checkNumber(`${where}: keyFetchTimeoutMs`, options.keyFetchTimeoutMs ?? 1_500, {
      min: 1,
      max: VIEWER_REQUEST_TIMEOUT_MS - 1_000,
    });
    verifier = new CognitoVerifier(input as VerifierConfig, {
      timeoutMs,
    }) as unknown as TokenVerifier<CognitoClaims>;
  }
  const { session } = options;
  if (
    session !== undefined &&
    (typeof session?.read !== 'function' || typeof session?.hasSessionCookie !== 'function')
  ) {
    throw new ConfigError(`${where}: session must be a CognitoSession (cognito-jwt/session)`);
  }
  return async (event) => {
    const request = event?.Records?.[0]?.cf?.request;
    if (!request) throw new ConfigError(`${where}: not a CloudFront request event`);
    if (session !== undefined && !request.headers?.authorization?.length) {
      const sessionRequest = sessionRequestOf(request);
      if (session.hasSessionCookie(sessionRequest)) {
        return bySession(session, sessionRequest, request, rules, event, redirectTo, options.onError);
      }
    }
    const decision = await decide(
      verifier,
      rules,
      () => {
        const values = request.headers?.authorization ?? [];
        if (values.length > 1) {
          throw new CognitoJwtError(
            'ERR_TOKEN_AMBIGUOUS',
            'the request carries more than one Authorization header',
          );
        }
        return bearerToken(values[0]?.value);
      },
      event,
      options.onError,
    );
    return decision.allowed ? request : refusal(decision.error, redirectTo);
  };
}

/**
 * Let a request through on its session cookie. A read that refreshed or renewed the session
 * answers a 307 to the same URL (same method and body) that sets the new cookies: they cannot
 * ride on the origin's answer, and losing them would lose a rotated refresh token.
 */
async function bySession(
  session: CognitoSession,
  sessionRequest: SessionRequest,
  request: CloudFrontRequest,
  rules: readonly AuthzRule<CognitoClaims, CloudFrontRequestEvent>[],
  event: CloudFrontRequestEvent,
  redirectTo: string | undefined,
  onError: ViewerRequestOptions['onError'],
): Promise<CloudFrontRequestResult> {
  let cookies: readonly string[] = [];
  try {
    const read = await session.read(sessionRequest);
    cookies = read.cookies;
    await authorize(read.claims, rules, event);
  } catch (error) {
    onError?.(error, event);
    if (!(error instanceof CognitoJwtError)) throw error;
    return refusal(error, redirectTo, error instanceof SessionError ? error.cookies : cookies);
  }
  if (cookies.length === 0) return request;
  return answer(307, 'Temporary Redirect', {
    location: [{ key: 'Location', value: sessionRequest.url }],
    ...setCookies(cookies),
  });
}
