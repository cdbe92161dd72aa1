/**
 * Every attack on the load balancer's token listed in issue 15, each against a real key endpoint on
 * loopback and tokens signed with real P-256 keys. Where an attack should be stopped before any
 * key is fetched, the test also checks that the endpoint was not asked.
 */
import assert from 'node:assert/strict';
import { randomUUID, sign } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ALB_HEADERS, AlbVerifier } from '../../src/alb/index.ts';
import {
  DEFAULT_TEST_ALB_ARN,
  DEFAULT_TEST_ALB_ISSUER,
  generateAlbKeyPair,
  generateKeyPair,
  mintAlbToken,
  signAlbJwt,
} from '../../src/testing/index.ts';
import { generateKeyObjects } from '../../src/testing/key-objects.ts';
import { rejectsCode } from '../helpers/assert-error.ts';
import {
  type AlbFixture,
  EU_ALB,
  OTHER_ALB_OTHER_ACCOUNT,
  OTHER_ALB_SAME_REGION,
  startAlbFixture,
} from './fixture.ts';

let fixture: AlbFixture;
let requestsBefore: number;
before(async () => {
  fixture = await startAlbFixture({}, { cooldownMs: 0 });
  await fixture.verifier.verify(mintAlbToken({ key: fixture.key })); // the right key is held from here on
});
beforeEach(() => {
  requestsBefore = fixture.server.requestCount;
});
after(() => fixture.close());

const noRequest = () =>
  assert.equal(fixture.server.requestCount, requestsBefore, 'the key endpoint was asked');
const pad = (text: string) => text.padEnd(Math.ceil(text.length / 4) * 4, '=');
const segment = (value: unknown) => pad(Buffer.from(JSON.stringify(value)).toString('base64url'));

describe('another load balancer', () => {
  for (const [name, albArn] of [
    ['same account and region', OTHER_ALB_SAME_REGION],
    ['another account', OTHER_ALB_OTHER_ACCOUNT],
    ['another region', EU_ALB],
    ['the ARN with a suffix', `${DEFAULT_TEST_ALB_ARN}x`],
    ['the ARN in upper case', DEFAULT_TEST_ALB_ARN.toUpperCase()],
  ] as const) {
    test(`a token signed through the regional key service for ${name} is refused before any fetch`, async () => {
      await rejectsCode(
        fixture.verifier.verify(mintAlbToken({ key: fixture.key, albArn })),
        'ERR_ALB_SIGNER_MISMATCH',
        {
          claim: 'signer',
        },
      );
      noRequest();
    });
  }

  test('ALBeast: any issuer the other ALB likes does not help it', async () => {
    const token = mintAlbToken({
      key: fixture.key,
      albArn: OTHER_ALB_OTHER_ACCOUNT,
      issuer: DEFAULT_TEST_ALB_ISSUER,
    });
    await rejectsCode(fixture.verifier.verify(token), 'ERR_ALB_SIGNER_MISMATCH');
  });

  test('no signer, or a signer that is not a string', async () => {
    for (const signer of [undefined, null, 42, [DEFAULT_TEST_ALB_ARN]]) {
      await rejectsCode(
        fixture.verifier.verify(mintAlbToken({ key: fixture.key, header: { signer } })),
        'ERR_ALB_SIGNER_MISMATCH',
      );
    }
    noRequest();
  });
});

describe('the kid never reaches a URL unless it is a UUID', () => {
  const kids = [
    '../../etc/passwd',
    `${randomUUID()}/..`,
    `../${randomUUID()}`,
    `${randomUUID()}%2F..`,
    '%2F%2E%2E%2F',
    `${randomUUID()}/`,
    `${randomUUID()}?x=1`,
    `${randomUUID()}#`,
    `${randomUUID()} `,
    `${randomUUID()}\n`,
    'a'.repeat(36),
    '',
    42,
    null,
  ];
  for (const kid of kids) {
    test(`kid ${JSON.stringify(kid)} is malformed, and nothing is fetched`, async () => {
      await rejectsCode(
        fixture.verifier.verify(mintAlbToken({ key: fixture.key, header: { kid } })),
        'ERR_TOKEN_MALFORMED',
        {
          claim: 'kid',
        },
      );
      noRequest();
    });
  }
});

