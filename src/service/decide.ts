/**
 * The decision for one auth request: read the original request the proxy reports, normalise its
 * path, pick the route, verify the token with the library's verifier and run the route's rules
 * from `authz/`. No verification logic lives here: this only translates a proxy's request into a
 * verification and the outcome back into an answer.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { bearerToken, httpErrorResponse } from '../adapters/http.ts';
import type { AlbVerifier } from '../alb/verifier.ts';
import { authorize } from '../authz/rule.ts';
import { CognitoJwtError, type ErrorCode } from '../errors.ts';
import type { CognitoClaims } from '../token/claims.ts';
import { type Contract, headerCount, type OriginalRequest, type RequestHeaders } from './contracts.ts';
import { type ClaimHeaderMap, identityHeaders, isIdentityHeaderName } from './identity-headers.ts';
import { normalisePath } from './path.ts';
import { matchRoute, type Route } from './routes.ts';

/**
 * Turns an auth request's headers into verified claims, or throws a {@link CognitoJwtError}. The
 * bearer-token authenticator is the one the service uses; an ALB mode (the load balancer's signed
 * `x-amzn-oidc-data`) would be another. `rawHeaders` (name and value in turn, as sent) shows a
 * header sent twice, which `headers` may hide.
 */
export type Authenticate = (
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[],
  context?: AuthContext,
) => CognitoClaims | Promise<CognitoClaims>;

/** The original request an authenticator may need (a session's CSRF check), and cookies to set on the answer. */
export interface AuthContext {
  /** The original method and URI, as the proxy reported them. */
  readonly method: string;
  readonly uri: string;
  /** `Set-Cookie` values for the answer (a session refreshed in cookie mode). */
  readonly cookies: string[];
}

/**
 * Verifies one token: the claims at once when the keys are loaded (no promise to wait for), or a
 * promise when a key must be fetched first.
 */
export interface TokenVerifier {
  verify(token: string): CognitoClaims | Promise<CognitoClaims>;
  /** Ask the revocation check again about claims `verify` returned (a session's repeat read). */
  checkRevoked(claims: CognitoClaims): void;
}

/** What a decision is, for the answer, the metrics and the log line. */
export interface Decision {
  readonly status: number;
  /** `allow`, `deny` (401/403), `unavailable` (503: keys or revocation), `error` (misconfigured proxy, a bug). */
  readonly outcome: 'allow' | 'deny' | 'unavailable' | 'error';
  /** `OK`, or the error code. */
  readonly code: ErrorCode | 'OK';
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly contract: Contract;
  readonly method: string | undefined;
  /** The normalised path, when there is one. */
  readonly path: string | undefined;
  readonly route: number | undefined;
  readonly claims: CognitoClaims | undefined;
  /** The detailed reason of a refusal, for the server's log only. */
  readonly detail: string | undefined;
  /** `Set-Cookie` values to send with the answer (a refreshed browser session); most often none. */
  readonly cookies: readonly string[];
}

/** What {@link decide} needs besides the request. */
export interface DecideOptions {
  readonly routes: readonly Route[];
  readonly caseSensitivePaths: boolean;
  readonly claimsHeader: boolean;
  /** The config's own identity headers: header name → claim. */
  readonly claimHeaders?: ClaimHeaderMap;
  readonly realm: string | undefined;
  readonly authenticate: Authenticate;
  /** The URL of the protected-resource metadata, named by 401 and 403 challenges. */
  readonly resourceMetadata?: string | undefined;
}

const METHOD = /^[A-Z]{1,20}$/;

/**
 * ALB mode: the load balancer's `x-amzn-oidc-data` verified by `loadBalancer` (and
 * `x-amzn-oidc-identity` when sent), `x-amzn-oidc-accesstoken` by `verifier`, bound to the same
 * `sub` and client; the access token's claims are the request's, with `email` (and
 * `email_verified`) from the load balancer's userinfo when it carries an email.
 *
 * ```ts
 * const authenticate = albAuthenticator(new AlbVerifier(settings.alb), verifier);
 * ```
 */
