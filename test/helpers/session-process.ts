/**
 * Child-process entry: another process of the same app, for tests of what a fleet shares. It
 * builds its own session door (`cognitoSignIn` on Express, its own `CognitoSession` and verifier)
 * and its own Redis revocation list, and serves `GET /api/me` on 127.0.0.1:$PORT.
 *
 * `PORT=... REDIS_URL=... SESSION_OPTIONS='{json}' node --import tsx test/helpers/session-process.ts`
 * (SESSION_OPTIONS: the plain-data `SessionOptions`; start it with `startSessionProcess`).
 */
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { cognitoSignIn } from '../../src/adapters/express.ts';
import { RevocationList } from '../../src/revocation/index.ts';
import { CognitoSession, type SessionOptions } from '../../src/session/index.ts';
import { CognitoVerifier } from '../../src/verify/verifier.ts';
import { freePort, type ProxyProcess, startProxyProcess } from './proxy-process.ts';

const ENTRY = fileURLToPath(import.meta.url);

/** The started process, and `http://127.0.0.1:{port}` where it answers. */
export interface SessionProcess extends ProxyProcess {
  readonly origin: string;
}

/** Start the second process; `options` must be plain data (it travels as JSON). */
export async function startSessionProcess(
  options: SessionOptions,
  redisUrl: string,
): Promise<SessionProcess> {
  const port = await freePort();
  const started = await startProxyProcess(
    'the second session process',
    process.execPath,
    ['--import', 'tsx', ENTRY],
    port,
    { ...process.env, PORT: String(port), REDIS_URL: redisUrl, SESSION_OPTIONS: JSON.stringify(options) },
  );
  return { ...started, origin: `http://127.0.0.1:${port}` };
}

if (process.argv[1] === ENTRY) {
  const options = JSON.parse(process.env.SESSION_OPTIONS ?? '') as SessionOptions;
  const revocationList = new RevocationList({
    redis: { url: process.env.REDIS_URL as string },
    onUnavailable: 'reject',
  });
  await revocationList.ready;
  const session = new CognitoSession({ ...options, revocationList });
  // Keys loaded before the port opens: the test's first request needs no JWKS fetch.
  if (session.verifier instanceof CognitoVerifier) await session.verifier.hydrate();
  const app = express();
  app.use(cognitoSignIn({ session, apiPaths: ['/api'] }));
  app.get('/api/me', (req, res) => res.json({ sub: req.auth?.sub }));
  const server = createServer(app);
  server.listen(Number(process.env.PORT), '127.0.0.1');
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close();
    void revocationList.close();
  });
}