describe('the signature', () => {
  test('a DER signature (what most ECDSA APIs return) is refused', async () => {
    await rejectsCode(
      fixture.verifier.verify(mintAlbToken({ key: fixture.key, dsaEncoding: 'der' })),
      'ERR_SIGNATURE_INVALID',
    );
  });

  test('r or s of 0, of the curve order n, or above it, is refused', async () => {
    const n = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
    const valid = mintAlbToken({ key: fixture.key });
    const [h, p, s] = valid.split('.') as [string, string, string];
    const signature = Buffer.from(s, 'base64url');
    const r = signature.subarray(0, 32);
    const sValue = signature.subarray(32);
    for (const [name, bytes] of [
      ['r = 0', Buffer.concat([Buffer.alloc(32), sValue])],
      ['s = 0', Buffer.concat([r, Buffer.alloc(32)])],
      ['r = n', Buffer.concat([n, sValue])],
      ['s = n', Buffer.concat([r, n])],
      ['r = 2^256 - 1', Buffer.concat([Buffer.alloc(32, 0xff), sValue])],
      ['all zero', Buffer.alloc(64)],
    ] as const) {
      const token = `${h}.${p}.${pad(bytes.toString('base64url'))}`;
      await rejectsCode(fixture.verifier.verify(token), 'ERR_SIGNATURE_INVALID', {
        message: 'signature',
      }).catch((error) => {
        throw new Error(`${name}: ${error.message}`);
      });
    }
  });

  test('a signature of 63, 65 or 96 bytes is refused', async () => {
    const [h, p] = mintAlbToken({ key: fixture.key }).split('.') as [string, string, string];
    for (const length of [0, 63, 65, 96]) {
      const token = `${h}.${p}.${length === 0 ? '' : pad(Buffer.alloc(length, 1).toString('base64url'))}`;
      await rejectsCode(
        fixture.verifier.verify(token),
        length === 0 ? 'ERR_TOKEN_MALFORMED' : 'ERR_SIGNATURE_INVALID',
      );
    }
  });
});

