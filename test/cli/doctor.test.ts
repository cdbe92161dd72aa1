import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createDoctorCommand, type DoctorDeps } from '../../src/cli/commands/doctor.ts';
import { EXIT, exitCodeFor } from '../../src/cli/exit-code.ts';
import type { Channel } from '../../src/cli/output.ts';
import { generateKeyPair, mintAccessToken, mintIdToken } from '../../src/testing/index.ts';
import { makeTestCertificates, type TestCertificates } from '../helpers/test-ca.ts';
import { startTinyproxy, type Tinyproxy } from '../helpers/tinyproxy.ts';
import { type SkewedJwksServer, startSkewedJwksServer } from '../helpers/tls-jwks-server.ts';

const POOL = 'local_doctor1';
const key = generateKeyPair({ kid: 'doctor-key' });

/** The loopback "DNS": two names for the JWKS server, one with an IPv6 address as well. */
const ZONE: Record<string, { 4: string[]; 6: string[] }> = {
  'cognito-idp.loopback.test': { 4: ['127.0.0.1'], 6: [] },
  'issuer-cognito-idp.loopback.test': { 4: ['127.0.0.1'], 6: ['::1'] },
};
const lookup: NonNullable<DoctorDeps['lookup']> = async (hostname, family) => ZONE[hostname]?.[family] ?? [];

function channel(lines: string[]): Channel {
  return { line: (text = '') => lines.push(text), paint: (_style, text) => text };
}

async function doctor(args: string[], deps: DoctorDeps, stdin = ''): Promise<{ code: number; text: string }> {
  const out: string[] = [];
  const command = createDoctorCommand({ timeoutMs: 3_000, env: {}, ...deps });
  let code: number;
  try {
    code = await command.run(args, {
      terminal: { out: channel(out), err: channel(out) },
      stdin: Object.assign(Readable.from([stdin]), { isTTY: false }),
      now: Date.now,
    });
  } catch (error) {
    code = exitCodeFor(error);
    out.push(`error: ${(error as Error).message}`);
  }
  return { code, text: out.join('\n') };
}