export function albAuthenticator(loadBalancer: AlbVerifier, verifier: TokenVerifier): Authenticate {
  const accessToken = { verify: async (token: string) => verifier.verify(token) };
  return async (headers) => {
    const { claims: userinfo, accessToken: claims } = await loadBalancer.verifyRequest<CognitoClaims>(
      headers,
      { accessToken },
    );
    // An access token carries no email; the load balancer's signed userinfo does, when the IdP gave one.
    if (typeof userinfo.email !== 'string') return claims!; // set: an access-token verifier was given
    const { email, email_verified } = userinfo;
    return Object.freeze({
      ...claims!,
      email,
      // userinfo writes it as the string "true"; the merged claims hold the boolean tokens hold.
      ...(email_verified === undefined
        ? {}
        : { email_verified: email_verified === true || email_verified === 'true' }),
    }) as CognitoClaims;
  };
}

/**
 * The token of a request: the `Authorization: Bearer` header, else the named cookie.
 *
 * ```ts
 * const authenticate = tokenAuthenticator(verifier, 'id_token');
 * ```
 */
export function tokenAuthenticator(verifier: TokenVerifier, cookieName: string | undefined): Authenticate {
  return (headers, rawHeaders) => {
    // Node keeps only the first of several Authorization headers, and a proxy forwards them all:
    // with two credentials, the one verified might not be the one the upstream reads.
    const authorizations = headers.authorization === undefined ? 0 : headerCount(rawHeaders, 'authorization');
    const cookies = cookieName === undefined ? [] : cookieValues(headers.cookie, cookieName);
    if (authorizations > 1 || cookies.length > 1) {
      throw new CognitoJwtError(
        'ERR_TOKEN_AMBIGUOUS',
        authorizations > 1
          ? `the request carries ${authorizations} Authorization headers`
          : `the request carries ${cookies.length} ${cookieName} cookies`,
      );
    }
    const token = bearerToken(headers.authorization) ?? cookies[0];
    if (token === undefined || token === '') {
      throw new CognitoJwtError(
        'ERR_TOKEN_MISSING',
        cookieName === undefined
          ? 'no bearer token in the Authorization header'
          : `no bearer token in the Authorization header nor in the ${cookieName} cookie`,
      );
    }
    return verifier.verify(token);
  };
}

/**
 * The value of cookie `name` in a `Cookie` header (quotes removed), or `undefined`.
 *
 * ```ts
 * cookieValue('theme=dark; id_token=eyJ...', 'id_token'); // 'eyJ...'
 * ```
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  return cookieValues(header, name)[0];
}

/**
 * Every value of cookie `name` in a `Cookie` header (Node joins several `Cookie` headers into one
 * with `; `), quotes removed.
 *
 * ```ts
 * cookieValues('id_token=a; theme=dark; id_token=b', 'id_token'); // ['a', 'b']
 * ```
 */
export function cookieValues(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  if (header === undefined || !header.includes(name)) return values;
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals === -1 || pair.slice(0, equals).trim() !== name) continue;
    const value = pair.slice(equals + 1).trim();
    values.push(
      value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value,
    );
  }
  return values;
}

/** Where a decision was made: the parts known before the token is looked at. */
interface Where {
  readonly contract: Contract;
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly route: number | undefined;
}

// Every decision is built here, with all its fields in one literal: V8 builds a literal of a known
// shape in a fraction of a microsecond, whereas `{ ...where, status, ... }` (a spread followed by
// more properties) took about 15 µs on Node 20, a third of a decision's time.
function decision(
  where: Where,
  status: number,
  outcome: Decision['outcome'],
  code: Decision['code'],
  headers: Record<string, string>,
  body: string,
  claims: CognitoClaims | undefined,
  detail: string | undefined,
  cookies: readonly string[] = NO_COOKIES,
): Decision {
  return {
    status,
    outcome,
    code,
    headers,
    body,
    contract: where.contract,
    method: where.method,
    path: where.path,
    route: where.route,
    claims,
    detail,
    cookies,
  };
}

const NO_COOKIES: readonly string[] = Object.freeze([]);

function refusal(
  error: CognitoJwtError,
  options: Pick<DecideOptions, 'realm' | 'resourceMetadata'>,
  where: Where,
  claims?: CognitoClaims,
): Decision {
  const { realm, resourceMetadata } = options;
  const answer = httpErrorResponse(
    error,
    resourceMetadata === undefined ? { realm } : { realm, resourceMetadata },
  )!;
  const outcome = error.status === 503 ? 'unavailable' : error.status < 500 ? 'deny' : 'error';
  const headers: Record<string, string> = {};
  for (const name in answer.headers) headers[name] = answer.headers[name]!;
  headers['content-type'] = 'application/json';
  return decision(
    where,
    answer.status,
    outcome,
    error.code,
    headers,
    JSON.stringify(answer.body),
    claims,
    error.message,
  );
}

