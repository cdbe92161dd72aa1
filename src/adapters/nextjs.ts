/**
 * `cognito-jwt/nextjs`: check a Cognito token in Next.js, in `proxy.ts` (Next 16, Node) or in a
 * deprecated edge `middleware.ts` (Web Crypto), from a bearer header or from the cookies Amplify
 * writes (`@aws-amplify/adapter-nextjs`). Unlike Amplify's own server-side check, an expired token
 * is refused, whatever its signature. Uses no Next.js import: a `Request` (or `NextRequest`) in,
 * `undefined` or a `Response` out.
 */
import type { AuthzRule } from '../authz/rule.ts';
import { CognitoJwtError, ConfigError, clientMessage } from '../errors.ts';
import { checkOptions, optionKeys } from '../options.ts';
import type { CognitoClaims } from '../token/claims.ts';
import { checkDoorParts, decide } from './door.ts';
import { BELONGS_TO_VERIFIER, bearerChallenge, bearerToken, toVerifier, type VerifierInput } from './http.ts';

/** The part of a `Request` / `NextRequest` read here. */
export interface RequestWithHeaders {
  headers: { get(name: string): string | null };
}

/** Options of {@link createNextAuth}. */
export interface NextAuthOptions {
  /** A `CognitoVerifier` or its config (created once, at module scope). */
  verifier: VerifierInput<CognitoClaims>;
  /**
   * Read Amplify's cookies for this app client: `CognitoIdentityServiceProvider.{clientId}.LastAuthUser`
   * names the user, `CognitoIdentityServiceProvider.{clientId}.{username}.{tokenCookie}` holds the
   * token. Without it only `Authorization: Bearer` is read.
   */
  amplifyClientId?: string;
  /** Which of Amplify's token cookies to read: `'accessToken'` (default) or `'idToken'`; match the verifier's `tokenUse`. */
  tokenCookie?: 'accessToken' | 'idToken';
  /** Rules over the claims and the request; a refusal answers 403. */
  rules?: readonly AuthzRule<CognitoClaims, RequestWithHeaders>[];
  /** Told of every refusal and failure (the client gets a fixed sentence): log here. Must not throw. */
  onError?: (error: unknown, request: RequestWithHeaders) => void;
}

/** What {@link createNextAuth} returns. */
export interface NextAuth {
  /** The verified claims of the request's token; rejects with a `CognitoJwtError`. */
  claims(request: RequestWithHeaders): Promise<CognitoClaims>;
  /** `undefined` when the request may go on, else the `Response` to answer (401, 403 or 503, JSON, client-safe). */
  guard(request: RequestWithHeaders): Promise<Response | undefined>;
}

const NEXT_OPTIONS = optionKeys<NextAuthOptions>(
  'createNextAuth() options',
  { verifier: true, amplifyClientId: true, tokenCookie: true, rules: true, onError: true },
  {
    ...BELONGS_TO_VERIFIER,
    getToken: 'the helper reads the Authorization header, then Amplify cookies (amplifyClientId)',
  },
);

const PREFIX = 'CognitoIdentityServiceProvider';

/** Every value of each cookie, by name (a name sent twice keeps both values). */
function cookiesOf(request: RequestWithHeaders): Map<string, string[]> {
  const jar = new Map<string, string[]>();
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === '') continue;
    jar.set(name, [...(jar.get(name) ?? []), value]);
  }
  return jar;
}

function one(jar: Map<string, string[]>, name: string): string | undefined {
  const values = jar.get(name) ?? [];
  if (values.length > 1)
    throw new CognitoJwtError('ERR_TOKEN_AMBIGUOUS', `the cookie ${name} is sent ${values.length} times`);
  return values[0];
}

function decodeCookie(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new CognitoJwtError('ERR_TOKEN_MALFORMED', 'a cookie value is not valid percent-encoding');
  }
}