describe('padding', () => {
  test('padding removed from a valid token is refused (the signature covers the padded text)', async () => {
    const token = mintAlbToken({ key: fixture.key });
    assert.ok(token.includes('='));
    await rejectsCode(fixture.verifier.verify(token.replaceAll('=', '')), 'ERR_TOKEN_MALFORMED');
  });

  test('an unpadded token correctly signed over its unpadded text (an ordinary JWT) is refused', async () => {
    const token = mintAlbToken({ key: fixture.key, padding: false });
    await rejectsCode(fixture.verifier.verify(token), 'ERR_TOKEN_MALFORMED', { message: 'padding' });
  });

  test('padding added, signed over the over-padded text, is refused', async () => {
    const header = {
      typ: 'JWT',
      kid: fixture.key.kid,
      alg: 'ES256',
      iss: DEFAULT_TEST_ALB_ISSUER,
      client: 'testclient1234567890abcdef',
      signer: DEFAULT_TEST_ALB_ARN,
      exp: Math.floor(Date.now() / 1000) + 60,
    };
    const input = `${segment(header)}====.${segment({ sub: 'user-1' })}`;
    const signature = sign('sha256', Buffer.from(input), {
      key: fixture.key.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    await rejectsCode(
      fixture.verifier.verify(`${input}.${pad(signature.toString('base64url'))}`),
      'ERR_TOKEN_MALFORMED',
    );
  });
});

describe('the algorithm and the key', () => {
  for (const alg of ['RS256', 'none', 'HS256', 'ES384', 'es256', undefined]) {
    test(`alg ${JSON.stringify(alg)} is refused before any fetch`, async () => {
      await rejectsCode(
        fixture.verifier.verify(mintAlbToken({ key: fixture.key, header: { alg } })),
        'ERR_ALG_UNSUPPORTED',
        {
          claim: 'alg',
        },
      );
      noRequest();
    });
  }

  test('an RS256 token signed with an RSA key, the way an ordinary JWT library would, is refused', async () => {
    const rsa = generateKeyPair();
    const token = signAlbJwt({ alg: 'RS256', kid: fixture.key.kid }, { sub: 'x' }, rsa.privateKey);
    await rejectsCode(fixture.verifier.verify(token), 'ERR_ALG_UNSUPPORTED');
  });

  test('alg none with an empty signature is refused', async () => {
    const token = `${segment({ alg: 'none', kid: fixture.key.kid, signer: DEFAULT_TEST_ALB_ARN })}.${segment({ sub: 'admin' })}.`;
    await rejectsCode(fixture.verifier.verify(token), 'ERR_TOKEN_MALFORMED');
  });

  test('a P-384 key served for the kid is refused as unusable, though the signature would check', async () => {
    const p384 = generateAlbKeyPair({ namedCurve: 'P-384' });
    fixture.server.setKeys([fixture.key, p384]);
    await rejectsCode(fixture.verifier.verify(mintAlbToken({ key: p384 })), 'ERR_KEY_INVALID', {
      message: 'P-256',
    });
  });

  test('an RSA or Ed25519 key served as a PEM is refused as unusable', async () => {
    const rsa = generateKeyPair();
    const rsaKid = randomUUID();
    const ed = generateKeyObjects({ type: 'ed25519' });
    const edKid = randomUUID();
    fixture.server.setKeys([
      fixture.key,
      {
        kid: rsaKid,
        privateKey: rsa.privateKey,
        publicKey: rsa.publicKey,
        publicPem: rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
      {
        kid: edKid,
        privateKey: ed.privateKey,
        publicKey: ed.publicKey,
        publicPem: ed.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    ]);
    const other = generateAlbKeyPair();
    for (const kid of [rsaKid, edKid]) {
      await rejectsCode(fixture.verifier.verify(mintAlbToken({ key: { ...other, kid } })), 'ERR_KEY_INVALID');
    }
  });

  test('a token signed by another P-256 key under the right kid is refused', async () => {
    const impostor = { ...generateAlbKeyPair(), kid: fixture.key.kid };
    await rejectsCode(fixture.verifier.verify(mintAlbToken({ key: impostor })), 'ERR_SIGNATURE_INVALID');
    noRequest();
  });
});

describe('expiry and agreement between header and payload', () => {
  test('an expired token is refused before any fetch', async () => {
    await rejectsCode(
      fixture.verifier.verify(mintAlbToken({ key: fixture.key, expiresIn: -1 })),
      'ERR_TOKEN_EXPIRED',
      {
        claim: 'exp',
      },
    );
    noRequest();
  });

  test('no exp in the header is refused, even with one in the payload', async () => {
    for (const claims of [{}, { exp: undefined }]) {
      await rejectsCode(
        fixture.verifier.verify(mintAlbToken({ key: fixture.key, header: { exp: undefined }, claims })),
        'ERR_CLAIM_INVALID',
        { claim: 'exp' },
      );
    }
  });

  test('exp that is not a number of seconds is refused', async () => {
    for (const exp of ['9999999999', 1e300, Number.MAX_VALUE, null, true]) {
      await rejectsCode(
        fixture.verifier.verify(mintAlbToken({ key: fixture.key, header: { exp }, claims: { exp } })),
        'ERR_CLAIM_INVALID',
        { claim: 'exp' },
      );
    }
  });

  test('a payload exp later than the header exp (or earlier, or a string) is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const exp of [now + 86_400, now + 30, `${now + 120}`]) {
      await rejectsCode(
        fixture.verifier.verify(mintAlbToken({ key: fixture.key, now: now * 1000, claims: { exp } })),
        'ERR_CLAIM_INVALID',
        {
          claim: 'exp',
        },
      );
    }
  });

  test('a payload iss other than the header iss is refused', async () => {
    await rejectsCode(
      fixture.verifier.verify(
        mintAlbToken({
          key: fixture.key,
          claims: { iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Evil' },
        }),
      ),
      'ERR_CLAIM_INVALID',
      { claim: 'iss' },
    );
  });

  test('a header iss other than the configured one is refused, whatever the payload says', async () => {
    const evil = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Evil';
    await rejectsCode(
      fixture.verifier.verify(
        mintAlbToken({ key: fixture.key, header: { iss: evil }, claims: { iss: DEFAULT_TEST_ALB_ISSUER } }),
      ),
      'ERR_ISSUER_MISMATCH',
      { claim: 'iss' },
    );
    noRequest();
  });

  test('another app client is refused before any fetch', async () => {
    await rejectsCode(
      fixture.verifier.verify(mintAlbToken({ key: fixture.key, clientId: 'other' })),
      'ERR_CLIENT_MISMATCH',
      {
        claim: 'client',
      },
    );
    noRequest();
  });
});

describe('the identity header', () => {
  test('x-amzn-oidc-identity naming someone else than the verified sub is refused with its own code', async () => {
    const data = mintAlbToken({ key: fixture.key, sub: 'user-1' });
    for (const identity of ['admin', 'user-1 ', 'USER-1', 'user-2']) {
      await rejectsCode(
        fixture.verifier.verifyRequest({ [ALB_HEADERS.data]: data, [ALB_HEADERS.identity]: identity }),
        'ERR_ALB_IDENTITY_MISMATCH',
      );
    }
  });

  test('x-amzn-oidc-identity alone, without the signed data, is refused', async () => {
    await rejectsCode(
      fixture.verifier.verifyRequest({ [ALB_HEADERS.identity]: 'admin' }),
      'ERR_ALB_DATA_MISSING',
    );
  });
});

describe('a flood of unknown kids', () => {
  test('a kid that was not found fails fast for cooldownMs, that kid only; other kids are still fetched', async () => {
    let now = Date.now();
    const verifier = new AlbVerifier(
      { albArn: DEFAULT_TEST_ALB_ARN, issuer: null, clientId: null, keysUrl: fixture.server.keysUrl },
      { cooldownMs: 30_000, clock: () => now, fetchesPerSecond: 1_000 },
    );
    const bogusKid = randomUUID();
    const bogus = () => mintAlbToken({ key: { ...fixture.key, kid: bogusKid }, now });
    const start = fixture.server.requestCount;
    await rejectsCode(verifier.verify(bogus()), 'ERR_KEY_NOT_FOUND');
    for (let i = 0; i < 50; i++) {
      await rejectsCode(verifier.verify(bogus()), 'ERR_KEY_NOT_FOUND', { message: 'not asked again' });
    }
    assert.equal(fixture.server.requestCount - start, 1);

    // The old endpoint-wide cooldown refused every unknown kid here, the real key included.
    assert.ok(await verifier.verify(mintAlbToken({ key: fixture.key, now })));
    assert.equal(fixture.server.requestCount - start, 2);

    now += 30_001; // that kid's cooldown is over: asked once more
    await rejectsCode(verifier.verify(bogus()), 'ERR_KEY_NOT_FOUND');
    assert.equal(fixture.server.requestCount - start, 3);
  });

  test('200 made-up kids at once: the burst is fetched, the rest wait (at most 32) or are dropped', async () => {
    const verifier = new AlbVerifier(
      { albArn: DEFAULT_TEST_ALB_ARN, issuer: null, clientId: null, keysUrl: fixture.server.keysUrl },
      { fetchesPerSecond: 20, fetchBurst: 2 },
    );
    const forge = () => mintAlbToken({ key: { ...fixture.key, kid: randomUUID() } });
    const start = fixture.server.requestCount;
    const began = performance.now();
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => verifier.verify(forge())));
    const elapsedMs = performance.now() - began;
    assert.ok(results.every((result) => result.status === 'rejected'));
    const codes = new Set(results.map((result) => (result as PromiseRejectedResult).reason.code));
    assert.deepEqual([...codes].sort(), ['ERR_KEY_NOT_FOUND', 'ERR_KID_COOLDOWN']);
    const requests = fixture.server.requestCount - start;
    assert.ok(requests <= 2 + Math.floor((elapsedMs * 20) / 1000), `${requests} requests in ${elapsedMs} ms`);
    // Waiting kids are given up after two refill intervals (100 ms here), not held for long.
    assert.ok(elapsedMs < 2_000, `${elapsedMs} ms`);
  });
});
