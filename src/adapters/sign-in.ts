/**
 * What the Express, Fastify and Hono sign-in doors share, written once: which route a request is
 * (sign-in, callback, sign-out, a public path, an API path, a page), a bearer token before the
 * session cookie, and how a refusal answers (401 JSON on the API, a redirect to sign-in for a page).
 */
import type { AuthClaims } from '../authz/request-claims.ts';
import { ConfigError, describeValue } from '../errors.ts';
import { checkFunction, checkOptions, optionKeys } from '../options.ts';
import { SessionError } from '../session/errors.ts';
import { CognitoSession, type SessionRequest, type SignInOptions } from '../session/session.ts';
import { createHttpAuth, httpErrorResponse } from './http.ts';

/** Options of `cognitoSignIn` in every framework; `Request` is the framework's request. */
export interface SignInDoorOptions<Request> {
  /** The session: its routes are mounted, its reads guard the app. */
  session: CognitoSession;
  /**
   * Path prefixes of the API: a request there without a valid session (or bearer token) answers
   * 401 JSON; anywhere else a page request (GET or HEAD) is redirected to sign-in. Default: none.
   */
  apiPaths?: readonly string[];
  /** Path prefixes that need no sign-in at all (a landing page, health checks). Default: none. */
  publicPaths?: readonly string[];
  /** Authorize-request options for every sign-in (`identityProvider`, `scopes`, `lang`, ...). */
  signInOptions?: Omit<SignInOptions, 'returnTo'>;
  /** Told of every error the door meets (and of sign-out steps that failed), with the request. */
  onError?: (error: unknown, request: Request) => void;
}

const DOOR_KEYS = optionKeys<SignInDoorOptions<unknown>>(
  'cognitoSignIn options',
  { session: true, apiPaths: true, publicPaths: true, signInOptions: true, onError: true },
  {
    verifier: 'it belongs to the session: new CognitoSession({ verifier, ... })',
    paths: "the routes are the session's: new CognitoSession({ paths: { signIn, callback, signOut } })",
  },
);

/** What the door decided: answer now, or let the request through with these claims and cookies. */
export type DoorOutcome =
  | {
      readonly answer: {
        readonly status: number;
        readonly headers: Readonly<Record<string, string>>;
        readonly cookies: readonly string[];
        readonly body: string | undefined;
      };
    }
  | { readonly next: { readonly claims: AuthClaims | undefined; readonly cookies: readonly string[] } };

/** The framework-free door. */
export interface SignInDoor<Request> {
  handle(request: Request, sessionRequest: SessionRequest): Promise<DoorOutcome>;
}

function prefixes(name: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.startsWith('/'))) {
    throw new ConfigError(`${name} must be a list of paths that start with /, got ${describeValue(value)}`);
  }
  return value.map((item: string) => (item.length > 1 && item.endsWith('/') ? item.slice(0, -1) : item));
}

function under(path: string, list: readonly string[]): boolean {
  return list.some((prefix) => prefix === '/' || path === prefix || path.startsWith(`${prefix}/`));
}

function pathOf(url: string): string {
  const start = url.startsWith('/') ? 0 : url.indexOf('/', url.indexOf('//') + 2);
  const end = url.indexOf('?', start);
  return start === -1 ? '/' : url.slice(start, end === -1 ? url.length : end);
}

/** A path that could mean another one to the router (dots, encodings, doubled or back slashes) is never public. */
function plainPath(path: string): boolean {
  return !/%|\/\.|\/\/|\\/.test(path);
}

