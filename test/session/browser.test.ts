/**
 * A real browser through the whole sign-in: Debian's chromium, driven by playwright-core, against
 * an Express app served over TLS on loopback. The certificate comes from a test CA made here with
 * openssl, and the CA is installed in the NSS database of the browser's own HOME (certutil), so
 * nothing is ignored: `Secure` and `__Host-` cookies are tested as shipped, without the
 * development switch. The provider is the Cognito-like oidc-provider (plain http on loopback).
 * After sign-out the old cookie is refused by this app and by a second process of the app, with
 * its own session door and its own mirror of the same Redis revocation list.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import express from 'express';
import { cognitoSignIn } from '../../src/adapters/express.ts';
import { RevocationList } from '../../src/revocation/index.ts';
import { CognitoSession, type SessionOptions } from '../../src/session/index.ts';
import { chromiumAvailable, launchChromium } from '../helpers/chromium.ts';
import { startCognitoProvider, type TestCognitoProvider } from '../helpers/oidc-provider.ts';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.ts';
import { type SessionProcess, startSessionProcess } from '../helpers/session-process.ts';

const SECRET = 'browser-test-secret-of-more-than-32-characters';
const TOKEN_TTL = 8;

const available = chromiumAvailable;
const dir = mkdtempSync(join(tmpdir(), 'cognito-jwt-browser-'));
let redis: RedisServer;
let op: TestCognitoProvider;
let appOrigin: string;
let closeApp: () => Promise<void>;
let list: RevocationList;
let secondProcess: SessionProcess;
let ca: string;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA, and a certificate for localhost and 127.0.0.1 signed by it. */
function makeCertificates(): { key: string; cert: string; ca: string } {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=cognito-jwt test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  );
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return { key: read('server.key'), cert: read('server.crt'), ca: read('ca.crt') };
}

/** A GET from Node, trusting the test CA, with a given Cookie header: to the app, or to `origin`. */
function get(path: string, cookie: string, origin = appOrigin): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, origin);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(url, { ca, headers: { cookie } }, (response) => {
      let body = '';
      response.on('data', (chunk) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

before(async () => {
  if (!available) return;
  const tls = makeCertificates();
  ca = tls.ca;
  redis = await startRedisServer();
  const appServer = createHttpsServer({ key: tls.key, cert: tls.cert });
  await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
  appOrigin = `https://localhost:${(appServer.address() as AddressInfo).port}`;
  op = await startCognitoProvider({
    callbackUrls: [`${appOrigin}/auth/callback`],
    signOutUrls: [`${appOrigin}/signed-out`],
    tokenTtlSeconds: TOKEN_TTL,
  });
  list = new RevocationList({ redis: { url: redis.url }, onUnavailable: 'reject' });
  const sessionOptions: SessionOptions = {
    domain: op.origin,
    clientId: op.clientId,
    clientSecret: op.clientSecret,
    verifier: { userPoolId: op.userPoolId, clientId: op.clientId, tokenUse: 'access', issuer: op.issuer },
    appOrigin,
    secrets: [SECRET],
    logoutUri: `${appOrigin}/signed-out`,
  };
  const session = new CognitoSession({ ...sessionOptions, revocationList: list });
  const app = express();
  app.use(cognitoSignIn({ session, apiPaths: ['/api'], publicPaths: ['/signed-out'] }));
  app.get('/signed-out', (_req, res) => res.send('<p id="bye">signed out</p>'));
  app.get('/page', (req, res) =>
    res.send(
      `<p id="who">${req.auth?.sub}</p><form method="post" action="/auth/sign-out"><button id="out">Sign out</button></form>`,
    ),
  );
  app.get('/api/me', (req, res) => res.json({ sub: req.auth?.sub, exp: req.auth?.exp }));
  app.post('/api/orders', (req, res) => res.status(201).json({ by: req.auth?.sub }));
  appServer.on('request', app);
  // Started before anyone signs out: the revocation must reach it through Redis, not at its start.
  secondProcess = await startSessionProcess(sessionOptions, redis.url);
  await list.ready;
  closeApp = async () => {
    appServer.closeAllConnections();
    await new Promise<void>((resolve) => appServer.close(() => resolve()));
  };
});

after(async () => {
  if (!available) return;
  await closeApp();
  await secondProcess.stop();
  await op.close();
  await list.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('chromium signs in over TLS, reads a page and the API, lives past token expiry, signs out; the old cookie is refused here and in a second process', {
  skip: !available && 'chromium, certutil or openssl missing',
  timeout: 60_000,
}, async () => {
  const context = await launchChromium(dir, join(dir, 'ca.crt'));
  try {
    const page = await context.newPage();
    op.signInAs({ sub: 'browser-user', groups: ['users'], email: 'b@example.com' });
    await page.goto(`${appOrigin}/page`);
    assert.equal(await page.textContent('#who'), 'browser-user');
    const cookies = await context.cookies(appOrigin);
    const session = cookies.filter((cookie) => cookie.name.startsWith('__Host-session.'));
    assert.ok(session.length >= 1);
    for (const cookie of session) {
      assert.equal(cookie.secure, true);
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Lax');
      assert.equal(cookie.path, '/');
    }
    assert.equal(cookies.filter((cookie) => cookie.name.includes('signin')).length, 0);
    const api = () =>
      page.evaluate(async () => {
        const response = await fetch('/api/me');
        return { status: response.status, body: (await response.json()) as { sub: string; exp: number } };
      });
    const first = await api();
    assert.equal(first.status, 200);
    assert.equal(first.body.sub, 'browser-user');

    // Past the first access token's expiry: the next call refreshes silently.
    const refreshes = op.count('token:refresh_token');
    await new Promise((resolve) =>
      setTimeout(resolve, (first.body.exp as number) * 1000 - Date.now() + 1000),
    );
    const later = await api();
    assert.equal(later.status, 200);
    assert.ok((later.body.exp as number) > (first.body.exp as number), 'a new access token');
    assert.equal(op.count('token:refresh_token'), refreshes + 1);
    const posted = await page.evaluate(async () => (await fetch('/api/orders', { method: 'POST' })).status);
    assert.equal(posted, 201, 'a same-origin POST passes the CSRF check');

    const oldCookie = (await context.cookies(appOrigin))
      .filter((cookie) => cookie.name.startsWith('__Host-session.'))
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join('; ');
    await page.reload();
    await Promise.all([page.waitForURL(`${appOrigin}/signed-out`), page.click('#out')]);
    assert.equal(await page.textContent('#bye'), 'signed out');
    assert.equal(
      (await context.cookies(appOrigin)).filter((cookie) => cookie.name.startsWith('__Host-session.')).length,
      0,
    );
    assert.equal(op.count('revoke'), 1);
    assert.equal(op.count('logout'), 1);

    const here = await get('/api/me', oldCookie);
    assert.equal(here.status, 401);
    assert.equal(JSON.parse(here.body).code, 'ERR_SESSION_ENDED');
    // The second process has its own session door and its own mirror of the Redis list; the
    // revocation reaches it by pub/sub (it answers 200 until then). ERR_TOKEN_REVOKED is only
    // given after its door opened the cookie and verified the token: its list refused it.
    const deadline = Date.now() + 5_000;
    let there = await get('/api/me', oldCookie, secondProcess.origin);
    while (there.status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      there = await get('/api/me', oldCookie, secondProcess.origin);
    }
    assert.equal(there.status, 401, secondProcess.output());
    assert.equal(JSON.parse(there.body).code, 'ERR_TOKEN_REVOKED');
  } finally {
    await context.close();
  }
});
