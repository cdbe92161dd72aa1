/**
 * `cognito-jwt/hono`: middleware for Hono 4. Hono itself is only needed for its types; responses
 * are plain Fetch API `Response`s.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AuthClaims } from '../authz/request-claims.ts';
import { type AuthzRule, checkRules } from '../authz/rule.ts';
import type { RequestContext } from '../keys/jwks-cache.ts';
import { createHttpAuth, type HttpAuth, type HttpAuthOptions } from './http.ts';
import { asksForMetadata, describedResource } from './protected-resource.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The verified claims, set by `cognitoAuth()`; `undefined` on anonymous requests. */
    auth: AuthClaims | undefined;
  }
}

export { cognitoSignIn, type HonoSignInOptions } from './hono-sign-in.ts';
export * from './http-exports.ts';

/** Options of {@link cognitoAuth}; `getToken` receives the Hono context (e.g. `getCookie(c, 'session')`). */
export type HonoAuthOptions = HttpAuthOptions<Context>;

/** A rule for a Hono guard: it sees the verified claims and the context. */
export type HonoRule = AuthzRule<AuthClaims, Context>;

/** The middleware, with guards that share its options. */
export interface CognitoHonoMiddleware extends MiddlewareHandler {
  /**
   * A per-route guard: every rule must pass (403 otherwise); a request that the middleware did not
   * authenticate gets 401. With no rules it only requires a verified token.
   */
  authorize(...rules: HonoRule[]): MiddlewareHandler;
  /**
   * With `protectedResource`: a middleware that answers `GET` and `HEAD` on
   * `/.well-known/oauth-protected-resource{path}` with the metadata document and passes every other
   * request on. Register it before any middleware that would refuse a request without a token.
   */
  resourceMetadata(): MiddlewareHandler;
}

/** The error as a JSON `Response`, or thrown on to `app.onError` (forwarding on, or not ours). */
function fail(core: HttpAuth<Context>, error: unknown, c: Context): Response {
  const outcome = core.respond(error, c);
  if (!('answer' in outcome)) throw outcome.forward;
  const { answer } = outcome;
  return Response.json(answer.body, { status: answer.status, headers: answer.headers });
}

/**
 * The request's `ExecutionContext` (Workers, service workers), for its `waitUntil`. Hono's getter
 * throws where the runtime gave none (Node, Bun, Deno), and a throw costs microseconds per request:
 * once a request of this middleware has none while none ever had one, it stops asking.
 */
function executionContextOf(): (c: Context) => RequestContext | undefined {
  let seen: 'unknown' | 'yes' | 'no' = 'unknown';
  return (c) => {
    if (seen === 'no') return undefined;
    try {
      const context = c.executionCtx;
      seen = 'yes';
      return context;
    } catch {
      if (seen === 'unknown') seen = 'no';
      return undefined;
    }
  };
}

/**
 * Verify the bearer token and set the claims as `c.get('auth')`. Answers 401 (with
 * `WWW-Authenticate: Bearer`), 403 or 503 with `{ code, message }` as JSON, where `message` is
 * the fixed sentence `clientMessage(code)` (log the detail through `onError`);
 * `forwardErrors: true` throws the error to `app.onError` instead.
 *
 * ```ts
 * import { Hono } from 'hono';
 * import { requireGroups } from 'cognito-jwt';
 * import { cognitoAuth } from 'cognito-jwt/hono';
 *
 * const auth = cognitoAuth({ verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'id' } });
 * const app = new Hono();
 * app.use('/api/*', auth);
 * app.get('/api/me', (c) => c.json({ sub: c.get('auth')?.sub }));
 * app.get('/api/admin', auth.authorize(requireGroups('admins')), (c) => c.text('hello admin'));
 * ```
 *
 * An MCP server (or any API for OAuth clients) publishes its protected-resource metadata:
 *
 * ```ts
 * const mcpAuth = cognitoAuth({
 *   verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'mcp-client-id', tokenUse: 'access' },
 *   protectedResource: { resource: 'https://api.example.com/mcp', scopes: ['mcp/tools'] },
 * });
 * app.use(mcpAuth.resourceMetadata()); // GET /.well-known/oauth-protected-resource/mcp
 * app.post('/mcp', mcpAuth, mcpAuth.authorize(requireScopes('mcp/tools')), handleMcp);
 * ```
 */
export function cognitoAuth(options: HonoAuthOptions): CognitoHonoMiddleware {
  const core = createHttpAuth<Context>(
    options,
    (c, name) => c.req.header(name),
    'cognitoAuth()',
    undefined,
    executionContextOf(),
  );
  const middleware: MiddlewareHandler = async (c, next) => {
    try {
      c.set('auth', await core.authenticate(c));
    } catch (error) {
      return fail(core, error, c);
    }
    return next();
  };
  return Object.assign(middleware, {
    authorize(...rules: HonoRule[]): MiddlewareHandler {
      checkRules(rules, 'authorize()');
      return async (c, next) => {
        try {
          await core.authorize(c.get('auth'), rules, c);
        } catch (error) {
          return fail(core, error, c);
        }
        return next();
      };
    },
    resourceMetadata(): MiddlewareHandler {
      const described = describedResource(core.protectedResource, 'cognitoAuth()');
      const { status, headers, body } = described.response;
      return async (c, next) => {
        if (!asksForMetadata(described, c.req.method, c.req.path)) return next();
        return new Response(c.req.method === 'HEAD' ? null : body, { status, headers });
      };
    },
  });
}
