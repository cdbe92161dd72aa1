/**
 * CloudFront with Lambda@Edge: a viewer-request handler that verifies a bearer token before
 * CloudFront serves (or fetches) anything. Viewer-request functions have 5 s, 128 MB, a 1 MB
 * package and no environment variables: keys come from a JWKS snapshot bundled at deploy time
 * (`cognito-jwt keys fetch`), so a cold start never waits on the network; only an unknown kid (a
 * key rotation) fetches, with a deadline well under the 5 s.
 */
import type { CloudFrontRequestEvent, CloudFrontRequestResult, CloudFrontResultResponse } from 'aws-lambda';
import type { AuthzRule } from '../authz/rule.ts';
import { CognitoJwtError, ConfigError, clientMessage } from '../errors.ts';
import { checkNumber, checkOptions, optionKeys } from '../options.ts';
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
  /** Rules over the claims and the CloudFront request; a refusal answers 403. */
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
  { verifier: true, keyFetchTimeoutMs: true, rules: true, redirectTo: true, onError: true },
  {
    ...BELONGS_TO_VERIFIER,
    timeoutMs: 'at the edge it is keyFetchTimeoutMs (default 1 500 ms, at most 4 000)',
    getToken: 'the viewer-request handler reads the Authorization header',
  },
);

type Headers = NonNullable<CloudFrontResultResponse['headers']>;

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

function refusal(error: CognitoJwtError, redirectTo: string | undefined): CloudFrontResultResponse {
  const message = clientMessage(error.code);
  if (error.status === 401 && redirectTo !== undefined) {
    return answer(302, 'Found', { location: [{ key: 'Location', value: redirectTo }] });
  }
  const json = { 'content-type': [{ key: 'Content-Type', value: 'application/json' }] };
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
 * request, verifies it and runs the rules; a valid token lets the request through unchanged, a
 * missing or bad one is answered 401 (or a 302 to `redirectTo`), a refused one 403, keys that
 * cannot be had 503: each with a fixed sentence that names no configuration.
 *
 * Lambda@Edge has no environment variables: the pool id, client id and snapshot are in the
 * package, which anyone who can read the function can read. They are not secrets. A secret (a
 * cookie key, once sessions come to the edge) would sit there too: keep it in a separate,
 * access-controlled parameter read at cold start instead, or accept that whoever can read the
 * function's code can read the key.
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
  return async (event) => {
    const request = event?.Records?.[0]?.cf?.request;
    if (!request) throw new ConfigError(`${where}: not a CloudFront request event`);
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
