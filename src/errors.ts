/**
 * Every failure the library reports is a {@link CognitoJwtError} with a stable `code`.
 *
 * ```ts
 * try {
 *   await verifier.verify(token);
 * } catch (err) {
 *   if (err instanceof CognitoJwtError) res.status(err.status).json({ code: err.code });
 * }
 * ```
 */

/**
 * What a client may be told for each code: a fixed sentence that names no configuration (issuers,
 * pool or client ids, groups, scopes, key URLs) and repeats nothing from the token. Adapters and
 * the verification service send this; the detailed `message` stays on the error for server logs.
 */
export const CLIENT_MESSAGES = {
  ERR_TOKEN_MALFORMED: 'the token is not a well-formed JWT',
  ERR_REFRESH_TOKEN_PRESENTED: 'a refresh token was sent; send an ID or access token',
  ERR_ALG_UNSUPPORTED: 'the token is signed with an algorithm this API does not accept',
  ERR_HEADER_UNSUPPORTED: 'the token header is not supported',
  ERR_KEY_NOT_FOUND: 'the token is signed with an unknown key',
  ERR_KID_COOLDOWN: 'the token is signed with an unknown key',
  ERR_KEY_INVALID: 'the token is signed with an unusable key',
  ERR_SIGNATURE_INVALID: 'the token signature is invalid',
  ERR_TOKEN_EXPIRED: 'the token has expired',
  ERR_TOKEN_NOT_YET_VALID: 'the token is not valid yet',
  ERR_TOKEN_ISSUED_IN_FUTURE: 'the token is issued in the future',
  ERR_CLAIM_INVALID: 'the token has an invalid claim',
  ERR_ISSUER_MISMATCH: 'the token was not issued for this API',
  ERR_CLIENT_MISMATCH: 'the token was not issued for this API',
  /** An access token not bound (by `aud`, RFC 8707) to a resource the verifier's `audience` names. */
  ERR_AUDIENCE_MISMATCH: 'the token was not issued for this API',
  ERR_TOKEN_USE_MISMATCH: 'the token is of the wrong kind for this API',
  ERR_TOKEN_REVOKED: 'the token has been revoked',
  ERR_TOKEN_MISSING: 'a "Bearer <token>" Authorization header is expected',
  /** More than one token: two `Authorization` headers, or two cookies with the token's name. */
  ERR_TOKEN_AMBIGUOUS: 'the request carries more than one token',
  /**
   * A valid token whose sign-in is too weak (`acr`, `amr`) or too old (`auth_time`) for this
   * request: 401 with the RFC 9470 challenge `error="insufficient_user_authentication"`.
   */
  ERR_STEP_UP_REQUIRED: 'this request needs a stronger or more recent sign-in',
  ERR_ALB_DATA_MISSING: 'the request did not pass the load balancer authentication',
  ERR_ALB_SIGNER_MISMATCH: 'the token was not issued for this API',
  ERR_ALB_IDENTITY_MISMATCH: 'the identity headers disagree',
  ERR_ALB_ACCESS_TOKEN_MISMATCH: 'the identity headers disagree',
  ERR_IDENTITY_UNAUTHENTICATED: 'a signed-in identity is required',
  ERR_GROUP_MISSING: 'the token lacks a required group',
  ERR_SCOPE_MISSING: 'the token lacks a required scope',
  ERR_FORBIDDEN: 'the token does not allow this request',
  ERR_IDENTITY_HEADER_SENT: 'the request carries an identity header that only the proxy may set',
  ERR_JWKS_FETCH_FAILED: 'the service cannot check tokens right now',
  ERR_JWKS_INVALID: 'the service cannot check tokens right now',
  ERR_KEYS_NOT_LOADED: 'the service cannot check tokens right now',
  ERR_REVOCATION_UNAVAILABLE: 'the service cannot check tokens right now',
  ERR_CONFIG_INVALID: 'the service is misconfigured',
  /** `verifySync()` (or another synchronous check) where only Web Crypto's asynchronous one exists. */
  ERR_SYNC_UNSUPPORTED: 'the service is misconfigured',
  ERR_OAUTH_INVALID_GRANT: 'the grant is invalid or expired',
  ERR_OAUTH_INVALID_CLIENT: 'client authentication failed',
  ERR_OAUTH_INVALID_REQUEST: 'the token request is invalid',
  ERR_OAUTH_UNAUTHORIZED_CLIENT: 'the client may not use this grant',
  ERR_OAUTH_UNSUPPORTED_GRANT_TYPE: 'the grant type is not supported',
  ERR_OAUTH_UNSUPPORTED_TOKEN_TYPE: 'the token type is not supported',
  ERR_OAUTH_INVALID_SCOPE: 'the requested scope is invalid',
  ERR_OAUTH_SERVER_ERROR: 'the token endpoint failed',
  ERR_OAUTH_NETWORK: 'the token endpoint cannot be reached',
  ERR_OAUTH_TIMEOUT: 'the token endpoint did not answer in time',
  /** No session cookie (and no bearer token): a page redirects to sign-in, an API answers 401. */
  ERR_SESSION_MISSING: 'sign in first',
  /** The session cookie cannot be opened: tampered, truncated, another secret, mixed or too many chunks. */
  ERR_SESSION_INVALID: 'the session cookie is invalid; sign in again',
  /** The session passed its absolute or idle lifetime. */
  ERR_SESSION_EXPIRED: 'the session has expired; sign in again',
  /** The session was signed out, or Cognito rejected its refresh token (`invalid_grant`). */
  ERR_SESSION_ENDED: 'the session has ended; sign in again',
  /** The session would not fit in the cookies allowed for it (the stated bound). */
  ERR_SESSION_TOO_LARGE: 'the session is too large to keep in a cookie',
  /** The sign-in callback's `state` has no pre-sign-in cookie, is reused, expired or does not match. */
  ERR_SIGN_IN_STATE_INVALID: 'the sign-in could not be matched to this browser; start it again',
  /** The ID token's `nonce` is not the one this sign-in sent. */
  ERR_SIGN_IN_NONCE_MISMATCH: 'the sign-in could not be matched to this browser; start it again',
  /** The authorization server answered the sign-in with an error (`access_denied`, ...). */
  ERR_SIGN_IN_FAILED: 'the sign-in did not complete',
  /** A return-to URL outside the app's own origin and paths. */
  ERR_REDIRECT_INVALID: 'the return address is not part of this site',
  /** An unsafe method authenticated by the session cookie came from another site (CSRF). */
  ERR_CROSS_SITE_REQUEST: 'the request came from another site',
  /** The server-side session store (Redis) cannot be reached: the session can be neither read nor ended. */
  ERR_SESSION_STORE_UNAVAILABLE: 'the service cannot check sessions right now',
} as const;

