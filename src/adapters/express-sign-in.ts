import type { Request, RequestHandler, Response } from 'express';
import type { DoorOutcome, SignInDoorOptions } from './sign-in.ts';
import { createSignInDoor, sessionRequestOf } from './sign-in.ts';

/** Options of {@link cognitoSignIn} for Express; `onError` receives the Express request. */
export type ExpressSignInOptions = SignInDoorOptions<Request>;

const readHeader = (req: Request, name: string) => req.headers[name];

function send(res: Response, answer: Extract<DoorOutcome, { answer: unknown }>['answer']): void {
  for (const cookie of answer.cookies) res.append('set-cookie', cookie);
  res.status(answer.status).set(answer.headers);
  if (answer.body === undefined) res.end();
  else res.send(answer.body);
}

/**
 * Browser sign-in for an Express app, in one call: answers the session's routes (sign-in,
 * callback, sign-out) and guards every other request. A bearer token wins over the cookie; the
 * claims go on `req.auth`. Without a valid session a page redirects to sign-in and an API path
 * (`apiPaths`) answers 401.
 *
 * ```ts
 * import express from 'express';
 * import { cognitoSignIn } from 'cognito-jwt/express';
 * import { CognitoSession } from 'cognito-jwt/session';
 *
 * const app = express();
 * app.use(cognitoSignIn({ session: new CognitoSession({ ... }), apiPaths: ['/api'], publicPaths: ['/health'] }));
 * app.get('/api/me', (req, res) => res.json({ sub: req.auth?.sub }));
 * ```
 */
export function cognitoSignIn(options: ExpressSignInOptions): RequestHandler {
  const door = createSignInDoor<Request>(options, readHeader);
  return (req, res, next) => {
    door.handle(req, sessionRequestOf(req, req.method, req.originalUrl, readHeader)).then((outcome) => {
      if ('answer' in outcome) return send(res, outcome.answer);
      for (const cookie of outcome.next.cookies) res.append('set-cookie', cookie);
      if (outcome.next.claims) req.auth = outcome.next.claims;
      next();
    }, next);
  };
}
