import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ALB_HEADERS,
  AlbKeyCache,
  AlbVerifier,
  type AlbVerifierConfig,
  readHeader,
} from '../../src/alb/index.ts';
import {
  buildJwks,
  DEFAULT_TEST_ALB_ARN,
  DEFAULT_TEST_ALB_CLIENT_ID,
  DEFAULT_TEST_ALB_ISSUER,
  generateAlbKeyPair,
  generateKeyPair,
  mintAccessToken,
  mintAlbToken,
  startAlbKeyServer,
} from '../../src/testing/index.ts';
import { CognitoVerifier } from '../../src/verify/verifier.ts';
import { rejectsCode, throwsCode } from '../helpers/assert-error.ts';
import { type AlbFixture, EU_ALB, startAlbFixture } from './fixture.ts';

const GOV_ALB =
  'arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:123456789012:loadbalancer/app/gov/0123456789abcdef';
const CN_ALB = 'arn:aws-cn:elasticloadbalancing:cn-north-1:123456789012:loadbalancer/app/cn/0123456789abcdef';

describe('AlbVerifier: the happy path', () => {
  let fixture: AlbFixture;
  before(async () => {
    fixture = await startAlbFixture();
  });
  after(() => fixture.close());

  test('a token as the load balancer writes it verifies, with its header; claims are frozen', async () => {
    const token = mintAlbToken({ key: fixture.key, sub: 'user-1', claims: { email: 'u@example.com' } });
    const { claims, header } = await fixture.verifier.verifyWithHeader(token);
    assert.equal(claims.sub, 'user-1');
    assert.equal(claims.email, 'u@example.com');
    assert.equal(claims.email_verified, 'true');
    assert.equal(header.signer, DEFAULT_TEST_ALB_ARN);
    assert.equal(header.client, DEFAULT_TEST_ALB_CLIENT_ID);
    assert.ok(Object.isFrozen(claims) && Object.isFrozen(header));
    assert.equal((await fixture.verifier.verify(token)).sub, 'user-1');
    assert.equal(fixture.verifier.verifySync(token).claims.sub, 'user-1');
    assert.deepEqual(fixture.server.paths, [`/${fixture.key.kid}`]);
  });

  test('a payload without exp and iss is accepted (the header carries them)', async () => {
    const token = mintAlbToken({ key: fixture.key, claims: { exp: undefined, iss: undefined } });
    assert.ok((await fixture.verifier.verify(token)).sub);
  });

  test('verifySync never fetches: a key not held yet is ERR_KEYS_NOT_LOADED', async () => {
    const other = generateAlbKeyPair();
    fixture.server.setKeys([fixture.key, other]);
    const before = fixture.server.requestCount;
    throwsCode(() => fixture.verifier.verifySync(mintAlbToken({ key: other })), 'ERR_KEYS_NOT_LOADED');
    assert.equal(fixture.server.requestCount, before);
  });

  test('clockToleranceSeconds lets a just-expired token through, not more', async () => {
    const now = Date.now();
    const lenient = new AlbVerifier(
      {
        albArn: DEFAULT_TEST_ALB_ARN,
        issuer: null,
        clientId: null,
        keysUrl: fixture.server.keysUrl,
        clockToleranceSeconds: 30,
      },
      { clock: () => now },
    );
    assert.ok(await lenient.verify(mintAlbToken({ key: fixture.key, now, expiresIn: -10 })));
    await rejectsCode(
      lenient.verify(mintAlbToken({ key: fixture.key, now, expiresIn: -31 })),
      'ERR_TOKEN_EXPIRED',
    );
  });
});