/** The stable `code` of every {@link CognitoJwtError}: one per way a token, request or setting can be wrong. */
export type ErrorCode = keyof typeof CLIENT_MESSAGES;

/**
 * The codes whose suggested status is not 401 (a token that does not verify). A table of the
 * exceptions rather than of every code, so a bundle with only the verifier carries no door's codes.
 */
const STATUS_OTHER_THAN_401 = {
  // A valid token that is not allowed to do this.
  ERR_GROUP_MISSING: 403,
  ERR_SCOPE_MISSING: 403,
  ERR_FORBIDDEN: 403,
  ERR_CROSS_SITE_REQUEST: 403,
  // The server-side session store cannot be reached.
  ERR_SESSION_STORE_UNAVAILABLE: 503,
  // A request that carries an X-Auth-Request-* header (in any spelling) itself: the proxy's to set.
  ERR_IDENTITY_HEADER_SENT: 400,
  // Keys, or a revocation list, that cannot be had or trusted right now.
  ERR_JWKS_FETCH_FAILED: 503,
  ERR_JWKS_INVALID: 503,
  ERR_KEYS_NOT_LOADED: 503,
  ERR_REVOCATION_UNAVAILABLE: 503,
  // The caller's own mistake.
  ERR_CONFIG_INVALID: 500,
  ERR_SYNC_UNSUPPORTED: 500,
  ERR_SESSION_TOO_LARGE: 500,
  // The token endpoint (cognito-jwt/oauth).
  ERR_OAUTH_INVALID_GRANT: 400,
  ERR_OAUTH_INVALID_REQUEST: 400,
  ERR_OAUTH_UNAUTHORIZED_CLIENT: 400,
  ERR_OAUTH_UNSUPPORTED_GRANT_TYPE: 400,
  ERR_OAUTH_UNSUPPORTED_TOKEN_TYPE: 400,
  ERR_OAUTH_INVALID_SCOPE: 400,
  ERR_OAUTH_SERVER_ERROR: 502,
  ERR_OAUTH_NETWORK: 503,
  ERR_OAUTH_TIMEOUT: 504,
  // Browser sign-in (cognito-jwt/session).
  ERR_SIGN_IN_STATE_INVALID: 400,
  ERR_SIGN_IN_FAILED: 400,
  ERR_REDIRECT_INVALID: 400,
} as const satisfies Partial<Record<ErrorCode, number>>;

/** The suggested status of one error code, as a literal type. */
type StatusOf<Code extends ErrorCode> = Code extends keyof typeof STATUS_OTHER_THAN_401
  ? (typeof STATUS_OTHER_THAN_401)[Code]
  : 401;

function statusOf(code: ErrorCode): number {
  return (STATUS_OTHER_THAN_401 as Partial<Record<ErrorCode, number>>)[code] ?? 401;
}

