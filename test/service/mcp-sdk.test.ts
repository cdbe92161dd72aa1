/**
 * `serve` with `protectedResource`: the metadata endpoint itself, the challenges of each auth
 * endpoint, and the official MCP SDK's client through Debian's nginx configured as docs/mcp.md
 * shows (the metadata location passed to the service, the 403 challenge copied to the client).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { CognitoVerifier } from '../../src/index.ts';
import { checkServiceConfig } from '../../src/service/config.ts';
import { describeService } from '../../src/service/preflight.ts';
import { extractFences, ROOT } from '../helpers/doc-blocks.ts';
import { startEchoUpstream } from '../helpers/echo-upstream.ts';
import {
  type CognitoStandIn,
  checkMcpClient,
  MCP_ISSUER,
  MCP_SCOPE,
  mcpPool,
  startCognitoStandIn,
} from '../helpers/mcp-client.ts';
import { NGINX } from '../helpers/nginx.ts';
import { freePort, startProxyProcess } from '../helpers/proxy-process.ts';
import { nginxAsk, rawRequest, startHarness } from './harness.ts';

const pool = mcpPool();
const ROUTES = [
  { path: '/mcp', require: { scopes: [MCP_SCOPE] } },
  { path: '/**', require: 'authenticated' as const },
];
let cognito: CognitoStandIn;

before(async () => {
  cognito = await startCognitoStandIn();
});
after(() => cognito?.close());

function startService(t: TestContext, resource: string) {
  return startHarness(t, {
    pools: [pool.config],
    routes: ROUTES,
    protectedResource: { resource, scopes: [MCP_SCOPE], resourceName: 'Orders MCP' },
  });
}

test('the metadata endpoint: the document and nothing else of the config; HEAD; other methods 405', async (t) => {
  const harness = await startService(t, 'https://api.example.com/mcp');
  const answer = await harness.request('/.well-known/oauth-protected-resource/mcp');
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get('content-type'), 'application/json');
  assert.equal(answer.headers.get('cache-control'), 'public, max-age=3600');
  assert.equal(answer.headers.get('access-control-allow-origin'), '*');
  const text = await answer.text();
  assert.deepEqual(JSON.parse(text), {
    resource: 'https://api.example.com/mcp',
    authorization_servers: [MCP_ISSUER],
    scopes_supported: [MCP_SCOPE],
    bearer_methods_supported: ['header'],
    resource_name: 'Orders MCP',
  });
  assert.doesNotMatch(text, /mcpclient|routes|authenticated|jwks|keys/, 'no client id, route or key');
  const head = await harness.request('/.well-known/oauth-protected-resource/mcp', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
  const post = await harness.request('/.well-known/oauth-protected-resource/mcp', { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  await post.body?.cancel();
  for (const path of [
    '/.well-known/oauth-protected-resource',
    '/.well-known/oauth-protected-resource/mcp/x',
  ]) {
    const other = await harness.request(path);
    await other.body?.cancel();
    assert.equal(other.status, 404, path);
  }
  // The query is not part of the path; a path spelt otherwise is not the document.
  assert.equal(
    (await rawRequest(harness.service.url, 'GET', '/.well-known/oauth-protected-resource/mcp?x=1')).status,
    200,
  );
  assert.equal(
    (await rawRequest(harness.service.url, 'GET', '/.well-known/oauth-protected-resource/MCP')).status,
    404,
  );
});

test('every auth endpoint: 401 names the metadata, 403 for a missing scope carries scope', async (t) => {
  const harness = await startService(t, 'https://api.example.com/mcp');
  const metadata = 'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp"';
  const missing = await nginxAsk(harness, 'POST', '/mcp');
  await missing.body?.cancel();
  assert.equal(missing.status, 401);
  assert.equal(missing.headers.get('www-authenticate'), `Bearer ${metadata}`);
  const narrow = pool.token('openid');
  const asks: [string, Record<string, string>][] = [
    ['/auth/nginx', { 'x-original-method': 'POST', 'x-original-uri': '/mcp' }],
    ['/auth/ingress-nginx', { 'x-original-method': 'POST', 'x-original-url': 'https://api.example.com/mcp' }],
    ['/auth/forward', { 'x-forwarded-method': 'POST', 'x-forwarded-uri': '/mcp' }],
    ['/envoy/mcp', {}],
  ];
  for (const [endpoint, headers] of asks) {
    const answer = await harness.request(endpoint, {
      method: endpoint.startsWith('/envoy') ? 'POST' : 'GET',
      headers: { ...headers, authorization: `Bearer ${narrow}` },
    });
    await answer.body?.cancel();
    assert.equal(answer.status, 403, endpoint);
    assert.equal(
      answer.headers.get('www-authenticate'),
      `Bearer error="insufficient_scope", error_description="the token lacks a required scope", scope="openid ${MCP_SCOPE}", ${metadata}`,
      endpoint,
    );
  }
  const bad = await nginxAsk(harness, 'POST', '/mcp', { authorization: 'Bearer a.b.c' });
  await bad.body?.cancel();
  assert.match(
    bad.headers.get('www-authenticate') ?? '',
    new RegExp(`^Bearer error="invalid_token", error_description="[^"]+", ${metadata}$`),
  );
  const allowed = await nginxAsk(harness, 'POST', '/mcp', {
    authorization: `Bearer ${pool.token(`openid ${MCP_SCOPE}`)}`,
  });
  assert.equal(allowed.status, 200);
});

test('config: protectedResource is checked with the rest, refused in ALB mode, named in unknown-key advice', () => {
  const base = { pools: [pool.config], listen: { port: 0 }, workers: 1, metrics: false };
  const check = (extra: Record<string, unknown>) =>
    checkServiceConfig({ ...base, ...extra }, { baseDir: '.', env: {} });
  const settings = check({ protectedResource: { resource: 'https://api.example.com/mcp' } });
  assert.equal(settings.protectedResource?.path, '/.well-known/oauth-protected-resource/mcp');
  assert.ok(
    describeService(settings, new CognitoVerifier(settings.pools), false).includes(
      `metadata /.well-known/oauth-protected-resource/mcp on the auth port: resource https://api.example.com/mcp, authorization servers ${MCP_ISSUER}`,
    ),
    'serve --check names it',
  );
  assert.throws(
    () => check({ protectedResource: { resource: 'http://api.example.com/mcp' } }),
    /protectedResource\.resource must use https:/,
  );
  assert.throws(
    () => check({ protectedResource: { resource: 'https://api.example.com/mcp/' } }),
    /must not end with "\/"/,
  );
  assert.throws(
    () => check({ protectedResource: { resource: 'https://api.example.com/mcp?v=1' } }),
    /must not have a query/,
  );
  assert.throws(
    () => check({ protectedResource: { resource: 'https://api.example.com/mcp', scope: ['x'] } }),
    /did you mean "scopes"/,
  );
  assert.throws(() => check({ protectedResourse: {} }), /did you mean "protectedResource"/);
  assert.throws(
    () =>
      check({
        protectedResource: { resource: 'https://api.example.com/mcp' },
        alb: {
          albArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/0123456789abcdef',
          issuer: MCP_ISSUER,
          clientId: 'c',
        },
      }),
    /in ALB mode/,
  );
});

/** The nginx server block of docs/mcp.md: the metadata location, the 403 challenge copied to the client. */
function mcpNginxServer(port: number, servicePort: number, upstreamPort: number): string {
  return `
    upstream cognito_jwt {
      server 127.0.0.1:${servicePort};
      keepalive 16;
    }
    map $status $cognito_jwt_403_challenge {
      403     $auth_challenge;
      default "";
    }
    server {
      listen 127.0.0.1:${port};

      location = /_cognito_jwt {
        internal;
        proxy_pass http://cognito_jwt/auth/nginx;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header X-Original-URI $request_uri;
        proxy_set_header X-Original-Method $request_method;
      }

      location ^~ /.well-known/oauth-protected-resource {
        proxy_pass http://cognito_jwt;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
      }

      location / {
        auth_request /_cognito_jwt;
        auth_request_set $auth_challenge $upstream_http_www_authenticate;
        add_header WWW-Authenticate $cognito_jwt_403_challenge always;
        auth_request_set $auth_sub $upstream_http_x_auth_request_sub;
        proxy_set_header X-Auth-Request-Sub $auth_sub;
        proxy_pass http://127.0.0.1:${upstreamPort};
      }
    }`;
}

