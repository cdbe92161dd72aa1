/**
 * A Cognito-like provider and an app behind `cognitoSignIn`, wired together on loopback, for the
 * session tests: the provider knows the app's callback and sign-out URLs, the session knows the
 * provider's domain and issuer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { cognitoSignIn } from '../../src/adapters/express.ts';
import { RevocationList } from '../../src/revocation/index.ts';
import { CognitoSession, type SessionOptions } from '../../src/session/index.ts';
import {
  type CognitoProviderOptions,
  startCognitoProvider,
  type TestCognitoProvider,
} from './oidc-provider.ts';

export const SECRET = 'a-test-secret-of-more-than-32-characters-1';

export interface SessionFixture {
  readonly op: TestCognitoProvider;
  readonly session: CognitoSession;
  readonly revocations: RevocationList;
  /** `http://localhost:{port}`: what browsers (and the session) call the app. */
  readonly appOrigin: string;
  /** `http://127.0.0.1:{port}`: where it listens. */
  readonly listenOrigin: string;
  /** Moves the session's clock (not the verifier's) by this many seconds. */
  advance(seconds: number): void;
  close(): Promise<void>;
}

/** The options of a session of this provider and app (what another process would configure). */
function sessionOptionsFor(op: TestCognitoProvider, appOrigin: string): SessionOptions {
  return {
    domain: op.origin,
    clientId: op.clientId,
    clientSecret: op.clientSecret,
    verifier: { userPoolId: op.userPoolId, clientId: op.clientId, tokenUse: 'access', issuer: op.issuer },
    appOrigin,
    secrets: [SECRET],
    insecureLocalhost: true,
  };
}

/** Another process's session for the fixture's provider and app: shares nothing unless told (`overrides`). */
export function otherSession(
  fixture: SessionFixture,
  overrides: Partial<SessionOptions> = {},
): CognitoSession {
  return new CognitoSession({ ...sessionOptionsFor(fixture.op, fixture.appOrigin), ...overrides });
}

/** Start the provider and an Express app: `/` and `/page` are pages, `/api/*` the API, `/health` public. */
export async function startSessionApp(
  options: {
    session?: Partial<SessionOptions>;
    provider?: Partial<CognitoProviderOptions>;
    app?: (app: express.Express) => void;
  } = {},
): Promise<SessionFixture> {
  let handler: Server['listeners'] extends never ? never : ((req: never, res: never) => void) | undefined;
  const server = createServer((req, res) =>
    (handler as unknown as (a: typeof req, b: typeof res) => void)(req, res),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const appOrigin = `http://localhost:${port}`;
  const op = await startCognitoProvider({
    callbackUrls: [`${appOrigin}/auth/callback`],
    signOutUrls: [`${appOrigin}/`],
    ...options.provider,
  });
  let offset = 0;
  const revocations = new RevocationList({ store: 'memory' });
  const session = new CognitoSession({
    ...sessionOptionsFor(op, appOrigin),
    revocationList: revocations,
    clock: () => Date.now() + offset * 1000,
    ...options.session,
  });
  const app = express();
  app.use(cognitoSignIn({ session, apiPaths: ['/api'], publicPaths: ['/health'] }));
  app.get('/health', (_req, res) => res.send('ok'));
  app.get('/', (req, res) => res.send(`home of ${req.auth?.sub}`));
  app.get('/page', (req, res) => res.send(`page of ${req.auth?.sub}`));
  app.get('/api/me', (req, res) =>
    res.json({ sub: req.auth?.sub, groups: req.auth?.['cognito:groups'] ?? [] }),
  );
  app.post('/api/orders', (req, res) => res.status(201).json({ by: req.auth?.sub }));
  options.app?.(app);
  handler = app as never;
  return {
    op,
    session,
    revocations,
    appOrigin,
    listenOrigin: `http://127.0.0.1:${port}`,
    advance(seconds) {
      offset += seconds;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await op.close();
      await revocations.close();
    },
  };
}
