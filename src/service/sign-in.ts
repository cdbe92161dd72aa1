/**
 * Browser sign-in through the service, the way oauth2-proxy does it: `/oauth2/start`,
 * `/oauth2/callback` and `/oauth2/sign_out` answered by `cognito-jwt/session`'s `CognitoSession`,
 * and an authenticator that reads the session cookie on the auth endpoints when the request
 * carries no bearer token. The session's reads use the service's own verifier, so the route rules,
 * step-up rules and the revocation list apply to sessions as to bearer tokens.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { httpErrorResponse } from '../adapters/http.ts';
import type { CognitoJwtError } from '../errors.ts';
import type { RevocationList } from '../revocation/list.ts';
import { SessionError } from '../session/errors.ts';
import { openRedisSessionStore } from '../session/redis.ts';
import { CognitoSession, type SessionRequest } from '../session/session.ts';
import type { SessionStore } from '../session/store.ts';
import type { CognitoClaims } from '../token/claims.ts';
import { CognitoVerifier } from '../verify/verifier.ts';
import type { ServiceSessionSettings } from './config.ts';
import type { Authenticate, TokenVerifier } from './decide.ts';
import type { Logger } from './log.ts';

/** The service's sign-in: the session, and its store to close. */
export interface ServiceSignIn {
  readonly session: CognitoSession;
  /** Answer `/oauth2/*` requests; `false` when the path is none of them. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
  close(): Promise<void>;
}

/** A {@link SessionRequest} from Node's request: a header sent twice counts once, Cookie is joined. */
function sessionRequest(
  method: string,
  url: string,
  request: Pick<IncomingMessage, 'headers'>,
): SessionRequest {
  return {
    method,
    url,
    header(name) {
      const value = request.headers[name];
      if (value === undefined || typeof value === 'string') return value;
      return name === 'cookie' ? value.join('; ') : value[0];
    },
  };
}

/**
 * The return path of `/oauth2/start?rd=…`. nginx cannot encode `$request_uri`, so `rd` as the first
 * parameter takes the rest of the query as it is (`rd=/page?a=1&b=2`); an encoded one is decoded.
 * `CognitoSession.checkReturnTo` then refuses anything that is not a path of the app.
 */
function returnPath(query: string): string {
  if (!query.startsWith('rd=')) return new URLSearchParams(query).get('rd') ?? '/';
  const raw = query.slice(3);
  if (!/^%2F/i.test(raw)) return raw === '' ? '/' : raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Build the session from the checked settings: the service's verifier for reads, an ID-token
 * verifier of the sign-in client's pool, the revocation list for sign-out, Redis when configured.
 *
 * ```ts
 * const signIn = await openSignIn(settings.session, verifier, revocation?.list, logger);
 * ```
 */
export async function openSignIn(
  settings: ServiceSessionSettings,
  verifier: TokenVerifier,
  revocationList: RevocationList | undefined,
  logger: Logger,
  fetchOverride?: typeof fetch,
): Promise<ServiceSignIn> {
  const store: SessionStore | undefined =
    settings.store === undefined ? undefined : await openRedisSessionStore(settings.store);
  const { groups: _groups, scopes: _scopes, ...pool } = settings.pool;
  const fetchOption = fetchOverride === undefined ? {} : { fetch: fetchOverride };
  const session = new CognitoSession({
    ...settings.options,
    // checkRevoked: a repeat read of the same cookie asks only the revocation checks again.
    verifier: {
      verify: async (token: string) => verifier.verify(token),
      checkRevoked: verifier.checkRevoked,
    },
    idTokenVerifier: new CognitoVerifier(
      { ...pool, clientId: settings.options.clientId, tokenUse: 'id' },
      fetchOption,
    ) as unknown as { verify(token: string): Promise<CognitoClaims> },
    sessionToken: settings.pool.tokenUse === 'id' ? 'id' : 'access',
    ...(revocationList === undefined ? {} : { revocationList }),
    ...(store === undefined ? {} : { store }),
    ...fetchOption,
  });
  const { paths } = session;

  const answer = (
    response: ServerResponse,
    status: number,
    headers: Record<string, string>,
    cookies: readonly string[],
    body?: string,
  ) => {
    response.writeHead(status, cookies.length === 0 ? headers : { ...headers, 'set-cookie': [...cookies] });
    response.end(body);
  };

  return {
    session,
    async handle(request, response) {
      const url = request.url ?? '/';
      const path = url.split('?', 1)[0];
      const method = (request.method ?? 'GET').toUpperCase();
      if (path !== paths.signIn && path !== paths.callback && path !== paths.signOut) return false;
      const asked = sessionRequest(method, url, request);
      try {
        if (path === paths.signIn && (method === 'GET' || method === 'HEAD')) {
          const returnTo = returnPath(url.slice(path.length + 1));
          const started = await session.signIn(asked, { returnTo });
          answer(response, started.status, started.headers, started.cookies);
        } else if (path === paths.callback && method === 'GET') {
          const done = await session.callback(asked);
          answer(response, done.status, done.headers, done.cookies);
        } else if (path === paths.signOut) {
          const { errors, ...done } = await session.signOut(asked);
          for (const error of errors)
            logger.log('warn', 'sign-out step failed', {
              detail: (error as Error)?.message ?? String(error),
            });
          answer(response, done.status, done.headers, done.cookies);
        } else {
          answer(
            response,
            405,
            { allow: path === paths.signOut ? 'POST' : 'GET', 'content-type': 'application/json' },
            [],
            '{"code":"METHOD_NOT_ALLOWED"}',
          );
        }
      } catch (error) {
        const refused = httpErrorResponse(error);
        if (refused === undefined) throw error;
        logger.log('info', 'sign-in refused', {
          path,
          code: (error as CognitoJwtError).code,
          detail: (error as Error).message,
        });
        // The client is told the fixed sentence of the code, never the detail.
        answer(
          response,
          refused.status,
          { ...refused.headers, 'content-type': 'application/json', 'cache-control': 'no-store' },
          error instanceof SessionError ? error.cookies : [],
          JSON.stringify(refused.body),
        );
      }
      return true;
    },
    close: async () => {
      await store?.close();
    },
  };
}

/**
 * The auth endpoints' authenticator with sign-in: a bearer token when the request carries an
 * `Authorization` header, else the session cookie when it carries one, else `fallback` (a token
 * cookie, or `ERR_TOKEN_MISSING`). Cookies the session sets (a refresh in cookie mode) go on the
 * answer through `context.cookies`.
 *
 * ```ts
 * const authenticate = sessionAuthenticator(signIn.session, tokenAuthenticator(verifier, undefined));
 * ```
 */
export function sessionAuthenticator(session: CognitoSession, fallback: Authenticate): Authenticate {
  return (headers, rawHeaders, context) => {
    if (headers.authorization !== undefined || context === undefined)
      return fallback(headers, rawHeaders, context);
    const asked = sessionRequest(context.method, context.uri, { headers });
    if (!session.hasSessionCookie(asked)) return fallback(headers, rawHeaders, context);
    return session.read(asked).then((read) => {
      context.cookies.push(...read.cookies);
      return read.claims;
    });
  };
}