/** The first header of the request named as an identity header, in any spelling, or `undefined`. */
function identityHeaderSent(rawHeaders: readonly string[]): string | undefined {
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (isIdentityHeaderName(rawHeaders[index]!)) return rawHeaders[index];
  }
  return undefined;
}

/**
 * Decide one auth request. Never throws: an unexpected error becomes a 500 (which every proxy
 * treats as a refusal). A request that carries an identity header itself (`X-Auth-Request-*`, in
 * any case, with `_` or `-`) is refused with 400 on every endpoint and route, anonymous ones
 * included: the next hop might read the client's value as the service's.
 *
 * ```ts
 * const decision = await decide(originalRequest(req.method, req.url, req, '/envoy')!, req, options);
 * res.writeHead(decision.status, decision.headers).end(decision.body);
 * ```
 */
export async function decide(
  original: OriginalRequest,
  request: RequestHeaders,
  options: DecideOptions,
): Promise<Decision> {
  const base: Where = { contract: original.contract, method: undefined, path: undefined, route: undefined };
  const forged = identityHeaderSent(request.rawHeaders);
  if (forged !== undefined) {
    return refusal(
      new CognitoJwtError(
        'ERR_IDENTITY_HEADER_SENT',
        `the request carries the identity header ${forged}: X-Auth-Request-* in any spelling is the proxy's to set; strip it in the proxy (docs/service.md)`,
      ),
      options,
      base,
    );
  }
  if (!original.ok) {
    return refusal(new CognitoJwtError('ERR_CONFIG_INVALID', original.reason), options, base);
  }
  const method = original.method;
  if (!METHOD.test(method)) {
    return refusal(
      new CognitoJwtError('ERR_FORBIDDEN', 'the original method is not an upper-case HTTP method'),
      options,
      base,
    );
  }
  const normalised = normalisePath(original.uri, { caseSensitive: options.caseSensitivePaths });
  if (!normalised.ok) {
    return refusal(new CognitoJwtError('ERR_FORBIDDEN', `path refused: ${normalised.reason}`), options, {
      contract: original.contract,
      method,
      path: undefined,
      route: undefined,
    });
  }
  const path = normalised.path;
  const route = matchRoute(options.routes, method, path);
  if (!route) {
    return refusal(new CognitoJwtError('ERR_FORBIDDEN', 'no route rule matches'), options, {
      contract: original.contract,
      method,
      path,
      route: undefined,
    });
  }
  const where: Where = { contract: original.contract, method, path, route: route.index };
  const headerOptions =
    options.claimHeaders === undefined
      ? { claimsHeader: options.claimsHeader }
      : { claimsHeader: options.claimsHeader, claimHeaders: options.claimHeaders };
  const context: AuthContext = { method, uri: original.uri, cookies: [] };
  const allow = (claims: CognitoClaims | undefined): Decision =>
    decision(
      where,
      200,
      'allow',
      'OK',
      identityHeaders(claims, headerOptions),
      '',
      claims,
      undefined,
      context.cookies.length === 0 ? NO_COOKIES : context.cookies,
    );
  // An anonymous route does not look at the token: its answer carries empty identity headers.
  if (route.anonymous) return allow(undefined);
  let claims: CognitoClaims | undefined;
  try {
    // Most tokens are verified synchronously: wait only when a key had to be fetched.
    const authenticated = options.authenticate(request.headers, request.rawHeaders, context);
    claims = authenticated instanceof Promise ? await authenticated : authenticated;
    if (route.rules.length > 0) await authorize(claims, route.rules);
    return allow(claims);
  } catch (error) {
    // Claims of a token refused by a rule (403) stay on the decision for the log line.
    if (error instanceof CognitoJwtError) return refusal(error, options, where, claims);
    return refusal(
      new CognitoJwtError(
        'ERR_CONFIG_INVALID',
        `unexpected error: ${(error as Error)?.message ?? String(error)}`,
      ),
      options,
      where,
      claims,
    );
  }
}
