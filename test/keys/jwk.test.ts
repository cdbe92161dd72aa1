import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { CognitoVerifier } from '../../src/index.ts';
import { importJwk, importJwks, type Jwk, MAX_KEYS_PER_JWKS, MAX_KID_LENGTH } from '../../src/keys/jwk.ts';
import { generateKeyPair, mintIdToken, startJwksServer } from '../../src/testing/index.ts';
import { rejectsCode, throwsCode } from '../helpers/assert-error.ts';

const key = generateKeyPair();
const cognitoJwk: Jwk = key.publicJwk;

/** The public JWK with some members changed; `undefined` removes a member. */
function jwkWith(changes: Record<string, unknown>): Record<string, unknown> {
  const jwk: Record<string, unknown> = { ...cognitoJwk };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete jwk[name];
    else jwk[name] = value;
  }
  return jwk;
}

/** A modulus of exactly `bits` bits (top bit set, odd); not a product of primes, which import does not check. */
function modulus(bits: number): string {
  const bytes = randomBytes(Math.ceil(bits / 8));
  const topBits = bits % 8 || 8;
  bytes[0] = (bytes[0]! & ((1 << topBits) - 1)) | (1 << (topBits - 1));
  bytes[bytes.length - 1]! |= 1;
  return bytes.toString('base64url');
}

function refused(jwk: unknown, message: string | RegExp): void {
  throwsCode(() => importJwk(jwk), 'ERR_KEY_INVALID', { message, status: 401, claim: 'kid' });
}