describe('AlbVerifier: configuration', () => {
  const base: AlbVerifierConfig = { albArn: DEFAULT_TEST_ALB_ARN, issuer: null, clientId: null };

  test('issuer and clientId are required, null opts out; albArn is required', () => {
    const { issuer: _i, ...noIssuer } = base;
    const { clientId: _c, ...noClient } = base;
    const { albArn: _a, ...noArn } = base;
    throwsCode(() => new AlbVerifier(noIssuer as AlbVerifierConfig), 'ERR_CONFIG_INVALID', {
      message: 'issuer is required',
    });
    throwsCode(() => new AlbVerifier(noClient as AlbVerifierConfig), 'ERR_CONFIG_INVALID', {
      message: 'clientId is required',
    });
    throwsCode(() => new AlbVerifier(noArn as AlbVerifierConfig), 'ERR_CONFIG_INVALID', {
      message: 'albArn',
    });
    throwsCode(() => new AlbVerifier({ ...base, issuer: [] }), 'ERR_CONFIG_INVALID');
    throwsCode(() => new AlbVerifier({ ...base, clientId: '' }), 'ERR_CONFIG_INVALID');
    throwsCode(() => new AlbVerifier(undefined as unknown as AlbVerifierConfig), 'ERR_CONFIG_INVALID');
  });

  test('unknown keys are refused, with the nearest name; options in the wrong object are named', () => {
    throwsCode(() => new AlbVerifier({ ...base, albArns: 'x' } as AlbVerifierConfig), 'ERR_CONFIG_INVALID', {
      message: 'did you mean "albArn"',
    });
    throwsCode(() => new AlbVerifier(base, { cooldown: 5 } as never), 'ERR_CONFIG_INVALID', {
      message: 'did you mean "cooldownMs"',
    });
    throwsCode(() => new AlbVerifier(base, { clientId: 'x' } as never), 'ERR_CONFIG_INVALID', {
      message: 'part of the config',
    });
    throwsCode(() => new AlbVerifier(base, { cooldownMs: -1 }), 'ERR_CONFIG_INVALID', {
      message: 'cooldownMs',
    });
    throwsCode(() => new AlbVerifier(base, { accessToken: {} as never }), 'ERR_CONFIG_INVALID', {
      message: 'accessToken',
    });
    throwsCode(
      () => new AlbVerifier(base, { keyCache: new AlbKeyCache(), cooldownMs: 5 }),
      'ERR_CONFIG_INVALID',
      {
        message: 'shared keyCache',
      },
    );
  });

  test('ARNs: only application load balancers, region within its partition, 12-digit account', () => {
    for (const bad of [
      'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/nlb/0123456789abcdef',
      'arn:aws:elasticloadbalancing:us-east-1:1234:loadbalancer/app/a/0123456789abcdef',
      'arn:aws:elasticloadbalancing:us-gov-west-1:123456789012:loadbalancer/app/a/0123456789abcdef',
      'arn:aws-us-gov:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/a/0123456789abcdef',
      'arn:aws:elasticloadbalancing:us-east-1/../x:123456789012:loadbalancer/app/a/0123456789abcdef',
      'arn:aws:elasticloadbalancing:evil.com#:123456789012:loadbalancer/app/a/0123456789abcdef',
      `${DEFAULT_TEST_ALB_ARN}\n`,
    ]) {
      throwsCode(() => new AlbVerifier({ ...base, albArn: bad }), 'ERR_CONFIG_INVALID');
    }
  });

  test('keysUrl: https, or http on loopback; no query; {region} filled from the ARN', () => {
    throwsCode(() => new AlbVerifier({ ...base, keysUrl: 'http://keys.example.com' }), 'ERR_CONFIG_INVALID');
    throwsCode(
      () => new AlbVerifier({ ...base, keysUrl: 'https://keys.example.com/?x=' }),
      'ERR_CONFIG_INVALID',
    );
    const verifier = new AlbVerifier({
      ...base,
      albArn: [DEFAULT_TEST_ALB_ARN, EU_ALB],
      keysUrl: 'https://keys.example.com/{region}/',
    });
    assert.deepEqual(
      verifier.signers.map((signer) => signer.keysBase),
      ['https://keys.example.com/us-east-1', 'https://keys.example.com/eu-west-1'],
    );
  });

  test('default key endpoints: commercial and GovCloud forms; China needs keysUrl', () => {
    const verifier = new AlbVerifier({ ...base, albArn: [DEFAULT_TEST_ALB_ARN, EU_ALB, GOV_ALB] });
    assert.deepEqual(
      verifier.signers.map((signer) => signer.keysBase),
      [
        'https://public-keys.auth.elb.us-east-1.amazonaws.com',
        'https://public-keys.auth.elb.eu-west-1.amazonaws.com',
        'https://s3-us-gov-west-1.amazonaws.com/aws-elb-public-keys-prod-us-gov-west-1',
      ],
    );
    throwsCode(() => new AlbVerifier({ ...base, albArn: CN_ALB }), 'ERR_CONFIG_INVALID', {
      message: 'keysUrl',
    });
    const china = new AlbVerifier({
      ...base,
      albArn: CN_ALB,
      keysUrl: 'https://public-keys.auth.elb.{region}.amazonaws.com.cn',
    });
    assert.equal(china.signers[0]?.keysBase, 'https://public-keys.auth.elb.cn-north-1.amazonaws.com.cn');
  });
});