/**
 * Suggested HTTP status for each error code; adapters use this table and nothing else. 401 for a
 * token that does not verify, 403 for a valid token lacking a right, 503 when keys are unavailable,
 * 500 for a configuration mistake, 400 for a malformed request; the README's table of error codes
 * lists each. Its type carries each code's status, so `ERROR_STATUS.ERR_GROUP_MISSING` is `403`.
 *
 * ```ts
 * ERROR_STATUS.ERR_GROUP_MISSING; // 403
 * ```
 */
export const ERROR_STATUS: { readonly [Code in ErrorCode]: StatusOf<Code> } = /* @__PURE__ */ (() =>
  Object.fromEntries(Object.keys(CLIENT_MESSAGES).map((code) => [code, statusOf(code as ErrorCode)])) as {
    readonly [Code in ErrorCode]: StatusOf<Code>;
  })();

/** The fixed, configuration-free sentence a client may be shown for `code`. */
export function clientMessage(code: ErrorCode): string {
  return CLIENT_MESSAGES[code];
}

export interface CognitoJwtErrorOptions {
  /** The claim (or header member) that failed, e.g. `exp`, `aud`, `kid`. */
  claim?: string;
  cause?: unknown;
}

/** Base class of every error the library throws. */
export class CognitoJwtError extends Error {
  readonly code: ErrorCode;
  /** Suggested HTTP status: 401 bad token, 403 valid token lacking a right, 503 keys unavailable. */
  readonly status: number;
  readonly claim: string | undefined;

  constructor(code: ErrorCode, message: string, options: CognitoJwtErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = statusOf(code);
    this.claim = options.claim;
  }
}

/** The token's `exp` has passed. */
export class TokenExpiredError extends CognitoJwtError {
  /** When the token expired. */
  readonly expiredAt: Date;

  constructor(expSeconds: number, nowSeconds: number) {
    super(
      'ERR_TOKEN_EXPIRED',
      `token expired at ${new Date(expSeconds * 1000).toISOString()} (${Math.round(nowSeconds - expSeconds)} s ago)`,
      { claim: 'exp' },
    );
    this.expiredAt = new Date(expSeconds * 1000);
  }
}

/**
 * A valid token lacks a scope that a check requires (`ERR_SCOPE_MISSING`, 403). `required` are the
 * scopes the check names (any one of them, or all, as the check was written) and `granted` the
 * token's own: an API that publishes protected-resource metadata tells the client in its 403
 * challenge which scopes to ask for.
 */
export class ScopeMissingError extends CognitoJwtError {
  readonly required: readonly string[];
  readonly granted: readonly string[];

  constructor(message: string, required: readonly string[], granted: readonly string[]) {
    super('ERR_SCOPE_MISSING', message, { claim: 'scope' });
    this.required = [...required];
    this.granted = [...granted];
  }
}

/**
 * A valid token whose authentication does not satisfy a step-up rule (`requireAcr`, `requireAmr`,
 * `maxAuthAge`). Its `acrValues` and `maxAge` are what the RFC 9470 challenge asks the client to
 * come back with: `WWW-Authenticate: Bearer error="insufficient_user_authentication",
 * acr_values="urn:cognito:loa:2", max_age=300`.
 *
 * ```ts
 * if (err instanceof StepUpRequiredError) redirectToSignIn({ acr_values: err.acrValues?.join(' '), max_age: err.maxAge });
 * ```
 */
export class StepUpRequiredError extends CognitoJwtError {
  /** The authentication levels (`acr` values) that would satisfy the rule, in order of preference. */
  readonly acrValues: readonly string[] | undefined;
  /** The most seconds since sign-in (`auth_time`) the rule accepts. */
  readonly maxAge: number | undefined;

  constructor(message: string, challenge: { acrValues?: readonly string[]; maxAge?: number; claim: string }) {
    super('ERR_STEP_UP_REQUIRED', message, { claim: challenge.claim });
    this.acrValues = challenge.acrValues;
    this.maxAge = challenge.maxAge;
  }
}

/** A configuration mistake, thrown when the verifier (or middleware, client) is created. */
export class ConfigError extends CognitoJwtError {
  constructor(message: string, options: CognitoJwtErrorOptions = {}) {
    super('ERR_CONFIG_INVALID', message, options);
  }
}

/** `verifySync()` (or another synchronous check) where signatures are checked asynchronously only (Web Crypto). */
export function syncUnsupported(): CognitoJwtError {
  return new CognitoJwtError(
    'ERR_SYNC_UNSUPPORTED',
    'this runtime checks signatures with Web Crypto, which is asynchronous: use verify(), not verifySync()',
  );
}

/** `ERR_CLAIM_INVALID` for a claim of the wrong type or shape: what it must be, and what was found. */
export function invalidClaim(claim: string, expected: string, found: unknown): CognitoJwtError {
  const message = `${claim} must be ${expected}, found ${describeValue(found)}`;
  return new CognitoJwtError('ERR_CLAIM_INVALID', message, { claim });
}

/** Describe an untrusted value for an error message without echoing it at length. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 64 ? `${value.slice(0, 61)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}