describe('importJwk: only RSA signing keys that verify RS256', () => {
  test('a Cognito-shaped JWK imports once into a KeyObject with public members only', () => {
    const imported = importJwk(cognitoJwk);
    assert.equal(imported.kid, key.kid);
    assert.equal(imported.key.type, 'public');
    assert.equal(imported.key.asymmetricKeyType, 'rsa');
    assert.equal(imported.signatureLength, 256);
    assert.deepEqual(imported.jwk, {
      kty: 'RSA',
      kid: key.kid,
      n: cognitoJwk.n,
      e: 'AQAB',
      alg: 'RS256',
      use: 'sig',
    });
    assert.ok(Object.isFrozen(imported) && Object.isFrozen(imported.jwk));
  });

  test('alg, use and key_ops may be absent', () => {
    assert.equal(importJwk(jwkWith({ alg: undefined, use: undefined })).kid, key.kid);
  });

  for (const kty of ['EC', 'oct', 'OKP', 'rsa', undefined, 1]) {
    test(`kty ${String(kty)} is refused`, () => refused(jwkWith({ kty }), 'kty must be "RSA"'));
  }

  for (const use of ['enc', 'SIG', '', 1]) {
    test(`use ${JSON.stringify(use)} is refused`, () => refused(jwkWith({ use }), 'use must be "sig"'));
  }

  test('key_ops must include "verify" when present', () => {
    assert.ok(importJwk(jwkWith({ key_ops: ['verify'] })));
    assert.ok(importJwk(jwkWith({ key_ops: ['encrypt', 'verify'] })));
    for (const keyOps of [['sign'], ['encrypt', 'decrypt'], [], 'verify', { verify: true }]) {
      refused(jwkWith({ key_ops: keyOps }), 'key_ops does not include "verify"');
    }
  });

  for (const alg of ['RS512', 'RS384', 'PS256', 'HS256', 'ES256', 'none', 'rs256', '']) {
    test(`a JWK alg of ${JSON.stringify(alg)} does not match the RS256 tokens it would verify`, () =>
      refused(jwkWith({ alg }), 'alg must be "RS256"'));
  }

  test('a private key (the full JWK export) is refused', () => {
    const privateJwk = key.privateKey.export({ format: 'jwk' });
    refused({ ...privateJwk, kid: key.kid }, /private member "d"/);
  });

  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) {
    test(`the private member "${member}" alone makes a key unusable`, () =>
      refused(jwkWith({ [member]: 'AQAB' }), `private member "${member}"`));
  }

  test('a 1024-bit RSA key is refused (generated, not faked)', () => {
    const weak = generateKeyPair({ modulusLength: 1024 });
    refused(weak.publicJwk, 'the modulus has 1024 bits, expected 2048 to 8192');
  });

  test('moduli of 2047 and 8193 bits are refused; 2048 and 8192 bits import', () => {
    refused(jwkWith({ n: modulus(2047) }), 'has 2047 bits');
    refused(jwkWith({ n: modulus(8193) }), 'has 8193 bits');
    assert.equal(importJwk(jwkWith({ n: modulus(2048) })).signatureLength, 256);
    assert.equal(importJwk(jwkWith({ n: modulus(8192) })).signatureLength, 1024);
  });

  test('a 4096-bit key imports, with 512-byte signatures', () => {
    assert.equal(importJwk(generateKeyPair({ modulusLength: 4096 }).publicJwk).signatureLength, 512);
  });

  const exponents: [string, string][] = [
    ['AQ', 'e = 1 (signature = message)'],
    ['Ag', 'e = 2 (even)'],
    ['AQAA', 'e = 65536 (even)'],
    ['AQAC', 'e = 65538 (even)'],
  ];
  for (const [e, what] of exponents) {
    test(`the public exponent ${what} is refused`, () =>
      refused(jwkWith({ e }), /public exponent \d+ is not sane/));
  }

  test('e = 3 and e = 65537 are sane', () => {
    assert.ok(importJwk(jwkWith({ e: 'Aw' })));
    assert.ok(importJwk(jwkWith({ e: 'AQAB' })));
  });

  test('e = 0 cannot even be imported', () => {
    throwsCode(() => importJwk(jwkWith({ e: 'AA' })), 'ERR_KEY_INVALID', { claim: 'kid' });
  });

  const missing: [string, Record<string, unknown>][] = [
    ['no n', { n: undefined }],
    ['no e', { e: undefined }],
    ['n as a number', { n: 12345 }],
    ['e as a number', { e: 65537 }],
    ['n in standard base64', { n: `${cognitoJwk.n!.slice(0, -2)}+/` }],
    ['n with padding', { n: `${cognitoJwk.n}=` }],
    ['an empty n', { n: '' }],
  ];
  for (const [what, changes] of missing) {
    test(`a JWK with ${what} is refused`, () =>
      refused(jwkWith(changes), 'n and e must be base64url strings'));
  }

  test('kid is required on the key, as a string of 1 to 256 characters', () => {
    for (const kid of [undefined, '', 42, null, ['k'], 'k'.repeat(MAX_KID_LENGTH + 1)]) {
      refused(jwkWith({ kid }), `kid must be a string of 1 to ${MAX_KID_LENGTH} characters`);
    }
    assert.equal(importJwk(jwkWith({ kid: 'k'.repeat(MAX_KID_LENGTH) })).kid.length, MAX_KID_LENGTH);
  });

  test('anything but an object is refused', () => {
    for (const value of [null, undefined, 'jwk', 42, [cognitoJwk]]) refused(value, 'not an object');
  });

  test('the message names the key and the reason, never the modulus', () => {
    const error = throwsCode(() => importJwk(jwkWith({ use: 'enc' })), 'ERR_KEY_INVALID');
    assert.ok(error.message.includes(key.kid));
    assert.equal(error.message.includes(cognitoJwk.n!.slice(0, 20)), false);
  });
});