describe('AlbVerifier: keys', () => {
  test('the key URL is built from the configured ARN of the signer: each region its own endpoint', async () => {
    const key = generateAlbKeyPair();
    const euKey = generateAlbKeyPair();
    const server = await startAlbKeyServer({ keys: [key, euKey] });
    try {
      const verifier = new AlbVerifier({
        albArn: [DEFAULT_TEST_ALB_ARN, EU_ALB],
        issuer: null,
        clientId: null,
        keysUrl: `${server.origin}/{region}`,
      });
      await verifier.verify(mintAlbToken({ key }));
      await verifier.verify(mintAlbToken({ key: euKey, albArn: EU_ALB }));
      assert.deepEqual(server.paths, [`/us-east-1/${key.kid}`, `/eu-west-1/${euKey.kid}`]);
    } finally {
      await server.close();
    }
  });

  test('without keysUrl, the real endpoint URL is asked for (routed to loopback by the fetch option)', async () => {
    const key = generateAlbKeyPair();
    const server = await startAlbKeyServer({ keys: [key] });
    const asked: string[] = [];
    try {
      const verifier = new AlbVerifier(
        { albArn: [EU_ALB, GOV_ALB], issuer: null, clientId: null },
        {
          fetch: (input, init) => {
            const url = new URL(String(input));
            asked.push(url.href);
            return fetch(`${server.origin}/${url.host}${url.pathname}`, init);
          },
        },
      );
      await verifier.verify(mintAlbToken({ key, albArn: EU_ALB }));
      await verifier.verify(mintAlbToken({ key, albArn: GOV_ALB }));
      assert.deepEqual(asked, [
        `https://public-keys.auth.elb.eu-west-1.amazonaws.com/${key.kid}`,
        `https://s3-us-gov-west-1.amazonaws.com/aws-elb-public-keys-prod-us-gov-west-1/${key.kid}`,
      ]);
    } finally {
      await server.close();
    }
  });

  test('50 concurrent tokens with one new kid make one request (single-flight); then none', async () => {
    const fixture = await startAlbFixture();
    try {
      const tokens = Array.from({ length: 50 }, () => mintAlbToken({ key: fixture.key }));
      const results = await Promise.all(tokens.map((token) => fixture.verifier.verify(token)));
      assert.equal(results.length, 50);
      assert.equal(fixture.server.requestCount, 1);
      await fixture.verifier.verify(mintAlbToken({ key: fixture.key }));
      assert.equal(fixture.server.requestCount, 1);
    } finally {
      await fixture.close();
    }
  });

  test('two new kids at once are both fetched (a found key starts no cooldown)', async () => {
    const [first, second] = [generateAlbKeyPair(), generateAlbKeyPair()];
    const server = await startAlbKeyServer({ keys: [first, second] });
    try {
      const verifier = new AlbVerifier({
        albArn: DEFAULT_TEST_ALB_ARN,
        issuer: null,
        clientId: null,
        keysUrl: server.keysUrl,
      });
      await Promise.all([
        verifier.verify(mintAlbToken({ key: first })),
        verifier.verify(mintAlbToken({ key: second })),
      ]);
      assert.equal(server.requestCount, 2);
    } finally {
      await server.close();
    }
  });

  test('the cache is bounded: the least recently used key is dropped and fetched again', async () => {
    const keys = [generateAlbKeyPair(), generateAlbKeyPair(), generateAlbKeyPair()];
    const server = await startAlbKeyServer({ keys });
    try {
      const verifier = new AlbVerifier(
        { albArn: DEFAULT_TEST_ALB_ARN, issuer: null, clientId: null, keysUrl: server.keysUrl },
        { maxKeys: 2, fetchesPerSecond: 1_000 },
      );
      for (const key of keys) await verifier.verify(mintAlbToken({ key }));
      assert.equal(verifier.keyCache.size, 2);
      await verifier.verify(mintAlbToken({ key: keys[2]! })); // held
      assert.equal(server.requestCount, 3);
      await verifier.verify(mintAlbToken({ key: keys[0]! })); // dropped, fetched again
      assert.equal(server.requestCount, 4);
    } finally {
      await server.close();
    }
  });

  test('an endpoint that fails is a 503; nothing is remembered for the kid, the next request asks again', async () => {
    const key = generateAlbKeyPair();
    const server = await startAlbKeyServer({ keys: [key] });
    let calls = 0;
    const failingOnce: typeof fetch = (input, init) => {
      calls++;
      return calls === 1 ? Promise.reject(new Error('connect ECONNREFUSED')) : fetch(input, init);
    };
    try {
      const verifier = new AlbVerifier(
        { albArn: DEFAULT_TEST_ALB_ARN, issuer: null, clientId: null, keysUrl: server.keysUrl },
        { fetch: failingOnce },
      );
      await rejectsCode(verifier.verify(mintAlbToken({ key })), 'ERR_JWKS_FETCH_FAILED', {
        status: 503,
        message: 'ECONNREFUSED',
      });
      assert.ok(await verifier.verify(mintAlbToken({ key })));
      assert.equal(calls, 2);
    } finally {
      await server.close();
    }
  });

  test('a key answer larger than maxBytes, or not a PEM, is refused', async () => {
    const key = generateAlbKeyPair();
    const { createServer } = await import('node:http');
    const bodies = [
      'x'.repeat(10_000),
      `-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`,
      `junk\n${key.publicPem}`,
    ];
    let next = 0;
    const server = createServer((_request, response) => response.end(bodies[next++]));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const verifier = new AlbVerifier(
        { albArn: DEFAULT_TEST_ALB_ARN, issuer: null, clientId: null, keysUrl: origin },
        { cooldownMs: 0 },
      );
      await rejectsCode(verifier.verify(mintAlbToken({ key })), 'ERR_JWKS_FETCH_FAILED', {
        message: 'bytes',
      });
      await rejectsCode(verifier.verify(mintAlbToken({ key })), 'ERR_KEY_INVALID', { message: 'PEM' });
      await rejectsCode(verifier.verify(mintAlbToken({ key })), 'ERR_KEY_INVALID', { message: 'PEM' });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('AlbVerifier.verifyRequest: the three headers', () => {
  let fixture: AlbFixture;
  before(async () => {
    fixture = await startAlbFixture();
  });
  after(() => fixture.close());

  test('Node headers, Fetch Headers and mixed-case objects are read; the identity header must be the sub', async () => {
    const data = mintAlbToken({ key: fixture.key, sub: 'user-1' });
    const node = { [ALB_HEADERS.data]: data, [ALB_HEADERS.identity]: 'user-1' };
    assert.equal((await fixture.verifier.verifyRequest(node)).claims.sub, 'user-1');
    const web = new Headers({ 'X-Amzn-Oidc-Data': data, 'X-Amzn-Oidc-Identity': 'user-1' });
    assert.equal((await fixture.verifier.verifyRequest(web)).claims.sub, 'user-1');
    assert.equal((await fixture.verifier.verifyRequest({ 'X-Amzn-Oidc-Data': data })).claims.sub, 'user-1');
    assert.equal(
      (await fixture.verifier.verifyRequest({ [ALB_HEADERS.data]: [data] })).accessToken,
      undefined,
    );
  });

  test('the identity header disagreeing with the verified sub is ERR_ALB_IDENTITY_MISMATCH', async () => {
    const data = mintAlbToken({ key: fixture.key, sub: 'user-1' });
    await rejectsCode(
      fixture.verifier.verifyRequest({ [ALB_HEADERS.data]: data, [ALB_HEADERS.identity]: 'admin' }),
      'ERR_ALB_IDENTITY_MISMATCH',
      { claim: 'sub', status: 401 },
    );
  });

  test('no data header is ERR_ALB_DATA_MISSING; a header sent twice is malformed', async () => {
    await rejectsCode(
      fixture.verifier.verifyRequest({ [ALB_HEADERS.identity]: 'user-1' }),
      'ERR_ALB_DATA_MISSING',
    );
    await rejectsCode(fixture.verifier.verifyRequest(new Headers()), 'ERR_ALB_DATA_MISSING');
    const data = mintAlbToken({ key: fixture.key });
    throwsCode(
      () => readHeader({ [ALB_HEADERS.data]: [data, data] }, ALB_HEADERS.data),
      'ERR_TOKEN_MALFORMED',
    );
    const twice = new Headers();
    twice.append(ALB_HEADERS.data, data);
    twice.append(ALB_HEADERS.data, data);
    await rejectsCode(fixture.verifier.verifyRequest(twice), 'ERR_TOKEN_MALFORMED');
  });

  test('with accessToken, x-amzn-oidc-accesstoken is verified and bound to the same sub and client', async () => {
    const cognitoKey = generateKeyPair();
    const access = new CognitoVerifier(
      {
        userPoolId: 'us-east-1_TestPool1',
        clientId: DEFAULT_TEST_ALB_CLIENT_ID,
        tokenUse: 'access',
        jwks: buildJwks(cognitoKey),
      },
      { offline: true }, // keys from the snapshot only: an unknown kid fetches nothing
    );
    const verifier = new AlbVerifier(
      {
        albArn: DEFAULT_TEST_ALB_ARN,
        issuer: DEFAULT_TEST_ALB_ISSUER,
        clientId: DEFAULT_TEST_ALB_CLIENT_ID,
        keysUrl: fixture.server.keysUrl,
      },
      { accessToken: access },
    );
    const data = mintAlbToken({ key: fixture.key, sub: 'user-1' });
    const accessToken = mintAccessToken({
      key: cognitoKey,
      clientId: DEFAULT_TEST_ALB_CLIENT_ID,
      sub: 'user-1',
      groups: ['admin'],
    });
    const identity = await verifier.verifyRequest<{ 'cognito:groups': string[] }>({
      [ALB_HEADERS.data]: data,
      [ALB_HEADERS.identity]: 'user-1',
      [ALB_HEADERS.accessToken]: accessToken,
    });
    assert.deepEqual(identity.accessToken?.['cognito:groups'], ['admin']);

    const someoneElse = mintAccessToken({
      key: cognitoKey,
      clientId: DEFAULT_TEST_ALB_CLIENT_ID,
      sub: 'user-2',
    });
    await rejectsCode(
      verifier.verifyRequest({ [ALB_HEADERS.data]: data, [ALB_HEADERS.accessToken]: someoneElse }),
      'ERR_ALB_ACCESS_TOKEN_MISMATCH',
      { claim: 'sub' },
    );
    await rejectsCode(verifier.verifyRequest({ [ALB_HEADERS.data]: data }), 'ERR_ALB_DATA_MISSING', {
      message: ALB_HEADERS.accessToken,
    });
    const forged = mintAccessToken({
      key: generateKeyPair(),
      clientId: DEFAULT_TEST_ALB_CLIENT_ID,
      sub: 'user-1',
    });
    await rejectsCode(
      verifier.verifyRequest({ [ALB_HEADERS.data]: data, [ALB_HEADERS.accessToken]: forged }),
      'ERR_KEY_NOT_FOUND',
    );
  });
});