test('behind nginx: the MCP SDK discovers the metadata, picks the pool issuer, and runs auth() to the authorize redirect', async (t) => {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const harness = await startService(t, `${origin}/mcp`);
  const upstream = await startEchoUpstream();
  t.after(() => upstream.close());
  const dir = await mkdtemp(join(tmpdir(), 'cognito-jwt-mcp-nginx-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o755);
  const file = join(dir, 'nginx.conf');
  await writeFile(
    file,
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${mcpNginxServer(port, Number(new URL(harness.service.url).port), upstream.port)}
}
`,
  );
  const nginx = await startProxyProcess('nginx', NGINX, ['-p', dir, '-c', file, '-g', 'daemon off;'], port);
  t.after(() => nginx.stop());

  await checkMcpClient({ serverUrl: `${origin}/mcp`, cognito, narrowToken: pool.token('openid') });
  assert.equal(upstream.requests.length, 0, 'no refused request reached the upstream');

  const allowed = await fetch(`${origin}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${pool.token(`openid ${MCP_SCOPE}`)}` },
  });
  await allowed.body?.cancel();
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers.get('www-authenticate'), null, 'no challenge on an allowed request');
  assert.equal(upstream.requests.length, 1);
  const missing = await fetch(`${origin}/mcp`, { method: 'POST' });
  await missing.body?.cancel();
  assert.equal(missing.headers.get('www-authenticate')?.split('Bearer').length, 2, 'one challenge on a 401');
});

test('docs/mcp.md shows what is tested: its service config passes the checks, its nginx block is the one run above', () => {
  const fences = extractFences(readFileSync(join(ROOT, 'docs/mcp.md'), 'utf8'), 'docs/mcp.md');
  const configs = fences.filter((fence) => fence.lang === 'json');
  assert.equal(configs.length, 1);
  const settings = checkServiceConfig(JSON.parse(configs[0]!.code), { baseDir: ROOT, env: {} });
  assert.equal(
    settings.protectedResource?.url,
    'https://api.example.com/.well-known/oauth-protected-resource/mcp',
  );
  const nginx = fences.filter((fence) => fence.lang === 'nginx');
  assert.equal(nginx.length, 1);
  // Comments and spacing aside, and with the ports the doc prints, the same directives.
  const directives = (text: string) =>
    text
      .split('\n')
      .map((line) => line.replace(/#.*$/, '').trim().replace(/\s+/g, ' '))
      .filter((line) => line !== '');
  assert.deepEqual(
    directives(nginx[0]!.code),
    directives(mcpNginxServer(80, 9180, 8080).replace('listen 127.0.0.1:80;', 'listen 80;')),
  );
});
