/**
 * Differential test against aws-jwt-verify's AlbJwtVerifier (5.2), on tokens whose header and
 * payload agree on `exp` and `iss`. Both verifiers fetch keys from the same loopback key server.
 * Where the outcomes differ, they differ by design, in one direction only (we refuse, it accepts),
 * and each such case is named in DIVERGENCES; any other difference fails the test.
 */
import assert from 'node:assert/strict';
import { randomUUID, sign } from 'node:crypto';
import { after, before, test } from 'node:test';
import { AlbJwtVerifier } from 'aws-jwt-verify';
import { AlbJwksCache } from 'aws-jwt-verify/alb-cache';
import fc from 'fast-check';
import { AlbVerifier } from '../../src/alb/index.ts';
import { CognitoJwtError } from '../../src/errors.ts';
import {
  type AlbKeyServer,
  type AlbTestKey,
  DEFAULT_TEST_ALB_ARN,
  DEFAULT_TEST_ALB_CLIENT_ID,
  DEFAULT_TEST_ALB_ISSUER,
  generateAlbKeyPair,
  mintAlbToken,
  signAlbJwt,
  startAlbKeyServer,
} from '../../src/testing/index.ts';
import { EU_ALB, OTHER_ALB_OTHER_ACCOUNT } from './fixture.ts';

/** Why a case may be refused by us and accepted by aws-jwt-verify. */
const DIVERGENCES = {
  'no-exp':
    'exp is required in the header; aws-jwt-verify reads exp from the payload only and accepts a token without one',
  'no-sub': 'sub is required (it is the user); aws-jwt-verify treats it as optional',
  unpadded:
    'the segments must be padded as the load balancer writes them; aws-jwt-verify also accepts unpadded (and under-padded) segments',
  curve:
    'ES256 is P-256 only (RFC 7518 §3.4); aws-jwt-verify verifies an ES256 token with whatever EC key the endpoint serves, P-384 included',
  'loose-bits':
    'the last character of a segment must carry zero unused bits (one spelling per token); aws-jwt-verify decodes leniently',
} as const;
type Divergence = keyof typeof DIVERGENCES;

let server: AlbKeyServer;
let served: AlbTestKey;
let notServed: AlbTestKey;
let p384: AlbTestKey;
let ours: AlbVerifier;
let theirs: ReturnType<typeof AlbJwtVerifier.create>;

before(async () => {
  served = generateAlbKeyPair();
  notServed = generateAlbKeyPair();
  p384 = generateAlbKeyPair({ namedCurve: 'P-384' });
  server = await startAlbKeyServer({ keys: [served, p384] });
  ours = new AlbVerifier(
    {
      albArn: DEFAULT_TEST_ALB_ARN,
      issuer: DEFAULT_TEST_ALB_ISSUER,
      clientId: DEFAULT_TEST_ALB_CLIENT_ID,
      keysUrl: server.keysUrl,
    },
    { cooldownMs: 0, fetchesPerSecond: 1_000 },
  );
  // aws-jwt-verify fetches over https only; its fetcher is replaced by one reading the same loopback server.
  const fetcher = {
    async fetch(uri: string): Promise<ArrayBuffer> {
      const response = await fetch(uri);
      if (response.status !== 200) throw new Error(`HTTP ${response.status} from ${uri}`);
      return response.arrayBuffer();
    },
  };
  theirs = AlbJwtVerifier.create(
    {
      albArn: DEFAULT_TEST_ALB_ARN,
      issuer: DEFAULT_TEST_ALB_ISSUER,
      clientId: DEFAULT_TEST_ALB_CLIENT_ID,
      jwksUri: server.origin,
    },
    { jwksCache: new AlbJwksCache({ fetcher }) },
  );
});
after(() => server.close());

async function outcome(verify: () => Promise<unknown>): Promise<'accept' | string> {
  try {
    await verify();
    return 'accept';
  } catch (error) {
    return error instanceof CognitoJwtError ? error.code : (error as Error).name;
  }
}

interface Case {
  name: string;
  token: string;
  /** Set when the case is one of the documented differences. */
  divergence?: Divergence;
}

async function compare(cases: readonly Case[]): Promise<{ same: number; diverged: Record<string, number> }> {
  const diverged: Record<string, number> = {};
  let same = 0;
  for (const { name, token, divergence } of cases) {
    const mine = await outcome(() => ours.verify(token));
    const aws = await outcome(() => theirs.verify(token));
    if ((mine === 'accept') === (aws === 'accept')) {
      same++;
      continue;
    }
    assert.ok(divergence, `${name}: we ${mine}, aws-jwt-verify ${aws}, and no documented reason`);
    assert.equal(aws, 'accept', `${name}: the only documented direction is "we refuse, it accepts"`);
    assert.notEqual(mine, 'accept');
    diverged[divergence] = (diverged[divergence] ?? 0) + 1;
  }
  return { same, diverged };
}

