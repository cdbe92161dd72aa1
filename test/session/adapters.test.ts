/**
 * `cognitoSignIn` in Fastify and Hono, against the Cognito-like provider: the same routes and
 * answers as Express (test/session/flow.test.ts): a page without a session goes to sign-in, the
 * API answers 401, a signed-in browser reads both, a cross-site sign-out is refused, a same-origin
 * one revokes and redirects to /logout.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { getRequestListener } from '@hono/node-server';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { cognitoSignIn as fastifySignIn } from '../../src/adapters/fastify.ts';
import { cognitoSignIn as honoSignIn } from '../../src/adapters/hono.ts';
import { CognitoSession } from '../../src/session/index.ts';
import { startCognitoProvider } from '../helpers/oidc-provider.ts';
import { SECRET } from '../helpers/session-app.ts';
import { ScriptedBrowser } from '../helpers/sign-in-client.ts';

type Listener = (request: IncomingMessage, response: ServerResponse) => void;

async function scenario(mount: (session: CognitoSession) => Promise<Listener>): Promise<void> {
  let listener: Listener | undefined;
  const server: Server = createServer((request, response) => listener?.(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const appOrigin = `http://localhost:${port}`;
  const op = await startCognitoProvider({
    callbackUrls: [`${appOrigin}/auth/callback`],
    signOutUrls: [`${appOrigin}/`],
  });
  try {
    const session = new CognitoSession({
      domain: op.origin,
      clientId: op.clientId,
      clientSecret: op.clientSecret,
      verifier: { userPoolId: op.userPoolId, clientId: op.clientId, tokenUse: 'access', issuer: op.issuer },
      appOrigin,
      secrets: [SECRET],
      insecureLocalhost: true,
    });
    listener = await mount(session);
    const b = new ScriptedBrowser(appOrigin, `http://127.0.0.1:${port}`);
    const page = await b.request('/page');
    assert.equal(page.status, 303);
    assert.equal(page.headers.get('location'), '/auth/sign-in?return_to=%2Fpage');
    const api = await b.request('/api/me');
    assert.equal(api.status, 401);
    assert.equal(((await api.json()) as { code: string }).code, 'ERR_SESSION_MISSING');

    op.signInAs({ sub: 'adapter-user', groups: ['users'] });
    const { response } = await b.follow('/page');
    assert.equal(await response.text(), 'page of adapter-user');
    assert.deepEqual(await (await b.request('/api/me')).json(), { sub: 'adapter-user' });
    const crossSite = await b.request('/api/orders', {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(crossSite.status, 403);
    const posted = await b.request('/api/orders', { method: 'POST', headers: { origin: appOrigin } });
    assert.equal(posted.status, 201);

    assert.equal(
      (await b.request('/auth/sign-out', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } }))
        .status,
      403,
    );
    const out = await b.request('/auth/sign-out', { method: 'POST', headers: { origin: appOrigin } });
    assert.equal(out.status, 303);
    assert.match(out.headers.get('location') as string, /\/logout\?client_id=web-client&logout_uri=/);
    assert.equal(op.count('revoke'), 1);
    assert.equal((await b.request('/api/me')).status, 401, 'the cookies were cleared');
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await op.close();
  }
}

describe('cognitoSignIn', () => {
  test('Fastify: one registration mounts the routes and guards the app', async () => {
    await scenario(async (session) => {
      const app = Fastify();
      await app.register(fastifySignIn, { session, apiPaths: ['/api'] });
      app.get('/page', async (request) => `page of ${request.auth?.sub}`);
      app.get('/api/me', async (request) => ({ sub: request.auth?.sub }));
      app.post('/api/orders', async (request, reply) => reply.code(201).send({ by: request.auth?.sub }));
      await app.ready();
      return (request, response) => app.server.emit('request', request, response);
    });
  });

  test('Hono: one middleware mounts the routes and guards the app', async () => {
    await scenario(async (session) => {
      const app = new Hono();
      app.use('*', honoSignIn({ session, apiPaths: ['/api'] }));
      app.get('/page', (c) => c.text(`page of ${c.get('auth')?.sub}`));
      app.get('/api/me', (c) => c.json({ sub: c.get('auth')?.sub }));
      app.post('/api/orders', (c) => c.json({ by: c.get('auth')?.sub }, 201));
      return getRequestListener(app.fetch);
    });
  });
});
