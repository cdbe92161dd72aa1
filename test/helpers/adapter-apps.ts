/**
 * The suite app (routes listed in `adapter-suite.ts`) built with each framework adapter, on a
 * random loopback port. Shared by the adapter tests and the cognito-local end-to-end test.
 *
 * ```ts
 * const app = await startExpressApp({ verifier });
 * await fetch(`${app.origin}/me`, { headers: { authorization: `Bearer ${token}` } });
 * await app.close();
 * ```
 */
import { createServer, type Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { type Context, Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { cognitoAuth as expressAuth } from '../../src/adapters/express.ts';
import { cognitoJwt } from '../../src/adapters/fastify.ts';
import { cognitoAuth as honoAuth } from '../../src/adapters/hono.ts';
import {
  type AuthzRule,
  anyOf,
  CognitoJwtError,
  requireGroups,
  requirePredicate,
  requireScopes,
} from '../../src/index.ts';
import {
  cookieValue,
  describeClaims,
  listen,
  ROLES,
  type RunningApp,
  type StartApp,
  type SuiteAppOptions,
} from './adapter-suite.ts';

const OK = { ok: true };

function forwardedBody(error: unknown): { forwarded: string } {
  return { forwarded: error instanceof CognitoJwtError ? error.code : String(error) };
}

/** The suite app on Express (5 by default; pass Express 4's factory to run it there). */
export const expressSuiteApp =
  (createApp: () => Express = express): StartApp =>
  async ({ cookie, onError, ...options }) => {
    const auth = expressAuth({
      ...options,
      ...(cookie ? { getToken: (req: Request) => cookieValue(req.headers.cookie, cookie) } : {}),
      ...(onError
        ? {
            onError: (error: unknown, req: Request) => onError(error, { method: req.method, path: req.path }),
          }
        : {}),
    });
    const app = createApp();
    app.use(auth);
    app.get('/me', (req, res) => {
      res.json(describeClaims(req.auth));
    });
    app.get('/admin', auth.authorize(requireGroups('admins')), (_req, res) => {
      res.json(OK);
    });
    app.get('/orders', auth.authorize(requireScopes('orders/read')), (_req, res) => {
      res.json(OK);
    });
    app.get('/editor', auth.authorize(ROLES.requireRole('editor')), (_req, res) => {
      res.json(OK);
    });
    app.get(
      '/users/:id',
      auth.authorize(
        anyOf(
          requireGroups('admins'),
          requirePredicate((claims, req) => claims.sub === req.params.id),
        ),
      ),
      (_req, res) => {
        res.json(OK);
      },
    );
    app.get('/signed-in', auth.authorize(), (_req, res) => {
      res.json(OK);
    });
    const forwarded: ErrorRequestHandler = (error, _req, res, _next) => {
      res.status(418).json(forwardedBody(error));
    };
    app.use(forwarded);
    return listen(createServer(app));
  };

/** The suite app on Express 5. */
export const startExpressApp: StartApp = expressSuiteApp();

/** Listen a Fastify app on a random loopback port; the app is closed if that fails. */
export async function startFastify(app: ReturnType<typeof Fastify>): Promise<RunningApp> {
  try {
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    return { origin, close: () => app.close() };
  } catch (error) {
    await app.close();
    throw error;
  }
}

/** The suite app on Fastify 5. */
export const startFastifyApp: StartApp = async ({ cookie, onError, ...options }) => {
  const app = Fastify();
  app.setErrorHandler((error, _request, reply) => {
    reply.code(418).send(forwardedBody(error));
  });
  try {
    await app.register(cognitoJwt, {
      ...options,
      ...(cookie
        ? { getToken: (request: FastifyRequest) => cookieValue(request.headers.cookie, cookie) }
        : {}),
      ...(onError
        ? {
            onError: (error: unknown, request: FastifyRequest) =>
              onError(error, { method: request.method, path: new URL(request.url, 'http://x').pathname }),
          }
        : {}),
    });
  } catch (error) {
    await app.close();
    throw error;
  }
  app.get('/me', async (request) => describeClaims(request.auth));
  app.get('/admin', { preHandler: app.cognito.authorize(requireGroups('admins')) }, async () => OK);
  app.get('/orders', { preHandler: app.cognito.authorize(requireScopes('orders/read')) }, async () => OK);
  app.get('/editor', { onRequest: app.cognito.authorize(ROLES.requireRole('editor')) }, async () => OK);
  app.get(
    '/users/:id',
    {
      preHandler: app.cognito.authorize(
        anyOf(
          requireGroups('admins'),
          requirePredicate((claims, request) => claims.sub === (request.params as { id: string }).id),
        ),
      ),
    },
    async () => OK,
  );
  app.get('/signed-in', { preHandler: app.cognito.authorize() }, async () => OK);
  return startFastify(app);
};

/** Serve a Hono app through @hono/node-server on a random loopback port. */
export function serveHono(app: Hono): Promise<RunningApp> {
  return listen(createAdaptorServer({ fetch: app.fetch }) as Server);
}

/** The suite app on Hono 4. */
export const startHonoApp: StartApp = async ({ cookie, onError, ...options }) => {
  const auth = honoAuth({
    ...options,
    ...(cookie ? { getToken: (c: Context) => getCookie(c, cookie) } : {}),
    ...(onError
      ? {
          onError: (error: unknown, c: Context) => onError(error, { method: c.req.method, path: c.req.path }),
        }
      : {}),
  });
  const app = new Hono();
  app.onError((error, c) => c.json(forwardedBody(error), 418));
  app.use('*', auth);
  app.get('/me', (c) => c.json(describeClaims(c.get('auth'))));
  app.get('/admin', auth.authorize(requireGroups('admins')), (c) => c.json(OK));
  app.get('/orders', auth.authorize(requireScopes('orders/read')), (c) => c.json(OK));
  app.get('/editor', auth.authorize(ROLES.requireRole('editor')), (c) => c.json(OK));
  app.get(
    '/users/:id',
    auth.authorize(
      anyOf(
        requireGroups('admins'),
        requirePredicate((claims, c) => claims.sub === c.req.param('id')),
      ),
    ),
    (c) => c.json(OK),
  );
  app.get('/signed-in', auth.authorize(), (c) => c.json(OK));
  return serveHono(app);
};

/** Guarded routes: path → the rules of its guard (rules that need no framework type, so one table serves all). */
export type GuardTable = Readonly<Record<string, readonly AuthzRule[]>>;

/** Start an app with the middleware on every route, `GET /me` and one guarded `GET` per table entry. */
export type StartGuardedApp = (options: SuiteAppOptions, guards: GuardTable) => Promise<RunningApp>;

/** The guarded app on each framework, by name. */
export const guardedApps: Readonly<Record<'express' | 'fastify' | 'hono', StartGuardedApp>> = {
  async express(options, guards) {
    const auth = expressAuth(options as Omit<SuiteAppOptions, 'cookie' | 'onError'>);
    const app = express();
    app.use(auth);
    app.get('/me', (req, res) => {
      res.json(describeClaims(req.auth));
    });
    for (const [path, rules] of Object.entries(guards)) {
      app.get(path, auth.authorize(...rules), (_req, res) => {
        res.json(OK);
      });
    }
    return listen(createServer(app));
  },
  async fastify(options, guards) {
    const app = Fastify();
    try {
      await app.register(cognitoJwt, options as Omit<SuiteAppOptions, 'cookie' | 'onError'>);
    } catch (error) {
      await app.close();
      throw error;
    }
    app.get('/me', async (request) => describeClaims(request.auth));
    for (const [path, rules] of Object.entries(guards)) {
      app.get(path, { preHandler: app.cognito.authorize(...rules) }, async () => OK);
    }
    return startFastify(app);
  },
  async hono(options, guards) {
    const auth = honoAuth(options as Omit<SuiteAppOptions, 'cookie' | 'onError'>);
    const app = new Hono();
    app.use('*', auth);
    app.get('/me', (c) => c.json(describeClaims(c.get('auth'))));
    for (const [path, rules] of Object.entries(guards))
      app.get(path, auth.authorize(...rules), (c) => c.json(OK));
    return serveHono(app);
  },
};