describe('importJwks: one bad key does not spoil the others', () => {
  test('valid keys are kept by kid, and each refused key says why', () => {
    const other = generateKeyPair({ kid: 'second' });
    const { keys, rejected, refusedKids } = importJwks({
      keys: [
        cognitoJwk,
        { ...cognitoJwk, kid: 'ec', kty: 'EC' },
        other.publicJwk,
        { kid: 'private', ...key.privateKey.export({ format: 'jwk' }) },
        'junk',
      ],
    });
    assert.deepEqual([...keys.keys()], [key.kid, 'second']);
    assert.deepEqual(
      rejected.map((error) => error.code),
      ['ERR_KEY_INVALID', 'ERR_KEY_INVALID', 'ERR_KEY_INVALID'],
    );
    assert.match(rejected[0]!.message, /kty/);
    assert.match(rejected[1]!.message, /private member/);
    assert.deepEqual([...refusedKids.keys()], ['ec', 'private']); // 'junk' has no kid to name
  });

  test('a kid that appears twice is refused both times (which one is meant is ambiguous)', () => {
    const impostor = generateKeyPair({ kid: key.kid });
    const { keys, rejected } = importJwks({
      keys: [cognitoJwk, impostor.publicJwk, generateKeyPair({ kid: 'ok' }).publicJwk],
    });
    assert.deepEqual([...keys.keys()], ['ok']);
    assert.match(rejected[0]!.message, /appears more than once/);
  });

  test('a JWKS must be an object with a keys array', () => {
    for (const jwks of [null, [], 'x', {}, { keys: {} }, { keys: 'a' }]) {
      throwsCode(() => importJwks(jwks), 'ERR_JWKS_INVALID', { status: 503 });
    }
  });

  test(`at most ${MAX_KEYS_PER_JWKS} keys are read`, () => {
    const many = Array.from({ length: MAX_KEYS_PER_JWKS + 5 }, (_, index) => ({
      ...cognitoJwk,
      kid: `k${index}`,
    }));
    const { keys, rejected } = importJwks({ keys: many });
    assert.equal(keys.size, MAX_KEYS_PER_JWKS);
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0]!.code, 'ERR_JWKS_INVALID');
  });

  test('kids are looked up in a Map: "__proto__" and "constructor" are ordinary kids', () => {
    const { keys } = importJwks({ keys: [{ ...cognitoJwk, kid: '__proto__' }] });
    assert.equal(keys.get('__proto__')?.kid, '__proto__');
    for (const kid of ['constructor', 'toString', 'hasOwnProperty', 'valueOf'])
      assert.equal(keys.get(kid), undefined);
  });

  test('through the verifier, a JWKS with a malformed key still verifies tokens of its good key', async () => {
    const weak = generateKeyPair({ kid: 'weak', modulusLength: 1024 });
    const server = await startJwksServer({
      keys: { keys: [{ ...weak.publicJwk }, { kty: 'RSA', kid: 'broken' }, { ...cognitoJwk }] },
    });
    try {
      const issuer = server.issuer('local_pool');
      const verifier = new CognitoVerifier({
        userPoolId: 'local_pool',
        issuer,
        clientId: 'c1',
        tokenUse: 'id',
      });
      const claims = await verifier.verify(mintIdToken({ key, issuer, clientId: 'c1' }));
      assert.equal(claims.aud, 'c1');
      assert.deepEqual(verifier.jwksCache.inspect(server.jwksUri('local_pool')).kids, [key.kid]);
      // The weak key was refused at import, so its tokens find no key.
      throwsCode(
        () => verifier.verifySync(mintIdToken({ key: weak, issuer, clientId: 'c1' })),
        'ERR_KEY_NOT_FOUND',
        {
          claim: 'kid',
        },
      );
      // verify() knows the pool publishes that kid and says why its key is refused, without refetching.
      await assert.rejects(verifier.verify(mintIdToken({ key: weak, issuer, clientId: 'c1' })), {
        code: 'ERR_KEY_INVALID',
        claim: 'kid',
        message: /1024 bits/,
      });
      assert.equal(server.requestCount, 1);
    } finally {
      await server.close();
    }
  });

  test('through the verifier, a JWKS whose only key is unusable is an invalid JWKS (503)', async () => {
    const server = await startJwksServer({ keys: { keys: [{ ...cognitoJwk, alg: 'RS512' }] } });
    try {
      const issuer = server.issuer('local_pool');
      const verifier = new CognitoVerifier({
        userPoolId: 'local_pool',
        issuer,
        clientId: 'c1',
        tokenUse: 'id',
      });
      const error = await rejectsCode(
        verifier.verify(mintIdToken({ key, issuer, clientId: 'c1' })),
        'ERR_JWKS_INVALID',
        {
          status: 503,
        },
      );
      assert.match(error.message, /alg must be "RS256"/);
      throwsCode(
        () =>
          new CognitoVerifier({
            userPoolId: 'local_pool',
            issuer,
            clientId: 'c1',
            tokenUse: 'id',
            jwks: { keys: [{ ...cognitoJwk, use: 'enc' }] },
          }),
        'ERR_CONFIG_INVALID', // a snapshot in the config is configuration: it fails construction
      );
    } finally {
      await server.close();
    }
  });
});
