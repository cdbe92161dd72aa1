/**
 * The official MCP SDK's client against an MCP endpoint guarded by each HTTP adapter with
 * `protectedResource`: discovery from the 401, the pool's issuer as authorization server, and
 * `auth()` up to Cognito's authorize redirect (see test/helpers/mcp-client.ts).
 */
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { getRequestListener } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { cognitoAuth as expressAuth } from '../../src/adapters/express.ts';
import { cognitoJwt } from '../../src/adapters/fastify.ts';
import { cognitoAuth as honoAuth } from '../../src/adapters/hono.ts';
import { requireScopes } from '../../src/index.ts';
import {
  type CognitoStandIn,
  checkMcpClient,
  MCP_SCOPE,
  mcpPool,
  startCognitoStandIn,
} from '../helpers/mcp-client.ts';

const pool = mcpPool();
let cognito: CognitoStandIn;

before(async () => {
  cognito = await startCognitoStandIn();
});
after(() => cognito?.close());

interface Running {
  origin: string;
  close(): Promise<void>;
}

/** Listen first (the resource URL holds the port), then hand requests to the app built for that origin. */
async function listenFirst(
  build: (origin: string) => Promise<RequestListener> | RequestListener,
): Promise<Running> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.on('request', await build(origin));
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const mcpAnswer = { jsonrpc: '2.0', id: 1, result: {} };

const apps: Record<string, () => Promise<Running>> = {
  express: () =>
    listenFirst((origin) => {
      const auth = expressAuth({
        verifier: pool.config,
        protectedResource: { resource: `${origin}/mcp`, scopes: [MCP_SCOPE] },
      });
      const app = express();
      app.use(auth.resourceMetadata());
      app.post('/mcp', auth, auth.authorize(requireScopes(MCP_SCOPE)), (_req, res) => {
        res.json(mcpAnswer);
      });
      return app;
    }),
  fastify: async () => {
    let app: ReturnType<typeof Fastify> | undefined;
    const running = await listenFirst(async (origin) => {
      let handler: RequestListener | undefined;
      app = Fastify({
        serverFactory: (listener) => {
          handler = listener;
          return createServer();
        },
      });
      await app.register(cognitoJwt, {
        verifier: pool.config,
        protectedResource: { resource: `${origin}/mcp`, scopes: [MCP_SCOPE] },
      });
      app.post(
        '/mcp',
        { preHandler: app.cognito.authorize(requireScopes(MCP_SCOPE)) },
        async () => mcpAnswer,
      );
      await app.ready();
      return handler!;
    });
    return {
      origin: running.origin,
      close: async () => {
        await app?.close();
        await running.close();
      },
    };
  },
  hono: () =>
    listenFirst((origin) => {
      const auth = honoAuth({
        verifier: pool.config,
        protectedResource: { resource: `${origin}/mcp`, scopes: [MCP_SCOPE] },
      });
      const app = new Hono();
      app.use(auth.resourceMetadata());
      app.post('/mcp', auth, auth.authorize(requireScopes(MCP_SCOPE)), (c) => c.json(mcpAnswer));
      return getRequestListener(app.fetch);
    }),
};

for (const [name, start] of Object.entries(apps)) {
  describe(`${name}: an MCP server with protectedResource`, () => {
    let app: Running;
    before(async () => {
      app = await start();
    });
    after(() => app?.close());

    test('the MCP SDK finds the metadata from a 401, picks the pool issuer, and runs auth() to the authorize redirect', async () => {
      await checkMcpClient({ serverUrl: `${app.origin}/mcp`, cognito, narrowToken: pool.token('openid') });
    });

    test('the metadata document: exact fields, JSON, cacheable, public to other origins; HEAD too', async () => {
      const answer = await fetch(`${app.origin}/.well-known/oauth-protected-resource/mcp`);
      assert.equal(answer.status, 200);
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(answer.headers.get('cache-control'), 'public, max-age=3600');
      assert.equal(answer.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(await answer.json(), {
        resource: `${app.origin}/mcp`,
        authorization_servers: ['https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_McpPool1'],
        scopes_supported: [MCP_SCOPE],
        bearer_methods_supported: ['header'],
      });
      const head = await fetch(`${app.origin}/.well-known/oauth-protected-resource/mcp`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), '');
    });

    test('a token with the scope passes; the 401 and 403 challenges keep their RFC 6750 parts', async () => {
      const ok = await fetch(`${app.origin}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pool.token(`openid ${MCP_SCOPE}`)}` },
      });
      assert.equal(ok.status, 200, await ok.clone().text());
      assert.deepEqual(await ok.json(), mcpAnswer);
      const narrow = await fetch(`${app.origin}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pool.token('openid')}` },
      });
      await narrow.body?.cancel();
      assert.equal(narrow.status, 403);
      assert.equal(
        narrow.headers.get('www-authenticate'),
        `Bearer error="insufficient_scope", error_description="the token lacks a required scope", scope="openid ${MCP_SCOPE}", resource_metadata="${app.origin}/.well-known/oauth-protected-resource/mcp"`,
      );
      const bad = await fetch(`${app.origin}/mcp`, {
        method: 'POST',
        headers: { authorization: 'Bearer x.y.z' },
      });
      await bad.body?.cancel();
      assert.equal(bad.status, 401);
      assert.match(
        bad.headers.get('www-authenticate') ?? '',
        /^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"$/,
      );
    });

    test('other well-known paths and methods are not the document', async () => {
      const other = await fetch(`${app.origin}/.well-known/oauth-protected-resource`);
      await other.body?.cancel();
      assert.notEqual(other.status, 200);
      const post = await fetch(`${app.origin}/.well-known/oauth-protected-resource/mcp`, { method: 'POST' });
      await post.body?.cancel();
      assert.notEqual(post.status, 200);
    });
  });
}