/** Build the door; every option is checked now. */
export function createSignInDoor<Request>(
  options: SignInDoorOptions<Request>,
  readHeader: (request: Request, name: string) => string | readonly string[] | undefined,
): SignInDoor<Request> {
  if (options === undefined) throw new ConfigError('cognitoSignIn needs its options: { session, apiPaths }');
  checkOptions(DOOR_KEYS, options);
  const { session, onError, signInOptions = {} } = options;
  if (!(session instanceof CognitoSession)) {
    throw new ConfigError(`cognitoSignIn: session must be a CognitoSession, got ${describeValue(session)}`);
  }
  if (onError !== undefined) checkFunction('cognitoSignIn: onError', onError);
  if ('returnTo' in signInOptions)
    throw new ConfigError('signInOptions.returnTo comes from each request (?return_to=)');
  const apiPaths = prefixes('apiPaths', options.apiPaths);
  const publicPaths = prefixes('publicPaths', options.publicPaths);
  const bearer = createHttpAuth<Request>({ verifier: session.verifier }, readHeader, 'cognitoSignIn()');
  const { paths } = session;

  const refuse = (
    error: unknown,
    request: Request,
    api: boolean,
    sessionRequest: SessionRequest,
    path: string,
  ): DoorOutcome => {
    onError?.(error, request);
    const cookies = error instanceof SessionError ? error.cookies : [];
    const method = sessionRequest.method.toUpperCase();
    const answer = httpErrorResponse(error);
    if (answer === undefined) throw error;
    if (!api && answer.status === 401 && (method === 'GET' || method === 'HEAD')) {
      const at = sessionRequest.url.indexOf('?');
      const returnTo = at === -1 ? path : `${path}${sessionRequest.url.slice(at)}`;
      return {
        answer: {
          status: 303,
          headers: {
            location: `${paths.signIn}?${new URLSearchParams({ return_to: returnTo })}`,
            'cache-control': 'no-store',
          },
          cookies,
          body: undefined,
        },
      };
    }
    return {
      answer: {
        status: answer.status,
        headers: { ...answer.headers, 'content-type': 'application/json', 'cache-control': 'no-store' },
        cookies,
        body: JSON.stringify(answer.body),
      },
    };
  };

  return {
    async handle(request, sessionRequest) {
      const path = pathOf(sessionRequest.url);
      const method = sessionRequest.method.toUpperCase();
      // A refused sign-in route answers with its error: redirecting it to sign-in could loop.
      const route = path === paths.signIn || path === paths.callback || path === paths.signOut;
      const api = route || under(path, apiPaths);
      try {
        if (path === paths.signIn && (method === 'GET' || method === 'HEAD')) {
          const at = sessionRequest.url.indexOf('?');
          const returnTo =
            new URLSearchParams(at === -1 ? '' : sessionRequest.url.slice(at + 1)).get('return_to') ?? '/';
          const answer = await session.signIn(sessionRequest, { ...signInOptions, returnTo });
          return { answer: { ...answer, body: undefined } };
        }
        if (path === paths.callback && method === 'GET') {
          return { answer: { ...(await session.callback(sessionRequest)), body: undefined } };
        }
        if (path === paths.signOut) {
          const { errors, ...answer } = await session.signOut(sessionRequest);
          for (const error of errors) onError?.(error, request);
          return { answer: { ...answer, body: undefined } };
        }
        if (publicPaths.length > 0 && plainPath(path) && under(path, publicPaths)) {
          return { next: { claims: undefined, cookies: [] } };
        }
        if (readHeader(request, 'authorization') !== undefined) {
          return { next: { claims: await bearer.authenticate(request), cookies: [] } };
        }
        const read = await session.read<AuthClaims>(sessionRequest);
        return { next: { claims: read.claims, cookies: read.cookies } };
      } catch (error) {
        return refuse(error, request, api, sessionRequest, path);
      }
    },
  };
}

/** A {@link SessionRequest} from a method, a URL and a header reader that may return lists. */
export function sessionRequestOf<Request>(
  request: Request,
  method: string,
  url: string,
  readHeader: (request: Request, name: string) => string | readonly string[] | undefined,
): SessionRequest {
  return {
    method,
    url,
    header(name) {
      const value = readHeader(request, name);
      if (value === undefined || typeof value === 'string') return value;
      // Cookie is joined as browsers send it; any other header sent twice is ambiguous: the first is kept.
      return name === 'cookie' ? value.join('; ') : value[0];
    },
  };
}
