import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CognitoJwtError, JwksCache } from '../../src/index.ts';
import { nodeFetch } from '../../src/platform/https-fetch.ts';
import { hasNativeProxySupport, noProxyMatch, proxyFor, redactUrl } from '../../src/platform/proxy.ts';
import { generateKeyPair, mintAccessToken } from '../../src/testing/index.ts';
import { freePort } from '../helpers/proxy-process.ts';
import { makeTestCertificates, type TestCertificates } from '../helpers/test-ca.ts';
import { startTinyproxy, type Tinyproxy } from '../helpers/tinyproxy.ts';
import { type SkewedJwksServer, startSkewedJwksServer } from '../helpers/tls-jwks-server.ts';

const run = promisify(execFile);

describe('which proxy applies', () => {
  const target = new URL('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A/.well-known/jwks.json');

  test('lower case wins over upper case, empty values are unset, a bare host:port is http://', () => {
    const choice = proxyFor(target, { HTTPS_PROXY: 'http://upper:1', https_proxy: 'lower:3128' });
    assert.ok(choice && 'proxy' in choice);
    assert.equal(choice.proxy.href, 'http://lower:3128/');
    assert.equal(choice.variable, 'https_proxy');
    assert.equal(proxyFor(target, { https_proxy: ' ', HTTP_PROXY: 'http://p:1' }), undefined);
    const plain = proxyFor(new URL('http://127.0.0.1:9229/x'), { HTTP_PROXY: 'http://p:1' });
    assert.ok(plain && 'proxy' in plain && plain.variable === 'HTTP_PROXY');
  });

  test('NO_PROXY: exact hosts, domain suffixes in three spellings, ports, IPs, *', () => {
    const url = (href: string) => new URL(href);
    assert.equal(noProxyMatch(target, 'amazonaws.com'), 'amazonaws.com');
    assert.equal(noProxyMatch(target, 'example.org, .amazonaws.com'), '.amazonaws.com');
    assert.equal(noProxyMatch(target, '*.amazonaws.com'), '*.amazonaws.com');
    assert.equal(
      noProxyMatch(target, 'cognito-idp.eu-west-1.amazonaws.com:443'),
      'cognito-idp.eu-west-1.amazonaws.com:443',
    );
    assert.equal(noProxyMatch(target, 'cognito-idp.eu-west-1.amazonaws.com:8443'), undefined);
    assert.equal(noProxyMatch(target, 'zonaws.com'), undefined, 'a suffix matches on a dot boundary only');
    assert.equal(noProxyMatch(target, '*'), '*');
    assert.equal(noProxyMatch(url('https://127.0.0.1:8443/'), 'localhost 127.0.0.1'), '127.0.0.1');
    assert.equal(noProxyMatch(url('https://[::1]:8443/'), '[::1]:8443'), '[::1]:8443');
    assert.equal(
      noProxyMatch(url('https://[::1]:8443/'), '::1'),
      '::1',
      'an unbracketed IPv6 address is not host:port',
    );
    const bypass = proxyFor(target, { HTTPS_PROXY: 'http://p:1', no_proxy: '.amazonaws.com' });
    assert.deepEqual(bypass, { bypass: '.amazonaws.com', variable: 'no_proxy' });
  });

  test('credentials are never printed', () => {
    assert.equal(redactUrl('http://alice:s3cret@proxy.corp:3128'), 'http://***@proxy.corp:3128/');
    assert.equal(redactUrl('alice:s3cret@proxy.corp:3128'), '***@proxy.corp:3128');
    assert.throws(
      () => proxyFor(target, { HTTPS_PROXY: 'socks5://alice:s3cret@proxy.corp:1080' }),
      (error: Error) => !error.message.includes('s3cret') && /socks5: proxy/.test(error.message),
    );
  });

  test('native support is used from Node 22.21 and 24.5', () => {
    assert.deepEqual(
      ['20.19.0', '22.20.0', '22.21.0', '23.11.0', '24.4.1', '24.5.0', '26.0.0'].map((v) =>
        hasNativeProxySupport(v),
      ),
      [false, false, true, false, false, true, true],
    );
  });
});

// Node 22.21+ / 24.5+ tunnel through Node's own agent (`proxyEnv`); Node 20 through the optional
// peer https-proxy-agent. The Node-majors run (scripts/node-majors.mjs) runs this file on both.
const path = hasNativeProxySupport() ? "Node's own proxyEnv agent" : 'https-proxy-agent';

