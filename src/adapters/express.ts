/**
 * `cognito-jwt/express`: middleware for Express 5 (and 4). Express itself is only needed for its
 * types; nothing here loads it at run time.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuthClaims } from '../authz/request-claims.ts';
import { type AuthzRule, checkRules } from '../authz/rule.ts';
import { createHttpAuth, type HttpAuth, type HttpAuthOptions } from './http.ts';
import { asksForMetadata, describedResource } from './protected-resource.ts';

declare global {
  namespace Express {
    interface Request {
      /** The verified claims, set by `cognitoAuth()`; absent on anonymous requests. */
      auth?: AuthClaims;
    }
  }
}

export { cognitoSignIn, type ExpressSignInOptions } from './express-sign-in.ts';
export * from './http-exports.ts';

/** Options of {@link cognitoAuth}; `getToken` receives the Express request. */
export type ExpressAuthOptions = HttpAuthOptions<Request>;

/** A rule for an Express guard: it sees the verified claims and the request. */
export type ExpressRule = AuthzRule<AuthClaims, Request>;

/** The middleware, with guards that share its options. */
export interface CognitoExpressMiddleware extends RequestHandler {
  /**
   * A per-route guard: every rule must pass (403 otherwise); a request that the middleware did not
   * authenticate gets 401. With no rules it only requires a verified token.
   */
  authorize(...rules: ExpressRule[]): RequestHandler;
  /**
   * With `protectedResource`: a middleware that answers `GET` and `HEAD` on
   * `/.well-known/oauth-protected-resource{path}` with the metadata document and passes every other
   * request on. Mount it on the app itself (it reads `req.originalUrl`), before any middleware that
   * would refuse a request without a token.
   */
  resourceMetadata(): RequestHandler;
}

function fail(
  core: HttpAuth<Request>,
  error: unknown,
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  const outcome = core.respond(error, req);
  if ('answer' in outcome) {
    const { answer } = outcome;
    res.status(answer.status).set(answer.headers).json(answer.body);
  } else next(outcome.forward);
}

/**
 * Verify the bearer token of every request it runs on and put the claims on `req.auth`.
 * Answers 401 (missing or bad token, with `WWW-Authenticate: Bearer`), 403 (a group or scope
 * required by the verifier config or a guard is missing) or 503 (keys cannot be fetched), with
 * `{ code, message }` as JSON, where `message` is the fixed sentence `clientMessage(code)` (log
 * the detail through `onError`); `forwardErrors: true` passes the error to `next(err)` instead.
 *
 * ```ts
 * import express from 'express';
 * import { requireGroups } from 'cognito-jwt';
 * import { cognitoAuth } from 'cognito-jwt/express';
 *
 * const auth = cognitoAuth({ verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'access' } });
 * const app = express();
 * app.use('/api', auth);
 * app.get('/api/me', (req, res) => res.json({ sub: req.auth?.sub }));
 * app.delete('/api/users/:id', auth.authorize(requireGroups('admins')), (req, res) => res.sendStatus(204));
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
export function cognitoAuth(options: ExpressAuthOptions): CognitoExpressMiddleware {
  const core = createHttpAuth<Request>(options, (req, name) => req.headers[name], 'cognitoAuth()');
  const middleware: RequestHandler = (req, res, next) => {
    core.authenticate(req).then(
      (claims) => {
        if (claims) req.auth = claims;
        next();
      },
      (error: unknown) => fail(core, error, req, res, next),
    );
  };
  return Object.assign(middleware, {
    authorize(...rules: ExpressRule[]): RequestHandler {
      checkRules(rules, 'authorize()');
      return (req, res, next) => {
        core.authorize(req.auth, rules, req).then(
          () => next(),
          (error: unknown) => fail(core, error, req, res, next),
        );
      };
    },
    resourceMetadata(): RequestHandler {
      const described = describedResource(core.protectedResource, 'cognitoAuth()');
      return (req, res, next) => {
        if (!asksForMetadata(described, req.method, req.originalUrl)) return next();
        res.status(200).set(described.response.headers).send(described.response.body);
      };
    },
  });
}