const now = () => Date.now();
const expNow = () => Math.floor(now() / 1000) + 120;

test('hand-picked cases: the same outcome, or a documented divergence', async () => {
  const exp = expNow();
  const header = (overrides: Record<string, unknown> = {}) => ({
    typ: 'JWT',
    kid: served.kid,
    alg: 'ES256',
    iss: DEFAULT_TEST_ALB_ISSUER,
    client: DEFAULT_TEST_ALB_CLIENT_ID,
    signer: DEFAULT_TEST_ALB_ARN,
    exp,
    ...overrides,
  });
  const payload = { sub: 'user-1', email_verified: 'true', exp, iss: DEFAULT_TEST_ALB_ISSUER };
  /** The same token with the payload's last character bent in its unused bits, signed over that text. */
  const loosen = (token: string): string | undefined => {
    const [h, p] = token.split('.') as [string, string, string];
    const data = p.replace(/=+$/, '');
    if (p.length - data.length !== 2) return undefined; // 4 unused bits only with 2 padding characters
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const bent = `${data.slice(0, -1)}${alphabet[alphabet.indexOf(data.at(-1)!) + 1]}==`;
    assert.deepEqual(Buffer.from(bent, 'base64url'), Buffer.from(p, 'base64url'));
    const input = `${h}.${bent}`;
    const signature = sign('sha256', Buffer.from(input), {
      key: served.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return `${input}.${signature.toString('base64url')}==`;
  };
  let loose: string | undefined;
  for (let i = 0; loose === undefined && i < 50; i++) {
    loose = loosen(signAlbJwt(header(), { ...payload, pad: 'x'.repeat(i) }, served.privateKey));
  }
  assert.ok(loose);

  const cases: Case[] = [
    { name: 'valid', token: mintAlbToken({ key: served }) },
    {
      name: 'valid, email_verified boolean',
      token: mintAlbToken({ key: served, claims: { email_verified: true } }),
    },
    { name: 'expired', token: mintAlbToken({ key: served, expiresIn: -60 }) },
    {
      name: 'another ALB of another account',
      token: mintAlbToken({ key: served, albArn: OTHER_ALB_OTHER_ACCOUNT }),
    },
    { name: 'another region', token: mintAlbToken({ key: served, albArn: EU_ALB }) },
    { name: 'another client', token: mintAlbToken({ key: served, clientId: 'other-client' }) },
    {
      name: 'another issuer (header and payload)',
      token: mintAlbToken({
        key: served,
        issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other',
      }),
    },
    { name: 'a key the endpoint does not serve', token: mintAlbToken({ key: notServed }) },
    {
      name: 'signed by another key, served kid',
      token: mintAlbToken({ key: { ...notServed, kid: served.kid } }),
    },
    {
      name: 'P-384 key',
      token: signAlbJwt(header({ kid: p384.kid }), payload, p384.privateKey),
      divergence: 'curve',
    },
    { name: 'DER signature', token: mintAlbToken({ key: served, dsaEncoding: 'der' }) },
    { name: 'alg RS256', token: mintAlbToken({ key: served, header: { alg: 'RS256' } }) },
    { name: 'alg none', token: mintAlbToken({ key: served, header: { alg: 'none' } }) },
    { name: 'kid not a UUID', token: mintAlbToken({ key: served, header: { kid: '../x' } }) },
    { name: 'nbf in the future', token: mintAlbToken({ key: served, claims: { nbf: exp + 3600 } }) },
    { name: 'no signer', token: mintAlbToken({ key: served, header: { signer: undefined } }) },
    { name: 'no client', token: mintAlbToken({ key: served, header: { client: undefined } }) },
    {
      name: 'no exp anywhere',
      token: mintAlbToken({ key: served, header: { exp: undefined }, claims: { exp: undefined } }),
      divergence: 'no-exp',
    },
    {
      name: 'no sub',
      token: mintAlbToken({ key: served, claims: { sub: undefined } }),
      divergence: 'no-sub',
    },
    {
      name: 'unpadded, signed as such',
      token: mintAlbToken({ key: served, padding: false }),
      divergence: 'unpadded',
    },
    { name: 'non-zero unused bits, signed as such', token: loose, divergence: 'loose-bits' },
  ];
  const { same, diverged } = await compare(cases);
  assert.equal(same, cases.length - 5);
  assert.deepEqual(diverged, { 'no-exp': 1, 'no-sub': 1, unpadded: 1, 'loose-bits': 1, curve: 1 });
});

test('random combinations of signer, client, issuer, expiry, key, alg and signature form agree', async () => {
  // Each field leans to the valid value, so about one case in six is a valid token.
  const signers = [
    DEFAULT_TEST_ALB_ARN,
    DEFAULT_TEST_ALB_ARN,
    DEFAULT_TEST_ALB_ARN,
    OTHER_ALB_OTHER_ACCOUNT,
    EU_ALB,
  ];
  const clients = [
    DEFAULT_TEST_ALB_CLIENT_ID,
    DEFAULT_TEST_ALB_CLIENT_ID,
    DEFAULT_TEST_ALB_CLIENT_ID,
    'other-client',
  ];
  const issuers = [
    DEFAULT_TEST_ALB_ISSUER,
    DEFAULT_TEST_ALB_ISSUER,
    DEFAULT_TEST_ALB_ISSUER,
    'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other',
  ];
  let runs = 0;
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        signer: fc.constantFrom(...signers),
        client: fc.constantFrom(...clients),
        issuer: fc.constantFrom(...issuers),
        expiresIn: fc.constantFrom(-3600, -1, 30, 3600, 3600),
        key: fc.constantFrom('served', 'served', 'served', 'not-served', 'p384', 'wrong-key'),
        alg: fc.constantFrom('ES256', 'ES256', 'ES256', 'ES256', 'RS256', 'ES384', 'none'),
        dsaEncoding: fc.constantFrom('ieee-p1363', 'ieee-p1363', 'ieee-p1363', 'der'),
        emailVerified: fc.constantFrom('true', 'false', true, false),
        extra: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
          maxKeys: 3,
        }),
      }),
      async (c) => {
        const key =
          c.key === 'served'
            ? served
            : c.key === 'p384'
              ? p384
              : c.key === 'wrong-key'
                ? { ...notServed, kid: served.kid }
                : notServed;
        const token = mintAlbToken({
          key,
          albArn: c.signer,
          clientId: c.client,
          issuer: c.issuer,
          expiresIn: c.expiresIn,
          dsaEncoding: c.dsaEncoding as 'der' | 'ieee-p1363',
          header: { alg: c.alg },
          // sub, exp and iss stay as minted (the header and payload agree); other claims vary.
          claims: { ...withoutReserved(c.extra), email_verified: c.emailVerified },
        });
        runs++;
        const divergence: Divergence | undefined = c.key === 'p384' ? 'curve' : undefined;
        const { same } = await compare([
          { name: JSON.stringify(c), token, ...(divergence ? { divergence } : {}) },
        ]);
        if (same === 1 && (await outcome(() => ours.verify(token))) === 'accept') accepted++;
      },
    ),
    { numRuns: 300 },
  );
  assert.equal(runs, 300);
  assert.ok(
    accepted > 0,
    'some random cases are valid tokens (the generator is not only producing refusals)',
  );
  console.log(
    `# ${runs} random cases: ${accepted} valid tokens accepted by both, the rest refused by both (or, for P-384 keys, the documented divergence)`,
  );
});

