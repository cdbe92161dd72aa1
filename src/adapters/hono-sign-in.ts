import type { Context, MiddlewareHandler } from 'hono';
import type { SignInDoorOptions } from './sign-in.ts';
import { createSignInDoor, sessionRequestOf } from './sign-in.ts';

/** Options of {@link cognitoSignIn} for Hono; `onError` receives the Hono context. */
export type HonoSignInOptions = SignInDoorOptions<Context>;

const readHeader = (c: Context, name: string) => c.req.header(name);

/**
 * Browser sign-in for a Hono app, in one middleware: answers the session's routes (sign-in,
 * callback, sign-out) and guards every other request. A bearer token wins over the cookie; the
 * claims are `c.get('auth')`. Without a valid session a page redirects to sign-in and an API
 * path (`apiPaths`) answers 401.
 *
 * ```ts
 * import { Hono } from 'hono';
 * import { cognitoSignIn } from 'cognito-jwt/hono';
 *
 * const app = new Hono();
 * app.use('*', cognitoSignIn({ session, apiPaths: ['/api'] }));
 * app.get('/api/me', (c) => c.json({ sub: c.get('auth')?.sub }));
 * ```
 */
export function cognitoSignIn(options: HonoSignInOptions): MiddlewareHandler {
  const door = createSignInDoor<Context>(options, readHeader);
  return async (c, next) => {
    const url = new URL(c.req.url);
    const outcome = await door.handle(
      c,
      sessionRequestOf(c, c.req.method, `${url.pathname}${url.search}`, readHeader),
    );
    if ('answer' in outcome) {
      const { answer } = outcome;
      const headers = new Headers(answer.headers);
      for (const cookie of answer.cookies) headers.append('set-cookie', cookie);
      return new Response(answer.body ?? null, { status: answer.status, headers });
    }
    c.set('auth', outcome.next.claims);
    await next();
    for (const cookie of outcome.next.cookies) c.res.headers.append('set-cookie', cookie);
    return undefined;
  };
}