/**
 * The token of a request: `Authorization: Bearer` first; else, with `clientId`, Amplify's cookies
 * (the user named by `LastAuthUser`, whose name is URL-encoded in the token cookie's name).
 * `undefined` when there is none.
 *
 * ```ts
 * amplifyToken(request, 'app-client-id'); // the access token of the LastAuthUser, or undefined
 * ```
 */
export function amplifyToken(
  request: RequestWithHeaders,
  clientId: string | undefined,
  tokenCookie: 'accessToken' | 'idToken' = 'accessToken',
): string | undefined {
  const header = bearerToken(request.headers.get('authorization'));
  if (header !== undefined || clientId === undefined) return header;
  const jar = cookiesOf(request);
  const user = one(jar, `${PREFIX}.${clientId}.LastAuthUser`);
  if (user === undefined || user === '') return undefined;
  const username = decodeCookie(user);
  const value = one(jar, `${PREFIX}.${clientId}.${encodeURIComponent(username)}.${tokenCookie}`);
  return value === undefined || value === '' ? undefined : decodeCookie(value);
}

function response(error: CognitoJwtError): Response {
  const status = error.status === 401 || error.status === 403 || error.status === 503 ? error.status : 500;
  const message = clientMessage(error.code);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  if (status === 401 || status === 403) {
    headers['www-authenticate'] = bearerChallenge({
      error: status === 401 ? 'invalid_token' : 'insufficient_scope',
      description: message,
    });
  }
  return new Response(JSON.stringify({ code: error.code, message }), { status, headers });
}

/**
 * A token check for Next.js `proxy.ts` (Next 16, Node) and edge `middleware.ts` (Web Crypto).
 * `guard(request)` answers `undefined` to go on, or the `Response` to send: 401 for a missing,
 * malformed, expired or otherwise bad token, 403 when a rule refuses, 503 when keys cannot be
 * fetched; each with a fixed sentence that names no configuration. An expired token is refused
 * even with a valid signature (Amplify's own server-side check accepts it).
 *
 * ```ts
 * // proxy.ts
 * import { NextResponse, type NextRequest } from 'next/server';
 * import { createNextAuth } from 'cognito-jwt/nextjs';
 *
 * const auth = createNextAuth({
 *   verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'access' },
 *   amplifyClientId: 'app-client-id',
 * });
 * export async function proxy(request: NextRequest) {
 *   return (await auth.guard(request)) ?? NextResponse.next();
 * }
 * export const config = { matcher: ['/api/:path*', '/account/:path*'] };
 * ```
 */
export function createNextAuth(options: NextAuthOptions): NextAuth {
  const where = 'createNextAuth()';
  if (options === undefined) throw new ConfigError(`${where} needs an options object`);
  checkOptions(NEXT_OPTIONS, options);
  const rules = checkDoorParts(where, options.rules, { onError: options.onError }) as readonly AuthzRule<
    CognitoClaims,
    RequestWithHeaders
  >[];
  const { amplifyClientId, tokenCookie = 'accessToken' } = options;
  if (
    amplifyClientId !== undefined &&
    (typeof amplifyClientId !== 'string' || !/^[\w+]{1,128}$/.test(amplifyClientId))
  ) {
    throw new ConfigError(`${where}: amplifyClientId must be an app client id`);
  }
  if (tokenCookie !== 'accessToken' && tokenCookie !== 'idToken') {
    throw new ConfigError(`${where}: tokenCookie must be 'accessToken' or 'idToken'`);
  }
  const verifier = toVerifier(options.verifier, where);
  const check = (request: RequestWithHeaders) =>
    decide(
      verifier,
      rules,
      () => amplifyToken(request, amplifyClientId, tokenCookie),
      request,
      options.onError,
    );
  return {
    async claims(request) {
      const decision = await check(request);
      if (!decision.allowed) throw decision.error;
      return decision.claims;
    },
    async guard(request) {
      const decision = await check(request);
      return decision.allowed ? undefined : response(decision.error);
    },
  };
}
