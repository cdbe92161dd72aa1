import { CognitoJwtError, type ErrorCode } from '../errors.ts';

/** The OAuth `error` values a token or revocation endpoint answers with, and the library code of each. */
const OAUTH_ERROR_CODES: ReadonlyMap<string, ErrorCode> = new Map([
  ['invalid_grant', 'ERR_OAUTH_INVALID_GRANT'],
  ['invalid_client', 'ERR_OAUTH_INVALID_CLIENT'],
  ['invalid_request', 'ERR_OAUTH_INVALID_REQUEST'],
  ['unauthorized_client', 'ERR_OAUTH_UNAUTHORIZED_CLIENT'],
  ['unsupported_grant_type', 'ERR_OAUTH_UNSUPPORTED_GRANT_TYPE'],
  ['unsupported_token_type', 'ERR_OAUTH_UNSUPPORTED_TOKEN_TYPE'],
  ['invalid_scope', 'ERR_OAUTH_INVALID_SCOPE'],
  ['server_error', 'ERR_OAUTH_SERVER_ERROR'],
  ['temporarily_unavailable', 'ERR_OAUTH_SERVER_ERROR'],
]);

const MAX_DESCRIPTION_IN_MESSAGE = 200;

export interface TokenEndpointErrorOptions {
  /** The `error` member of the endpoint's JSON answer (`invalid_grant`, ...). */
  oauthError?: string | undefined;
  /** The `error_description` member of the endpoint's JSON answer. */
  errorDescription?: string | undefined;
  /** The HTTP status, when the endpoint answered. */
  httpStatus?: number | undefined;
  cause?: unknown;
}

/**
 * The token or revocation endpoint refused a request, answered something unusable, or could not
 * be reached in time. `code` says which (`ERR_OAUTH_INVALID_GRANT` for a revoked, expired or
 * unknown refresh token, `ERR_OAUTH_TIMEOUT`, `ERR_OAUTH_NETWORK`, ...); the endpoint's own
 * `error` and `error_description` are kept. Messages never contain a token or a secret.
 *
 * ```ts
 * try {
 *   await client.refresh(refreshToken);
 * } catch (err) {
 *   if (err instanceof TokenEndpointError && err.code === 'ERR_OAUTH_INVALID_GRANT') redirectToSignIn();
 *   else throw err;
 * }
 * ```
 */
export class TokenEndpointError extends CognitoJwtError {
  /** The OAuth `error` value, e.g. `invalid_grant`; `undefined` for network failures and timeouts. */
  readonly oauthError: string | undefined;
  /** The endpoint's `error_description`, when it sent one. */
  readonly errorDescription: string | undefined;
  /** The HTTP status of the answer; `undefined` when there was none. */
  readonly httpStatus: number | undefined;

  constructor(code: ErrorCode, message: string, options: TokenEndpointErrorOptions = {}) {
    super(code, message, { cause: options.cause });
    this.oauthError = options.oauthError;
    this.errorDescription = options.errorDescription;
    this.httpStatus = options.httpStatus;
  }
}

/**
 * Turn an endpoint's error answer into a {@link TokenEndpointError}. Known OAuth errors keep their
 * meaning; an unknown `error` is a request problem under 500 and a server problem from 500 on.
 */
export function errorFromAnswer(what: string, httpStatus: number, body: unknown): TokenEndpointError {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const oauthError = typeof fields.error === 'string' ? fields.error : undefined;
  const errorDescription =
    typeof fields.error_description === 'string' ? fields.error_description : undefined;
  const code =
    (oauthError === undefined ? undefined : OAUTH_ERROR_CODES.get(oauthError)) ??
    (oauthError !== undefined && httpStatus < 500 ? 'ERR_OAUTH_INVALID_REQUEST' : 'ERR_OAUTH_SERVER_ERROR');
  let detail = oauthError === undefined ? 'no OAuth error in the answer' : oauthError;
  if (errorDescription !== undefined) {
    const shown =
      errorDescription.length > MAX_DESCRIPTION_IN_MESSAGE
        ? `${errorDescription.slice(0, MAX_DESCRIPTION_IN_MESSAGE - 3)}...`
        : errorDescription;
    detail += ` (${JSON.stringify(shown)})`;
  }
  return new TokenEndpointError(code, `${what} failed with HTTP ${httpStatus}: ${detail}`, {
    httpStatus,
    oauthError,
    errorDescription,
  });
}