describe('cognito-jwt doctor against loopback servers', () => {
  let certs: TestCertificates;
  let server: SkewedJwksServer;
  let proxy: Tinyproxy;
  const issuers = () => [
    `https://cognito-idp.loopback.test:${server.port}/${POOL}`,
    `https://issuer-cognito-idp.loopback.test:${server.port}/${POOL}`,
  ];
  const issuerArgs = () => issuers().flatMap((issuer) => ['--issuer', issuer]);

  before(async () => {
    certs = makeTestCertificates('Corp Intercepting CA', Object.keys(ZONE));
    server = await startSkewedJwksServer({ keys: [key], tls: certs, dateOffsetMs: -42_000 });
    proxy = await startTinyproxy();
  });
  after(async () => {
    await Promise.all([server?.close(), proxy?.stop()]);
  });

  test('every check, one line each: DNS, TLS naming an unbundled root, both issuer forms, the clock, a token', async () => {
    const token = mintAccessToken({ key, issuer: issuers()[1]!, clientId: 'web' });
    const { code, text } = await doctor(
      [
        '--user-pool-id',
        POOL,
        ...issuerArgs(),
        '--client-id',
        'web',
        '--token-use',
        'access',
        '--token',
        '-',
      ],
      { lookup, ca: [certs.caPem] },
      token,
    );
    assert.equal(code, EXIT.ok, text);
    assert.match(
      text,
      new RegExp(
        `^· node ${process.version.replace(/\./g, '\\.')} on ${process.platform} ${process.arch}`,
        'm',
      ),
    );
    assert.match(text, /^· proxy: no HTTPS_PROXY, HTTP_PROXY or NO_PROXY set: connecting directly$/m);
    assert.match(text, /^original issuer https:\/\/cognito-idp\.loopback\.test:\d+\/local_doctor1$/m);
    assert.match(
      text,
      /^multi-Region issuer https:\/\/issuer-cognito-idp\.loopback\.test:\d+\/local_doctor1$/m,
    );
    assert.match(text, /^✔ dns cognito-idp\.loopback\.test: IPv4 127\.0\.0\.1; IPv6 none$/m);
    assert.match(text, /^✔ dns issuer-cognito-idp\.loopback\.test: IPv4 127\.0\.0\.1; IPv6 ::1$/m);
    assert.match(
      text,
      /^! tls cognito-idp\.loopback\.test:\d+: trusted, but the chain ends at "Corp Intercepting CA", which is not one of Node's bundled roots: something intercepts TLS/m,
    );
    assert.equal(text.match(/^✔ jwks .*: 1 usable key \(doctor-key\)$/gm)?.length, 2, text);
    assert.match(
      text,
      /^! clock: this host is 4\d\.\d s ahead of the JWKS server \(± \d\.\d s, from its Date header\), more than 5 s: .*NTP/m,
    );
    assert.match(text, /^· token: an access token$/m);
    assert.match(text, /^✔ token pool: local_doctor1 \(iss https:\/\/issuer-cognito-idp/m);
    assert.match(text, /^✔ token accepted/m);
    assert.doesNotMatch(text, new RegExp(token.split('.')[2]!.slice(0, 20)), 'the token is never printed');
  });

  test('an untrusted intercepting root: the handshake names it and says what to set; no keys → exit 3', async () => {
    const { code, text } = await doctor(['--user-pool-id', POOL, ...issuerArgs()], { lookup });
    assert.equal(code, EXIT.keysUnavailable, text);
    assert.match(
      text,
      /^✗ tls cognito-idp\.loopback\.test:\d+: the chain ends at "Corp Intercepting CA", which this host does not trust \(.*\)\. If a corporate gateway intercepts TLS, set NODE_EXTRA_CA_CERTS/m,
    );
    assert.match(text, /^✗ jwks .*ERR_JWKS_FETCH_FAILED|^✗ jwks .*could not fetch the JWKS/m);
  });

  test('a name that does not resolve: the DNS line says what to check', async () => {
    const { code, text } = await doctor(
      ['--user-pool-id', POOL, '--issuer', `https://nowhere.loopback.test:${server.port}/${POOL}`],
      { lookup, ca: [certs.caPem] },
    );
    assert.equal(code, EXIT.keysUnavailable, text);
    assert.match(text, /^✗ dns nowhere\.loopback\.test: IPv4 none; IPv6 none\. Check \/etc\/resolv\.conf/m);
  });

  test('a token the config refuses: why, what to do, exit 1', async () => {
    const token = mintIdToken({ key, issuer: issuers()[0]!, clientId: 'other-client' });
    const { code, text } = await doctor(
      ['--user-pool-id', POOL, ...issuerArgs(), '--client-id', 'web', '--token', token],
      { lookup, ca: [certs.caPem] },
    );
    assert.equal(code, EXIT.invalid, text);
    assert.match(text, /^· token: an ID token$/m);
    assert.match(text, /^✗ token refused: ERR_CLIENT_MISMATCH: .*Add its client with --client-id/m);
  });

  test('the proxy in use is named without its credentials, and the keys come through it', async () => {
    const withCredentials = proxy.url.replace('http://', 'http://alice:s3cret@');
    const issuer = `https://127.0.0.1:${server.port}/${POOL}`;
    const { code, text } = await doctor(['--user-pool-id', POOL, '--issuer', issuer], {
      ca: [certs.caPem],
      env: { HTTPS_PROXY: withCredentials, NO_PROXY: 'internal.example' },
    });
    assert.equal(code, EXIT.ok, text);
    assert.match(
      text,
      /^· proxy: HTTPS_PROXY=http:\/\/\*\*\*@127\.0\.0\.1:\d+\/ NO_PROXY=internal\.example$/m,
    );
    assert.match(text, /^· dns 127\.0\.0\.1: an IP address, nothing to resolve$/m);
    assert.match(
      text,
      /^· route 127\.0\.0\.1:\d+: through http:\/\/\*\*\*@127\.0\.0\.1:\d+\/ \(HTTPS_PROXY\)$/m,
    );
    assert.match(text, /^✔ jwks /m);
    assert.doesNotMatch(text, /s3cret/);
    assert.match(proxy.output(), /CONNECT/);
  });

  test('usage mistakes exit 2 before any network', async () => {
    const { code } = await doctor(['--user-pool-id', 'not-a-pool'], {
      lookup: async () => assert.fail('resolved'),
    });
    assert.equal(code, EXIT.usage);
  });
});
