/**
 * `cognito-jwt/fastify`: a Fastify 5 plugin, wrapped with `fastify-plugin` so its decorators and
 * hook reach the scope that registers it. Fastify itself is only needed for its types.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, RegisterOptions } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { AuthClaims } from '../authz/request-claims.ts';
import { type AuthzRule, checkRules } from '../authz/rule.ts';
import { ConfigError } from '../errors.ts';
import { checkBoolean } from '../options.ts';
import {
  createHttpAuth,
  HTTP_AUTH_OPTION_NAMES,
  type HttpAuth,
  type HttpAuthOptions,
  httpAuthOptionKeys,
} from './http.ts';

/** A hook that authenticates or guards a request; use it as `onRequest` or `preHandler`. */
export type CognitoHook = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/** What the plugin adds to the Fastify instance, as `fastify.cognito`. */
export interface CognitoFastify {
  /** Verifies the token and sets `request.auth`; the plugin runs it on every request unless `global: false`. */
  readonly authenticate: CognitoHook;
  /**
   * A per-route guard: every rule must pass (403 otherwise); a request without verified claims gets
   * 401. With no rules it only requires a verified token.
   */
  authorize(...rules: FastifyRule[]): CognitoHook;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified claims, set by the cognito-jwt plugin; `null` on anonymous requests. */
    auth: AuthClaims | null;
  }
  interface FastifyInstance {
    /** Hooks of the cognito-jwt plugin. */
    cognito: CognitoFastify;
  }
}

export { cognitoSignIn, type FastifySignInOptions } from './fastify-sign-in.ts';
export * from './http-exports.ts';

/** A rule for a Fastify guard: it sees the verified claims and the request. */
export type FastifyRule = AuthzRule<AuthClaims, FastifyRequest>;

/** Options of the {@link cognitoJwt} plugin; `getToken` receives the Fastify request. */
export interface FastifyAuthOptions extends HttpAuthOptions<FastifyRequest> {
  /** Authenticate every request of the registering scope in an `onRequest` hook. Default `true`. */
  global?: boolean;
}

/** Answer the error (an async hook ends the request by returning the reply) or rethrow it to Fastify. */
function fail(
  core: HttpAuth<FastifyRequest>,
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const outcome = core.respond(error, request);
  if (!('answer' in outcome)) throw outcome.forward;
  const { answer } = outcome;
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}

// Fastify hands the plugin its register options too (`prefix`, `logLevel`, `logSerializers`).
const OPTION_KEYS = httpAuthOptionKeys<
  FastifyAuthOptions & Pick<RegisterOptions, 'prefix' | 'logLevel' | 'logSerializers'>
>('the cognito-jwt plugin', {
  ...HTTP_AUTH_OPTION_NAMES,
  global: true,
  prefix: true,
  logLevel: true,
  logSerializers: true,
});

const plugin: FastifyPluginAsync<FastifyAuthOptions> = async (fastify, options) => {
  const core = createHttpAuth<FastifyRequest>(
    options,
    (request, name) => request.headers[name],
    'the cognito-jwt plugin',
    OPTION_KEYS,
  );
  const { global = true } = options;
  checkBoolean('the cognito-jwt plugin: global', global);
  const described = core.protectedResource;
  if (described !== undefined && fastify.prefix !== '') {
    throw new ConfigError(
      `the cognito-jwt plugin: with protectedResource, register it where the prefix is empty (here "${fastify.prefix}"): the metadata is served at ${described.path}`,
    );
  }

  const authenticate: CognitoHook = async (request, reply) => {
    // The metadata is public: it tells a client without a token where to get one.
    if (described !== undefined && request.routeOptions.url === described.path) return;
    try {
      request.auth = (await core.authenticate(request)) ?? null;
    } catch (error) {
      return fail(core, error, request, reply);
    }
  };
  fastify.decorateRequest('auth', null);
  fastify.decorate('cognito', {
    authenticate,
    authorize(...rules: FastifyRule[]): CognitoHook {
      checkRules(rules, 'fastify.cognito.authorize()');
      return async (request, reply) => {
        try {
          await core.authorize(request.auth, rules, request);
        } catch (error) {
          return fail(core, error, request, reply);
        }
      };
    },
  } satisfies CognitoFastify);
  if (global) fastify.addHook('onRequest', authenticate);
  if (described !== undefined) {
    const { status, headers, body } = described.response;
    fastify.get(described.path, async (_request, reply) => reply.code(status).headers(headers).send(body));
  }
};

/**
 * The plugin: verifies bearer tokens and puts the claims on `request.auth`. With
 * `protectedResource` it also serves the protected-resource metadata (RFC 9728) at
 * `/.well-known/oauth-protected-resource{path}` (register it at the root then). Answers 401 (with
 * `WWW-Authenticate: Bearer`), 403 or 503 with `{ code, message }` as JSON, where `message` is
 * the fixed sentence `clientMessage(code)` (log the detail through `onError`);
 * `forwardErrors: true` throws the error to Fastify's error handler instead (which answers with
 * the error's `status`).
 *
 * ```ts
 * import Fastify from 'fastify';
 * import { requireScopes } from 'cognito-jwt';
 * import { cognitoJwt } from 'cognito-jwt/fastify';
 *
 * const app = Fastify();
 * await app.register(cognitoJwt, { verifier: { userPoolId: 'eu-west-1_AbC123', clientId: 'app-client-id', tokenUse: 'access' } });
 * app.get('/me', async (request) => ({ sub: request.auth?.sub }));
 * app.get('/orders', { preHandler: app.cognito.authorize(requireScopes('orders/read')) }, async () => []);
 * ```
 */
export const cognitoJwt = fastifyPlugin(plugin, { fastify: '5.x', name: 'cognito-jwt' });