describe(`through a real forward proxy (tinyproxy) on loopback, by ${path}`, () => {
  const key = generateKeyPair({ kid: 'proxied' });
  let certs: TestCertificates;
  let server: SkewedJwksServer;
  let proxy: Tinyproxy;
  let refusing: Tinyproxy;

  before(async () => {
    certs = makeTestCertificates();
    server = await startSkewedJwksServer({ keys: [key], tls: certs });
    proxy = await startTinyproxy();
    refusing = await startTinyproxy({ connectPorts: [1] }); // CONNECT only to port 1: ours is refused
  });
  after(async () => {
    await Promise.all([server?.close(), proxy?.stop(), refusing?.stop()]);
  });

  const cacheWith = (env: Record<string, string>) =>
    new JwksCache({
      fetch: (input, init) => nodeFetch(input, init ?? {}, { env, ca: certs.caPem }),
      backoffMs: 0,
    });

  test('CONNECT to a TLS JWKS server: the keys come through the tunnel', async () => {
    const before = server.requestCount;
    const cache = cacheWith({ HTTPS_PROXY: proxy.url });
    await cache.load(server.jwksUri('pool'));
    assert.deepEqual(cache.inspect(server.jwksUri('pool')).kids, ['proxied']);
    assert.equal(server.requestCount, before + 1);
    assert.match(proxy.output(), new RegExp(`CONNECT.*127\\.0\\.0\\.1:${server.port}`), proxy.output());
  });

  test('NO_PROXY bypass: the proxy is not asked (a dead proxy would fail the fetch)', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const cache = cacheWith({ HTTPS_PROXY: dead, NO_PROXY: 'localhost,127.0.0.1' });
    await cache.load(server.jwksUri('bypass'));
    assert.deepEqual(cache.inspect(server.jwksUri('bypass')).kids, ['proxied']);
    await assert.rejects(cacheWith({ HTTPS_PROXY: dead }).load(server.jwksUri('dead')), {
      code: 'ERR_JWKS_FETCH_FAILED',
      message: /ECONNREFUSED/,
    });
  });

  test('a refusing proxy: ERR_JWKS_FETCH_FAILED saying the proxy refused the tunnel, credentials hidden', async () => {
    const withCredentials = refusing.url.replace('http://', 'http://alice:s3cret@');
    const error = await cacheWith({ HTTPS_PROXY: withCredentials })
      .load(server.jwksUri('refused'))
      .then(
        () => assert.fail('the fetch went through'),
        (error: unknown) => error as CognitoJwtError,
      );
    assert.ok(error instanceof CognitoJwtError);
    assert.equal(error.code, 'ERR_JWKS_FETCH_FAILED');
    assert.match(
      error.message,
      /the proxy http:\/\/\*\*\*@127\.0\.0\.1:\d+\/ refused to open a tunnel to 127\.0\.0\.1:\d+ \(HTTP 403/,
    );
    assert.doesNotMatch(`${error.message} ${String((error.cause as Error)?.message)}`, /s3cret/);
  });

  test('the default transport reads the environment: a verifier in a fresh process, through the proxy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proxy-env-'));
    try {
      const caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, certs.caPem);
      const issuer = server.issuer('env_pool');
      const token = mintAccessToken({ key, issuer, clientId: 'c' });
      const script = `
        const { CognitoVerifier } = await import(${JSON.stringify(new URL('../../src/index.ts', import.meta.url).href)});
        const verifier = new CognitoVerifier({ userPoolId: 'env_pool', issuer: ${JSON.stringify(issuer)}, clientId: 'c', tokenUse: 'access' });
        const claims = await verifier.verify(${JSON.stringify(token)});
        console.log(claims.client_id);`;
      const before = proxy.output().length;
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        {
          env: { ...process.env, HTTPS_PROXY: proxy.url, NO_PROXY: '', NODE_EXTRA_CA_CERTS: caFile },
          timeout: 60_000,
        },
      );
      assert.equal(stdout.trim(), 'c');
      assert.match(proxy.output().slice(before), /CONNECT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // The published package in a folder with no node_modules above it: `https-proxy-agent` cannot
  // be resolved, as for a user who did not install the optional peer.
  test(`without the optional peer installed: ${hasNativeProxySupport() ? 'the proxy is used all the same' : 'the error says to install https-proxy-agent'}, credentials never printed`, async () => {
    const root = new URL('../../', import.meta.url);
    const dist = new URL('dist/index.js', root);
    assert.ok(existsSync(dist), 'dist/ is built (npm run build; npm test builds it first)');
    const dir = mkdtempSync(join(tmpdir(), 'proxy-no-peer-'));
    try {
      cpSync(new URL('dist', root), join(dir, 'dist'), { recursive: true });
      cpSync(new URL('package.json', root), join(dir, 'package.json'));
      const caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, certs.caPem);
      const issuer = server.issuer('no_peer');
      const token = mintAccessToken({ key, issuer, clientId: 'c' });
      const script = `
        const { CognitoVerifier } = await import('./dist/index.js');
        const verifier = new CognitoVerifier({ userPoolId: 'no_peer', issuer: ${JSON.stringify(issuer)}, clientId: 'c', tokenUse: 'access' });
        try {
          console.log(JSON.stringify({ clientId: (await verifier.verify(${JSON.stringify(token)})).client_id }));
        } catch (error) {
          console.error(error);
          console.log(JSON.stringify({ code: error.code, message: error.message, cause: String(error.cause?.message) }));
        }`;
      const before = proxy.output().length;
      const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: dir,
        env: {
          ...process.env,
          HTTPS_PROXY: proxy.url.replace('http://', 'http://alice:s3cret@'),
          NO_PROXY: '',
          NODE_EXTRA_CA_CERTS: caFile,
        },
        timeout: 60_000,
      });
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
      assert.doesNotMatch(`${stdout}\n${stderr}`, /s3cret/);
      if (hasNativeProxySupport()) {
        assert.deepEqual(result, { clientId: 'c' }, stderr);
        assert.match(proxy.output().slice(before), new RegExp(`CONNECT.*127\\.0\\.0\\.1:${server.port}`));
      } else {
        assert.equal(result.code, 'ERR_JWKS_FETCH_FAILED', stderr);
        assert.match(
          result.message,
          /HTTPS_PROXY is set \(http:\/\/\*\*\*@127\.0\.0\.1:\d+\/\) but Node [\d.]+ cannot use a proxy by itself: install the optional peer dependency https-proxy-agent \(npm install https-proxy-agent\)/,
        );
        assert.match(result.cause, /https-proxy-agent/);
        assert.equal(proxy.output().slice(before), '', 'nothing reached the proxy');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
