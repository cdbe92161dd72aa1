import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { DoorOutcome, SignInDoorOptions } from './sign-in.ts';
import { createSignInDoor, sessionRequestOf } from './sign-in.ts';

/** Options of the {@link cognitoSignIn} plugin for Fastify; `onError` receives the Fastify request. */
export type FastifySignInOptions = SignInDoorOptions<FastifyRequest>;

const readHeader = (request: FastifyRequest, name: string) => request.headers[name];

function send(
  reply: FastifyReply,
  answer: Extract<DoorOutcome, { answer: unknown }>['answer'],
): FastifyReply {
  for (const cookie of answer.cookies) reply.header('set-cookie', cookie);
  reply.code(answer.status).headers(answer.headers);
  return answer.body === undefined ? reply.send() : reply.send(answer.body);
}

const plugin: FastifyPluginAsync<FastifySignInOptions> = async (fastify, options) => {
  const {
    prefix: _prefix,
    logLevel: _logLevel,
    logSerializers: _logSerializers,
    ...own
  } = options as FastifySignInOptions & {
    prefix?: unknown;
    logLevel?: unknown;
    logSerializers?: unknown;
  };
  const door = createSignInDoor<FastifyRequest>(own, readHeader);
  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const outcome = await door.handle(
      request,
      sessionRequestOf(request, request.method, request.url, readHeader),
    );
    if ('answer' in outcome) return send(reply, outcome.answer);
    for (const cookie of outcome.next.cookies) reply.header('set-cookie', cookie);
    request.auth = outcome.next.claims ?? null;
    return undefined;
  };
  const { paths } = own.session;
  // The routes exist so Fastify does not answer 404 before the hook; the hook answers them.
  const answered = async (_request: FastifyRequest, reply: FastifyReply) => reply;
  fastify.get(paths.signIn, answered);
  fastify.get(paths.callback, answered);
  fastify.post(paths.signOut, answered);
  if (!fastify.hasRequestDecorator('auth')) fastify.decorateRequest('auth', null);
  fastify.addHook('onRequest', handle);
};

/**
 * Browser sign-in for a Fastify app, in one registration: the session's routes (sign-in,
 * callback, sign-out) and an `onRequest` guard on every other request. A bearer token wins over
 * the cookie; the claims go on `request.auth`. Without a valid session a page redirects to sign-in
 * and an API path (`apiPaths`) answers 401.
 *
 * ```ts
 * import Fastify from 'fastify';
 * import { cognitoSignIn } from 'cognito-jwt/fastify';
 *
 * const app = Fastify();
 * await app.register(cognitoSignIn, { session, apiPaths: ['/api'] });
 * app.get('/api/me', async (request) => ({ sub: request.auth?.sub }));
 * ```
 */
export const cognitoSignIn = fastifyPlugin(plugin, { fastify: '5.x', name: 'cognito-jwt-sign-in' });