function withoutReserved(claims: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (!['sub', 'exp', 'iss', 'nbf', 'iat', 'aud', 'scope', 'jti', '__proto__'].includes(name)) {
      Object.defineProperty(result, name, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return result;
}

test('a flood of made-up kids: we ask the key endpoint at the fetch rate, aws-jwt-verify once per kid', async () => {
  const flood = Array.from({ length: 100 }, () => mintAlbToken({ key: { ...notServed, kid: randomUUID() } }));
  const fresh = new AlbVerifier(
    { albArn: DEFAULT_TEST_ALB_ARN, issuer: null, clientId: null, keysUrl: server.keysUrl },
    { fetchesPerSecond: 10, fetchBurst: 2 },
  );
  const before = server.requestCount;
  const began = performance.now();
  const mine = await Promise.allSettled(flood.map((token) => fresh.verify(token)));
  const elapsedMs = performance.now() - began;
  const oursCount = server.requestCount - before;
  const awsBefore = server.requestCount;
  const aws = await Promise.allSettled(flood.map((token) => theirs.verify(token)));
  const awsCount = server.requestCount - awsBefore;
  assert.ok(mine.every((result) => result.status === 'rejected'));
  assert.ok(aws.every((result) => result.status === 'rejected'));
  // The burst, then one per refill interval while kids wait (two intervals at most).
  assert.ok(oursCount <= 2 + Math.floor(elapsedMs / 100), `${oursCount} requests in ${elapsedMs} ms`);
  // aws-jwt-verify asks once per kid, and retries a failed request once: recorded, not a limit of ours.
  assert.ok(awsCount >= flood.length, `aws-jwt-verify made ${awsCount} requests`);
  console.log(
    `# flood of ${flood.length} unknown kids: cognito-jwt ${oursCount} request(s) in ${Math.round(elapsedMs)} ms, aws-jwt-verify ${awsCount}`,
  );
});
